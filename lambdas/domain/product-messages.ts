/**
 * The messages the product sends itself: a re-check of a held lifecycle action (to the wait queue, with a
 * delay) and a retry of an event (to the wait queue with a delay, then to the cluster's lane). They have
 * the EventBridge envelope's shape (`source`, `detail-type`, `detail`) so one handler tells every message
 * apart the same way; `source` is the product's own, which no AWS service uses.
 */
import type { LifecycleHold } from './lifecycle-hold';
import type { EventRetry } from './ports';

/** `source` of every message the product sends itself. */
export const PRODUCT_SOURCE = 'nlb-nodeport-sync';

/** `detail-type` of the product's messages. */
export const PRODUCT_DETAIL_TYPES = {
  holdCheck: 'Lifecycle Hold Check',
  eventRetry: 'Event Retry',
} as const;

/** A re-check of a held lifecycle action. */
export interface HoldCheckMessage {
  readonly source: typeof PRODUCT_SOURCE;
  readonly 'detail-type': typeof PRODUCT_DETAIL_TYPES.holdCheck;
  readonly detail: LifecycleHold;
}

/** An event to run again on its cluster's lane. */
export interface EventRetryMessage {
  readonly source: typeof PRODUCT_SOURCE;
  readonly 'detail-type': typeof PRODUCT_DETAIL_TYPES.eventRetry;
  readonly detail: EventRetry;
}

/** The message that re-checks a hold. */
export function holdCheckMessage(hold: LifecycleHold): HoldCheckMessage {
  return { source: PRODUCT_SOURCE, 'detail-type': PRODUCT_DETAIL_TYPES.holdCheck, detail: hold };
}

/** The message that retries an event. */
export function eventRetryMessage(retry: EventRetry): EventRetryMessage {
  return { source: PRODUCT_SOURCE, 'detail-type': PRODUCT_DETAIL_TYPES.eventRetry, detail: retry };
}

/**
 * The lane deduplication id of a retry: the same retry sent twice (SQS delivers at least once) is one
 * message on the lane; a later retry of the same event or hold gets a new id.
 */
export function retryDeduplicationId(retry: EventRetry): string {
  if (retry.hold !== undefined) {
    return `${retry.hold.action.lifecycleActionToken ?? retry.hold.action.instanceId}-${retry.hold.checks}`;
  }
  const id = (retry.event as { id?: unknown } | undefined)?.id;
  return `${retry.cluster}-${typeof id === 'string' ? id : 'event'}-${retry.attempt}`;
}
