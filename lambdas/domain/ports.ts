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

/** Auto Scaling: describe groups, answer lifecycle actions. */
export interface AutoScalingPort {
  /** Describes the named groups (paginated); names AWS does not know are simply absent from the result. */
  describeGroups(names: readonly string[]): Promise<AutoScalingGroupInfo[]>;
  /** Answers a lifecycle action. */
  completeLifecycleAction(action: LifecycleActionRef, result: LifecycleResult): Promise<void>;
  /** Restarts the heartbeat timeout of a lifecycle action. */
  recordLifecycleActionHeartbeat(action: LifecycleActionRef): Promise<void>;
}

/** EC2: describe instances. The nodes returned carry no ASG facts; origins say how they were found. */
export interface Ec2Port {
  /** Describes instances by id, in chunks; ids EC2 no longer knows are absent from the result. */
  describeInstancesById(instanceIds: readonly string[]): Promise<Node[]>;
  /** Describes non-terminated instances matching every tag filter (paginated). */
  describeInstancesByTags(tagFilters: Readonly<Record<string, readonly string[]>>): Promise<Node[]>;
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

/** ELBv2 target groups: observe and change targets. */
export interface TargetGroupPort {
  /** Every target of the group with its health (DescribeTargetHealth, one call). */
  describeTargets(targetGroupArn: string): Promise<ObservedTarget[]>;
  /** Registers in chunks of at most 200; an InvalidTarget is isolated and reported, the rest applied. */
  registerTargets(targetGroupArn: string, targets: readonly TargetRef[]): Promise<TargetBatchResult>;
  /** Deregisters in chunks of at most 200; an InvalidTarget is isolated and reported, the rest applied. */
  deregisterTargets(targetGroupArn: string, targets: readonly TargetRef[]): Promise<TargetBatchResult>;
}
