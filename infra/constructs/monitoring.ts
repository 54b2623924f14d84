import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS, type MetricName } from '../../lambdas/domain/metric-names';
import { ALARM_DEFAULTS, PRODUCT } from '../constants';
import type { ResolvedTargetGroup } from './cluster-load-balancer';

/** What the monitoring needs to know about one cluster. */
export interface MonitoredCluster {
  /** The cluster name (the EMF `cluster` dimension). */
  readonly name: string;
  /** The CloudWatch `LoadBalancer` dimension, when the NLB is known. */
  readonly loadBalancerMetricName?: string;
  /** Its target groups. */
  readonly targetGroups: readonly ResolvedTargetGroup[];
  /**
   * Whether it has configured ASGs: only then can a lifecycle action be held or an ASG be missing,
   * so only then do the lifecycle and missing-node-source alarms exist.
   */
  readonly hasAutoScalingGroups: boolean;
}

/** Properties of {@link Monitoring}. */
export interface MonitoringProps {
  /** The clusters. */
  readonly clusters: readonly MonitoredCluster[];
  /** The product's functions, by display name. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** The lane, for its depth and age. */
  readonly laneQueue: IQueue;
  /** The wait queue: its delayed messages are the held lifecycle actions. */
  readonly waitQueue: IQueue;
  /** Dead-letter queues, by display name; any message in one raises an alarm. */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
  /** Email addresses subscribed to the alarm topic. */
  readonly alarmEmails: readonly string[];
}

const PERIOD = Duration.minutes(ALARM_DEFAULTS.periodMinutes);
const FIVE_MINUTES = Duration.minutes(5);

function elbMetric(metricName: string, dimensions: Record<string, string>, statistic: string): Metric {
  return new Metric({
    namespace: 'AWS/NetworkELB',
    metricName,
    dimensionsMap: dimensions,
    statistic,
    period: PERIOD,
  });
}

/**
 * The dimensions of every product metric. Powertools adds `service` to every EMF metric and the product
 * adds `cluster`; CloudWatch matches the whole dimension set, so alarms must name exactly these
 * (test/infra/product-metrics.test.ts compares them with what Powertools prints).
 */
export function productDimensions(cluster: string): Record<string, string> {
  return { [PRODUCT.serviceDimension]: PRODUCT.serviceName, [PRODUCT.clusterDimension]: cluster };
}

function productMetric(
  metricName: MetricName,
  cluster: string,
  statistic = 'Sum',
  period = FIVE_MINUTES,
): Metric {
  return new Metric({
    namespace: PRODUCT.metricsNamespace,
    metricName,
    dimensionsMap: productDimensions(cluster),
    statistic,
    period,
  });
}

/**
 * A Metrics Insights query summing one product metric over every cluster, `(none)` included (events
 * that name no cluster). A plain alarm matches one dimension set, i.e. one cluster; metric math over
 * the clusters is capped at 10 metrics per alarm. `SCHEMA` matches exactly {@link productDimensions}'
 * keys, so the query stays tied to what the product emits. Every identifier is double-quoted.
 */
export function allClustersQuery(metricName: MetricName): string {
  const keys = Object.keys(productDimensions(''))
    .sort()
    .map((key) => `"${key}"`)
    .join(', ');
  return (
    `SELECT SUM("${metricName}") FROM SCHEMA("${PRODUCT.metricsNamespace}", ${keys}) ` +
    `WHERE "${PRODUCT.serviceDimension}" = '${PRODUCT.serviceName}'`
  );
}

/** CloudWatch's hard limit of metrics in one metric-math alarm. */
export const METRICS_PER_MATH_ALARM = 10;

/** One target group's health metrics, as its cluster's alarms read them. */
export interface GroupHealthMetrics {
  /** The mapping's name (the graph label). */
  readonly label: string;
  /** HealthyHostCount, minimum. */
  readonly healthy: IMetric;
  /** UnHealthyHostCount, maximum. */
  readonly unhealthy: IMetric;
}

/** One target-health alarm of a cluster over a few of its groups: its id suffix, groups and expression. */
export interface GroupHealthAlarm {
  readonly kind: 'NoHealthyTarget' | 'AboutToFailOpen' | 'UnhealthyTargets';
  /** The mappings it watches, in config order. */
  readonly labels: readonly string[];
  /** Its metric math: the number of watched groups in the condition, per minute. */
  readonly expression: MathExpression;
}

