import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { allClustersQuery } from '../../infra/constructs/monitoring';
import { METRICS } from '../../lambdas/domain/metric-names';
import { createMetrics } from '../../lambdas/runtime/telemetry';
import { FIXTURES, type Synthesized, synthesize } from './synth-helpers';

type Properties = Record<string, unknown>;
interface AlarmDimension {
  Name: string;
  Value: string;
}
const NAMESPACE = 'NlbNodeportSync';
const KNOWN = new Set<string>(Object.values(METRICS));

function alarmsOf(synthesized: Synthesized): Properties[] {
  return Object.values(synthesized.template.findResources('AWS::CloudWatch::Alarm')).map(
    (alarm) => alarm.Properties as Properties,
  );
}

/** The alarm on a product metric of one cluster, if any. */
function clusterAlarm(alarms: Properties[], metricName: string, cluster: string): Properties | undefined {
  return alarms.find(
    (alarm) =>
      alarm.Namespace === NAMESPACE &&
      alarm.MetricName === metricName &&
      (alarm.Dimensions as AlarmDimension[]).some((d) => d.Name === 'cluster' && d.Value === cluster),
  );
}

/** The Metrics Insights expressions of every alarm. */
function insightsQueries(alarms: Properties[]): string[] {
  return alarms.flatMap((alarm) =>
    ((alarm.Metrics ?? []) as { Expression?: string }[])
      .map((metric) => metric.Expression ?? '')
      .filter((expression) => expression.startsWith('SELECT')),
  );
}

