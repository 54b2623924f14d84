import type { ClusterConfig, PortMapping } from './config';
import { compareIps } from './ip-addresses';
import { AmbiguousSecurityGroupError, IngressSourceError } from './network-errors';
import type {
  IngressProtocol,
  IngressRuleSpec,
  IngressSource,
  ObservedIngressRule,
  SecurityGroupInfo,
} from './network-ports';
import type { Node } from './node';
import { formatPortRange, mergePortRanges } from './port-ranges';

/**
 * Node security-group ingress: which rules the nodes need (desire) and how to get there from what
 * the groups hold (plan). Pure; see docs/security-groups.md for the decisions.
 */

/** The product name at the head of every rule description it writes. */
export const RULE_HERITAGE = 'nlb-nodeport-sync';
/** Inbound rules per security group (IPv4 and IPv6 counted apart); AWS's default quota. */
export const INBOUND_RULE_QUOTA = 60;
/** SG descriptions are at most 255 characters. */
export const MAX_RULE_DESCRIPTION_LENGTH = 255;
/** Tag a node security group may carry to say which cluster it belongs to. */
export const CLUSTER_TAG_KEY = 'nlb-nodeport-sync/cluster';
/** Why a rule exists: health checks, NLB traffic, or client traffic when the client IP is preserved. */
export const RULE_PURPOSES = ['client', 'health', 'traffic'] as const;
/** Why a rule exists. */
export type RulePurpose = (typeof RULE_PURPOSES)[number];
/** Where NLB traffic and health checks come from. */
export const INGRESS_SOURCE_MODES = [
  'load-balancer-security-group',
  'load-balancer-ips',
  'vpc-cidr',
] as const;
/** Where NLB traffic and health checks come from, once `auto` is resolved. */
export type IngressSourceMode = (typeof INGRESS_SOURCE_MODES)[number];
/** The source setting as the config spells it. */
export type ConfiguredSourceMode = IngressSourceMode | 'auto';

const ANYWHERE = '0.0.0.0/0';

/** The prefix that marks a rule as owned by this deployment for this cluster. */
export function ruleOwnerPrefix(ownerId: string, clusterName: string): string {
  return `${RULE_HERITAGE}:${ownerId}/${clusterName}:`;
}

/**
 * The description of an owned rule: the owner prefix and the purposes it serves.
 * @example ruleDescription('nlb-nodeport-sync', 'blue', ['health', 'traffic'])
 * // 'nlb-nodeport-sync:nlb-nodeport-sync/blue:health+traffic'
 */
export function ruleDescription(
  ownerId: string,
  clusterName: string,
  purposes: Iterable<RulePurpose>,
): string {
  const sorted = [...new Set(purposes)].sort();
  const description = `${ruleOwnerPrefix(ownerId, clusterName)}${sorted.join('+')}`;
  // The config's patterns bound ownerId (40) and the cluster name (40), so this never trips; it guards the schema.
  if (
    description.length > MAX_RULE_DESCRIPTION_LENGTH ||
    !/^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/.test(description)
  ) {
    throw new IngressSourceError(
      `rule description "${description}" is not a valid security-group description`,
    );
  }
  return description;
}

/** Whether an observed rule belongs to this deployment and cluster (its description starts with our prefix). */
export function isOwnedRule(
  rule: Pick<ObservedIngressRule, 'description'>,
  ownerId: string,
  clusterName: string,
): boolean {
  return rule.description?.startsWith(ruleOwnerPrefix(ownerId, clusterName)) ?? false;
}

/** A stable key for a source: `cidr:10.0.0.0/16`, `group:sg-1`. */
export function sourceKey(source: IngressSource): string {
  switch (source.kind) {
    case 'cidr':
      return `cidr:${source.cidr}`;
    case 'group':
      return `group:${source.groupId}`;
    default:
      return `other:${source.id}`;
  }
}

/** A rule's identity as AWS sees it: protocol, ports and source. The description is not part of it. */
export function ruleKey(
  rule: Pick<IngressRuleSpec, 'fromPort' | 'toPort'> & { protocol: string; source: IngressSource },
): string {
  return `${rule.protocol}|${rule.fromPort}-${rule.toPort}|${sourceKey(rule.source)}`;
}

