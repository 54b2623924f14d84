import { Aws, Stack, Validations } from 'aws-cdk-lib';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { ClusterConfig } from '../../lambdas/domain/config';
import { normaliseRecordName } from '../../lambdas/domain/dns-records';
import { drainMarkTagKey } from '../../lambdas/domain/drain-mark';
import {
  CLUSTER_TAG_KEY,
  KUBERNETES_CLUSTER_TAG_VALUES,
  trafficProtocols,
} from '../../lambdas/domain/ingress-rules';
import { MANAGED_RECORD_TYPES } from '../../lambdas/domain/network-ports';

/** What one cluster may touch, with the target group ARNs resolved (imported or created). */
export interface ClusterAccess {
  /** The cluster as configured. */
  readonly cluster: ClusterConfig;
  /** Every target group of the cluster: ARNs from config or references to created groups. */
  readonly targetGroupArns: readonly string[];
}

/** What the sync function may do, for {@link syncPolicyStatements}. */
export interface SyncAccess {
  /** The deployment's owner id: the drain-mark tag key is `<ownerId>/drain`. */
  readonly ownerId: string;
  /** Every cluster, with its target groups resolved. */
  readonly clusters: readonly ClusterAccess[];
  /**
   * The queues the function sends to itself: the wait queue (delayed re-checks) and the lane (a pass
   * a re-check asks for). Receiving is granted by the event source mappings, not here.
   */
  readonly sendQueueArns: readonly string[];
}

/** Read actions: AWS offers no resource-level permissions for most of them, so they use `*`. */
export const READ_ACTIONS = [
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DescribeAutoScalingInstances',
  'autoscaling:DescribeLifecycleHooks',
  'ec2:DescribeInstances',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSecurityGroupRules',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcs',
  'elasticloadbalancing:DescribeListeners',
  'elasticloadbalancing:DescribeLoadBalancers',
  'elasticloadbalancing:DescribeTags',
  'elasticloadbalancing:DescribeTargetGroupAttributes',
  'elasticloadbalancing:DescribeTargetGroups',
  'elasticloadbalancing:DescribeTargetHealth',
] as const;

/**
 * The ChangeResourceRecordSets actions the DNS sync sends (lambdas/domain/dns-records.ts `planRecords`):
 * CREATE for a new name and its marker, UPSERT for a changed set, DELETE for a set no longer wanted
 * (the node A record when no node is desired, an AAAA record when the NLB is no longer dualstack).
 */
export const RECORD_ACTIONS = ['CREATE', 'DELETE', 'UPSERT'] as const;

// The Kubernetes cluster tag values (owned, shared) come from the domain: discovery chooses a group by them.
export { KUBERNETES_CLUSTER_TAG_VALUES } from '../../lambdas/domain/ingress-rules';

/**
 * A record name as the condition key `route53:ChangeResourceRecordSetsNormalizedRecordNames` carries it
 * (Route 53 developer guide, "Using IAM policy conditions for fine-grained access control"): lower case,
 * no trailing dot, and every character other than a-z, 0-9, `-`, `_` and `.` as a backslash and its
 * three-digit octal code (`*` is `\052`), one code per UTF-8 byte.
 * @example iamRecordName('*.Apps.example.com.') // '\\052.apps.example.com'
 */
