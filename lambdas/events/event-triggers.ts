import type { ClusterConfig, SyncConfig } from '../domain/config';
import type { DrainReason } from '../domain/drain-mark';
import type { LifecycleAction } from '../domain/lifecycle-hold';
import { LEAVING_EC2_STATES, type NodeHints } from '../domain/node';
import { clusterForAutoScalingGroup } from '../sync/cluster-lookup';
import type { LifecycleActionEvent, ReconcileEvent } from './event-schemas';

/** What an event asks for: passes of some clusters with the event's facts, or a logged skip. */
export type EventTrigger =
  | {
      readonly kind: 'passes';
      readonly clusters: readonly ClusterConfig[];
      readonly hints: NodeHints;
      /** Drain marks the pass writes on instances of the cluster (spot warning, rebalance recommendation). */
      readonly marks: readonly { readonly instanceId: string; readonly reason: DrainReason }[];
      readonly trigger: string;
    }
  | { readonly kind: 'skip'; readonly reason: string };

/**
 * Maps a validated event to the passes it triggers. Level-triggered: every event leads to a full
 * pass of each cluster it may concern; the event only adds facts describe calls may not show yet.
 * An EC2 event names no ASG or tags, so it concerns every cluster (a pass that finds nothing to
 * change writes nothing).
 */
export function triggerForEvent(config: SyncConfig, event: ReconcileEvent): EventTrigger {
  switch (event.source) {
    case 'aws.events':
      return { kind: 'passes', clusters: config.clusters, hints: {}, marks: [], trigger: 'schedule' };
    case 'aws.autoscaling': {
      const asg = event.detail.AutoScalingGroupName;
      const cluster = clusterForAutoScalingGroup(config, asg);
      if (cluster === undefined) {
        return { kind: 'skip', reason: `no configured cluster has Auto Scaling group "${asg}"` };
      }
      const instance = event.detail.EC2InstanceId;
      // Only a termination that happened is evidence; after "Terminate Unsuccessful" the node still serves.
      const terminating = event['detail-type'] === 'EC2 Instance Terminate Successful';
      const hints: NodeHints =
        terminating && /^i-/.test(instance) ? { leaving: [instance], ...timeOf(event) } : {};
      return {
        kind: 'passes',
        clusters: [cluster],
        hints,
        marks: [],
        trigger: `${event['detail-type']} ${instance}`.trim(),
      };
    }
    case 'aws.ec2': {
      const instance = event.detail['instance-id'];
      const trigger = `${event['detail-type']} ${instance}`;
      if ('state' in event.detail) {
        // EC2's own state is what later passes see too: no mark needed. The pass describes the instance the
        // event names; a stale `stopping` (the instance runs again) loses to that answer (docs/safety.md).
        const leaving = LEAVING_EC2_STATES.has(event.detail.state);
        return {
          kind: 'passes',
          clusters: config.clusters,
          hints: leaving ? { leaving: [instance], ...timeOf(event) } : {},
          marks: [],
          trigger,
        };
      }
      const reason = markReasonFor(config, event['detail-type']);
      if (reason === undefined)
        return { kind: 'passes', clusters: config.clusters, hints: {}, marks: [], trigger };
      // The instance stays InService in its ASG until it dies: only a persisted mark keeps it out of later passes.
      return {
        kind: 'passes',
        clusters: config.clusters,
        hints: { leaving: [instance], ...timeOf(event) },
        marks: [{ instanceId: instance, reason }],
        trigger,
      };
    }
  }
}

/** The event's `time` as the hints' `eventTime` (epoch ms), when it is a real instant. */
function timeOf(event: { readonly time?: unknown }): Pick<NodeHints, 'eventTime'> {
  const at = event.time instanceof Date ? event.time.getTime() : Date.parse(String(event.time));
  return Number.isNaN(at) ? {} : { eventTime: at };
}

function markReasonFor(config: SyncConfig, detailType: string): DrainReason | undefined {
  if (detailType === 'EC2 Spot Instance Interruption Warning') return 'spot-interruption';
  if (detailType === 'EC2 Instance Rebalance Recommendation' && config.rebalanceRecommendations) {
    return 'rebalance-recommendation';
  }
  return undefined;
}

/** Whether a trigger carries facts a later pass cannot see again (so a failed pass must be retried). */
export function carriesFacts(trigger: Extract<EventTrigger, { kind: 'passes' }>): boolean {
  return (
    trigger.marks.length > 0 ||
    (trigger.hints.leaving?.length ?? 0) > 0 ||
    (trigger.hints.launching?.length ?? 0) > 0
  );
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
