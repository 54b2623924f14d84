/**
 * The deployment's two queues, in memory, on a clock the test moves: the wait queue (standard SQS with
 * per-message DelaySeconds) and the cluster lanes (FIFO, one message group per cluster).
 *
 * Why not moto's SQS: its DelaySeconds are real seconds, and the waits this product makes (draining for
 * 300 s, health checks for minutes) must run in a test in milliseconds. The product's own SQS adapter
 * (lambdas/aws/queue-adapter.ts) is tested on its own against aws-sdk-client-mock and moto; here the
 * same handler receives the same message bodies in the same SQS event shape, only delivered by
 * {@link FakeQueues.deliverDue} when the manual clock says they are due.
 */
import type { LifecycleHold } from '../../lambdas/domain/lifecycle-hold';
import type { Clock, EventRetry, HoldQueuePort, LanePort } from '../../lambdas/domain/ports';
import { eventRetryMessage, holdCheckMessage } from '../../lambdas/domain/product-messages';

/** A clock that moves only when told. Epoch milliseconds. */
export class ManualClock implements Clock {
  public constructor(private current = Date.parse('2026-12-01T00:00:00Z')) {}
  public now(): number {
    return this.current;
  }
  /** Moves the clock forward. */
  public advance(seconds: number): void {
    this.current += seconds * 1000;
  }
  /** Sets the clock. */
  public set(nowMs: number): void {
    this.current = nowMs;
  }
}

/** One message in a fake queue. */
export interface QueuedMessage {
  readonly queue: 'wait' | 'lane';
  readonly body: string;
  /** When it becomes visible (epoch ms). */
  readonly dueAt: number;
  /** The lane's message group (the cluster). */
  readonly groupId?: string;
  readonly deduplicationId?: string;
}

/** The wait queue and the lanes, recording every message sent. */
export class FakeQueues implements HoldQueuePort, LanePort {
  /** Messages not yet delivered. */
  public readonly pending: QueuedMessage[] = [];
  /** Every message ever sent, in order. */
  public readonly sent: QueuedMessage[] = [];
  /** When set, the next sends fail with this error (a throttled SQS). */
  public failNextSends = 0;

  public constructor(public readonly clock: ManualClock) {}

  public async scheduleCheck(hold: LifecycleHold, delaySeconds: number): Promise<void> {
    this.push({ queue: 'wait', body: JSON.stringify(holdCheckMessage(hold)), dueAt: this.due(delaySeconds) });
  }

  public async scheduleRetry(retry: EventRetry, delaySeconds: number): Promise<void> {
    this.push({
      queue: 'wait',
      body: JSON.stringify(eventRetryMessage(retry)),
      dueAt: this.due(delaySeconds),
    });
  }

  public async send(retry: EventRetry, deduplicationId: string): Promise<void> {
    // FIFO deduplication: the same id within the 5-minute window is one message.
    const window = this.clock.now() - 5 * 60 * 1000;
    if (this.sent.some((m) => m.deduplicationId === deduplicationId && m.dueAt >= window)) return;
    this.push({
      queue: 'lane',
      body: JSON.stringify(eventRetryMessage(retry)),
      dueAt: this.clock.now(),
      groupId: retry.cluster,
      deduplicationId,
    });
  }

  /** Takes the messages due now (lane first, as its passes are what a re-check waits for). */
  public takeDue(): QueuedMessage[] {
    const now = this.clock.now();
    const due = this.pending
      .filter((m) => m.dueAt <= now)
      .sort((a, b) => (a.queue === b.queue ? a.dueAt - b.dueAt : a.queue === 'lane' ? -1 : 1));
    for (const message of due) this.pending.splice(this.pending.indexOf(message), 1);
    return due;
  }

  /**
   * Delivers every due message, one SQS event each (batch size 1, as deployed), to `handler`, until none
   * is due; returns how many were delivered. A handler that throws leaves its message to come back
   * after `redeliverSeconds`, as SQS's visibility timeout would.
   */
  public async deliverDue(
    handler: (event: unknown) => Promise<unknown>,
    redeliverSeconds = 120,
  ): Promise<number> {
    let delivered = 0;
    for (let due = this.takeDue(); due.length > 0; due = this.takeDue()) {
      for (const message of due) {
        delivered += 1;
        try {
          await handler(sqsEventOf(message));
        } catch {
          this.pending.push({ ...message, dueAt: this.clock.now() + redeliverSeconds * 1000 });
        }
      }
    }
    return delivered;
  }

  /** The held actions waiting in the wait queue. */
  public pendingHolds(): LifecycleHold[] {
    return this.pending.flatMap((m) => {
      const body = JSON.parse(m.body) as { 'detail-type': string; detail: LifecycleHold };
      return body['detail-type'] === 'Lifecycle Hold Check' ? [body.detail] : [];
    });
  }

  private due(delaySeconds: number): number {
    return this.clock.now() + delaySeconds * 1000;
  }

  private push(message: QueuedMessage): void {
    if (this.failNextSends > 0) {
      this.failNextSends -= 1;
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    }
    this.pending.push(message);
    this.sent.push(message);
  }
}

/** The SQS event Lambda would deliver for one message (batch size 1). */
export function sqsEventOf(message: QueuedMessage): unknown {
  return {
    Records: [
      {
        messageId: `m-${message.dueAt}-${Math.random().toString(16).slice(2)}`,
        receiptHandle: 'r',
        body: message.body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(message.dueAt),
          SenderId: 'AROAEXAMPLE',
          ApproximateFirstReceiveTimestamp: String(message.dueAt),
          ...(message.groupId !== undefined && {
            MessageGroupId: message.groupId,
            MessageDeduplicationId: message.deduplicationId ?? 'd',
            SequenceNumber: '1',
          }),
        },
        messageAttributes: {},
        md5OfBody: 'x',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${message.queue === 'lane' ? 'lane.fifo' : 'wait'}`,
        awsRegion: 'us-east-1',
      },
    ],
  };
}