/**
 * The target-health alarms of one cluster, each over as many groups as CloudWatch's 10 metrics of a
 * metric-math alarm allow (SEARCH cannot feed an alarm, and one alarm per group made 4 clusters of 50
 * groups pass CloudFormation's 500 resources). Each expression counts the watched groups in the condition;
 * a missing data point counts as not in it (FILL), as the per-group alarms treated missing data.
 * - NoHealthyTarget: HealthyHostCount < 1 (10 groups an alarm).
 * - AboutToFailOpen: HealthyHostCount <= 1 while UnHealthyHostCount > 0 (5 groups: two metrics each).
 * - UnhealthyTargets: UnHealthyHostCount > 0 (10 groups).
 */
export function groupHealthAlarms(groups: readonly GroupHealthMetrics[]): GroupHealthAlarm[] {
  const chunks = <T>(items: readonly T[], size: number): T[][] =>
    Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
  const build = (
    kind: GroupHealthAlarm['kind'],
    size: number,
    term: (i: number) => string,
    uses: (group: GroupHealthMetrics, i: number) => Record<string, IMetric>,
  ): GroupHealthAlarm[] =>
    chunks(groups, size).map((chunk) => ({
      kind,
      labels: chunk.map((g) => g.label),
      expression: new MathExpression({
        expression: chunk.map((_, i) => term(i)).join(' + '),
        usingMetrics: Object.assign({}, ...chunk.map((g, i) => uses(g, i))) as Record<string, IMetric>,
        period: PERIOD,
      }),
    }));
  const both = (g: GroupHealthMetrics, i: number) => ({ [`h${i}`]: g.healthy, [`u${i}`]: g.unhealthy });
  return [
    ...build(
      'NoHealthyTarget',
      METRICS_PER_MATH_ALARM,
      (i) => `IF(FILL(h${i}, 1) < 1, 1, 0)`,
      (g, i) => ({ [`h${i}`]: g.healthy }),
    ),
    ...build(
      'AboutToFailOpen',
      METRICS_PER_MATH_ALARM / 2,
      (i) => `IF(FILL(h${i}, 2) <= 1 AND FILL(u${i}, 0) > 0, 1, 0)`,
      both,
    ),
    ...build(
      'UnhealthyTargets',
      METRICS_PER_MATH_ALARM,
      (i) => `IF(FILL(u${i}, 0) > 0, 1, 0)`,
      (g, i) => ({ [`u${i}`]: g.unhealthy }),
    ),
  ];
}

function allClustersMetric(metricName: MetricName): MathExpression {
  return new MathExpression({
    expression: allClustersQuery(metricName),
    label: metricName,
    period: FIVE_MINUTES,
  });
}

/**
 * The dashboard and alarms. Alarms go to an SNS topic encrypted with a customer managed key that
 * CloudWatch may use (the AWS managed SNS key does not let CloudWatch publish).
 */
export class Monitoring extends Construct {
  /** The alarm topic. */
  public readonly topic: Topic;
  /** The dashboard. */
  public readonly dashboard: Dashboard;
  /** Every alarm. */
  public readonly alarms: Alarm[] = [];

