import {
  type Change,
  ChangeResourceRecordSetsCommand,
  GetHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandOutput,
  type ResourceRecordSet,
  type Route53Client,
  type RRType,
} from '@aws-sdk/client-route-53';
import { normaliseRecordName } from '../domain/dns-records';
import { MissingResourceError } from '../domain/errors';
import { RecordChangeRejectedError } from '../domain/network-errors';
import type {
  ChangeBatchResult,
  DnsPort,
  HostedZoneInfo,
  RecordChange,
  RecordSet,
} from '../domain/network-ports';
import { route53Client } from './clients';

const ZONE_NOT_FOUND = new Set(['NoSuchHostedZone']);
const REJECTED = new Set(['InvalidChangeBatch']);

/**
 * Route 53 adapter. `Throttling` and `PriorRequestNotComplete` are retried by the SDK itself: both
 * are in its throttling error classification, so the client's adaptive retry mode backs off on them.
 * @example
 * const sets = await new Route53Adapter().listRecordSets('Z123');
 */
export class Route53Adapter implements DnsPort {
  /** @param client defaults to the process-wide client; tests inject their own. */
  public constructor(private readonly client: Route53Client = route53Client()) {}

  /** Describes the zone; raises MissingResourceError when it does not exist. */
  public async describeZone(hostedZoneId: string): Promise<HostedZoneInfo> {
    const output = await this.guard(hostedZoneId, () =>
      this.client.send(new GetHostedZoneCommand({ Id: hostedZoneId })),
    );
    return {
      id: bareZoneId(output.HostedZone?.Id ?? hostedZoneId),
      name: normaliseRecordName(decodeName(output.HostedZone?.Name ?? '')),
    };
  }

  /** Every record set of the zone, all pages. */
  public async listRecordSets(hostedZoneId: string): Promise<RecordSet[]> {
    const sets: RecordSet[] = [];
    let start: { name?: string; type?: RRType; identifier?: string } = {};
    // The SDK has no paginator for this operation: its cursor is the (name, type, identifier) triple.
    for (;;) {
      const page: ListResourceRecordSetsCommandOutput = await this.guard(hostedZoneId, () =>
        this.client.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: hostedZoneId,
            StartRecordName: start.name,
            StartRecordType: start.type,
            StartRecordIdentifier: start.identifier,
          }),
        ),
      );
      for (const set of page.ResourceRecordSets ?? []) sets.push(toRecordSet(set));
      if (page.IsTruncated !== true) return sets;
      start = { name: page.NextRecordName, type: page.NextRecordType, identifier: page.NextRecordIdentifier };
    }
  }

  /** Sends one change batch; Route 53 applies all of it or none. */
  public async changeRecordSets(
    hostedZoneId: string,
    changes: readonly RecordChange[],
    comment: string,
  ): Promise<ChangeBatchResult> {
    try {
      const output = await this.guard(hostedZoneId, () =>
        this.client.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: hostedZoneId,
            ChangeBatch: { Comment: comment.slice(0, 256), Changes: changes.map(toChange) },
          }),
        ),
      );
      return { changeId: output.ChangeInfo?.Id ?? '', status: output.ChangeInfo?.Status ?? 'PENDING' };
    } catch (error) {
      if (REJECTED.has((error as Error).name)) {
        const messages = (error as { messages?: unknown }).messages;
        const reasons =
          Array.isArray(messages) && messages.length > 0 ? messages.map(String) : [(error as Error).message];
        throw new RecordChangeRejectedError(hostedZoneId, reasons);
      }
      throw error;
    }
  }

  private async guard<T>(hostedZoneId: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (ZONE_NOT_FOUND.has((error as Error).name)) {
        throw new MissingResourceError(`hosted zone ${hostedZoneId} does not exist`);
      }
      throw error;
    }
  }
}

/** The change as Route 53 takes it. */
export function toChange(change: RecordChange): Change {
  const set = change.recordSet;
  const base = { Name: set.name, Type: set.type as RRType, SetIdentifier: set.setIdentifier };
  const recordSet: ResourceRecordSet =
    set.alias !== undefined
      ? {
          ...base,
          AliasTarget: {
            DNSName: set.alias.dnsName,
            HostedZoneId: set.alias.hostedZoneId,
            EvaluateTargetHealth: set.alias.evaluateTargetHealth,
          },
        }
      : { ...base, TTL: set.ttl, ResourceRecords: set.values.map((Value) => ({ Value })) };
  return { Action: change.action, ResourceRecordSet: recordSet };
}

function toRecordSet(set: ResourceRecordSet): RecordSet {
  const values = (set.ResourceRecords ?? [])
    .flatMap((record) => (record.Value === undefined ? [] : [record.Value]))
    .sort();
  return {
    name: normaliseRecordName(decodeName(set.Name ?? '')),
    type: set.Type ?? '',
    ...(set.TTL === undefined ? {} : { ttl: set.TTL }),
    values,
    ...(set.AliasTarget === undefined
      ? {}
      : {
          alias: {
            dnsName: set.AliasTarget.DNSName ?? '',
            hostedZoneId: set.AliasTarget.HostedZoneId ?? '',
            evaluateTargetHealth: set.AliasTarget.EvaluateTargetHealth ?? false,
          },
        }),
    ...(set.SetIdentifier === undefined ? {} : { setIdentifier: set.SetIdentifier }),
  };
}

/** Route 53 returns some characters as octal escapes (`*` is `\052`); names are compared decoded. */
export function decodeName(name: string): string {
  return name.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** `/hostedzone/Z123` -> `Z123`. */
function bareZoneId(id: string): string {
  return id.replace(/^\/?hostedzone\//, '');
}
