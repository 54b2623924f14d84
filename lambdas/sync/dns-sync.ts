import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ClusterConfig, SyncConfig } from '../domain/config';
import {
  type BatchLimits,
  type DnsConflict,
  desireRecords,
  type PlannedRecordChange,
  planRecords,
  splitIntoBatches,
} from '../domain/dns-records';
import { MissingResourceError, QuotaExceededError } from '../domain/errors';
import { METRICS } from '../domain/metric-names';
import type {
  ChangeBatchResult,
  DnsPort,
  HostedZoneInfo,
  LoadBalancerInfo,
  LoadBalancerPort,
  RecordSet,
} from '../domain/network-ports';
import type { Node } from '../domain/node';
import { checkRecordBatchQuotas, RECORD_BATCH_QUOTAS } from '../domain/quotas';

/** What {@link syncDns} works on. */
export interface DnsSyncInput {
  readonly config: SyncConfig;
  readonly cluster: ClusterConfig;
  /** The cluster's desired nodes; their private IPs make the node A record set. */
  readonly nodes: readonly Node[];
  /** Plan only; write nothing. */
  readonly dryRun?: boolean;
  /** The NLB when the config does not name it (the stack created it); else `cluster.loadBalancer.arn`. */
  readonly loadBalancerArn?: string;
}

/** The adapters {@link syncDns} needs. */
export interface DnsSyncDeps {
  readonly dns: DnsPort;
  readonly loadBalancers: LoadBalancerPort;
  readonly logger: Logger;
  /** Counts quota refusals (`QuotaRefusals`), on the pass's metrics object (its cluster dimension). */
  readonly metrics: Metrics;
  /** Route 53's batch limits; AWS's unless a test gives smaller ones. */
  readonly batchLimits?: BatchLimits;
}

/** What a DNS pass planned and applied. */
export interface DnsSyncResult {
  readonly cluster: string;
  /** Set when the pass did nothing on purpose (no dns config), with the reason. */
  readonly skipped?: string;
  readonly dryRun: boolean;
  readonly hostedZoneId?: string;
  /** Every change with its reason (without the refused ones). */
  readonly plan: readonly PlannedRecordChange[];
  /** Changes not written because their name's changes pass Route 53's batch limits, with the refusal. */
  readonly refused: readonly { readonly change: PlannedRecordChange; readonly refusedBecause: string }[];
  /** One line per quota refusal, naming the quota; also logged as errors. */
  readonly quotaRefusals: readonly string[];
  /** The changes Route 53 accepted (empty in a dry run). */
  readonly applied: readonly PlannedRecordChange[];
  /** One entry per ChangeResourceRecordSets call made. */
  readonly batches: readonly ChangeBatchResult[];
  /** Managed names left alone because something else holds them; also logged as warnings. */
  readonly conflicts: readonly DnsConflict[];
  readonly warnings: readonly string[];
}

/**
 * The reads of a DNS pass that need only the config, sent together as the pass starts (beside its
 * discovery): the zone, the NLB (for alias records) and the zone's record sets. Each read's failure
 * surfaces where {@link syncDns} awaits it, in the order it always had (zone, NLB, records).
 */
export interface DnsReads {
  readonly zone: Promise<HostedZoneInfo>;
  readonly loadBalancer: Promise<LoadBalancerInfo | undefined>;
  readonly observed: Promise<RecordSet[]>;
}

/**
 * Sends the reads of {@link DnsReads}; undefined for a cluster without a dns section. A read that fails
 * before it is awaited is not an unhandled rejection: the pass may end before it awaits it.
 */
export function startDnsReads(
  input: Pick<DnsSyncInput, 'cluster' | 'loadBalancerArn'>,
  deps: Pick<DnsSyncDeps, 'dns' | 'loadBalancers'>,
): DnsReads | undefined {
  const settings = input.cluster.dns;
  return settings === undefined ? undefined : startReads(input, settings, deps);
}

function startReads(
  input: Pick<DnsSyncInput, 'cluster' | 'loadBalancerArn'>,
  settings: NonNullable<ClusterConfig['dns']>,
  deps: Pick<DnsSyncDeps, 'dns' | 'loadBalancers'>,
): DnsReads {
  const { cluster } = input;
  const arn = input.loadBalancerArn ?? cluster.loadBalancer.arn;
  const zone = deps.dns.describeZone(settings.hostedZoneId);
  const loadBalancer: Promise<LoadBalancerInfo | undefined> =
    settings.aliasNames.length === 0
      ? Promise.resolve(undefined)
      : arn === undefined
        ? Promise.reject(
            new MissingResourceError(
              `cluster "${cluster.name}" names no load balancer for its alias records`,
            ),
          )
        : deps.loadBalancers.describeLoadBalancer(arn);
  // The configured id is the bare zone id (the schema admits no other), so the list need not wait for
  // GetHostedZone.
  const observed = deps.dns.listRecordSets(settings.hostedZoneId);
  for (const read of [zone, loadBalancer, observed]) read.catch(() => undefined);
  return { zone, loadBalancer, observed };
}

