import type { ClusterConfig } from './config';
import { trafficProtocols } from './ingress-rules';
import { compareIps } from './ip-addresses';
import { DnsPlanError } from './network-errors';
import type { HostedZoneInfo, LoadBalancerInfo, RecordChange, RecordSet } from './network-ports';
import type { Node } from './node';

/**
 * Route 53 records of a cluster: which record sets it wants (desire), what to change in the zone
 * (plan, restricted to names carrying our TXT marker) and how to cut the change into batches.
 * Pure; see docs/dns.md for the decisions.
 */

/** The heritage named in every ownership TXT record. */
export const RECORD_HERITAGE = 'nlb-nodeport-sync';
/** Route 53's limit of values in one record set. */
export const MAX_VALUES_PER_RECORD_SET = 400;
/** Route 53's limit of ResourceRecord elements in one ChangeResourceRecordSets call (UPSERT counts twice). */
export const MAX_RECORDS_PER_BATCH = 1000;
/** Route 53's limit of value characters in one ChangeResourceRecordSets call (UPSERT counts twice). */
export const MAX_CHARS_PER_BATCH = 32000;
/** The record types this product writes at a name it owns, besides the TXT marker. */
const DATA_TYPES = new Set(['A', 'AAAA', 'SRV']);

/**
 * The TXT value (with its quotes) that marks a name as owned by this deployment and cluster.
 * @example ownershipMarker('nlb-nodeport-sync', 'blue') // '"heritage=nlb-nodeport-sync,owner=nlb-nodeport-sync,cluster=blue"'
 */
export function ownershipMarker(ownerId: string, clusterName: string): string {
  return `"heritage=${RECORD_HERITAGE},owner=${ownerId},cluster=${clusterName}"`;
}

/** A DNS name as Route 53 returns it: lower case, with the trailing dot. */
export function normaliseRecordName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** The record sets a cluster wants, the names it manages, and what the desire noticed. */
export interface DesiredRecords {
  /** Every name the cluster manages, even one that has no record at the moment (no nodes). */
  readonly names: readonly string[];
  readonly recordSets: readonly RecordSet[];
  readonly warnings: readonly string[];
}

/**
 * The record sets a cluster wants: alias A (and AAAA when dualstack) to the NLB per alias name, an A
 * record set of the desired nodes' IPs (sorted, at most 400: the rest are left out and a warning says
 * so), and per port mapping an SRV record `_<mapping>._<tcp|udp>.<srvDomain>` -> `0 50 <nodePort> <nodeRecordName>`.
 * @throws DnsPlanError when a name is outside the zone, two records clash, or SRV records lack a target
 */
