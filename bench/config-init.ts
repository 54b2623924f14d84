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
 * Loads `bundle` `runs` times in fresh `node` processes with `configText` bundled beside it, through
 * bench/bundle.ts `measureColdStart` (the deployed function's environment at init).
 * @throws when a load fails (an invalid config fails init, as in Lambda)
 */
export function measureConfigInit(
  bundle: BundleResult,
  label: string,
  configText: string,
  runs: number,
  sourceMaps: boolean,
): ConfigInitResult {
  return {
    ...measureColdStart(bundle, configText, runs, sourceMaps),
    config: label,
    configBytes: Buffer.byteLength(configText),
  };
}
