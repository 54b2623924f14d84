import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Duration, RemovalPolicy, Stage, Validations } from 'aws-cdk-lib';
import { type IRole, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FUNCTION_DEFAULTS, PRODUCT, SYNC_ENVIRONMENT } from '../constants';
import { assertEnvironmentFits, environmentBytes } from '../environment-size';

/** The repository root: entries and the lock file are resolved from here, whatever the working directory. */
export const PROJECT_ROOT = resolve(__dirname, '..', '..');

/** Properties of a {@link SyncFunction}. */
export interface SyncFunctionProps {
  /** The handler file, relative to the repository root (it must export `handler`). */
  readonly entry: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** Variables beside the Powertools ones; checked against Lambda's 4 KB limit at synth. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Files written beside index.js in the function's code, by name (no directories): how data too
   * large for the environment travels. They are part of the asset, so a change to one changes the
   * asset hash and reaches the function with the next `cdk deploy`.
   * @default none
   */
  readonly bundledFiles?: Readonly<Record<string, string>>;
  /**
   * Function timeout.
   * @default FUNCTION_DEFAULTS.timeoutSeconds
   */
  readonly timeout?: Duration;
  /**
   * Memory in MB.
   * @default FUNCTION_DEFAULTS.memorySizeMb
   */
  readonly memorySize?: number;
}

/**
 * The one opinionated way this product builds a Lambda function: Node.js 22 on arm64, minified
 * bundle with source maps, its own log group with retention, X-Ray active tracing, JSON logs, and
 * a role that starts empty (no AWS managed policy) so every permission is added on purpose.
 */
export class SyncFunction extends Construct {
  /** The function. */
  public readonly function: NodejsFunction;
  /** Its execution role; callers add least-privilege statements to it. */
  public readonly role: IRole;
  /** Its log group. */
  public readonly logGroup: LogGroup;
  /** The synth-time estimate of its environment's size, bytes (Lambda allows 4096). */
  public readonly environmentBytes: number;

  public constructor(scope: Construct, id: string, props: SyncFunctionProps) {
    super(scope, id);
    const environment: Record<string, string> = {
      [SYNC_ENVIRONMENT.serviceName]: PRODUCT.serviceName,
      [SYNC_ENVIRONMENT.metricsNamespace]: PRODUCT.metricsNamespace,
      // Stack traces point at the TypeScript sources instead of the minified bundle.
      NODE_OPTIONS: '--enable-source-maps',
      ...props.environment,
    };
    assertEnvironmentFits(this.node.path, environment);
    this.environmentBytes = environmentBytes(environment);

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: FUNCTION_DEFAULTS.logRetentionDays as RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id} (${PRODUCT.serviceName})`,
    });
    this.logGroup.grantWrite(role);
    this.role = role;

    this.function = new NodejsFunction(this, 'Function', {
      entry: resolve(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: resolve(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? FUNCTION_DEFAULTS.memorySizeMb,
      timeout: props.timeout ?? Duration.seconds(FUNCTION_DEFAULTS.timeoutSeconds),
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      logGroup: this.logGroup,
      role,
      environment,
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node22',
        format: OutputFormat.CJS,
        // Bundle the AWS SDK too: the function runs the exact client versions the tests ran.
        externalModules: [],
        // Prefer the packages' ES module builds: esbuild can then drop the SDK commands never sent.
        mainFields: ['module', 'main'],
        forceDockerBundling: false,
        ...(props.bundledFiles === undefined
          ? {}
          : { commandHooks: bundledFilesHooks(this, props.bundledFiles) }),
      },
    });

    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime this product is built and tested for (issue 3); 24.x is adopted on purpose, not by default.',
    });
    // Lambda puts the tracing permissions on the default policy; X-Ray has no resource-level permissions.
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only read actions (Describe*, List*) and X-Ray PutTraceSegments/PutTelemetryRecords, which support no resource-level permissions, use "*"; every write is scoped (see docs/iam.md).',
    });
  }
}

/** A file name that stays beside index.js: no directories, no dot files. */
const BUNDLED_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Command hooks that copy each file into the bundle's output directory after esbuild. The contents
 * are staged at synth in the cloud assembly directory under a name derived from their hash; the
 * hooks only copy (with node, so the command is the same for bash and cmd), and the copy is part of
 * the output that CDK hashes into the asset.
 */
function bundledFilesHooks(scope: Construct, files: Readonly<Record<string, string>>) {
  const outdir = Stage.of(scope)?.outdir ?? tmpdir();
  const stageDir = join(outdir, 'bundled-files');
  mkdirSync(stageDir, { recursive: true });
  const staged = Object.entries(files).map(([name, text]) => {
    if (!BUNDLED_FILE_NAME.test(name) || name === 'index.js' || name === 'index.js.map') {
      throw new Error(`A bundled file needs a plain name beside index.js, not "${name}"`);
    }
    const digest = createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
    const source = join(stageDir, `${digest}-${name}`);
    writeFileSync(source, text, 'utf8');
    return { name, source };
  });
  const copy = 'node -e "require(\'fs\').copyFileSync(process.argv[1],process.argv[2])"';
  return {
    beforeBundling: (): string[] => [],
    beforeInstall: (): string[] => [],
    afterBundling: (_inputDir: string, outputDir: string): string[] =>
      staged.map(({ name, source }) => `${copy} "${source}" "${join(outputDir, name)}"`),
  };
}
