import fc from 'fast-check';
import type { Node } from '../../../lambdas/domain/node';
import type { ObservedTarget, TargetState } from '../../../lambdas/domain/target';
import { TARGET_STATES, targetKey } from '../../../lambdas/domain/target';
import {
  applyChanges,
  checkGuards,
  type GroupPlan,
  isPreserved,
  judgeNodes,
  planTargetGroup,
  type ResolvedPortMapping,
} from '../../../lambdas/domain/target-plan';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app/0123456789abcdef';
const ipMapping: ResolvedPortMapping = {
  name: 'app',
  targetGroupArn: TG,
  targetType: 'ip',
  nodePort: 30000,
  protocol: 'TCP',
};
const instanceMapping: ResolvedPortMapping = { ...ipMapping, name: 'inst', targetType: 'instance' };

function node(n: number, lifecycleState = 'InService'): Node {
  return {
    instanceId: `i-${n.toString(16).padStart(17, '0')}`,
    privateIp: `10.0.${Math.floor(n / 250)}.${(n % 250) + 1}`,
    availabilityZone: 'us-east-1a',
    ec2State: 'running',
    autoScalingGroupName: 'workers',
    lifecycleState,
    healthStatus: 'Healthy',
    securityGroupIds: [],
    origins: ['auto-scaling-group'],
  };
}

function healthy(id: string, port = 30000, state: TargetState = 'healthy'): ObservedTarget {
  return { id, port, state };
}

describe('Function: planTargetGroup', () => {
  it.each([
    {
      name: 'registers every desired node into an empty group',
      nodes: [node(1), node(2)],
      observed: [],
      expected: ['register 10.0.0.2:30000', 'register 10.0.0.3:30000'],
    },
    {
      name: 'changes nothing when the group holds exactly the desired nodes',
      nodes: [node(1)],
      observed: [healthy('10.0.0.2')],
      expected: [],
    },
    {
      name: 'deregisters a node that left the ASG and registers a new one',
      nodes: [node(2)],
      observed: [healthy('10.0.0.2')],
      expected: ['register 10.0.0.3:30000', 'deregister 10.0.0.2:30000 vanished'],
    },
    {
      name: 'deregisters a terminating node as leaving',
      nodes: [node(1, 'Terminating:Wait'), node(2)],
      observed: [healthy('10.0.0.2'), healthy('10.0.0.3')],
      expected: ['deregister 10.0.0.2:30000 leaving'],
    },
    {
      name: 'leaves draining targets out of observed and does not deregister them again',
      nodes: [node(2)],
      observed: [healthy('10.0.0.2', 30000, 'draining'), healthy('10.0.0.3')],
      expected: [],
    },
    {
      name: 're-registers a desired node whose target is draining',
      nodes: [node(1)],
      observed: [healthy('10.0.0.2', 30000, 'draining')],
      expected: ['register 10.0.0.2:30000'],
    },
    {
      name: 'replaces a target registered on an old NodePort',
      nodes: [node(1)],
      observed: [healthy('10.0.0.2', 31000)],
      expected: ['register 10.0.0.2:30000', 'deregister 10.0.0.2:31000 replaced'],
    },
    {
      name: 'removes a stranger target nobody desires',
      nodes: [node(1), node(2)],
      observed: [healthy('10.0.0.2'), healthy('10.0.0.3'), healthy('10.9.9.9')],
      expected: ['deregister 10.9.9.9:30000 vanished'],
    },
  ])('$name', ({ nodes, observed, expected }) => {
    // Act
    const plan = planTargetGroup(ipMapping, judgeNodes(nodes), observed, []);
    // Assess
    expect(
      plan.changes.map((c) =>
        c.action === 'register'
          ? `register ${targetKey(c.target)}`
          : `deregister ${targetKey(c.target)} ${c.kind}`,
      ),
    ).toEqual(expected);
    for (const change of plan.changes) expect(change.reason.length).toBeGreaterThan(0);
  });

  it('uses instance ids for instance target groups', () => {
    // Act
    const plan = planTargetGroup(instanceMapping, judgeNodes([node(1)]), [], []);
    // Assess
    expect(plan.changes.map((c) => c.target)).toEqual([{ id: 'i-00000000000000001', port: 30000 }]);
  });

  it('never touches preserved targets, by id or by CIDR', () => {
    // Prepare
    const observed = [healthy('10.0.0.2'), healthy('192.168.1.5'), healthy('172.16.0.9')];
    // Act
    const plan = planTargetGroup(ipMapping, judgeNodes([]), observed, ['192.168.1.0/24', '172.16.0.9']);
    // Assess
    expect(plan.changes.map((c) => c.target.id)).toEqual(['10.0.0.2']);
    expect(plan.preserved.map((t) => t.id)).toEqual(['192.168.1.5', '172.16.0.9']);
  });

  it('treats a lifecycle event as stronger than the describe result', () => {
    // Act
    const plan = planTargetGroup(
      ipMapping,
      judgeNodes([node(1), node(2)], { leaving: [node(1).instanceId] }),
      [healthy('10.0.0.2'), healthy('10.0.0.3')],
      [],
    );
    // Assess
    expect(plan.changes).toEqual([
      expect.objectContaining({
        action: 'deregister',
        kind: 'leaving',
        target: { id: '10.0.0.2', port: 30000 },
      }),
    ]);
  });
});

