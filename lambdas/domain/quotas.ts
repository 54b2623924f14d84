import { type BatchLimits, changeWeight, MAX_CHARS_PER_BATCH, MAX_RECORDS_PER_BATCH } from './dns-records';
import { INBOUND_RULE_QUOTA, type IngressChange } from './ingress-rules';
import type { IngressSource, ObservedIngressRule, RecordChange } from './network-ports';
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

/**
 * The security-group quota a plan is checked against before any write (docs/safety.md, "Quotas"): inbound
 * rules per security group, counted apart for IPv4 and IPv6; a rule that references a security group counts
 * once in each. AWS's default; an account may have raised it (the check then refuses early what AWS would
 * still accept, never the reverse).
 * https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups
 */
export const SECURITY_GROUP_QUOTAS = {
  /** Inbound rules per security group, per address family. */
  inboundRulesPerGroup: INBOUND_RULE_QUOTA,
} as const;

/** The security-group quota's value, for tests with a smaller one. */
export interface SecurityGroupQuotas {
  readonly inboundRulesPerGroup: number;
}

/** A security-group quota refusal: the group gets nothing written this pass, and why. */
export interface IngressQuotaRefusal {
  readonly groupId: string;
  /** The message, naming the quota. */
  readonly message: string;
}

type AddressFamily = 'IPv4' | 'IPv6';

/** The families whose quota a rule counts against: a group reference counts in both. */
function familiesOf(source: IngressSource): readonly AddressFamily[] {
  if (source.kind === 'group') return ['IPv4', 'IPv6'];
  const text = source.kind === 'cidr' ? source.cidr : source.id;
  // 'other' is an IPv6 range or a prefix list; a prefix list counts against IPv4 here (its max entries are
  // not read, so a group that uses one may be refused by AWS earlier than this check predicts).
  return text.includes(':') ? ['IPv6'] : ['IPv4'];
}

function familyCounts(rules: readonly { source: IngressSource }[]): Record<AddressFamily, number> {
  const counts: Record<AddressFamily, number> = { IPv4: 0, IPv6: 0 };
  for (const rule of rules) for (const family of familiesOf(rule.source)) counts[family] += 1;
  return counts;
}

/**
 * Checks an ingress plan against the inbound-rules quota, per group and per address family: existing
 * rules, plus the planned authorizations, minus the planned revocations. A group over the quota is refused
 * alone. As for targets, the quota is only enforced when the plan raises the count (a group already above
 * it, under a raised quota, never blocks a shrinking plan).
 */
export function checkIngressQuotas(
  input: {
    readonly groupIds: readonly string[];
    readonly observed: Readonly<Record<string, readonly ObservedIngressRule[]>>;
    readonly changes: readonly IngressChange[];
  },
  quotas: SecurityGroupQuotas = SECURITY_GROUP_QUOTAS,
): IngressQuotaRefusal[] {
  const refusals: IngressQuotaRefusal[] = [];
  for (const groupId of [...new Set(input.groupIds)].sort()) {
    const before = familyCounts(input.observed[groupId] ?? []);
    const ofGroup = input.changes.filter((c) => c.groupId === groupId);
    const added = familyCounts(ofGroup.filter((c) => c.kind === 'authorize').map((c) => c.rule));
    const removed = familyCounts(ofGroup.filter((c) => c.kind === 'revoke').map((c) => c.rule));
    for (const family of ['IPv4', 'IPv6'] as const) {
      const after = before[family] + added[family] - removed[family];
      if (after > quotas.inboundRulesPerGroup && after > before[family]) {
        refusals.push({
          groupId,
          message:
            `security group ${groupId}: the plan would hold ${after} ${family} inbound rules (${before[family]} now, ` +
            `+${added[family]} -${removed[family]}), over the quota of ${quotas.inboundRulesPerGroup} inbound rules ` +
            'per security group (IPv4 and IPv6 counted apart); nothing is written to the group',
        });
      }
    }
  }
  return refusals;
}

/**
 * Route 53's limits of one ChangeResourceRecordSets call (docs/safety.md, "Quotas"): ResourceRecord
 * elements and characters of Value elements, each counted twice for UPSERT.
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html
 */
export const RECORD_BATCH_QUOTAS: BatchLimits = {
  maxRecords: MAX_RECORDS_PER_BATCH,
  maxChars: MAX_CHARS_PER_BATCH,
};

/** A Route 53 quota refusal: the name's changes are not written this pass, and why. */
export interface RecordQuotaRefusal {
  /** The record name whose changes are refused. */
  readonly name: string;
  /** The message, naming the quota. */
  readonly message: string;
}

/**
 * Checks record changes against Route 53's batch limits. Changes of different names may go in separate
 * calls (lambdas/domain/dns-records.ts splitIntoBatches), but one name's changes, its records and its TXT
 * ownership marker, must go in one transaction: a name whose changes alone pass a limit is refused.
 */
export function checkRecordBatchQuotas(
  changes: readonly RecordChange[],
  limits: BatchLimits = RECORD_BATCH_QUOTAS,
): RecordQuotaRefusal[] {
  const byName = new Map<string, { records: number; chars: number }>();
  for (const change of changes) {
    const weight = changeWeight(change);
    const sum = byName.get(change.recordSet.name) ?? { records: 0, chars: 0 };
    byName.set(change.recordSet.name, {
      records: sum.records + weight.records,
      chars: sum.chars + weight.chars,
    });
  }
  const refusals: RecordQuotaRefusal[] = [];
  for (const [name, weight] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    const over: string[] = [];
    if (weight.records > limits.maxRecords) {
      over.push(
        `${weight.records} ResourceRecord elements, over the quota of ${limits.maxRecords} per ChangeResourceRecordSets call`,
      );
    }
    if (weight.chars > limits.maxChars) {
      over.push(
        `${weight.chars} characters of values, over the quota of ${limits.maxChars} per ChangeResourceRecordSets call`,
      );
    }
    if (over.length > 0) {
      refusals.push({
        name,
        message: `Route 53: the changes of ${name} weigh ${over.join(' and ')} (UPSERT counts twice; a name's records and its ownership marker go in one call); nothing is written to the name`,
      });
    }
  }
  return refusals;
}
