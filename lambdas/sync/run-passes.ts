import type { ClusterConfig, SyncConfig } from '../domain/config';
import type { NodeHints } from '../domain/node';
import { publishMetrics } from './publish-metrics';
import { type PassReport, type ReconcileDeps, reconcileCluster } from './reconcile-pass';

/** One or more clusters' passes failed; the others ran. */
export class PassFailedError extends Error {
  /** `cluster: error` per failed cluster. */
  public readonly failures: readonly string[];
  public constructor(failures: readonly string[]) {
    super(`Reconcile failed for ${failures.length} cluster(s): ${failures.join(' | ')}`);
    this.name = 'PassFailedError';
    this.failures = failures;
  }
}

/**
 * Runs one pass per cluster, one after the other (metrics carry the cluster as a dimension and are
 * published after each). A failing cluster does not stop the others, but the call fails at the end
 * so Lambda retries and the DLQ sees what keeps failing.
 */
export async function runPasses(
  config: SyncConfig,
  clusters: readonly ClusterConfig[],
  deps: ReconcileDeps,
  options: { trigger: string; hints?: NodeHints; dryRun?: boolean },
): Promise<PassReport[]> {
  const reports: PassReport[] = [];
  const failures: string[] = [];
  for (const cluster of clusters) {
    try {
      reports.push(await reconcileCluster(config, cluster, deps, options));
    } catch (error) {
      const err = error as Error;
      deps.logger.error('Reconcile pass failed', {
        cluster: cluster.name,
        trigger: options.trigger,
        error: err,
      });
      failures.push(`${cluster.name}: ${err.name}: ${err.message}`);
    } finally {
      publishMetrics(deps.metrics);
    }
  }
  if (failures.length > 0) throw new PassFailedError(failures);
  return reports;
}
