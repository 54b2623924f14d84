import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { parseSyncConfigText } from '../../lambdas/domain/config';
import { METRICS } from '../../lambdas/domain/metric-names';
import { FIXTURES, type Synthesized, synthesize } from './synth-helpers';

describe('Class: NlbNodeportSyncStack', () => {
  describe('Method: constructor (imported load balancer, two clusters)', () => {
    let synthesized: Synthesized;
    beforeAll(() => {
      synthesized = synthesize(FIXTURES.import);
    });

    it('builds one Node.js 22 arm64 function with active tracing and its own log group', () => {
      // Prepare
      const { template } = synthesized;

      // Act
      const functions = template.findResources('AWS::Lambda::Function');

      // Assess
      expect(Object.keys(functions)).toHaveLength(1);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.anyValue() } },
        Environment: {
          Variables: Match.objectLike({
            POWERTOOLS_SERVICE_NAME: 'nlb-nodeport-sync',
            POWERTOOLS_METRICS_NAMESPACE: 'NlbNodeportSync',
            NODE_OPTIONS: '--enable-source-maps',
          }),
        },
      });
      template.resourceCountIs('AWS::Logs::LogGroup', 1);
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });

    it('bundles the validated config with the code and names the file in NLB_SYNC_CONFIG_BUNDLED', () => {
      // Prepare
      const { template, stack } = synthesized;
      const expected = parseSyncConfigText(readFileSync(FIXTURES.import, 'utf8'), 'fixture');

      // Act
      const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
      const variables = fn?.Properties.Environment.Variables as Record<string, unknown>;

      // Assess: import mode has no deploy-time values; the config is not in the environment.
      expect(variables.NLB_SYNC_CONFIG_BUNDLED).toBe('sync.config.json');
      expect(variables.NLB_SYNC_CONFIG).toBeUndefined();
      expect(variables.NLB_SYNC_CONFIG_REFS).toBeUndefined();
      expect(parseSyncConfigText(stack.configDelivery.fileText, 'bundled')).toEqual(expected);
    });

    it('tells the function where its wait queue and its lane are, by URL', () => {
      // Prepare
      const { template, stack } = synthesized;
      const wait = stack.getLogicalId(stack.waitQueue.queue.node.defaultChild as CfnQueue);
      const lane = stack.getLogicalId(stack.lane.queue.node.defaultChild as CfnQueue);

      // Act
      const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
      const variables = fn?.Properties.Environment.Variables as Record<string, unknown>;

      // Assess
      expect(variables.NLB_SYNC_WAIT_QUEUE_URL).toEqual({ Ref: wait });
      expect(variables.NLB_SYNC_LANE_QUEUE_URL).toEqual({ Ref: lane });
    });

    it('serializes passes per cluster through one FIFO lane consumed one message at a time', () => {
      // Prepare
      const { template, stack } = synthesized;
      const lane = stack.getLogicalId(stack.lane.queue.node.defaultChild as CfnQueue);

      // Act
      const queues = template.findResources('AWS::SQS::Queue');

      // Assess: lane + its DLQ, event DLQ, wait queue + its DLQ.
      expect(Object.keys(queues)).toHaveLength(5);
      template.hasResourceProperties('AWS::SQS::Queue', {
        FifoQueue: true,
        ContentBasedDeduplication: true,
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
        VisibilityTimeout: 360,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 3 },
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [lane, 'Arn'] },
        BatchSize: 1,
      });
    });

    it('re-checks held lifecycle actions through a standard wait queue consumed by the same function', () => {
      // Prepare
      const { template, stack } = synthesized;
      const wait = stack.getLogicalId(stack.waitQueue.queue.node.defaultChild as CfnQueue);
      const waitDlq = stack.getLogicalId(stack.waitQueue.deadLetterQueue.node.defaultChild as CfnQueue);
      const fn = stack.getLogicalId(stack.passFunction.function.node.defaultChild as CfnFunction);

      // Act
      const waitQueue = template.findResources('AWS::SQS::Queue')[wait];
      const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));

      // Assess: standard (per-message DelaySeconds), 2x the 60 s timeout, SSE-SQS, own DLQ after 5 tries.
      expect(waitQueue?.Properties).toEqual({
        VisibilityTimeout: 120,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [waitDlq, 'Arn'] }, maxReceiveCount: 5 },
      });
      expect(mappings).toHaveLength(2);
      for (const mapping of mappings) {
        expect(mapping.Properties).toMatchObject({ FunctionName: { Ref: fn }, BatchSize: 1 });
      }
      expect(mappings.map((m) => m.Properties.EventSourceArn['Fn::GetAtt'][0]).sort()).toEqual(
        [stack.getLogicalId(stack.lane.queue.node.defaultChild as CfnQueue), wait].sort(),
      );
    });

    it('refuses non-TLS access to every queue', () => {
      // Prepare
      const { template } = synthesized;

      // Act
      const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
      const denied = Object.values(template.findResources('AWS::SQS::QueuePolicy')).flatMap((policy) =>
        (policy.Properties.PolicyDocument.Statement as { Effect: string; Condition?: unknown }[])
          .filter((s) => s.Effect === 'Deny' && JSON.stringify(s.Condition).includes('aws:SecureTransport'))
          .flatMap(() => policy.Properties.Queues.map((q: { Ref: string }) => q.Ref)),
      );

      // Assess
      expect([...new Set(denied)].sort()).toEqual([...queues].sort());
    });

    it('encrypts the three dead-letter queues and keeps their messages 14 days', () => {
      // Prepare
      const { template } = synthesized;

      // Act
      const deadLetterQueues = Object.values(template.findResources('AWS::SQS::Queue')).filter(
        (queue) => queue.Properties.RedrivePolicy === undefined,
      );

      // Assess
      expect(deadLetterQueues).toHaveLength(3);
      for (const queue of deadLetterQueues) {
        expect(queue.Properties).toMatchObject({
          SqsManagedSseEnabled: true,
          MessageRetentionPeriod: 1209600,
        });
      }
    });

    it('creates one rule set per cluster, each target in the cluster message group', () => {
      // Prepare
      const { template, stack } = synthesized;
      const eventDlq = stack.getLogicalId(stack.lane.eventDeadLetterQueue.node.defaultChild as CfnQueue);
      const lane = stack.getLogicalId(stack.lane.queue.node.defaultChild as CfnQueue);

      // Act
      const rules = Object.values(template.findResources('AWS::Events::Rule'));
      const groups = rules.map((rule) => rule.Properties.Targets[0].SqsParameters.MessageGroupId);

      // Assess: prod = schedule, lifecycle, ASG results, spot; karpenter = schedule, EC2 state, spot.
      expect(rules).toHaveLength(7);
      expect(groups.filter((group) => group === 'prod')).toHaveLength(4);
      expect(groups.filter((group) => group === 'karpenter')).toHaveLength(3);
      for (const rule of rules) {
        expect(rule.Properties.Targets[0]).toMatchObject({
          Arn: { 'Fn::GetAtt': [lane, 'Arn'] },
          RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [eventDlq, 'Arn'] } },
        });
      }
    });

    it('matches lifecycle actions only of the configured ASGs and of its own hooks', () => {
      // Prepare
      const { template } = synthesized;

      // Act & Assess
      template.hasResourceProperties('AWS::Events::Rule', {
        Name: 'nlb-sync-test-prod-lifecycle',
        EventPattern: {
          source: ['aws.autoscaling'],
          'detail-type': ['EC2 Instance-launch Lifecycle Action', 'EC2 Instance-terminate Lifecycle Action'],
          detail: {
            AutoScalingGroupName: ['eks-prod-a', 'eks-prod-b'],
            LifecycleHookName: ['nlb-sync-test-prod-launch', 'nlb-sync-test-prod-terminate'],
          },
        },
      });
      template.hasResourceProperties('AWS::Events::Rule', {
        Name: 'nlb-sync-test-prod-asg-result',
        EventPattern: {
          source: ['aws.autoscaling'],
          'detail-type': Match.arrayWith([
            'EC2 Instance Launch Successful',
            'EC2 Instance Terminate Successful',
          ]),
          detail: { AutoScalingGroupName: ['eks-prod-a', 'eks-prod-b'] },
        },
      });
    });

    it('watches EC2 state changes only for the cluster with a tag-based node source', () => {
      // Prepare
      const { template } = synthesized;

      // Act
      const stateRules = Object.values(template.findResources('AWS::Events::Rule')).filter((rule) =>
        (rule.Properties.EventPattern?.['detail-type'] ?? []).includes(
          'EC2 Instance State-change Notification',
        ),
      );

      // Assess
      expect(stateRules).toHaveLength(1);
      expect(stateRules[0]?.Properties.Targets[0].SqsParameters.MessageGroupId).toBe('karpenter');
    });

    it('reacts to spot warnings and, when configured, rebalance recommendations', () => {
      // Prepare
      const { template } = synthesized;

      // Act & Assess
      template.hasResourceProperties('AWS::Events::Rule', {
        Name: 'nlb-sync-test-prod-spot',
        EventPattern: {
          source: ['aws.ec2'],
          'detail-type': ['EC2 Spot Instance Interruption Warning', 'EC2 Instance Rebalance Recommendation'],
        },
      });
    });

    it('schedules the full reconcile of each cluster with the configured expression', () => {
      // Prepare
      const { template } = synthesized;

      // Act
      const schedules = Object.values(template.findResources('AWS::Events::Rule')).filter(
        (rule) => rule.Properties.ScheduleExpression !== undefined,
      );

      // Assess
      expect(schedules).toHaveLength(2);
      for (const rule of schedules) expect(rule.Properties.ScheduleExpression).toBe('rate(10 minutes)');
    });

    it('adds a launch and a terminate hook to each configured ASG, with the lifecycle defaults', () => {
      // Prepare
      const { template } = synthesized;

      // Act
      const hooks = Object.values(template.findResources('AWS::AutoScaling::LifecycleHook'));

      // Assess
      expect(hooks).toHaveLength(4);
      for (const asg of ['eks-prod-a', 'eks-prod-b']) {
        template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
          AutoScalingGroupName: asg,
          LifecycleHookName: 'nlb-sync-test-prod-launch',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          HeartbeatTimeout: 300,
          DefaultResult: 'CONTINUE',
        });
        template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
          AutoScalingGroupName: asg,
          LifecycleHookName: 'nlb-sync-test-prod-terminate',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          HeartbeatTimeout: 360,
          DefaultResult: 'CONTINUE',
        });
      }
      for (const hook of hooks) expect(hook.Properties.NotificationTargetARN).toBeUndefined();
    });

    it('raises the alarms: target health, function errors, DLQs, guard refusals, failed passes, lifecycle, events', () => {
      // Prepare
      const { template } = synthesized;

      // Act
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
      const descriptions = alarms.map((alarm) => alarm.Properties.AlarmDescription as string);
      const onMetric = (name: string) => alarms.filter((alarm) => alarm.Properties.MetricName === name);

      // Assess: per cluster 3 target-health alarms (up to 10 metrics each: one covers both prod groups);
      // prod + guard, passes, lifecycle waits, missing ASGs; karpenter + guard, passes (no ASG: no
      // lifecycle or missing-ASG alarm); 1 function; 3 DLQs; 2 event alarms.
      expect(alarms).toHaveLength(18);
      expect(descriptions.filter((d) => d.includes('has no healthy target'))).toHaveLength(2);
      expect(descriptions.filter((d) => d.includes('about to fail open'))).toHaveLength(2);
      expect(descriptions.filter((d) => d.includes('unhealthy targets for 15 minutes'))).toHaveLength(2);
      expect(descriptions.filter((d) => d.includes('safety guard refused'))).toHaveLength(2);
      expect(descriptions.filter((d) => d.includes('Dead-letter queue'))).toHaveLength(3);
      expect(onMetric(METRICS.guardRefusals)).toHaveLength(2);
      expect(onMetric(METRICS.passFailures)).toHaveLength(2);
      expect(onMetric(METRICS.lifecycleWaitTimeouts)).toHaveLength(1);
      expect(onMetric(METRICS.missingNodeSources)).toHaveLength(1);
      for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toHaveLength(1);
    });

    it('sends alarms to a KMS-encrypted topic with the configured email subscriptions', () => {
      // Prepare
      const { template } = synthesized;

      // Act & Assess
      template.resourceCountIs('AWS::SNS::Topic', 1);
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      template.resourceCountIs('AWS::SNS::Subscription', 1);
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
      });
    });

    it('draws one dashboard with target health, NLB, function, queue and product metrics', () => {
      // Prepare
      const { template, stack } = synthesized;

      // Act
      const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
      const body = JSON.stringify(stack.resolve(dashboard?.Properties.DashboardBody));

      // Assess
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      for (const metric of [
        'HealthyHostCount',
        'UnHealthyHostCount',
        'ActiveFlowCount',
        'TCP_Target_Reset_Count',
        'ProcessedBytes',
        'Throttles',
        'ApproximateNumberOfMessagesVisible',
        'ApproximateNumberOfMessagesDelayed',
        ...Object.values(METRICS),
      ]) {
        expect(body).toContain(metric);
      }
    });

    it('outputs what docs/deploy.md checks, the wait queue and its DLQ included', () => {
      // Prepare
      const { template } = synthesized;

      // Act
      const outputs = Object.keys(template.findOutputs('*'));

      // Assess
      expect(outputs.sort()).toEqual(
        [
          'AlarmTopicArn',
          'DashboardName',
          'EventDeadLetterQueueUrl',
          'LaneDeadLetterQueueUrl',
          'LaneQueueUrl',
          'PassFunctionLogGroup',
          'PassFunctionName',
          'WaitDeadLetterQueueUrl',
          'WaitQueueUrl',
        ].sort(),
      );
    });

    it('creates no load balancer, target group or listener when they are imported', () => {
      // Prepare
      const { template } = synthesized;

      // Act & Assess
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 0);
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 0);
    });
  });
});
