import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { createMetrics } from '../../lambdas/runtime/telemetry';
import { FIXTURES, synthesize } from './synth-helpers';

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
  });
});
