import { Template } from 'aws-cdk-lib/assertions';
import { createSyncApp } from '../../infra/app';
import { METRICS_PER_MATH_ALARM } from '../../infra/constructs/monitoring';
import { largeConfig } from './large-config';
import { FIXTURES, synthesize } from './synth-helpers';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
/** CloudFormation's limit of resources in one stack. */
const CLOUDFORMATION_RESOURCE_LIMIT = 500;

interface MetricDataQuery {
  readonly Id: string;
  readonly Expression?: string;
  readonly MetricStat?: {
    readonly Metric: {
      readonly MetricName: string;
      readonly Namespace: string;
      readonly Dimensions: readonly { readonly Name: string; readonly Value: unknown }[];
    };
    readonly Stat: string;
  };
}

interface AlarmProperties {
  readonly AlarmDescription: string;
  readonly Metrics?: readonly MetricDataQuery[];
  readonly Threshold: number;
  readonly EvaluationPeriods: number;
  readonly ComparisonOperator: string;
}

function alarmsOf(template: Template): AlarmProperties[] {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
    (alarm) => alarm.Properties as AlarmProperties,
  );
}

const KINDS = {
  NoHealthyTarget: 'has no healthy target',
  AboutToFailOpen: 'about to fail open',
  UnhealthyTargets: 'unhealthy targets for 15 minutes',
} as const;

function targetGroupsOf(alarm: AlarmProperties): string[] {
  return (alarm.Metrics ?? []).flatMap((q) =>
    q.MetricStat === undefined
      ? []
      : q.MetricStat.Metric.Dimensions.filter((d) => d.Name === 'TargetGroup').map((d) => String(d.Value)),
  );
}

describe('Monitoring at the full size: 4 clusters x 50 port mappings with loadBalancer.arn', () => {
  const config = largeConfig({ clusters: 4, mappingsPerCluster: 50, loadBalancerArn: true });
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(createSyncApp({ config, appProps: { context: NO_BUNDLING } }).stack);
  }, 120_000);

  it("stays well under CloudFormation's 500 resources", () => {
    // Act
    const resources = Object.keys(template.toJSON().Resources as Record<string, unknown>).length;

    // Assess: one alarm per group and condition made 676; at most 80% of the limit leaves room to grow.
    expect(resources).toBeLessThan(CLOUDFORMATION_RESOURCE_LIMIT * 0.8);
  });

  it("keeps the template well under CloudFormation's 1 MB, as cdk writes it", () => {
    // Act: cdk writes the template with a one-space indent; CloudFormation takes at most 1 MB from S3.
    const bytes = Buffer.byteLength(JSON.stringify(template.toJSON(), undefined, 1));

    // Assess: measured 742 KB (the 80 target-health alarms' metrics are most of it).
    expect(bytes).toBeLessThan(0.9 * 1024 * 1024);
  });

  it('keeps every target-health alarm within 10 metrics and free of SEARCH', () => {
    // Act
    const health = alarmsOf(template).filter((a) =>
      a.Metrics?.some((q) => q.MetricStat?.Metric.Namespace === 'AWS/NetworkELB'),
    );

    // Assess: per cluster 5 + 10 + 5 alarms instead of 150.
    expect(health).toHaveLength(4 * (5 + 10 + 5));
    for (const alarm of health) {
      const metrics = (alarm.Metrics ?? []).filter((q) => q.MetricStat !== undefined);
      expect(metrics.length).toBeLessThanOrEqual(METRICS_PER_MATH_ALARM);
      expect(JSON.stringify(alarm.Metrics)).not.toContain('SEARCH');
      expect(alarm.Metrics?.filter((q) => q.Expression !== undefined)).toHaveLength(1);
    }
  });

  it('watches every target group under every condition exactly once, naming its mappings', () => {
    // Prepare
    const alarms = alarmsOf(template);

    for (const [c, cluster] of config.clusters.entries()) {
      const groups = cluster.portMappings.map((m) => (m.targetGroupArn ?? '').split(':').at(-1) ?? '');
      for (const [kind, phrase] of Object.entries(KINDS)) {
        // Act
        const ofKind = alarms.filter(
          (a) =>
            a.AlarmDescription.includes(phrase) && a.AlarmDescription.includes(`of cluster cluster-${c}:`),
        );

        // Assess
        const watched = ofKind.flatMap(targetGroupsOf);
        expect({ kind, watched: [...new Set(watched)].sort() }).toEqual({
          kind,
          watched: [...groups].sort(),
        });
        expect(watched).toHaveLength(kind === 'AboutToFailOpen' ? 100 : 50);
        for (const alarm of ofKind) {
          const named = alarm.AlarmDescription.match(/^Target group\(s\) (.*) of cluster/)?.[1]?.split(', ');
          const mappings = cluster.portMappings.filter((m) =>
            targetGroupsOf(alarm).includes((m.targetGroupArn ?? '').split(':').at(-1) ?? ''),
          );
          expect(named).toEqual(mappings.map((m) => m.name));
        }
      }
    }
  });
});