  public constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const key = new Key(this, 'TopicKey', {
      enableKeyRotation: true,
      description: `Encrypts the ${PRODUCT.serviceName} alarm topic`,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: `${PRODUCT.serviceName} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    for (const email of props.alarmEmails) this.topic.addSubscription(new EmailSubscription(email));
    const action = new SnsAction(this.topic);
    const alarm = (
      alarmId: string,
      description: string,
      metric: IMetric,
      threshold: number,
      periods = 1,
    ): Alarm => {
      const created = new Alarm(this, alarmId, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: periods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      this.alarms.push(created);
      return created;
    };

    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# ${PRODUCT.serviceName}\nTarget health, NLB traffic, the product's own metrics and held lifecycle actions per cluster, then events, the functions and the queues.`,
        width: 24,
        height: 2,
      }),
    );

    for (const cluster of props.clusters) {
      this.addCluster(cluster, alarm);
    }

    // Events are counted under the cluster they name, or `(none)`: these sum every cluster.
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Events (all clusters): rejected, abandoned, skipped',
        left: [
          allClustersMetric(METRICS.eventsRejected),
          allClustersMetric(METRICS.eventsAbandoned),
          allClustersMetric(METRICS.eventsSkipped),
        ],
        width: 24,
      }),
    );
    alarm(
      'EventsRejected',
      'An event could never be processed (malformed): it was logged with its body and dropped, a person should look',
      allClustersMetric(METRICS.eventsRejected),
      1,
    );
    alarm(
      'EventsAbandoned',
      'An event could not be applied after every retry: it was logged with its body, the next scheduled pass catches up',
      allClustersMetric(METRICS.eventsAbandoned),
      1,
    );

    const functions = Object.entries(props.functions);
    const fnMetric = (fn: IFunction, name: string, statistic: string) =>
      fn.metric(name, { statistic, period: FIVE_MINUTES });
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Functions: invocations and errors',
        left: functions.map(([, fn]) => fnMetric(fn, 'Invocations', 'Sum')),
        right: functions.map(([, fn]) => fnMetric(fn, 'Errors', 'Sum')),
        width: 8,
      }),
      new GraphWidget({
        title: 'Functions: duration p99 (ms)',
        left: functions.map(([, fn]) => fnMetric(fn, 'Duration', 'p99')),
        width: 8,
      }),
      new GraphWidget({
        title: 'Functions: throttles',
        left: functions.map(([, fn]) => fnMetric(fn, 'Throttles', 'Sum')),
        width: 8,
      }),
    );
    for (const [name, fn] of functions) {
      alarm(
        `${name}Errors`,
        `Function ${name} failed at least once in 5 minutes`,
        fnMetric(fn, 'Errors', 'Sum'),
        1,
      );
    }

    const dlqs = Object.entries(props.deadLetterQueues);
    const depth = (queue: IQueue) =>
      queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: FIVE_MINUTES });
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Dead-letter queues: messages',
        left: dlqs.map(([, queue]) => depth(queue)),
        width: 8,
      }),
      new GraphWidget({
        title: 'Lane: depth and oldest message (s)',
        left: [depth(props.laneQueue)],
        right: [
          props.laneQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: FIVE_MINUTES }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Wait queue: held actions (delayed) and due re-checks (visible)',
        left: [
          props.waitQueue
            .metricApproximateNumberOfMessagesDelayed({ statistic: 'Maximum', period: FIVE_MINUTES })
            .with({ label: 'delayed (held)' }),
          depth(props.waitQueue).with({ label: 'visible (due)' }),
        ],
        right: [
          props.waitQueue
            .metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: FIVE_MINUTES })
            .with({ label: 'oldest (s)' }),
        ],
        width: 8,
      }),
    );
    for (const [name, queue] of dlqs) {
      alarm(`${name}NotEmpty`, `Dead-letter queue ${name} holds messages that keep failing`, depth(queue), 1);
    }
  }

  private addCluster(
    cluster: MonitoredCluster,
    alarm: (id: string, description: string, metric: IMetric, threshold: number, periods?: number) => Alarm,
  ): void {
    const lb = cluster.loadBalancerMetricName;
    const title = (what: string) => `${cluster.name}: ${what}`;
    const healthy: IMetric[] = [];
    const unhealthy: IMetric[] = [];
    const watched: GroupHealthMetrics[] = [];
    for (const group of cluster.targetGroups) {
      const label = group.mapping.name;
      if (lb === undefined) {
        // Without the NLB the exact dimensions are unknown: a search fills the graph, not an alarm.
        const search = (metricName: string) =>
          new MathExpression({
            expression: `SEARCH('{AWS/NetworkELB,LoadBalancer,TargetGroup} MetricName="${metricName}" "${group.metricName}"', 'Minimum', 60)`,
            label,
            period: PERIOD,
          });
        healthy.push(search('HealthyHostCount'));
        unhealthy.push(search('UnHealthyHostCount'));
        continue;
      }
      const dimensions = { LoadBalancer: lb, TargetGroup: group.metricName };
      const h = elbMetric('HealthyHostCount', dimensions, 'Minimum').with({ label });
      const u = elbMetric('UnHealthyHostCount', dimensions, 'Maximum').with({ label });
      healthy.push(h);
      unhealthy.push(u);
      watched.push({ label, healthy: h, unhealthy: u });
    }
    // A few alarms per cluster, each over up to 10 metrics; the description names the groups it watches
    // and the dashboard's per-group graphs show which one is in the condition.
    const all = groupHealthAlarms(watched);
    for (const health of all) {
      const ofKind = all.filter((a) => a.kind === health.kind);
      const part = ofKind.length > 1 ? `-${ofKind.indexOf(health) + 1}` : '';
      const groups = `Target group(s) ${health.labels.join(', ')} of cluster ${cluster.name}`;
      const see = `; the value is how many; the dashboard's "${cluster.name}: healthy targets" and "unhealthy targets" graphs show which`;
      const [description, periods] =
        health.kind === 'NoHealthyTarget'
          ? [`${groups}: at least one has no healthy target: the NLB fails open or drops traffic${see}`, 2]
          : health.kind === 'AboutToFailOpen'
            ? [
                `${groups}: at least one is down to its last healthy target while others fail: the NLB is about to fail open${see}`,
                2,
              ]
            : [
                `${groups}: at least one has had unhealthy targets for ${ALARM_DEFAULTS.unhealthyMinutes} minutes${see}`,
                ALARM_DEFAULTS.unhealthyMinutes / ALARM_DEFAULTS.periodMinutes,
              ];
      alarm(`${cluster.name}-${health.kind}${part}`, description, health.expression, 1, periods);
    }
    const nlb = (metricName: string, statistic: string) =>
      lb === undefined
        ? []
        : [elbMetric(metricName, { LoadBalancer: lb }, statistic).with({ period: FIVE_MINUTES })];
    this.dashboard.addWidgets(
      new GraphWidget({ title: title('healthy targets'), left: healthy, width: 6 }),
      new GraphWidget({ title: title('unhealthy targets'), left: unhealthy, width: 6 }),
      new GraphWidget({
        title: title('NLB flows and resets'),
        left: [...nlb('ActiveFlowCount', 'Average'), ...nlb('NewFlowCount', 'Sum')],
        right: [
          ...nlb('TCP_Client_Reset_Count', 'Sum'),
          ...nlb('TCP_Target_Reset_Count', 'Sum'),
          ...nlb('TCP_ELB_Reset_Count', 'Sum'),
        ],
        width: 6,
      }),
      new GraphWidget({ title: title('NLB processed bytes'), left: nlb('ProcessedBytes', 'Sum'), width: 6 }),
    );
    const metric = (name: MetricName, statistic?: string) => productMetric(name, cluster.name, statistic);
    this.dashboard.addWidgets(
      new GraphWidget({
        title: title('targets registered / deregistered / rejected'),
        left: [
          metric(METRICS.targetsRegistered),
          metric(METRICS.targetsDeregistered),
          metric(METRICS.targetsRejected),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: title(
          'drift, guard refusals and overrides, quota refusals, failed passes, missing node sources',
        ),
        left: [
          metric(METRICS.driftFound),
          metric(METRICS.guardRefusals),
          metric(METRICS.guardOverrides),
          metric(METRICS.quotaRefusals),
          metric(METRICS.passFailures),
          metric(METRICS.missingNodeSources),
        ],
        width: 8,
      }),
      new SingleValueWidget({
        title: title('pass duration p99 (ms)'),
        metrics: [metric(METRICS.passDuration, 'p99')],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: title('lifecycle actions answered / wait timeouts / failed re-checks'),
        left: [
          metric(METRICS.lifecycleActionsAnswered),
          metric(METRICS.lifecycleWaitTimeouts),
          metric(METRICS.lifecycleCheckFailures),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: title('lifecycle hold (s): p99 and maximum'),
        left: [metric(METRICS.lifecycleHoldSeconds, 'p99'), metric(METRICS.lifecycleHoldSeconds, 'Maximum')],
        width: 8,
      }),
      new GraphWidget({
        title: title('drain marks written'),
        left: [metric(METRICS.drainMarksWritten)],
        width: 8,
      }),
    );
    alarm(
      `${cluster.name}-GuardRefusals`,
      `A safety guard refused deregistrations of cluster ${cluster.name}: they wait (the rest of the plan was applied); a person should look`,
      metric(METRICS.guardRefusals),
      1,
    );
    // A failed pass no longer fails the invocation (the function error alarm misses it): count it here.
    alarm(
      `${cluster.name}-PassFailures`,
      `A pass of cluster ${cluster.name} failed: targets, rules or records may be out of step until a pass succeeds`,
      metric(METRICS.passFailures),
      1,
    );
    if (!cluster.hasAutoScalingGroups) return;
    alarm(
      `${cluster.name}-LifecycleWaitTimeouts`,
      `A held lifecycle action of cluster ${cluster.name} hit its bound (a launch never got healthy, or draining outlasted its limit) and was answered with the configured timeout result`,
      metric(METRICS.lifecycleWaitTimeouts),
      1,
    );
    alarm(
      `${cluster.name}-MissingNodeSources`,
      `A configured Auto Scaling group of cluster ${cluster.name} does not exist: its nodes are not synced (the rest of the cluster is)`,
      metric(METRICS.missingNodeSources),
      1,
    );
  }
}
