/**
 * Targets: (target group, id, port). A target's identity within a group is `id:port`, as in
 * aws-load-balancer-controller; sets and diffs are keyed on it.
 */

/** Target states as DescribeTargetHealth reports them. */
export const TARGET_STATES = [
  'initial',
  'healthy',
  'unhealthy',
  'unused',
  'draining',
  'unavailable',
] as const;
/** Target state as DescribeTargetHealth reports it. */
export type TargetState = (typeof TARGET_STATES)[number];

/** A target to register or deregister: node IP or instance id, and port. */
export interface TargetRef {
  readonly id: string;
  readonly port: number;
}

/** A target as AWS holds it now. */
export interface ObservedTarget extends TargetRef {
  readonly state: TargetState;
  /** e.g. Target.FailedHealthChecks, Target.DeregistrationInProgress */
  readonly reason?: string;
  readonly availabilityZone?: string;
}

/** A target the product wants, with the node it stands for. */
export interface DesiredTarget extends TargetRef {
  readonly instanceId: string;
  readonly availabilityZone?: string;
}

/** The key of a target within its group. */
export function targetKey(target: TargetRef): string {
  return `${target.id}:${target.port}`;
}