export function iamRecordName(name: string): string {
  const bare = normaliseRecordName(name).slice(0, -1);
  let normalized = '';
  for (const byte of Buffer.from(bare, 'utf8')) {
    const char = String.fromCharCode(byte);
    normalized += /^[a-z0-9_.-]$/.test(char) ? char : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return normalized;
}

/** What one cluster's DNS sync may write: the names, the record types and the change actions. */
export interface RecordScope {
  readonly hostedZoneId: string;
  /** Normalized as the condition key compares them, sorted. */
  readonly names: readonly string[];
  readonly types: readonly string[];
  readonly actions: readonly string[];
}

/**
 * The record names and types a cluster's DNS sync writes (lambdas/domain/dns-records.ts `desireRecords`
 * and `planRecords`): per alias name an alias A, and an alias AAAA when the NLB is dualstack (unknown at
 * synth for an imported NLB; the stack creates IPv4 ones); the node A record set; per port mapping and
 * protocol an SRV record `_<mapping>._<tcp|udp>.<srvDomain>`; and the TXT ownership marker at every one
 * of these names. Undefined when the cluster has no `dns`.
 */
export function recordScopeOf(cluster: ClusterConfig): RecordScope | undefined {
  const dns = cluster.dns;
  if (dns === undefined) return undefined;
  const names = [...dns.aliasNames];
  const types = new Set<string>(['TXT']);
  if (dns.aliasNames.length > 0) {
    types.add('A');
    if (cluster.loadBalancer.create === undefined) types.add('AAAA');
  }
  if (dns.nodeRecordName !== undefined) {
    names.push(dns.nodeRecordName);
    types.add('A');
  }
  if (dns.srvDomain !== undefined) {
    const domain = normaliseRecordName(dns.srvDomain);
    for (const mapping of cluster.portMappings) {
      for (const protocol of trafficProtocols(mapping)) names.push(`_${mapping.name}._${protocol}.${domain}`);
    }
    types.add('SRV');
  }
  if (dns.retiredNames.length > 0) {
    // A retired name may hold any record type the product writes; only deletes are planned there.
    names.push(...dns.retiredNames);
    for (const type of MANAGED_RECORD_TYPES) types.add(type);
  }
  return {
    hostedZoneId: dns.hostedZoneId,
    names: unique(names.map(iamRecordName)).sort(),
    types: [...types].sort(),
    actions: [...RECORD_ACTIONS],
  };
}

const SG_WRITE_ACTIONS = [
  'ec2:AuthorizeSecurityGroupIngress',
  'ec2:RevokeSecurityGroupIngress',
  'ec2:ModifySecurityGroupRules',
];

/** Drain marks are written and lifted as EC2 tags. */
export const DRAIN_MARK_ACTIONS = ['ec2:CreateTags', 'ec2:DeleteTags'] as const;

/** The tag Auto Scaling puts on every instance it launches (users cannot write `aws:` tags). */
const ASG_NAME_TAG = 'aws:autoscaling:groupName';

function arn(service: string, resource: string, regional = true): string {
  const region = regional ? Aws.REGION : '';
  const account = regional ? Aws.ACCOUNT_ID : '';
  return `arn:${Aws.PARTITION}:${service}:${region}:${account}:${resource}`;
}

/** The ARN of an ASG by name; the UUID in the middle is unknown at synth, hence the one `*`. */
export function autoScalingGroupArn(name: string): string {
  return `arn:${Aws.PARTITION}:autoscaling:${Aws.REGION}:${Aws.ACCOUNT_ID}:autoScalingGroup:*:autoScalingGroupName/${name}`;
}

function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

/**
 * The drain-mark statements: CreateTags/DeleteTags on instances, only of the deployment's drain-mark key
 * and only on instances of a configured node source. CreateTags on an existing instance is authorized
 * against the tags the instance already has, so `aws:ResourceTag` pins the instance; `aws:TagKeys` pins
 * the key, which also keeps the function from tagging other instances into its own scope.
 */
function drainMarkStatements(ownerId: string, access: readonly ClusterAccess[]): PolicyStatement[] {
  const onlyTheDrainMark = {
    'ForAllValues:StringEquals': { 'aws:TagKeys': [drainMarkTagKey(ownerId)] },
    // ForAllValues holds for a request that names no key at all, and DeleteTags without keys deletes
    // every user tag of the instance: require the key list to be present.
    Null: { 'aws:TagKeys': 'false' },
  };
  const instances = [arn('ec2', 'instance/*')];
  const statements: PolicyStatement[] = [];
  const asgs = unique(access.flatMap((a) => a.cluster.nodeSource.autoScalingGroups)).sort();
  if (asgs.length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'DrainMarkOnConfiguredAsgInstances',
        actions: [...DRAIN_MARK_ACTIONS],
        resources: instances,
        conditions: { ...onlyTheDrainMark, StringEquals: { [`aws:ResourceTag/${ASG_NAME_TAG}`]: asgs } },
      }),
    );
  }
  for (const [index, { cluster }] of access.entries()) {
    const filters = Object.entries(cluster.nodeSource.tagFilters);
    if (filters.length === 0) continue;
    // Discovery's own semantics (lambdas/aws/ec2-instance-adapter.ts): every key must carry one of its
    // values. Keys in one StringEquals block are ANDed, the values of one key ORed.
    const tags = Object.fromEntries(filters.map(([key, values]) => [`aws:ResourceTag/${key}`, [...values]]));
    statements.push(
      new PolicyStatement({
        sid: `DrainMarkOnTaggedInstances${index}`,
        actions: [...DRAIN_MARK_ACTIONS],
        resources: instances,
        conditions: { ...onlyTheDrainMark, StringEquals: tags },
      }),
    );
  }
  return statements;
}

/**
 * The least-privilege statements of the sync function: describes on `*`, every write scoped to the
 * configured target groups, ASGs, security groups, hosted zones, node instances (drain marks only)
 * and the function's own queues.
 */
