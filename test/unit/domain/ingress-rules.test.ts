import type { ClusterConfig, PortMapping } from '../../../lambdas/domain/config';
import {
  chooseNodeGroups,
  desireIngress,
  isOwnedRule,
  nextSourceFact,
  nodeGroupCandidates,
  planIngress,
  preservesClientIp,
  type ResolvedIngressSource,
  resolveIngressSource,
  ruleDescription,
  ruleOwnerPrefix,
} from '../../../lambdas/domain/ingress-rules';
import { AmbiguousSecurityGroupError, IngressSourceError } from '../../../lambdas/domain/network-errors';
import type {
  IngressRuleSpec,
  ObservedIngressRule,
  SecurityGroupInfo,
} from '../../../lambdas/domain/network-ports';
import { mergePortRanges } from '../../../lambdas/domain/port-ranges';

const OWNER = 'nlb-nodeport-sync';
const ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef';

function mapping(overrides: Partial<PortMapping> & Pick<PortMapping, 'name' | 'nodePort'>): PortMapping {
  return { targetGroupArn: ARN, targetType: 'ip', protocol: 'TCP', ...overrides };
}

function cluster(
  portMappings: PortMapping[],
  securityGroups: Partial<NonNullable<ClusterConfig['securityGroups']>> = {},
): Pick<ClusterConfig, 'name' | 'portMappings' | 'securityGroups'> {
  return {
    name: 'blue',
    portMappings,
    securityGroups: {
      enabled: true,
      source: 'auto',
      clientCidrs: [],
      allowAnywhere: false,
      ...securityGroups,
    },
  };
}

const FROM_SG: ResolvedIngressSource = {
  mode: 'load-balancer-security-group',
  sources: [{ kind: 'group', groupId: 'sg-0nlb' }],
  reason: 'test',
};
const FROM_IPS: ResolvedIngressSource = {
  mode: 'load-balancer-ips',
  sources: [
    { kind: 'cidr', cidr: '10.0.1.10/32' },
    { kind: 'cidr', cidr: '10.0.2.10/32' },
  ],
  reason: 'test',
};

function owned(
  ruleId: string,
  fromPort: number,
  toPort: number,
  source: ObservedIngressRule['source'],
  purposes = 'traffic',
): ObservedIngressRule {
  return {
    ruleId,
    groupId: 'sg-0node',
    protocol: 'tcp',
    fromPort,
    toPort,
    source,
    description: `${ruleOwnerPrefix(OWNER, 'blue')}${purposes}`,
  };
}

describe('Function: mergePortRanges', () => {
  it.each([
    { ports: [], ranges: [] },
    { ports: [30080], ranges: [{ from: 30080, to: 30080 }] },
    {
      ports: [30081, 30080, 30080, 30083],
      ranges: [
        { from: 30080, to: 30081 },
        { from: 30083, to: 30083 },
      ],
    },
    { ports: [3, 1, 2, 4], ranges: [{ from: 1, to: 4 }] },
  ])('merges $ports into $ranges', ({ ports, ranges }) => {
    // Act
    const merged = mergePortRanges(ports);

    // Assess
    expect(merged).toEqual(ranges);
  });
});

describe('Function: ruleDescription', () => {
  it('names the product, the owner, the cluster and the sorted purposes', () => {
    // Act
    const description = ruleDescription('team-a', 'blue', ['traffic', 'health', 'traffic']);

    // Assess
    expect(description).toBe('nlb-nodeport-sync:team-a/blue:health+traffic');
    expect(description.length).toBeLessThanOrEqual(255);
  });

  it('stays under 255 characters for the longest owner and cluster names the config allows', () => {
    // Act
    const description = ruleDescription('o'.repeat(40), 'c'.repeat(40), ['client', 'health', 'traffic']);

    // Assess
    expect(description.length).toBeLessThan(255);
  });
});

describe('Function: isOwnedRule', () => {
  it.each([
    { description: 'nlb-nodeport-sync:nlb-nodeport-sync/blue:traffic', owned: true },
    { description: 'nlb-nodeport-sync:nlb-nodeport-sync/blue-2:traffic', owned: false },
    { description: 'nlb-nodeport-sync:other-owner/blue:traffic', owned: false },
    { description: 'kubernetes.io/rule/nlb/health=web', owned: false },
    { description: undefined, owned: false },
  ])('says $owned for description $description', ({ description, owned: expected }) => {
    // Act
    const result = isOwnedRule({ description }, OWNER, 'blue');

    // Assess
    expect(result).toBe(expected);
  });
});

