/**
 * Init of a bundled function with the config file a deployment of the largest size bundles: 4 clusters of
 * 50 port mappings (an NLB's 50 listeners each), next to the example config. The file is written beside
 * the bundle's `index.js` as `sync.config.json` and named by `NLB_SYNC_CONFIG_BUNDLED`, as
 * infra/sync-stack.ts and infra/constructs/sync-function.ts deploy it (import mode: the ARNs are in the
 * file, so no `NLB_SYNC_CONFIG_REFS`). The timed `require` evaluates the modules and loads and validates
 * the config (lambdas/runtime/environment.ts).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BUNDLED_CONFIG_FILE_NAME, CONFIG_ENV } from '../lambdas/runtime/environment';
import { largeConfig } from '../test/infra/large-config';
import type { BundleResult } from './bundle';
import { median } from './stats';

/** The largest config the bench loads. */
export const LARGE_CONFIG = { clusters: 4, mappingsPerCluster: 50 } as const;

/** Init of one bundle with one config. */
export interface ConfigInitResult {
  readonly name: string;
  /** `example` or `4 x 50`. */
  readonly config: string;
  readonly configBytes: number;
  readonly sourceMaps: boolean;
  readonly requireMs: number;
  readonly requireMinMs: number;
  readonly runs: number;
}

const CHILD_SCRIPT = `
const t0 = process.hrtime.bigint();
const mod = require(process.argv[1]);
const t1 = process.hrtime.bigint();
if (typeof mod.handler !== 'function') throw new Error('the bundle exports no handler');
process.stdout.write(JSON.stringify({ requireMs: Number(t1 - t0) / 1e6 }));
`;

/** The text of the 4 x 50 config file, as the stack writes it (JSON of the validated config). */
export function largeConfigText(): string {
  return JSON.stringify(
    largeConfig({
      clusters: LARGE_CONFIG.clusters,
      mappingsPerCluster: LARGE_CONFIG.mappingsPerCluster,
      loadBalancerArn: true,
    }),
  );
}

/**
 * Loads `bundle` `runs` times in fresh `node` processes with `configText` bundled beside it. AWS_ENDPOINT_URL
 * points at a closed loopback port, so a call made at init (none is expected) could never reach AWS.
 * @throws when a load fails (an invalid config fails init, as in Lambda)
 */
export function measureConfigInit(
  bundle: BundleResult,
  label: string,
  configText: string,
  runs: number,
  sourceMaps: boolean,
): ConfigInitResult {
  writeFileSync(join(dirname(bundle.outfile), BUNDLED_CONFIG_FILE_NAME), configText);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    [CONFIG_ENV.bundled]: BUNDLED_CONFIG_FILE_NAME,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...(sourceMaps && { NODE_OPTIONS: '--enable-source-maps' }),
  };
  const requireMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(process.execPath, ['-e', CHILD_SCRIPT, bundle.outfile], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (child.status !== 0) {
      throw new Error(
        `loading ${bundle.name} with the ${label} config failed (exit ${child.status}): ${child.stderr}`,
      );
    }
    requireMs.push((JSON.parse(child.stdout) as { requireMs: number }).requireMs);
  }
  return {
    name: bundle.name,
    config: label,
    configBytes: Buffer.byteLength(configText),
    sourceMaps,
    requireMs: median(requireMs),
    requireMinMs: Math.min(...requireMs),
    runs,
  };
}