/** Facts about the NLB the source choice needs; fetch the IPs and CIDRs only when the choice needs them. */
export interface LoadBalancerSourceFacts {
  readonly securityGroupIds: readonly string[];
  readonly privateIps?: readonly string[];
  readonly vpcCidrs?: readonly string[];
}

/** The resolved source of NLB traffic and health checks. */
export interface ResolvedIngressSource {
  readonly mode: IngressSourceMode;
  readonly sources: readonly Exclude<IngressSource, { kind: 'other' }>[];
  /** Why this mode, in words for logs. */
  readonly reason: string;
}

/**
 * Which facts the source choice still needs: `auto` tries the NLB's security group first, then its
 * private IPs, then the VPC CIDR (tightest first).
 */
export function nextSourceFact(
  mode: ConfiguredSourceMode,
  facts: LoadBalancerSourceFacts,
): 'privateIps' | 'vpcCidrs' | undefined {
  if (mode === 'load-balancer-security-group') return undefined;
  if (mode === 'auto' && facts.securityGroupIds.length > 0) return undefined;
  if ((mode === 'auto' || mode === 'load-balancer-ips') && facts.privateIps === undefined)
    return 'privateIps';
  if (mode === 'load-balancer-ips') return undefined;
  if (mode === 'auto' && (facts.privateIps?.length ?? 0) > 0) return undefined;
  return facts.vpcCidrs === undefined ? 'vpcCidrs' : undefined;
}

/**
 * Resolves where NLB traffic and health checks come from.
 * @throws IngressSourceError when the configured mode has nothing to offer (no NLB group, no NLB interfaces)
 */
export function resolveIngressSource(
  mode: ConfiguredSourceMode,
  facts: LoadBalancerSourceFacts,
): ResolvedIngressSource {
  const groups = [...facts.securityGroupIds].sort();
  const ips = [...new Set(facts.privateIps ?? [])].sort(compareIps);
  const cidrs = [...new Set(facts.vpcCidrs ?? [])].filter((cidr) => cidr !== ANYWHERE).sort();
  // One NLB group is enough: every NLB interface carries all of them, so referencing the first admits it.
  const fromGroup = (reason: string): ResolvedIngressSource => ({
    mode: 'load-balancer-security-group',
    sources: [{ kind: 'group', groupId: groups[0] as string }],
    reason,
  });
  const fromIps = (reason: string): ResolvedIngressSource => ({
    mode: 'load-balancer-ips',
    sources: ips.map((ip) => ({ kind: 'cidr', cidr: `${ip}/32` })),
    reason,
  });
  const fromVpc = (reason: string): ResolvedIngressSource => {
    if (cidrs.length === 0) throw new IngressSourceError('the VPC of the load balancer has no IPv4 CIDR');
    return { mode: 'vpc-cidr', sources: cidrs.map((cidr) => ({ kind: 'cidr', cidr })), reason };
  };
  switch (mode) {
    case 'load-balancer-security-group':
      if (groups.length === 0) {
        throw new IngressSourceError(
          'securityGroups.source is load-balancer-security-group but the load balancer has no security group ' +
            '(NLB security groups can only be set at creation); use load-balancer-ips, vpc-cidr or auto',
        );
      }
      return fromGroup('configured: the load balancer security group');
    case 'load-balancer-ips':
      if (ips.length === 0) {
        throw new IngressSourceError(
          'securityGroups.source is load-balancer-ips but no load balancer network interface was found',
        );
      }
      return fromIps('configured: the load balancer private IPs');
    case 'vpc-cidr':
      return fromVpc('configured: the VPC CIDR');
    default:
      if (groups.length > 0) return fromGroup('auto: the load balancer has a security group');
      if (ips.length > 0)
        return fromIps('auto: the load balancer has no security group; its private IPs are known');
      return fromVpc('auto: neither a load balancer security group nor its private IPs are available');
  }
}

/** Protocols a mapping's traffic uses on the node. */
export function trafficProtocols(mapping: Pick<PortMapping, 'protocol'>): IngressProtocol[] {
  switch (mapping.protocol) {
    case 'UDP':
      return ['udp'];
    case 'TCP_UDP':
      return ['tcp', 'udp'];
    default:
      return ['tcp'];
  }
}

/**
 * Whether the target group sees the client's IP: explicit setting, else AWS's default (on for instance
 * targets and for UDP / TCP_UDP groups, off for ip targets over TCP / TLS).
 */