describe('Function: resolveIngressSource', () => {
  it('prefers the NLB security group under auto', () => {
    // Act
    const source = resolveIngressSource('auto', { securityGroupIds: ['sg-0b', 'sg-0a'] });

    // Assess
    expect(source.mode).toBe('load-balancer-security-group');
    expect(source.sources).toEqual([{ kind: 'group', groupId: 'sg-0a' }]);
  });

  it('falls back to the NLB private IPs, then to the VPC CIDR, under auto', () => {
    // Act
    const fromIps = resolveIngressSource('auto', {
      securityGroupIds: [],
      privateIps: ['10.0.2.9', '10.0.10.1'],
    });
    const fromVpc = resolveIngressSource('auto', {
      securityGroupIds: [],
      privateIps: [],
      vpcCidrs: ['10.0.0.0/16'],
    });

    // Assess
    expect(fromIps.sources).toEqual([
      { kind: 'cidr', cidr: '10.0.2.9/32' },
      { kind: 'cidr', cidr: '10.0.10.1/32' },
    ]);
    expect(fromVpc).toMatchObject({ mode: 'vpc-cidr', sources: [{ kind: 'cidr', cidr: '10.0.0.0/16' }] });
  });

  it('refuses load-balancer-security-group when the NLB has none', () => {
    // Act & Assess
    expect(() => resolveIngressSource('load-balancer-security-group', { securityGroupIds: [] })).toThrow(
      IngressSourceError,
    );
  });

  it('refuses load-balancer-ips when no NLB interface was found', () => {
    // Act & Assess
    expect(() => resolveIngressSource('load-balancer-ips', { securityGroupIds: [], privateIps: [] })).toThrow(
      IngressSourceError,
    );
  });

  it('never resolves a VPC CIDR of 0.0.0.0/0', () => {
    // Act & Assess
    expect(() => resolveIngressSource('vpc-cidr', { securityGroupIds: [], vpcCidrs: ['0.0.0.0/0'] })).toThrow(
      IngressSourceError,
    );
  });
});

describe('Function: nextSourceFact', () => {
  it.each([
    { mode: 'auto', facts: { securityGroupIds: ['sg-1'] }, next: undefined },
    { mode: 'auto', facts: { securityGroupIds: [] }, next: 'privateIps' },
    { mode: 'auto', facts: { securityGroupIds: [], privateIps: ['10.0.0.1'] }, next: undefined },
    { mode: 'auto', facts: { securityGroupIds: [], privateIps: [] }, next: 'vpcCidrs' },
    { mode: 'vpc-cidr', facts: { securityGroupIds: ['sg-1'] }, next: 'vpcCidrs' },
    { mode: 'load-balancer-ips', facts: { securityGroupIds: [], privateIps: [] }, next: undefined },
    { mode: 'load-balancer-security-group', facts: { securityGroupIds: [] }, next: undefined },
  ] as const)('asks for $next under $mode with $facts', ({ mode, facts, next }) => {
    // Act
    const result = nextSourceFact(mode, facts);

    // Assess
    expect(result).toBe(next);
  });
});

describe('Function: preservesClientIp', () => {
  it.each([
    { targetType: 'instance', protocol: 'TCP', preserveClientIp: undefined, expected: true },
    { targetType: 'ip', protocol: 'TCP', preserveClientIp: undefined, expected: false },
    { targetType: 'ip', protocol: 'UDP', preserveClientIp: undefined, expected: true },
    { targetType: 'ip', protocol: 'TCP', preserveClientIp: true, expected: true },
    { targetType: 'instance', protocol: 'TCP', preserveClientIp: false, expected: false },
  ] as const)('is $expected for $targetType $protocol with preserveClientIp $preserveClientIp', (row) => {
    // Act
    const result = preservesClientIp(row);

    // Assess
    expect(result).toBe(row.expected);
  });
});

