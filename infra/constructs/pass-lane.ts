import { Aws, Duration, Lazy, Stack, Token, Validations } from 'aws-cdk-lib';
import type { CfnRule, IRule, IRuleTarget, RuleTargetConfig } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LANE_DEFAULTS } from '../constants';
import { ruleNamePrefix } from '../naming';

/** Properties of a {@link PassLane}. */
export interface PassLaneProps {
  /** The deployment's owner id: every rule the lane admits must carry its prefix (infra/naming.ts). */
  readonly ownerId: string;
}

/** SQS's limit on the size of a queue policy. */
export const QUEUE_POLICY_MAX_BYTES = 8192;
/**
 * What a queue policy holds besides the rule ARNs, at most: the TLS-only deny and the allow statement
 * with its principal, queue ARN and account condition, resolved with the longest partition and region.
 */
const QUEUE_POLICY_BASE_BYTES = 1200;
/** A rule ARN besides its name, resolved with the longest partition (10) and region (14), quoted. */
const RULE_ARN_OVERHEAD_BYTES = 'arn::events::123456789012:rule/'.length + 10 + 14 + 3;

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
  private readonly ruleArns: string[] = [];
  private readonly ruleNames: string[] = [];
  private readonly ownerId: string;

  public constructor(scope: Construct, id: string, props: PassLaneProps) {
    super(scope, id);
    this.ownerId = props.ownerId;
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

    // One statement for every rule of the deployment (SQS allows 20 statements per policy): EventBridge
    // may send only from the exact rules that target the lane (aws:SourceArn is the rule's ARN), listed
    // as they bind. A rule of another stack, even one whose name starts with the owner id, is refused.
    const fromOwnRules = {
      ArnEquals: { 'aws:SourceArn': Lazy.list({ produce: () => [...this.ruleArns] }) },
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
    this.node.addValidation({
      validate: () => {
        const bytes =
          QUEUE_POLICY_BASE_BYTES +
          this.ruleNames.reduce((sum, name) => sum + name.length + RULE_ARN_OVERHEAD_BYTES, 0);
        return bytes <= QUEUE_POLICY_MAX_BYTES
          ? []
          : [
              `the lane's queue policies would list ${this.ruleNames.length} EventBridge rules, up to ${bytes} bytes, ` +
                `over SQS's ${QUEUE_POLICY_MAX_BYTES}-byte policy limit: split the clusters across deployments (distinct ownerId)`,
            ];
      },
    });
  }

  /** The ARNs of the rules that target the lane, in binding order; the queue policies admit exactly these. */
  public get admittedRuleArns(): readonly string[] {
    return [...this.ruleArns];
  }

  /**
   * Admits a rule to the lane and the event DLQ. Called by the rule target when the rule binds it.
   * The ARN is built from the rule's literal name (`rule/<name>` on the default bus) rather than the
   * rule's `Arn` attribute, so the queue policies do not wait for the rules at deploy time.
   */
  public admit(rule: IRule): void {
    const name = (rule.node.defaultChild as CfnRule | undefined)?.name;
    if (name !== undefined && !Token.isUnresolved(name)) {
      if (!name.startsWith(ruleNamePrefix(this.ownerId))) {
        throw new Error(
          `rule ${name} targets the lane but is not named for owner ${this.ownerId} (infra/naming.ts)`,
        );
      }
      if (this.ruleNames.includes(name)) return;
      this.ruleNames.push(name);
      this.ruleArns.push(
        Stack.of(this).formatArn({ service: 'events', resource: 'rule', resourceName: name }),
      );
      return;
    }
    this.ruleArns.push(rule.ruleArn);
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

  public bind(rule: IRule, _id?: string): RuleTargetConfig {
    this.lane.admit(rule);
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
