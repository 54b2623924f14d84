/**
 * Names of the lifecycle hooks this deployment owns. The CDK stack creates hooks with these names and
 * the pass answers only these: another tool's hook on the same ASG (a node drainer, say) is its own.
 */

/** Lifecycle transitions the product hooks. */
export type HookTransition = 'launch' | 'terminate';

/** The lifecycle hook name of a cluster on each of its ASGs: `<ownerId>-<cluster>-<transition>`. */
export function lifecycleHookName(ownerId: string, cluster: string, transition: HookTransition): string {
  return `${ownerId}-${cluster}-${transition}`;
}

/** Whether a hook is one this deployment created for the cluster. */
export function isOwnHook(ownerId: string, cluster: string, hookName: string): boolean {
  return (
    hookName === lifecycleHookName(ownerId, cluster, 'launch') ||
    hookName === lifecycleHookName(ownerId, cluster, 'terminate')
  );
}
