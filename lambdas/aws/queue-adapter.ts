import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { EnvironmentError } from '../domain/errors';
import type { LifecycleHold } from '../domain/lifecycle-hold';
import { MAX_DELAY_SECONDS } from '../domain/lifecycle-hold';
import type { EventRetry, HoldQueuePort, LanePort } from '../domain/ports';
import { eventRetryMessage, holdCheckMessage } from '../domain/product-messages';
import { sqsClient } from './clients';

/**
 * SQS adapter for the product's own messages: delayed re-checks and retries go to the wait queue
 * (standard SQS, per-message DelaySeconds), retries that need a pass go to the cluster's FIFO lane.
 *
 * The queue URLs come from the deployment (NLB_SYNC_WAIT_QUEUE_URL, NLB_SYNC_LANE_QUEUE_URL); a missing
 * one fails the send that needs it with a named error, not the start of a CLI that never sends.
 *
 * @example
 * await new QueueAdapter({ waitQueueUrl, laneQueueUrl }).scheduleCheck(hold, 15);
 */
export class QueueAdapter implements HoldQueuePort, LanePort {
  /**
   * @param urls the wait queue and lane queue URLs (either may be absent where nothing is sent)
   * @param client defaults to the process-wide client; tests inject their own.
   */
  public constructor(
    private readonly urls: { readonly waitQueueUrl?: string; readonly laneQueueUrl?: string },
    private readonly client: SQSClient = sqsClient(),
  ) {}

  /** Sends a re-check of the hold to the wait queue, due in `delaySeconds` (0-900). */
  public async scheduleCheck(hold: LifecycleHold, delaySeconds: number): Promise<void> {
    await this.sendDelayed(JSON.stringify(holdCheckMessage(hold)), delaySeconds);
  }

  /** Sends an event retry to the wait queue, due in `delaySeconds`; its consumer puts it on the lane. */
  public async scheduleRetry(retry: EventRetry, delaySeconds: number): Promise<void> {
    await this.sendDelayed(JSON.stringify(eventRetryMessage(retry)), delaySeconds);
  }

  /**
   * Puts a retry on the cluster's lane (message group = cluster). The deduplication id is explicit: the
   * lane's content-based deduplication would drop a second retry of the same body within 5 minutes.
   */
  public async send(retry: EventRetry, deduplicationId: string): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: required(this.urls.laneQueueUrl, 'NLB_SYNC_LANE_QUEUE_URL'),
        MessageBody: JSON.stringify(eventRetryMessage(retry)),
        MessageGroupId: retry.cluster,
        MessageDeduplicationId: deduplicationId.replace(/[^A-Za-z0-9!-/:-@[-`{-~]/g, '-').slice(0, 128),
      }),
    );
  }

  private async sendDelayed(body: string, delaySeconds: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: required(this.urls.waitQueueUrl, 'NLB_SYNC_WAIT_QUEUE_URL'),
        MessageBody: body,
        DelaySeconds: Math.max(0, Math.min(MAX_DELAY_SECONDS, Math.round(delaySeconds))),
      }),
    );
  }
}

function required(url: string | undefined, variable: string): string {
  if (url === undefined || url === '') {
    throw new EnvironmentError(
      `${variable} is not set: held lifecycle actions and retries need the deployment's queues (docs/lifecycle.md)`,
    );
  }
  return url;
}