export function desireRecords(input: {
  readonly cluster: Pick<ClusterConfig, 'name' | 'dns' | 'portMappings'>;
  readonly zone: HostedZoneInfo;
  readonly nodes: readonly Pick<Node, 'privateIp'>[];
  readonly loadBalancer?: LoadBalancerInfo;
}): DesiredRecords {
  const { cluster, zone, loadBalancer } = input;
  const dns = cluster.dns;
  if (dns === undefined) return { names: [], recordSets: [], warnings: [] };
  const zoneName = normaliseRecordName(zone.name);
  const warnings: string[] = [];
  const names = new Set<string>();
  const sets = new Map<string, RecordSet>();
  const add = (set: RecordSet): void => {
    const name = set.name;
    if (name !== zoneName && !name.endsWith(`.${zoneName}`)) {
      throw new DnsPlanError(
        `record name ${name} of cluster "${cluster.name}" is not inside hosted zone ${zoneName}`,
      );
    }
    const key = `${name}|${set.type}`;
    if (sets.has(key))
      throw new DnsPlanError(`cluster "${cluster.name}" asks for two ${set.type} records at ${name}`);
    sets.set(key, set);
    names.add(name);
  };
  if (dns.aliasNames.length > 0) {
    if (loadBalancer === undefined) {
      throw new DnsPlanError(
        `dns.aliasNames of cluster "${cluster.name}" need the load balancer, and none is known`,
      );
    }
    const alias = {
      dnsName: normaliseRecordName(loadBalancer.dnsName),
      hostedZoneId: loadBalancer.canonicalHostedZoneId,
      evaluateTargetHealth: true,
    };
    for (const raw of dns.aliasNames) {
      const name = normaliseRecordName(raw);
      add({ name, type: 'A', values: [], alias });
      if (loadBalancer.dualstack) add({ name, type: 'AAAA', values: [], alias });
    }
  }
  if (dns.nodeRecordName !== undefined) {
    const name = normaliseRecordName(dns.nodeRecordName);
    const ips = [
      ...new Set(input.nodes.flatMap((node) => (node.privateIp === undefined ? [] : [node.privateIp]))),
    ].sort(compareIps);
    if (ips.length > MAX_VALUES_PER_RECORD_SET) {
      warnings.push(
        `${ips.length} node IPs for ${name}, more than the ${MAX_VALUES_PER_RECORD_SET} values a record set holds: ` +
          `published the first ${MAX_VALUES_PER_RECORD_SET} in address order, left out ${ips.slice(MAX_VALUES_PER_RECORD_SET).length}`,
      );
    }
    const values = ips.slice(0, MAX_VALUES_PER_RECORD_SET);
    if (values.length > 0) add({ name, type: 'A', ttl: dns.ttl, values });
    names.add(name);
  }
  if (dns.srvDomain !== undefined) {
    if (dns.nodeRecordName === undefined) {
      throw new DnsPlanError(
        `dns.srvDomain of cluster "${cluster.name}" needs dns.nodeRecordName: the SRV records point at that name`,
      );
    }
    const target = normaliseRecordName(dns.nodeRecordName);
    const domain = normaliseRecordName(dns.srvDomain);
    for (const mapping of cluster.portMappings) {
      for (const protocol of trafficProtocols(mapping)) {
        add({
          name: `_${mapping.name}._${protocol}.${domain}`,
          type: 'SRV',
          ttl: dns.ttl,
          values: [`0 50 ${mapping.nodePort} ${target}`],
        });
      }
    }
  }
  return { names: [...names].sort(), recordSets: [...sets.values()].sort(compareSets), warnings };
}

/** One change of the plan, with its reason. */
export interface PlannedRecordChange extends RecordChange {
  readonly reason: string;
}

/** A managed name this product leaves alone because something else holds it. */
export interface DnsConflict {
  readonly name: string;
  /** The record types found there. */
  readonly types: readonly string[];
  readonly reason: string;
}

/** The plan for one zone. */
export interface DnsPlan {
  /** Grouped by name (a name's records and its TXT marker side by side), names sorted. */
  readonly changes: readonly PlannedRecordChange[];
  readonly conflicts: readonly DnsConflict[];
  readonly warnings: readonly string[];
}

/**
 * Plans the changes that make the zone hold the desired records. A name is ours when its TXT set
 * holds our marker; a new name gets its records and the marker in the same batch (CREATE, so a race
 * with someone else fails instead of clobbering); a name that exists without our marker is left
 * alone and reported. Owned names no longer desired lose our records and their marker when listed as retired
 * (`dns.retiredNames`), else they stay, with a warning.
 */
