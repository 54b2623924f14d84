/**
 * Deployment defaults that the sync configuration does not (yet) carry. They live here, in one
 * place, so that docs/deploy.md can explain each one and a future config field can replace it.
 */

/** Names shared between the stack and the Lambda code (see lambdas/runtime/environment.ts). */
export const SYNC_ENVIRONMENT = {
  /**
   * The name of the validated configuration file bundled with the function's code, beside index.js
   * (`BUNDLED_CONFIG_FILE`); the Lambda reads it at init (docs/deploy.md, "Config delivery").
   */
  bundledConfig: 'NLB_SYNC_CONFIG_BUNDLED',
  /**
   * Only in create mode: the created NLB and target group ARNs (CloudFormation references) as compact
   * JSON, with the digest of the bundled file they belong to; merged into the file's config at init.
   */
  deployTimeValues: 'NLB_SYNC_CONFIG_REFS',
  /**
   * URL of the wait queue. A held lifecycle action is re-checked by sending a message here with
   * `DelaySeconds`: the function never sleeps, the queue holds the wait.
   */
  waitQueueUrl: 'NLB_SYNC_WAIT_QUEUE_URL',
  /**
   * URL of the FIFO lane. A re-check that needs a pass sends one here (MessageGroupId = the cluster,
   * an explicit MessageDeduplicationId), so it is serialized with the cluster's other passes.
   */
  laneQueueUrl: 'NLB_SYNC_LANE_QUEUE_URL',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

/** The file name of the configuration bundled beside the function's index.js. */
export const BUNDLED_CONFIG_FILE = 'sync.config.json';

/** The product's own names in logs and metrics. */
export const PRODUCT = {
  serviceName: 'nlb-nodeport-sync',
  metricsNamespace: 'NlbNodeportSync',
  /** The EMF dimension every product metric carries; `(none)` for events that name no cluster. */
  clusterDimension: 'cluster',
  /** The dimension Powertools adds to every EMF metric (the service name). */
  serviceDimension: 'service',
} as const;

/** The Lambda entry point that consumes the per-cluster FIFO lane (one consumer keeps passes serial). */
export const PASS_HANDLER_ENTRY = 'lambdas/handlers/reconcile.ts';

/** Lambda sizing and the SQS lane around it. */
export const FUNCTION_DEFAULTS = {
  /**
   * One full vCPU (Lambda gives CPU in proportion to memory, a whole one at 1,769 MB). A pass at the NLB's
   * full size spends 0.2-0.5 s of CPU parsing the SDK's answers, which 512 MB stretched 3.5-fold; init too.
   * Measured and weighed in docs/benchmarks.md ("Memory size"): about 1 s less per pass at 500 nodes for
   * about 30% more per pass, cents a month. More memory adds a second vCPU a one-threaded pass cannot use.
   */
  memorySizeMb: 1769,
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
 * The wait queue: a standard queue of delayed re-checks of held lifecycle actions, consumed by the
 * pass function itself. Standard, not FIFO: FIFO queues only allow a per-queue delay, and a re-check
 * must not wait behind another cluster's messages; a re-check that needs a pass goes to the lane.
 * Lifecycle hook timeouts and results are per cluster in the config (`cluster.lifecycle`).
 */
export const WAIT_QUEUE_DEFAULTS = {
  /**
   * Twice the function timeout, not the six times AWS advises: a failed re-check (an invocation that
   * threw) must come back within about two minutes, while the held instance still waits in its hook.
   * The product also re-enqueues a failed re-check itself with a short delay, so this is the fallback.
   * Lambda requires at least the function timeout.
   */
  visibilityTimeoutSeconds: FUNCTION_DEFAULTS.timeoutSeconds * 2,
  /**
   * Five tries (about ten minutes at the visibility timeout above), then the message parks in the DLQ
   * and the hook's own timeout and default result take over. More than the lane's 3: the short
   * visibility timeout makes a throttled receive count as a try sooner.
   */
  maxReceiveCount: 5,
  /** One re-check per invocation: a failure retries exactly that re-check. */
  batchSize: 1,
  /** Long enough to look at a failed re-check after a weekend. */
  dlqRetentionDays: 14,
  // Message retention stays at SQS's 4 days: a held action ends within Auto Scaling's 48-hour
  // global timeout, and each re-check is a new message anyway.
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