export function preservesClientIp(
  mapping: Pick<PortMapping, 'preserveClientIp' | 'targetType' | 'protocol'>,
): boolean {
  if (mapping.preserveClientIp !== undefined) return mapping.preserveClientIp;
  return mapping.targetType === 'instance' || mapping.protocol === 'UDP' || mapping.protocol === 'TCP_UDP';
}

/** The rules a cluster's nodes need, merged into ranges, and what the desire noticed. */
export interface DesiredIngress {
  readonly rules: readonly IngressRuleSpec[];
  readonly warnings: readonly string[];
}

/**
 * The inbound rules every node group of the cluster needs: each NodePort and health-check NodePort
 * from the NLB sources, and the traffic NodePorts from the client CIDRs where the client IP is preserved.
 * Contiguous ports from the same source and protocol merge into one range.
 * @throws IngressSourceError when 0.0.0.0/0 would be admitted without `allowAnywhere`
 */
export function desireIngress(input: {
  readonly ownerId: string;
  readonly cluster: Pick<ClusterConfig, 'name' | 'portMappings' | 'securityGroups'>;
  readonly source: ResolvedIngressSource;
}): DesiredIngress {
  const { ownerId, cluster, source } = input;
  const clientCidrs = [...new Set(cluster.securityGroups?.clientCidrs ?? [])].sort();
  if (clientCidrs.includes(ANYWHERE) && cluster.securityGroups?.allowAnywhere !== true) {
    throw new IngressSourceError(`${ANYWHERE} in securityGroups.clientCidrs needs allowAnywhere: true`);
  }
  for (const s of source.sources) {
    if (s.kind === 'cidr' && s.cidr === ANYWHERE)
      throw new IngressSourceError(`the NLB source resolved to ${ANYWHERE}`);
  }
  const warnings: string[] = [];
  // (protocol, source) -> port -> purposes
  const wanted = new Map<
    string,
    { protocol: IngressProtocol; source: IngressRuleSpec['source']; ports: Map<number, Set<RulePurpose>> }
  >();
  const want = (
    protocol: IngressProtocol,
    from: IngressRuleSpec['source'],
    port: number,
    purpose: RulePurpose,
  ): void => {
    const key = `${protocol}|${sourceKey(from)}`;
    let entry = wanted.get(key);
    if (entry === undefined) {
      entry = { protocol, source: from, ports: new Map() };
      wanted.set(key, entry);
    }
    const purposes = entry.ports.get(port) ?? new Set<RulePurpose>();
    purposes.add(purpose);
    entry.ports.set(port, purposes);
  };
  for (const mapping of cluster.portMappings) {
    for (const protocol of trafficProtocols(mapping)) {
      for (const from of source.sources) want(protocol, from, mapping.nodePort, 'traffic');
    }
    // NLB health checks are TCP/HTTP(S), even for UDP groups; without a health-check NodePort they hit the traffic port.
    for (const from of source.sources)
      want('tcp', from, mapping.healthCheckNodePort ?? mapping.nodePort, 'health');
    if (!preservesClientIp(mapping)) continue;
    if (clientCidrs.length === 0 && source.mode !== 'load-balancer-security-group') {
      warnings.push(
        `port mapping "${mapping.name}" preserves the client IP but securityGroups.clientCidrs is empty: ` +
          'client traffic to NodePort ' +
          `${mapping.nodePort} is not admitted by rules of this product`,
      );
    }
    for (const protocol of trafficProtocols(mapping)) {
      for (const cidr of clientCidrs) want(protocol, { kind: 'cidr', cidr }, mapping.nodePort, 'client');
    }
  }
  const rules: IngressRuleSpec[] = [];
  for (const entry of wanted.values()) {
    for (const range of mergePortRanges(entry.ports.keys())) {
      const purposes = new Set<RulePurpose>();
      for (let port = range.from; port <= range.to; port += 1) {
        for (const purpose of entry.ports.get(port) ?? []) purposes.add(purpose);
      }
      rules.push({
        protocol: entry.protocol,
        fromPort: range.from,
        toPort: range.to,
        source: entry.source,
        description: ruleDescription(ownerId, cluster.name, purposes),
      });
    }
  }
  return { rules: rules.sort(compareRules), warnings };
}

