import type { SyncConfig } from '../domain/config';
import { MalformedEventError } from '../domain/errors';
import { unwrapEvents } from '../events/envelope';
import { reconcileEventSchema } from '../events/event-schemas';
import { triggerForEvent } from '../events/event-triggers';
import type { PassReport, ReconcileDeps } from '../sync/reconcile-pass';
import { runPasses } from '../sync/run-passes';

/** What one invocation did: the reports of the passes and the events it skipped. */
export interface ReconcileHandlerResult {
  readonly passes: readonly PassReport[];
  readonly skipped: readonly string[];
}

/**
 * Builds the reconcile handler: schedule, ASG launch/terminate results, EC2 state changes and spot
 * warnings each lead to a full pass of the clusters they concern. A malformed event fails the
 * invocation (so it lands in the DLQ) before any AWS call.
 */
export function createReconcileHandler(config: SyncConfig, deps: ReconcileDeps) {
  return async (event: unknown): Promise<ReconcileHandlerResult> => {
    const passes: PassReport[] = [];
    const skipped: string[] = [];
    const triggers = unwrapEvents(event).map(({ body, messageGroupId }) => {
      const parsed = reconcileEventSchema.safeParse(body);
      if (!parsed.success) {
        throw new MalformedEventError(
          `Not an event the reconcile handler accepts: ${parsed.error.issues
            .slice(0, 5)
            .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
            .join('; ')}`,
        );
      }
      const trigger = triggerForEvent(config, parsed.data);
      // Through the deployed FIFO queue each message belongs to one cluster's group: run only that one.
      if (trigger.kind === 'passes' && messageGroupId !== undefined) {
        return { ...trigger, clusters: trigger.clusters.filter((c) => c.name === messageGroupId) };
      }
      return trigger;
    });
    for (const trigger of triggers) {
      if (trigger.kind === 'skip') {
        deps.logger.warn('Skipped event', { reason: trigger.reason });
        skipped.push(trigger.reason);
        continue;
      }
      passes.push(...(await runPasses(config, trigger.clusters, deps, trigger)));
    }
    return { passes, skipped };
  };
}
