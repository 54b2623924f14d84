import type { SyncConfig } from '../domain/config';
import { MalformedEventError } from '../domain/errors';
import { unwrapEvents } from '../events/envelope';
import { describeIssues, lifecycleActionEventSchema, reconcileEventSchema } from '../events/event-schemas';
import { type EventTrigger, lifecycleActionOf, triggerForEvent } from '../events/event-triggers';
import { handleLifecycleAction, type LifecycleAction, type LifecycleOutcome } from '../sync/lifecycle-action';
import type { PassReport, ReconcileDeps } from '../sync/reconcile-pass';
import { runPasses } from '../sync/run-passes';

/** What one invocation did: the reports of the passes, the lifecycle actions answered, the events skipped. */
export interface ReconcileHandlerResult {
  readonly passes: readonly PassReport[];
  readonly lifecycle: readonly LifecycleOutcome[];
  readonly skipped: readonly string[];
}

type Work = EventTrigger | { readonly kind: 'lifecycle'; readonly action: LifecycleAction };

/**
 * Builds the pass handler, the one consumer of a cluster's event lane (docs/deploy.md): lifecycle
 * actions (a pass with the event's facts, then CONTINUE), and schedule, ASG results, EC2 state changes
 * and spot warnings (a full pass of the clusters they concern). Every event is validated before any
 * AWS call; a malformed one fails the invocation so it is retried and then kept in the DLQ.
 */
export function createReconcileHandler(config: SyncConfig, deps: ReconcileDeps) {
  return async (event: unknown): Promise<ReconcileHandlerResult> => {
    const passes: PassReport[] = [];
    const lifecycle: LifecycleOutcome[] = [];
    const skipped: string[] = [];
    const work = unwrapEvents(event).map(({ body, messageGroupId }): Work => {
      const action = lifecycleActionEventSchema.safeParse(body);
      if (action.success) return { kind: 'lifecycle', action: lifecycleActionOf(action.data) };
      const parsed = reconcileEventSchema.safeParse(body);
      if (!parsed.success) {
        // Name the fields of the shape the event claims to have, not those of every accepted shape.
        const claimsLifecycle = /Lifecycle Action$/.test(
          String((body as Record<string, unknown>)?.['detail-type']),
        );
        const issues = describeIssues(claimsLifecycle ? action.error : parsed.error);
        throw new MalformedEventError(`Not an event the pass handler accepts: ${issues}`);
      }
      const trigger = triggerForEvent(config, parsed.data);
      // Through the deployed FIFO lane each message belongs to one cluster's group: run only that one.
      if (trigger.kind === 'passes' && messageGroupId !== undefined) {
        return { ...trigger, clusters: trigger.clusters.filter((c) => c.name === messageGroupId) };
      }
      return trigger;
    });
    for (const item of work) {
      if (item.kind === 'skip') {
        deps.logger.warn('Skipped event', { reason: item.reason });
        skipped.push(item.reason);
      } else if (item.kind === 'lifecycle') {
        lifecycle.push(await handleLifecycleAction(config, item.action, deps));
      } else {
        passes.push(...(await runPasses(config, item.clusters, deps, item)));
      }
    }
    return { passes, lifecycle, skipped };
  };
}
