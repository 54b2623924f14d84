import type { Node } from '../../../lambdas/domain/node';
import { checkTargetQuotas, TARGET_QUOTAS } from '../../../lambdas/domain/quotas';
import type { ObservedTarget } from '../../../lambdas/domain/target';
import { judgeNodes, planTargetGroup, type ResolvedPortMapping } from '../../../lambdas/domain/target-plan';

const arn = (name: string) =>
  `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/0123456789abcdef`;
const mapping = (name: string, nodePort: number): ResolvedPortMapping => ({
  name,
  targetGroupArn: arn(name),
  targetType: 'ip',
  nodePort,
  protocol: 'TCP',
});

function node(n: number, availabilityZone?: string): Node {
  return {
    instanceId: `i-${n.toString(16).padStart(17, '0')}`,
    privateIp: `10.0.${Math.floor(n / 250)}.${(n % 250) + 1}`,
    ...(availabilityZone !== undefined && { availabilityZone }),
    ec2State: 'running',
    autoScalingGroupName: 'workers',
    lifecycleState: 'InService',
    healthStatus: 'Healthy',
    securityGroupIds: [],
    origins: ['auto-scaling-group'],
  };
}

function plansFor(nodes: Node[], observed: ObservedTarget[][] = [], groups = 2) {
  const judged = judgeNodes(nodes);
  const plans = Array.from({ length: groups }, (_, g) =>
    planTargetGroup(mapping(`g${g}`, 30000 + g), judged, observed[g] ?? [], []),
  );
  return { plans, judged };
}

const small = { perTargetGroup: 4, perAvailabilityZonePerLoadBalancer: 5, perLoadBalancer: 7 };

describe('Function: checkTargetQuotas', () => {
  it('states the documented ELB quotas', () => {
    expect(TARGET_QUOTAS).toEqual({
      perTargetGroup: 1000,
      perAvailabilityZonePerLoadBalancer: 500,
      perLoadBalancer: 3000,
    });
  });

  it('accepts a plan within every quota', () => {
    const { plans, judged } = plansFor([node(1, 'a'), node(2, 'b')]);
    expect(checkTargetQuotas(plans, judged, small)).toEqual([]);
  });

  it('refuses only the group that would pass the targets-per-group quota', () => {
    // Prepare: group g0 already holds 4 (unrelated ids kept as preserved-free owned targets)
    const { plans, judged } = plansFor([node(1, 'a')], [], 1);
    const full = {
      ...plans[0],
      preserved: ['1', '2', '3', '4'].map((id) => ({ id, port: 1, state: 'healthy' as const })),
    };
    // Act
    const refusals = checkTargetQuotas([full as (typeof plans)[0]], judged, {
      ...small,
      perLoadBalancer: 99,
      perAvailabilityZonePerLoadBalancer: 99,
    });
    // Assess
    expect(refusals).toEqual([
      {
        targetGroupArns: [arn('g0')],
        message: expect.stringMatching(
          /^g0: the plan would hold 5 targets, over the quota of 4 targets per target group/,
        ),
      },
    ]);
  });

  it('counts a target in N groups N times per Availability Zone, and refuses the whole NLB', () => {
    // Prepare: 3 nodes in zone a, 2 groups: 6 targets in a > 5
    const { plans, judged } = plansFor([node(1, 'a'), node(2, 'a'), node(3, 'a'), node(4, 'b')]);
    // Act
    const refusals = checkTargetQuotas(plans, judged, { ...small, perTargetGroup: 99, perLoadBalancer: 99 });
    // Assess
    expect(refusals).toEqual([
      {
        targetGroupArns: [arn('g0'), arn('g1')],
        message: expect.stringMatching(
          /6 targets in a .* over the quota of 5 targets per Availability Zone per Network Load Balancer/,
        ),
      },
    ]);
  });

  it('does not count targets whose Availability Zone is unknown per zone', () => {
    const { plans, judged } = plansFor([node(1), node(2), node(3)]);
    expect(checkTargetQuotas(plans, judged, { ...small, perTargetGroup: 99, perLoadBalancer: 99 })).toEqual(
      [],
    );
  });

  it('refuses the NLB when the plan passes its target quota', () => {
    const { plans, judged } = plansFor([node(1, 'a'), node(2, 'b'), node(3, 'c'), node(4, 'd')]);
    expect(checkTargetQuotas(plans, judged, { ...small, perTargetGroup: 99 })).toEqual([
      {
        targetGroupArns: [arn('g0'), arn('g1')],
        message: expect.stringMatching(
          /8 targets behind the NLB .* over the quota of 7 targets per Network Load Balancer/,
        ),
      },
    ]);
  });

  it('never blocks a plan that shrinks a count already over a quota', () => {
    // Prepare: 3 nodes left of 5 observed in zone a, quota 2 per zone
    const observed = [1, 2, 3, 4, 5].map((n) => ({
      id: node(n).privateIp ?? '',
      port: 30000,
      state: 'healthy' as const,
      availabilityZone: 'a',
    }));
    const { plans, judged } = plansFor([node(1, 'a'), node(2, 'a'), node(3, 'a')], [observed], 1);
    expect(
      checkTargetQuotas(plans, judged, {
        perTargetGroup: 2,
        perAvailabilityZonePerLoadBalancer: 2,
        perLoadBalancer: 2,
      }),
    ).toEqual([]);
  });
});
