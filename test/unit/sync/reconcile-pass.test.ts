import { parseSyncConfig } from '../../../lambdas/domain/config';
import { reconcileCluster } from '../../../lambdas/sync/reconcile-pass';
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

  it('runs the extra steps after the targets, with only the desired nodes marked desired', async () => {
    // Prepare
    const { fake, deps } = swapWorld();
    const seen: string[] = [];
    const step = {
      name: 'probe',
      run: async (input: {
        judged: readonly { node: { instanceId: string }; verdict: { desired: boolean } }[];
      }) => {
        seen.push(`writes so far: ${fake.writes.length}`);
        seen.push(...input.judged.filter((j) => j.verdict.desired).map((j) => j.node.instanceId));
        return { planned: [], applied: 0 };
      },
    };
    // Act
    await reconcileCluster(config, cluster, { ...deps, extraSteps: [step] }, { trigger: 'test' });
    // Assess
    expect(seen).toEqual(['writes so far: 4', asgNode(2).instanceId, asgNode(3).instanceId]);
  });
});