describe('Function: checkGuards', () => {
  function planFor(nodes: Node[], observed: ObservedTarget[]): GroupPlan {
    return planTargetGroup(ipMapping, judgeNodes(nodes), observed, []);
  }
  const four = [healthy('10.0.0.2'), healthy('10.0.0.3'), healthy('10.0.0.4'), healthy('10.0.0.5')];

  it('refuses to deregister more than half of the healthy targets as vanished', () => {
    // Prepare: discovery lost 3 of 4 nodes without any evidence they are leaving
    const plan = planFor([node(1)], four);
    // Act
    const refusals = checkGuards([plan], {
      maxDeregisterShare: 0.5,
      asgDesiredCapacity: 4,
      desiredNodeCount: 1,
    });
    // Assess
    expect(refusals).toEqual([
      'app: would deregister 3 of 4 healthy targets whose nodes vanished, more than the allowed share 0.5',
    ]);
  });

  it('allows deregistering exactly the allowed share', () => {
    // Act & Assess
    expect(
      checkGuards([planFor([node(1), node(2)], four)], {
        maxDeregisterShare: 0.5,
        asgDesiredCapacity: 2,
        desiredNodeCount: 2,
      }),
    ).toEqual([]);
  });

  it('does not count nodes known to be leaving against the share', () => {
    // Prepare: a scale-in from 4 to 1 that the ASG shows as Terminating
    const nodes = [
      node(1),
      node(2, 'Terminating:Wait'),
      node(3, 'Terminating:Wait'),
      node(4, 'Terminating:Wait'),
    ];
    // Act & Assess
    expect(
      checkGuards([planFor(nodes, four)], {
        maxDeregisterShare: 0.5,
        asgDesiredCapacity: 1,
        desiredNodeCount: 1,
      }),
    ).toEqual([]);
  });

  it('refuses to empty a group when discovery is empty but the ASG wants capacity', () => {
    // Prepare: everything leaves "with evidence", yet the ASG still wants 3 nodes
    const nodes = [node(1, 'Standby'), node(2, 'Standby')];
    const plan = planFor(nodes, [healthy('10.0.0.2'), healthy('10.0.0.3')]);
    // Act
    const refusals = checkGuards([plan], {
      maxDeregisterShare: 1,
      asgDesiredCapacity: 3,
      desiredNodeCount: 0,
    });
    // Assess
    expect(refusals).toEqual([
      'app: discovery found no desired node while the ASGs want 3; refusing to empty the group (2 targets)',
    ]);
  });

  it('allows emptying a group when the ASG was scaled to zero', () => {
    // Prepare
    const nodes = [node(1, 'Terminating:Wait')];
    // Act & Assess
    expect(
      checkGuards([planFor(nodes, [healthy('10.0.0.2')])], {
        maxDeregisterShare: 0.5,
        asgDesiredCapacity: 0,
        desiredNodeCount: 0,
      }),
    ).toEqual([]);
  });
});

