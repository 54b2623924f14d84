/**
 * Bundles each Lambda entry point with the build the stack deploys (infra/bundling/lambda-bundle.ts: the
 * same esbuild options and plugin, so what is measured is what ships) and measures the result: size raw
 * and gzipped, a breakdown by package, then the cold-start cost of loading it in fresh `node` processes
 * with the config bundled beside it, as deployed. The goals of issue 9 item 3 are {@link COLD_START_GOALS};
 * {@link coldStartGoalProblems} says which one a run misses (bench/run.ts fails the bench on them).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BUNDLE_FILE, bundleLambda } from '../infra/bundling/lambda-bundle';
import { BUNDLED_CONFIG_FILE_NAME, CONFIG_ENV } from '../lambdas/runtime/environment';
import { median } from './stats';

/** The Lambda entry points; `deployed` is the one the stack deploys (infra/constants.ts PASS_HANDLER_ENTRY). */
export const LAMBDA_ENTRIES = [
  { name: 'reconcile', entry: 'lambdas/handlers/reconcile.ts', deployed: true },
  { name: 'lifecycle', entry: 'lambdas/handlers/lifecycle.ts', deployed: false },
] as const;

/**
 * The cold-start goals (issue 9 item 3), for the deployed entry: its `index.js` at most 500 KB (KiB, as the
 * issue counts: its "1,490 KB" was 1,523,110 bytes), and the median `require` with `--enable-source-maps`,
 * as deployed, at most 120 ms.
 */
export const COLD_START_GOALS = { maxBundleBytes: 500 * 1024, maxInitMedianMs: 120 } as const;

/** What bundling one entry produced. */
export interface BundleResult {
  /** Entry name (`reconcile`, `lifecycle`). */
  readonly name: string;
  /** Source entry, relative to the project root. */
  readonly entry: string;
  /** Whether the stack deploys this entry (the goals apply to it). */
  readonly deployed: boolean;
  /** Path of the bundled `index.js`. */
  readonly outfile: string;
  /** Size of `index.js` in bytes. */
  readonly bytes: number;
  /** Size of `index.js` gzipped (level 9), roughly what the deployment zip holds. */
  readonly gzipBytes: number;
  /** Size of the external source map, which the zip also carries. */
  readonly mapBytes: number;
  /** Bytes of `index.js` per npm package (`(project)` for this repository's code), largest first. */
  readonly byPackage: readonly { readonly name: string; readonly bytes: number }[];
}

/** Cold-start figures of one bundle. */
export interface ColdStartResult {
  /** Entry name. */
  readonly name: string;
  /** Whether `--enable-source-maps` was on (as the deployed function sets in NODE_OPTIONS). */
  readonly sourceMaps: boolean;
  /** Median time to `require` the bundle (module evaluation, config validation, client construction), ms. */
  readonly requireMs: number;
  /** Fastest `require` seen; less sensitive to a busy machine than the median. */
  readonly requireMinMs: number;
  /**
   * Median CPU time (user + system, all threads) the process spent in the `require`, ms: what init costs
   * whatever else the machine runs; the wall time above also holds the waits for a core.
   */
  readonly requireCpuMs: number;
  /** Median wall time of the whole `node` process, spawn to exit, in milliseconds. */
  readonly processMs: number;
  /** Bytes of the config file bundled beside `index.js` for the runs. */
  readonly configBytes: number;
  /** Runs measured. */
  readonly runs: number;
}

/**
 * Bundles one entry into `outDir/<name>/index.js` with the deployed build and breaks its size down.
 * @param entry - an entry of {@link LAMBDA_ENTRIES} (or one like it; `deployed` defaults to false)
 */
export async function bundleEntry(
  entry: { readonly name: string; readonly entry: string; readonly deployed?: boolean },
  outDir: string,
): Promise<BundleResult> {
  const dir = join(outDir, entry.name);
  const outfile = join(dir, BUNDLE_FILE);
  const metafile = await bundleLambda(entry.entry, dir);
  const byPackage = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const name = packageOf(path);
      byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  const code = readFileSync(outfile);
  return {
    name: entry.name,
    entry: entry.entry,
    deployed: entry.deployed ?? false,
    outfile,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    mapBytes: statSync(`${outfile}.map`).size,
    byPackage: [...byPackage].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes),
  };
}

/** `node_modules/@aws-sdk/client-ec2/dist-es/...` -> `@aws-sdk/client-ec2`; this repository -> `(project)`. */
function packageOf(path: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path.slice(path.lastIndexOf('node_modules/')));
  return match?.[1] ?? '(project)';
}

