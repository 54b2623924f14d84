/**
 * Bundles each Lambda entry point with the local esbuild, with the options the CDK NodejsFunction in
 * infra/constructs/sync-function.ts passes (bundle everything, SDK included), and measures the result:
 * size raw and gzipped, then the cold-start cost of loading it in a fresh `node` process.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { median } from './stats';

/** The Lambda entry points, as infra/ names them. */
export const LAMBDA_ENTRIES = [
  { name: 'reconcile', entry: 'lambdas/handlers/reconcile.ts' },
  { name: 'lifecycle', entry: 'lambdas/handlers/lifecycle.ts' },
] as const;

/** What bundling one entry produced. */
export interface BundleResult {
  /** Entry name (`reconcile`, `lifecycle`). */
  readonly name: string;
  /** Source entry, relative to the project root. */
  readonly entry: string;
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
  /** Median time to `require` the bundle (module init included), in milliseconds. */
  readonly requireMs: number;
  /** Fastest `require` seen; less sensitive to a busy machine than the median. */
  readonly requireMinMs: number;
  /** Median wall time of the whole `node` process, spawn to exit, in milliseconds. */
  readonly processMs: number;
  /** Runs measured. */
  readonly runs: number;
}

const PROJECT_ROOT = resolve(__dirname, '..');

/**
 * esbuild options matching `bundling` in infra/constructs/sync-function.ts: target node22, platform node,
 * CJS, minified, external source map without sources content, `module` before `main`, nothing external.
 */
export async function bundleEntry(
  entry: { name: string; entry: string },
  outDir: string,
): Promise<BundleResult> {
  const outfile = join(outDir, entry.name, 'index.js');
  const result = await build({
    entryPoints: [resolve(PROJECT_ROOT, entry.entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    external: [],
    logLevel: 'warning',
    absWorkingDir: PROJECT_ROOT,
    metafile: true,
  });
  const byPackage = new Map<string, number>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const name = packageOf(path);
      byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  const code = readFileSync(outfile);
  return {
    name: entry.name,
    entry: entry.entry,
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

/** The child process: times `require` of the bundle and prints the milliseconds as JSON. */
const CHILD_SCRIPT = `
const t0 = process.hrtime.bigint();
const mod = require(process.argv[1]);
const t1 = process.hrtime.bigint();
if (typeof mod.handler !== 'function') throw new Error('the bundle exports no handler');
process.stdout.write(JSON.stringify({ requireMs: Number(t1 - t0) / 1e6 }));
`;

/**
 * Loads the bundle `runs` times, each in a fresh `node` process, with the environment a deployed function
 * has at init: the config in NLB_SYNC_CONFIG, AWS_REGION, and (when `sourceMaps`) NODE_OPTIONS
 * `--enable-source-maps`. AWS_ENDPOINT_URL points at a closed loopback port, so a call made at init
 * (none is expected) could never reach AWS.
 */
export function measureColdStart(
  bundle: BundleResult,
  configJson: string,
  runs: number,
  sourceMaps: boolean,
): ColdStartResult {
  const requireMs: number[] = [];
  const processMs: number[] = [];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NLB_SYNC_CONFIG: configJson,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...(sourceMaps && { NODE_OPTIONS: '--enable-source-maps' }),
  };
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
    const parsed = JSON.parse(child.stdout) as { requireMs: number };
    requireMs.push(parsed.requireMs);
    processMs.push(elapsed);
  }
  return {
    name: bundle.name,
    sourceMaps,
    requireMs: median(requireMs),
    requireMinMs: Math.min(...requireMs),
    processMs: median(processMs),
    runs,
  };
}
