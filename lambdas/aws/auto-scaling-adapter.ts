import {
  type AutoScalingClient,
  type AutoScalingGroup,
  CompleteLifecycleActionCommand,
  paginateDescribeAutoScalingGroups,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import type {
  AutoScalingGroupInfo,
  AutoScalingPort,
  LifecycleActionRef,
  LifecycleCallOutcome,
  LifecycleResult,
} from '../domain/ports';
import { chunksOf } from './chunks';
import { autoScalingClient } from './clients';

/** DescribeAutoScalingGroups accepts at most 50 group names per request (AWS API reference). */
export const AUTO_SCALING_GROUP_NAMES_PER_CALL = 50;

/** Largest page DescribeAutoScalingGroups returns (MaxRecords); fewer pages, fewer throttling tokens. */
const GROUPS_PER_PAGE = 100;

const NO_ACTIVE_LIFECYCLE_ACTION = /No active Lifecycle Action found/i;

/**
 * Auto Scaling adapter: describes groups and answers lifecycle actions.
 *
 * @example
 * const groups = await new AutoScalingAdapter().describeGroups(['workers-a', 'workers-b']);
 */
export class AutoScalingAdapter implements AutoScalingPort {
  /** @param client defaults to the process-wide client; tests inject their own. */
  public constructor(private readonly client: AutoScalingClient = autoScalingClient()) {}

  /**
   * Describes the named groups, 50 names per request (the requests together), following NextToken;
   * unknown names are absent.
   */
  public async describeGroups(names: readonly string[]): Promise<AutoScalingGroupInfo[]> {
    const unique = [...new Set(names)];
    // An empty name list means "every group in the account" to AWS, never what a caller asking for none wants.
    if (unique.length === 0) {
      return [];
    }
    const chunks = await Promise.all(
      chunksOf(unique, AUTO_SCALING_GROUP_NAMES_PER_CALL).map(async (chunk) => {
        const groups: AutoScalingGroupInfo[] = [];
        const pages = paginateDescribeAutoScalingGroups(
          { client: this.client, pageSize: GROUPS_PER_PAGE },
          { AutoScalingGroupNames: chunk },
        );
        for await (const page of pages) {
          for (const group of page.AutoScalingGroups ?? []) {
            const info = toGroupInfo(group);
            if (info !== undefined) {
              groups.push(info);
            }
          }
        }
        return groups;
      }),
    );
    return chunks.flat();
  }

  /**
   * Answers a lifecycle action, by token when the event carried one, else by instance id.
   *
   * An action that is no longer pending (AWS answers ValidationError "No active Lifecycle Action
   * found") is reported as `not-active`, never thrown: another invocation answered it, or its heartbeat
   * timeout expired and AWS applied the default result. Events are delivered at least once.
   */
  public async completeLifecycleAction(
    action: LifecycleActionRef,
    result: LifecycleResult,
  ): Promise<LifecycleCallOutcome> {
    return notActiveIsAnAnswer(() =>
      this.client.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: action.autoScalingGroupName,
          LifecycleHookName: action.lifecycleHookName,
          LifecycleActionResult: result,
          ...actionTarget(action),
        }),
      ),
    );
  }

  /**
   * Restarts the heartbeat timeout of a pending lifecycle action. `not-active` tells the caller that AWS
   * no longer waits for the instance (answered, or timed out), so it stops holding it.
   */
  public async recordLifecycleActionHeartbeat(action: LifecycleActionRef): Promise<LifecycleCallOutcome> {
    return notActiveIsAnAnswer(() =>
      this.client.send(
        new RecordLifecycleActionHeartbeatCommand({
          AutoScalingGroupName: action.autoScalingGroupName,
          LifecycleHookName: action.lifecycleHookName,
          ...actionTarget(action),
        }),
      ),
    );
  }
}

async function notActiveIsAnAnswer(call: () => Promise<unknown>): Promise<LifecycleCallOutcome> {
  try {
    await call();
    return 'done';
  } catch (error) {
    if (isNoActiveLifecycleAction(error)) return 'not-active';
    throw error;
  }
}

/** The token identifies one action exactly; the instance id is the fallback AWS also accepts. */
function actionTarget(action: LifecycleActionRef): { LifecycleActionToken: string } | { InstanceId: string } {
  return action.lifecycleActionToken !== undefined && action.lifecycleActionToken !== ''
    ? { LifecycleActionToken: action.lifecycleActionToken }
    : { InstanceId: action.instanceId };
}

function isNoActiveLifecycleAction(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'ValidationError' &&
    NO_ACTIVE_LIFECYCLE_ACTION.test(error.message)
  );
}

function toGroupInfo(group: AutoScalingGroup): AutoScalingGroupInfo | undefined {
  if (group.AutoScalingGroupName === undefined) {
    return undefined;
  }
  return {
    name: group.AutoScalingGroupName,
    desiredCapacity: group.DesiredCapacity ?? 0,
    instances: (group.Instances ?? []).flatMap((instance) =>
      instance.InstanceId === undefined
        ? []
        : [
            {
              instanceId: instance.InstanceId,
              lifecycleState: instance.LifecycleState ?? 'Unknown',
              healthStatus: instance.HealthStatus ?? 'Unknown',
              ...(instance.AvailabilityZone !== undefined && { availabilityZone: instance.AvailabilityZone }),
            },
          ],
    ),
  };
}