export function planRecords(input: {
  readonly ownerId: string;
  readonly clusterName: string;
  readonly ttl: number;
  readonly desired: DesiredRecords;
  readonly observed: readonly RecordSet[];
  /** Owned names no longer desired that may be deleted (`dns.retiredNames`); others stay, with a warning. */
  readonly retiredNames?: readonly string[];
}): DnsPlan {
  const marker = ownershipMarker(input.ownerId, input.clusterName);
  const observedByName = new Map<string, RecordSet[]>();
  for (const set of input.observed) {
    const name = normaliseRecordName(set.name);
    observedByName.set(name, [...(observedByName.get(name) ?? []), { ...set, name }]);
  }
  const isOwned = (name: string): boolean =>
    (observedByName.get(name) ?? []).some(
      (set) => set.type === 'TXT' && set.setIdentifier === undefined && set.values.includes(marker),
    );
  const desiredByName = new Map<string, RecordSet[]>();
  for (const name of input.desired.names) desiredByName.set(normaliseRecordName(name), []);
  for (const set of input.desired.recordSets) {
    const name = normaliseRecordName(set.name);
    desiredByName.set(name, [...(desiredByName.get(name) ?? []), { ...set, name }]);
  }
  const changes: PlannedRecordChange[] = [];
  const conflicts: DnsConflict[] = [];
  const warnings: string[] = [];
  const simple = (set: RecordSet): boolean => set.setIdentifier === undefined;
  for (const name of [...desiredByName.keys()].sort()) {
    const wanted = (desiredByName.get(name) ?? []).sort(compareSets);
    const observed = observedByName.get(name) ?? [];
    if (isOwned(name)) {
      for (const set of wanted) {
        const current = observed.find((o) => simple(o) && o.type === set.type);
        if (current === undefined) {
          changes.push({ action: 'CREATE', recordSet: set, reason: `${set.type} ${name} is missing` });
        } else if (!sameRecordSet(current, set)) {
          changes.push({
            action: 'UPSERT',
            recordSet: set,
            reason: `${set.type} ${name} differs: ${difference(current, set)}`,
          });
        }
      }
      const wantedTypes = new Set(wanted.map((set) => set.type));
      for (const set of observed
        .filter((o) => simple(o) && DATA_TYPES.has(o.type) && !wantedTypes.has(o.type))
        .sort(compareSets)) {
        changes.push({ action: 'DELETE', recordSet: set, reason: `${set.type} ${name} is no longer wanted` });
      }
      continue;
    }
    if (observed.length === 0) {
      if (wanted.length === 0) continue;
      for (const set of wanted)
        changes.push({ action: 'CREATE', recordSet: set, reason: `${set.type} ${name} is new` });
      changes.push({
        action: 'CREATE',
        recordSet: { name, type: 'TXT', ttl: input.ttl, values: [marker] },
        reason: `ownership marker of ${name}`,
      });
      continue;
    }
    const types = [...new Set(observed.map((set) => set.type))].sort();
    const foreignMarker = observed
      .filter((set) => set.type === 'TXT')
      .flatMap((set) => set.values)
      .find((value) => value.startsWith(`"heritage=${RECORD_HERITAGE},`));
    conflicts.push({
      name,
      types,
      reason:
        foreignMarker !== undefined
          ? `${name} is marked by another deployment or cluster (${foreignMarker}); left alone`
          : `${name} exists (${types.join(', ')}) without our ownership marker; left alone`,
    });
  }
  const retired = new Set((input.retiredNames ?? []).map(normaliseRecordName));
  for (const name of [...observedByName.keys()].sort()) {
    if (desiredByName.has(name) || !isOwned(name)) continue;
    if (!retired.has(name)) {
      // The role may change only configured and retired names (docs/iam.md): a delete would be refused.
      warnings.push(
        `${name} holds our records but is no longer configured; left in place: list it in dns.retiredNames to have them removed`,
      );
      continue;
    }
    const observed = observedByName.get(name) ?? [];
    for (const set of observed.filter((o) => simple(o) && DATA_TYPES.has(o.type)).sort(compareSets)) {
      changes.push({ action: 'DELETE', recordSet: set, reason: `${name} is no longer configured` });
    }
    const txt = observed.find((o) => simple(o) && o.type === 'TXT');
    if (txt !== undefined && txt.values.length === 1) {
      changes.push({
        action: 'DELETE',
        recordSet: txt,
        reason: `ownership marker of ${name}, no longer configured`,
      });
    } else {
      warnings.push(`the TXT set at ${name} holds other values beside our marker; the marker stays`);
    }
  }
  return { changes, conflicts, warnings };
}

/** Limits of one change batch. */
export interface BatchLimits {
  readonly maxRecords: number;
  readonly maxChars: number;
}

/** What a change weighs against the batch limits (UPSERT counts twice, as Route 53 counts it). */
export function changeWeight(change: RecordChange): { records: number; chars: number } {
  const factor = change.action === 'UPSERT' ? 2 : 1;
  const set = change.recordSet;
  if (set.alias !== undefined) return { records: factor, chars: factor * set.alias.dnsName.length };
  return {
    records: factor * set.values.length,
    chars: factor * set.values.reduce((sum, value) => sum + value.length, 0),
  };
}