/** The dimension names of the EMF line the product prints for one pass metric, as deployed. */
function emittedDimensionNames(): string[] {
  // Prepare the environment the stack gives the function (POWERTOOLS_SERVICE_NAME).
  const previous = { ...process.env };
  process.env.POWERTOOLS_SERVICE_NAME = 'nlb-nodeport-sync';
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  delete process.env.POWERTOOLS_DEV;
  const lines: string[] = [];
  try {
    const metrics: Metrics = createMetrics();
    // Powertools writes EMF through a console of its own, not the global one.
    jest
      .spyOn((metrics as unknown as { console: Console }).console, 'log')
      .mockImplementation((line: string) => {
        lines.push(line);
      });
    metrics.addDimension('cluster', 'prod');
    metrics.addMetric('GuardRefusals', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  } finally {
    process.env = previous;
  }
  const emf = JSON.parse(lines[0] ?? '{}') as {
    _aws?: { CloudWatchMetrics?: { Dimensions?: string[][] }[] };
  };
  return [...(emf._aws?.CloudWatchMetrics?.[0]?.Dimensions?.[0] ?? [])].sort();
}

describe('Class: Monitoring', () => {
  describe('Method: constructor', () => {
    it('alarms on the exact dimension set the product emits, or CloudWatch would never match it', () => {
      // Prepare
      const { template } = synthesize(FIXTURES.import);
      const guard = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find(
        (alarm) => alarm.Properties.MetricName === 'GuardRefusals',
      );
      // Act
      const alarmDimensions = (guard?.Properties.Dimensions as { Name: string; Value: string }[]) ?? [];
      // Assess
      expect(alarmDimensions.map((d) => d.Name).sort()).toEqual(emittedDimensionNames());
      expect(alarmDimensions).toContainEqual({ Name: 'service', Value: 'nlb-nodeport-sync' });
    });

    it('gives every alarm on a product metric that same dimension set', () => {
      // Prepare
      const emitted = emittedDimensionNames();

      // Act
      const product = alarmsOf(synthesize(FIXTURES.import)).filter((alarm) => alarm.Namespace === NAMESPACE);

      // Assess
      expect(product.length).toBeGreaterThan(0);
      for (const alarm of product) {
        expect((alarm.Dimensions as AlarmDimension[]).map((d) => d.Name).sort()).toEqual(emitted);
      }
    });

    it('sums deployment-wide event alarms over exactly that dimension set (every cluster and "(none)")', () => {
      // Prepare
      const emitted = emittedDimensionNames();

      // Act
      const queries = insightsQueries(alarmsOf(synthesize(FIXTURES.import)));

      // Assess: SCHEMA(namespace, keys...) matches metrics with exactly these dimension keys.
      expect(queries.sort()).toEqual(
        [allClustersQuery(METRICS.eventsAbandoned), allClustersQuery(METRICS.eventsRejected)].sort(),
      );
      for (const query of queries) {
        const [, namespace, keys] = /FROM SCHEMA\("([^"]+)", (.*?)\)/.exec(query) ?? [];
        expect(namespace).toBe(NAMESPACE);
        expect(
          (keys ?? '')
            .split(', ')
            .map((key) => key.replace(/"/g, ''))
            .sort(),
        ).toEqual(emitted);
        expect(query).toContain(`WHERE "service" = 'nlb-nodeport-sync'`);
      }
    });
  });
});

describe('Class: Monitoring (product alarms)', () => {
  describe.each([
    ['imported load balancer', FIXTURES.import, ['prod', 'karpenter'], ['prod']],
    ['created load balancer', FIXTURES.create, ['edge'], ['edge']],
  ])('Method: constructor (%s)', (_mode, fixture, clusters, withAsgs) => {
    let alarms: Properties[];
    let dashboard: string;
    beforeAll(() => {
      const synthesized = synthesize(fixture);
      alarms = alarmsOf(synthesized);
      const [board] = Object.values(synthesized.template.findResources('AWS::CloudWatch::Dashboard'));
      dashboard = JSON.stringify(synthesized.stack.resolve(board?.Properties.DashboardBody));
    });

    it('alarms on failed passes and guard refusals of every cluster', () => {
      // Act & Assess
      for (const cluster of clusters) {
        expect(clusterAlarm(alarms, METRICS.passFailures, cluster)).toBeDefined();
        expect(clusterAlarm(alarms, METRICS.guardRefusals, cluster)).toBeDefined();
      }
    });

    it('alarms on lifecycle wait timeouts and missing node sources of every cluster with ASGs, only', () => {
      // Act & Assess
      for (const cluster of clusters) {
        const expected = withAsgs.includes(cluster);
        expect(clusterAlarm(alarms, METRICS.lifecycleWaitTimeouts, cluster) !== undefined).toBe(expected);
        expect(clusterAlarm(alarms, METRICS.missingNodeSources, cluster) !== undefined).toBe(expected);
      }
    });

    it('alarms once per deployment on rejected and abandoned events, and on the wait DLQ', () => {
      // Prepare
      const descriptions = alarms.map((alarm) => alarm.AlarmDescription as string);

      // Act
      const queries = insightsQueries(alarms);

      // Assess
      expect(queries.filter((q) => q.includes(`SUM("${METRICS.eventsRejected}")`))).toHaveLength(1);
      expect(queries.filter((q) => q.includes(`SUM("${METRICS.eventsAbandoned}")`))).toHaveLength(1);
      expect(descriptions.filter((d) => d.startsWith('Dead-letter queue WaitDLQ'))).toHaveLength(1);
    });

    it('names only metrics the product emits (METRICS), in alarms and on the dashboard', () => {
      // Prepare
      const inAlarms = alarms.filter((a) => a.Namespace === NAMESPACE).map((a) => a.MetricName as string);
      const inQueries = insightsQueries(alarms).map((q) => /SUM\("([^"]+)"\)/.exec(q)?.[1] ?? q);

      // Act: dashboard metrics are arrays ["NlbNodeportSync", "<name>", ...] inside the JSON body.
      const onDashboard = [...dashboard.matchAll(/\\"NlbNodeportSync\\",\\"([^"\\]+)\\"/g)].map((m) => m[1]);

      // Assess
      expect(onDashboard.length).toBeGreaterThan(0);
      for (const name of [...inAlarms, ...inQueries, ...onDashboard]) expect(KNOWN).toContain(name);
    });
  });
});
