import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ClusterConfig, SyncConfig } from '../domain/config';
import { MissingResourceError, QuotaExceededError } from '../domain/errors';
import {
  type ConfiguredSourceMode,
  chooseNodeGroups,
  describeRule,
  desireIngress,
  type GroupRuleCount,
  type IngressChange,
  type IngressSourceMode,
  type LoadBalancerSourceFacts,
  nextSourceFact,
  nodeGroupCandidates,
  planIngress,
  type ResolvedIngressSource,
  resolveIngressSource,
} from '../domain/ingress-rules';
import { METRICS } from '../domain/metric-names';
import type {
  IngressRuleSpec,
  LoadBalancerPort,
  ObservedIngressRule,
  SecurityGroupPort,
} from '../domain/network-ports';
import type { Node } from '../domain/node';
import { checkIngressQuotas, SECURITY_GROUP_QUOTAS, type SecurityGroupQuotas } from '../domain/quotas';

/** What {@link syncSecurityGroups} works on. */
export interface SecurityGroupSyncInput {
  readonly config: SyncConfig;
  readonly cluster: ClusterConfig;
  /** The cluster's desired nodes; their primary interfaces name the node groups when none are configured. */
  readonly nodes: readonly Node[];
  /** Plan only; write nothing. */
  readonly dryRun?: boolean;
  /** The NLB when the config does not name it (the stack created it); else `cluster.loadBalancer.arn`. */
  readonly loadBalancerArn?: string;
}

/** The adapters {@link syncSecurityGroups} needs. */
export interface SecurityGroupSyncDeps {
  readonly securityGroups: SecurityGroupPort;
  readonly loadBalancers: LoadBalancerPort;
  readonly logger: Logger;
  /** Counts quota refusals (`QuotaRefusals`), on the pass's metrics object (its cluster dimension). */
  readonly metrics: Metrics;
  /** The inbound-rules quota; AWS's default unless a test gives a smaller one. */
  readonly quotas?: SecurityGroupQuotas;
}

/** What a security-group pass planned and applied. */
export interface SecurityGroupSyncResult {
  readonly cluster: string;
  /** Set when the pass did nothing on purpose (no config, disabled, no group to manage), with the reason. */
  readonly skipped?: string;
  readonly dryRun: boolean;
  /** The node groups managed. */
  readonly groupIds: readonly string[];
  /** Where NLB traffic and health checks are admitted from, and why. */
  readonly source?: {
    readonly mode: IngressSourceMode;
    readonly sources: readonly string[];
    readonly reason: string;
  };
  /** Every change, with its reason, in the order applied (without the refused ones). */
  readonly plan: readonly IngressChange[];
  /** Changes not written because their group would pass the inbound-rules quota, with the refusal. */
  readonly refused: readonly { readonly change: IngressChange; readonly refusedBecause: string }[];
  /** One line per quota refusal, naming the quota; also logged as errors. */
  readonly quotaRefusals: readonly string[];
  /** The changes applied (empty in a dry run). */
  readonly applied: readonly IngressChange[];
  /** Desired rules an unowned rule already satisfies; left to their owner. */
  readonly coveredByUnowned: readonly {
    readonly groupId: string;
    readonly rule: string;
    readonly by: string;
  }[];
  readonly counts: readonly GroupRuleCount[];
  /** Quota and client-IP warnings, also logged. */
  readonly warnings: readonly string[];
}

/**
 * The reads of a security-group pass that need only the config, sent as the pass starts (beside its
 * discovery): where the NLB's traffic comes from (DescribeLoadBalancers, then the NLB's interfaces or
 * VPC when the source mode needs them) and the inbound rules of configured node groups. Each read's
 * failure surfaces where {@link syncSecurityGroups} awaits it, in the order it always had.
 */
export interface SecurityGroupReads {
  readonly source: Promise<ResolvedIngressSource>;
  /** Rules of `securityGroups.groupIds`, by group (absent when the groups come from the nodes). */
  readonly configuredRules?: Promise<Record<string, ObservedIngressRule[]>>;
}

/**
 * Sends the reads of {@link SecurityGroupReads}; undefined when the cluster's step is off. A read that
 * fails before it is awaited is not an unhandled rejection: the pass may end before it awaits it.
 */
