import { QuotaExceededError } from '../../../lambdas/domain/errors';
import { AmbiguousSecurityGroupError } from '../../../lambdas/domain/network-errors';
import type {
  IngressRuleSpec,
  LoadBalancerPort,
  ObservedIngressRule,
  SecurityGroupInfo,
  SecurityGroupSearchPort,
} from '../../../lambdas/domain/network-ports';
import { startSecurityGroupReads, syncSecurityGroups } from '../../../lambdas/sync/security-group-sync';
import { asgNode, silentTelemetry } from '../../support/fake-aws';
import { NLB_ARN, nlbClusterConfig } from '../../support/network-fixtures';

const NODE_GROUP = 'sg-0123456789abcdef0';
const FULL = 'sg-0fffffffffffffff0';
const ROOMY = 'sg-0eeeeeeeeeeeeeee0';

function configWith(securityGroups: Record<string, unknown>) {
  return nlbClusterConfig({ securityGroups });
}

/** An in-memory EC2 security-group side (groups known by their tags) that records every read and write. */
class FakeGroups implements SecurityGroupSearchPort {
  public readonly writes: string[] = [];
  public readonly reads: string[] = [];
  /** Set to make a read fail, by the name of the port method. */
  public failing: Partial<Record<'describeGroupsWithTagKeys' | 'describeIngressRulesOf', Error>> = {};
  public constructor(
    private readonly tags: Record<string, Record<string, string>>,
    private readonly rules: Record<string, ObservedIngressRule[]> = {},
  ) {}
  public async describeGroups(ids: readonly string[]): Promise<SecurityGroupInfo[]> {
    this.reads.push(`groups ${ids.join(' ')}`);
    return ids.map((groupId) => ({ groupId, tags: this.tags[groupId] ?? {} }));
  }
  public async describeGroupsWithTagKeys(keys: readonly string[]): Promise<SecurityGroupInfo[]> {
    this.reads.push(`tag-key ${keys.join(' ')}`);
    if (this.failing.describeGroupsWithTagKeys !== undefined) throw this.failing.describeGroupsWithTagKeys;
    return Object.entries(this.tags)
      .filter(([, tags]) => keys.some((key) => key in tags))
      .map(([groupId, tags]) => ({ groupId, tags }));
  }
  public async describeIngressRules(groupId: string): Promise<ObservedIngressRule[]> {
    this.reads.push(`rules ${groupId}`);
    return this.rules[groupId] ?? [];
  }
  public async describeIngressRulesOf(
    ids: readonly string[],
  ): Promise<Record<string, ObservedIngressRule[]>> {
    this.reads.push(`rules ${ids.join(' ')}`);
    if (this.failing.describeIngressRulesOf !== undefined) throw this.failing.describeIngressRulesOf;
    return Object.fromEntries(ids.map((id) => [id, this.rules[id] ?? []]));
  }
  public async authorizeIngress(groupId: string, rules: readonly IngressRuleSpec[]) {
    this.writes.push(...rules.map((r) => `authorize ${groupId} ${r.fromPort}`));
    return { done: rules.length, alreadyDone: 0 };
  }
  public async revokeIngress(groupId: string, rules: readonly ObservedIngressRule[]) {
    this.writes.push(...rules.map((r) => `revoke ${groupId} ${r.ruleId}`));
    return { done: rules.length, alreadyDone: 0 };
  }
  public async updateIngressDescription(groupId: string, rule: ObservedIngressRule) {
    this.writes.push(`describe ${groupId} ${rule.ruleId}`);
  }
}

const loadBalancers: LoadBalancerPort = {
  describeLoadBalancer: async () => ({
    arn: NLB_ARN,
    name: 'ingress',
    dnsName: 'ingress-1.elb.us-east-1.amazonaws.com',
    canonicalHostedZoneId: 'Z26RNL4JYFTOTI',
    vpcId: 'vpc-1',
    securityGroupIds: [],
    dualstack: false,
  }),
  describePrivateIps: async () => [],
  describeVpcCidrs: async () => ['10.0.0.0/16'],
};

