/**
 * Deployment defaults that the sync configuration does not (yet) carry. They live here, in one
 * place, so that docs/deploy.md can explain each one and a future config field can replace it.
 */

/** Names shared between the stack and the Lambda code (see lambdas/runtime/environment.ts). */
export const SYNC_ENVIRONMENT = {
  /** The validated configuration as compact JSON. */
  config: 'NLB_SYNC_CONFIG',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

/** The product's own names in logs and metrics. */
export const PRODUCT = {
  serviceName: 'nlb-nodeport-sync',
  metricsNamespace: 'NlbNodeportSync',
  /** The EMF dimension every product metric carries. */
  clusterDimension: 'cluster',
} as const;

/** The Lambda entry point that consumes the per-cluster FIFO lane (one consumer keeps passes serial). */
export const PASS_HANDLER_ENTRY = 'lambdas/handlers/reconcile.ts';

/** Lambda sizing and the SQS lane around it. */
export const FUNCTION_DEFAULTS = {
  memorySizeMb: 512,
  /** A pass is a handful of describe calls and batched writes; one minute leaves room for SDK retries. */
  timeoutSeconds: 60,
  /** Log retention of every function (config field wanted: `logRetentionDays`). */
  logRetentionDays: 30,
} as const;

/** The per-cluster FIFO lane and its dead-letter queues. */
export const LANE_DEFAULTS = {
  /** AWS asks for at least six times the function timeout, so a throttled batch is not redelivered early. */
  visibilityTimeoutSeconds: FUNCTION_DEFAULTS.timeoutSeconds * 6,
  /** Three tries, then the message parks in the DLQ and the cluster's lane moves on. */
  maxReceiveCount: 3,
  /** Events older than this are useless: the scheduled pass has long covered them. */
  eventMaxAgeSeconds: 3600,
  eventRetryAttempts: 10,
  dlqRetentionDays: 14,
} as const;

/**
 * Lifecycle hook timing (config fields wanted: `lifecycleHooks.launchHeartbeatTimeoutSeconds`,
 * `lifecycleHooks.terminateHeartbeatTimeoutSeconds`). Both hooks default to CONTINUE: on launch an
 * unanswered hook lets the node into service (the scheduled pass registers it later) instead of
 * ABANDON terminating a healthy node; on terminate CONTINUE still terminates but lets other hooks run.
 */
export const LIFECYCLE_HOOK_DEFAULTS = {
  /** New NLB targets spend 2-5 minutes in `initial`; the handler answers long before that. */
  launchHeartbeatTimeoutSeconds: 300,
  /** Added to the deregistration delay when the stack knows it (create mode). */
  terminateMarginSeconds: 60,
  /** Used when the target groups are imported and their deregistration delay is unknown (default 300 s). */
  terminateHeartbeatTimeoutSeconds: 360,
  defaultResult: 'CONTINUE',
} as const;

/** Alarm thresholds (config fields wanted: `alarms.unhealthyMinutes`, `alarms.evaluationPeriods`). */
export const ALARM_DEFAULTS = {
  /** How long targets may stay unhealthy before someone is told. */
  unhealthyMinutes: 15,
  periodMinutes: 1,
} as const;

/**
 * Lambda's limit on the environment of one function: all keys and values together, in bytes.
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/** Bytes counted for a value CloudFormation fills in at deploy time (an ARN or a URL). */
export const DEPLOY_TIME_VALUE_BUDGET_BYTES = 160;
