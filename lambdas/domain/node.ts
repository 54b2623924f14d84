import type { DrainMark } from './drain-mark';

/**
 * The node model: one EC2 instance that may serve a cluster's NodePorts, as discovery found it.
 * Pure data; no SDK types leak in here.
 */

/** Where discovery found a node. */
export const NODE_ORIGINS = ['auto-scaling-group', 'tag-filter'] as const;
/** Where discovery found a node. */
export type NodeOrigin = (typeof NODE_ORIGINS)[number];

/** One worker node. */
export interface Node {
  readonly instanceId: string;
  /** Primary private IPv4; absent while EC2 has not assigned it yet or after termination. */
  readonly privateIp?: string;
  readonly availabilityZone?: string;
  readonly subnetId?: string;
  readonly vpcId?: string;
  /** EC2 state name: pending, running, stopping, stopped, shutting-down, terminated. */
  readonly ec2State?: string;
  /** The ASG that holds it, when found through an ASG. */
  readonly autoScalingGroupName?: string;
  /** Auto Scaling lifecycle state (InService, Pending:Wait, Terminating:Wait, Warmed:Running, ...). */
  readonly lifecycleState?: string;
  /** Auto Scaling health status: Healthy or Unhealthy. */
  readonly healthStatus?: string;
  /** Security groups of the primary network interface. */
  readonly securityGroupIds: readonly string[];
  /** Every way discovery found it (an ASG node may match tag filters too). */
  readonly origins: readonly NodeOrigin[];
  /** The instance's EC2 tags, as DescribeInstances returned them. */
  readonly tags?: Readonly<Record<string, string>>;
  /** This deployment's drain mark on the instance, when it has one (lambdas/domain/drain-mark.ts). */
  readonly drainMark?: DrainMark;
}

/** Facts an event adds that describe calls may not show yet (they are eventually consistent). */
export interface NodeHints {
  /** Instances an event says are launching into service: desired even if still Pending. */
  readonly launching?: readonly string[];
  /** Instances an event says are leaving (terminating, to a warm pool, interrupted): never desired. */
  readonly leaving?: readonly string[];
}

/** Why a node is or is not desired; the words appear in logs and plans. */
export type NodeVerdict =
  | { readonly desired: true; readonly reason: string }
  | { readonly desired: false; readonly reason: string; readonly leaving: boolean };

const DESIRED_ASG_STATES = new Set(['InService', 'Pending', 'Pending:Wait', 'Pending:Proceed']);
const LEAVING_ASG_STATE = /^(Terminating|Terminated|Detaching|Detached|EnteringStandby|Standby|Warmed)/;
/** EC2 states of an instance on its way out: never a target. */
export const LEAVING_EC2_STATES: ReadonlySet<string> = new Set([
  'stopping',
  'stopped',
  'shutting-down',
  'terminated',
]);

/**
 * Decides whether a node should be a target.
 *
 * ASG nodes are desired while InService or Pending* and Healthy; tag-found nodes while running.
 * Terminating*, Standby, Detaching, warm-pool, Unhealthy and drain-marked nodes never are; a drain mark
 * wins over everything (an operator or an earlier event set it on purpose). Event hints win over
 * describe results, because an event knows what the describe calls do not show yet.
 */
export function judgeNode(node: Node, hints: NodeHints = {}): NodeVerdict {
  // A persisted mark outlives the event that set it: no later pass, hint or ASG state brings the node back.
  if (node.drainMark !== undefined) {
    const since = node.drainMark.since === undefined ? '' : ` since ${node.drainMark.since}`;
    return { desired: false, reason: `drain mark (${node.drainMark.reason}${since})`, leaving: true };
  }
  if (hints.leaving?.includes(node.instanceId)) {
    return { desired: false, reason: 'an event says it is leaving', leaving: true };
  }
  if (node.ec2State !== undefined && LEAVING_EC2_STATES.has(node.ec2State)) {
    return { desired: false, reason: `EC2 state ${node.ec2State}`, leaving: true };
  }
  if (node.privateIp === undefined) {
    return { desired: false, reason: 'no private IP yet', leaving: false };
  }
  if (node.autoScalingGroupName !== undefined && node.lifecycleState !== undefined) {
    if (LEAVING_ASG_STATE.test(node.lifecycleState)) {
      return { desired: false, reason: `lifecycle state ${node.lifecycleState}`, leaving: true };
    }
    if (node.healthStatus === 'Unhealthy') {
      return { desired: false, reason: 'ASG health status Unhealthy', leaving: true };
    }
    if (hints.launching?.includes(node.instanceId)) {
      return { desired: true, reason: 'an event says it is launching' };
    }
    if (DESIRED_ASG_STATES.has(node.lifecycleState)) {
      return { desired: true, reason: `lifecycle state ${node.lifecycleState}` };
    }
    return { desired: false, reason: `lifecycle state ${node.lifecycleState}`, leaving: false };
  }
  if (hints.launching?.includes(node.instanceId)) {
    return { desired: true, reason: 'an event says it is launching' };
  }
  if (node.ec2State === 'running') {
    return { desired: true, reason: 'running and matches the tag filters' };
  }
  return { desired: false, reason: `EC2 state ${node.ec2State ?? 'unknown'}`, leaving: false };
}

/**
 * Merges what ASG discovery and tag discovery found about the same instances: ASG facts win
 * (they carry the lifecycle state), origins are united.
 */
export function mergeNodes(...lists: readonly (readonly Node[])[]): Node[] {
  const byId = new Map<string, Node>();
  for (const list of lists) {
    for (const node of list) {
      const seen = byId.get(node.instanceId);
      if (seen === undefined) {
        byId.set(node.instanceId, node);
        continue;
      }
      const origins = [...new Set([...seen.origins, ...node.origins])];
      const first = seen.autoScalingGroupName !== undefined ? seen : node;
      const second = first === seen ? node : seen;
      byId.set(node.instanceId, { ...second, ...definedOnly(first), origins });
    }
  }
  return [...byId.values()].sort((a, b) => a.instanceId.localeCompare(b.instanceId));
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
