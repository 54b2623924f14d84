import type { PortMapping } from './config';
import { isUnknown, judgeNode, type Node, type NodeHints, type NodeVerdict } from './node';
import { type DesiredTarget, type ObservedTarget, type TargetRef, targetKey } from './target';

/**
 * The target planner: desired targets vs observed targets, per target group, restricted to what
 * this product owns, with a reason for every change. Pure: same inputs, same plan.
 *
 * Ownership: a configured target group belongs to exactly one cluster (the schema enforces it),
 * so every target in it is owned except the preserved ones, which are never in a plan.
 */

/** Why a target is deregistered; the safety guard treats the kinds differently. */
export const DEREGISTER_KINDS = {
  /** Its node is known to be leaving (terminating, standby, warm pool, stopped, an event said so). */
  leaving: 'leaving',
  /** Its node is desired but the target has another port (the NodePort changed). */
  replaced: 'replaced',
  /** No desired node stands behind it: a vanished node or a stranger target. */
  vanished: 'vanished',
} as const;
/** Why a target is deregistered. */
export type DeregisterKind = (typeof DEREGISTER_KINDS)[keyof typeof DEREGISTER_KINDS];

/**
 * What backs a deregistration: the current describe answer (an EC2 or ASG state, or a desired node whose
 * NodePort changed), a persisted drain mark, an event (possibly stale), or nothing (vanished).
 * Only `describe` and `mark` keep a deregistration out of the share guard.
 */
export type DeregisterEvidence = 'describe' | 'mark' | 'event' | 'none';

/** Target states that serve (or are about to): the share guard's base. */
export const SERVING_STATES: ReadonlySet<ObservedTarget['state']> = new Set([
  'healthy',
  'initial',
  'unhealthy',
]);

/** One change to one target group. */
export type TargetChange =
  | {
      readonly action: 'register';
      readonly targetGroupArn: string;
      readonly mapping: string;
      readonly target: TargetRef;
      readonly instanceId: string;
      readonly reason: string;
    }
  | {
      readonly action: 'deregister';
      readonly targetGroupArn: string;
      readonly mapping: string;
      readonly target: TargetRef;
      readonly kind: DeregisterKind;
      readonly evidence: DeregisterEvidence;
      readonly observedState: ObservedTarget['state'];
      readonly reason: string;
    };

/** A mapping with its target group resolved (imported or created). */
export type ResolvedPortMapping = PortMapping & { readonly targetGroupArn: string };

/** The plan for one target group. */
export interface GroupPlan {
  readonly mapping: ResolvedPortMapping;
  readonly desired: readonly DesiredTarget[];
  /** Observed targets this product owns and considers current (not draining, not preserved). */
  readonly observedOwned: readonly ObservedTarget[];
  /** Observed targets left alone because they are preserved. */
  readonly preserved: readonly ObservedTarget[];
  /** Observed targets already draining: neither current nor to be deregistered again. */
  readonly draining: readonly ObservedTarget[];
  readonly changes: readonly TargetChange[];
  /** Changes planned but held back this pass, with why (e.g. a node source is missing). */
  readonly heldBack?: readonly (TargetChange & { readonly heldBecause: string })[];
  /** Observed targets kept because their node is unknown (neither registered nor deregistered). */
  readonly kept?: readonly (ObservedTarget & { readonly instanceId: string; readonly keptBecause: string })[];
  /** Deregistrations a safety guard refused this pass, with the guard's reason; they wait. */
  readonly refused?: readonly (TargetChange & { readonly refusedBecause: string })[];
}

/** Whether a change counts toward the share guard: every deregistration not backed by describe or a mark. */
export function countsTowardGuard(change: TargetChange): boolean {
  return change.action === 'deregister' && change.evidence !== 'describe' && change.evidence !== 'mark';
}

/** A node with its verdict. */
export interface JudgedNode {
  readonly node: Node;
  readonly verdict: NodeVerdict;
}

/** Judges every node against the hints; desired nodes first-class, the others kept for reasons. */
export function judgeNodes(
  nodes: readonly Node[],
  hints: NodeHints = {},
  discoveredAt?: number,
): JudgedNode[] {
  return nodes.map((node) => ({ node, verdict: judgeNode(node, hints, discoveredAt) }));
}

/** The id a node registers under in a group of the mapping's target type. */
export function targetIdOf(node: Node, mapping: Pick<PortMapping, 'targetType'>): string | undefined {
  return mapping.targetType === 'ip' ? node.privateIp : node.instanceId;
}

/** The targets a mapping's group should hold: every desired node on the NodePort. */
export function desiredTargetsFor(
  mapping: ResolvedPortMapping,
  judged: readonly JudgedNode[],
): DesiredTarget[] {
  const byKey = new Map<string, DesiredTarget>();
  for (const { node, verdict } of judged) {
    if (!verdict.desired) continue;
    const id = targetIdOf(node, mapping);
    if (id === undefined) continue;
    const target: DesiredTarget = {
      id,
      port: mapping.nodePort,
      instanceId: node.instanceId,
      ...(node.availabilityZone !== undefined && { availabilityZone: node.availabilityZone }),
    };
    byKey.set(targetKey(target), target);
  }
  return [...byKey.values()].sort(compareTargets);
}