export function syncPolicyStatements(props: SyncAccess): PolicyStatement[] {
  const { clusters: access } = props;
  const statements: PolicyStatement[] = [
    new PolicyStatement({ sid: 'DescribeEverywhere', actions: [...READ_ACTIONS], resources: ['*'] }),
  ];
  statements.push(
    new PolicyStatement({
      sid: 'SendToOwnQueues',
      actions: ['sqs:SendMessage'],
      resources: unique(props.sendQueueArns),
    }),
    ...drainMarkStatements(props.ownerId, access),
  );
  const groups = unique(access.flatMap((a) => a.targetGroupArns));
  statements.push(
    new PolicyStatement({
      sid: 'WriteConfiguredTargetGroups',
      actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
      resources: groups,
    }),
  );

  const asgs = unique(access.flatMap((a) => a.cluster.nodeSource.autoScalingGroups)).sort();
  if (asgs.length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'AnswerConfiguredLifecycleHooks',
        actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
        resources: asgs.map(autoScalingGroupArn),
      }),
    );
  }

  const managed = access.filter((a) => a.cluster.securityGroups?.enabled === true);
  const explicitGroups = unique(managed.flatMap((a) => a.cluster.securityGroups?.groupIds ?? [])).sort();
  const discovering = managed.filter((a) => (a.cluster.securityGroups?.groupIds ?? []).length === 0);
  if (explicitGroups.length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'WriteConfiguredSecurityGroups',
        actions: SG_WRITE_ACTIONS,
        resources: explicitGroups.map((id) => arn('ec2', `security-group/${id}`)),
      }),
    );
  }
  for (const [index, { cluster }] of discovering.entries()) {
    // Node groups are discovered at run time: admit only groups tagged for this cluster, the same
    // tags lambdas/domain/ingress-rules.ts uses to choose between candidates.
    statements.push(
      new PolicyStatement({
        sid: `WriteTaggedSecurityGroups${index}`,
        actions: SG_WRITE_ACTIONS,
        resources: [arn('ec2', 'security-group/*')],
        conditions: { StringEquals: { [`aws:ResourceTag/${CLUSTER_TAG_KEY}`]: cluster.name } },
      }),
      new PolicyStatement({
        sid: `WriteKubernetesSecurityGroups${index}`,
        actions: SG_WRITE_ACTIONS,
        resources: [arn('ec2', 'security-group/*')],
        // Only the values Kubernetes documents, not any value (StringLike '*').
        conditions: {
          StringEquals: {
            [`aws:ResourceTag/kubernetes.io/cluster/${cluster.name}`]: [...KUBERNETES_CLUSTER_TAG_VALUES],
          },
        },
      }),
    );
  }
  if (managed.length > 0) {
    statements.push(
      // A rule is only reachable through its group, which the statements above scope.
      new PolicyStatement({
        sid: 'WriteRulesOfScopedGroups',
        actions: SG_WRITE_ACTIONS,
        resources: [arn('ec2', 'security-group-rule/*')],
      }),
    );
  }

  const zones = unique(access.flatMap((a) => (a.cluster.dns ? [a.cluster.dns.hostedZoneId] : []))).sort();
  const zoneArn = (zone: string) => arn('route53', `hostedzone/${zone}`, false);
  // One statement per cluster: a pass sends one cluster's changes per call, and the three keys are
  // evaluated over the whole request (every name, every type, every action of the batch must be listed).
  for (const [index, scope] of access.map((a) => recordScopeOf(a.cluster)).entries()) {
    if (scope === undefined) continue;
    statements.push(
      new PolicyStatement({
        sid: `WriteOwnRecordsOfCluster${index}`,
        actions: ['route53:ChangeResourceRecordSets'],
        resources: [zoneArn(scope.hostedZoneId)],
        conditions: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': [...scope.names],
            'route53:ChangeResourceRecordSetsRecordTypes': [...scope.types],
            'route53:ChangeResourceRecordSetsActions': [...scope.actions],
          },
        },
      }),
    );
  }
  if (zones.length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'ReadConfiguredHostedZones',
        actions: ['route53:GetHostedZone', 'route53:ListResourceRecordSets'],
        resources: zones.map(zoneArn),
      }),
    );
  }
  return statements;
}

/** Why each kind of wildcard resource is acceptable; cdk-nag needs one acknowledgement per finding. */
const WILDCARD_REASONS: readonly [RegExp, string][] = [
  [
    /:autoScalingGroup:\*:autoScalingGroupName\//,
    'The ASG ARN holds a UUID unknown at synth (the group may belong to EKS); the name part pins the configured ASG.',
  ],
  [
    /:security-group\/\*$/,
    'Node security groups are discovered at run time; the statement only admits groups tagged for this cluster.',
  ],
  [
    /:security-group-rule\/\*$/,
    'Rules can only be changed through their group, which the security-group statements scope.',
  ],
  [
    /:instance\/\*$/,
    'Instances come and go; only CreateTags/DeleteTags use it, limited to the drain-mark tag key (aws:TagKeys) and to instances of a configured ASG or tag filter (aws:ResourceTag).',
  ],
];

/**
 * Adds the statements to the role and acknowledges each cdk-nag IAM5 finding they raise with its
 * reason. A wildcard with no known reason is left unacknowledged, so cdk-nag fails synth.
 */
export function grantSyncPermissions(role: IRole, access: SyncAccess): void {
  const stack = Stack.of(role);
  for (const statement of syncPolicyStatements(access)) {
    role.addToPrincipalPolicy(statement);
    for (const resource of statement.resources) {
      const flat = flattenCfnReference(stack.resolve(resource));
      if (!flat.includes('*') || flat === '*') continue;
      const reason = WILDCARD_REASONS.find(([pattern]) => pattern.test(flat))?.[1];
      if (reason !== undefined)
        Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
    }
  }
}
