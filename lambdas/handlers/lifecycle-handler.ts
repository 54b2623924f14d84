import type { SyncConfig } from '../domain/config';
import { MalformedEventError } from '../domain/errors';
import type { AutoScalingPort } from '../domain/ports';
import { unwrapEvents } from '../events/envelope';
import { describeIssues, lifecycleActionEventSchema } from '../events/event-schemas';
import { lifecycleActionOf } from '../events/event-triggers';
import { handleLifecycleAction, type LifecycleOutcome } from '../sync/lifecycle-action';
import type { ReconcileDeps } from '../sync/reconcile-pass';

/**
 * Builds the lifecycle handler: validates Auto Scaling lifecycle action events, runs one pass of the
 * ASG's cluster with the event's facts, then answers CONTINUE. Failures propagate (retry, then DLQ).
 */
export function createLifecycleHandler(
  config: SyncConfig,
  deps: ReconcileDeps & { autoScaling: AutoScalingPort },
) {
  return async (event: unknown): Promise<LifecycleOutcome[]> => {
    const actions = unwrapEvents(event).map(({ body }) => {
      const parsed = lifecycleActionEventSchema.safeParse(body);
      if (!parsed.success) {
        throw new MalformedEventError(
          `Not an Auto Scaling lifecycle action event: ${describeIssues(parsed.error)}`,
        );
      }
      return lifecycleActionOf(parsed.data);
    });
    const outcomes: LifecycleOutcome[] = [];
    for (const action of actions) outcomes.push(await handleLifecycleAction(config, action, deps));
    return outcomes;
  };
}
