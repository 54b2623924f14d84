import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { AutoScalingAdapter } from '../aws/auto-scaling-adapter';
import { Ec2InstanceAdapter } from '../aws/ec2-instance-adapter';
import { LoadBalancerAdapter } from '../aws/load-balancer-adapter';
import { Route53Adapter } from '../aws/route53-adapter';
import { SecurityGroupAdapter } from '../aws/security-group-adapter';
import { TargetGroupAdapter } from '../aws/target-group-adapter';
import { networkSteps } from '../sync/network-steps';
import type { ReconcileDeps, ReconcileStep } from '../sync/reconcile-pass';
import { createLogger, createMetrics } from './telemetry';

/** The wiring of real adapters; the same in Lambda, the CLI and the demo (only the endpoint differs). */
export interface Container extends ReconcileDeps {
  readonly autoScaling: AutoScalingAdapter;
}

/**
 * Builds the adapters, logger and metrics once. Lambda handlers call it at module scope so clients
 * are reused across invocations.
 */
export function createContainer(
  overrides: { logger?: Logger; metrics?: Metrics; extraSteps?: readonly ReconcileStep[] } = {},
): Container {
  const logger = overrides.logger ?? createLogger();
  const network = {
    securityGroups: new SecurityGroupAdapter(),
    loadBalancers: new LoadBalancerAdapter(),
    dns: new Route53Adapter(),
    logger,
  };
  return {
    autoScaling: new AutoScalingAdapter(),
    ec2: new Ec2InstanceAdapter(),
    targetGroups: new TargetGroupAdapter(),
    logger,
    metrics: overrides.metrics ?? createMetrics(),
    extraSteps: overrides.extraSteps ?? networkSteps(network),
  };
}
