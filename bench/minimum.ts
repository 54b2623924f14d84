/**
 * The fewest API calls any implementation needs for one reconcile pass, derived from AWS's own limits,
 * not from what the product happens to do. The bench fails when the product exceeds it by more than
 * {@link CALL_SLACK}.
 */

/** The operations a target pass may send, in the order the tables print them. */
export const PASS_OPERATIONS = [
  'DescribeAutoScalingGroups',
  'DescribeInstances',
  'DescribeTargetHealth',
  'RegisterTargets',
  'DeregisterTargets',
] as const;

/** One of {@link PASS_OPERATIONS}. */
export type PassOperation = (typeof PASS_OPERATIONS)[number];

/** Group names per DescribeAutoScalingGroups request (AWS API reference). */
export const ASG_NAMES_PER_CALL = 50;
/** Instance ids per DescribeInstances lookup (EC2 caps filter values at 200; 100 is the usual chunk). */
export const INSTANCE_IDS_PER_CALL = 100;
/** Largest DescribeInstances page (MaxResults) for a tag-filter search. */
export const INSTANCES_PER_PAGE = 1000;
/** Targets per RegisterTargets / DeregisterTargets call. */
export const TARGETS_PER_WRITE = 200;

/**
 * Extra calls allowed per operation above the derived minimum. Zero: a pass on a cluster this size has
 * no reason to send one call more than the minimum, and no retries are expected against a local moto
 * (retries are counted apart, as HTTP attempts, and are not held against the pass).
 */
export const CALL_SLACK = 0;

/** What the minimum depends on: the cluster's shape and what the pass must change. */
export interface PassShape {
  /** Auto Scaling groups named in the node source. */
  readonly asgCount: number;
  /** Instances those groups list (each needs its private IP from EC2). */
  readonly asgInstanceCount: number;
  /** Whether the node source has tag filters (a DescribeInstances search). */
  readonly hasTagFilters: boolean;
  /** Instances the tag filters match (pages of the tag search). */
  readonly taggedInstanceCount: number;
  /** Per target group: registrations needed. */
  readonly registrations: readonly number[];
  /** Per target group: deregistrations needed. */
  readonly deregistrations: readonly number[];
}

/** Minimum calls per operation for one pass of the given shape. */
export function minimumCalls(shape: PassShape): Record<PassOperation, number> {
  const tagPages = shape.hasTagFilters
    ? Math.max(1, Math.ceil(shape.taggedInstanceCount / INSTANCES_PER_PAGE))
    : 0;
  const writes = (perGroup: readonly number[]): number =>
    perGroup.reduce((sum, n) => sum + Math.ceil(n / TARGETS_PER_WRITE), 0);
  return {
    DescribeAutoScalingGroups: Math.ceil(shape.asgCount / ASG_NAMES_PER_CALL),
    DescribeInstances: Math.ceil(shape.asgInstanceCount / INSTANCE_IDS_PER_CALL) + tagPages,
    DescribeTargetHealth: shape.registrations.length,
    RegisterTargets: writes(shape.registrations),
    DeregisterTargets: writes(shape.deregistrations),
  };
}