/** One change to a security group, with the reason for it. */
export type IngressChange =
  | {
      readonly kind: 'authorize';
      readonly groupId: string;
      readonly rule: IngressRuleSpec;
      readonly reason: string;
    }
  | {
      readonly kind: 'revoke';
      readonly groupId: string;
      readonly rule: ObservedIngressRule;
      readonly reason: string;
    }
  | {
      readonly kind: 'update-description';
      readonly groupId: string;
      readonly rule: ObservedIngressRule;
      readonly description: string;
      readonly reason: string;
    };

/** Rule counts of one group before and after the plan. */
export interface GroupRuleCount {
  readonly groupId: string;
  readonly before: number;
  readonly after: number;
  /** The most rules the group holds while the plan runs (authorizations come before revocations unless that would pass the quota). */
  readonly peak: number;
}

/** The plan for a cluster's node groups. */
export interface IngressPlan {
  /** Per group in group order; within a group in the order to apply them. */
  readonly changes: readonly IngressChange[];
  /** Desired rules an unowned rule with the same protocol, ports and source already satisfies (AWS would call ours a duplicate). */
  readonly coveredByUnowned: readonly {
    readonly groupId: string;
    readonly rule: IngressRuleSpec;
    readonly by: string;
  }[];
  /** Rules per group before, after and at the peak; lambdas/domain/quotas.ts refuses a group over its quota. */
  readonly counts: readonly GroupRuleCount[];
}

/**
 * Plans the changes that make each group hold exactly the desired owned rules. Only rules whose
 * description carries this deployment's prefix for this cluster are ever revoked or rewritten.
 * Authorizations come first so no port is closed between two passes' states, unless adding first
 * would pass the quota: then revocations come first.
 */
export function planIngress(input: {
  readonly ownerId: string;
  readonly clusterName: string;
  readonly groupIds: readonly string[];
  readonly desired: readonly IngressRuleSpec[];
  readonly observed: Readonly<Record<string, readonly ObservedIngressRule[]>>;
  readonly quota?: number;
}): IngressPlan {
  const quota = input.quota ?? INBOUND_RULE_QUOTA;
  const changes: IngressChange[] = [];
  const covered: { groupId: string; rule: IngressRuleSpec; by: string }[] = [];
  const counts: GroupRuleCount[] = [];
  const desired = [...input.desired].sort(compareRules);
  for (const groupId of [...new Set(input.groupIds)].sort()) {
    const observed = [...(input.observed[groupId] ?? [])].sort(compareObserved);
    const owned = new Map<string, ObservedIngressRule>();
    const unowned = new Map<string, ObservedIngressRule>();
    const revokes: IngressChange[] = [];
    for (const rule of observed) {
      const key = ruleKey(rule);
      if (!isOwnedRule(rule, input.ownerId, input.clusterName)) {
        if (!unowned.has(key)) unowned.set(key, rule);
        continue;
      }
      if (owned.has(key)) {
        revokes.push({
          kind: 'revoke',
          groupId,
          rule,
          reason: `duplicate of owned rule ${owned.get(key)?.ruleId}`,
        });
        continue;
      }
      owned.set(key, rule);
    }
    const wantedKeys = new Set(desired.map(ruleKey));
    const authorizes: IngressChange[] = [];
    const updates: IngressChange[] = [];
    for (const rule of desired) {
      const key = ruleKey(rule);
      const mine = owned.get(key);
      if (mine !== undefined) {
        if (mine.description !== rule.description) {
          updates.push({
            kind: 'update-description',
            groupId,
            rule: mine,
            description: rule.description,
            reason: `the rule now serves ${rule.description.slice(ruleOwnerPrefix(input.ownerId, input.clusterName).length)}`,
          });
        }
        continue;
      }
      const theirs = unowned.get(key);
      if (theirs !== undefined) {
        covered.push({ groupId, rule, by: theirs.ruleId });
        continue;
      }
      authorizes.push({
        kind: 'authorize',
        groupId,
        rule,
        reason: `${describeRule(rule)} is needed and missing`,
      });
    }
    for (const [key, rule] of owned) {
      if (!wantedKeys.has(key))
        revokes.push({ kind: 'revoke', groupId, rule, reason: `${describeRule(rule)} is no longer needed` });
    }
    revokes.sort((a, b) => compareObserved(a.rule as ObservedIngressRule, b.rule as ObservedIngressRule));
    const countable = observed.filter((rule) => !isIpv6(rule)).length;
    const after =
      countable - revokes.filter((c) => !isIpv6(c.rule as ObservedIngressRule)).length + authorizes.length;
    const addFirstPeak = countable + authorizes.length;
    const revokeFirst = addFirstPeak > quota && authorizes.length > 0 && revokes.length > 0;
    const peak = revokeFirst ? Math.max(countable, after) : addFirstPeak;
    counts.push({ groupId, before: countable, after, peak });
    changes.push(
      ...(revokeFirst ? [...revokes, ...authorizes, ...updates] : [...authorizes, ...updates, ...revokes]),
    );
  }
  return { changes, coveredByUnowned: covered, counts };
}

