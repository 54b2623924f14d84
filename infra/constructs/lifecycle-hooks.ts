import { CfnLifecycleHook } from 'aws-cdk-lib/aws-autoscaling';
import { Construct } from 'constructs';
import type { ClusterConfig } from '../../lambdas/domain/config';
import { LIFECYCLE_HOOK_DEFAULTS } from '../constants';
import { lifecycleHookName } from '../naming';

/** Properties of {@link ClusterLifecycleHooks}. */
export interface ClusterLifecycleHooksProps {
  /** The cluster whose ASGs get the hooks. */
  readonly cluster: ClusterConfig;
  /** The deployment's owner id (prefix of the hook names). */
  readonly ownerId: string;
  /** How long a terminating instance waits for an answer, in seconds. */
  readonly terminateHeartbeatTimeoutSeconds: number;
}

/**
 * A launch and a terminate hook on each configured ASG, by name, so they work on ASGs this stack
 * did not create (EKS managed node groups). No notification target: Auto Scaling then emits the
 * lifecycle action to EventBridge, which the cluster's rule forwards to the lane. Both default to
 * CONTINUE: an unanswered launch lets the node into service (the schedule registers it) rather than
 * terminating a healthy node; an unanswered terminate proceeds and lets other hooks still run.
 */
export class ClusterLifecycleHooks extends Construct {
  /** The hooks, two per ASG. */
  public readonly hooks: readonly CfnLifecycleHook[];

  public constructor(scope: Construct, id: string, props: ClusterLifecycleHooksProps) {
    super(scope, id);
    const { cluster, ownerId } = props;
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
          heartbeatTimeout: LIFECYCLE_HOOK_DEFAULTS.launchHeartbeatTimeoutSeconds,
          defaultResult: LIFECYCLE_HOOK_DEFAULTS.defaultResult,
          notificationMetadata: metadata,
        }),
        new CfnLifecycleHook(scopeForAsg, 'Terminate', {
          autoScalingGroupName: asg,
          lifecycleHookName: lifecycleHookName(ownerId, cluster.name, 'terminate'),
          lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          heartbeatTimeout: props.terminateHeartbeatTimeoutSeconds,
          defaultResult: LIFECYCLE_HOOK_DEFAULTS.defaultResult,
          notificationMetadata: metadata,
        }),
      );
    }
    this.hooks = hooks;
  }
}