/**
 * Cuts changes into batches within Route 53's limits, never splitting one name's changes (its records
 * and its TXT marker stay in one transaction). Usually this yields one batch.
 * @throws DnsPlanError when one name alone passes the limits (cannot happen with 400-value sets)
 */
export function splitIntoBatches<T extends RecordChange>(
  changes: readonly T[],
  limits: BatchLimits = { maxRecords: MAX_RECORDS_PER_BATCH, maxChars: MAX_CHARS_PER_BATCH },
): T[][] {
  const groups: T[][] = [];
  for (const change of changes) {
    const last = groups.at(-1);
    if (last !== undefined && last[0]?.recordSet.name === change.recordSet.name) last.push(change);
    else groups.push([change]);
  }
  const batches: T[][] = [];
  let batch: T[] = [];
  let records = 0;
  let chars = 0;
  for (const group of groups) {
    const weight = group
      .map(changeWeight)
      .reduce((a, b) => ({ records: a.records + b.records, chars: a.chars + b.chars }), {
        records: 0,
        chars: 0,
      });
    if (weight.records > limits.maxRecords || weight.chars > limits.maxChars) {
      throw new DnsPlanError(`the changes of ${group[0]?.recordSet.name} alone pass Route 53's batch limits`);
    }
    if (records + weight.records > limits.maxRecords || chars + weight.chars > limits.maxChars) {
      batches.push(batch);
      batch = [];
      records = 0;
      chars = 0;
    }
    batch.push(...group);
    records += weight.records;
    chars += weight.chars;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Whether two record sets are the same for Route 53 (values compared as sets, alias names normalised). */
export function sameRecordSet(a: RecordSet, b: RecordSet): boolean {
  return difference(a, b) === '';
}

function difference(current: RecordSet, wanted: RecordSet): string {
  if ((current.alias === undefined) !== (wanted.alias === undefined)) {
    return wanted.alias === undefined
      ? 'is an alias, wanted plain values'
      : 'has plain values, wanted an alias';
  }
  if (current.alias !== undefined && wanted.alias !== undefined) {
    const parts: string[] = [];
    if (aliasName(current.alias.dnsName) !== aliasName(wanted.alias.dnsName)) {
      parts.push(`alias ${current.alias.dnsName} -> ${wanted.alias.dnsName}`);
    }
    if (current.alias.hostedZoneId !== wanted.alias.hostedZoneId) {
      parts.push(`zone ${current.alias.hostedZoneId} -> ${wanted.alias.hostedZoneId}`);
    }
    if (current.alias.evaluateTargetHealth !== wanted.alias.evaluateTargetHealth)
      parts.push('evaluate target health');
    return parts.join(', ');
  }
  const parts: string[] = [];
  if (current.ttl !== wanted.ttl) parts.push(`ttl ${current.ttl} -> ${wanted.ttl}`);
  const have = new Set(current.values.map(normaliseValue));
  const want = new Set(wanted.values.map(normaliseValue));
  const added = [...want].filter((v) => !have.has(v));
  const removed = [...have].filter((v) => !want.has(v));
  if (added.length > 0)
    parts.push(`+${added.length} (${added.slice(0, 5).join(' ')}${added.length > 5 ? ' ...' : ''})`);
  if (removed.length > 0)
    parts.push(`-${removed.length} (${removed.slice(0, 5).join(' ')}${removed.length > 5 ? ' ...' : ''})`);
  return parts.join(', ');
}

/** ELB alias names come back with or without `dualstack.` and the trailing dot; both mean the same. */
function aliasName(name: string): string {
  return normaliseRecordName(name).replace(/^dualstack\./, '');
}

function normaliseValue(value: string): string {
  return value.trim().toLowerCase();
}

function compareSets(a: RecordSet, b: RecordSet): number {
  const ka = `${a.name}|${a.type}`;
  const kb = `${b.name}|${b.type}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
