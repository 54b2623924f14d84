import type { SyncConfig } from '../domain/config';
import { MalformedEventError } from '../domain/errors';
import { unwrapEvents } from '../events/envelope';
import { describeIssues, lifecycleActionEventSchema } from '../events/event-schemas';
import { lifecycleActionOf } from '../events/event-triggers';
import { handleLifecycleAction, type LifecycleDeps, type LifecycleOutcome } from '../sync/lifecycle-action';
import { publishMetrics, setClusterDimension } from '../sync/publish-metrics';

/**
 * Builds the lifecycle handler for direct invocation (tests, tools): validates Auto Scaling lifecycle
 * action events and handles each as the deployed pass handler does (pass, then answer or hold).
 * The deployment routes lifecycle actions through the lane to the pass handler instead (docs/deploy.md).
 * @throws MalformedEventError before any AWS call when an event is not a lifecycle action.
 */
export function createLifecycleHandler(config: SyncConfig, deps: LifecycleDeps) {
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
    for (const action of actions) {
      // A skip counts without a cluster dimension and without publishing: both done here, as the pass handler does.
      setClusterDimension(deps.metrics, 'none');
      try {
        outcomes.push(await handleLifecycleAction(config, action, deps));
      } finally {
        publishMetrics(deps.metrics);
      }
    }
    return outcomes;
  };
}
