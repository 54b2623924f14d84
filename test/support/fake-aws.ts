import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Node } from '../../lambdas/domain/node';
import type {
  AutoScalingGroupInfo,
  AutoScalingPort,
  Ec2Port,
  LifecycleActionRef,
  LifecycleResult,
  TargetBatchResult,
  TargetGroupPort,
} from '../../lambdas/domain/ports';
import type { ObservedTarget, TargetRef } from '../../lambdas/domain/target';
import { targetKey } from '../../lambdas/domain/target';
import type { ReconcileDeps } from '../../lambdas/sync/reconcile-pass';

/**
 * In-memory fakes of the ports, for use-case and handler tests that must see exactly which write
 * calls were made. They model AWS only as far as the ports promise (no latency, no throttling).
 */
export class FakeAws implements AutoScalingPort, Ec2Port, TargetGroupPort {
  public readonly groups = new Map<string, AutoScalingGroupInfo>();
  public readonly instances = new Map<string, Node>();
  public readonly targets = new Map<string, ObservedTarget[]>();
  /** Every write call, in order: `register <arn> id:port,...`, `complete <instance> CONTINUE`. */
  public readonly writes: string[] = [];
  /** Target ids AWS rejects with InvalidTarget. */
  public readonly invalid = new Set<string>();

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
  public async completeLifecycleAction(action: LifecycleActionRef, result: LifecycleResult): Promise<void> {
    this.writes.push(`complete ${action.instanceId} ${result}`);
  }
  public async recordLifecycleActionHeartbeat(action: LifecycleActionRef): Promise<void> {
    this.writes.push(`heartbeat ${action.instanceId}`);
  }
  public async describeInstancesById(ids: readonly string[]): Promise<Node[]> {
    return ids.flatMap((id) => {
      const node = this.instances.get(id);
      if (node === undefined) return [];
      const { autoScalingGroupName: _a, lifecycleState: _l, healthStatus: _h, ...ec2 } = node;
      return [{ ...ec2, origins: [] }];
    });
  }
  public async describeInstancesByTags(): Promise<Node[]> {
    return [];
  }
  public async describeTargets(arn: string): Promise<ObservedTarget[]> {
    const list = this.targets.get(arn);
    if (list === undefined)
      throw Object.assign(new Error(`target group ${arn} not found`), { name: 'MissingResourceError' });
    return [...list];
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
    this.writes.push(`${action} ${arn} ${targets.map(targetKey).join(',')}`);
    const applied = targets.filter((t) => !this.invalid.has(t.id));
    const rejected = targets
      .filter((t) => this.invalid.has(t.id))
      .map((target) => ({ target, code: 'InvalidTarget', message: `${target.id} is not valid` }));
    const list = this.targets.get(arn) ?? [];
    const keys = new Set(applied.map(targetKey));
    const kept = list.filter((t) => !keys.has(targetKey(t)));
    this.targets.set(
      arn,
      action === 'register' ? [...kept, ...applied.map((t) => ({ ...t, state: 'healthy' as const }))] : kept,
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

/** Deps wired to a fake, with silent telemetry. */
export function fakeDeps(fake: FakeAws): ReconcileDeps & { autoScaling: FakeAws; metrics: Metrics } {
  return { autoScaling: fake, ec2: fake, targetGroups: fake, ...silentTelemetry() };
}
