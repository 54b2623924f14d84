import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ClusterLifecycleHooks } from '../../infra/constructs/lifecycle-hooks';
import { type ClusterConfig, parseSyncConfig } from '../../lambdas/domain/config';

/** One validated cluster with the given lifecycle and load-balancer settings. */
function clusterWith(
  lifecycle: Record<string, unknown>,
  loadBalancer: Record<string, unknown> = {},
): ClusterConfig {
  const config = parseSyncConfig({
    clusters: [
      {
        name: 'prod',
        nodeSource: { autoScalingGroups: ['eks-prod-a'] },
        loadBalancer,
        portMappings: [
          {
            name: 'http',
            nodePort: 30080,
            listenerPort: 80,
            ...(loadBalancer.create === undefined && {
              targetGroupArn:
                'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/prod-http/73e2d6bc24d8a067',
            }),
          },
        ],
        lifecycle,
      },
    ],
  });
  const [cluster] = config.clusters;
  if (cluster === undefined) throw new Error('no cluster');
  return cluster;
}

/** The launch and terminate hooks the construct makes for the cluster, by transition. */
function hooksOf(cluster: ClusterConfig): Record<'launch' | 'terminate', Record<string, unknown>> {
  const stack = new Stack();
  new ClusterLifecycleHooks(stack, 'Hooks', { cluster, ownerId: 'nlb-sync-test' });
  const hooks = Object.values(Template.fromStack(stack).findResources('AWS::AutoScaling::LifecycleHook')).map(
    (hook) => hook.Properties as Record<string, unknown>,
  );
  const by = (transition: string) => hooks.find((hook) => hook.LifecycleTransition === transition) ?? {};
  return {
    launch: by('autoscaling:EC2_INSTANCE_LAUNCHING'),
    terminate: by('autoscaling:EC2_INSTANCE_TERMINATING'),
  };
}

describe('Class: ClusterLifecycleHooks', () => {
  describe('Method: constructor', () => {
    it('uses the lifecycle defaults: launch 300 s, terminate 360 s for imported groups, both CONTINUE', () => {
      // Prepare
      const cluster = clusterWith({});

      // Act
      const { launch, terminate } = hooksOf(cluster);

      // Assess
      expect(launch).toMatchObject({ HeartbeatTimeout: 300, DefaultResult: 'CONTINUE' });
      expect(terminate).toMatchObject({ HeartbeatTimeout: 360, DefaultResult: 'CONTINUE' });
    });

    it('takes timeouts and default results from cluster.lifecycle', () => {
      // Prepare
      const cluster = clusterWith({
        launchHeartbeatTimeoutSeconds: 900,
        launchTimeoutResult: 'ABANDON',
        terminateHeartbeatTimeoutSeconds: 1800,
        terminateTimeoutResult: 'ABANDON',
      });

      // Act
      const { launch, terminate } = hooksOf(cluster);

      // Assess
      expect(launch).toMatchObject({
        LifecycleHookName: 'nlb-sync-test-prod-launch',
        HeartbeatTimeout: 900,
        DefaultResult: 'ABANDON',
      });
      expect(terminate).toMatchObject({
        LifecycleHookName: 'nlb-sync-test-prod-terminate',
        HeartbeatTimeout: 1800,
        DefaultResult: 'ABANDON',
      });
    });

    it('derives the terminate timeout from a created group delay, unless it is configured', () => {
      // Prepare
      const create = {
        create: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'] },
      };
      const derived = clusterWith({}, { create: { ...create.create, deregistrationDelaySeconds: 45 } });
      const configured = clusterWith(
        { terminateHeartbeatTimeoutSeconds: 600 },
        { create: { ...create.create, deregistrationDelaySeconds: 45 } },
      );

      // Act & Assess: delay + 60 s, else what the config says.
      expect(hooksOf(derived).terminate.HeartbeatTimeout).toBe(105);
      expect(hooksOf(configured).terminate.HeartbeatTimeout).toBe(600);
    });
  });
});