/**
 * Whether a target id is preserved: an exact id match, or an IPv4 address inside a preserved CIDR.
 * @param id - instance id or IP
 * @param preserved - ids, IPs and IPv4 CIDRs
 */
export function isPreserved(id: string, preserved: readonly string[]): boolean {
  for (const entry of preserved) {
    if (entry === id) return true;
    if (entry.includes('/') && ipv4InCidr(id, entry)) return true;
  }
  return false;
}

/**
 * Plans one target group: register desired targets that are missing, deregister owned targets
 * that are not desired. Draining targets are left out of "observed", as they are on their way out;
 * preserved targets are never in the plan.
 */
export function planTargetGroup(
  mapping: ResolvedPortMapping,
  judged: readonly JudgedNode[],
  observed: readonly ObservedTarget[],
  preservedIds: readonly string[],
): GroupPlan {
  const desired = desiredTargetsFor(mapping, judged).filter((t) => !isPreserved(t.id, preservedIds));
  const preserved = observed.filter((t) => isPreserved(t.id, preservedIds));
  const draining = observed.filter((t) => t.state === 'draining' && !isPreserved(t.id, preservedIds));
  const observedOwned = observed
    .filter((t) => t.state !== 'draining' && !isPreserved(t.id, preservedIds))
    .sort(compareTargets);
  const observedKeys = new Set(observedOwned.map(targetKey));
  const desiredKeys = new Set(desired.map(targetKey));
  const desiredIds = new Set(desired.map((t) => t.id));
  const leavingById = new Map<string, { reason: string; evidence: DeregisterEvidence }>();
  const unknownById = new Map<string, { instanceId: string; reason: string }>();
  const unmappedUnknown: string[] = [];
  for (const { node, verdict } of judged) {
    if (verdict.desired) continue;
    const id = targetIdOf(node, mapping);
    if (verdict.leaving) {
      if (id !== undefined) {
        leavingById.set(id, {
          reason: `node ${node.instanceId}: ${verdict.reason}`,
          evidence: verdict.evidence,
        });
      }
    } else if (isUnknown(verdict)) {
      if (id === undefined) unmappedUnknown.push(node.instanceId);
      else unknownById.set(id, { instanceId: node.instanceId, reason: verdict.reason });
    }
  }
  const changes: TargetChange[] = [];
  for (const target of desired) {
    if (observedKeys.has(targetKey(target))) continue;
    const node = judged.find((j) => j.node.instanceId === target.instanceId);
    changes.push({
      action: 'register',
      targetGroupArn: mapping.targetGroupArn,
      mapping: mapping.name,
      target: { id: target.id, port: target.port },
      instanceId: target.instanceId,
      reason: `node ${target.instanceId} is desired (${node?.verdict.reason ?? 'desired'}) but not registered`,
    });
  }
  const kept: (ObservedTarget & { instanceId: string; keptBecause: string })[] = [];
  for (const target of observedOwned) {
    if (desiredKeys.has(targetKey(target))) continue;
    const unknownNode = unknownById.get(target.id);
    if (unknownNode !== undefined && !desiredIds.has(target.id)) {
      kept.push({
        ...target,
        instanceId: unknownNode.instanceId,
        keptBecause: `node ${unknownNode.instanceId}: ${unknownNode.reason}`,
      });
      continue;
    }
    const leaving = leavingById.get(target.id);
    const kind: DeregisterKind =
      leaving !== undefined ? 'leaving' : desiredIds.has(target.id) ? 'replaced' : 'vanished';
    const reason =
      leaving !== undefined
        ? `${leaving.reason} is leaving`
        : kind === 'replaced'
          ? `port ${target.port} is not the NodePort ${mapping.nodePort}`
          : 'no desired node has this target';
    changes.push({
      action: 'deregister',
      targetGroupArn: mapping.targetGroupArn,
      mapping: mapping.name,
      target: { id: target.id, port: target.port },
      kind,
      evidence: leaving !== undefined ? leaving.evidence : kind === 'replaced' ? 'describe' : 'none',
      observedState: target.state,
      reason,
    });
  }
  const plan: GroupPlan = {
    mapping,
    desired,
    observedOwned,
    preserved,
    draining,
    changes,
    ...(kept.length > 0 && { kept }),
  };
  // An unknown node without a target id here (an IP group, no IP) may stand behind any "vanished" target.
  return unmappedUnknown.length > 0
    ? holdBackVanished(
        plan,
        `node(s) ${unmappedUnknown.join(', ')} unknown without a private IP: a target with no node may be theirs`,
      )
    : plan;
}

/**
 * Holds back a plan's `vanished` deregistrations: when discovery is known to be incomplete (a configured
 * ASG is missing), a target with no node behind it may belong to a node discovery could not see.
 * Registrations and evidence-backed deregistrations (leaving, replaced) stay.
 */
