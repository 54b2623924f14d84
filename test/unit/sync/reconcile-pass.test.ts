import { parseSyncConfig } from '../../../lambdas/domain/config';
import { GuardRefusalError, QuotaExceededError } from '../../../lambdas/domain/errors';
import { type PassReport, reconcileCluster } from '../../../lambdas/sync/reconcile-pass';
import { asgNode, FakeAws, fakeDeps } from '../../support/fake-aws';

const TG_A = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/a/0123456789abcdef';
const TG_B = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/b/0123456789abcdef';
const config = parseSyncConfig({
  clusters: [
    {
      name: 'prod',
      nodeSource: { autoScalingGroups: ['my-asg'] },
      portMappings: [
        { name: 'a', targetGroupArn: TG_A, nodePort: 30000 },
        { name: 'b', targetGroupArn: TG_B, nodePort: 30001 },
      ],
    },
  ],
});
const cluster =
  config.clusters[0] ??
  (() => {
    throw new Error('no cluster');
  })();

/** Node 1 left (Terminating:Wait), node 3 arrived: each group swaps one target. */
function swapWorld() {
  const fake = new FakeAws();
  fake.addGroup('my-asg', [asgNode(1, 'Terminating:Wait'), asgNode(2), asgNode(3)]);
  for (const [arn, port] of [
    [TG_A, 30000],
    [TG_B, 30001],
  ] as const) {
    fake.targets.set(arn, [
      { id: '10.0.0.11', port, state: 'healthy' },
      { id: '10.0.0.12', port, state: 'healthy' },
    ]);
  }
  return { fake, deps: fakeDeps(fake) };
}