describe('Properties: planTargetGroup', () => {
  const stateArb = fc.constantFrom<TargetState>(...TARGET_STATES);
  const lifecycleArb = fc.constantFrom(
    'InService',
    'Pending',
    'Pending:Wait',
    'Terminating:Wait',
    'Standby',
    'Warmed:Running',
  );
  const worldArb = fc.record({
    nodes: fc.uniqueArray(fc.record({ n: fc.integer({ min: 1, max: 40 }), state: lifecycleArb }), {
      selector: (x) => x.n,
      maxLength: 25,
    }),
    observed: fc.uniqueArray(
      fc.record({ n: fc.integer({ min: 1, max: 60 }), port: fc.constantFrom(30000, 31000), state: stateArb }),
      { selector: (x) => `${x.n}:${x.port}`, maxLength: 30 },
    ),
    preserved: fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 5 }),
    preserveCidr: fc.boolean(),
    mapping: fc.constantFrom(ipMapping, instanceMapping),
  });
  type WorldValue = typeof worldArb extends fc.Arbitrary<infer W> ? W : never;
  function build(world: WorldValue) {
    const nodes = world.nodes.map((x) => node(x.n, x.state));
    const idOf = (n: number) =>
      world.mapping.targetType === 'ip' ? (node(n).privateIp ?? '') : node(n).instanceId;
    const observed = world.observed.map((o) => ({ id: idOf(o.n), port: o.port, state: o.state }));
    const preserved = world.preserved.map(idOf);
    if (world.preserveCidr && world.mapping.targetType === 'ip') preserved.push('10.0.0.48/29');
    return { nodes, observed, preserved, mapping: world.mapping };
  }

  it('applying the plan yields exactly the desired targets among owned, non-draining targets', () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        const { nodes, observed, preserved, mapping } = build(world);
        const plan = planTargetGroup(mapping, judgeNodes(nodes), observed, preserved);
        const after = applyChanges(observed, plan.changes);
        const ownedCurrent = after
          .filter((t) => t.state !== 'draining' && !isPreserved(t.id, preserved))
          .map(targetKey);
        expect(new Set(ownedCurrent)).toEqual(new Set(plan.desired.map(targetKey)));
      }),
    );
  });

  it('planning again after applying yields an empty plan', () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        const { nodes, observed, preserved, mapping } = build(world);
        const judged = judgeNodes(nodes);
        const first = planTargetGroup(mapping, judged, observed, preserved);
        const second = planTargetGroup(mapping, judged, applyChanges(observed, first.changes), preserved);
        expect(second.changes).toEqual([]);
      }),
    );
  });

  it('never puts a preserved target in a plan', () => {
    fc.assert(
      fc.property(worldArb, (world) => {
        const { nodes, observed, preserved, mapping } = build(world);
        const plan = planTargetGroup(mapping, judgeNodes(nodes), observed, preserved);
        for (const change of plan.changes) expect(isPreserved(change.target.id, preserved)).toBe(false);
      }),
    );
  });

  it('the share guard holds: an accepted plan never deregisters more vanished healthy targets than allowed', () => {
    fc.assert(
      fc.property(worldArb, fc.double({ min: 0, max: 1, noNaN: true }), (world, share) => {
        const { nodes, observed, preserved, mapping } = build(world);
        const judged = judgeNodes(nodes);
        const plan = planTargetGroup(mapping, judged, observed, preserved);
        // No ASG capacity wanted: the empty-discovery guard stays out, this property is about the share.
        const refusals = checkGuards([plan], {
          maxDeregisterShare: share,
          asgDesiredCapacity: 0,
          desiredNodeCount: judged.filter((j) => j.verdict.desired).length,
        });
        const healthyCount = plan.observedOwned.filter((t) => t.state === 'healthy').length;
        const vanished = plan.changes.filter(
          (c) => c.action === 'deregister' && c.kind === 'vanished' && c.observedState === 'healthy',
        ).length;
        // Refused exactly when the vanished healthy targets exceed the allowed share, never otherwise.
        expect(refusals.length > 0).toBe(vanished > healthyCount * share);
      }),
    );
  });

  it('the empty guard holds: an accepted plan never empties a group while the ASG wants capacity and discovery is empty', () => {
    fc.assert(
      fc.property(worldArb, fc.integer({ min: 1, max: 10 }), (world, capacity) => {
        const { observed, preserved, mapping } = build(world);
        const leavingNodes = world.nodes.map((x) => node(x.n, 'Terminating:Wait'));
        const judged = judgeNodes(leavingNodes);
        const plan = planTargetGroup(mapping, judged, observed, preserved);
        const refusals = checkGuards([plan], {
          maxDeregisterShare: 1,
          asgDesiredCapacity: capacity,
          desiredNodeCount: 0,
        });
        const remaining = applyChanges(plan.observedOwned, plan.changes).length;
        if (refusals.length === 0) expect(plan.observedOwned.length === 0 || remaining > 0).toBe(true);
      }),
    );
  });
});
