import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  type HoldKind,
  holdKindOf,
  type LifecycleAction,
  type LifecycleHold,
} from '../domain/lifecycle-hold';
import { METRICS } from '../domain/metric-names';
import type { AutoScalingPort, LifecycleCallOutcome, LifecycleResult } from '../domain/ports';

/** What answering needs. */
export interface AnswerDeps {
  readonly autoScaling: AutoScalingPort;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** How an answer went: sent, or the action was no longer pending (answered before, or timed out). */
export interface AnswerOutcome {
  readonly instanceId: string;
  readonly kind: HoldKind;
  readonly result: LifecycleResult;
  readonly reason: string;
  readonly outcome: LifecycleCallOutcome;
  readonly timedOut: boolean;
}

/**
 * Answers a lifecycle action and says so: one log line with the reason and how long it was held, and
 * metrics (answered, timed out, hold seconds). "No active Lifecycle Action found" is `not-active`:
 * done, logged, not counted as an answer of ours (at most one answer per action is ever counted).
 */
export async function answerLifecycleAction(
  cluster: string,
  action: LifecycleAction,
  answer: { result: LifecycleResult; reason: string; timedOut: boolean },
  deps: AnswerDeps,
  held?: { hold: LifecycleHold; now: number },
): Promise<AnswerOutcome> {
  const outcome = await deps.autoScaling.completeLifecycleAction(action, answer.result);
  const heldSeconds = held === undefined ? 0 : Math.max(0, (held.now - held.hold.startedAt) / 1000);
  const fields = {
    cluster,
    autoScalingGroupName: action.autoScalingGroupName,
    lifecycleHookName: action.lifecycleHookName,
    instanceId: action.instanceId,
    transition: action.transition,
    result: answer.result,
    reason: answer.reason,
    heldSeconds,
  };
  if (outcome === 'not-active') {
    deps.logger.info('Lifecycle action was no longer pending (answered before, or timed out)', fields);
  } else if (answer.timedOut) {
    deps.logger.warn('Completed lifecycle action after its wait hit the bound', fields);
  } else {
    deps.logger.info('Completed lifecycle action', fields);
  }
  if (outcome === 'done') {
    deps.metrics.addMetric(METRICS.lifecycleActionsAnswered, MetricUnit.Count, 1);
    deps.metrics.addMetric(METRICS.lifecycleHoldSeconds, MetricUnit.Seconds, heldSeconds);
    if (answer.timedOut) deps.metrics.addMetric(METRICS.lifecycleWaitTimeouts, MetricUnit.Count, 1);
  }
  return { ...answer, outcome, instanceId: action.instanceId, kind: holdKindOf(action) };
}
