import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '@aws-lambda-powertools/logger';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { ClusterConfig, SyncConfig } from '../domain/config';
import type { Clock } from '../domain/ports';
import { drainInstance, undrainInstance } from '../sync/drain-node';
import {
  type PassOptions,
  type PassReport,
  type ReconcileDeps,
  reconcileCluster,
} from '../sync/reconcile-pass';
import { painter, useColour } from './colour';
import { checkConfig, loadCliConfig, readConfigSource } from './config-check';
import {
  cliDocument,
  type DocumentBody,
  drainDocument,
  failedPassCluster,
  failedStatusCluster,
  type PassCluster,
  passCluster,
  type StatusCluster,
  type StatusInventory,
  statusCluster,
  validateDocument,
} from './document';
import { waitForDrain } from './drain-wait';
import { CliError, type EndpointContext, explainError } from './errors';
import { EXIT, type ExitCode } from './exit-codes';
import { type InventoryPorts, readHeldActions, readManagedRecords, readOwnedRules } from './inventory';
import { renderApplySummary, renderPassCluster, renderPlanSummary, renderStatusCluster } from './render';
import { StderrLogger } from './stderr-logger';

/**
 * The operator CLI on commander: the program, its subcommands and what each does. bin/cli.ts runs it on the
 * real process; the tests run it with their own streams, environment and (for unit tests) fake adapters.
 * Reference: docs/cli.md.
 */

/**
 * What a pass and a drain need: the container's adapters, logger, metrics and clock; `network` (the
 * security-group and Route 53 adapters) lets `status` list owned rules and managed records.
 */
export type CliDeps = ReconcileDeps & { readonly clock: Clock; readonly network?: InventoryPorts };

/** Where the CLI reads and writes, and how it reaches AWS. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  /** The environment; the AWS options are written into it (the SDK reads process.env). */
  readonly env: NodeJS.ProcessEnv;
  /** Builds the adapters once the environment is set; default: the real container. */
  readonly createDeps?: (logger: Logger) => CliDeps;
  readonly now?: () => Date;
  /** Waits between `drain --wait` looks; default: a timer. Tests pass one that moves their clock. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The options every subcommand takes. */
export interface CommonOptions {
  readonly config?: string;
  readonly cluster?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
  readonly json?: boolean;
  readonly verbose?: boolean;
}

const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;

/** `drain --wait` gives up after this long by default: the longest deregistration delay (3600 s) + 5 min for a pass. */
export const DRAIN_WAIT_DEFAULT_TIMEOUT_SECONDS = 3900;
/** `drain --wait` looks at the targets this often by default (one DescribeTargetHealth per group). */
export const DRAIN_POLL_DEFAULT_SECONDS = 5;

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('not a whole number of seconds >= 1');
  return n;
}

/** The package version, shown by `--version`. */
export function packageVersion(): string {
  const text = readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

function parseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    return value;
  } catch {
    throw new InvalidArgumentError('not an http(s) URL, e.g. http://127.0.0.1:5000');
  }
}

function parseInstanceId(value: string): string {
  if (!INSTANCE_ID.test(value))
    throw new InvalidArgumentError('not an EC2 instance id (i- and 8 or 17 hex digits)');
  return value;
}

/**
 * Writes `--region`, `--profile` and `--endpoint-url` where the SDK reads them (AWS_REGION, AWS_PROFILE,
 * AWS_ENDPOINT_URL); call it before any client is created. Returns where the endpoint came from.
 */
export function applyAwsOptions(options: CommonOptions, env: NodeJS.ProcessEnv): EndpointContext {
  if (options.region !== undefined) env.AWS_REGION = options.region;
  if (options.profile !== undefined) env.AWS_PROFILE = options.profile;
  if (options.endpointUrl !== undefined) env.AWS_ENDPOINT_URL = options.endpointUrl;
  const url =
    env.AWS_ENDPOINT_URL !== undefined && env.AWS_ENDPOINT_URL !== '' ? env.AWS_ENDPOINT_URL : undefined;
  return {
    ...(url !== undefined && {
      url,
      from: options.endpointUrl !== undefined ? '--endpoint-url' : 'AWS_ENDPOINT_URL',
    }),
    ...(env.AWS_PROFILE !== undefined && env.AWS_PROFILE !== '' && { profile: env.AWS_PROFILE }),
  };
}

