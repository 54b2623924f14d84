import type { LifecycleHold } from './lifecycle-hold';
import type { Node } from './node';
import type { ObservedTarget, TargetRef } from './target';

/**
 * Ports: the small interfaces the use cases call to reach AWS. One adapter per service implements
 * each (lambdas/aws/); tests pass fakes. Nothing here imports the SDK.
 */

/** An Auto Scaling group as discovery needs it. */
export interface AutoScalingGroupInfo {
  readonly name: string;
  readonly desiredCapacity: number;
  readonly instances: readonly {
    readonly instanceId: string;
    readonly lifecycleState: string;
    readonly healthStatus: string;
    readonly availabilityZone?: string;
  }[];
}

/** The answer to a lifecycle action. */
export type LifecycleResult = 'CONTINUE' | 'ABANDON';

/** What completes a lifecycle action. */
export interface LifecycleActionRef {
  readonly autoScalingGroupName: string;
  readonly lifecycleHookName: string;
  readonly instanceId: string;
  readonly lifecycleActionToken?: string;
}

/**
 * What AWS said to an answer or a heartbeat: `done`, or `not-active` when the action is no longer pending
 * (AWS: "No active Lifecycle Action found": answered already, or timed out and the hook's default applied).
 */
export type LifecycleCallOutcome = 'done' | 'not-active';

/** Auto Scaling: describe groups, answer lifecycle actions. */
export interface AutoScalingPort {
  /** Describes the named groups (paginated); names AWS does not know are simply absent from the result. */
  describeGroups(names: readonly string[]): Promise<AutoScalingGroupInfo[]>;
  /** Answers a lifecycle action. */
  completeLifecycleAction(action: LifecycleActionRef, result: LifecycleResult): Promise<LifecycleCallOutcome>;
  /** Restarts the heartbeat timeout of a lifecycle action. */
  recordLifecycleActionHeartbeat(action: LifecycleActionRef): Promise<LifecycleCallOutcome>;
}

/** The EC2 tag Auto Scaling puts on the instances of a group (at launch and on attach), with the group's name. */
export const ASG_NAME_TAG = 'aws:autoscaling:groupName';

/** EC2: describe instances. The nodes returned carry no ASG facts; origins say how they were found. */
export interface Ec2Port {
  /** Describes instances by id, in chunks sent together; ids EC2 no longer knows are absent from the result. */
  describeInstancesById(instanceIds: readonly string[]): Promise<Node[]>;
  /**
   * Describes the instances tagged by Auto Scaling as members of the named groups (`aws:autoscaling:groupName`),
   * in every state EC2 still shows (paginated). Needs no id, so it is read beside the groups themselves.
   */
  describeInstancesOfGroups(groupNames: readonly string[]): Promise<Node[]>;
  /** Describes non-terminated instances matching every tag filter (paginated). */
  describeInstancesByTags(tagFilters: Readonly<Record<string, readonly string[]>>): Promise<Node[]>;
  /**
   * Sets one tag on an instance. Returns `not-found` when EC2 no longer knows the instance (it is gone:
   * nothing left to mark), never throws for that.
   */
  tagInstance(instanceId: string, key: string, value: string): Promise<'done' | 'not-found'>;
  /** Removes one tag from an instance; `not-found` when EC2 no longer knows the instance. */
  untagInstance(instanceId: string, key: string): Promise<'done' | 'not-found'>;
}

/** A target AWS refused, with its error code (e.g. InvalidTarget). */
export interface RejectedTarget {
  readonly target: TargetRef;
  readonly code: string;
  readonly message: string;
}

/** The outcome of a batched register or deregister. */
export interface TargetBatchResult {
  readonly applied: readonly TargetRef[];
  readonly rejected: readonly RejectedTarget[];
}

/** What a target group does with a deregistered target (DescribeTargetGroupAttributes). */
export interface DrainSettings {
  /** `deregistration_delay.timeout_seconds`: how long a deregistered target drains (0-3600, default 300). */
  readonly deregistrationDelaySeconds: number;
  /** `deregistration_delay.connection_termination.enabled`: connections are closed when the delay ends. */
  readonly connectionTermination: boolean;
}

/** ELBv2 target groups: observe and change targets. */
export interface TargetGroupPort {
  /** The group's draining settings, read from AWS (never assumed). */
  describeDrainSettings(targetGroupArn: string): Promise<DrainSettings>;
  /** Every target of the group with its health (DescribeTargetHealth, one call). */
  describeTargets(targetGroupArn: string): Promise<ObservedTarget[]>;
  /** Registers in chunks of at most 200; an InvalidTarget is isolated and reported, the rest applied. */
  registerTargets(targetGroupArn: string, targets: readonly TargetRef[]): Promise<TargetBatchResult>;
  /** Deregisters in chunks of at most 200; an InvalidTarget is isolated and reported, the rest applied. */
  deregisterTargets(targetGroupArn: string, targets: readonly TargetRef[]): Promise<TargetBatchResult>;
}

/** A source of the current time, in epoch milliseconds; tests move it by hand. */
export interface Clock {
  now(): number;
}

/**
 * The delayed re-check: a held lifecycle action comes back after `delaySeconds` (0-900) as a message
 * of its own, so nothing idles while it waits (docs/lifecycle.md).
 */
export interface HoldQueuePort {
  /** Schedules a re-check of a held lifecycle action. */
  scheduleCheck(hold: LifecycleHold, delaySeconds: number): Promise<void>;
  /** Schedules an event to be put back on its cluster's lane after `delaySeconds` (a retry with its facts). */
  scheduleRetry(retry: EventRetry, delaySeconds: number): Promise<void>;
}

/** An event to run again on its cluster's lane, with how often it was tried. */
export interface EventRetry {
  readonly cluster: string;
  /** The original EventBridge event, unchanged (absent when a hold asks for its pass). */
  readonly event?: unknown;
  /** How many times it has been tried (1 after the first failure). */
  readonly attempt: number;
  /** A held lifecycle action whose pass must run again, so its deadline and heartbeats carry over. */
  readonly hold?: LifecycleHold;
}

/** The cluster's lane (FIFO, one message group per cluster): where passes run one after another. */
export interface LanePort {
  /** Puts a retry on the cluster's lane; `deduplicationId` makes a repeated send harmless. */
  send(retry: EventRetry, deduplicationId: string): Promise<void>;
}