describe('Use case: reconcileCluster', () => {
  it('registers in every group before it deregisters in any, so no group is ever empty mid-swap', async () => {
    // Prepare
    const { fake, deps } = swapWorld();
    // Act
    const report = await reconcileCluster(config, cluster, deps, { trigger: 'test' });
    // Assess
    expect(fake.writes).toEqual([
      `register ${TG_A} 10.0.0.13:30000`,
      `register ${TG_B} 10.0.0.13:30001`,
      `deregister ${TG_A} 10.0.0.11:30000`,
      `deregister ${TG_B} 10.0.0.11:30001`,
    ]);
    expect([report.registered, report.deregistered]).toEqual([2, 2]);
  });

  it('writes nothing in a dry run but reports the same plan with reasons', async () => {
    // Prepare
    const { fake, deps } = swapWorld();
    // Act
    const report = await reconcileCluster(config, cluster, deps, { trigger: 'cli', dryRun: true });
    // Assess
    expect(fake.writes).toEqual([]);
    expect(report.changes.map((c) => `${c.action} ${c.target.id}:${c.target.port}`)).toEqual([
      'register 10.0.0.13:30000',
      'deregister 10.0.0.11:30000',
      'register 10.0.0.13:30001',
      'deregister 10.0.0.11:30001',
    ]);
    expect(report.changes.find((c) => c.action === 'deregister')?.reason).toMatch(/Terminating:Wait/);
  });

  it('reports and counts a target AWS rejects, and applies the rest', async () => {
    // Prepare
    const { fake, deps } = swapWorld();
    fake.invalid.add('10.0.0.13');
    const addMetric = jest.spyOn(deps.metrics, 'addMetric');
    // Act
    const report = await reconcileCluster(config, cluster, deps, { trigger: 'test' });
    // Assess
    expect(report.rejected.map((r) => [r.targetGroupArn, r.target.id, r.code])).toEqual([
      [TG_A, '10.0.0.13', 'InvalidTarget'],
      [TG_B, '10.0.0.13', 'InvalidTarget'],
    ]);
    expect(report.deregistered).toBe(2);
    expect(addMetric).toHaveBeenCalledWith('TargetsRejected', 'Count', 2);
    expect(addMetric).toHaveBeenCalledWith('TargetsRegistered', 'Count', 0);
    expect(addMetric).toHaveBeenCalledWith('DriftFound', 'Count', 4);
  });

  it("keeps a cluster with a deleted ASG syncing: the other ASG registers, the missing one's targets stay", async () => {
    // Prepare: two ASGs; "gone" was deleted, its node 10.0.0.50 still serves in both groups
    const twoAsgs = parseSyncConfig({
      clusters: [{ ...config.clusters[0], nodeSource: { autoScalingGroups: ['my-asg', 'gone'] } }],
    });
    const { fake, deps } = swapWorld();
    for (const [arn, port] of [
      [TG_A, 30000],
      [TG_B, 30001],
    ] as const) {
      fake.targets.get(arn)?.push({ id: '10.0.0.50', port, state: 'healthy' });
    }
    const addMetric = jest.spyOn(deps.metrics, 'addMetric');
    // Act
    const report = await reconcileCluster(twoAsgs, twoAsgs.clusters[0] ?? cluster, deps, { trigger: 'test' });
    // Assess: node 3 registered, leaving node 1 deregistered (evidence), 10.0.0.50 held back
    expect(report.missingAutoScalingGroups).toEqual(['gone']);
    expect(fake.writes).toEqual([
      `register ${TG_A} 10.0.0.13:30000`,
      `register ${TG_B} 10.0.0.13:30001`,
      `deregister ${TG_A} 10.0.0.11:30000`,
      `deregister ${TG_B} 10.0.0.11:30001`,
    ]);
    expect(report.groups.flatMap((g) => g.heldBack ?? []).map((c) => c.target.id)).toEqual([
      '10.0.0.50',
      '10.0.0.50',
    ]);
    expect(addMetric).toHaveBeenCalledWith('MissingNodeSources', 'Count', 1);
  });

  it('runs the extra steps beside the target writes, with only the desired nodes marked desired, and waits for them', async () => {
    // Prepare
    const { fake, deps } = swapWorld();
    const seen: string[] = [];
    const step = {
      name: 'probe',
      run: async (input: {
        judged: readonly { node: { instanceId: string }; verdict: { desired: boolean } }[];
      }) => {
        seen.push(...input.judged.filter((j) => j.verdict.desired).map((j) => j.node.instanceId));
        // The step's writes take longer than the target writes: the pass still reports them.
        await new Promise((resolve) => setImmediate(resolve));
        seen.push(`target writes when the step ended: ${fake.writes.length}`);
        return { planned: ['+ rule'], applied: 1 };
      },
    };
    // Act
    const report = await reconcileCluster(
      config,
      cluster,
      { ...deps, extraSteps: [step] },
      { trigger: 'test' },
    );
    // Assess
    expect(seen).toEqual([
      asgNode(2).instanceId,
      asgNode(3).instanceId,
      'target writes when the step ended: 4',
    ]);
    expect(report.steps).toEqual([{ name: 'probe', planned: ['+ rule'], applied: 1 }]);
  });

  it('fails the pass for a failed step only after every target write has ended', async () => {
    // Prepare
    const { fake, deps } = swapWorld();
    const step = { name: 'dns', run: () => Promise.reject(new Error('Route 53 said no')) };
    // Act
    const pass = reconcileCluster(config, cluster, { ...deps, extraSteps: [step] }, { trigger: 'test' });
    // Assess
    await expect(pass).rejects.toThrow('Route 53 said no');
    expect(fake.writes).toHaveLength(4);
  });
});