/** The clusters `--cluster` selects (all without it). @throws CliError for a name the config does not have. */
export function selectClusters(
  config: SyncConfig,
  name: string | undefined,
  source: string,
): ClusterConfig[] {
  if (name === undefined) return [...config.clusters];
  const found = config.clusters.filter((c) => c.name === name);
  if (found.length === 0) {
    throw new CliError(
      `unknown cluster "${name}": ${source} has ${config.clusters.map((c) => `"${c.name}"`).join(', ')}; pass one of them to --cluster`,
    );
  }
  return found;
}

/** Asks on stderr; true only for `yes` or `y`. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  const rl = createInterface({
    input: io.stdin,
    output: io.stderr as NodeJS.WritableStream,
    terminal: false,
  });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.question(question, resolve);
      rl.once('close', () => resolve(''));
    });
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit code; never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const now = io.now ?? (() => new Date());
  let exitCode: ExitCode = EXIT.ok;
  let endpoint: EndpointContext = {};
  let verbose = false;

  const program = new Command('nlb-nodeport-sync')
    .description(
      "Keeps an NLB's target groups, node security-group rules and Route 53 records in step with the worker nodes.",
    )
    .addHelpText(
      'after',
      '\nConfig: --config PATH, else NLB_SYNC_CONFIG_FILE.\n' +
        'Exit codes: 0 ok, 1 error, 2 changes pending (plan --detailed-exitcode only), 64 usage error.\n' +
        'Logs go to stderr, the report alone to stdout. Reference: docs/cli.md',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addHelpCommand(false)
    .option('-c, --config <path>', 'sync configuration file (default: $NLB_SYNC_CONFIG_FILE)')
    .option('--cluster <name>', 'only this cluster of the config')
    .option('--region <region>', 'AWS region (sets AWS_REGION)')
    .option('--profile <name>', 'AWS profile (sets AWS_PROFILE)')
    .addOption(
      new Option('--endpoint-url <url>', 'AWS endpoint, e.g. a local moto (sets AWS_ENDPOINT_URL)').argParser(
        parseUrl,
      ),
    )
    .option('--json', 'print one versioned JSON document on stdout (docs/cli.md); logs stay JSON on stderr')
    .option('-v, --verbose', 'log every decision on stderr (default: warnings and errors only)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`${text.trimEnd().replace(/\s*\n\s*/g, ' ')} (see --help)\n`),
      // The help is as wide as the terminal it goes to (80 columns elsewhere), judged on the CLI's own
      // streams, not on the process's: docs/cli-reference.md is generated from this help at 80 columns.
      getOutHelpWidth: () => (io.stdout.isTTY === true ? (io.stdout.columns ?? 80) : 80),
      getErrHelpWidth: () => (io.stderr.isTTY === true ? (io.stderr.columns ?? 80) : 80),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });

  /** Everything a command does after parsing: options to env, logger, deps. */
  const setUp = (command: Command) => {
    const options = command.optsWithGlobals<CommonOptions>();
    verbose = options.verbose === true;
    endpoint = applyAwsOptions(options, io.env);
    const json = options.json === true;
    const paint = painter(useColour({ isTTY: io.stdout.isTTY === true, json, env: io.env }));
    const emit = (body: DocumentBody) =>
      io.stdout.write(`${JSON.stringify(cliDocument(body, now()), null, 2)}\n`);
    const deps = () => {
      // EMF lines are for CloudWatch: never on an operator's stdout.
      io.env.POWERTOOLS_METRICS_DISABLED = 'true';
      // The SDK's 9-line notice about Node versions, on every run, drowns the one-line errors; --verbose shows it.
      if (!verbose) io.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const logger = new StderrLogger(
        { serviceName: 'nlb-nodeport-sync', logLevel: verbose ? 'INFO' : 'WARN' },
        { write: (line) => io.stderr.write(line), human: !json },
      );
      if (io.createDeps !== undefined) return io.createDeps(logger);
      // Loaded here so that `--help` and `validate` never load the AWS SDK.
      const { createContainer } = require('../runtime/container') as typeof import('../runtime/container');
      return createContainer({ logger });
    };
    return { options, json, paint, emit, deps };
  };

  /** Runs one pass per cluster; a failing cluster is reported, the others still run. */
  const passes = async (
    config: SyncConfig,
    clusters: readonly ClusterConfig[],
    deps: CliDeps,
    dryRun: boolean,
    overrideGuards?: PassOptions['overrideGuards'],
  ): Promise<{ cluster: ClusterConfig; report?: PassReport; error?: string }[]> => {
    const results: { cluster: ClusterConfig; report?: PassReport; error?: string }[] = [];
    for (const cluster of clusters) {
      try {
        results.push({
          cluster,
          report: await reconcileCluster(config, cluster, deps, {
            trigger: 'cli',
            dryRun,
            ...(overrideGuards !== undefined && { overrideGuards }),
          }),
        });
      } catch (error) {
        const explained = explainError(error, endpoint);
        // No credentials, no region, no endpoint: every cluster would fail the same way; say it once.
        if (explained.fatal) throw error;
        // A refusal (guard, quota) still applied the rest: its report says what was done and what waits.
        const report = (error as { report?: PassReport }).report;
        results.push({ cluster, error: explained.line, ...(report !== undefined && { report }) });
      }
    }
    return results;
  };
  const passViews = (results: Awaited<ReturnType<typeof passes>>): PassCluster[] =>
    results.map((r) => {
      if (r.report === undefined) return failedPassCluster(r.cluster.name, r.error ?? '');
      const view = passCluster(r.cluster, r.report);
      return r.error === undefined ? view : { ...view, ok: false, error: r.error };
    });

  program
    .command('validate')
    .description('check the config offline: every problem with its field (exit 1 when invalid)')
    .action((_args, command: Command) => {
      const { options, json, paint, emit } = setUp(command);
      const check = checkConfig(readConfigSource(options.config, io.env));
      const problems = check.ok ? [] : check.problems;
      const clusters = check.ok ? check.config.clusters.map((c) => c.name) : [];
      if (json) emit(validateDocument(check.source, clusters, problems));
      else if (check.ok) {
        io.stdout.write(
          `${paint.green('valid')}: ${check.source}: ${clusters.length} cluster(s): ${clusters.join(', ')}\n`,
        );
      } else {
        io.stdout.write(`${paint.red('invalid')}: ${check.source}: ${problems.length} problem(s)\n`);
        for (const p of problems) io.stdout.write(`  ${p.field}: ${p.message}\n`);
      }
      exitCode = check.ok ? EXIT.ok : EXIT.error;
    });

  program
    .command('plan')
    .description('dry run: every change to targets, rules and records a pass would make, with its reason')
    .option('--detailed-exitcode', 'exit 2 when there are changes, 0 when in sync, 1 on error')
    .action(async (_args, command: Command) => {
      const { options, json, paint, emit, deps } = setUp(command);
      const config = loadCliConfig(options.config, io.env);
      const clusters = selectClusters(config, options.cluster, options.config ?? 'the config');
      const views = passViews(await passes(config, clusters, deps(), true));
      const failed = views.some((v) => !v.ok);
      const pending = views.some((v) => v.changeCount > 0);
      if (json) {
        emit({
          ok: !failed,
          command: 'plan',
          changesPending: pending,
          clusters: views,
        });
      } else {
        for (const view of views) io.stdout.write(`${renderPassCluster(view, 'plan', paint)}\n`);
        io.stdout.write(`${renderPlanSummary(views, paint)}\n`);
      }
      const detailed = (command.opts() as { detailedExitcode?: boolean }).detailedExitcode === true;
      exitCode = failed ? EXIT.error : detailed && pending ? EXIT.changesPending : EXIT.ok;
    });

  program
    .command('apply')
    .description('run one pass now; in a terminal it shows the plan and asks first (--yes skips)')
    .option('-y, --yes', 'apply without asking')
    .option(
      '--confirm-deregistrations <reason>',
      'apply, for this run only, the deregistrations the safety guards refuse (see plan); the reason and your user name are logged',
    )
    .action(async (_args, command: Command) => {
      const { options, json, paint, emit, deps } = setUp(command);
      const config = loadCliConfig(options.config, io.env);
      const clusters = selectClusters(config, options.cluster, options.config ?? 'the config');
      const adapters = deps();
      const opts = command.opts() as { yes?: boolean; confirmDeregistrations?: string };
      const yes = opts.yes === true;
      const override = overrideOf(opts.confirmDeregistrations, io.env);
      if (!yes && io.stdin.isTTY === true) {
        const planned = passViews(await passes(config, clusters, adapters, true, override));
        for (const view of planned) io.stderr.write(`${renderPassCluster(view, 'plan', paint)}\n`);
        io.stderr.write(`${renderPlanSummary(planned, paint)}\n`);
        if (planned.every((v) => v.ok && v.changeCount === 0)) {
          io.stderr.write('nothing to apply\n');
          exitCode = EXIT.ok;
          return;
        }
        if (!(await confirm(io, 'Apply these changes? Only "yes" or "y" goes on: '))) {
          throw new CliError('apply cancelled: nothing was changed');
        }
      }
      const views = passViews(await passes(config, clusters, adapters, false, override));
      const failed = views.some((v) => !v.ok);
      if (json) {
        emit({
          ok: !failed,
          command: 'apply',
          clusters: views,
        });
      } else {
        for (const view of views) io.stdout.write(`${renderPassCluster(view, 'apply', paint)}\n`);
        io.stdout.write(`${renderApplySummary(views, paint)}\n`);
      }
      exitCode = failed ? EXIT.error : EXIT.ok;
    });

  program
    .command('status')
    .description(
      'per group its targets with health, desired vs actual; the owned rules and managed records; held lifecycle actions and what each waits for',
    )
    .action(async (_args, command: Command) => {
      const { options, json, paint, emit, deps } = setUp(command);
      const config = loadCliConfig(options.config, io.env);
      const clusters = selectClusters(config, options.cluster, options.config ?? 'the config');
      const adapters = deps();
      const results = await passes(config, clusters, adapters, true);
      const views: StatusCluster[] = [];
      for (const r of results) {
        views.push(
          r.report !== undefined && r.error === undefined
            ? statusCluster(
                r.cluster,
                r.report,
                await readInventory(config, r.cluster, r.report, adapters, now().getTime(), endpoint),
              )
            : r.report !== undefined
              ? { ...statusCluster(r.cluster, r.report), ok: false, error: r.error ?? '' }
              : failedStatusCluster(r.cluster, r.error ?? ''),
        );
      }
      // A part that could not be read leaves the status incomplete: shown, but not a success.
      const failed = views.some(
        (v) =>
          !v.ok ||
          v.securityGroups.readError !== undefined ||
          v.dns.readError !== undefined ||
          v.heldLifecycleActions.readError !== undefined,
      );
      if (json) {
        emit({
          ok: !failed,
          command: 'status',
          clusters: views,
        });
      } else {
        io.stdout.write(`${views.map((v) => renderStatusCluster(v, paint)).join('\n')}\n`);
      }
      exitCode = failed ? EXIT.error : EXIT.ok;
    });

  program
    .command('drain')
    .description('put the operator drain mark on a node: every later pass keeps it out of every group')
    .argument('<instance-id>', 'EC2 instance id (i-...)', parseInstanceId)
    .option(
      '--wait',
      'then wait until none of its targets is registered or draining in any group, showing progress on stderr (writes nothing more: a pass deregisters it)',
    )
    .addOption(
      new Option('--timeout <seconds>', 'with --wait: give up after this long (exit 1; the mark stays)')
        .default(DRAIN_WAIT_DEFAULT_TIMEOUT_SECONDS)
        .argParser(positiveSeconds),
    )
    .addOption(
      new Option('--poll-seconds <seconds>', 'with --wait: seconds between looks at the targets')
        .default(DRAIN_POLL_DEFAULT_SECONDS)
        .argParser(positiveSeconds),
    )
    .action(async (instanceId: string, _opts, command: Command) => {
      const { options, json, paint, emit, deps } = setUp(command);
      const opts = command.opts() as { wait?: boolean; timeout: number; pollSeconds: number };
      const config = loadCliConfig(options.config, io.env);
      const adapters = deps();
      const outcome = await drainInstance(config, instanceId, adapters);
      const was = outcome.previous === undefined ? '' : ` (mark was: ${outcome.previous})`;
      const head = `${instanceId} (cluster ${outcome.cluster}): ${paint.bold(outcome.change)}${was}`;
      if (opts.wait !== true) {
        if (json) emit(drainDocument('drain', outcome));
        else io.stdout.write(`${head}; the next pass keeps it out of every group\n`);
        exitCode = EXIT.ok;
        return;
      }
      if (!json) io.stdout.write(`${head}; waiting for its targets to leave every group\n`);
      const cluster = selectClusters(
        config,
        outcome.cluster,
        options.config ?? 'the config',
      )[0] as ClusterConfig;
      const waited = await waitForDrain(cluster, instanceId, adapters, {
        timeoutSeconds: opts.timeout,
        pollSeconds: opts.pollSeconds,
        sleep: io.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
        onProgress: (elapsed, check) => io.stderr.write(`[${elapsed} s] ${check.line}\n`),
      });
      if (json) {
        emit({ ...drainDocument('drain', outcome), ok: waited.done, wait: waited } as DocumentBody);
      } else if (waited.done) {
        io.stdout.write(
          `${instanceId}: ${paint.green('drained')}: ${waited.last}${waited.waitedSeconds > 0 ? ` (after ${waited.waitedSeconds} s)` : ''}\n`,
        );
      }
      if (!waited.done && !json) {
        throw new CliError(
          `still waiting after ${waited.waitedSeconds} s (--timeout): ${waited.last}; the mark stays (\`undrain\` removes it)`,
        );
      }
      exitCode = waited.done ? EXIT.ok : EXIT.error;
    });

  program
    .command('undrain')
    .description('remove the drain mark: the next pass registers the node again if it is otherwise desired')
    .argument('<instance-id>', 'EC2 instance id (i-...)', parseInstanceId)
    .action(async (instanceId: string, _opts, command: Command) => {
      const { options, json, paint, emit, deps } = setUp(command);
      const config = loadCliConfig(options.config, io.env);
      const outcome = await undrainInstance(config, instanceId, deps());
      if (json) emit(drainDocument('undrain', outcome));
      else {
        const was = outcome.previous === undefined ? '' : ` (mark was: ${outcome.previous})`;
        io.stdout.write(
          `${instanceId} (cluster ${outcome.cluster}): ${paint.bold(outcome.change)}${was}; the next pass registers it again if it is otherwise desired\n`,
        );
      }
      exitCode = EXIT.ok;
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
      return EXIT.usage;
    }
    const { line, exitCode: code } = explainError(error, endpoint);
    io.stderr.write(`error: ${line}\n`);
    if (verbose && error instanceof Error && error.stack !== undefined) io.stderr.write(`${error.stack}\n`);
    return code;
  }
}

