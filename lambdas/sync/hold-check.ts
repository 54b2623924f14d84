import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ClusterConfig, SyncConfig } from '../domain/config';
import { drainMarkOf } from '../domain/drain-mark';
import {
  type HoldFacts,
  heartbeatDue,
  judgeHold,
  type LifecycleHold,
  nextCheckDelaySeconds,
  retryDelaySeconds,
} from '../domain/lifecycle-hold';
import { METRICS } from '../domain/metric-names';
import type { LanePort } from '../domain/ports';
import { retryDeduplicationId } from '../domain/product-messages';
import type { LifecycleDeps } from './lifecycle-action';
import { type AnswerOutcome, answerLifecycleAction } from './lifecycle-answer';
import { publishMetrics, setClusterDimension } from './publish-metrics';
import { resolvedMappings } from './reconcile-pass';

/** A re-check needs the lane too: a hold whose targets are not in step asks for a pass there. */
export interface HoldCheckDeps extends LifecycleDeps {
  readonly lane: LanePort;
}

/** What one re-check did. */
export type HoldCheckOutcome =
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'answered'; readonly answer: AnswerOutcome }
  | {
      readonly status: 'waiting';
      readonly instanceId: string;
      readonly kind: LifecycleHold['kind'];
      readonly reason: string;
      readonly delaySeconds: number;
      readonly heartbeat: boolean;
    }
  | { readonly status: 'pass-requested'; readonly reason: string }
  /** Auto Scaling no longer waits for the action (answered elsewhere, or timed out): the hold ends. */
  | { readonly status: 'ended'; readonly reason: string }
  | { readonly status: 'failed'; readonly error: string; readonly delaySeconds?: number };

/**
 * One re-check of a held lifecycle action (docs/lifecycle.md): reads the instance and every group's
 * targets, then answers, waits (heartbeat when due, next re-check scheduled), or asks the cluster's lane
 * for a pass. Reads only, besides the answer and the heartbeat: it runs beside the lane, not in it.
 *
 * A failed re-check (throttling, a 5xx) is scheduled again within seconds, not left to SQS's visibility
 * timeout, so a transient error costs seconds, never the hook's timeout. Once the hook's own timeout has
 * long passed (AWS applied its default result), the hold is given up, logged and counted.
 * @throws only when the next re-check cannot be scheduled: SQS then delivers this one again.
 */
export async function checkHold(
  config: SyncConfig,
  hold: LifecycleHold,
  deps: HoldCheckDeps,
): Promise<HoldCheckOutcome> {
  const cluster = config.clusters.find((c) => c.name === hold.cluster);
  if (cluster === undefined) {
    const reason = `no configured cluster "${hold.cluster}" (removed since the action was held)`;
    deps.logger.warn('Skipped lifecycle hold check', { reason, instanceId: hold.action.instanceId });
    deps.metrics.addMetric(METRICS.eventsSkipped, MetricUnit.Count, 1);
    publishMetrics(deps.metrics);
    return { status: 'skipped', reason };
  }
  setClusterDimension(deps.metrics, cluster.name);
  try {
    return await check(config, cluster, { ...hold, checks: hold.checks + 1 }, deps);
  } finally {
    publishMetrics(deps.metrics);
  }
}

async function check(
  config: SyncConfig,
  cluster: ClusterConfig,
  hold: LifecycleHold,
  deps: HoldCheckDeps,
): Promise<HoldCheckOutcome> {
  const now = deps.clock.now();
  const settings = cluster.lifecycle;
  const log = deps.logger.createChild({
    persistentKeys: { cluster: cluster.name, instanceId: hold.action.instanceId, hold: hold.kind },
  });
  try {
    const facts = await readFacts(config, cluster, hold, deps);
    const decision = judgeHold(hold, facts, settings, now);
    if (decision.kind === 'answer') {
      return {
        status: 'answered',
        answer: await answerLifecycleAction(cluster.name, hold.action, decision, deps, { hold, now }),
      };
    }
    let next: LifecycleHold = { ...hold, failures: 0 };
    const beat = heartbeatDue(next, now);
    if (beat) {
      if ((await deps.autoScaling.recordLifecycleActionHeartbeat(hold.action)) === 'not-active') {
        const reason = 'Auto Scaling no longer waits for this action (answered elsewhere, or timed out)';
        log.warn('Lifecycle hold ended', { reason });
        return { status: 'ended', reason };
      }
      next = { ...next, lastHeartbeatAt: now };
      log.info('Lifecycle action heartbeat recorded', { waitingFor: decision.reason });
    }
    if (decision.kind === 'pass') {
      const retry = { cluster: cluster.name, attempt: next.checks, hold: next };
      await deps.lane.send(retry, retryDeduplicationId(retry));
      log.warn('Held action needs a pass; sent to the lane', { reason: decision.reason });
      return { status: 'pass-requested', reason: decision.reason };
    }
    const delaySeconds = nextCheckDelaySeconds(next, settings.recheckSeconds, now);
    await deps.holds.scheduleCheck(next, delaySeconds);
    log.debug('Still holding lifecycle action', {
      waitingFor: decision.reason,
      nextCheckSeconds: delaySeconds,
    });
    return {
      status: 'waiting',
      instanceId: hold.action.instanceId,
      kind: hold.kind,
      reason: decision.reason,
      delaySeconds,
      heartbeat: beat,
    };
  } catch (error) {
    const failed: LifecycleHold = { ...hold, failures: hold.failures + 1 };
    deps.metrics.addMetric(METRICS.lifecycleCheckFailures, MetricUnit.Count, 1);
    const giveUpAt = hold.deadlineAt + hold.heartbeatTimeoutSeconds * 1000;
    if (now >= giveUpAt) {
      log.error('Lifecycle hold given up: its bound and the hook timeout have passed', {
        error: error as Error,
      });
      return { status: 'failed', error: (error as Error).message };
    }
    const delaySeconds = retryDelaySeconds(failed.failures, settings.recheckSeconds);
    log.error('Lifecycle hold check failed; checking again soon', {
      error: error as Error,
      failures: failed.failures,
      nextCheckSeconds: delaySeconds,
    });
    await deps.holds.scheduleCheck(failed, delaySeconds);
    return { status: 'failed', error: (error as Error).message, delaySeconds };
  }
}

/** The instance (IP, state, drain mark) and every group's targets, read in parallel. */
async function readFacts(
  config: SyncConfig,
  cluster: ClusterConfig,
  hold: LifecycleHold,
  deps: HoldCheckDeps,
): Promise<HoldFacts> {
  const mappings = resolvedMappings(cluster);
  const [instances, targets] = await Promise.all([
    deps.ec2.describeInstancesById([hold.action.instanceId]),
    Promise.all(mappings.map((m) => deps.targetGroups.describeTargets(m.targetGroupArn))),
  ]);
  const node = instances.find((n) => n.instanceId === hold.action.instanceId);
  const drainMark = drainMarkOf(node?.tags, config.ownerId);
  return {
    ...(node !== undefined && {
      instance: {
        ...(node.privateIp !== undefined && { privateIp: node.privateIp }),
        ...(node.ec2State !== undefined && { ec2State: node.ec2State }),
        ...(drainMark !== undefined && { drainMark }),
      },
    }),
    groups: mappings.map((m, i) => ({
      mapping: m.name,
      targetType: m.targetType,
      nodePort: m.nodePort,
      targets: targets[i] ?? [],
    })),
  };
}
