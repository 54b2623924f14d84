import type {
  DnsPort,
  LoadBalancerInfo,
  LoadBalancerPort,
  SecurityGroupSearchPort,
} from '../../../lambdas/domain/network-ports';
import { judgeNodes } from '../../../lambdas/domain/target-plan';
import { networkSteps } from '../../../lambdas/sync/network-steps';
import type { ReconcileStepInput } from '../../../lambdas/sync/reconcile-pass';
import { asgNode, silentTelemetry } from '../../support/fake-aws';
import { NLB_ARN, nlbClusterConfig } from '../../support/network-fixtures';

const { config, cluster } = nlbClusterConfig({
  securityGroups: { groupIds: ['sg-0123456789abcdef0'] },
  dns: { hostedZoneId: 'Z1', aliasNames: ['proxy.example.com'] },
});

function ports() {
  const nlb: LoadBalancerInfo = {
    arn: NLB_ARN,
    name: 'ingress',
    dnsName: 'ingress-1.elb.us-east-1.amazonaws.com',
    canonicalHostedZoneId: 'Z26RNL4JYFTOTI',
    vpcId: 'vpc-1',
    securityGroupIds: ['sg-0aaaaaaaaaaaaaaaa'],
    dualstack: false,
  };
  const loadBalancers: LoadBalancerPort = {
    describeLoadBalancer: jest.fn(async () => nlb),
    describePrivateIps: jest.fn(async () => []),
    describeVpcCidrs: jest.fn(async () => ['10.0.0.0/16']),
  };
  const securityGroups: SecurityGroupSearchPort = {
    describeGroups: async (ids) => ids.map((groupId) => ({ groupId, tags: {} })),
    describeGroupsWithTagKeys: async () => [],
    describeIngressRules: async () => [],
    describeIngressRulesOf: async (ids) => Object.fromEntries(ids.map((id) => [id, []])),
    authorizeIngress: async (_id, rules) => ({ done: rules.length, alreadyDone: 0 }),
    revokeIngress: async (_id, rules) => ({ done: rules.length, alreadyDone: 0 }),
    updateIngressDescription: async () => undefined,
  };
  const dns: DnsPort = {
    describeZone: async () => ({ id: 'Z1', name: 'example.com.' }),
    listRecordSets: async () => [],
    changeRecordSets: async () => ({ changeId: 'c1', status: 'PENDING' }),
  };
  return {
    loadBalancers,
    securityGroups,
    dns,
    ...silentTelemetry(),
  };
}

describe('Function: networkSteps', () => {
  it('describes the NLB once per pass, though both steps read it', async () => {
    // Prepare
    const deps = ports();
    const steps = networkSteps(deps);
    const pass = (): ReconcileStepInput => ({
      config,
      cluster,
      judged: judgeNodes([asgNode(1)]),
      dryRun: true,
    });
    // Act: two passes, each handing its steps one input, as reconcileCluster does
    for (const input of [pass(), pass()]) {
      for (const step of steps) await step.run(input);
    }
    // Assess
    expect(deps.loadBalancers.describeLoadBalancer).toHaveBeenCalledTimes(2);
  });

  it('lists the security-group changes a quota holds back in a dry run, marked refused with the quota', async () => {
    // Prepare: the node group already holds 60 rules of someone else
    const deps = ports();
    const full = Array.from({ length: 60 }, (_, i) => ({
      ruleId: `sgr-${i}`,
      groupId: 'sg-0123456789abcdef0',
      protocol: 'tcp',
      fromPort: 1000 + i,
      toPort: 1000 + i,
      source: { kind: 'cidr' as const, cidr: `192.168.${i}.0/24` },
      description: 'someone else',
    }));
    deps.securityGroups.describeIngressRules = async () => full;
    const [securityGroupStep] = networkSteps(deps);
    if (securityGroupStep === undefined) throw new Error('no security-group step');
    // Act
    const result = await securityGroupStep.run({
      config,
      cluster,
      judged: judgeNodes([asgNode(1)]),
      dryRun: true,
    });
    // Assess
    expect(result.planned.length).toBeGreaterThan(0);
    expect(result.planned.every((line) => line.startsWith('refused + sg-0123456789abcdef0 tcp 30000'))).toBe(
      true,
    );
    expect(result.planned[0]).toMatch(/quota of 60 inbound rules per security group/);
  });
});