export function startSecurityGroupReads(
  input: Pick<SecurityGroupSyncInput, 'cluster' | 'loadBalancerArn'>,
  deps: Pick<SecurityGroupSyncDeps, 'securityGroups' | 'loadBalancers'>,
): SecurityGroupReads | undefined {
  const settings = input.cluster.securityGroups;
  if (settings === undefined || !settings.enabled) return undefined;
  const { cluster } = input;
  const arn = input.loadBalancerArn ?? cluster.loadBalancer.arn;
  const source =
    arn === undefined
      ? Promise.reject(
          new MissingResourceError(
            `cluster "${cluster.name}" names no load balancer; its ingress source is unknown`,
          ),
        )
      : resolveSource(arn, settings.source, deps.loadBalancers);
  const configured = configuredGroups(cluster);
  const configuredRules = configured.length > 0 ? readRules(configured, deps.securityGroups) : undefined;
  for (const read of [source, configuredRules]) read?.catch(() => undefined);
  return { source, ...(configuredRules !== undefined && { configuredRules }) };
}

/** Asks the NLB what the source mode needs, one fact after another, and resolves the source. */
async function resolveSource(
  arn: string,
  mode: ConfiguredSourceMode,
  port: LoadBalancerPort,
): Promise<ResolvedIngressSource> {
  const loadBalancer = await port.describeLoadBalancer(arn);
  let facts: LoadBalancerSourceFacts = { securityGroupIds: loadBalancer.securityGroupIds };
  for (let need = nextSourceFact(mode, facts); need !== undefined; need = nextSourceFact(mode, facts)) {
    facts =
      need === 'privateIps'
        ? { ...facts, privateIps: await port.describePrivateIps(loadBalancer) }
        : { ...facts, vpcCidrs: await port.describeVpcCidrs(loadBalancer.vpcId) };
  }
  return resolveIngressSource(mode, facts);
}

/** Every group's inbound rules, the groups read together. */
async function readRules(
  groupIds: readonly string[],
  port: SecurityGroupPort,
): Promise<Record<string, ObservedIngressRule[]>> {
  const rules = await Promise.all(groupIds.map((groupId) => port.describeIngressRules(groupId)));
  return Object.fromEntries(groupIds.map((groupId, i) => [groupId, rules[i] ?? []]));
}

function configuredGroups(cluster: ClusterConfig): string[] {
  return [...new Set(cluster.securityGroups?.groupIds ?? [])].sort();
}

/**
 * Makes the node security groups admit the NLB's traffic and health checks on exactly the cluster's
 * NodePorts (and clients on traffic ports where the client IP is preserved), revoking only rules this
 * deployment owns for this cluster. A group whose plan would pass the inbound-rules quota gets nothing
 * written (checked before any write); the other groups' changes are applied, then the pass fails.
 * @throws AmbiguousSecurityGroupError (also for a lone candidate group not tagged for the cluster),
 *   IngressSourceError, MissingResourceError, QuotaExceededError (after the other groups' writes; it
 *   carries the result), SecurityGroupRuleLimitError
 * @param reads - the reads {@link startSecurityGroupReads} sent as the pass started; sent here when absent
 * @example
 * const result = await syncSecurityGroups({ config, cluster, nodes }, { securityGroups, loadBalancers, logger });
 */
