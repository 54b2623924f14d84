/**
 * Held lifecycle actions: a launch held until the node's targets are healthy (or registered), a terminate
 * held until none of the node's targets is draining. Pure: the facts come in, a decision goes out; the
 * use cases (lambdas/sync/lifecycle-action.ts, hold-check.ts) read AWS and act on it.
 *
 * A hold is plain data so it can travel in an SQS message: waiting is a delayed re-check of the hold,
 * never a Lambda sleeping (docs/lifecycle.md).
 */
import type { LaunchGate, LifecycleConfig } from './config';
import type { DrainMark } from './drain-mark';
import { LEAVING_EC2_STATES } from './node';
import type { LifecycleActionRef, LifecycleResult } from './ports';
import type { ObservedTarget, TargetState } from './target';

/** An Auto Scaling lifecycle action, as the event describes it. */
export interface LifecycleAction extends LifecycleActionRef {
  readonly transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' | 'autoscaling:EC2_INSTANCE_TERMINATING';
  /** EC2, AutoScalingGroup or WarmPool. */
  readonly origin?: string;
  /** EC2, AutoScalingGroup or WarmPool. */
  readonly destination?: string;
}

/** Which way a lifecycle action goes. */
export type HoldKind = 'launch' | 'terminate';

/** The kind of a lifecycle action. */
export function holdKindOf(action: LifecycleAction): HoldKind {
  return action.transition === 'autoscaling:EC2_INSTANCE_LAUNCHING' ? 'launch' : 'terminate';
}

/** A lifecycle action the product holds, with everything a later re-check needs. Times in epoch ms. */
export interface LifecycleHold {
  readonly cluster: string;
  readonly action: LifecycleAction;
  readonly kind: HoldKind;
  /** When the hold began: the launch pass, or the terminate pass that deregistered the node. */
  readonly startedAt: number;
  /** The answer goes out by then, whatever the targets say. */
  readonly deadlineAt: number;
  /** When the hook's timer last (re)started: the action's start, then each heartbeat. */
  readonly lastHeartbeatAt: number;
  /** The hook's heartbeat timeout: a heartbeat must come before it runs out. */
  readonly heartbeatTimeoutSeconds: number;
  /** Re-checks so far (also makes each lane re-send's deduplication id unique). */
  readonly checks: number;
  /** Re-checks in a row that failed (throttling, 5xx); reset by one that succeeds. */
  readonly failures: number;
  /** The node's private IP as the pass saw it: ip targets of a node EC2 has forgotten are still found. */
  readonly privateIp?: string;
}

/** What a re-check sees. */
export interface HoldFacts {
  /** The instance as EC2 shows it now; absent when EC2 no longer knows it. */
  readonly instance?: {
    readonly privateIp?: string;
    readonly ec2State?: string;
    readonly drainMark?: DrainMark;
  };
  /** Every group of the cluster with all of its targets. */
  readonly groups: readonly HoldGroupFacts[];
}

/** One target group as a re-check sees it. */
export interface HoldGroupFacts {
  readonly mapping: string;
  readonly targetType: 'ip' | 'instance';
  readonly nodePort: number;
  readonly targets: readonly ObservedTarget[];
}

/** What to do with a hold. */
export type HoldDecision =
  /** Answer the action now. `timedOut`: the wait hit its bound (metric and alarm). */
  | {
      readonly kind: 'answer';
      readonly result: LifecycleResult;
      readonly reason: string;
      readonly timedOut: boolean;
    }
  /** Not yet: check again later (heartbeat first when due). */
  | { readonly kind: 'wait'; readonly reason: string }
  /** The targets are not where a pass puts them (a failed or lost pass): run the cluster's pass again. */
  | { readonly kind: 'pass'; readonly reason: string };

/** States in which a target no longer takes new flows from the NLB. */
const NOT_SERVING: ReadonlySet<TargetState> = new Set(['draining', 'unused']);

/**
 * Decides what to do with a held action.
 *
 * Launch: answered CONTINUE once the node's target is `healthy` in every group (`registered`: present in
 * every group); a target missing or draining means the pass did not do its part (`pass`); past the
 * deadline the configured `launchTimeoutResult` goes out. An instance DescribeInstances does not show is
 * waited for (a lagging read), never taken as gone. A node that got a drain mark or is leaving is
 * no longer held: CONTINUE at once (it stays out of the groups while marked; nothing is terminated on
 * the product's word).
 *
 * Terminate: answered CONTINUE once no target of the node is `draining` in any group; a target still
 * serving means it must be deregistered first (`pass`); past the deadline (the largest deregistration
 * delay plus the margin) the configured `terminateTimeoutResult` goes out.
 */
