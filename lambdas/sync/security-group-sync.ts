import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ClusterConfig, SyncConfig } from '../domain/config';
import { MissingResourceError, QuotaExceededError } from '../domain/errors';
import {
  CLUSTER_TAG_KEY,
  type ConfiguredSourceMode,
  chooseNodeGroups,
  describeRule,
  desireIngress,
  type GroupRuleCount,
  type IngressChange,
  type IngressSourceMode,
  isTaggedForCluster,
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
  SecurityGroupInfo,
  SecurityGroupPort,
  SecurityGroupSearchPort,
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
  readonly securityGroups: SecurityGroupSearchPort;
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
 * VPC when the source mode needs them) and the inbound rules of configured node groups, or, when the
 * groups come from the nodes, the groups tagged for the cluster and their rules. Each read's failure
 * surfaces where {@link syncSecurityGroups} awaits it, in the order it always had.
 */
export interface SecurityGroupReads {
  readonly source: Promise<ResolvedIngressSource>;
  /** Rules of `securityGroups.groupIds`, by group (absent when the groups come from the nodes). */
  readonly configuredRules?: Promise<Record<string, ObservedIngressRule[]>>;
  /** When the groups come from the nodes (no `securityGroups.groupIds`): the tag search and its rules. */
  readonly tagged?: TaggedGroupReads;
}

/**
 * The groups tagged for the cluster, searched before the nodes are known, and the rules of those whose tag
 * marks them as the cluster's, read as soon as the search answers: the group {@link chooseNodeGroups}
 * picks among the nodes' groups is one of them, so its rules are in hand when the nodes are judged.
 */
export interface TaggedGroupReads {
  /** Every group carrying `nlb-nodeport-sync/cluster` or `kubernetes.io/cluster/<name>`, any value. */
  readonly groups: Promise<SecurityGroupInfo[]>;
  /** Rules of the groups tagged for this cluster, by group; rejects when the search or the read failed. */
  readonly rules: Promise<Record<string, ObservedIngressRule[]>>;
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
  const tagged = configured.length > 0 ? undefined : searchTagged(cluster.name, deps.securityGroups);
  for (const read of [source, configuredRules, tagged?.groups, tagged?.rules]) read?.catch(() => undefined);
  return {
    source,
    ...(configuredRules !== undefined && { configuredRules }),
    ...(tagged !== undefined && { tagged }),
  };
}

function kubernetesClusterTag(clusterName: string): string {
  return `kubernetes.io/cluster/${clusterName}`;
}

/** The tag keys that may mark a group as the cluster's (docs/security-groups.md). */
function clusterTagKeys(clusterName: string): string[] {
  return [CLUSTER_TAG_KEY, kubernetesClusterTag(clusterName)];
}

/**
 * One DescribeSecurityGroups for the groups carrying either cluster tag key (one `tag-key` filter; the values
 * are checked here, since `nlb-nodeport-sync/cluster` is shared by every cluster), then, as soon as it
 * answers, one DescribeSecurityGroupRules for those tagged for this cluster. A group tagged for the cluster
 * that no node carries has its rules read for nothing, in the same call: no call more.
 */
function searchTagged(clusterName: string, port: SecurityGroupSearchPort): TaggedGroupReads {
  const groups = port.describeGroupsWithTagKeys(clusterTagKeys(clusterName));
  const rules = groups.then((found) => {
    const ids = found.filter((group) => isTaggedForCluster(clusterName, group)).map((g) => g.groupId);
    return ids.length === 0 ? {} : port.describeIngressRulesOf(ids);
  });
  return { groups, rules };
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

  const configured = configuredGroups(cluster);
  const candidates = configured.length > 0 ? configured : nodeGroupCandidates(nodes);
  if (candidates.length === 0) {
    const warning = `cluster "${cluster.name}" has no desired node to find its security group from; rules left as they are`;
    deps.logger.warn(warning, { cluster: cluster.name });
    return empty('no node security group known', [warning]);
  }

  const started = reads ?? startSecurityGroupReads(input, deps);
  if (started === undefined) return empty('securityGroups.enabled is false');
  const groupIds =
    configured.length > 0 ? configured : await chooseFromSearch(cluster.name, candidates, started, deps);
  const source = await started.source;
  const desired = desireIngress({ ownerId: config.ownerId, cluster, source });
  // A raised account quota comes from the config; AWS's default otherwise.
  const quotas = deps.quotas ?? {
    inboundRulesPerGroup:
      cluster.securityGroups?.inboundRuleQuota ?? SECURITY_GROUP_QUOTAS.inboundRulesPerGroup,
  };
  const observed = await observedRules(groupIds, started, deps.securityGroups);
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

/**
 * Chooses among the nodes' groups (the candidates) from the tag search: a candidate it did not return
 * carries neither cluster tag key. A lone candidate needs the cluster tag too (docs/security-groups.md): the
 * deployed role may write only to tagged groups, so an untagged one would fail with AccessDenied after the
 * pass's first writes.
 */
async function chooseFromSearch(
  clusterName: string,
  candidates: readonly string[],
  reads: SecurityGroupReads,
  deps: Pick<SecurityGroupSyncDeps, 'securityGroups'>,
): Promise<string[]> {
  // Reads started for the cluster hold the search; any others (a caller's own) are searched now.
  const search =
    reads.tagged?.groups ?? deps.securityGroups.describeGroupsWithTagKeys(clusterTagKeys(clusterName));
  const found = new Map((await search).map((group) => [group.groupId, group]));
  return chooseNodeGroups(
    clusterName,
    candidates.map((groupId) => found.get(groupId) ?? { groupId, tags: {} }),
  );
}

/**
 * The managed groups' inbound rules: the configured groups' read, else the read sent after the tag search
 * when it holds every chosen group; else (it failed, or the choice fell outside it) read now, so a failure
 * is the chosen groups' own read failing, as it always was.
 */
async function observedRules(
  groupIds: readonly string[],
  reads: SecurityGroupReads,
  port: SecurityGroupSearchPort,
): Promise<Record<string, ObservedIngressRule[]>> {
  if (reads.configuredRules !== undefined) return reads.configuredRules;
  const ahead = await reads.tagged?.rules.catch(() => undefined);
  if (ahead !== undefined && groupIds.every((id) => ahead[id] !== undefined)) {
    return Object.fromEntries(groupIds.map((id) => [id, ahead[id] ?? []]));
  }
  return readRules(groupIds, port);
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
