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
  /**
   * Set when discovery's lists missed an instance that holds a target while its EC2 tags make it a member
   * of the cluster (`aws:autoscaling:groupName` of a configured ASG, or the tag filters): says which.
   * Such a node is unknown (a stale list), never vanished.
   */
  readonly unlistedMemberOf?: string;
}

/** Facts an event adds that describe calls may not show yet (they are eventually consistent). */
export interface NodeHints {
  /** Instances an event says are launching into service: desired even if still Pending. */
  readonly launching?: readonly string[];
  /** Instances an event says are leaving (terminating, to a warm pool, interrupted): never desired. */
  readonly leaving?: readonly string[];
  /**
   * When the event that gave these facts happened (epoch ms, its `time`). An event older than the pass's
   * describe answer loses wherever that answer says something definite (docs/safety.md, "Evidence").
   * Absent: the facts are current (a lifecycle action the ASG holds while the pass runs).
   */
  readonly eventTime?: number;
}

/** What makes a leaving verdict: a persisted drain mark, the current describe answer, or an event. */
export type LeavingEvidence = 'mark' | 'describe' | 'event';

/** Why a node is or is not desired; the words appear in logs and plans. */
export type NodeVerdict =
  | { readonly desired: true; readonly reason: string }
  | {
      readonly desired: false;
      readonly reason: string;
      readonly leaving: true;
      /** What says it is leaving; only `mark` and `describe` keep its deregistrations out of the guard. */
      readonly evidence: LeavingEvidence;
    }
  | {
      readonly desired: false;
      readonly reason: string;
      readonly leaving: false;
      /**
       * Discovery cannot tell (no private IP, missing from DescribeInstances, no lifecycle state): the
       * node's targets are kept, neither registered nor deregistered.
       */
      readonly unknown?: true;
    };

const DESIRED_ASG_STATES = new Set(['InService', 'Pending', 'Pending:Wait', 'Pending:Proceed']);
const LEAVING_ASG_STATE = /^(Terminating|Terminated|Detaching|Detached|EnteringStandby|Standby|Warmed)/;
/** Documented lifecycle states that are neither desired nor leaving (AWS API reference, LifecycleState). */
const OTHER_ASG_STATES = new Set([
  'Quarantined',
  'ReplacingRootVolume',
  'ReplacingRootVolume:Proceed',
  'ReplacingRootVolume:Wait',
  'RootVolumeReplaced',
]);
/** EC2 states of an instance on its way out: never a target. */
export const LEAVING_EC2_STATES: ReadonlySet<string> = new Set([
  'stopping',
  'stopped',
  'shutting-down',
  'terminated',
]);

function leaving(reason: string, evidence: LeavingEvidence): NodeVerdict {
  return { desired: false, reason, leaving: true, evidence };
}

function unknown(reason: string): NodeVerdict {
  return {
    desired: false,
    reason: `unknown: ${reason}; its targets are kept`,
    leaving: false,
    unknown: true,
  };
}

/** Whether a verdict says discovery cannot tell: the node's targets are kept as they are. */
export function isUnknown(verdict: NodeVerdict): boolean {
  return !verdict.desired && !verdict.leaving && verdict.unknown === true;
}

/**
 * Decides whether a node should be a target: the evidence table of docs/safety.md, in its order.
 *
 * 1. A drain mark: leaving (an operator or an earlier event set it on purpose; it outlives every pass).
 * 2. The current describe answer saying it leaves (EC2 stopping/stopped/shutting-down/terminated, ASG
 *    Terminating*, Detaching, Standby, Warmed:*, health Unhealthy): leaving.
 * 3. An event saying it leaves: leaving, unless the event is older than the describe answer and that
 *    answer is definite (the instance was described and found as a member): then the describe answer wins.
 * 4. No private IP, missing from DescribeInstances, an ASG node without a documented lifecycle state: unknown.
 * 5. ASG nodes InService or Pending* (or a launching event), tag-found nodes running: desired.
 *
 * @param discoveredAt - when the describe answer was read (the pass's now, epoch ms)
 */
export function judgeNode(node: Node, hints: NodeHints = {}, discoveredAt?: number): NodeVerdict {
  // A persisted mark outlives the event that set it: no later pass, hint or ASG state brings the node back.
  if (node.drainMark !== undefined) {
    const since = node.drainMark.since === undefined ? '' : ` since ${node.drainMark.since}`;
    return leaving(`drain mark (${node.drainMark.reason}${since})`, 'mark');
  }
  if (node.ec2State !== undefined && LEAVING_EC2_STATES.has(node.ec2State)) {
    return leaving(`EC2 state ${node.ec2State}`, 'describe');
  }
  const inAsg = node.autoScalingGroupName !== undefined;
  if (inAsg && node.lifecycleState !== undefined && LEAVING_ASG_STATE.test(node.lifecycleState)) {
    return leaving(`lifecycle state ${node.lifecycleState}`, 'describe');
  }
  if (inAsg && node.lifecycleState !== undefined && node.healthStatus === 'Unhealthy') {
    return leaving('ASG health status Unhealthy', 'describe');
  }
  if (hints.leaving?.includes(node.instanceId)) {
    const stale =
      hints.eventTime !== undefined && discoveredAt !== undefined && hints.eventTime < discoveredAt;
    // A stale event loses to a definite describe answer: the instance was described and discovery found it
    // as a member of the cluster (e.g. `stopping` for an instance that runs again). A node known only
    // because the event named it (no longer in its ASG) has no answer against the event.
    const contradicted = stale && node.ec2State !== undefined && node.origins.length > 0;
    if (!contradicted) return leaving('an event says it is leaving', 'event');
  }
  if (node.unlistedMemberOf !== undefined && node.ec2State !== undefined) {
    return unknown(
      `EC2 tags make it a member of ${node.unlistedMemberOf}, whose list lacks it (a stale read)`,
    );
  }
  if (inAsg && node.ec2State === undefined) return unknown('not in the DescribeInstances answer');
  if (node.privateIp === undefined) return unknown('no private IP');
  if (inAsg && node.lifecycleState === undefined) return unknown('the ASG gave no lifecycle state');
  // A state AWS does not document is a stand-in for a missing field (the adapter reads an absent
  // LifecycleState as "Unknown"): unknown, never vanished.
  if (
    inAsg &&
    node.lifecycleState !== undefined &&
    !DESIRED_ASG_STATES.has(node.lifecycleState) &&
    !OTHER_ASG_STATES.has(node.lifecycleState)
  ) {
    return unknown(`the ASG gave no lifecycle state AWS documents ("${node.lifecycleState}")`);
  }
  if (hints.launching?.includes(node.instanceId)) {
    return { desired: true, reason: 'an event says it is launching' };
  }
  if (inAsg && node.lifecycleState !== undefined) {
    if (DESIRED_ASG_STATES.has(node.lifecycleState)) {
      return { desired: true, reason: `lifecycle state ${node.lifecycleState}` };
    }
    return { desired: false, reason: `lifecycle state ${node.lifecycleState}`, leaving: false };
  }
  if (!node.origins.includes('tag-filter')) {
    // Known only because an event named it: not a member by discovery's answer.
    return { desired: false, reason: 'not listed by its ASG or the tag filters', leaving: false };
  }
  if (node.ec2State === 'running') {
    return { desired: true, reason: 'running and matches the tag filters' };
  }
  if (node.ec2State === undefined) return unknown('no EC2 state');
  return { desired: false, reason: `EC2 state ${node.ec2State}`, leaving: false };
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
