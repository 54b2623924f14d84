import type { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * Sets the `cluster` dimension of what follows. Clears the previous one first: a pass inside a lifecycle
 * action sets it again, and Powertools warns on every overwrite.
 */
export function setClusterDimension(metrics: Metrics, cluster: string): void {
  metrics.clearDimensions();
  metrics.addDimension('cluster', cluster);
}

/**
 * Publishes the stored metrics, if any: a re-check that only waited counts nothing, and an empty
 * publish makes Powertools print a warning line per invocation. The dimensions go either way.
 */
export function publishMetrics(metrics: Metrics): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  else metrics.clearDimensions();
}
