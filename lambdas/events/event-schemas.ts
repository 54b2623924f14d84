import * as z from 'zod/mini';
import '../domain/zod-english';

/**
 * zod schemas of the EventBridge events this product consumes (see docs/events.md).
 *
 * Each event is dispatched on its `detail-type` (and checked against its `source`) first; only then is
 * the shape it claims to be validated, so an error names the failing field (`detail.instance-id:
 * Required`) instead of saying that no shape fits. Only the fields the product reads are validated:
 * the envelope's `source`, `detail-type` and `time`, and the detail fields event-triggers.ts and the
 * lifecycle handler use. `version`, `id`, `account`, `region`, `resources` and unread detail fields are
 * not required (AWS's own documented samples leave some out or fill them with placeholders).
 */

/** The message of a field that is absent; zod's default for any other failure. */
function requiredMessage(issue: { readonly input?: unknown }): string | undefined {
  return issue.input === undefined ? 'Required' : undefined;
}

/** A string field the product reads. */
const text = () => z.string({ error: requiredMessage });

/** An object field the product reads into. */
function record<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  return z.object(shape, { error: requiredMessage });
}

/** A non-empty string field the product reads. */
const nonEmptyText = () => text().check(z.minLength(1));

/** A non-empty string of the product's own messages. */
const nonEmpty = () => z.string().check(z.minLength(1));

const instanceId = text().check(z.regex(/^i-[0-9a-f]{8,17}$/, 'must be an EC2 instance id'));

/**
 * The event's `time` as sent, `''` when absent or not a string. It is not validated: it only ever
 * refines the facts an event adds (an unparseable time, as in AWS's samples' `yyyy-mm-ddThh:mm:ssZ`,
 * means "no event time"), and a rejected event would lose facts no later pass can see again.
 */
const eventTime = z.catch(z.string(), '');

const LIFECYCLE_TRANSITIONS = [
  'autoscaling:EC2_INSTANCE_LAUNCHING',
  'autoscaling:EC2_INSTANCE_TERMINATING',
] as const;

/** `aws.autoscaling` / `EC2 Instance-launch|terminate Lifecycle Action`. */
export const lifecycleActionEventSchema = z.object({
  source: z.literal('aws.autoscaling'),
  'detail-type': z.enum(['EC2 Instance-launch Lifecycle Action', 'EC2 Instance-terminate Lifecycle Action']),
  time: eventTime,
  detail: record({
    LifecycleActionToken: nonEmptyText(),
    AutoScalingGroupName: nonEmptyText(),
    LifecycleHookName: nonEmptyText(),
    EC2InstanceId: instanceId,
    LifecycleTransition: z.enum(LIFECYCLE_TRANSITIONS, { error: requiredMessage }),
    Origin: z.optional(z.string()),
    Destination: z.optional(z.string()),
  }),
});

/** `aws.autoscaling` / `EC2 Instance Launch|Terminate Successful|Unsuccessful`. */
export const autoScalingResultEventSchema = z.object({
  source: z.literal('aws.autoscaling'),
  'detail-type': z.enum([
    'EC2 Instance Launch Successful',
    'EC2 Instance Launch Unsuccessful',
    'EC2 Instance Terminate Successful',
    'EC2 Instance Terminate Unsuccessful',
  ]),
  time: eventTime,
  detail: record({
    AutoScalingGroupName: nonEmptyText(),
    // Not an instance-id pattern: an unsuccessful launch may name no instance ("").
    EC2InstanceId: text(),
  }),
});

/** `aws.ec2` / `EC2 Instance State-change Notification`. */
export const instanceStateChangeEventSchema = z.object({
  source: z.literal('aws.ec2'),
  'detail-type': z.enum(['EC2 Instance State-change Notification']),
  time: eventTime,
  detail: record({
    'instance-id': instanceId,
    state: z.enum(['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'], {
      error: requiredMessage,
    }),
  }),
});