describe('Use case: reconcileCluster, issue 8 (weak evidence, partial refusals, quotas)', () => {
  const NOW = Date.parse('2026-12-01T00:00:00Z');
  const single = parseSyncConfig({
    clusters: [
      {
        name: 'prod',
        nodeSource: { autoScalingGroups: ['my-asg'] },
        portMappings: [{ name: 'a', targetGroupArn: TG_A, nodePort: 30000 }],
      },
    ],
  });
  const singleCluster = single.clusters[0] ?? cluster;

  /** Two InService nodes, both registered and healthy. */
  function steadyWorld() {
    const fake = new FakeAws();
    fake.addGroup('my-asg', [asgNode(1), asgNode(2)]);
    fake.targets.set(TG_A, [
      { id: '10.0.0.11', port: 30000, state: 'healthy' },
      { id: '10.0.0.12', port: 30000, state: 'healthy' },
    ]);
    return { fake, deps: fakeDeps(fake) };
  }

  it.each([
    [
      'is missing from the DescribeInstances answer',
      (fake: FakeAws) => fake.instances.delete(asgNode(2).instanceId),
    ],
    [
      'has no PrivateIpAddress',
      (fake: FakeAws) => fake.instances.set(asgNode(2).instanceId, { ...asgNode(2), privateIp: undefined }),
    ],
    [
      'has no LifecycleState in the ASG answer',
      (fake: FakeAws) => {
        const group = fake.groups.get('my-asg');
        if (group === undefined) throw new Error('no group');
        fake.groups.set('my-asg', {
          ...group,
          instances: group.instances.map((i) =>
            i.instanceId === asgNode(2).instanceId
              ? { ...i, lifecycleState: undefined as unknown as string }
              : i,
          ),
        });
      },
    ],
  ])('never deregisters an InService node that %s (it was deregistered)', async (_name, damage) => {
    // Prepare
    const { fake, deps } = steadyWorld();
    damage(fake);
    // Act
    const report = await reconcileCluster(single, singleCluster, deps, { trigger: 'test', now: NOW });
    // Assess
    expect(fake.writes).toEqual([]);
    expect(report.nodes.find((n) => n.instanceId === asgNode(2).instanceId)?.reason).toMatch(/^unknown: /);
  });

  it('checks a stale EC2 stopping event against the instance it describes: a running node stays', async () => {
    // Prepare
    const { fake, deps } = steadyWorld();
    // Act
    await reconcileCluster(single, singleCluster, deps, {
      trigger: 'EC2 Instance State-change Notification',
      hints: { leaving: [asgNode(2).instanceId], eventTime: NOW - 30_000 },
      now: NOW,
    });
    // Assess
    expect(fake.writes).toEqual([]);
  });

  /** A hand-made setup left two healthy targets no node explains; two nodes are not registered yet. */
  function strangerWorld() {
    const fake = new FakeAws();
    fake.addGroup('my-asg', [asgNode(1), asgNode(2)]);
    fake.targets.set(TG_A, [
      { id: '10.9.9.8', port: 30000, state: 'healthy' },
      { id: '10.9.9.9', port: 30000, state: 'healthy' },
    ]);
    return { fake, deps: fakeDeps(fake) };
  }

  it('applies the registrations a refusal used to block, and reports the refused deregistrations', async () => {
    // Prepare
    const { fake, deps } = strangerWorld();
    const addMetric = jest.spyOn(deps.metrics, 'addMetric');
    // Act
    const pass = reconcileCluster(single, singleCluster, deps, { trigger: 'test', now: NOW });
    // Assess: the pass still fails loudly, with its report
    const error = (await pass.then(
      () => undefined,
      (e: unknown) => e,
    )) as GuardRefusalError;
    expect(error).toBeInstanceOf(GuardRefusalError);
    expect(fake.writes).toEqual([`register ${TG_A} 10.0.0.11:30000,10.0.0.12:30000`]);
    const report = error.report as PassReport;
    expect(report.registered).toBe(2);
    expect(report.groups[0]?.refused?.map((c) => `${c.target.id} ${c.refusedBecause}`)).toEqual([
      expect.stringMatching(/^10\.9\.9\.8 a: would deregister 2 of 2 serving targets/),
      expect.stringMatching(/^10\.9\.9\.9 a: would deregister 2 of 2 serving targets/),
    ]);
    expect(addMetric).toHaveBeenCalledWith('GuardRefusals', 'Count', 1);
    expect(addMetric).toHaveBeenCalledWith('PassFailures', 'Count', 1);
  });

  it('shows the refused changes with the guard reason in a dry run (plan), without failing', async () => {
    // Prepare
    const { fake, deps } = strangerWorld();
    // Act
    const report = await reconcileCluster(single, singleCluster, deps, { trigger: 'cli', dryRun: true });
    // Assess
    expect(fake.writes).toEqual([]);
    expect(report.changes.map((c) => c.action)).toEqual(['register', 'register']);
    expect(report.guardRefusals).toHaveLength(1);
    expect(report.groups[0]?.refused).toHaveLength(2);
  });

  it('applies the refused deregistrations for one pass when an operator confirms them, audited', async () => {
    // Prepare
    const { fake, deps } = strangerWorld();
    const child = deps.logger.createChild();
    const warn = jest.spyOn(child, 'warn');
    jest.spyOn(deps.logger, 'createChild').mockReturnValue(child);
    const addMetric = jest.spyOn(deps.metrics, 'addMetric');
    // Act
    const report = await reconcileCluster(single, singleCluster, deps, {
      trigger: 'cli',
      overrideGuards: { by: 'alice', reason: 'hand-made targets of the old setup' },
    });
    // Assess
    expect(fake.writes).toEqual([
      `register ${TG_A} 10.0.0.11:30000,10.0.0.12:30000`,
      `deregister ${TG_A} 10.9.9.8:30000,10.9.9.9:30000`,
    ]);
    expect(report.overridden).toEqual(
      expect.objectContaining({ by: 'alice', reason: 'hand-made targets of the old setup' }),
    );
    expect(warn).toHaveBeenCalledWith(
      'Safety guard overridden by an operator for one pass',
      expect.objectContaining({ by: 'alice', deregistrations: ['a 10.9.9.8:30000', 'a 10.9.9.9:30000'] }),
    );
    expect(addMetric).toHaveBeenCalledWith('GuardOverrides', 'Count', 2);
    expect(addMetric).not.toHaveBeenCalledWith('GuardRefusals', 'Count', expect.anything());
  });

  it('refuses a plan over a target quota before any write, naming the quota, counted', async () => {
    // Prepare: the group holds 999 preserved-looking strangers... of its own; two more would pass 1,000
    const fake = new FakeAws();
    fake.addGroup('my-asg', [asgNode(1), asgNode(2)]);
    const preservedConfig = parseSyncConfig({
      clusters: [
        {
          name: 'prod',
          nodeSource: { autoScalingGroups: ['my-asg'] },
          portMappings: [{ name: 'a', targetGroupArn: TG_A, nodePort: 30000 }],
          preservedTargets: ['172.16.0.0/16'],
        },
      ],
    });
    fake.targets.set(
      TG_A,
      Array.from({ length: 999 }, (_, i) => ({
        id: `172.16.${Math.floor(i / 250)}.${(i % 250) + 1}`,
        port: 30000,
        state: 'healthy' as const,
      })),
    );
    const deps = fakeDeps(fake);
    const addMetric = jest.spyOn(deps.metrics, 'addMetric');
    // Act
    const pass = reconcileCluster(preservedConfig, preservedConfig.clusters[0] ?? cluster, deps, {
      trigger: 'test',
    });
    // Assess
    await expect(pass).rejects.toThrow(QuotaExceededError);
    await expect(pass).rejects.toThrow(/1001 targets, over the quota of 1000 targets per target group/);
    expect(fake.writes).toEqual([]);
    expect(addMetric).toHaveBeenCalledWith('QuotaRefusals', 'Count', 1);
  });
});

