import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Node } from '../../lambdas/domain/node';
import type {
  AutoScalingGroupInfo,
  AutoScalingPort,
  DrainSettings,
  Ec2Port,
  LifecycleActionRef,
  LifecycleCallOutcome,
  LifecycleResult,
  TargetBatchResult,
  TargetGroupPort,
} from '../../lambdas/domain/ports';
import type { ObservedTarget, TargetRef } from '../../lambdas/domain/target';
import { targetKey } from '../../lambdas/domain/target';
import type { HoldCheckDeps } from '../../lambdas/sync/hold-check';
import { FakeQueues, ManualClock } from './fake-queues';

/**
 * In-memory fakes of the ports, for use-case and handler tests that must see exactly which write
 * calls were made. They model AWS only as far as the ports promise (no latency, no throttling).
 */
export class FakeAws implements AutoScalingPort, Ec2Port, TargetGroupPort {
  /**
   * Seconds a registered target stays `initial` before it turns `healthy` (0: healthy at once). With a
   * clock, deregistered targets drain for the group's delay, as on AWS; without one they vanish at once.
   */
  public healthyAfterSeconds = 0;
  /** When a target entered its state, `arn id:port` -> epoch ms (for initial and draining). */
  private readonly since = new Map<string, number>();
  /** Calls that fail next, by operation name (`describeTargets`, `registerTargets`, ...), with this error. */
  public readonly failNext = new Map<string, number>();

  public constructor(private readonly clock?: { now(): number }) {}

  public readonly groups = new Map<string, AutoScalingGroupInfo>();
  public readonly instances = new Map<string, Node>();
  public readonly targets = new Map<string, ObservedTarget[]>();
  /** Every write call, in order: `register <arn> id:port,...`, `complete <instance> CONTINUE`. */
  public readonly writes: string[] = [];
  /** Target ids AWS rejects with InvalidTarget. */
  public readonly invalid = new Set<string>();
  /** Draining settings per group ARN; absent: AWS's defaults (300 s, connections kept). */
  public readonly drainSettings = new Map<string, DrainSettings>();
  /**
   * Lifecycle actions (token, else instance id) Auto Scaling no longer waits for: answered once, or
   * expired. A second answer is `not-active`, as AWS says "No active Lifecycle Action found".
   */
  public readonly inactiveActions = new Set<string>();
  /** Every lifecycle call, answered or not: `complete <instance> <result> <done|not-active>`. */
  public readonly lifecycleCalls: string[] = [];

  /** Adds an ASG with nodes in the given lifecycle states. */
  public addGroup(name: string, nodes: readonly Node[], desiredCapacity = nodes.length): void {
    this.groups.set(name, {
      name,
      desiredCapacity,
      instances: nodes.map((n) => ({
        instanceId: n.instanceId,
        lifecycleState: n.lifecycleState ?? 'InService',
        healthStatus: n.healthStatus ?? 'Healthy',
        ...(n.availabilityZone !== undefined && { availabilityZone: n.availabilityZone }),
      })),
    });
    for (const node of nodes) this.instances.set(node.instanceId, node);
  }

  public async describeGroups(names: readonly string[]): Promise<AutoScalingGroupInfo[]> {
    return names.flatMap((n) => this.groups.get(n) ?? []);
  }
  public async completeLifecycleAction(
    action: LifecycleActionRef,
    result: LifecycleResult,
  ): Promise<LifecycleCallOutcome> {
    const key = action.lifecycleActionToken ?? action.instanceId;
    const outcome = this.inactiveActions.has(key) ? 'not-active' : 'done';
    this.lifecycleCalls.push(`complete ${action.instanceId} ${result} ${outcome}`);
    if (outcome === 'done') this.writes.push(`complete ${action.instanceId} ${result}`);
    this.inactiveActions.add(key);
    return outcome;
  }
  public async recordLifecycleActionHeartbeat(action: LifecycleActionRef): Promise<LifecycleCallOutcome> {
    const key = action.lifecycleActionToken ?? action.instanceId;
    const outcome = this.inactiveActions.has(key) ? 'not-active' : 'done';
    this.lifecycleCalls.push(`heartbeat ${action.instanceId} ${outcome}`);
    if (outcome === 'done') this.writes.push(`heartbeat ${action.instanceId}`);
    return outcome;
  }
  public async tagInstance(instanceId: string, key: string, value: string): Promise<'done' | 'not-found'> {
    const node = this.instances.get(instanceId);
    if (node === undefined) return 'not-found';
    this.instances.set(instanceId, { ...node, tags: { ...node.tags, [key]: value } });
    this.writes.push(`tag ${instanceId} ${key}`);
    return 'done';
  }
  public async untagInstance(instanceId: string, key: string): Promise<'done' | 'not-found'> {
    const node = this.instances.get(instanceId);
    if (node === undefined) return 'not-found';
    const { [key]: _removed, ...tags } = node.tags ?? {};
    this.instances.set(instanceId, { ...node, tags });
    this.writes.push(`untag ${instanceId} ${key}`);
    return 'done';
  }
  public async describeDrainSettings(arn: string): Promise<DrainSettings> {
    return this.drainSettings.get(arn) ?? { deregistrationDelaySeconds: 300, connectionTermination: false };
  }
  public async describeInstancesById(ids: readonly string[]): Promise<Node[]> {
    return ids.flatMap((id) => {
      const node = this.instances.get(id);
      if (node === undefined) return [];
      const { autoScalingGroupName: _a, lifecycleState: _l, healthStatus: _h, ...ec2 } = node;
      return [{ ...ec2, origins: [] }];
    });
  }
  /** Instances whose `aws:autoscaling:groupName` tag names one of the groups (set it in a node's `tags`). */
  public async describeInstancesOfGroups(names: readonly string[]): Promise<Node[]> {
    const tagged = [...this.instances.values()].filter((node) =>
      names.includes(node.tags?.['aws:autoscaling:groupName'] ?? ''),
    );
    return this.describeInstancesById(tagged.map((node) => node.instanceId));
  }
  public async describeInstancesByTags(): Promise<Node[]> {
    return [];
  }
  public async describeTargets(arn: string): Promise<ObservedTarget[]> {
    this.maybeFail('describeTargets');
    const list = this.targets.get(arn);
    if (list === undefined)
      throw Object.assign(new Error(`target group ${arn} not found`), { name: 'MissingResourceError' });
    const now = this.clock?.now() ?? 0;
    const delay = (this.drainSettings.get(arn)?.deregistrationDelaySeconds ?? 300) * 1000;
    const current = list.flatMap((t): ObservedTarget[] => {
      const since = this.since.get(`${arn} ${targetKey(t)}`) ?? 0;
      if (t.state === 'draining') return now - since >= delay ? [] : [t];
      if (t.state === 'initial' && now - since >= this.healthyAfterSeconds * 1000) {
        return [{ ...t, state: 'healthy' }];
      }
      return [t];
    });
    this.targets.set(arn, current);
    return [...current];
  }