/**
 * `aws.ec2` / `EC2 Spot Instance Interruption Warning` and `EC2 Instance Rebalance Recommendation`.
 * `instance-action` is not read: every interruption takes the node out the same way.
 */
export const spotEventSchema = z.object({
  source: z.literal('aws.ec2'),
  'detail-type': z.enum(['EC2 Spot Instance Interruption Warning', 'EC2 Instance Rebalance Recommendation']),
  time: eventTime,
  detail: record({ 'instance-id': instanceId }),
});

/** `aws.events` / `Scheduled Event`: nothing but its type is read. */
export const scheduledEventSchema = z.object({
  source: z.literal('aws.events'),
  'detail-type': z.enum(['Scheduled Event']),
  time: eventTime,
});

// Every detail-type is a z.enum (one value or more), so the accepted types can be listed from the schemas.
const RECONCILE_EVENT_SCHEMAS = [
  scheduledEventSchema,
  autoScalingResultEventSchema,
  instanceStateChangeEventSchema,
  spotEventSchema,
] as const;

/** The `detail-type`s the pass handler accepts, with their source, for the message of an unknown one. */
const ACCEPTED_TYPES = RECONCILE_EVENT_SCHEMAS.flatMap((schema) =>
  schema.shape['detail-type'].options.map((type) => `"${type}" (${schema.shape.source.def.values[0]})`),
);

function describeValue(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : String(value);
}

/**
 * Every event the reconcile handler accepts: dispatched on `detail-type`, then checked against its
 * `source` and its shape's read fields.
 */
export const reconcileEventSchema = z.discriminatedUnion('detail-type', RECONCILE_EVENT_SCHEMAS, {
  error: (issue) => {
    if (issue.code !== 'invalid_union') return undefined;
    const event = (issue.input ?? {}) as Record<string, unknown>;
    return (
      `not an event this product consumes: ${describeValue(event['detail-type'])} from source ` +
      `${describeValue(event.source)}; accepted: ${ACCEPTED_TYPES.join(', ')}`
    );
  },
});

const epochMs = z.number().check(z.int(), z.nonnegative());

/** A lifecycle action inside the product's own messages (lambdas/domain/lifecycle-hold.ts). */
const heldActionSchema = z.object({
  autoScalingGroupName: nonEmpty(),
  lifecycleHookName: nonEmpty(),
  instanceId,
  lifecycleActionToken: z.optional(nonEmpty()),
  transition: z.enum(LIFECYCLE_TRANSITIONS),
  origin: z.optional(z.string()),
  destination: z.optional(z.string()),
});

/** A held lifecycle action, as the product's messages carry it. */
export const lifecycleHoldSchema = z.object({
  cluster: nonEmpty(),
  action: heldActionSchema,
  kind: z.enum(['launch', 'terminate']),
  startedAt: epochMs,
  deadlineAt: epochMs,
  lastHeartbeatAt: epochMs,
  heartbeatTimeoutSeconds: z.number().check(z.int(), z.gte(30), z.lte(7200)),
  checks: z.number().check(z.int(), z.nonnegative()),
  failures: z.number().check(z.int(), z.nonnegative()),
  privateIp: z.optional(nonEmpty()),
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
      cluster: nonEmpty(),
      event: z.optional(z.unknown()),
      attempt: z.number().check(z.int(), z.nonnegative()),
      hold: z.optional(lifecycleHoldSchema),
    })
    .check(z.refine((d) => d.event !== undefined || d.hold !== undefined, 'needs event or hold')),
});

/** A lifecycle action event. */
export type LifecycleActionEvent = z.infer<typeof lifecycleActionEventSchema>;
/** Any event the reconcile handler accepts. */
export type ReconcileEvent = z.infer<typeof reconcileEventSchema>;

/** The first few validation issues of an event, `path: message`, for a MalformedEventError. */
export function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