describe('Function: desireIngress', () => {
  it('admits each NodePort and health-check NodePort from the NLB security group, merged into ranges', () => {
    // Prepare
    const mappings = [
      mapping({ name: 'http', nodePort: 30080, healthCheckNodePort: 30081 }),
      mapping({ name: 'https', nodePort: 30443 }),
    ];

    // Act
    const { rules } = desireIngress({ ownerId: OWNER, cluster: cluster(mappings), source: FROM_SG });

    // Assess
    expect(rules).toEqual([
      {
        protocol: 'tcp',
        fromPort: 30080,
        toPort: 30081,
        source: { kind: 'group', groupId: 'sg-0nlb' },
        description: 'nlb-nodeport-sync:nlb-nodeport-sync/blue:health+traffic',
      },
      {
        protocol: 'tcp',
        fromPort: 30443,
        toPort: 30443,
        source: { kind: 'group', groupId: 'sg-0nlb' },
        description: 'nlb-nodeport-sync:nlb-nodeport-sync/blue:health+traffic',
      },
    ]);
  });

  it('writes one rule per NLB IP and range', () => {
    // Prepare
    const mappings = [mapping({ name: 'http', nodePort: 30080, healthCheckNodePort: 30081 })];

    // Act
    const { rules } = desireIngress({ ownerId: OWNER, cluster: cluster(mappings), source: FROM_IPS });

    // Assess
    expect(
      rules.map((r) => `${r.fromPort}-${r.toPort} ${r.source.kind === 'cidr' ? r.source.cidr : ''}`),
    ).toEqual(['30080-30081 10.0.1.10/32', '30080-30081 10.0.2.10/32']);
  });

  it('opens UDP traffic ports with udp and their health checks with tcp', () => {
    // Prepare
    const mappings = [mapping({ name: 'dns', nodePort: 30053, protocol: 'UDP' })];

    // Act
    const { rules } = desireIngress({ ownerId: OWNER, cluster: cluster(mappings), source: FROM_SG });

    // Assess
    expect(rules.map((r) => `${r.protocol} ${r.fromPort} ${r.description.split(':').at(-1)}`)).toEqual([
      'tcp 30053 health',
      'udp 30053 traffic',
    ]);
  });

  it('admits client CIDRs on traffic ports only where the client IP is preserved', () => {
    // Prepare
    const mappings = [
      mapping({ name: 'web', nodePort: 30080, targetType: 'instance', healthCheckNodePort: 30090 }),
      mapping({ name: 'api', nodePort: 30081 }),
    ];

    // Act
    const { rules } = desireIngress({
      ownerId: OWNER,
      cluster: cluster(mappings, { clientCidrs: ['192.0.2.0/24'] }),
      source: FROM_SG,
    });

    // Assess
    const clientRules = rules.filter((r) => r.source.kind === 'cidr');
    expect(clientRules).toEqual([
      {
        protocol: 'tcp',
        fromPort: 30080,
        toPort: 30080,
        source: { kind: 'cidr', cidr: '192.0.2.0/24' },
        description: 'nlb-nodeport-sync:nlb-nodeport-sync/blue:client',
      },
    ]);
  });

  it('warns when the client IP is preserved, the NLB has no group, and no client CIDR is configured', () => {
    // Prepare
    const mappings = [mapping({ name: 'web', nodePort: 30080, targetType: 'instance' })];

    // Act
    const { warnings } = desireIngress({ ownerId: OWNER, cluster: cluster(mappings), source: FROM_IPS });

    // Assess
    expect(warnings).toEqual([expect.stringContaining('preserves the client IP')]);
  });

  it('refuses 0.0.0.0/0 without allowAnywhere and accepts it with', () => {
    // Prepare
    const mappings = [mapping({ name: 'web', nodePort: 30080, targetType: 'instance' })];

    // Act & Assess
    expect(() =>
      desireIngress({
        ownerId: OWNER,
        cluster: cluster(mappings, { clientCidrs: ['0.0.0.0/0'] }),
        source: FROM_SG,
      }),
    ).toThrow(IngressSourceError);
    const { rules } = desireIngress({
      ownerId: OWNER,
      cluster: cluster(mappings, { clientCidrs: ['0.0.0.0/0'], allowAnywhere: true }),
      source: FROM_SG,
    });
    expect(rules.some((r) => r.source.kind === 'cidr' && r.source.cidr === '0.0.0.0/0')).toBe(true);
  });
});

