import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';

/**
 * zod schemas of the EventBridge events this product consumes, in AWS's documented shapes
 * (see docs/events.md). The envelope comes from Powertools; only `detail` is ours.
 */

const instanceId = z.string().regex(/^i-[0-9a-f]{8,17}$/, 'must be an EC2 instance id');

/** `aws.autoscaling` / `EC2 Instance-launch|terminate Lifecycle Action`. */
export const lifecycleActionEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.autoscaling'),
  'detail-type': z.enum(['EC2 Instance-launch Lifecycle Action', 'EC2 Instance-terminate Lifecycle Action']),
  detail: z.object({
    LifecycleActionToken: z.string().min(1),
    AutoScalingGroupName: z.string().min(1),
    LifecycleHookName: z.string().min(1),
    EC2InstanceId: instanceId,
    LifecycleTransition: z.enum([
      'autoscaling:EC2_INSTANCE_LAUNCHING',
      'autoscaling:EC2_INSTANCE_TERMINATING',
    ]),
    NotificationMetadata: z.string().optional(),
    Origin: z.string().optional(),
    Destination: z.string().optional(),
  }),
});

/** `aws.autoscaling` / `EC2 Instance Launch|Terminate Successful|Unsuccessful`. */
export const autoScalingResultEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.autoscaling'),
  'detail-type': z.enum([
    'EC2 Instance Launch Successful',
    'EC2 Instance Launch Unsuccessful',
    'EC2 Instance Terminate Successful',
    'EC2 Instance Terminate Unsuccessful',
  ]),
  detail: z.object({
    AutoScalingGroupName: z.string().min(1),
    EC2InstanceId: z.string(),
    StatusCode: z.string().optional(),
    ActivityId: z.string().optional(),
  }),
});

/** `aws.ec2` / `EC2 Instance State-change Notification`. */
export const instanceStateChangeEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.ec2'),
  'detail-type': z.literal('EC2 Instance State-change Notification'),
  detail: z.object({
    'instance-id': instanceId,
    state: z.enum(['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated']),
  }),
});

/** `aws.ec2` / `EC2 Spot Instance Interruption Warning` and `EC2 Instance Rebalance Recommendation`. */
export const spotEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.ec2'),
  'detail-type': z.enum(['EC2 Spot Instance Interruption Warning', 'EC2 Instance Rebalance Recommendation']),
  detail: z.object({
    'instance-id': instanceId,
    'instance-action': z.enum(['terminate', 'stop', 'hibernate']).optional(),
  }),
});

/** `aws.events` / `Scheduled Event`. */
export const scheduledEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
});

/** Every event the reconcile handler accepts. */
export const reconcileEventSchema = z.union([
  scheduledEventSchema,
  autoScalingResultEventSchema,
  instanceStateChangeEventSchema,
  spotEventSchema,
]);

const epochMs = z.number().int().nonnegative();

/** A lifecycle action inside the product's own messages (lambdas/domain/lifecycle-hold.ts). */
const heldActionSchema = z.object({
  autoScalingGroupName: z.string().min(1),
  lifecycleHookName: z.string().min(1),
  instanceId,
  lifecycleActionToken: z.string().min(1).optional(),
  transition: z.enum(['autoscaling:EC2_INSTANCE_LAUNCHING', 'autoscaling:EC2_INSTANCE_TERMINATING']),
  origin: z.string().optional(),
  destination: z.string().optional(),
});

/** A held lifecycle action, as the product's messages carry it. */
export const lifecycleHoldSchema = z.object({
  cluster: z.string().min(1),
  action: heldActionSchema,
  kind: z.enum(['launch', 'terminate']),
  startedAt: epochMs,
  deadlineAt: epochMs,
  lastHeartbeatAt: epochMs,
  heartbeatTimeoutSeconds: z.number().int().min(30).max(7200),
  checks: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
  privateIp: z.string().min(1).optional(),
});

/** The product's re-check of a held lifecycle action (wait queue). */
export const holdCheckMessageSchema = z.object({
  source: z.literal('nlb-nodeport-sync'),
  'detail-type': z.literal('Lifecycle Hold Check'),
  detail: lifecycleHoldSchema,
});

/** The product's retry of an event (wait queue, then the cluster's lane). */
export const eventRetryMessageSchema = z.object({
  source: z.literal('nlb-nodeport-sync'),
  'detail-type': z.literal('Event Retry'),
  detail: z
    .object({
      cluster: z.string().min(1),
      event: z.unknown().optional(),
      attempt: z.number().int().nonnegative(),
      hold: lifecycleHoldSchema.optional(),
    })
    .refine((d) => d.event !== undefined || d.hold !== undefined, 'needs event or hold'),
});

/** A lifecycle action event. */
export type LifecycleActionEvent = z.infer<typeof lifecycleActionEventSchema>;
/** Any event the reconcile handler accepts. */
export type ReconcileEvent = z.infer<typeof reconcileEventSchema>;

/** The first few validation issues of an event, `path: message`, for a MalformedEventError. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
