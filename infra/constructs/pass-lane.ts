import { Aws, Duration, Validations } from 'aws-cdk-lib';
import type { IRule, IRuleTarget, RuleTargetConfig } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LANE_DEFAULTS } from '../constants';
import { ruleNamePrefix } from '../naming';

/** Properties of a {@link PassLane}. */
export interface PassLaneProps {
  /** The deployment's owner id; EventBridge may only send from rules whose names start with it. */
  readonly ownerId: string;
}

/**
 * The serialization point: one SQS FIFO queue whose message group is the cluster name, so SQS hands
 * out at most one message per cluster at a time (passes of one cluster never overlap) while
 * different clusters run in parallel. Messages that keep failing move to a FIFO dead-letter queue;
 * events EventBridge cannot deliver go to a standard one (EventBridge DLQs must be standard).
 */
export class PassLane extends Construct {
  /** The FIFO queue the pass function consumes. */
  public readonly queue: Queue;
  /** Messages whose pass failed `maxReceiveCount` times. */
  public readonly deadLetterQueue: Queue;
  /** Events EventBridge could not deliver to the lane after its retries. */
  public readonly eventDeadLetterQueue: Queue;

  public constructor(scope: Construct, id: string, props: PassLaneProps) {
    super(scope, id);
    const retentionPeriod = Duration.days(LANE_DEFAULTS.dlqRetentionDays);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod,
    });
    this.queue = new Queue(this, 'Queue', {
      fifo: true,
      // EventBridge requires it for FIFO targets; the body holds the event id, so distinct events differ.
      contentBasedDeduplication: true,
      // The same spot warning goes to every cluster's group: dedup must not drop it across groups.
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      visibilityTimeout: Duration.seconds(LANE_DEFAULTS.visibilityTimeoutSeconds),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: LANE_DEFAULTS.maxReceiveCount },
    });
    this.eventDeadLetterQueue = new Queue(this, 'EventDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod,
    });
    Validations.of(this.eventDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself a dead-letter queue: the target DLQ of the EventBridge rules.',
    });

    // One statement for every rule of the deployment (SQS allows 20 statements per policy).
    const fromOwnRules = {
      ArnLike: {
        'aws:SourceArn': `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:rule/${ruleNamePrefix(props.ownerId)}*`,
      },
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
    };
    for (const queue of [this.queue, this.eventDeadLetterQueue]) {
      queue.addToResourcePolicy(
        new PolicyStatement({
          sid: 'EventBridgeRulesOfThisDeployment',
          principals: [new ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn],
          conditions: fromOwnRules,
        }),
      );
    }
  }

  /**
   * A rule target that puts the event on the lane in the cluster's message group, with EventBridge's
   * retry policy and the event dead-letter queue.
   */
  public targetFor(clusterName: string): IRuleTarget {
    return new LaneTarget(this, clusterName);
  }
}

/** Binds a rule to the lane; the queue policy is set once by the lane, not once per rule. */
class LaneTarget implements IRuleTarget {
  public constructor(
    private readonly lane: PassLane,
    private readonly messageGroupId: string,
  ) {}

  public bind(_rule: IRule, _id?: string): RuleTargetConfig {
    return {
      arn: this.lane.queue.queueArn,
      sqsParameters: { messageGroupId: this.messageGroupId },
      retryPolicy: {
        maximumEventAgeInSeconds: LANE_DEFAULTS.eventMaxAgeSeconds,
        maximumRetryAttempts: LANE_DEFAULTS.eventRetryAttempts,
      },
      deadLetterConfig: { arn: this.lane.eventDeadLetterQueue.queueArn },
      targetResource: this.lane.queue,
    };
  }
}
