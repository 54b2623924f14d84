import { CfnLifecycleHook } from 'aws-cdk-lib/aws-autoscaling';
import { Construct } from 'constructs';
import { type ClusterConfig, terminateHeartbeatTimeoutOf } from '../../lambdas/domain/config';
import { lifecycleHookName } from '../naming';

/** Properties of {@link ClusterLifecycleHooks}. */
export interface ClusterLifecycleHooksProps {
  /** The cluster whose ASGs get the hooks; `cluster.lifecycle` sets their timeouts and results. */
  readonly cluster: ClusterConfig;
  /** The deployment's owner id (prefix of the hook names). */
  readonly ownerId: string;
}

/**
 * A launch and a terminate hook on each configured ASG, by name, so they work on ASGs this stack
 * did not create (EKS managed node groups). No notification target: Auto Scaling then emits the
 * lifecycle action to EventBridge, which the cluster's rule forwards to the lane.
 *
 * Timeouts and default results come from `cluster.lifecycle` (lambdas/domain/config.ts): the launch
 * hook waits `launchHeartbeatTimeoutSeconds` and then applies `launchTimeoutResult`; the terminate hook
 * waits {@link terminateHeartbeatTimeoutOf} (the same value the pass heartbeats within) and then applies
 * `terminateTimeoutResult`. The default result is what happens when nobody answers at all (function
 * down, messages in a DLQ), so it matches what the product itself sends when a held wait hits its bound.
 */
export class ClusterLifecycleHooks extends Construct {
  /** The hooks, two per ASG. */
  public readonly hooks: readonly CfnLifecycleHook[];

  public constructor(scope: Construct, id: string, props: ClusterLifecycleHooksProps) {
    super(scope, id);
    const { cluster, ownerId } = props;
    const { lifecycle } = cluster;
    const metadata = JSON.stringify({ ownerId, cluster: cluster.name });
    const hooks: CfnLifecycleHook[] = [];
    for (const asg of new Set(cluster.nodeSource.autoScalingGroups)) {
      // Construct ids may not hold '/'; ASG names may. The name itself stays untouched in the hook.
      const scopeForAsg = new Construct(this, asg.replace(/[^A-Za-z0-9_.-]/g, '_'));
      hooks.push(
        new CfnLifecycleHook(scopeForAsg, 'Launch', {
          autoScalingGroupName: asg,
          lifecycleHookName: lifecycleHookName(ownerId, cluster.name, 'launch'),
          lifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          heartbeatTimeout: lifecycle.launchHeartbeatTimeoutSeconds,
          defaultResult: lifecycle.launchTimeoutResult,
          notificationMetadata: metadata,
        }),
        new CfnLifecycleHook(scopeForAsg, 'Terminate', {
          autoScalingGroupName: asg,
          lifecycleHookName: lifecycleHookName(ownerId, cluster.name, 'terminate'),
          lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          heartbeatTimeout: terminateHeartbeatTimeoutOf(cluster),
          defaultResult: lifecycle.terminateTimeoutResult,
          notificationMetadata: metadata,
        }),
      );
    }
    this.hooks = hooks;
  }
}