/** The child process: times `require` of the bundle (wall and CPU) and prints the milliseconds as JSON. */
const CHILD_SCRIPT = `
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const mod = require(process.argv[1]);
const t1 = process.hrtime.bigint();
const cpu = process.cpuUsage(c0);
if (typeof mod.handler !== 'function') throw new Error('the bundle exports no handler');
process.stdout.write(JSON.stringify({ requireMs: Number(t1 - t0) / 1e6, cpuMs: (cpu.user + cpu.system) / 1e3 }));
`;

/** Options of {@link measureColdStart}. */
export interface ColdStartOptions {
  /**
   * A config file to bundle instead of `configJson` (e.g. a 4 x 50 mappings config): its text is written
   * beside `index.js` as the stack writes `sync.config.json`.
   */
  readonly configFile?: string;
}

/**
 * Loads the bundle `runs` times, each in a fresh `node` process, with what a deployed function has at
 * init: the config as `sync.config.json` beside `index.js`, named by `NLB_SYNC_CONFIG_BUNDLED` (import mode:
 * no deploy-time values), `AWS_REGION`, the execution role's credentials in the environment, and (when
 * `sourceMaps`) NODE_OPTIONS `--enable-source-maps`. AWS_ENDPOINT_URL points at a closed loopback port, so
 * a call made at init (none is expected) could never reach AWS.
 * @param configJson - the config's text (ignored when `options.configFile` is given)
 * @throws when a load fails (an invalid config fails init, as in Lambda)
 */
export function measureColdStart(
  bundle: BundleResult,
  configJson: string,
  runs: number,
  sourceMaps: boolean,
  options: ColdStartOptions = {},
): ColdStartResult {
  const configText = options.configFile === undefined ? configJson : readFileSync(options.configFile, 'utf8');
  writeFileSync(join(dirname(bundle.outfile), BUNDLED_CONFIG_FILE_NAME), configText);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    [CONFIG_ENV.bundled]: BUNDLED_CONFIG_FILE_NAME,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SESSION_TOKEN: 'testing',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // Lambda runs Node.js 22; this machine's Node.js 20 would make the SDK print a notice at init.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...(sourceMaps && { NODE_OPTIONS: '--enable-source-maps' }),
  };
  const requireMs: number[] = [];
  const cpuMs: number[] = [];
  const processMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const child = spawnSync(process.execPath, ['-e', CHILD_SCRIPT, bundle.outfile], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    const elapsed = performance.now() - t0;
    if (child.status !== 0) {
      throw new Error(`loading ${bundle.name} failed (exit ${child.status}): ${child.stderr}`);
    }
    const parsed = JSON.parse(child.stdout) as { requireMs: number; cpuMs: number };
    requireMs.push(parsed.requireMs);
    cpuMs.push(parsed.cpuMs);
    processMs.push(elapsed);
  }
  return {
    name: bundle.name,
    sourceMaps,
    requireMs: median(requireMs),
    requireMinMs: Math.min(...requireMs),
    requireCpuMs: median(cpuMs),
    processMs: median(processMs),
    configBytes: Buffer.byteLength(configText),
    runs,
  };
}

/**
 * The goals of {@link COLD_START_GOALS} the deployed bundle misses, one line each (empty: all hold).
 * @param coldStarts - its runs with source maps are judged (as deployed)
 */
export function coldStartGoalProblems(
  bundles: readonly BundleResult[],
  coldStarts: readonly ColdStartResult[],
): string[] {
  const problems: string[] = [];
  const deployed = bundles.filter((bundle) => bundle.deployed);
  if (deployed.length === 0) problems.push('no deployed bundle was measured');
  for (const bundle of deployed) {
    if (bundle.bytes > COLD_START_GOALS.maxBundleBytes) {
      problems.push(
        `${bundle.name}: index.js is ${kib(bundle.bytes)} KB, over the goal of ${kib(COLD_START_GOALS.maxBundleBytes)} KB`,
      );
    }
    const runs = coldStarts.filter((cold) => cold.name === bundle.name && cold.sourceMaps);
    if (runs.length === 0) problems.push(`${bundle.name}: no cold start measured with source maps`);
    for (const cold of runs) {
      if (cold.requireMs > COLD_START_GOALS.maxInitMedianMs) {
        problems.push(
          `${bundle.name}: init median ${cold.requireMs.toFixed(1)} ms with --enable-source-maps (CPU ${cold.requireCpuMs.toFixed(1)} ms), over the goal of ${COLD_START_GOALS.maxInitMedianMs} ms`,
        );
      }
    }
  }
  return problems;
}

function kib(bytes: number): string {
  return (bytes / 1024).toFixed(0);
}
