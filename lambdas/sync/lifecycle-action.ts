import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  type ClusterConfig,
  type LaunchGate,
  type SyncConfig,
  terminateHeartbeatTimeoutOf,
} from '../domain/config';
import {
  holdKindOf,
  type LifecycleAction,
  type LifecycleHold,
  nextCheckDelaySeconds,
  retryDelaySeconds,
} from '../domain/lifecycle-hold';
import { isOwnHook, lifecycleHookName } from '../domain/lifecycle-hooks';
import { METRICS } from '../domain/metric-names';
import type { NodeHints } from '../domain/node';
import type { AutoScalingPort, Clock, HoldQueuePort } from '../domain/ports';
import { clusterForAutoScalingGroup } from './cluster-lookup';
import { type AnswerOutcome, answerLifecycleAction } from './lifecycle-answer';
import { publishMetrics, setClusterDimension } from './publish-metrics';
import {
  type PassReport,
  type ReconcileDeps,
  type RegistrationProgress,
  reconcileCluster,
  resolvedMappings,
} from './reconcile-pass';

export type { LifecycleAction } from '../domain/lifecycle-hold';

/** What a lifecycle action needs besides a pass: answering, the delayed re-check, and the time. */
export interface LifecycleDeps extends ReconcileDeps {
  readonly autoScaling: AutoScalingPort;
  readonly holds: HoldQueuePort;
  readonly clock: Clock;
}

/** The outcome of one lifecycle action event. */
export type LifecycleOutcome =
  | { readonly status: 'skipped'; readonly reason: string }
  | {
      readonly status: 'answered';
      readonly answer: AnswerOutcome;
      readonly pass?: PassReport;
      /** Set when the pass failed after its registrations answered the action (e.g. its DNS step). */
      readonly passError?: string;
    }
  | {
      readonly status: 'held';
      readonly hold: LifecycleHold;
      /** Seconds until the first re-check. */
      readonly delaySeconds: number;
      readonly pass?: PassReport;
      /** Set when the pass failed: the re-check comes soon and runs it again if the targets need it. */
      readonly passError?: string;
    };

/** AWS's default deregistration delay, the bound of a drain wait when the group's own cannot be read. */
const FALLBACK_DEREGISTRATION_DELAY_SECONDS = 300;

/** The event facts a lifecycle action adds to the pass. */
function hintsForLifecycleAction(action: LifecycleAction): NodeHints {
  // An instance headed into a warm pool is stopped or hibernated there: it must never be a target.
  if (action.transition === 'autoscaling:EC2_INSTANCE_TERMINATING' || action.destination === 'WarmPool') {
    return { leaving: [action.instanceId] };
  }
  return { launching: [action.instanceId] };
}

/**
 * Handles a lifecycle action of one of this deployment's hooks (docs/lifecycle.md):
 *
 * - terminate: a drain mark on the instance (so no later pass brings it back), a pass that deregisters it
 *   from every group, then a hold until none of its targets is draining (bounded by the groups' largest
 *   deregistration delay plus `drainMarginSeconds`), then CONTINUE. Nothing to drain: CONTINUE at once.
 * - launch: a pass that registers it, then, by `launchGate`, CONTINUE at once (`registered`), or a hold
 *   until its targets are healthy in every group (`healthy`, bounded by `launchTimeoutSeconds`, then
 *   `launchTimeoutResult`); `none` answers before the pass.
 *
 * A failed pass does not fail the invocation (that would hold the cluster's lane for minutes): the hold
 * is scheduled anyway, its re-check comes within seconds and puts the action back on the lane if the
 * targets are not where a pass puts them. Only a failure to schedule the hold is thrown (lane retry,
 * then the hook's own timeout as the last backstop).
 * @param options.hold - the hold of an earlier attempt (a re-check asked for this pass): its deadline and
 *   heartbeats carry over, so a hold never outlives its bound by being retried.
 * @param options.eventTime - the event's time (epoch ms): the hook's timer started then.
 */
export async function handleLifecycleAction(
  config: SyncConfig,
  action: LifecycleAction,
  deps: LifecycleDeps,
  options: { readonly hold?: LifecycleHold; readonly eventTime?: number } = {},
): Promise<LifecycleOutcome> {
  const cluster = clusterForAutoScalingGroup(config, action.autoScalingGroupName);
  const skip = skipReason(config, cluster, action);
  if (skip !== undefined || cluster === undefined) {
    const reason = skip ?? 'no cluster';
    deps.logger.warn('Skipped lifecycle action', { reason, instanceId: action.instanceId });
    deps.metrics.addMetric(METRICS.eventsSkipped, MetricUnit.Count, 1);
    return { status: 'skipped', reason };
  }
  try {
    return await holdOrAnswer(config, cluster, action, deps, options);
  } finally {
    // Metrics carry the cluster as a dimension: published per action, as the passes do.
    publishMetrics(deps.metrics);
  }
}

