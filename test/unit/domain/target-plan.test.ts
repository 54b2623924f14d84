import fc from 'fast-check';
import type { Node } from '../../../lambdas/domain/node';
import type { ObservedTarget, TargetState } from '../../../lambdas/domain/target';
import { TARGET_STATES, targetKey } from '../../../lambdas/domain/target';
import {
  applyChanges,
  checkGuards,
  countsTowardGuard,
  type GroupPlan,
  guardPlans,
  isPreserved,
  judgeNodes,
  planTargetGroup,
  type ResolvedPortMapping,
  SERVING_STATES,
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
      'app: would deregister 3 of 4 serving targets without describe or drain-mark evidence, more than the allowed share 0.5',
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

describe('Issue 8: evidence and partial refusals', () => {
  const NOW = Date.parse('2026-12-01T00:00:00Z');
  const context = { maxDeregisterShare: 0.5, asgDesiredCapacity: 4, desiredNodeCount: 1 };
  const four = [healthy('10.0.0.2'), healthy('10.0.0.3'), healthy('10.0.0.4'), healthy('10.0.0.5')];

  it('keeps the target of an unknown node (no lifecycle state): neither registered nor deregistered', () => {
    // Prepare: the ASG answer lacks LifecycleState for node 2; node 1 is InService
    const { lifecycleState: _ls, ...blank } = node(2);
    const plan = planTargetGroup(
      instanceMapping,
      judgeNodes([node(1), blank as Node]),
      [healthy('i-00000000000000001'), healthy('i-00000000000000002')],
      [],
    );
    // Assess
    expect(plan.changes).toEqual([]);
    expect(plan.kept?.map((t) => t.id)).toEqual(['i-00000000000000002']);
  });

  it('holds back vanished deregistrations of an IP group while a node is unknown without IP', () => {
    // Prepare: node 2 is InService but DescribeInstances did not answer for it (no IP to match its target)
    const { privateIp: _ip, ec2State: _s, ...undescribed } = node(2);
    const plan = planTargetGroup(
      ipMapping,
      judgeNodes([node(1), undescribed as Node]),
      [healthy('10.0.0.2'), healthy('10.0.0.3')],
      [],
    );
    // Assess
    expect(plan.changes).toEqual([]);
    expect(plan.heldBack?.map((c) => `${c.target.id} ${c.heldBecause}`)).toEqual([
      expect.stringMatching(/^10\.0\.0\.3 node\(s\) i-0+2 unknown without a private IP/),
    ]);
  });

  it('does not deregister a running node on a stale EC2 stopping event', () => {
    // Act
    const plan = planTargetGroup(
      ipMapping,
      judgeNodes([node(1), node(2)], { leaving: [node(1).instanceId], eventTime: NOW - 5_000 }, NOW),
      [healthy('10.0.0.2'), healthy('10.0.0.3')],
      [],
    );
    // Assess
    expect(plan.changes).toEqual([]);
  });

  it('counts event-backed leaving deregistrations toward the share (they were not counted)', () => {
    // Prepare: three InService nodes an event (not the describe answer, not a mark) says are leaving
    const nodes = [node(1), node(2), node(3), node(4)];
    const hints = { leaving: [node(2).instanceId, node(3).instanceId, node(4).instanceId] };
    const plan = planTargetGroup(ipMapping, judgeNodes(nodes, hints), four, []);
    // Act & Assess
    expect(plan.changes.every((c) => c.action === 'deregister' && c.kind === 'leaving')).toBe(true);
    expect(checkGuards([plan], context)).toHaveLength(1);
  });

  it('counts initial and unhealthy targets too, the share computed on what the group serves', () => {
    // Prepare: 3 of 4 targets vanish; none is healthy yet (it let them all go)
    const observed = [
      healthy('10.0.0.2', 30000, 'initial'),
      healthy('10.0.0.3', 30000, 'initial'),
      healthy('10.0.0.4', 30000, 'unhealthy'),
      healthy('10.0.0.5', 30000, 'initial'),
    ];
    // Act & Assess
    expect(checkGuards([planTargetGroup(ipMapping, judgeNodes([node(1)]), observed, [])], context)).toEqual([
      'app: would deregister 3 of 4 serving targets without describe or drain-mark evidence, more than the allowed share 0.5',
    ]);
  });

  it('does not count describe-backed or mark-backed deregistrations', () => {
    // Prepare: node 2 Terminating:Wait (describe), node 3 marked, node 4 EC2 stopping
    const nodes = [
      node(1),
      node(2, 'Terminating:Wait'),
      { ...node(3), drainMark: { reason: 'operator' as const } },
      { ...node(4), ec2State: 'stopping' },
    ];
    // Act & Assess
    expect(checkGuards([planTargetGroup(ipMapping, judgeNodes(nodes), four, [])], context)).toEqual([]);
  });

  it('refuses only the risky part: registrations and describe-backed deregistrations stay (a stranger blocked all)', () => {
    // Prepare: two stranger healthy targets no node explains, two new nodes, one node Terminating:Wait
    const nodes = [node(1), node(2), node(3, 'Terminating:Wait')];
    const observed = [healthy('10.9.9.8'), healthy('10.9.9.9'), healthy('10.0.0.4')];
    const plan = planTargetGroup(ipMapping, judgeNodes(nodes), observed, []);
    // Act
    const { plans, refusals } = guardPlans([plan], { ...context, desiredNodeCount: 2 });
    // Assess
    expect(refusals).toHaveLength(1);
    expect(plans[0]?.changes.map((c) => `${c.action} ${c.target.id}`)).toEqual([
      'register 10.0.0.2',
      'register 10.0.0.3',
      'deregister 10.0.0.4',
    ]);
    expect(plans[0]?.refused?.map((c) => `${c.action} ${c.target.id} ${c.refusedBecause}`)).toEqual([
      `deregister 10.9.9.8 ${refusals[0]}`,
      `deregister 10.9.9.9 ${refusals[0]}`,
    ]);
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
        const serving = plan.observedOwned.filter((t) => SERVING_STATES.has(t.state)).length;
        const counted = plan.changes.filter(
          (c) => countsTowardGuard(c) && c.action === 'deregister' && SERVING_STATES.has(c.observedState),
        ).length;
        // Refused exactly when the unbacked deregistrations of serving targets exceed the allowed share.
        expect(refusals.length > 0).toBe(counted > serving * share);
        // And a refusal refuses only those: what is left to apply stays within the share.
        const { plans } = guardPlans([plan], {
          maxDeregisterShare: share,
          asgDesiredCapacity: 0,
          desiredNodeCount: judged.filter((j) => j.verdict.desired).length,
        });
        const left = plans[0]?.changes.filter(
          (c) => countsTowardGuard(c) && c.action === 'deregister' && SERVING_STATES.has(c.observedState),
        ).length;
        expect((left ?? 0) <= serving * share).toBe(true);
        expect(plans[0]?.changes.filter((c) => c.action === 'register')).toEqual(
          plan.changes.filter((c) => c.action === 'register'),
        );
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
