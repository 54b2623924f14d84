import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SyncConfig } from '../domain/config';
import { retryDelaySeconds } from '../domain/lifecycle-hold';
import { METRICS } from '../domain/metric-names';
import { carriesFacts, type EventTrigger } from '../events/event-triggers';
import type { LifecycleDeps } from './lifecycle-action';
import { publishMetrics } from './publish-metrics';
import { type PassReport, reconcileCluster } from './reconcile-pass';

/** How often an event with facts is tried before it is abandoned (logged with its body, counted, alarmed). */
export const MAX_EVENT_ATTEMPTS = 5;
/** The longest wait between two tries of an event, in seconds. */
const MAX_EVENT_RETRY_SECONDS = 60;

/** What the passes of one event did. */
export interface EventPassesResult {
  readonly reports: readonly PassReport[];
  /** `cluster: error` per failed cluster. */
  readonly failures: readonly string[];
}

/**
 * Runs the passes an event asks for, one cluster after another, and never fails the invocation for a
 * failed pass: that would hold the cluster's lane for the queue's visibility timeout.
 *
 * - An event without facts (the schedule, a launch result): the next trigger repairs what failed; the
 *   failure is logged and counted (`PassFailures`, alarmed).
 * - An event with facts no later pass could see again (a spot warning's mark, a terminate result):
 *   retried after 5, 10, 20 ... seconds through the wait queue, up to {@link MAX_EVENT_ATTEMPTS} tries,
 *   then abandoned: logged with its body and counted (`EventsAbandoned`, alarmed).
 * @throws only when a retry cannot be scheduled (then SQS delivers the event again).
 */
export async function runEventPasses(
  config: SyncConfig,
  trigger: Extract<EventTrigger, { kind: 'passes' }>,
  deps: LifecycleDeps,
  source: { readonly event: unknown; readonly attempt: number },
): Promise<EventPassesResult> {
  const reports: PassReport[] = [];
  const failures: string[] = [];
  for (const cluster of trigger.clusters) {
    try {
      reports.push(
        await reconcileCluster(config, cluster, deps, {
          trigger: trigger.trigger,
          hints: trigger.hints,
          marks: trigger.marks,
          now: deps.clock.now(),
        }),
      );
    } catch (error) {
      const err = error as Error;
      failures.push(`${cluster.name}: ${err.name}: ${err.message}`);
      const fields = {
        cluster: cluster.name,
        trigger: trigger.trigger,
        attempt: source.attempt + 1,
        error: err,
      };
      if (!carriesFacts(trigger)) {
        deps.logger.error('Reconcile pass failed; the next trigger repairs it', fields);
      } else if (source.attempt + 1 < MAX_EVENT_ATTEMPTS) {
        const attempt = source.attempt + 1;
        const delaySeconds = retryDelaySeconds(attempt, MAX_EVENT_RETRY_SECONDS);
        await deps.holds.scheduleRetry({ cluster: cluster.name, event: source.event, attempt }, delaySeconds);
        deps.logger.error('Reconcile pass failed; the event is retried with its facts', {
          ...fields,
          nextTrySeconds: delaySeconds,
        });
      } else {
        deps.logger.error('Event abandoned after its last try; its facts were not applied', {
          ...fields,
          event: source.event,
        });
        deps.metrics.addMetric(METRICS.eventsAbandoned, MetricUnit.Count, 1);
      }
    } finally {
      publishMetrics(deps.metrics);
    }
  }
  return { reports, failures };
}
