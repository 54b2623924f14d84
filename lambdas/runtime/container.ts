import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { AutoScalingAdapter } from '../aws/auto-scaling-adapter';
import { Ec2InstanceAdapter } from '../aws/ec2-instance-adapter';
import { LoadBalancerAdapter } from '../aws/load-balancer-adapter';
import { QueueAdapter } from '../aws/queue-adapter';
import { Route53Adapter } from '../aws/route53-adapter';
import { SecurityGroupAdapter } from '../aws/security-group-adapter';
import { TargetGroupAdapter } from '../aws/target-group-adapter';
import type { Clock, HoldQueuePort, LanePort } from '../domain/ports';
import type { HoldCheckDeps } from '../sync/hold-check';
import { type NetworkStepDeps, networkSteps } from '../sync/network-steps';
import type { ReconcileStep } from '../sync/reconcile-pass';
import { QUEUE_ENV } from './environment';
import { createLogger, createMetrics } from './telemetry';

/** The wiring of real adapters; the same in Lambda, the CLI and the demo (only the endpoint differs). */
export interface Container extends HoldCheckDeps {
  readonly autoScaling: AutoScalingAdapter;
  /** The security-group, load balancer and Route 53 adapters the network steps use; `status` reads them too. */
  readonly network: NetworkStepDeps;
}

/** The system clock. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * Builds the adapters, logger and metrics once. Lambda handlers call it at module scope so clients
 * are reused across invocations.
 */
export function createContainer(
  overrides: {
    logger?: Logger;
    metrics?: Metrics;
    extraSteps?: readonly ReconcileStep[];
    /** Where held actions and retries go; default: the deployment's queues (environment). */
    queues?: HoldQueuePort & LanePort;
    clock?: Clock;
  } = {},
  env: NodeJS.ProcessEnv = process.env,
): Container {
  const logger = overrides.logger ?? createLogger();
  const metrics = overrides.metrics ?? createMetrics();
  const network = {
    securityGroups: new SecurityGroupAdapter(),
    loadBalancers: new LoadBalancerAdapter(),
    dns: new Route53Adapter(),
    logger,
    metrics,
  };
  const queues =
    overrides.queues ??
    new QueueAdapter({
      ...(env[QUEUE_ENV.waitQueueUrl] !== undefined && { waitQueueUrl: env[QUEUE_ENV.waitQueueUrl] }),
      ...(env[QUEUE_ENV.laneQueueUrl] !== undefined && { laneQueueUrl: env[QUEUE_ENV.laneQueueUrl] }),
    });
  return {
    holds: queues,
    lane: queues,
    clock: overrides.clock ?? systemClock,
    autoScaling: new AutoScalingAdapter(),
    ec2: new Ec2InstanceAdapter(),
    targetGroups: new TargetGroupAdapter(),
    logger,
    metrics,
    extraSteps: overrides.extraSteps ?? networkSteps(network),
    network,
  };
}
