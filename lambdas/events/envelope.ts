import * as z from 'zod/mini';
import { MalformedEventError } from '../domain/errors';
import '../domain/zod-english';
import { describeIssues } from './event-schemas';

/** One event out of an invocation, with the SQS message group (the cluster) when it came through SQS. */
export interface EnvelopedEvent {
  readonly body: unknown;
  /** The FIFO message group id: the deployment serializes passes per cluster with it. */
  readonly messageGroupId?: string;
}

/** The fields of an SQS batch the product reads (nothing else is required). */
const sqsEventSchema = z.object({
  Records: z.array(
    z.object({
      messageId: z.string(),
      body: z.string(),
      attributes: z.optional(z.object({ MessageGroupId: z.optional(z.string()) })),
    }),
  ),
});

function isSqsEvent(event: unknown): boolean {
  return (
    typeof event === 'object' &&
    event !== null &&
    Array.isArray((event as { Records?: unknown }).Records) &&
    (event as { Records: { eventSource?: unknown }[] }).Records.every((r) => r?.eventSource === 'aws:sqs')
  );
}

/**
 * Unwraps an invocation: an EventBridge event delivered directly (one event) or an SQS batch whose
 * bodies are EventBridge events (the deployed path, see docs/deploy.md).
 * @throws MalformedEventError naming the failing field when an SQS record is not as SQS sends it, or
 *   when its body is not JSON
 */
export function unwrapEvents(event: unknown): EnvelopedEvent[] {
  if (!isSqsEvent(event)) return [{ body: event }];
  const parsed = sqsEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new MalformedEventError(`Malformed SQS event: ${describeIssues(parsed.error)}`);
  }
  return parsed.data.Records.map((record) => {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      throw new MalformedEventError(`SQS message ${record.messageId} does not hold a JSON EventBridge event`);
    }
    const group = record.attributes?.MessageGroupId;
    return group === undefined ? { body } : { body, messageGroupId: group };
  });
}
