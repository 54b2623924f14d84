import { SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import { MalformedEventError } from '../domain/errors';

/** One event out of an invocation, with the SQS message group (the cluster) when it came through SQS. */
export interface EnvelopedEvent {
  readonly body: unknown;
  /** The FIFO message group id: the deployment serializes passes per cluster with it. */
  readonly messageGroupId?: string;
}

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
 * @throws MalformedEventError when an SQS body is not JSON
 */
export function unwrapEvents(event: unknown): EnvelopedEvent[] {
  if (!isSqsEvent(event)) return [{ body: event }];
  const parsed = SqsSchema.safeParse(event);
  if (!parsed.success) {
    throw new MalformedEventError(
      `Malformed SQS event: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
    );
  }
  return parsed.data.Records.map((record) => {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      throw new MalformedEventError(`SQS message ${record.messageId} does not hold a JSON EventBridge event`);
    }
    const group = record.attributes.MessageGroupId;
    return group === undefined ? { body } : { body, messageGroupId: group };
  });
}