export function judgeHold(
  hold: LifecycleHold,
  facts: HoldFacts,
  settings: Pick<LifecycleConfig, 'launchGate' | 'launchTimeoutResult' | 'terminateTimeoutResult'>,
  now: number,
): HoldDecision {
  return hold.kind === 'launch'
    ? judgeLaunch(hold, facts, settings.launchGate, settings.launchTimeoutResult, now)
    : judgeTerminate(hold, facts, settings.terminateTimeoutResult, now);
}

/**
 * What a node's lifecycle action waits for now, judged as a re-check judges it but with no deadline and no
 * heartbeat: for showing a wait (the CLI's `status` and `drain --wait`), never for answering one.
 * @param node - the instance as DescribeInstances shows it; absent when EC2 does not show it
 */
export function judgeOpenWait(input: {
  readonly cluster: string;
  readonly kind: HoldKind;
  readonly action: LifecycleAction;
  readonly node?: { readonly privateIp?: string; readonly ec2State?: string; readonly drainMark?: DrainMark };
  readonly groups: readonly HoldGroupFacts[];
  readonly settings: Pick<LifecycleConfig, 'launchGate' | 'launchTimeoutResult' | 'terminateTimeoutResult'>;
  readonly now: number;
}): HoldDecision {
  const { node, now } = input;
  const hold: LifecycleHold = {
    cluster: input.cluster,
    action: input.action,
    kind: input.kind,
    startedAt: now,
    deadlineAt: Number.POSITIVE_INFINITY,
    lastHeartbeatAt: now,
    heartbeatTimeoutSeconds: 0,
    checks: 0,
    failures: 0,
    ...(node?.privateIp !== undefined && { privateIp: node.privateIp }),
  };
  const instance = node && {
    ...(node.privateIp !== undefined && { privateIp: node.privateIp }),
    ...(node.ec2State !== undefined && { ec2State: node.ec2State }),
    ...(node.drainMark !== undefined && { drainMark: node.drainMark }),
  };
  return judgeHold(
    hold,
    { ...(instance !== undefined && { instance }), groups: input.groups },
    input.settings,
    now,
  );
}

function targetIdIn(group: HoldGroupFacts, hold: LifecycleHold, facts: HoldFacts): string | undefined {
  return group.targetType === 'ip' ? (facts.instance?.privateIp ?? hold.privateIp) : hold.action.instanceId;
}

function judgeLaunch(
  hold: LifecycleHold,
  facts: HoldFacts,
  gate: LaunchGate,
  timeoutResult: LifecycleResult,
  now: number,
): HoldDecision {
  const instance = facts.instance;
  const timedOut = now >= hold.deadlineAt;
  if (instance === undefined) {
    // EC2 shows a terminated instance for about an hour, so a launching one it does not show is a read that
    // lags the launch (eventual consistency), not an instance gone: wait, up to the launch's bound.
    return timedOut
      ? answer(timeoutResult, 'launch timeout: EC2 does not show the instance', true)
      : { kind: 'wait', reason: 'EC2 does not show the instance yet (a lagging read)' };
  }
  if (instance.drainMark !== undefined) {
    return answer(
      'CONTINUE',
      `the node got a drain mark (${instance.drainMark.reason}); it stays out of the groups and is held no longer`,
      false,
    );
  }
  if (instance.ec2State !== undefined && LEAVING_EC2_STATES.has(instance.ec2State)) {
    return answer('CONTINUE', `EC2 state ${instance.ec2State}: the node is leaving, held no longer`, false);
  }
  if (gate === 'none') return answer('CONTINUE', 'launch gate none', false);
  const states = facts.groups.map((group) => {
    const id = targetIdIn(group, hold, facts);
    const target = group.targets.find((t) => t.id === id && t.port === group.nodePort);
    return { mapping: group.mapping, id, state: target?.state };
  });
  const summary = states.map(
    (s) => `${s.mapping}: ${s.id === undefined ? 'no IP yet' : (s.state ?? 'absent')}`,
  );
  if (states.some((s) => s.id === undefined)) {
    return timedOut
      ? answer(timeoutResult, `launch timeout: the node has no private IP (${summary.join(', ')})`, true)
      : { kind: 'wait', reason: 'the node has no private IP yet' };
  }
  const missing = states.filter((s) => s.state === undefined || NOT_SERVING.has(s.state));
  if (missing.length > 0) {
    if (timedOut)
      return answer(timeoutResult, `launch timeout: not registered (${summary.join(', ')})`, true);
    return { kind: 'pass', reason: `not registered in ${missing.map((s) => s.mapping).join(', ')}` };
  }
  if (gate === 'registered') return answer('CONTINUE', 'registered in every group', false);
  if (states.every((s) => s.state === 'healthy')) {
    return answer('CONTINUE', 'healthy in every group', false);
  }
  if (timedOut) return answer(timeoutResult, `launch timeout: ${summary.join(', ')}`, true);
  return { kind: 'wait', reason: summary.join(', ') };
}