describe('Use case: reconcileCluster, a stale ASG list (issue 8)', () => {
  const TG_I = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/i/0123456789abcdef';
  const instanceConfig = parseSyncConfig({
    clusters: [
      {
        name: 'prod',
        nodeSource: { autoScalingGroups: ['my-asg'] },
        portMappings: [{ name: 'i', targetGroupArn: TG_I, nodePort: 30000, targetType: 'instance' }],
      },
    ],
  });
  const instanceCluster = instanceConfig.clusters[0] ?? cluster;

  it('keeps the target of a running instance of the ASG that a stale ASG read does not list (it was deregistered)', async () => {
    // Prepare: node 2 launched and was registered; the ASG answer lags and lists node 1 only
    const fake = new FakeAws();
    fake.addGroup('my-asg', [asgNode(1)]);
    const fresh = { ...asgNode(2), tags: { 'aws:autoscaling:groupName': 'my-asg' } };
    fake.instances.set(fresh.instanceId, fresh);
    fake.targets.set(TG_I, [
      { id: asgNode(1).instanceId, port: 30000, state: 'healthy' },
      { id: fresh.instanceId, port: 30000, state: 'healthy' },
    ]);
    const deps = fakeDeps(fake);
    // Act
    const report = await reconcileCluster(instanceConfig, instanceCluster, deps, { trigger: 'schedule' });
    // Assess
    expect(fake.writes).toEqual([]);
    expect(report.groups[0]?.kept?.map((t) => t.id)).toEqual([fresh.instanceId]);
  });

  it('still deregisters an instance that is gone, or that the ASG tag does not claim', async () => {
    // Prepare
    const fake = new FakeAws();
    fake.addGroup('my-asg', [asgNode(1), asgNode(2)]);
    const other = { ...asgNode(3), tags: { 'aws:autoscaling:groupName': 'other-asg' } };
    fake.instances.set(other.instanceId, other);
    fake.targets.set(TG_I, [
      { id: asgNode(1).instanceId, port: 30000, state: 'healthy' },
      { id: asgNode(2).instanceId, port: 30000, state: 'healthy' },
      { id: other.instanceId, port: 30000, state: 'healthy' },
    ]);
    // Act
    await reconcileCluster(instanceConfig, instanceCluster, fakeDeps(fake), { trigger: 'schedule' });
    // Assess
    expect(fake.writes).toEqual([`deregister ${TG_I} ${other.instanceId}:30000`]);
  });
});
