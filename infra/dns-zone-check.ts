import type { SyncConfig } from '../lambdas/domain/config';
import { normaliseRecordName } from '../lambdas/domain/dns-records';

/** The warning id of {@link checkRecordNamesAgainstZones}' warning (acknowledgeable with `Annotations`). */
export const ZONE_NAME_UNKNOWN_WARNING = 'nlb-nodeport-sync:dns-zone-name-unknown';

/** What the synth-time check of record names found. */
export interface ZoneNameCheck {
  /** Names outside the zone whose name another cluster's `dns.zoneName` gives: synth must stop. */
  readonly errors: readonly string[];
  /** Clusters whose names cannot be checked (no zone name known at synth), one message each. */
  readonly warnings: readonly string[];
}

function inside(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/**
 * Checks at synth the record names of every cluster against its hosted zone's name. The config's own
 * `dns.zoneName` is checked at load (lambdas/domain/config.ts). Without it, the synth knows the zone's id only
 * (the stack makes no lookups: no credentials at synth), unless another cluster of the config names the same
 * zone: then that name applies, and a name outside it is an error. Otherwise the names cannot be checked
 * before the first pass, which would refuse the records (DnsPlanError) after its target writes: a warning
 * names the records and says to set `dns.zoneName`.
 */
export function checkRecordNamesAgainstZones(config: SyncConfig): ZoneNameCheck {
  const zoneNames = new Map<string, string>();
  for (const cluster of config.clusters) {
    const dns = cluster.dns;
    if (dns?.zoneName !== undefined) zoneNames.set(dns.hostedZoneId, normaliseRecordName(dns.zoneName));
  }
  const errors: string[] = [];
  const warnings: string[] = [];
  config.clusters.forEach((cluster, index) => {
    const dns = cluster.dns;
    if (dns === undefined || dns.zoneName !== undefined) return;
    const fields: [string, string][] = [
      ...dns.aliasNames.map((name, i): [string, string] => [`aliasNames.${i}`, name]),
      ...(dns.nodeRecordName === undefined
        ? []
        : [['nodeRecordName', dns.nodeRecordName] as [string, string]]),
      ...(dns.srvDomain === undefined ? [] : [['srvDomain', dns.srvDomain] as [string, string]]),
      ...dns.retiredNames.map((name, i): [string, string] => [`retiredNames.${i}`, name]),
    ];
    if (fields.length === 0) return;
    const zone = zoneNames.get(dns.hostedZoneId);
    if (zone === undefined) {
      warnings.push(
        `clusters.${index}.dns (cluster "${cluster.name}"): the name of hosted zone ${dns.hostedZoneId} is unknown at synth, ` +
          `so ${fields.map(([, name]) => normaliseRecordName(name)).join(', ')} cannot be checked against it; ` +
          'a name outside the zone is refused only at run time, after the pass has written its targets. ' +
          `Set clusters.${index}.dns.zoneName to the zone's name to check them at synth.`,
      );
      return;
    }
    for (const [field, name] of fields) {
      if (!inside(normaliseRecordName(name), zone)) {
        errors.push(
          `clusters.${index}.dns.${field}: "${name}" is not inside the hosted zone ${zone} ` +
            `(the dns.zoneName another cluster gives for ${dns.hostedZoneId})`,
        );
      }
    }
  });
  return { errors, warnings };
}
