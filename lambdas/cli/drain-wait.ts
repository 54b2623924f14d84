import type { ClusterConfig } from '../domain/config';
import { type HoldDecision, judgeOpenWait } from '../domain/lifecycle-hold';
import type { Clock, Ec2Port, TargetGroupPort } from '../domain/ports';
import { resolvedMappings } from '../sync/reconcile-pass';

/**
 * `drain --wait`: after the drain mark, watch the node's targets until none is registered or draining in
 * any group of its cluster. It writes nothing: a pass deregisters the marked node (the deployment's next
 * scheduled or event pass, or `apply`), then each group drains it for its deregistration delay. "Done" is
 * judged by the rule a terminate hold's re-check applies (lambdas/domain/lifecycle-hold.ts): no target of the
 * node is serving or draining.
 */

/** What the wait reads. */
export interface DrainWaitDeps {
  readonly targetGroups: TargetGroupPort;
  readonly ec2: Ec2Port;
  readonly clock: Clock;
}

/** One look at the node's targets. */
export interface DrainCheck {
  /** `pass`: a target still serves (a pass must deregister it); `wait`: draining; `answer`: done. */
  readonly next: HoldDecision['kind'];
  /** In words: what is registered or draining where. */
  readonly line: string;
}

/** How the wait ended. */
export interface DrainWaitResult {
  readonly done: boolean;
  readonly waitedSeconds: number;
  /** The last look, in words. */
  readonly last: string;
}

/** Options of {@link waitForDrain}. */
export interface DrainWaitOptions {
  readonly timeoutSeconds: number;
  readonly pollSeconds: number;
  /** Waits between looks; tests pass one that moves their clock. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Called with each look that differs from the one before, and at least every `reportEverySeconds`. */
  readonly onProgress: (elapsedSeconds: number, check: DrainCheck) => void;
  readonly reportEverySeconds?: number;
}

/** Looks once: the node's targets in every group of the cluster, judged as a terminate re-check judges them. */
export async function checkDrain(
  cluster: ClusterConfig,
  instanceId: string,
  deps: DrainWaitDeps,
  delays: ReadonlyMap<string, number>,
): Promise<DrainCheck> {
  const mappings = resolvedMappings(cluster);
  const [instances, observed] = await Promise.all([
    deps.ec2.describeInstancesById([instanceId]),
    Promise.all(mappings.map((m) => deps.targetGroups.describeTargets(m.targetGroupArn))),
  ]);
  const node = instances[0];
  const now = deps.clock.now();
  // No deadline: the operator's --timeout bounds the wait. The drain mark is left out: a terminate
  // re-check judges the targets alone.
  const decision = judgeOpenWait({
    cluster: cluster.name,
    kind: 'terminate',
    action: {
      autoScalingGroupName: node?.autoScalingGroupName ?? '',
      lifecycleHookName: '',
      instanceId,
      transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    },
    ...(node !== undefined && {
      node: {
        ...(node.privateIp !== undefined && { privateIp: node.privateIp }),
        ...(node.ec2State !== undefined && { ec2State: node.ec2State }),
      },
    }),
    groups: mappings.map((m, i) => ({
      mapping: m.name,
      targetType: m.targetType,
      nodePort: m.nodePort,
      targets: observed[i] ?? [],
    })),
    settings: { launchGate: 'healthy', launchTimeoutResult: 'CONTINUE', terminateTimeoutResult: 'CONTINUE' },
    now,
  });
  switch (decision.kind) {
    case 'answer':
      return { next: 'answer', line: 'no target of the node is registered or draining in any group' };
    case 'pass':
      return {
        next: 'pass',
        line: `waiting for a pass to deregister it (${decision.reason}); the deployment's next pass does, or run \`nlb-nodeport-sync apply --cluster ${cluster.name}\``,
      };
    default: {
      const seconds = Math.max(0, ...delays.values());
      return {
        next: 'wait',
        line: `${decision.reason} (deregistration delay up to ${seconds} s)`,
      };
    }
  }
}

/**
 * Looks at the node's targets every `pollSeconds` until none is registered or draining, or `timeoutSeconds`
 * pass. Reports progress only when the wait lasts: a node already out ends after the first look, silently.
 */
export async function waitForDrain(
  cluster: ClusterConfig,
  instanceId: string,
  deps: DrainWaitDeps,
  options: DrainWaitOptions,
): Promise<DrainWaitResult> {
  const delays = new Map<string, number>();
  for (const m of resolvedMappings(cluster)) {
    delays.set(
      m.name,
      (await deps.targetGroups.describeDrainSettings(m.targetGroupArn)).deregistrationDelaySeconds,
    );
  }
  const started = deps.clock.now();
  const every = options.reportEverySeconds ?? 30;
  let reported: { line: string; at: number } | undefined;
  for (;;) {
    const check = await checkDrain(cluster, instanceId, deps, delays);
    const elapsed = Math.round((deps.clock.now() - started) / 1000);
    if (check.next === 'answer') return { done: true, waitedSeconds: elapsed, last: check.line };
    if (reported === undefined || reported.line !== check.line || elapsed - reported.at >= every) {
      options.onProgress(elapsed, check);
      reported = { line: check.line, at: elapsed };
    }
    if (elapsed >= options.timeoutSeconds) return { done: false, waitedSeconds: elapsed, last: check.line };
    await options.sleep(Math.min(options.pollSeconds, options.timeoutSeconds - elapsed) * 1000);
  }
}
