/**
 * The fewest API calls any implementation needs for one reconcile pass (target step, security-group step
 * and Route 53 step), derived from AWS's own limits and from the world as the bench sees it with its own
 * uncounted clients, not from what the product happens to do. The bench's goal is calls / minimum <=
 * {@link MAX_CALL_RATIO} for every pass.
 */

/** The operations a pass may send, in the order the tables print them. */
export const PASS_OPERATIONS = [
  'DescribeAutoScalingGroups',
  'DescribeInstances',
  'DescribeTargetHealth',
  'RegisterTargets',
  'DeregisterTargets',
  'DescribeSecurityGroups',
  'DescribeLoadBalancers',
  'DescribeVpcs',
  'DescribeSecurityGroupRules',
  'AuthorizeSecurityGroupIngress',
  'RevokeSecurityGroupIngress',
  'ModifySecurityGroupRules',
  'GetHostedZone',
  'ListResourceRecordSets',
  'ChangeResourceRecordSets',
] as const;

/** One of {@link PASS_OPERATIONS}. */
export type PassOperation = (typeof PASS_OPERATIONS)[number];

/** Operations that write. A pass with nothing to change must send none. */
export const WRITE_OPERATIONS: ReadonlySet<string> = new Set([
  'RegisterTargets',
  'DeregisterTargets',
  'AuthorizeSecurityGroupIngress',
  'RevokeSecurityGroupIngress',
  'ModifySecurityGroupRules',
  'ChangeResourceRecordSets',
  'CreateTags',
  'DeleteTags',
  'CompleteLifecycleAction',
  'RecordLifecycleActionHeartbeat',
]);

/** Group names per DescribeAutoScalingGroups request (AWS API reference). */
export const ASG_NAMES_PER_CALL = 50;
/** Largest DescribeInstances page (MaxResults) of a filter search. */
export const INSTANCES_PER_PAGE = 1000;
/** Targets per RegisterTargets / DeregisterTargets call (what the AWS Load Balancer Controller sends). */
export const TARGETS_PER_WRITE = 200;
/** Largest DescribeSecurityGroupRules page (MaxResults). */
export const RULES_PER_PAGE = 1000;
/** Record sets per ListResourceRecordSets page (Route 53's fixed page size). */
export const RECORD_SETS_PER_PAGE = 300;

/** The goal: calls of a pass / its minimum. */
export const MAX_CALL_RATIO = 1.05;

/** What the minimum depends on: the cluster's shape and what the pass must change. */
export interface PassShape {
  /** Auto Scaling groups named in the node source. */
  readonly asgCount: number;
  /** Instances those groups list (each needs its private IP from EC2). */
  readonly asgInstanceCount: number;
  /** Whether the node source has tag filters (a DescribeInstances search of its own). */
  readonly hasTagFilters: boolean;
  /** Instances the tag filters match (pages of the tag search). */
  readonly taggedInstanceCount: number;
  /** Per target group: registrations needed. */
  readonly registrations: readonly number[];
  /** Per target group: deregistrations needed. */
  readonly deregistrations: readonly number[];
  /** The security-group step, when the cluster has one. */
  readonly securityGroups?: {
    /** Whether the node groups are found by their tags (no `groupIds` in the config). */
    readonly discover: boolean;
    /** Whether the ingress source is the VPC's CIDRs (one DescribeVpcs). */
    readonly vpcCidrSource: boolean;
    /** Inbound rules the node groups hold before the pass. */
    readonly rules: number;
    /** Node groups that need rules added, rewritten, revoked. */
    readonly groupsToAuthorize: number;
    readonly groupsToModify: number;
    readonly groupsToRevoke: number;
  };
  /** The Route 53 step, when the cluster has one. */
  readonly dns?: {
    /** Record sets in the zone before the pass. */
    readonly recordSets: number;
    /** Whether any record set must change. */
    readonly changes: boolean;
  };
  /** Whether a step needs the NLB's description (the security-group source, alias records). */
  readonly needsLoadBalancer: boolean;
}

/**
 * Minimum calls per operation for one pass of the given shape.
 *
 * - Instances of the ASGs: one DescribeInstances search by the `aws:autoscaling:groupName` tag EC2 puts on
 *   every instance an ASG launches (all groups' names in one filter), 1,000 a page. It finds the same
 *   instances as a lookup by id (100 a call), with fewer calls, and it need not wait for the ASG's answer.
 *   It also tells what an instance target no list explains is (a running member or not), so that check
 *   needs no call of its own.
 * - Target health: DescribeTargetHealth has no pagination and takes one group.
 * - Target writes: 200 targets a call, per group.
 * - Security groups: one DescribeSecurityGroups searching the groups tagged for the cluster (only when the
 *   groups are found by their tags: a `tag-key` filter, as the pass starts), one DescribeVpcs for a VPC-CIDR source, the rules of all groups in one
 *   DescribeSecurityGroupRules (a `group-id` filter takes them all), 1,000 a page; one authorize, rewrite or
 *   revoke per group that needs it (each call takes one group).
 * - Route 53: GetHostedZone (the zone's name, which every managed name must lie in), the record sets, 300 a
 *   page, and one ChangeResourceRecordSets when anything differs (the bench's batches stay far under
 *   Route 53's 1,000 values).
 * - DescribeLoadBalancers: once, when a step needs the NLB.
 */
export function minimumCalls(shape: PassShape): Record<PassOperation, number> {
  const pages = (n: number, perPage: number) => Math.max(1, Math.ceil(n / perPage));
  const tagPages = shape.hasTagFilters ? pages(shape.taggedInstanceCount, INSTANCES_PER_PAGE) : 0;
  const asgPages =
    shape.asgCount > 0 && shape.asgInstanceCount > 0 ? pages(shape.asgInstanceCount, INSTANCES_PER_PAGE) : 0;
  const writes = (perGroup: readonly number[]): number =>
    perGroup.reduce((sum, n) => sum + Math.ceil(n / TARGETS_PER_WRITE), 0);
  const sg = shape.securityGroups;
  const dns = shape.dns;
  return {
    DescribeAutoScalingGroups: Math.ceil(shape.asgCount / ASG_NAMES_PER_CALL),
    DescribeInstances: asgPages + tagPages,
    DescribeTargetHealth: shape.registrations.length,
    RegisterTargets: writes(shape.registrations),
    DeregisterTargets: writes(shape.deregistrations),
    DescribeSecurityGroups: sg?.discover === true ? 1 : 0,
    DescribeLoadBalancers: shape.needsLoadBalancer ? 1 : 0,
    DescribeVpcs: sg?.vpcCidrSource === true ? 1 : 0,
    DescribeSecurityGroupRules: sg === undefined ? 0 : pages(sg.rules, RULES_PER_PAGE),
    AuthorizeSecurityGroupIngress: sg?.groupsToAuthorize ?? 0,
    RevokeSecurityGroupIngress: sg?.groupsToRevoke ?? 0,
    ModifySecurityGroupRules: sg?.groupsToModify ?? 0,
    GetHostedZone: dns === undefined ? 0 : 1,
    ListResourceRecordSets: dns === undefined ? 0 : pages(dns.recordSets, RECORD_SETS_PER_PAGE),
    ChangeResourceRecordSets: dns?.changes === true ? 1 : 0,
  };
}

/** Sum of a per-operation record. */
export function totalOf(calls: Readonly<Record<PassOperation, number>>): number {
  return PASS_OPERATIONS.reduce((sum, op) => sum + calls[op], 0);
}