function judgeTerminate(
  hold: LifecycleHold,
  facts: HoldFacts,
  timeoutResult: LifecycleResult,
  now: number,
): HoldDecision {
  const timedOut = now >= hold.deadlineAt;
  const serving: string[] = [];
  const draining: string[] = [];
  const unknown: string[] = [];
  for (const group of facts.groups) {
    const id = targetIdIn(group, hold, facts);
    if (id === undefined) {
      unknown.push(group.mapping);
      continue;
    }
    // Any port: a target left on an old NodePort drains all the same.
    for (const target of group.targets.filter((t) => t.id === id)) {
      const where = `${group.mapping} ${target.id}:${target.port}`;
      if (target.state === 'draining') draining.push(where);
      else if (!NOT_SERVING.has(target.state)) serving.push(`${where} (${target.state})`);
    }
  }
  if (serving.length > 0) {
    if (timedOut) {
      return answer(timeoutResult, `drain timeout: still registered: ${serving.join(', ')}`, true);
    }
    return { kind: 'pass', reason: `still registered: ${serving.join(', ')}` };
  }
  if (draining.length > 0) {
    if (timedOut) return answer(timeoutResult, `drain timeout: still draining: ${draining.join(', ')}`, true);
    return { kind: 'wait', reason: `draining: ${draining.join(', ')}` };
  }
  if (unknown.length > 0 && facts.instance !== undefined && !timedOut) {
    // Without the IP its ip targets cannot be told apart; unknown is not drained.
    return { kind: 'wait', reason: `no private IP known for ${unknown.join(', ')}` };
  }
  return answer('CONTINUE', 'no target of the node is draining any more', false);
}

function answer(result: LifecycleResult, reason: string, timedOut: boolean): HoldDecision {
  return { kind: 'answer', result, reason, timedOut };
}

/**
 * Whether a heartbeat is due: at half the hook's timeout, so one failed re-check and its retry still
 * fit before Auto Scaling gives up and applies the hook's default result.
 */
export function heartbeatDue(hold: LifecycleHold, now: number): boolean {
  return now - hold.lastHeartbeatAt >= (hold.heartbeatTimeoutSeconds * 1000) / 2;
}

/** SQS accepts DelaySeconds of 0-900. */
export const MAX_DELAY_SECONDS = 900;

/**
 * Seconds until the next re-check: the configured cadence, but never past the deadline or the next
 * heartbeat, and at least one second.
 */
export function nextCheckDelaySeconds(hold: LifecycleHold, recheckSeconds: number, now: number): number {
  const untilDeadline = Math.ceil((hold.deadlineAt - now) / 1000);
  const untilHeartbeat = Math.ceil(
    (hold.lastHeartbeatAt + (hold.heartbeatTimeoutSeconds * 1000) / 2 - now) / 1000,
  );
  return Math.max(1, Math.min(recheckSeconds, untilDeadline, untilHeartbeat, MAX_DELAY_SECONDS));
}

/**
 * Seconds until a failed re-check is tried again: 5, 10, 20 ... seconds, never more than the cadence,
 * so a transient failure costs seconds, not the hook's timeout.
 */
export function retryDelaySeconds(failures: number, recheckSeconds: number): number {
  return Math.max(1, Math.min(recheckSeconds, 5 * 2 ** Math.max(0, failures - 1)));
}
