/**
 * Ports for the network side of a pass (issue 4): node security groups, the NLB's addresses and
 * Route 53. Adapters in lambdas/aws implement them; tests pass fakes. Nothing here imports the SDK.
 */

/** Protocols a security-group rule of this product can carry. */
export const INGRESS_PROTOCOLS = ['tcp', 'udp'] as const;
/** Protocol of an ingress rule, as EC2 spells it. */
export type IngressProtocol = (typeof INGRESS_PROTOCOLS)[number];

/**
 * Where an ingress rule admits traffic from: an IPv4 CIDR or another security group. `other` covers
 * what this product never writes (IPv6 CIDRs, prefix lists); it is kept so such rules can be counted.
 */
export type IngressSource =
  | { readonly kind: 'cidr'; readonly cidr: string }
  | { readonly kind: 'group'; readonly groupId: string }
  | { readonly kind: 'other'; readonly id: string };

/** A security group as discovery needs it. */
export interface SecurityGroupInfo {
  readonly groupId: string;
  readonly vpcId?: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** One inbound rule as DescribeSecurityGroupRules returns it (one source per rule). */
export interface ObservedIngressRule {
  /** The rule id (`sgr-...`); revocation uses it, so a rule is removed exactly as it was observed. */
  readonly ruleId: string;
  readonly groupId: string;
  /** `tcp`, `udp`, `icmp`, `-1` ...: whatever EC2 reports. */
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly source: IngressSource;
  readonly description?: string;
}

/** An inbound rule to create: protocol, port range, one source and the ownership description. */
export interface IngressRuleSpec {
  readonly protocol: IngressProtocol;
  readonly fromPort: number;
  readonly toPort: number;
  readonly source: Exclude<IngressSource, { kind: 'other' }>;
  readonly description: string;
}

/** What a write to a security group achieved. */
export interface IngressWriteResult {
  /** Rules written (or already in the wanted state: Duplicate / NotFound count as done). */
  readonly done: number;
  /** Rules that were already in the wanted state (InvalidPermission.Duplicate / NotFound). */
  readonly alreadyDone: number;
}

/** EC2 security groups: describe groups and their inbound rules, authorize and revoke rules. */
export interface SecurityGroupPort {
  /** Describes the groups by id with their tags; a group EC2 does not know raises MissingResourceError. */
  describeGroups(groupIds: readonly string[]): Promise<SecurityGroupInfo[]>;
  /** Every inbound rule of the group (DescribeSecurityGroupRules, paginated). */
  describeIngressRules(groupId: string): Promise<ObservedIngressRule[]>;
  /** Authorizes the rules; `InvalidPermission.Duplicate` counts as done. */
  authorizeIngress(groupId: string, rules: readonly IngressRuleSpec[]): Promise<IngressWriteResult>;
  /** Revokes observed rules by rule id; a rule that is already gone counts as done. */
  revokeIngress(groupId: string, rules: readonly ObservedIngressRule[]): Promise<IngressWriteResult>;
  /** Rewrites an owned rule's description in place (ModifySecurityGroupRules), keeping its id. */
  updateIngressDescription(groupId: string, rule: ObservedIngressRule, description: string): Promise<void>;
}

/**
 * {@link SecurityGroupPort} with the reads a reconcile pass sends before it knows its nodes, so that finding
 * the node group by its tags costs no round trip after discovery (docs/architecture.md, "Pass in waves").
 */
export interface SecurityGroupSearchPort extends SecurityGroupPort {
  /**
   * Every group carrying one of the tag keys, whatever the value, with its tags: one DescribeSecurityGroups
   * with a `tag-key` filter (EC2 ORs the values of one filter), every page. The caller checks the values.
   */
  describeGroupsWithTagKeys(tagKeys: readonly string[]): Promise<SecurityGroupInfo[]>;
  /**
   * The inbound rules of several groups, by group (every group given is a key): one
   * DescribeSecurityGroupRules with a `group-id` filter naming them all, every page.
   */
  describeIngressRulesOf(groupIds: readonly string[]): Promise<Record<string, ObservedIngressRule[]>>;
}

/** The NLB as the network side needs it. */
export interface LoadBalancerInfo {
  readonly arn: string;
  readonly name: string;
  readonly dnsName: string;
  /** The hosted zone of the NLB's DNS name, the target zone of alias records. */
  readonly canonicalHostedZoneId: string;
  readonly vpcId: string;
  /** Security groups of the NLB; empty when it was created without them. */
  readonly securityGroupIds: readonly string[];
  /** True for `dualstack` and `dualstack-without-public-ipv4`: AAAA alias records are published. */
  readonly dualstack: boolean;
}

/** ELBv2 + EC2 lookups about the NLB: its attributes, its private IPs, its VPC's CIDRs. */
export interface LoadBalancerPort {
  /** Describes the NLB; raises MissingResourceError when it does not exist. */
  describeLoadBalancer(arn: string): Promise<LoadBalancerInfo>;
  /**
   * Private IPv4 addresses of the NLB's network interfaces (one per enabled subnet), found by their
   * description `ELB net/<name>/<id>`; sorted.
   */
  describePrivateIps(loadBalancer: LoadBalancerInfo): Promise<string[]>;
  /** The IPv4 CIDR blocks associated with the VPC; sorted. */
  describeVpcCidrs(vpcId: string): Promise<string[]>;
}

/** Record types this product writes. */
export const MANAGED_RECORD_TYPES = ['A', 'AAAA', 'SRV', 'TXT'] as const;
/** A record type this product writes. */
export type ManagedRecordType = (typeof MANAGED_RECORD_TYPES)[number];

/** Alias target of an alias record. */
export interface AliasTarget {
  readonly dnsName: string;
  readonly hostedZoneId: string;
  readonly evaluateTargetHealth: boolean;
}

/** A resource record set as Route 53 holds it (names lower case, with the trailing dot). */
export interface RecordSet {
  readonly name: string;
  /** Any Route 53 type; only A, AAAA, SRV and TXT are ever written. */
  readonly type: string;
  readonly ttl?: number;
  /** Values, sorted; empty for alias records. */
  readonly values: readonly string[];
  readonly alias?: AliasTarget;
  /** Routing-policy records (weighted, latency ...) carry one; this product never writes them. */
  readonly setIdentifier?: string;
}

/** The actions ChangeResourceRecordSets accepts. */
export const RECORD_ACTIONS = ['CREATE', 'UPSERT', 'DELETE'] as const;
/** An action of ChangeResourceRecordSets. */
export type RecordAction = (typeof RECORD_ACTIONS)[number];

/** One change of a batch. */
export interface RecordChange {
  readonly action: RecordAction;
  readonly recordSet: RecordSet;
}

/** The outcome of one ChangeResourceRecordSets call. */
export interface ChangeBatchResult {
  readonly changeId: string;
  /** PENDING or INSYNC. */
  readonly status: string;
}

/** A hosted zone as the planner needs it. */
export interface HostedZoneInfo {
  readonly id: string;
  /** Lower case, with the trailing dot. */
  readonly name: string;
}

/** Route 53: read a zone's record sets, write change batches. */
export interface DnsPort {
  /** Describes the zone; raises MissingResourceError when it does not exist. */
  describeZone(hostedZoneId: string): Promise<HostedZoneInfo>;
  /** Every record set of the zone (all pages), names normalised to lower case with the trailing dot. */
  listRecordSets(hostedZoneId: string): Promise<RecordSet[]>;
  /** Sends one change batch (one transaction); throttling is retried by the SDK. */
  changeRecordSets(
    hostedZoneId: string,
    changes: readonly RecordChange[],
    comment: string,
  ): Promise<ChangeBatchResult>;
}