/**
 * Candidate node groups: the groups on the desired nodes' primary interfaces, sorted.
 */
export function nodeGroupCandidates(nodes: readonly Pick<Node, 'securityGroupIds'>[]): string[] {
  return [...new Set(nodes.flatMap((node) => node.securityGroupIds))].sort();
}

/**
 * The values of `kubernetes.io/cluster/<name>` that Kubernetes documents: `owned` (the resource belongs to
 * the cluster) and `shared`. The only ones the deployed role may write under (docs/iam.md), so the only
 * ones that choose a group.
 */
export const KUBERNETES_CLUSTER_TAG_VALUES = ['owned', 'shared'] as const;

/**
 * Whether a group's tags mark it as the cluster's: `nlb-nodeport-sync/cluster=<name>`, or
 * `kubernetes.io/cluster/<name>` = `owned|shared` (the values the deployed role's condition admits).
 */
export function isTaggedForCluster(clusterName: string, group: Pick<SecurityGroupInfo, 'tags'>): boolean {
  return (
    group.tags[CLUSTER_TAG_KEY] === clusterName ||
    (KUBERNETES_CLUSTER_TAG_VALUES as readonly string[]).includes(
      group.tags[`kubernetes.io/cluster/${clusterName}`] ?? '',
    )
  );
}

/**
 * Chooses the node group to manage among the candidates: the one tagged for the cluster
 * (`nlb-nodeport-sync/cluster=<name>` or `kubernetes.io/cluster/<name>`). A lone untagged candidate is
 * refused too: the deployed role may only change groups carrying one of these tags (docs/iam.md), so
 * guessing would only fail later, mid-pass, with AccessDenied.
 * @throws AmbiguousSecurityGroupError when not exactly one candidate is tagged for the cluster
 */
export function chooseNodeGroups(clusterName: string, candidates: readonly SecurityGroupInfo[]): string[] {
  const ids = candidates.map((group) => group.groupId).sort();
  if (ids.length === 0) return ids;
  const kubernetesTag = `kubernetes.io/cluster/${clusterName}`;
  const tagged = candidates
    .filter((group) => isTaggedForCluster(clusterName, group))
    .map((group) => group.groupId)
    .sort();
  if (tagged.length === 1) return tagged;
  throw new AmbiguousSecurityGroupError(
    clusterName,
    ids,
    tagged.length === 0
      ? `none is tagged ${CLUSTER_TAG_KEY}=${clusterName} or ${kubernetesTag}=${KUBERNETES_CLUSTER_TAG_VALUES.join('|')}`
      : `${tagged.length} are tagged for the cluster (${tagged.join(', ')})`,
  );
}

/** A rule in words: `tcp 30080-30081 from sg-1`. */
export function describeRule(rule: {
  protocol: string;
  fromPort: number;
  toPort: number;
  source: IngressSource;
}): string {
  const from =
    rule.source.kind === 'cidr'
      ? rule.source.cidr
      : rule.source.kind === 'group'
        ? rule.source.groupId
        : rule.source.id;
  return `${rule.protocol} ${formatPortRange({ from: rule.fromPort, to: rule.toPort })} from ${from}`;
}

function isIpv6(rule: ObservedIngressRule): boolean {
  return rule.source.kind === 'other' && rule.source.id.includes(':');
}

function compareRules(a: IngressRuleSpec, b: IngressRuleSpec): number {
  return ruleKey(a) < ruleKey(b) ? -1 : ruleKey(a) > ruleKey(b) ? 1 : 0;
}

function compareObserved(a: ObservedIngressRule, b: ObservedIngressRule): number {
  const ka = `${ruleKey(a)}|${a.ruleId}`;
  const kb = `${ruleKey(b)}|${b.ruleId}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