describe('Function: planIngress', () => {
  const want: IngressRuleSpec = {
    protocol: 'tcp',
    fromPort: 30080,
    toPort: 30081,
    source: { kind: 'group', groupId: 'sg-0nlb' },
    description: 'nlb-nodeport-sync:nlb-nodeport-sync/blue:health+traffic',
  };

  it('authorizes a missing rule', () => {
    // Act
    const plan = planIngress({
      ownerId: OWNER,
      clusterName: 'blue',
      groupIds: ['sg-0node'],
      desired: [want],
      observed: {},
    });

    // Assess
    expect(plan.changes).toEqual([
      {
        kind: 'authorize',
        groupId: 'sg-0node',
        rule: want,
        reason: 'tcp 30080-30081 from sg-0nlb is needed and missing',
      },
    ]);
  });

  it('revokes a stale owned rule and leaves unowned and foreign-cluster rules alone', () => {
    // Prepare
    const stale = owned('sgr-stale', 30070, 30070, { kind: 'group', groupId: 'sg-0nlb' });
    const handMade: ObservedIngressRule = { ...stale, ruleId: 'sgr-hand', description: 'ops: debugging' };
    const otherCluster: ObservedIngressRule = {
      ...stale,
      ruleId: 'sgr-green',
      description: `${ruleOwnerPrefix(OWNER, 'green')}traffic`,
    };
    const mine = owned('sgr-mine', 30080, 30081, { kind: 'group', groupId: 'sg-0nlb' }, 'health+traffic');

    // Act
    const plan = planIngress({
      ownerId: OWNER,
      clusterName: 'blue',
      groupIds: ['sg-0node'],
      desired: [want],
      observed: { 'sg-0node': [stale, handMade, otherCluster, mine] },
    });

    // Assess
    expect(plan.changes).toEqual([
      {
        kind: 'revoke',
        groupId: 'sg-0node',
        rule: stale,
        reason: 'tcp 30070 from sg-0nlb is no longer needed',
      },
    ]);
  });

  it('leaves a desired rule to an unowned rule that already admits the same ports from the same source', () => {
    // Prepare
    const handMade: ObservedIngressRule = {
      ...owned('sgr-hand', 30080, 30081, { kind: 'group', groupId: 'sg-0nlb' }),
      description: undefined,
    };

    // Act
    const plan = planIngress({
      ownerId: OWNER,
      clusterName: 'blue',
      groupIds: ['sg-0node'],
      desired: [want],
      observed: { 'sg-0node': [handMade] },
    });

    // Assess
    expect(plan.changes).toEqual([]);
    expect(plan.coveredByUnowned).toEqual([{ groupId: 'sg-0node', rule: want, by: 'sgr-hand' }]);
  });

  it('rewrites the description of an owned rule whose purposes changed', () => {
    // Prepare
    const mine = owned('sgr-mine', 30080, 30081, { kind: 'group', groupId: 'sg-0nlb' }, 'traffic');

    // Act
    const plan = planIngress({
      ownerId: OWNER,
      clusterName: 'blue',
      groupIds: ['sg-0node'],
      desired: [want],
      observed: { 'sg-0node': [mine] },
    });

    // Assess
    expect(plan.changes).toEqual([
      expect.objectContaining({ kind: 'update-description', rule: mine, description: want.description }),
    ]);
  });

  it('authorizes before it revokes, so a moved port is never closed in between', () => {
    // Prepare
    const stale = owned('sgr-stale', 30070, 30070, { kind: 'group', groupId: 'sg-0nlb' });

    // Act
    const plan = planIngress({
      ownerId: OWNER,
      clusterName: 'blue',
      groupIds: ['sg-0node'],
      desired: [want],
      observed: { 'sg-0node': [stale] },
    });

    // Assess
    expect(plan.changes.map((c) => c.kind)).toEqual(['authorize', 'revoke']);
    expect(plan.counts).toEqual([{ groupId: 'sg-0node', before: 1, after: 1, peak: 2 }]);
  });

  it('revokes first and warns when the group would pass the quota', () => {
    // Prepare
    const stale = owned('sgr-stale', 30070, 30070, { kind: 'group', groupId: 'sg-0nlb' });
    const others = Array.from(
      { length: 2 },
      (_, i): ObservedIngressRule => ({
        ...stale,
        ruleId: `sgr-hand-${i}`,
        fromPort: 22 + i,
        toPort: 22 + i,
        description: 'ssh',
      }),
    );
    const more: IngressRuleSpec = { ...want, fromPort: 30090, toPort: 30090 };

    // Act
    const plan = planIngress({
      ownerId: OWNER,
      clusterName: 'blue',
      groupIds: ['sg-0node'],
      desired: [want, more],
      observed: { 'sg-0node': [stale, ...others] },
      quota: 3,
    });

    // Assess
    expect(plan.changes.map((c) => c.kind)).toEqual(['revoke', 'authorize', 'authorize']);
    expect(plan.counts).toEqual([{ groupId: 'sg-0node', before: 3, after: 4, peak: 4 }]);
  });

  it('revokes a second owned rule with the same identity, keeping the first', () => {
    // Prepare
    const first = owned('sgr-a', 30080, 30081, { kind: 'group', groupId: 'sg-0nlb' }, 'health+traffic');
    const second = { ...first, ruleId: 'sgr-b' };

    // Act
    const plan = planIngress({
      ownerId: OWNER,
      clusterName: 'blue',
      groupIds: ['sg-0node'],
      desired: [want],
      observed: { 'sg-0node': [second, first] },
    });

    // Assess
    expect(plan.changes).toEqual([expect.objectContaining({ kind: 'revoke', rule: second })]);
  });
});