  /** Throws a throttling error if `failNext` asks for one on this operation. */
  private maybeFail(operation: string): void {
    const left = this.failNext.get(operation) ?? 0;
    if (left <= 0) return;
    this.failNext.set(operation, left - 1);
    throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
  }
  public async registerTargets(arn: string, targets: readonly TargetRef[]): Promise<TargetBatchResult> {
    return this.write('register', arn, targets);
  }
  public async deregisterTargets(arn: string, targets: readonly TargetRef[]): Promise<TargetBatchResult> {
    return this.write('deregister', arn, targets);
  }

  private write(
    action: 'register' | 'deregister',
    arn: string,
    targets: readonly TargetRef[],
  ): TargetBatchResult {
    this.maybeFail(`${action}Targets`);
    this.writes.push(`${action} ${arn} ${targets.map(targetKey).join(',')}`);
    const applied = targets.filter((t) => !this.invalid.has(t.id));
    const rejected = targets
      .filter((t) => this.invalid.has(t.id))
      .map((target) => ({ target, code: 'InvalidTarget', message: `${target.id} is not valid` }));
    const list = this.targets.get(arn) ?? [];
    const keys = new Set(applied.map(targetKey));
    const kept = list.filter((t) => !keys.has(targetKey(t)));
    const now = this.clock?.now() ?? 0;
    for (const t of applied) this.since.set(`${arn} ${targetKey(t)}`, now);
    const modelled = this.clock !== undefined;
    const registered = (state: 'initial' | 'healthy') => applied.map((t) => ({ ...t, state }));
    this.targets.set(
      arn,
      action === 'register'
        ? [...kept, ...registered(modelled && this.healthyAfterSeconds > 0 ? 'initial' : 'healthy')]
        : modelled
          ? [...kept, ...applied.map((t) => ({ ...t, state: 'draining' as const }))]
          : kept,
    );
    return { applied, rejected };
  }
}

/** A node as an ASG would hold it. */
export function asgNode(n: number, lifecycleState = 'InService', asg = 'my-asg'): Node {
  return {
    instanceId: `i-${n.toString(16).padStart(17, '0')}`,
    privateIp: `10.0.0.${n + 10}`,
    availabilityZone: 'us-east-1a',
    ec2State: 'running',
    autoScalingGroupName: asg,
    lifecycleState,
    healthStatus: 'Healthy',
    securityGroupIds: ['sg-0123456789abcdef0'],
    origins: ['auto-scaling-group'],
  };
}

/**
 * A silent logger and a metrics object that keeps its buffer semantics (publish clears it) but
 * prints no EMF; tests spy on `addMetric` to see what a pass counted.
 */
export function silentTelemetry(): { logger: Logger; metrics: Metrics } {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  return {
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'NlbNodeportSync', serviceName: 'test' }),
  };
}

/** Deps wired to a fake, with silent telemetry, an in-memory wait queue and lane, and a manual clock. */
export function fakeDeps(
  fake: FakeAws,
  queue: FakeQueues = new FakeQueues(new ManualClock()),
): HoldCheckDeps & {
  autoScaling: FakeAws;
  metrics: Metrics;
  holds: FakeQueues;
  lane: FakeQueues;
  clock: ManualClock;
} {
  return {
    autoScaling: fake,
    ec2: fake,
    targetGroups: fake,
    holds: queue,
    lane: queue,
    clock: queue.clock,
    ...silentTelemetry(),
  };
}