export async function syncSecurityGroups(
  input: SecurityGroupSyncInput,
  deps: SecurityGroupSyncDeps,
  reads?: SecurityGroupReads,
): Promise<SecurityGroupSyncResult> {
  const { config, cluster, nodes } = input;
  const dryRun = input.dryRun ?? false;
  const settings = cluster.securityGroups;
  const empty = (skipped: string, warnings: string[] = []): SecurityGroupSyncResult => ({
    cluster: cluster.name,
    skipped,
    dryRun,
    groupIds: [],
    plan: [],
    refused: [],
    quotaRefusals: [],
    applied: [],
    coveredByUnowned: [],
    counts: [],
    warnings,
  });
  if (settings === undefined) return empty('no securityGroups config');
  if (!settings.enabled) return empty('securityGroups.enabled is false');

  const groupIds = await nodeGroups(cluster, nodes, deps.securityGroups);
  if (groupIds.length === 0) {
    const warning = `cluster "${cluster.name}" has no desired node to find its security group from; rules left as they are`;
    deps.logger.warn(warning, { cluster: cluster.name });
    return empty('no node security group known', [warning]);
  }

  const started = reads ?? startSecurityGroupReads(input, deps);
  if (started === undefined) return empty('securityGroups.enabled is false');
  const source = await started.source;
  const desired = desireIngress({ ownerId: config.ownerId, cluster, source });
  // A raised account quota comes from the config; AWS's default otherwise.
  const quotas = deps.quotas ?? {
    inboundRulesPerGroup:
      cluster.securityGroups?.inboundRuleQuota ?? SECURITY_GROUP_QUOTAS.inboundRulesPerGroup,
  };
  const observed = await (started.configuredRules ?? readRules(groupIds, deps.securityGroups));
  const plan = planIngress({
    ownerId: config.ownerId,
    clusterName: cluster.name,
    groupIds,
    desired: desired.rules,
    observed,
    quota: quotas.inboundRulesPerGroup,
  });
  const warnings = [...desired.warnings];
  for (const warning of warnings) deps.logger.warn(warning, { cluster: cluster.name });
  // Quotas are checked on what would be written, before any write: a group over one gets nothing.
  const refusals = checkIngressQuotas({ groupIds, observed, changes: plan.changes }, quotas);
  const blocked = new Map<string, string>();
  for (const refusal of refusals) {
    deps.logger.error('Plan refused: it would pass a security group quota', {
      cluster: cluster.name,
      groupId: refusal.groupId,
      quota: refusal.message,
    });
    blocked.set(refusal.groupId, [blocked.get(refusal.groupId), refusal.message].filter(Boolean).join('; '));
  }
  if (refusals.length > 0) deps.metrics.addMetric(METRICS.quotaRefusals, MetricUnit.Count, refusals.length);
  const allowed = plan.changes.filter((change) => !blocked.has(change.groupId));
  const refused = plan.changes.flatMap((change) => {
    const because = blocked.get(change.groupId);
    return because === undefined ? [] : [{ change, refusedBecause: because }];
  });
  for (const change of allowed) {
    deps.logger.info('security group change planned', {
      cluster: cluster.name,
      groupId: change.groupId,
      change: change.kind,
      rule: describeRule(change.rule),
      reason: change.reason,
      dryRun,
    });
  }

  const applied = dryRun ? [] : await apply(allowed, deps.securityGroups);
  const result: SecurityGroupSyncResult = {
    cluster: cluster.name,
    dryRun,
    groupIds,
    source: {
      mode: source.mode,
      sources: source.sources.map((s) => (s.kind === 'cidr' ? s.cidr : s.groupId)),
      reason: source.reason,
    },
    plan: allowed,
    refused,
    quotaRefusals: refusals.map((r) => r.message),
    applied,
    coveredByUnowned: plan.coveredByUnowned.map((c) => ({
      groupId: c.groupId,
      rule: describeRule(c.rule),
      by: c.by,
    })),
    counts: plan.counts,
    warnings,
  };
  if (!dryRun && refusals.length > 0) {
    throw new QuotaExceededError(
      cluster.name,
      refusals.map((r) => r.message),
      result,
    );
  }
  return result;
}

async function nodeGroups(
  cluster: ClusterConfig,
  nodes: readonly Node[],
  port: SecurityGroupPort,
): Promise<string[]> {
  const configured = configuredGroups(cluster);
  if (configured.length > 0) return configured;
  const candidates = nodeGroupCandidates(nodes);
  if (candidates.length === 0) return candidates;
  // A lone candidate needs the cluster tag too (docs/security-groups.md): the deployed role may write only
  // to tagged groups, so an untagged one would fail with AccessDenied after the pass's first writes.
  return chooseNodeGroups(cluster.name, await port.describeGroups(candidates));
}

/**
 * Applies the changes, every group at once (one round trip for the common single run per group); within
 * a group in plan order, one call per run of same-kind changes. A failure fails the whole apply once
 * every group's writes have ended.
 */
async function apply(changes: readonly IngressChange[], port: SecurityGroupPort): Promise<IngressChange[]> {
  const groupIds = [...new Set(changes.map((c) => c.groupId))];
  const outcomes = await Promise.allSettled(
    groupIds.map((groupId) =>
      applyToGroup(
        changes.filter((c) => c.groupId === groupId),
        port,
      ),
    ),
  );
  return outcomes.flatMap((outcome) => {
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  });
}

/** Applies one group's changes in plan order, one call per run of same-kind changes. */
async function applyToGroup(
  changes: readonly IngressChange[],
  port: SecurityGroupPort,
): Promise<IngressChange[]> {
  const applied: IngressChange[] = [];
  let index = 0;
  while (index < changes.length) {
    const first = changes[index] as IngressChange;
    let end = index + 1;
    while (end < changes.length && changes[end]?.kind === first.kind) end += 1;
    const run = changes.slice(index, end);
    if (first.kind === 'authorize') {
      await port.authorizeIngress(
        first.groupId,
        run.map((c) => c.rule as IngressRuleSpec),
      );
    } else if (first.kind === 'revoke') {
      await port.revokeIngress(
        first.groupId,
        run.map((c) => c.rule as ObservedIngressRule),
      );
    } else {
      for (const change of run) {
        if (change.kind === 'update-description') {
          await port.updateIngressDescription(change.groupId, change.rule, change.description);
        }
      }
    }
    applied.push(...run);
    index = end;
  }
  return applied;
}
