import type { SyncConfig } from '../domain/config';
import { isOwnHook, lifecycleHookName } from '../domain/lifecycle-hooks';
import type { NodeHints } from '../domain/node';
import type { AutoScalingPort, LifecycleActionRef } from '../domain/ports';
import { clusterForAutoScalingGroup } from './cluster-lookup';
import { type PassReport, type ReconcileDeps, reconcileCluster } from './reconcile-pass';

/** An Auto Scaling lifecycle action, as the event describes it. */
export interface LifecycleAction extends LifecycleActionRef {
  readonly transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' | 'autoscaling:EC2_INSTANCE_TERMINATING';
  /** EC2, AutoScalingGroup or WarmPool. */
  readonly origin?: string;
  /** EC2, AutoScalingGroup or WarmPool. */
  readonly destination?: string;
}

/** The outcome of one lifecycle action. */
export type LifecycleOutcome =
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'completed'; readonly result: 'CONTINUE'; readonly pass: PassReport };

/** The event facts a lifecycle action adds to the pass. */
export function hintsForLifecycleAction(action: LifecycleAction): NodeHints {
  // An instance headed into a warm pool is stopped or hibernated there: it must never be a target.
  if (action.transition === 'autoscaling:EC2_INSTANCE_TERMINATING' || action.destination === 'WarmPool') {
    return { leaving: [action.instanceId] };
  }
  return { launching: [action.instanceId] };
}

/**
 * Handles a lifecycle action: one reconcile pass of the ASG's cluster with the event's facts
 * (a launching instance counts as desired, a terminating or warm-pool-bound one does not), and
 * CompleteLifecycleAction CONTINUE as soon as the targets are in step. If the target step fails, the
 * action is not answered and the error propagates, so the invocation fails and is retried (a retry
 * that finds the action already answered treats that as done); the hook's timeout is the backstop.
 */
export async function handleLifecycleAction(
  config: SyncConfig,
  action: LifecycleAction,
  deps: ReconcileDeps & { readonly autoScaling: AutoScalingPort },
): Promise<LifecycleOutcome> {
  const cluster = clusterForAutoScalingGroup(config, action.autoScalingGroupName);
  if (cluster === undefined) {
    const reason = `no configured cluster has Auto Scaling group "${action.autoScalingGroupName}"`;
    deps.logger.warn('Skipped lifecycle action', { reason, instanceId: action.instanceId });
    return { status: 'skipped', reason };
  }
  if (!isOwnHook(config.ownerId, cluster.name, action.lifecycleHookName)) {
    const reason = `lifecycle hook "${action.lifecycleHookName}" is not this deployment's (expected ${lifecycleHookName(config.ownerId, cluster.name, 'launch')} or ${lifecycleHookName(config.ownerId, cluster.name, 'terminate')}); its owner answers it`;
    deps.logger.warn('Skipped lifecycle action', { reason, instanceId: action.instanceId });
    return { status: 'skipped', reason };
  }
  const kind = action.transition === 'autoscaling:EC2_INSTANCE_LAUNCHING' ? 'launch' : 'terminate';
  let answered = false;
  const complete = async (): Promise<void> => {
    await deps.autoScaling.completeLifecycleAction(action, 'CONTINUE');
    answered = true;
    deps.logger.info('Completed lifecycle action', {
      cluster: cluster.name,
      autoScalingGroupName: action.autoScalingGroupName,
      lifecycleHookName: action.lifecycleHookName,
      instanceId: action.instanceId,
      transition: action.transition,
      result: 'CONTINUE',
    });
  };
  try {
    const pass = await reconcileCluster(config, cluster, deps, {
      trigger: `lifecycle:${kind} ${action.instanceId}${action.destination === 'WarmPool' ? ' (to warm pool)' : ''}`,
      hints: hintsForLifecycleAction(action),
      // The instance waits only for its targets; a later security-group or DNS failure still fails the pass.
      afterTargets: complete,
    });
    return { status: 'completed', result: 'CONTINUE', pass };
  } catch (error) {
    deps.logger.error(
      answered
        ? 'Lifecycle pass failed after the action was answered'
        : 'Lifecycle action failed; left unanswered for the retry',
      { cluster: cluster.name, instanceId: action.instanceId, error: error as Error },
    );
    throw error;
  } finally {
    // Metrics carry the cluster as a dimension: published per pass, as runPasses does.
    deps.metrics.publishStoredMetrics();
  }
}