export function holdBackVanished(plan: GroupPlan, because: string): GroupPlan {
  const isVanished = (c: TargetChange) => c.action === 'deregister' && c.kind === 'vanished';
  const held = plan.changes.filter(isVanished);
  if (held.length === 0) return plan;
  return {
    ...plan,
    changes: plan.changes.filter((c) => !isVanished(c)),
    heldBack: [...(plan.heldBack ?? []), ...held.map((c) => ({ ...c, heldBecause: because }))],
  };
}

/** What the guards know besides the plan. */
export interface GuardContext {
  /** Share (0-1) of what a group serves that one pass may deregister without describe or mark evidence. */
  readonly maxDeregisterShare: number;
  /** Sum of DesiredCapacity over the cluster's ASGs (0 when the node source has no ASG). */
  readonly asgDesiredCapacity: number;
  /** How many nodes discovery found desired. */
  readonly desiredNodeCount: number;
}

/** The guards' answer: the plans with the refused deregistrations moved to `refused`, and one line per refusal. */
export interface GuardOutcome {
  readonly plans: readonly GroupPlan[];
  readonly refusals: readonly string[];
}

/**
 * The safety guards. A refusal refuses only the risky part: the refused deregistrations move from
 * `changes` to `refused` (with the guard's reason); registrations and the other deregistrations stay.
 *
 * 1. Share: never deregister more than `maxDeregisterShare` of what a group serves (healthy, initial and
 *    unhealthy owned targets) in one pass without evidence from the current describe answer or a drain mark:
 *    a discovery error looks exactly like every node vanishing. Vanished targets and event-backed leaving
 *    ones count, whatever their state. When refused, every counted deregistration of the group waits.
 * 2. Empty: never empty a group because discovery came back empty while the ASGs want capacity: every
 *    deregistration of the group waits, whatever its evidence.
 */
export function guardPlans(plans: readonly GroupPlan[], context: GuardContext): GuardOutcome {
  const refusals: string[] = [];
  const guarded = plans.map((plan) => {
    const removals = plan.changes.filter((c) => c.action === 'deregister');
    if (
      context.desiredNodeCount === 0 &&
      context.asgDesiredCapacity > 0 &&
      removals.length > 0 &&
      removals.length === plan.observedOwned.length
    ) {
      const refusal = `${plan.mapping.name}: discovery found no desired node while the ASGs want ${context.asgDesiredCapacity}; refusing to empty the group (${removals.length} targets)`;
      refusals.push(refusal);
      return refuse(plan, (c) => c.action === 'deregister', refusal);
    }
    const serving = plan.observedOwned.filter((t) => SERVING_STATES.has(t.state)).length;
    const counted = plan.changes.filter(
      (c) => countsTowardGuard(c) && c.action === 'deregister' && SERVING_STATES.has(c.observedState),
    ).length;
    if (counted > 0 && counted > serving * context.maxDeregisterShare) {
      const refusal = `${plan.mapping.name}: would deregister ${counted} of ${serving} serving targets without describe or drain-mark evidence, more than the allowed share ${context.maxDeregisterShare}`;
      refusals.push(refusal);
      return refuse(plan, countsTowardGuard, refusal);
    }
    return plan;
  });
  return { plans: guarded, refusals };
}

/** The guards' refusal lines only (an empty list: the plan may be applied whole). */
export function checkGuards(plans: readonly GroupPlan[], context: GuardContext): string[] {
  return [...guardPlans(plans, context).refusals];
}

function refuse(plan: GroupPlan, which: (c: TargetChange) => boolean, because: string): GroupPlan {
  const refused = plan.changes.filter(which);
  return {
    ...plan,
    changes: plan.changes.filter((c) => !which(c)),
    refused: [...(plan.refused ?? []), ...refused.map((c) => ({ ...c, refusedBecause: because }))],
  };
}

/**
 * Applies a group's changes to an observed target list, as AWS would (registering puts a target in
 * `initial`); the properties of the planner are stated with it.
 */
export function applyChanges(
  observed: readonly ObservedTarget[],
  changes: readonly TargetChange[],
): ObservedTarget[] {
  const byKey = new Map(observed.map((t) => [targetKey(t), t] as const));
  for (const change of changes) {
    const key = targetKey(change.target);
    if (change.action === 'deregister') {
      byKey.delete(key);
    } else if (!byKey.has(key) || byKey.get(key)?.state === 'draining') {
      byKey.set(key, { ...change.target, state: 'initial' });
    }
  }
  return [...byKey.values()].sort(compareTargets);
}

function compareTargets(a: TargetRef, b: TargetRef): number {
  return a.id === b.id ? a.port - b.port : a.id < b.id ? -1 : 1;
}

function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

function ipv4InCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const address = ipv4ToInt(ip);
  const network = base === undefined ? undefined : ipv4ToInt(base);
  const bits = Number(bitsText);
  if (address === undefined || network === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32)
    return false;
  const size = 2 ** (32 - bits);
  return Math.floor(address / size) === Math.floor(network / size);
}
