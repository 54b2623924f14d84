import { parseSyncConfig } from '../../../lambdas/domain/config';
import { drainInstance, undrainInstance } from '../../../lambdas/sync/drain-node';
import { reconcileCluster } from '../../../lambdas/sync/reconcile-pass';
import { asgNode, FakeAws, fakeDeps } from '../../support/fake-aws';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/a/0123456789abcdef';
const config = parseSyncConfig({
  clusters: [
    {
      name: 'prod',
      nodeSource: { autoScalingGroups: ['my-asg'] },
      portMappings: [{ name: 'a', targetGroupArn: TG, nodePort: 30000 }],
    },
  ],
});
const cluster =
  config.clusters[0] ??
  (() => {
    throw new Error('no cluster');
  })();

function world() {
  const fake = new FakeAws();
  fake.addGroup('my-asg', [asgNode(1), asgNode(2)]);
  fake.targets.set(TG, [
    { id: '10.0.0.11', port: 30000, state: 'healthy' },
    { id: '10.0.0.12', port: 30000, state: 'healthy' },
  ]);
  return { fake, deps: fakeDeps(fake) };
}

describe('Use case: drain / undrain one instance', () => {
  it('marks the instance; the next passes keep it out until undrain, then it comes back', async () => {
    // Prepare
    const { fake, deps } = world();
    const id = asgNode(2).instanceId;
    // Act
    const drained = await drainInstance(config, id, deps);
    await reconcileCluster(config, cluster, deps, { trigger: 'test' });
    await reconcileCluster(config, cluster, deps, { trigger: 'test' });
    const undrained = await undrainInstance(config, id, deps);
    await reconcileCluster(config, cluster, deps, { trigger: 'test' });
    // Assess
    expect(drained).toEqual({ instanceId: id, cluster: 'prod', change: 'marked' });
    expect(undrained).toEqual({ instanceId: id, cluster: 'prod', change: 'unmarked', previous: 'operator' });
    expect(fake.writes).toEqual([
      `tag ${id} nlb-nodeport-sync/drain`,
      `deregister ${TG} 10.0.0.12:30000`,
      `untag ${id} nlb-nodeport-sync/drain`,
      `register ${TG} 10.0.0.12:30000`,
    ]);
  });

  it('refuses an instance that is no node of any cluster, with no write', async () => {
    // Prepare
    const { fake, deps } = world();
    // Act & Assess
    await expect(drainInstance(config, 'i-0000000000000dead', deps)).rejects.toMatchObject({
      name: 'MissingResourceError',
    });
    expect(fake.writes).toEqual([]);
  });

  it('changes nothing when the instance is already as asked', async () => {
    // Prepare
    const { fake, deps } = world();
    const id = asgNode(1).instanceId;
    // Act
    const undrained = await undrainInstance(config, id, deps);
    // Assess
    expect(undrained.change).toBe('unchanged');
    expect(fake.writes).toEqual([]);
  });
});
