import type { ClusterConfig, SyncConfig } from '../domain/config';
import type { NodeHints } from '../domain/node';
import { clusterForAutoScalingGroup } from '../sync/cluster-lookup';
import type { LifecycleAction } from '../sync/lifecycle-action';
import type { LifecycleActionEvent, ReconcileEvent } from './event-schemas';

/** What an event asks for: passes of some clusters with the event's facts, or a logged skip. */
export type EventTrigger =
  | {
      readonly kind: 'passes';
      readonly clusters: readonly ClusterConfig[];
      readonly hints: NodeHints;
      readonly trigger: string;
    }
  | { readonly kind: 'skip'; readonly reason: string };

const LEAVING_EC2_STATES = new Set(['stopping', 'stopped', 'shutting-down', 'terminated']);

/**
 * Maps a validated event to the passes it triggers. Level-triggered: every event leads to a full
 * pass of each cluster it may concern; the event only adds facts describe calls may not show yet.
 * An EC2 event names no ASG or tags, so it concerns every cluster (a pass that finds nothing to
 * change writes nothing).
 */
export function triggerForEvent(config: SyncConfig, event: ReconcileEvent): EventTrigger {
  switch (event.source) {
    case 'aws.events':
      return { kind: 'passes', clusters: config.clusters, hints: {}, trigger: 'schedule' };
    case 'aws.autoscaling': {
      const asg = event.detail.AutoScalingGroupName;
      const cluster = clusterForAutoScalingGroup(config, asg);
      if (cluster === undefined) {
        return { kind: 'skip', reason: `no configured cluster has Auto Scaling group "${asg}"` };
      }
      const instance = event.detail.EC2InstanceId;
      // Only a termination that happened is evidence; after "Terminate Unsuccessful" the node still serves.
      const terminating = event['detail-type'] === 'EC2 Instance Terminate Successful';
      const hints: NodeHints = terminating && /^i-/.test(instance) ? { leaving: [instance] } : {};
      return {
        kind: 'passes',
        clusters: [cluster],
        hints,
        trigger: `${event['detail-type']} ${instance}`.trim(),
      };
    }
    case 'aws.ec2': {
      const instance = event.detail['instance-id'];
      const leaving =
        'state' in event.detail
          ? LEAVING_EC2_STATES.has(event.detail.state)
          : event['detail-type'] === 'EC2 Spot Instance Interruption Warning';
      return {
        kind: 'passes',
        clusters: config.clusters,
        hints: leaving ? { leaving: [instance] } : {},
        trigger: `${event['detail-type']} ${instance}`,
      };
    }
  }
}

/** The lifecycle action an event describes. */
export function lifecycleActionOf(event: LifecycleActionEvent): LifecycleAction {
  const d = event.detail;
  return {
    autoScalingGroupName: d.AutoScalingGroupName,
    lifecycleHookName: d.LifecycleHookName,
    instanceId: d.EC2InstanceId,
    lifecycleActionToken: d.LifecycleActionToken,
    transition: d.LifecycleTransition,
    ...(d.Origin !== undefined && { origin: d.Origin }),
    ...(d.Destination !== undefined && { destination: d.Destination }),
  };
}