function skipReason(
  config: SyncConfig,
  cluster: ClusterConfig | undefined,
  action: LifecycleAction,
): string | undefined {
  if (cluster === undefined) {
    return `no configured cluster has Auto Scaling group "${action.autoScalingGroupName}"`;
  }
  if (!isOwnHook(config.ownerId, cluster.name, action.lifecycleHookName)) {
    return `lifecycle hook "${action.lifecycleHookName}" is not this deployment's (expected ${lifecycleHookName(config.ownerId, cluster.name, 'launch')} or ${lifecycleHookName(config.ownerId, cluster.name, 'terminate')}); its owner answers it`;
  }
  return undefined;
}

async function holdOrAnswer(
  config: SyncConfig,
  cluster: ClusterConfig,
  action: LifecycleAction,
  deps: LifecycleDeps,
  options: { readonly hold?: LifecycleHold; readonly eventTime?: number },
): Promise<LifecycleOutcome> {
  setClusterDimension(deps.metrics, cluster.name);
  const settings = cluster.lifecycle;
  const kind = holdKindOf(action);
  const now = deps.clock.now();
  let hold: LifecycleHold = options.hold ?? {
    cluster: cluster.name,
    action,
    kind,
    startedAt: now,
    // A terminate's bound is set below from the groups' own deregistration delays.
    deadlineAt: now + settings.launchTimeoutSeconds * 1000,
    lastHeartbeatAt: Math.min(options.eventTime ?? now, now),
    heartbeatTimeoutSeconds:
      kind === 'launch' ? settings.launchHeartbeatTimeoutSeconds : terminateHeartbeatTimeoutOf(cluster),
    checks: 0,
    failures: 0,
  };
  const answer = async (
    reason: string,
    pass?: PassReport,
  ): Promise<Extract<LifecycleOutcome, { status: 'answered' }>> => ({
    status: 'answered',
    answer: await answerLifecycleAction(
      cluster.name,
      action,
      { result: 'CONTINUE', reason, timedOut: false },
      deps,
      { hold, now: deps.clock.now() },
    ),
    ...(pass !== undefined && { pass }),
  });
  const toWarmPool = action.destination === 'WarmPool';
  // The answer goes out as soon as its condition holds: right after the pass's registrations, beside
  // its deregistrations and its security-group and DNS writes (a failure of those then does not hold it).
  let early: Promise<Extract<LifecycleOutcome, { status: 'answered' }>> | undefined;
  const passOptions = {
    trigger: `lifecycle:${kind} ${action.instanceId}${toWarmPool ? ' (to warm pool)' : ''}`,
    hints: hintsForLifecycleAction(action),
    marks:
      kind === 'terminate'
        ? [{ instanceId: action.instanceId, reason: 'terminate-lifecycle-action' as const }]
        : [],
    now,
  };
  if (kind === 'launch' && settings.launchGate === 'none' && options.hold === undefined) {
    // Answered at once, beside the pass's first reads (the pass does not wait for the answer).
    const answering = answer('launch gate none: answered before the pass');
    // Awaited after the pass; until then a failure must not count as an unhandled rejection.
    answering.catch(() => undefined);
    const pass = await passOrUndefined(config, cluster, deps, passOptions, action);
    const answered = await answering;
    return pass === undefined ? answered : { ...answered, pass };
  }
  const onRegistered = (progress: RegistrationProgress): void => {
    const reason = answerNowBecause(progress, action, settings.launchGate, hold.privateIp);
    if (reason === undefined || early !== undefined) return;
    early = answer(reason);
    // Awaited after the pass; until then a failure must not count as an unhandled rejection.
    early.catch(() => undefined);
  };
  const [pass, drainBound] = await Promise.all([
    passOrUndefined(config, cluster, deps, { ...passOptions, onRegistered }, action),
    kind === 'terminate' && options.hold === undefined ? drainBoundSeconds(cluster, deps) : undefined,
  ]);
  if (drainBound !== undefined) hold = { ...hold, deadlineAt: now + drainBound * 1000 };
  if (early !== undefined) {
    const answered = await early;
    return pass === undefined
      ? { ...answered, passError: 'the pass failed after its registrations; see the log' }
      : { ...answered, pass };
  }
  if (pass !== undefined) {
    const node = pass.nodes.find((n) => n.instanceId === action.instanceId);
    if (node?.privateIp !== undefined) hold = { ...hold, privateIp: node.privateIp };
  }
  const delaySeconds =
    pass === undefined
      ? retryDelaySeconds(1, settings.recheckSeconds)
      : nextCheckDelaySeconds(hold, settings.recheckSeconds, now);
  await deps.holds.scheduleCheck(hold, delaySeconds);
  deps.logger.info('Holding lifecycle action', {
    cluster: cluster.name,
    instanceId: action.instanceId,
    transition: action.transition,
    waitingFor: kind === 'launch' ? `launch gate ${settings.launchGate}` : 'draining to end',
    deadlineAt: new Date(hold.deadlineAt).toISOString(),
    nextCheckSeconds: delaySeconds,
  });
  return {
    status: 'held',
    hold,
    delaySeconds,
    ...(pass !== undefined ? { pass } : { passError: 'the pass failed; see the log' }),
  };
}

