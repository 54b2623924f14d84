import { ConfigError } from '../domain/config';
import { EXIT, type ExitCode } from './exit-codes';

/**
 * Expected errors, each one line that says what to do. Nothing here prints a stack trace: a CLI user
 * gets the line and the exit code (docs/cli.md); `--verbose` adds the error's details on stderr.
 */

/** An error the CLI expects, already worded for the user (one line, with the fix). */
export class CliError extends Error {
  public readonly exitCode: ExitCode;
  public constructor(message: string, exitCode: ExitCode = EXIT.error) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Where the AWS endpoint came from, so an unreachable one can be named with its source. */
export interface EndpointContext {
  /** The endpoint URL, when one was set. */
  readonly url?: string;
  /** `--endpoint-url` or `AWS_ENDPOINT_URL`. */
  readonly from?: string;
  readonly profile?: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const BAD_CREDENTIALS = new Set([
  'InvalidClientTokenId',
  'AuthFailure',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
]);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);

interface ErrorLike {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly cause?: unknown;
  readonly errors?: readonly unknown[];
}

/** The network error code (ECONNREFUSED...) of an error or its causes, if any. */
function networkCode(error: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof error !== 'object' || error === null) return undefined;
  const e = error as ErrorLike;
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return e.code;
  for (const name of [e.name, e.message]) {
    for (const code of NETWORK_CODES) if (name?.includes(code)) return code;
  }
  const nested = [e.cause, ...(e.errors ?? [])];
  for (const inner of nested) {
    const code = networkCode(inner, depth + 1);
    if (code !== undefined) return code;
  }
  return undefined;
}

/** Flattens a message to one line. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ').trim();
}

/** What the CLI says about an error. */
export interface Explained {
  readonly line: string;
  readonly exitCode: ExitCode;
  /**
   * The error is about the whole run, not one cluster (no credentials, no region, endpoint unreachable,
   * credentials rejected): the CLI stops at once with this line rather than report it per cluster.
   */
  readonly fatal: boolean;
}

/** The one line (with its fix) and the exit code for any error a command throws. */
export function explainError(error: unknown, endpoint: EndpointContext = {}): Explained {
  const explained = explain(error, endpoint);
  return { ...explained, fatal: explained.fatal ?? false };
}

function explain(error: unknown, endpoint: EndpointContext): Omit<Explained, 'fatal'> & { fatal?: boolean } {
  if (error instanceof CliError)
    return { line: oneLine(error.message), exitCode: error.exitCode, fatal: true };
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as ErrorLike;
  const name = e.name ?? 'Error';
  const message = oneLine(e.message ?? String(error));
  const fail = (line: string) => ({ line, exitCode: EXIT.error });
  const fatal = (line: string) => ({ line, exitCode: EXIT.error, fatal: true });
  if (error instanceof ConfigError) {
    return fail(
      `bad config: ${error.issues.join('; ')} (fix the field; \`nlb-nodeport-sync validate\` lists them)`,
    );
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    if (endpoint.profile !== undefined) {
      return fatal(
        `no credentials for profile "${endpoint.profile}": check that --profile / AWS_PROFILE names a profile of ~/.aws/config, or run \`aws sso login --profile ${endpoint.profile}\``,
      );
    }
    return fatal(
      'no credentials: set AWS_PROFILE (or --profile) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure` / `aws sso login`',
    );
  }
  if (/region is missing/i.test(message)) {
    return fatal('no region: set --region or AWS_REGION (or a region in your AWS profile)');
  }
  const code = networkCode(error);
  if (code !== undefined) {
    const where =
      endpoint.url !== undefined
        ? `the endpoint ${endpoint.url} (from ${endpoint.from ?? 'AWS_ENDPOINT_URL'})`
        : 'AWS';
    const fix =
      endpoint.url !== undefined
        ? `check that it runs and the URL is right, or unset ${endpoint.from === '--endpoint-url' ? '--endpoint-url' : 'AWS_ENDPOINT_URL'} to reach AWS`
        : 'check your network, proxy (HTTPS_PROXY) and --region';
    return fatal(`cannot reach ${where}: ${code}; ${fix}`);
  }
  if (BAD_CREDENTIALS.has(name)) {
    return fatal(`credentials rejected (${name}): ${message}; refresh them or pick another --profile`);
  }
  if (DENIED.has(name)) {
    return fail(`not allowed (${name}): ${message}; the permissions needed are in docs/iam.md`);
  }
  if (name === 'MissingResourceError' || name === 'GuardRefusalError' || name === 'QuotaExceededError') {
    return fail(message);
  }
  return fail(`${name}: ${message} (run with --verbose for details)`);
}
