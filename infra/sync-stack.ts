import { Annotations, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import { ConfigError, parseSyncConfig, parseSyncConfigText, type SyncConfig } from '../lambdas/domain/config';
import {
  type ClusterDeployTimeValues,
  configDigest,
  type DeployTimeValues,
  mergeDeployTimeValues,
} from '../lambdas/runtime/environment';
import {
  BUNDLED_CONFIG_FILE,
  FUNCTION_DEFAULTS,
  PASS_HANDLER_ENTRY,
  PRODUCT,
  SYNC_ENVIRONMENT,
  WAIT_QUEUE_DEFAULTS,
} from './constants';
import { ClusterLoadBalancer } from './constructs/cluster-load-balancer';
import { ClusterRules } from './constructs/cluster-rules';
import { ClusterLifecycleHooks } from './constructs/lifecycle-hooks';
import { Monitoring } from './constructs/monitoring';
import { PassLane } from './constructs/pass-lane';
import { SyncFunction } from './constructs/sync-function';
import { grantSyncPermissions } from './constructs/sync-permissions';
import { WaitQueue } from './constructs/wait-queue';
import { checkRecordNamesAgainstZones, ZONE_NAME_UNKNOWN_WARNING } from './dns-zone-check';

/** Properties of {@link NlbNodeportSyncStack}. */
export interface NlbNodeportSyncStackProps extends StackProps {
  /** The validated sync configuration (see lambdas/domain/config.ts). */
  readonly config: SyncConfig;
  /**
   * The handler that consumes the lane, relative to the repository root.
   * @default PASS_HANDLER_ENTRY
   */
  readonly passHandlerEntry?: string;
}

/**
 * The whole deployment: per cluster the load balancer (imported or created), lifecycle hooks and
 * EventBridge rules feeding one FIFO lane; one function consuming the lane and the wait queue of
 * delayed lifecycle re-checks; monitoring.
 */
export class NlbNodeportSyncStack extends Stack {
  /** The function that runs the passes. */
  public readonly passFunction: SyncFunction;
  /** The lane. */
  public readonly lane: PassLane;
  /** The wait queue of delayed re-checks of held lifecycle actions. */
  public readonly waitQueue: WaitQueue;
  /** The monitoring. */
  public readonly monitoring: Monitoring;
  /** What the functions receive as their configuration. */
  public readonly configDelivery: ConfigDelivery;

  public constructor(scope: Construct, id: string, props: NlbNodeportSyncStackProps) {
    super(scope, id, {
      description: `${PRODUCT.serviceName}: keeps NLB target groups, node security groups and DNS in step with worker nodes`,
      ...props,
    });
    const { config } = props;
    // Record names outside their hosted zone would fail every pass after its target writes: stop or warn here.
    const zoneCheck = checkRecordNamesAgainstZones(config);
    if (zoneCheck.errors.length > 0) throw new ConfigError('synth', [...zoneCheck.errors]);
    for (const warning of zoneCheck.warnings)
      Annotations.of(this).addWarningV2(ZONE_NAME_UNKNOWN_WARNING, warning);
    this.lane = new PassLane(this, 'Lane', { ownerId: config.ownerId });
    this.waitQueue = new WaitQueue(this, 'Wait');

    const balancers = config.clusters.map(
      (cluster, index) =>
        new ClusterLoadBalancer(this, `LoadBalancer-${cluster.name}`, {
          cluster,
          index,
          ownerId: config.ownerId,
        }),
    );
    // Config delivery (docs/deploy.md): the validated config is a file in the function's code; the
    // ARNs CloudFormation only knows at deploy (create mode) travel in the environment, merged at init.
    this.configDelivery = configDelivery(config, balancers);

    this.passFunction = new SyncFunction(this, 'PassFunction', {
      entry: props.passHandlerEntry ?? PASS_HANDLER_ENTRY,
      description:
        'Runs one reconcile pass per lane message: schedule, ASG, EC2 and spot events, lifecycle actions',
      bundledFiles: { [BUNDLED_CONFIG_FILE]: this.configDelivery.fileText },
      environment: {
        [SYNC_ENVIRONMENT.bundledConfig]: BUNDLED_CONFIG_FILE,
        ...(this.configDelivery.deployTimeValues === undefined
          ? {}
          : { [SYNC_ENVIRONMENT.deployTimeValues]: this.configDelivery.deployTimeValues }),
        [SYNC_ENVIRONMENT.waitQueueUrl]: this.waitQueue.queue.queueUrl,
        [SYNC_ENVIRONMENT.laneQueueUrl]: this.lane.queue.queueUrl,
      },
      timeout: Duration.seconds(FUNCTION_DEFAULTS.timeoutSeconds),
    });
    // Batch size 1: a failure retries exactly the one event, and the handler's return value is ignored.
    this.passFunction.function.addEventSource(new SqsEventSource(this.lane.queue, { batchSize: 1 }));
    // The same function consumes its own delayed re-checks; the mapping grants receive and delete.
    this.passFunction.function.addEventSource(
      new SqsEventSource(this.waitQueue.queue, { batchSize: WAIT_QUEUE_DEFAULTS.batchSize }),
    );
    grantSyncPermissions(this.passFunction.role, {
      ownerId: config.ownerId,
      clusters: config.clusters.map((cluster, index) => ({
        cluster,
        targetGroupArns: (balancers[index] as ClusterLoadBalancer).targetGroups.map((group) => group.arn),
      })),
      sendQueueArns: [this.waitQueue.queue.queueArn, this.lane.queue.queueArn],
    });

    for (const cluster of config.clusters) {
      new ClusterLifecycleHooks(this, `LifecycleHooks-${cluster.name}`, { cluster, ownerId: config.ownerId });
      new ClusterRules(this, `Rules-${cluster.name}`, {
        cluster,
        ownerId: config.ownerId,
        lane: this.lane,
        schedule: config.schedule,
        rebalanceRecommendations: config.rebalanceRecommendations,
      });
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      clusters: config.clusters.map((cluster, index) => {
        const balancer = balancers[index] as ClusterLoadBalancer;
        return {
          name: cluster.name,
          loadBalancerMetricName: balancer.loadBalancerMetricName,
          targetGroups: balancer.targetGroups,
          hasAutoScalingGroups: cluster.nodeSource.autoScalingGroups.length > 0,
        };
      }),
      functions: { PassFunction: this.passFunction.function },
      laneQueue: this.lane.queue,
      waitQueue: this.waitQueue.queue,
      deadLetterQueues: {
        LaneDLQ: this.lane.deadLetterQueue,
        EventDLQ: this.lane.eventDeadLetterQueue,
        WaitDLQ: this.waitQueue.deadLetterQueue,
      },
      alarmEmails: config.alarmEmails,
    });

    // What docs/deploy.md's "check that it works" looks at.
    new CfnOutput(this, 'PassFunctionName', { value: this.passFunction.function.functionName });
    new CfnOutput(this, 'PassFunctionLogGroup', { value: this.passFunction.logGroup.logGroupName });
    new CfnOutput(this, 'LaneQueueUrl', { value: this.lane.queue.queueUrl });
    new CfnOutput(this, 'LaneDeadLetterQueueUrl', { value: this.lane.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'EventDeadLetterQueueUrl', { value: this.lane.eventDeadLetterQueue.queueUrl });
    new CfnOutput(this, 'WaitQueueUrl', { value: this.waitQueue.queue.queueUrl });
    new CfnOutput(this, 'WaitDeadLetterQueueUrl', { value: this.waitQueue.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
  }
}

/** How the functions receive the validated configuration. */
export interface ConfigDelivery {
  /** The text of the file bundled beside index.js: the validated config, defaults filled in. */
  readonly fileText: string;
  /**
   * Only when a cluster's load balancer is created: the JSON of {@link DeployTimeValues}, holding
   * CloudFormation references to the created NLB and target group ARNs.
   */
  readonly deployTimeValues?: string;
}

/** An ARN of the right shape standing in for a deploy-time reference in the synth-time check. */
function placeholderArn(kind: 'loadbalancer/net' | 'targetgroup', cluster: number, index: number): string {
  const id = (cluster * 1000 + index).toString(16).padStart(16, '0');
  return `arn:aws:elasticloadbalancing:us-east-1:000000000000:${kind}/placeholder-${cluster}-${index}/${id}`;
}

/**
 * Splits the validated config into the bundled file and the deploy-time values, and checks at synth
 * what the function checks at init: the file validates, and so does the file with the deploy-time
 * values merged in (placeholders standing in for the references).
 * @throws ConfigError naming the field when either does not validate
 */
export function configDelivery(
  config: SyncConfig,
  balancers: readonly ClusterLoadBalancer[],
): ConfigDelivery {
  const fileText = JSON.stringify(config);
  parseSyncConfigText(fileText, 'the bundled configuration');
  const created = config.clusters.flatMap((cluster, index) => {
    if (cluster.loadBalancer.create === undefined) return [];
    const balancer = balancers[index] as ClusterLoadBalancer;
    return [{ cluster, index, balancer }];
  });
  if (created.length === 0) return { fileText };

  const v = configDigest(fileText);
  const values = (arnOf: (entry: (typeof created)[number]) => ClusterDeployTimeValues): DeployTimeValues => ({
    v,
    c: Object.fromEntries(created.map((entry) => [entry.cluster.name, arnOf(entry)])),
  });
  const placeholders = values(({ index, balancer }) => ({
    lb: placeholderArn('loadbalancer/net', index, 0),
    tg: balancer.targetGroups.map((_, mi) => placeholderArn('targetgroup', index, mi + 1)),
  }));
  parseSyncConfig(
    mergeDeployTimeValues(JSON.parse(fileText), placeholders),
    'the bundled configuration with the deploy-time ARNs',
  );
  const references = values(({ balancer }) => ({
    lb: balancer.loadBalancerArn as string,
    tg: balancer.targetGroups.map((group) => group.arn),
  }));
  return { fileText, deployTimeValues: JSON.stringify(references) };
}
