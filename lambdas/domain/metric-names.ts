/**
 * The product's EMF metric names (namespace `NlbNodeportSync`, dimensions service + cluster). One list,
 * so the dashboard and alarms (infra/constructs/monitoring.ts) name exactly what the code emits.
 */
export const METRICS = {
  targetsRegistered: 'TargetsRegistered',
  targetsDeregistered: 'TargetsDeregistered',
  targetsRejected: 'TargetsRejected',
  driftFound: 'DriftFound',
  /** One per group whose deregistrations a safety guard refused (they wait; the rest is applied). */
  guardRefusals: 'GuardRefusals',
  /** Refused deregistrations an operator confirmed for one pass (`apply --confirm-deregistrations`). */
  guardOverrides: 'GuardOverrides',
  /**
   * One per quota a plan would pass (targets per group, per AZ per NLB, per NLB; inbound rules per security
   * group; Route 53 batch limits per name): nothing written there.
   */
  quotaRefusals: 'QuotaRefusals',
  passFailures: 'PassFailures',
  passDuration: 'PassDuration',
  /** A configured ASG of the cluster does not exist; the rest of the cluster still syncs. */
  missingNodeSources: 'MissingNodeSources',
  /** A lifecycle action answered by the product (any result). */
  lifecycleActionsAnswered: 'LifecycleActionsAnswered',
  /** A held lifecycle action answered because its wait hit its bound (launch never healthy, drain too long). */
  lifecycleWaitTimeouts: 'LifecycleWaitTimeouts',
  /** A re-check of a held action failed (it is retried within seconds). */
  lifecycleCheckFailures: 'LifecycleCheckFailures',
  /** Seconds from the start of a hold to its answer. */
  lifecycleHoldSeconds: 'LifecycleHoldSeconds',
  /** A drain mark was written (spot, rebalance, terminate, operator). */
  drainMarksWritten: 'DrainMarksWritten',
  /** An event that can never succeed (malformed): logged with its body, not retried. */
  eventsRejected: 'EventsRejected',
  /** An event that concerns no configured cluster or hook: a logged skip. */
  eventsSkipped: 'EventsSkipped',
  /** An event whose facts could not be applied after every retry: logged with its body. */
  eventsAbandoned: 'EventsAbandoned',
} as const;

/** One of the product's metric names. */
export type MetricName = (typeof METRICS)[keyof typeof METRICS];
