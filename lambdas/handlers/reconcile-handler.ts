import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SyncConfig } from '../domain/config';
import { METRICS } from '../domain/metric-names';
import { retryDeduplicationId } from '../domain/product-messages';
import { type EnvelopedEvent, unwrapEvents } from '../events/envelope';
import {
  describeIssues,
  eventRetryMessageSchema,
  holdCheckMessageSchema,
  lifecycleActionEventSchema,
  reconcileEventSchema,
} from '../events/event-schemas';
import { type EventTrigger, lifecycleActionOf, triggerForEvent } from '../events/event-triggers';
import { runEventPasses } from '../sync/event-passes';
import { checkHold, type HoldCheckDeps, type HoldCheckOutcome } from '../sync/hold-check';
import { handleLifecycleAction, type LifecycleOutcome } from '../sync/lifecycle-action';
import { publishMetrics, setClusterDimension } from '../sync/publish-metrics';
import type { PassReport } from '../sync/reconcile-pass';

/** What one invocation did. Nothing is dropped without a line here, a log line and a metric. */
export interface ReconcileHandlerResult {
  readonly passes: readonly PassReport[];
  /** `cluster: error` per failed pass (logged and counted; see runEventPasses). */
  readonly failures: readonly string[];
  readonly lifecycle: readonly LifecycleOutcome[];
  readonly holdChecks: readonly HoldCheckOutcome[];
  /** Retries moved from the wait queue to their cluster's lane. */
  readonly forwarded: number;
  readonly skipped: readonly string[];
  /** Messages that can never succeed (malformed): logged with their body, not retried. */
  readonly rejected: readonly string[];
}

const LOGGED_BODY_CHARS = 4_000;

/**
 * Builds the handler of the deployment's one function (docs/deploy.md). It consumes:
 * - the cluster's FIFO lane: lifecycle actions (pass, then answer or hold), schedule, ASG results, EC2
 *   state changes, spot warnings (a pass of the clusters they concern), and retries put back on the lane;
 * - the wait queue: re-checks of held lifecycle actions, and delayed retries (moved to the lane).
 * Every message is validated before any AWS call. A failed pass, a malformed message or an event for
 * no cluster never fails the invocation (that would hold the cluster's lane for minutes): each is
 * logged, counted and, where facts would be lost, retried within seconds. The invocation fails only when
 * the product cannot schedule its own retry, so that SQS delivers the message again.
 */
export function createReconcileHandler(config: SyncConfig, deps: HoldCheckDeps) {
  return async (event: unknown): Promise<ReconcileHandlerResult> => {
    const result = {
      passes: [] as PassReport[],
      failures: [] as string[],
      lifecycle: [] as LifecycleOutcome[],
      holdChecks: [] as HoldCheckOutcome[],
      forwarded: 0,
      skipped: [] as string[],
      rejected: [] as string[],
    };
    let records: EnvelopedEvent[];
    try {
      records = unwrapEvents(event);
    } catch (error) {
      reject(result, deps, undefined, (error as Error).message, event);
      return result;
    }
    for (const record of records) {
      // What a record's handling counts goes out before the next record, under a cluster dimension (the
      // lane's group, else `none`) that the alarms' queries match: a skip deep in a use case may count
      // without setting one, and a metric still buffered when the environment freezes is lost.
      setClusterDimension(deps.metrics, record.messageGroupId ?? 'none');
      try {
        await handleRecord(config, deps, record, result);
      } finally {
        publishMetrics(deps.metrics);
      }
    }
    return result;
  };
}

type MutableResult = {
  -readonly [K in keyof ReconcileHandlerResult]: ReconcileHandlerResult[K] extends readonly (infer T)[]
    ? T[]
    : ReconcileHandlerResult[K];
};