/** Runs the pass; a failure is logged and counted (reconcileCluster counts PassFailures), not thrown. */
async function passOrUndefined(
  config: SyncConfig,
  cluster: ClusterConfig,
  deps: LifecycleDeps,
  options: Parameters<typeof reconcileCluster>[3],
  action: LifecycleAction,
): Promise<PassReport | undefined> {
  try {
    return await reconcileCluster(config, cluster, deps, options);
  } catch (error) {
    deps.logger.error('Lifecycle pass failed; the hold re-checks soon and runs it again if needed', {
      cluster: cluster.name,
      instanceId: action.instanceId,
      error: error as Error,
    });
    return undefined;
  }
}

/**
 * How long a terminate may wait for draining: the largest deregistration delay of the cluster's groups
 * plus the margin. A group whose attributes cannot be read counts with AWS's default delay.
 */
async function drainBoundSeconds(cluster: ClusterConfig, deps: LifecycleDeps): Promise<number> {
  const delays = await Promise.all(
    resolvedMappings(cluster).map(async (m) => {
      try {
        return (await deps.targetGroups.describeDrainSettings(m.targetGroupArn)).deregistrationDelaySeconds;
      } catch (error) {
        deps.logger.warn('Could not read the deregistration delay; using the default', {
          targetGroupArn: m.targetGroupArn,
          defaultSeconds: FALLBACK_DEREGISTRATION_DELAY_SECONDS,
          error: error as Error,
        });
        return FALLBACK_DEREGISTRATION_DELAY_SECONDS;
      }
    }),
  );
  return Math.max(0, ...delays) + cluster.lifecycle.drainMarginSeconds;
}

/**
 * Why the action can be answered now that the pass's registrations are written, or undefined: a launch
 * headed to a warm pool (never a target), a launch with gate `registered` whose node is registered in
 * every group, a terminate whose node had no target in any group (nothing to drain).
 */
function answerNowBecause(
  progress: RegistrationProgress,
  action: LifecycleAction,
  launchGate: LaunchGate,
  knownIp: string | undefined,
): string | undefined {
  const kind = holdKindOf(action);
  if (kind === 'launch' && action.destination === 'WarmPool')
    return 'headed to the warm pool: never a target';
  if (kind === 'launch' && launchGate === 'registered' && registeredEverywhere(progress, action)) {
    return 'registered in every group';
  }
  const ip = progress.nodes.find((n) => n.instanceId === action.instanceId)?.privateIp ?? knownIp;
  if (kind === 'terminate' && !hasTargets(progress, action.instanceId, ip)) {
    return 'no target of the node in any group: nothing to drain';
  }
  return undefined;
}

/**
 * Whether the pass left the launching node registered (or registering) in every group: desired, its
 * target wanted in each group, and neither refused (a quota) nor rejected by AWS there.
 */
function registeredEverywhere(progress: RegistrationProgress, action: LifecycleAction): boolean {
  const node = progress.nodes.find((n) => n.instanceId === action.instanceId);
  if (node === undefined || !node.desired) return false;
  return progress.groups.every((group) => {
    const id = group.mapping.targetType === 'ip' ? node.privateIp : node.instanceId;
    const arn = group.mapping.targetGroupArn;
    const wanted = group.desired.some((t) => t.id === id);
    const refused = (group.refused ?? []).some((c) => c.action === 'register' && c.target.id === id);
    const rejected = progress.rejected.some((r) => r.targetGroupArn === arn && r.target.id === id);
    return wanted && !refused && !rejected;
  });
}

/** Whether any group held a target of the node when the pass observed it (now deregistered or draining). */
function hasTargets(
  progress: Pick<RegistrationProgress, 'groups'>,
  instanceId: string,
  privateIp: string | undefined,
): boolean {
  return progress.groups.some((group) => {
    const id = group.mapping.targetType === 'ip' ? privateIp : instanceId;
    // Without the IP its ip targets cannot be told apart: hold, and let the re-check see.
    if (id === undefined) return true;
    return [...group.observedOwned, ...group.draining].some((t) => t.id === id);
  });
}