describe('Function: chooseNodeGroups', () => {
  it('takes the only candidate when it is tagged for the cluster', () => {
    // Act & Assess
    expect(
      chooseNodeGroups('blue', [{ groupId: 'sg-1', tags: { 'nlb-nodeport-sync/cluster': 'blue' } }]),
    ).toEqual(['sg-1']);
  });

  it('refuses a lone untagged candidate, which the deployed role could not change', () => {
    // Act & Assess
    expect(() => chooseNodeGroups('blue', [{ groupId: 'sg-1', tags: {} }])).toThrow(
      AmbiguousSecurityGroupError,
    );
  });

  it('takes the one candidate tagged for the cluster', () => {
    // Prepare
    const groups: SecurityGroupInfo[] = [
      { groupId: 'sg-1', tags: {} },
      { groupId: 'sg-2', tags: { 'kubernetes.io/cluster/blue': 'owned' } },
    ];

    // Act & Assess
    expect(chooseNodeGroups('blue', groups)).toEqual(['sg-2']);
    expect(
      chooseNodeGroups('blue', [
        { groupId: 'sg-1', tags: {} },
        { groupId: 'sg-3', tags: { 'nlb-nodeport-sync/cluster': 'blue' } },
      ]),
    ).toEqual(['sg-3']);
  });

  it('does not take a group whose Kubernetes tag has a value other than owned or shared', () => {
    // The role may write only under owned|shared: choosing it would fail mid-pass with AccessDenied.
    expect(() =>
      chooseNodeGroups('blue', [
        { groupId: 'sg-1', tags: {} },
        { groupId: 'sg-2', tags: { 'kubernetes.io/cluster/blue': 'anything' } },
      ]),
    ).toThrow(AmbiguousSecurityGroupError);
    expect(
      chooseNodeGroups('blue', [
        { groupId: 'sg-1', tags: {} },
        { groupId: 'sg-2', tags: { 'kubernetes.io/cluster/blue': 'shared' } },
      ]),
    ).toEqual(['sg-2']);
  });

  it('refuses to guess between untagged or several tagged candidates', () => {
    // Act & Assess
    expect(() =>
      chooseNodeGroups('blue', [
        { groupId: 'sg-1', tags: {} },
        { groupId: 'sg-2', tags: {} },
      ]),
    ).toThrow(AmbiguousSecurityGroupError);
    expect(() =>
      chooseNodeGroups('blue', [
        { groupId: 'sg-1', tags: { 'kubernetes.io/cluster/blue': 'owned' } },
        { groupId: 'sg-2', tags: { 'nlb-nodeport-sync/cluster': 'blue' } },
      ]),
    ).toThrow(AmbiguousSecurityGroupError);
  });
});

describe('Function: nodeGroupCandidates', () => {
  it('unites and sorts the groups of the nodes', () => {
    // Act
    const ids = nodeGroupCandidates([{ securityGroupIds: ['sg-2', 'sg-1'] }, { securityGroupIds: ['sg-1'] }]);

    // Assess
    expect(ids).toEqual(['sg-1', 'sg-2']);
  });
});
