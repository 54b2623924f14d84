import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type IpPermission,
  ModifySecurityGroupRulesCommand,
  paginateDescribeSecurityGroupRules,
  paginateDescribeSecurityGroups,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { MissingResourceError } from '../domain/errors';
import { SecurityGroupRuleLimitError } from '../domain/network-errors';
import type {
  IngressRuleSpec,
  IngressSource,
  IngressWriteResult,
  ObservedIngressRule,
  SecurityGroupInfo,
  SecurityGroupSearchPort,
} from '../domain/network-ports';
import { ec2Client } from './clients';

/** Authorizing a rule that exists: the wanted state holds already. */
const DUPLICATE = new Set(['InvalidPermission.Duplicate']);
/** Revoking a rule that is gone: the wanted state holds already. */
const NOT_FOUND = new Set(['InvalidPermission.NotFound', 'InvalidSecurityGroupRuleId.NotFound']);
const GROUP_NOT_FOUND = new Set([
  'InvalidGroup.NotFound',
  'InvalidGroupId.NotFound',
  'InvalidGroupId.Malformed',
]);
const LIMIT = new Set(['RulesPerSecurityGroupLimitExceeded']);
/** Values of one `group-id` filter per request: EC2 caps the values of a filter (200 is the cap it documents for its describes). */
const GROUP_IDS_PER_FILTER = 200;

/**
 * EC2 adapter for node security groups.
 *
 * Rules are revoked by `SecurityGroupRuleIds` (observed through DescribeSecurityGroupRules), never by
 * re-stating their permissions: the id names exactly the rule observed, whatever its description.
 * @example
 * await new SecurityGroupAdapter().authorizeIngress('sg-1', [rule]);
 */
export class SecurityGroupAdapter implements SecurityGroupSearchPort {
  /** @param client defaults to the process-wide client; tests inject their own. */
  public constructor(private readonly client: EC2Client = ec2Client()) {}

  /** Describes the groups with their tags; raises MissingResourceError when one does not exist. */
  public async describeGroups(groupIds: readonly string[]): Promise<SecurityGroupInfo[]> {
    if (groupIds.length === 0) return [];
    // GroupIds and MaxResults cannot be combined, so no paginator: a list of ids is answered in one page.
    const output = await this.guard(groupIds.join(', '), () =>
      this.client.send(new DescribeSecurityGroupsCommand({ GroupIds: [...groupIds] })),
    );
    return (output.SecurityGroups ?? []).map(toGroupInfo);
  }

  /**
   * Every group carrying one of the tag keys, with its tags: one DescribeSecurityGroups whose `tag-key`
   * filter names them all (EC2 ORs a filter's values), every page. Values are the caller's to check.
   */
  public async describeGroupsWithTagKeys(tagKeys: readonly string[]): Promise<SecurityGroupInfo[]> {
    if (tagKeys.length === 0) return [];
    const groups: SecurityGroupInfo[] = [];
    await this.guard(`tagged ${tagKeys.join(' or ')}`, async () => {
      for await (const page of paginateDescribeSecurityGroups(
        { client: this.client },
        { Filters: [{ Name: 'tag-key', Values: [...tagKeys] }] },
      )) {
        groups.push(...(page.SecurityGroups ?? []).map(toGroupInfo));
      }
    });
    return groups;
  }

  /**
   * The inbound rules of the groups, by group: one DescribeSecurityGroupRules whose `group-id` filter names
   * them all (up to 200 a request), every page. A group without inbound rules maps to an empty list.
   */
  public async describeIngressRulesOf(
    groupIds: readonly string[],
  ): Promise<Record<string, ObservedIngressRule[]>> {
    const ids = [...new Set(groupIds)];
    const byGroup: Record<string, ObservedIngressRule[]> = Object.fromEntries(ids.map((id) => [id, []]));
    const chunks = Array.from({ length: Math.ceil(ids.length / GROUP_IDS_PER_FILTER) }, (_, i) =>
      ids.slice(i * GROUP_IDS_PER_FILTER, (i + 1) * GROUP_IDS_PER_FILTER),
    );
    await Promise.all(
      chunks.map((chunk) =>
        this.guard(chunk.join(', '), async () => {
          for await (const page of paginateDescribeSecurityGroupRules(
            { client: this.client },
            { Filters: [{ Name: 'group-id', Values: chunk }] },
          )) {
            for (const rule of page.SecurityGroupRules ?? []) {
              const rules = byGroup[rule.GroupId ?? ''];
              if (rule.IsEgress === true || rules === undefined) continue;
              rules.push(toObservedRule(rule.GroupId ?? '', rule));
            }
          }
        }),
      ),
    );
    return byGroup;
  }

  /** Every inbound rule of the group, one per source, with its rule id and description. */
  public async describeIngressRules(groupId: string): Promise<ObservedIngressRule[]> {
    const rules: ObservedIngressRule[] = [];
    await this.guard(groupId, async () => {
      for await (const page of paginateDescribeSecurityGroupRules(
        { client: this.client },
        { Filters: [{ Name: 'group-id', Values: [groupId] }] },
      )) {
        for (const rule of page.SecurityGroupRules ?? []) {
          if (rule.IsEgress === true || rule.GroupId !== groupId) continue;
          rules.push(toObservedRule(groupId, rule));
        }
      }
    });
    return rules;
  }

