import type { Logger } from '@aws-lambda-powertools/logger';
import type { ClusterConfig, SyncConfig } from '../domain/config';
import {
  type DnsConflict,
  desireRecords,
  type PlannedRecordChange,
  planRecords,
  splitIntoBatches,
} from '../domain/dns-records';
import { MissingResourceError } from '../domain/errors';
import type { ChangeBatchResult, DnsPort, LoadBalancerInfo, LoadBalancerPort } from '../domain/network-ports';
import type { Node } from '../domain/node';

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
}

/** What a DNS pass planned and applied. */
export interface DnsSyncResult {
  readonly cluster: string;
  /** Set when the pass did nothing on purpose (no dns config), with the reason. */
  readonly skipped?: string;
  readonly dryRun: boolean;
  readonly hostedZoneId?: string;
  /** Every change with its reason. */
  readonly plan: readonly PlannedRecordChange[];
  /** The changes Route 53 accepted (empty in a dry run). */
  readonly applied: readonly PlannedRecordChange[];
  /** One entry per ChangeResourceRecordSets call made. */
  readonly batches: readonly ChangeBatchResult[];
  /** Managed names left alone because something else holds them; also logged as warnings. */
  readonly conflicts: readonly DnsConflict[];
  readonly warnings: readonly string[];
}

/**
 * Keeps a cluster's Route 53 records current: alias records to the NLB, the node A record set and
 * SRV records, each name marked by a TXT record written in the same batch. One ChangeResourceRecordSets
 * call per zone per pass, and only when something differs (more only when Route 53's batch limits force it).
 * @throws DnsPlanError, MissingResourceError, RecordChangeRejectedError
 * @example
 * const result = await syncDns({ config, cluster, nodes }, { dns, loadBalancers, logger });
 */
export async function syncDns(input: DnsSyncInput, deps: DnsSyncDeps): Promise<DnsSyncResult> {
  const { config, cluster, nodes } = input;
  const dryRun = input.dryRun ?? false;
  const settings = cluster.dns;
  if (settings === undefined) {
    return {
      cluster: cluster.name,
      skipped: 'no dns config',
      dryRun,
      plan: [],
      applied: [],
      batches: [],
      conflicts: [],
      warnings: [],
    };
  }
  const zone = await deps.dns.describeZone(settings.hostedZoneId);
  let loadBalancer: LoadBalancerInfo | undefined;
  if (settings.aliasNames.length > 0) {
    const arn = input.loadBalancerArn ?? cluster.loadBalancer.arn;
    if (arn === undefined) {
      throw new MissingResourceError(
        `cluster "${cluster.name}" names no load balancer for its alias records`,
      );
    }
    loadBalancer = await deps.loadBalancers.describeLoadBalancer(arn);
  }
  const desired = desireRecords({ cluster, zone, nodes, loadBalancer });
  const observed = await deps.dns.listRecordSets(zone.id);
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
  for (const change of plan.changes) {
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
    for (const batch of splitIntoBatches(plan.changes)) {
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
  return {
    cluster: cluster.name,
    dryRun,
    hostedZoneId: zone.id,
    plan: plan.changes,
    applied,
    batches,
    conflicts: plan.conflicts,
    warnings,
  };
}
