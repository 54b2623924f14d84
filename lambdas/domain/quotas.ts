import { type ObservedTarget, type TargetRef, targetKey } from './target';
import { type GroupPlan, type JudgedNode, type TargetChange, targetIdOf } from './target-plan';

/**
 * Elastic Load Balancing quotas a plan is checked against before any write (docs/safety.md, "Quotas").
 * AWS would refuse the call that crosses one halfway through a pass; the product refuses the plan first.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-limits.html
 */
export const TARGET_QUOTAS = {
  /** Targets per target group. */
  perTargetGroup: 1000,
  /** Targets per Availability Zone per Network Load Balancer; a target in N groups counts N times. */
  perAvailabilityZonePerLoadBalancer: 500,
  /** Targets per Network Load Balancer; a target in N groups counts N times. */
  perLoadBalancer: 3000,
} as const;

/** The quotas' values, for tests with smaller ones. */
export interface TargetQuotas {
  readonly perTargetGroup: number;
  readonly perAvailabilityZonePerLoadBalancer: number;
  readonly perLoadBalancer: number;
}

/** A quota refusal: which groups get nothing written this pass, and why. */
export interface QuotaRefusal {
  /** Target group ARNs whose changes are all refused. */
  readonly targetGroupArns: readonly string[];
  /** The message, naming the quota. */
  readonly message: string;
}

/** The targets a group holds after its changes (draining ones are on their way out and not counted). */
function targetsAfter(plan: GroupPlan): (TargetRef & { availabilityZone?: string })[] {
  const byKey = new Map<string, TargetRef & { availabilityZone?: string }>();
  for (const t of [...plan.observedOwned, ...plan.preserved] as ObservedTarget[]) {
    if (t.state !== 'draining') byKey.set(targetKey(t), t);
  }
  const desiredAz = new Map(plan.desired.map((t) => [targetKey(t), t.availabilityZone] as const));
  for (const change of plan.changes as TargetChange[]) {
    const key = targetKey(change.target);
    if (change.action === 'deregister') byKey.delete(key);
    else {
      const az = desiredAz.get(key);
      byKey.set(key, { ...change.target, ...(az !== undefined && { availabilityZone: az }) });
    }
  }
  return [...byKey.values()];
}

/**
 * Checks the plans of one cluster (one NLB) against the target quotas. A group over its own quota is
 * refused alone; a plan over a per-AZ or per-NLB quota refuses every group of the NLB. A quota is only
 * enforced when the plan raises the count (a count already above it never blocks a shrinking plan).
 * Availability Zones come from the observed target, else from the node behind it; targets whose zone is
 * unknown are not counted per zone.
 */
export function checkTargetQuotas(
  plans: readonly GroupPlan[],
  judged: readonly JudgedNode[],
  quotas: TargetQuotas = TARGET_QUOTAS,
): QuotaRefusal[] {
  const refusals: QuotaRefusal[] = [];
  const perAzBefore = new Map<string, number>();
  const perAzAfter = new Map<string, number>();
  let nlbBefore = 0;
  let nlbAfter = 0;
  for (const plan of plans) {
    const nodeAz = new Map<string, string>();
    for (const { node } of judged) {
      const id = targetIdOf(node, plan.mapping);
      if (id !== undefined && node.availabilityZone !== undefined) nodeAz.set(id, node.availabilityZone);
    }
    const zoneOf = (t: TargetRef & { availabilityZone?: string }) => t.availabilityZone ?? nodeAz.get(t.id);
    const before = [...plan.observedOwned, ...plan.preserved].filter((t) => t.state !== 'draining');
    const after = targetsAfter(plan);
    nlbBefore += before.length;
    nlbAfter += after.length;
    for (const t of before) count(perAzBefore, zoneOf(t));
    for (const t of after) count(perAzAfter, zoneOf(t));
    if (after.length > quotas.perTargetGroup && after.length > before.length) {
      refusals.push({
        targetGroupArns: [plan.mapping.targetGroupArn],
        message: `${plan.mapping.name}: the plan would hold ${after.length} targets, over the quota of ${quotas.perTargetGroup} targets per target group; nothing is written to the group`,
      });
    }
  }
  const all = plans.map((p) => p.mapping.targetGroupArn);
  for (const [zone, n] of [...perAzAfter].sort(([a], [b]) => a.localeCompare(b))) {
    if (n > quotas.perAvailabilityZonePerLoadBalancer && n > (perAzBefore.get(zone) ?? 0)) {
      refusals.push({
        targetGroupArns: all,
        message: `the plan would put ${n} targets in ${zone} (a target in N groups counts N times), over the quota of ${quotas.perAvailabilityZonePerLoadBalancer} targets per Availability Zone per Network Load Balancer; nothing is written to the NLB's groups`,
      });
    }
  }
  if (nlbAfter > quotas.perLoadBalancer && nlbAfter > nlbBefore) {
    refusals.push({
      targetGroupArns: all,
      message: `the plan would put ${nlbAfter} targets behind the NLB (a target in N groups counts N times), over the quota of ${quotas.perLoadBalancer} targets per Network Load Balancer; nothing is written to the NLB's groups`,
    });
  }
  return refusals;
}

function count(map: Map<string, number>, zone: string | undefined): void {
  if (zone !== undefined) map.set(zone, (map.get(zone) ?? 0) + 1);
}
