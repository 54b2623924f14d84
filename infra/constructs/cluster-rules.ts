import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import type { ClusterConfig } from '../../lambdas/domain/config';
import { lifecycleHookName, RULE_KINDS, ruleName } from '../naming';
import type { PassLane } from './pass-lane';

/** Properties of {@link ClusterRules}. */
export interface ClusterRulesProps {
  /** The cluster whose events the rules catch. */
  readonly cluster: ClusterConfig;
  /** The deployment's owner id (prefix of rule and hook names). */
  readonly ownerId: string;
  /** The lane the rules feed, in the cluster's message group. */
  readonly lane: PassLane;
  /** EventBridge rate() or cron() expression of the full reconcile. */
  readonly schedule: string;
  /** Also react to EC2 rebalance recommendations. */
  readonly rebalanceRecommendations: boolean;
}

/**
 * The EventBridge rules of one cluster. Each rule's target carries the cluster as its message group,
 * so every rule exists once per cluster: the scheduled full pass, lifecycle actions of this
 * cluster's hooks on its ASGs, launch/terminate results of its ASGs, EC2 state changes (tag-based
 * node sources only: the event has no tags to filter on), spot interruption warnings and,
 * optionally, rebalance recommendations.
 */
export class ClusterRules extends Construct {
  /** Every rule, keyed by kind. */
  public readonly rules: Readonly<Record<string, Rule>>;

  public constructor(scope: Construct, id: string, props: ClusterRulesProps) {
    super(scope, id);
    const { cluster, ownerId, lane } = props;
    const target = lane.targetFor(cluster.name);
    const rules: Record<string, Rule> = {};
    const name = (kind: (typeof RULE_KINDS)[keyof typeof RULE_KINDS]) =>
      ruleName(ownerId, cluster.name, kind);

    rules.schedule = new Rule(this, 'Schedule', {
      ruleName: name(RULE_KINDS.schedule),
      description: `Full reconcile of cluster ${cluster.name}`,
      schedule: Schedule.expression(props.schedule),
      targets: [target],
    });

    const asgs = [...cluster.nodeSource.autoScalingGroups].sort();
    if (asgs.length > 0) {
      rules.lifecycle = new Rule(this, 'LifecycleActions', {
        ruleName: name(RULE_KINDS.lifecycle),
        description: `Lifecycle actions of cluster ${cluster.name}'s hooks`,
        eventPattern: {
          source: ['aws.autoscaling'],
          detailType: ['EC2 Instance-launch Lifecycle Action', 'EC2 Instance-terminate Lifecycle Action'],
          detail: {
            AutoScalingGroupName: asgs,
            // Other hooks on the same ASG (other tools, other clusters) are not ours to answer.
            LifecycleHookName: [
              lifecycleHookName(ownerId, cluster.name, 'launch'),
              lifecycleHookName(ownerId, cluster.name, 'terminate'),
            ],
          },
        },
        targets: [target],
      });
      rules.asgResult = new Rule(this, 'AutoScalingResults', {
        ruleName: name(RULE_KINDS.asgResult),
        description: `Launch and terminate results of cluster ${cluster.name}'s ASGs`,
        eventPattern: {
          source: ['aws.autoscaling'],
          detailType: [
            'EC2 Instance Launch Successful',
            'EC2 Instance Launch Unsuccessful',
            'EC2 Instance Terminate Successful',
            'EC2 Instance Terminate Unsuccessful',
          ],
          detail: { AutoScalingGroupName: asgs },
        },
        targets: [target],
      });
    }

    if (Object.keys(cluster.nodeSource.tagFilters).length > 0) {
      rules.ec2State = new Rule(this, 'InstanceStateChanges', {
        ruleName: name(RULE_KINDS.ec2State),
        description: `EC2 state changes, for cluster ${cluster.name}'s tag-based node source`,
        eventPattern: { source: ['aws.ec2'], detailType: ['EC2 Instance State-change Notification'] },
        targets: [target],
      });
    }

    rules.spot = new Rule(this, 'SpotSignals', {
      ruleName: name(RULE_KINDS.spot),
      description: `Spot interruption warnings${props.rebalanceRecommendations ? ' and rebalance recommendations' : ''} for cluster ${cluster.name}`,
      eventPattern: {
        source: ['aws.ec2'],
        detailType: [
          'EC2 Spot Instance Interruption Warning',
          ...(props.rebalanceRecommendations ? ['EC2 Instance Rebalance Recommendation'] : []),
        ],
      },
      targets: [target],
    });
    this.rules = rules;
  }
}