/** `n` rules nobody of this product owns. */
function foreignRules(groupId: string, n: number): ObservedIngressRule[] {
  return Array.from({ length: n }, (_, i) => ({
    ruleId: `sgr-${groupId.slice(3)}${i}`,
    groupId,
    protocol: 'tcp',
    fromPort: 1000 + i,
    toPort: 1000 + i,
    source: { kind: 'cidr', cidr: `192.168.${i}.0/24` },
    description: 'someone else',
  }));
}

describe('Function: syncSecurityGroups', () => {
  describe('which group, when the config names none', () => {
    it('refuses a lone node group without the cluster tag, before any write (docs/security-groups.md)', async () => {
      // Prepare: every node carries one group, untagged
      const { config, cluster } = configWith({ source: 'vpc-cidr' });
      const groups = new FakeGroups({});
      const nodes = [asgNode(1), asgNode(2)];

      // Act
      const result = syncSecurityGroups(
        { config, cluster, nodes },
        { securityGroups: groups, loadBalancers, ...silentTelemetry() },
      );

      // Assess
      await expect(result).rejects.toThrow(AmbiguousSecurityGroupError);
      await expect(result).rejects.toThrow(
        `none is tagged nlb-nodeport-sync/cluster=prod or kubernetes.io/cluster/prod=owned|shared`,
      );
      expect(groups.writes).toEqual([]);
    });

    it('manages a lone node group tagged for the cluster', async () => {
      // Prepare
      const { config, cluster } = configWith({ source: 'vpc-cidr' });
      const groups = new FakeGroups({ [NODE_GROUP]: { 'kubernetes.io/cluster/prod': 'shared' } });

      // Act
      const result = await syncSecurityGroups(
        { config, cluster, nodes: [asgNode(1)] },
        { securityGroups: groups, loadBalancers, ...silentTelemetry() },
      );

      // Assess
      expect(result.groupIds).toEqual([NODE_GROUP]);
      expect(groups.writes.length).toBeGreaterThan(0);
      expect(groups.writes.every((w) => w.startsWith(`authorize ${NODE_GROUP}`))).toBe(true);
    });

    const OTHER = 'sg-0bbbbbbbbbbbbbbb0';
    const CLUSTER_SG = 'sg-0ccccccccccccccc0';
    /** Nodes carrying the node group and a second group. */
    const twoGroupNodes = () =>
      [asgNode(1), asgNode(2)].map((node) => ({ ...node, securityGroupIds: [NODE_GROUP, OTHER] }));

    it('searches the groups by tag key as the pass starts, then reads the rules of those tagged for the cluster', async () => {
      // Prepare: the node group is tagged for prod; another cluster's group and a bad value are not
      const { config, cluster } = configWith({ source: 'vpc-cidr' });
      const owned = foreignRules(NODE_GROUP, 1);
      const groups = new FakeGroups(
        {
          [NODE_GROUP]: { 'nlb-nodeport-sync/cluster': 'prod' },
          [OTHER]: { 'nlb-nodeport-sync/cluster': 'blue' },
          [CLUSTER_SG]: { 'kubernetes.io/cluster/prod': 'unknown' },
        },
        { [NODE_GROUP]: owned },
      );
      const deps = { securityGroups: groups, loadBalancers, ...silentTelemetry() };

      // Act: the reads start before the nodes are known
      const reads = startSecurityGroupReads({ cluster }, deps);
      await reads?.tagged?.rules;
      const readAhead = [...groups.reads];
      const result = await syncSecurityGroups({ config, cluster, nodes: twoGroupNodes() }, deps, reads);

      // Assess
      expect(readAhead).toEqual([
        'tag-key nlb-nodeport-sync/cluster kubernetes.io/cluster/prod',
        `rules ${NODE_GROUP}`,
      ]);
      expect(groups.reads).toEqual(readAhead);
      expect(result.groupIds).toEqual([NODE_GROUP]);
      expect(result.counts).toEqual([expect.objectContaining({ groupId: NODE_GROUP, before: 1 })]);
    });

    it('reads in the same call the rules of a group tagged for the cluster that no node carries, and leaves it', async () => {
      // Prepare: EKS's cluster group is tagged owned too, but the nodes do not carry it
      const { config, cluster } = configWith({ source: 'vpc-cidr' });
      const groups = new FakeGroups({
        [NODE_GROUP]: { 'nlb-nodeport-sync/cluster': 'prod' },
        [CLUSTER_SG]: { 'kubernetes.io/cluster/prod': 'owned' },
      });
      const deps = { securityGroups: groups, loadBalancers, ...silentTelemetry() };

      // Act
      const result = await syncSecurityGroups(
        { config, cluster, nodes: [asgNode(1)] },
        deps,
        startSecurityGroupReads({ cluster }, deps),
      );

      // Assess
      expect(groups.reads).toEqual([
        'tag-key nlb-nodeport-sync/cluster kubernetes.io/cluster/prod',
        `rules ${NODE_GROUP} ${CLUSTER_SG}`,
      ]);
      expect(result.groupIds).toEqual([NODE_GROUP]);
      expect(groups.writes.every((w) => w.startsWith(`authorize ${NODE_GROUP}`))).toBe(true);
    });

    it('refuses two node groups both tagged for the cluster, naming them', async () => {
      // Prepare
      const { config, cluster } = configWith({ source: 'vpc-cidr' });
      const groups = new FakeGroups({
        [NODE_GROUP]: { 'nlb-nodeport-sync/cluster': 'prod' },
        [OTHER]: { 'kubernetes.io/cluster/prod': 'shared' },
      });

      // Act
      const result = syncSecurityGroups(
        { config, cluster, nodes: twoGroupNodes() },
        { securityGroups: groups, loadBalancers, ...silentTelemetry() },
      );

      // Assess
      await expect(result).rejects.toThrow(AmbiguousSecurityGroupError);
      await expect(result).rejects.toThrow(`2 are tagged for the cluster (${NODE_GROUP}, ${OTHER})`);
      expect(groups.writes).toEqual([]);
    });

    it("reads the chosen group's rules itself when the read sent after the search failed", async () => {
      // Prepare
      const { config, cluster } = configWith({ source: 'vpc-cidr' });
      const groups = new FakeGroups(
        { [NODE_GROUP]: { 'nlb-nodeport-sync/cluster': 'prod' } },
        { [NODE_GROUP]: foreignRules(NODE_GROUP, 2) },
      );
      groups.failing.describeIngressRulesOf = new Error('Throttling');

      // Act
      const result = await syncSecurityGroups(
        { config, cluster, nodes: [asgNode(1)] },
        { securityGroups: groups, loadBalancers, ...silentTelemetry() },
      );

      // Assess
      expect(groups.reads).toEqual([
        'tag-key nlb-nodeport-sync/cluster kubernetes.io/cluster/prod',
        `rules ${NODE_GROUP}`,
        `rules ${NODE_GROUP}`,
      ]);
      expect(result.counts).toEqual([expect.objectContaining({ groupId: NODE_GROUP, before: 2 })]);
    });

    it('fails with the tag search, before any rule is read or written', async () => {
      // Prepare
      const { config, cluster } = configWith({ source: 'vpc-cidr' });
      const groups = new FakeGroups({ [NODE_GROUP]: { 'nlb-nodeport-sync/cluster': 'prod' } });
      groups.failing.describeGroupsWithTagKeys = new Error('UnauthorizedOperation');

      // Act
      const result = syncSecurityGroups(
        { config, cluster, nodes: [asgNode(1)] },
        { securityGroups: groups, loadBalancers, ...silentTelemetry() },
      );

      // Assess
      await expect(result).rejects.toThrow('UnauthorizedOperation');
      expect(groups.reads).toEqual(['tag-key nlb-nodeport-sync/cluster kubernetes.io/cluster/prod']);
      expect(groups.writes).toEqual([]);
    });

    it('sends no read for a cluster without a desired node, and warns', async () => {
      // Prepare
      const { config, cluster } = configWith({ source: 'vpc-cidr' });
      const groups = new FakeGroups({ [NODE_GROUP]: { 'nlb-nodeport-sync/cluster': 'prod' } });

      // Act
      const result = await syncSecurityGroups(
        { config, cluster, nodes: [] },
        { securityGroups: groups, loadBalancers, ...silentTelemetry() },
      );

      // Assess
      expect(result.skipped).toBe('no node security group known');
      expect(groups.reads).toEqual([]);
    });
  });

  describe('the inbound-rules quota', () => {
    const scene = (extra: Record<string, unknown> = {}) => {
      const { config, cluster } = configWith({ source: 'vpc-cidr', groupIds: [FULL, ROOMY], ...extra });
      const groups = new FakeGroups({}, { [FULL]: foreignRules(FULL, 60), [ROOMY]: foreignRules(ROOMY, 10) });
      const telemetry = silentTelemetry();
      const addMetric = jest.spyOn(telemetry.metrics, 'addMetric');
      return { config, cluster, groups, telemetry, addMetric };
    };

    it('writes nothing to a group the plan would take past 60 rules, writes the others, then fails naming the quota', async () => {
      // Prepare
      const { config, cluster, groups, telemetry, addMetric } = scene();

      // Act
      const result = syncSecurityGroups(
        { config, cluster, nodes: [asgNode(1)] },
        { securityGroups: groups, loadBalancers, ...telemetry },
      );

      // Assess
      await expect(result).rejects.toThrow(QuotaExceededError);
      await expect(result).rejects.toThrow(/quota of 60 inbound rules per security group/);
      expect(groups.writes.length).toBeGreaterThan(0);
      expect(groups.writes.filter((w) => w.includes(FULL))).toEqual([]);
      expect(groups.writes.every((w) => w.startsWith(`authorize ${ROOMY}`))).toBe(true);
      expect(addMetric).toHaveBeenCalledWith('QuotaRefusals', 'Count', 1);
    });

    it('reports the refusal in a dry run, with the changes it holds back', async () => {
      // Prepare
      const { config, cluster, groups, telemetry } = scene();

      // Act
      const result = await syncSecurityGroups(
        { config, cluster, nodes: [asgNode(1)], dryRun: true },
        { securityGroups: groups, loadBalancers, ...telemetry },
      );

      // Assess
      expect(result.quotaRefusals).toEqual([
        expect.stringContaining(`security group ${FULL}: the plan would hold`),
      ]);
      expect(result.refused.length).toBeGreaterThan(0);
      expect(result.refused.every((r) => r.change.groupId === FULL)).toBe(true);
      expect(result.plan.every((c) => c.groupId === ROOMY)).toBe(true);
      expect(groups.writes).toEqual([]);
    });

    it('honours a smaller quota given by the caller', async () => {
      // Prepare: the roomy group holds 10; a quota of 10 refuses it too
      const { config, cluster, groups, telemetry, addMetric } = scene();

      // Act
      const result = syncSecurityGroups(
        { config, cluster, nodes: [asgNode(1)] },
        { securityGroups: groups, loadBalancers, ...telemetry, quotas: { inboundRulesPerGroup: 10 } },
      );

      // Assess
      await expect(result).rejects.toThrow(QuotaExceededError);
      expect(groups.writes).toEqual([]);
      expect(addMetric).toHaveBeenCalledWith('QuotaRefusals', 'Count', 2);
    });

    it('uses the raised quota the config names (securityGroups.inboundRuleQuota)', async () => {
      // Prepare: the account's quota raised to 100: the full group has room
      const { config, cluster, groups, telemetry, addMetric } = scene({ inboundRuleQuota: 100 });

      // Act
      const result = await syncSecurityGroups(
        { config, cluster, nodes: [asgNode(1)] },
        { securityGroups: groups, loadBalancers, ...telemetry },
      );

      // Assess
      expect(result.quotaRefusals).toEqual([]);
      expect(groups.writes.some((w) => w.startsWith(`authorize ${FULL}`))).toBe(true);
      expect(addMetric).not.toHaveBeenCalledWith('QuotaRefusals', 'Count', expect.anything());
    });
  });
});