  /**
   * Authorizes the rules in one call; when AWS calls one a duplicate (which fails the whole call),
   * each rule is sent alone so the others still land and duplicates count as done.
   */
  public async authorizeIngress(
    groupId: string,
    rules: readonly IngressRuleSpec[],
  ): Promise<IngressWriteResult> {
    if (rules.length === 0) return { done: 0, alreadyDone: 0 };
    const send = (batch: readonly IngressRuleSpec[]) =>
      this.guard(groupId, () =>
        this.client.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: groupId,
            IpPermissions: batch.map(toPermission),
          }),
        ),
      );
    return this.oneByOneOn(DUPLICATE, rules, send);
  }

  /** Revokes the observed rules by id; rules already gone count as done. */
  public async revokeIngress(
    groupId: string,
    rules: readonly ObservedIngressRule[],
  ): Promise<IngressWriteResult> {
    if (rules.length === 0) return { done: 0, alreadyDone: 0 };
    const send = (batch: readonly ObservedIngressRule[]) =>
      this.guard(groupId, () =>
        this.client.send(
          new RevokeSecurityGroupIngressCommand({
            GroupId: groupId,
            SecurityGroupRuleIds: batch.map((rule) => rule.ruleId),
          }),
        ),
      );
    return this.oneByOneOn(NOT_FOUND, rules, send);
  }

  /** Rewrites an owned rule's description, keeping protocol, ports and source (ModifySecurityGroupRules). */
  public async updateIngressDescription(
    groupId: string,
    rule: ObservedIngressRule,
    description: string,
  ): Promise<void> {
    const source = rule.source;
    if (source.kind === 'other') return;
    const from = source.kind === 'cidr' ? { CidrIpv4: source.cidr } : { ReferencedGroupId: source.groupId };
    await this.guard(groupId, () =>
      this.client.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: groupId,
          SecurityGroupRules: [
            {
              SecurityGroupRuleId: rule.ruleId,
              SecurityGroupRule: {
                IpProtocol: rule.protocol,
                FromPort: rule.fromPort,
                ToPort: rule.toPort,
                ...from,
                Description: description,
              },
            },
          ],
        }),
      ),
    );
  }

  /** Sends all items at once; if the call fails with a "state already holds" code, sends them one by one. */
  private async oneByOneOn<T>(
    benign: ReadonlySet<string>,
    items: readonly T[],
    send: (batch: readonly T[]) => Promise<unknown>,
  ): Promise<IngressWriteResult> {
    try {
      await send(items);
      return { done: items.length, alreadyDone: 0 };
    } catch (error) {
      if (!benign.has(errorName(error))) throw error;
      if (items.length === 1) return { done: 1, alreadyDone: 1 };
    }
    let alreadyDone = 0;
    for (const item of items) {
      try {
        await send([item]);
      } catch (error) {
        if (!benign.has(errorName(error))) throw error;
        alreadyDone += 1;
      }
    }
    return { done: items.length, alreadyDone };
  }

  private async guard<T>(groupId: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const name = errorName(error);
      if (GROUP_NOT_FOUND.has(name)) {
        throw new MissingResourceError(
          `security group ${groupId} does not exist: ${(error as Error).message}`,
        );
      }
      if (LIMIT.has(name)) throw new SecurityGroupRuleLimitError(groupId, (error as Error).message);
      throw error;
    }
  }
}

/** The permission that creates the rule, its description on the source element where EC2 keeps it. */
export function toPermission(rule: IngressRuleSpec): IpPermission {
  const base = { IpProtocol: rule.protocol, FromPort: rule.fromPort, ToPort: rule.toPort };
  return rule.source.kind === 'cidr'
    ? { ...base, IpRanges: [{ CidrIp: rule.source.cidr, Description: rule.description }] }
    : { ...base, UserIdGroupPairs: [{ GroupId: rule.source.groupId, Description: rule.description }] };
}

function toGroupInfo(group: SecurityGroup): SecurityGroupInfo {
  return {
    groupId: group.GroupId ?? '',
    vpcId: group.VpcId,
    tags: Object.fromEntries((group.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
  };
}

function toObservedRule(groupId: string, rule: SecurityGroupRule): ObservedIngressRule {
  let source: IngressSource;
  if (rule.CidrIpv4 !== undefined) source = { kind: 'cidr', cidr: rule.CidrIpv4 };
  else if (rule.ReferencedGroupInfo?.GroupId !== undefined)
    source = { kind: 'group', groupId: rule.ReferencedGroupInfo.GroupId };
  else source = { kind: 'other', id: rule.CidrIpv6 ?? rule.PrefixListId ?? 'unknown' };
  return {
    ruleId: rule.SecurityGroupRuleId ?? '',
    groupId,
    protocol: normaliseProtocol(rule.IpProtocol ?? '-1'),
    fromPort: rule.FromPort ?? -1,
    toPort: rule.ToPort ?? -1,
    source,
    description: rule.Description,
  };
}

/** EC2 may report protocols by number; the planner compares names. */
function normaliseProtocol(protocol: string): string {
  const lower = protocol.toLowerCase();
  return lower === '6' ? 'tcp' : lower === '17' ? 'udp' : lower;
}

function errorName(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const { name, Code } = error as { name?: unknown; Code?: unknown };
  return typeof Code === 'string' ? Code : typeof name === 'string' ? name : '';
}
