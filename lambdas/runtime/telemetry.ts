import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** The service name in logs and metrics (POWERTOOLS_SERVICE_NAME overrides it). */
export const SERVICE_NAME = 'nlb-nodeport-sync';
/** The CloudWatch namespace of the product's EMF metrics (POWERTOOLS_METRICS_NAMESPACE overrides it). */
export const METRICS_NAMESPACE = 'NlbNodeportSync';

/** Creates the Powertools logger; JSON lines, one per decision. */
export function createLogger(): Logger {
  return new Logger({ serviceName: SERVICE_NAME });
}

/** Creates the Powertools metrics emitter (EMF on stdout, which Lambda ships to CloudWatch). */
export function createMetrics(): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
}