/**
 * Keeps a cluster's Route 53 records current: alias records to the NLB, the node A record set and
 * SRV records, each name marked by a TXT record written in the same batch. One ChangeResourceRecordSets
 * call per zone per pass, and only when something differs (more only when Route 53's batch limits force it).
 * A name whose changes alone pass those limits gets nothing written (checked before any write); the other
 * names' changes are applied, then the pass fails.
 * @throws DnsPlanError, MissingResourceError, QuotaExceededError (after the other names' writes; it carries
 *   the result), RecordChangeRejectedError
 * @param reads - the reads {@link startDnsReads} sent as the pass started; sent here when absent
 * @example
 * const result = await syncDns({ config, cluster, nodes }, { dns, loadBalancers, logger });
 */
export async function syncDns(
  input: DnsSyncInput,
  deps: DnsSyncDeps,
  reads?: DnsReads,
): Promise<DnsSyncResult> {
  const { config, cluster, nodes } = input;
  const dryRun = input.dryRun ?? false;
  const settings = cluster.dns;
  if (settings === undefined) {
    return {
      cluster: cluster.name,
      skipped: 'no dns config',
      dryRun,
      plan: [],
      refused: [],
      quotaRefusals: [],
      applied: [],
      batches: [],
      conflicts: [],
      warnings: [],
    };
  }
  const started = reads ?? startReads(input, settings, deps);
  const zone = await started.zone;
  const loadBalancer = await started.loadBalancer;
  const desired = desireRecords({ cluster, zone, nodes, loadBalancer });
  const observed = await started.observed;
  const plan = planRecords({
    ownerId: config.ownerId,
    clusterName: cluster.name,
    ttl: settings.ttl,
    desired,
    observed,
    retiredNames: settings.retiredNames,
  });
  const warnings = [...desired.warnings, ...plan.warnings, ...plan.conflicts.map((c) => c.reason)];
  for (const warning of warnings) deps.logger.warn(warning, { cluster: cluster.name, hostedZoneId: zone.id });
  // Quotas are checked on what would be written, before any write: a name over one gets nothing.
  const limits = deps.batchLimits ?? RECORD_BATCH_QUOTAS;
  const refusals = checkRecordBatchQuotas(plan.changes, limits);
  for (const refusal of refusals) {
    deps.logger.error('Plan refused: it would pass a Route 53 quota', {
      cluster: cluster.name,
      hostedZoneId: zone.id,
      name: refusal.name,
      quota: refusal.message,
    });
  }
  if (refusals.length > 0) deps.metrics.addMetric(METRICS.quotaRefusals, MetricUnit.Count, refusals.length);
  const blocked = new Map(refusals.map((r) => [r.name, r.message] as const));
  const allowed = plan.changes.filter((change) => !blocked.has(change.recordSet.name));
  const refused = plan.changes.flatMap((change) => {
    const because = blocked.get(change.recordSet.name);
    return because === undefined ? [] : [{ change, refusedBecause: because }];
  });
  for (const change of allowed) {
    deps.logger.info('record change planned', {
      cluster: cluster.name,
      hostedZoneId: zone.id,
      action: change.action,
      name: change.recordSet.name,
      type: change.recordSet.type,
      reason: change.reason,
      dryRun,
    });
  }
  const applied: PlannedRecordChange[] = [];
  const batches: ChangeBatchResult[] = [];
  if (!dryRun) {
    for (const batch of splitIntoBatches(allowed, limits)) {
      batches.push(
        await deps.dns.changeRecordSets(
          zone.id,
          batch,
          `nlb-nodeport-sync ${config.ownerId}/${cluster.name}`,
        ),
      );
      applied.push(...batch);
    }
  }
  const result: DnsSyncResult = {
    cluster: cluster.name,
    dryRun,
    hostedZoneId: zone.id,
    plan: allowed,
    refused,
    quotaRefusals: refusals.map((r) => r.message),
    applied,
    batches,
    conflicts: plan.conflicts,
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
