/**
 * Init of a bundled function with the config file a deployment of the largest size bundles: 4 clusters of
 * 50 port mappings (an NLB's 50 listeners each), next to the example config. The file is written beside
 * the bundle's `index.js` as `sync.config.json` and named by `NLB_SYNC_CONFIG_BUNDLED`, as
 * infra/sync-stack.ts and infra/constructs/sync-function.ts deploy it (import mode: the ARNs are in the
 * file, so no `NLB_SYNC_CONFIG_REFS`). The timed `require` evaluates the modules and loads and validates
 * the config (lambdas/runtime/environment.ts).
 */
import { largeConfig } from '../test/infra/large-config';
import { type BundleResult, type ColdStartResult, measureColdStart } from './bundle';
import { median } from './stats';

/** The largest config the bench loads. */
export const LARGE_CONFIG = { clusters: 4, mappingsPerCluster: 50 } as const;

/** Init of one bundle with one config. */
export interface ConfigInitResult extends ColdStartResult {
  /** `example` or `4 x 50`. */
  readonly config: string;
  readonly configBytes: number;
}

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
 * Loads `bundle` `runs` times per config in fresh `node` processes with each config bundled beside it, the
 * configs taking turns (one process each, round after round), so that a machine's changing load weighs on
 * them alike; through bench/bundle.ts `measureColdStart` (the deployed function's environment at init).
 * @throws when a load fails (an invalid config fails init, as in Lambda)
 */
export function measureConfigInits(
  bundle: BundleResult,
  configs: readonly { readonly label: string; readonly text: string }[],
  runs: number,
  sourceMaps: boolean,
): ConfigInitResult[] {
  const samples = configs.map(() => [] as ColdStartResult[]);
  for (let i = 0; i < runs; i++) {
    for (const [c, config] of configs.entries()) {
      samples[c]?.push(measureColdStart(bundle, config.text, 1, sourceMaps));
    }
  }
  return configs.map((config, c) => {
    const runsOf = samples[c] ?? [];
    return {
      name: bundle.name,
      sourceMaps,
      requireMs: median(runsOf.map((r) => r.requireMs)),
      requireMinMs: Math.min(...runsOf.map((r) => r.requireMs)),
      requireCpuMs: median(runsOf.map((r) => r.requireCpuMs)),
      processMs: median(runsOf.map((r) => r.processMs)),
      runs,
      config: config.label,
      configBytes: Buffer.byteLength(config.text),
    };
  });
}