describe('Monitoring: the target-health alarms of a small cluster', () => {
  it('count the groups in each condition, missing data counting as not in it', () => {
    // Prepare: prod has two mappings (http, https)
    const { template } = synthesize(FIXTURES.import);

    // Act
    const prod = alarmsOf(template).filter((a) =>
      a.AlarmDescription.startsWith('Target group(s) http, https of cluster prod:'),
    );
    const expressionOf = (phrase: string) => {
      const alarm = prod.find((a) => a.AlarmDescription.includes(phrase));
      return {
        expression: alarm?.Metrics?.find((q) => q.Expression !== undefined)?.Expression,
        threshold: alarm?.Threshold,
        periods: alarm?.EvaluationPeriods,
        operator: alarm?.ComparisonOperator,
        metrics: (alarm?.Metrics ?? [])
          .filter((q) => q.MetricStat !== undefined)
          .map((q) => {
            const group = q.MetricStat?.Metric.Dimensions.find((d) => d.Name === 'TargetGroup')?.Value;
            return `${q.Id} ${q.MetricStat?.Metric.MetricName} ${q.MetricStat?.Stat} ${String(group).split('/')[1]}`;
          }),
      };
    };

    // Assess
    expect(prod).toHaveLength(3);
    expect(expressionOf(KINDS.NoHealthyTarget)).toEqual({
      expression: 'IF(FILL(h0, 1) < 1, 1, 0) + IF(FILL(h1, 1) < 1, 1, 0)',
      threshold: 1,
      periods: 2,
      operator: 'GreaterThanOrEqualToThreshold',
      metrics: ['h0 HealthyHostCount Minimum prod-http', 'h1 HealthyHostCount Minimum prod-https'],
    });
    expect(expressionOf(KINDS.AboutToFailOpen)).toEqual({
      expression:
        'IF(FILL(h0, 2) <= 1 AND FILL(u0, 0) > 0, 1, 0) + IF(FILL(h1, 2) <= 1 AND FILL(u1, 0) > 0, 1, 0)',
      threshold: 1,
      periods: 2,
      operator: 'GreaterThanOrEqualToThreshold',
      metrics: expect.arrayContaining([
        'h0 HealthyHostCount Minimum prod-http',
        'u0 UnHealthyHostCount Maximum prod-http',
        'h1 HealthyHostCount Minimum prod-https',
        'u1 UnHealthyHostCount Maximum prod-https',
      ]),
    });
    expect(expressionOf(KINDS.UnhealthyTargets)).toEqual({
      expression: 'IF(FILL(u0, 0) > 0, 1, 0) + IF(FILL(u1, 0) > 0, 1, 0)',
      threshold: 1,
      periods: 15,
      operator: 'GreaterThanOrEqualToThreshold',
      metrics: ['u0 UnHealthyHostCount Maximum prod-http', 'u1 UnHealthyHostCount Maximum prod-https'],
    });
  }, 120_000);
});
