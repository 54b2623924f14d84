import { type Counts, FaultWorld, newCounts, TG_API, TG_WEB } from './fault-world';

/** Deterministic cases the randomized suite (fault-suite.test.ts) found or must keep covering. */
describe('Fault world: weak evidence', () => {
  let counts: Counts;
  let world: FaultWorld;
  beforeEach(() => {
    counts = newCounts();
    world = new FaultWorld(counts);
    world.aws.install();
  });
  afterEach(() => world.aws.restore());

  it('keeps the targets of an InService node whose DescribeAutoScalingGroups entry has no LifecycleState', async () => {
    // Prepare: every ASG answer leaves out the first node's LifecycleState
    world.aws.faultFor = (call) =>
      call.command === 'DescribeAutoScalingGroups' ? { kind: 'no-lifecycle-state', victim: 0 } : undefined;
    // Act
    await world.schedule();
    // Assess
    const deregistrations = world.aws.calls.filter((c) => c.command === 'DeregisterTargets' && c.applied);
    expect(deregistrations.map((c) => c.input.Targets)).toEqual([[{ Id: '10.0.5.5', Port: 30080 }]]);
    expect(counts['no InService or launching node deregistered on weak evidence'].violations).toEqual([]);
    expect(world.aws.calls.filter((c) => c.command === 'RegisterTargets')).toEqual([]);
    expect([TG_WEB, TG_API].every((arn) => world.aws.targetGroups.has(arn))).toBe(true);
  });

  it('keeps holding a launch while DescribeInstances does not show the new instance (a lagging read)', async () => {
    // Prepare: a node whose ip target AWS refuses, so its launch can only end by its timeout (120 s)
    world.scaleOut(true);
    await world.deliverAllInFlight();
    world.aws.faultFor = (call) =>
      call.command === 'DescribeInstances' ? { kind: 'missing-instance', victim: 0 } : undefined;
    // Act: re-checks come due while EC2's answer lacks the instance
    await world.advance(60);
    // Assess
    expect(world.aws.calls.filter((c) => c.command === 'CompleteLifecycleAction')).toEqual([]);
    expect(counts['lifecycle action answered only when due'].violations).toEqual([]);
  });

  it('writes no drain mark on an instance of no configured cluster that a spot warning names', async () => {
    // Prepare: a node of an ASG no cluster configures, and a spot warning about it
    world.strangerEvents();
    // Act
    await world.deliverAllInFlight();
    // Assess
    expect(world.aws.calls.filter((c) => c.command === 'CreateTags').map((c) => c.input)).toEqual([]);
    expect(counts['nothing unowned or preserved touched'].violations).toEqual([]);
  });
});