/**
 * Reads what `status` shows besides the pass: owned rules, managed records, held lifecycle actions. Each part
 * on its own: one that fails is shown with its error line, the others still are. Without the network
 * adapters (a test's fakes) owned rules and records are not read.
 */
async function readInventory(
  config: SyncConfig,
  cluster: ClusterConfig,
  report: PassReport,
  deps: CliDeps,
  now: number,
  endpoint: EndpointContext,
): Promise<StatusInventory> {
  const part = async <T>(read: () => Promise<T>): Promise<T | { error: string }> => {
    try {
      return await read();
    } catch (error) {
      const explained = explainError(error, endpoint);
      if (explained.fatal) throw error;
      return { error: explained.line };
    }
  };
  const desired = report.nodes.filter((n) => n.desired).map((n) => n.instanceId);
  const network = deps.network;
  return {
    ...(network !== undefined && {
      securityGroups: await part(() =>
        readOwnedRules(config, cluster, desired, { ...network, ec2: deps.ec2 }),
      ),
      records: await part(() => readManagedRecords(config, cluster, network)),
    }),
    held: await part(() => readHeldActions(config, cluster, report.groups, deps, now)),
  };
}

/**
 * The audited guard override of `apply --confirm-deregistrations <reason>`: one run, never a config default.
 * Who is the local user name (USER, USERNAME, LOGNAME); the pass logs who, why and which targets.
 */
function overrideOf(
  reason: string | undefined,
  env: NodeJS.ProcessEnv,
): PassOptions['overrideGuards'] | undefined {
  if (reason === undefined) return undefined;
  if (reason.trim() === '')
    throw new CliError('--confirm-deregistrations needs a reason, e.g. "old hand-made targets"');
  return { by: env.USER ?? env.USERNAME ?? env.LOGNAME ?? 'unknown user', reason: reason.trim() };
}
