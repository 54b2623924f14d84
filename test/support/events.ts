/**
 * EventBridge events in AWS's own shapes, built for a moto world (the fixtures in test/events/ are
 * AWS's samples; these carry the world's real ASG, hook and instance names).
 */
import type { World } from './moto-world';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** The schedule's `Scheduled Event`. */
export function scheduledEvent(rule = 'reconcile'): Record<string, unknown> {
  return {
    version: '0',
    id: `schedule-${rule}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: REGION,
    resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/${rule}`],
    detail: {},
  };
}

/**
 * An `EC2 Instance-launch|terminate Lifecycle Action` for an instance of the world's ASG; the token is
 * `token-<instance id>`.
 * @param destination - overrides the default destination (`WarmPool` for a launch into the warm pool)
 */
export function lifecycleEvent(
  world: Pick<World, 'asgName' | 'launchHookName' | 'terminateHookName'>,
  instanceId: string,
  kind: 'launch' | 'terminate',
  destination?: string,
): Record<string, unknown> {
  const launching = kind === 'launch';
  return {
    version: '0',
    id: `${kind}-${instanceId}`,
    'detail-type': launching
      ? 'EC2 Instance-launch Lifecycle Action'
      : 'EC2 Instance-terminate Lifecycle Action',
    source: 'aws.autoscaling',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: REGION,
    resources: [
      `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:x:autoScalingGroupName/${world.asgName}`,
    ],
    detail: {
      LifecycleActionToken: `token-${instanceId}`,
      AutoScalingGroupName: world.asgName,
      LifecycleHookName: launching ? world.launchHookName : world.terminateHookName,
      EC2InstanceId: instanceId,
      LifecycleTransition: launching
        ? 'autoscaling:EC2_INSTANCE_LAUNCHING'
        : 'autoscaling:EC2_INSTANCE_TERMINATING',
      Origin: launching ? 'EC2' : 'AutoScalingGroup',
      Destination: destination ?? (launching ? 'AutoScalingGroup' : 'EC2'),
    },
  };
}

/** An `EC2 Spot Instance Interruption Warning` for an instance (two minutes ahead, action terminate). */
export function spotInterruptionEvent(instanceId: string): Record<string, unknown> {
  return {
    version: '0',
    id: `spot-${instanceId}`,
    'detail-type': 'EC2 Spot Instance Interruption Warning',
    source: 'aws.ec2',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: REGION,
    resources: [`arn:aws:ec2:${REGION}a:instance/${instanceId}`],
    detail: { 'instance-id': instanceId, 'instance-action': 'terminate' },
  };
}