async function handleRecord(
  config: SyncConfig,
  deps: HoldCheckDeps,
  { body, messageGroupId }: EnvelopedEvent,
  result: MutableResult,
): Promise<void> {
  const detailType = String((body as Record<string, unknown> | null)?.['detail-type'] ?? '');
  const source = String((body as Record<string, unknown> | null)?.source ?? '');
  if (source === 'nlb-nodeport-sync') {
    await handleProductMessage(config, deps, body, messageGroupId, result);
    return;
  }
  if (/Lifecycle Action$/.test(detailType)) {
    const parsed = lifecycleActionEventSchema.safeParse(body);
    if (!parsed.success) {
      reject(result, deps, messageGroupId, `lifecycle action event: ${describeIssues(parsed.error)}`, body);
      return;
    }
    const eventTime = Date.parse(parsed.data.time.toString());
    result.lifecycle.push(
      await handleLifecycleAction(config, lifecycleActionOf(parsed.data), deps, {
        ...(Number.isFinite(eventTime) && { eventTime }),
      }),
    );
    return;
  }
  await runTriggered(config, deps, body, messageGroupId, 0, result);
}

async function runTriggered(
  config: SyncConfig,
  deps: HoldCheckDeps,
  body: unknown,
  messageGroupId: string | undefined,
  attempt: number,
  result: MutableResult,
): Promise<void> {
  const parsed = reconcileEventSchema.safeParse(body);
  if (!parsed.success) {
    reject(
      result,
      deps,
      messageGroupId,
      `not an event the pass handler accepts: ${describeIssues(parsed.error)}`,
      body,
    );
    return;
  }
  let trigger: EventTrigger = triggerForEvent(config, parsed.data);
  // Through the deployed FIFO lane each message belongs to one cluster's group: run only that one.
  if (trigger.kind === 'passes' && messageGroupId !== undefined) {
    const clusters = trigger.clusters.filter((c) => c.name === messageGroupId);
    trigger =
      clusters.length > 0
        ? { ...trigger, clusters }
        : { kind: 'skip', reason: `message group "${messageGroupId}" names no configured cluster` };
  }
  if (trigger.kind === 'skip') {
    deps.logger.warn('Skipped event', { reason: trigger.reason });
    count(deps, messageGroupId, METRICS.eventsSkipped);
    result.skipped.push(trigger.reason);
    return;
  }
  const outcome = await runEventPasses(config, trigger, deps, { event: body, attempt });
  result.passes.push(...outcome.reports);
  result.failures.push(...outcome.failures);
}

async function handleProductMessage(
  config: SyncConfig,
  deps: HoldCheckDeps,
  body: unknown,
  messageGroupId: string | undefined,
  result: MutableResult,
): Promise<void> {
  const check = holdCheckMessageSchema.safeParse(body);
  if (check.success) {
    result.holdChecks.push(await checkHold(config, check.data.detail, deps));
    return;
  }
  const retry = eventRetryMessageSchema.safeParse(body);
  if (!retry.success) {
    reject(result, deps, messageGroupId, `product message: ${describeIssues(retry.error)}`, body);
    return;
  }
  const detail = retry.data.detail;
  if (messageGroupId === undefined) {
    // From the wait queue, due now: passes of a cluster run only on its lane, one after another.
    await deps.lane.send(detail, retryDeduplicationId(detail));
    result.forwarded += 1;
    return;
  }
  if (detail.hold !== undefined) {
    result.lifecycle.push(
      await handleLifecycleAction(config, detail.hold.action, deps, { hold: detail.hold }),
    );
    return;
  }
  await runTriggered(config, deps, detail.event, detail.cluster, detail.attempt, result);
}

/** A message no retry can fix: logged with (the start of) its body and counted; never thrown. */
function reject(
  result: MutableResult,
  deps: HoldCheckDeps,
  messageGroupId: string | undefined,
  reason: string,
  body: unknown,
): void {
  const text = JSON.stringify(body) ?? String(body);
  deps.logger.error('Rejected a malformed message; it is not retried', {
    reason,
    body: text.length > LOGGED_BODY_CHARS ? `${text.slice(0, LOGGED_BODY_CHARS)}...` : text,
  });
  count(deps, messageGroupId, METRICS.eventsRejected);
  result.rejected.push(reason);
}

function count(deps: HoldCheckDeps, cluster: string | undefined, metric: string): void {
  setClusterDimension(deps.metrics, cluster ?? 'none');
  deps.metrics.addMetric(metric, MetricUnit.Count, 1);
  publishMetrics(deps.metrics);
}
