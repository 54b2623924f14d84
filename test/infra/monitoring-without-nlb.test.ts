import { FIXTURES, synthesize } from './synth-helpers';

describe('Class: NlbNodeportSyncStack', () => {
  describe('Method: constructor (imported target groups, NLB ARN not given)', () => {
    const { template } = synthesize(FIXTURES.noArn);

    it('raises no target-health alarm it could not scope to the NLB, but keeps the others', () => {
      // Act
      const descriptions = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
        (alarm) => alarm.Properties.AlarmDescription as string,
      );
      // Assess: guard, failed passes, lifecycle waits, missing ASGs; 2 event alarms; 1 function; 3 DLQs;
      // and no per-group health alarm.
      expect(descriptions).toHaveLength(10);
      expect(descriptions.filter((d) => d.includes('Target group'))).toEqual([]);
      expect(descriptions.filter((d) => d.includes('safety guard refused'))).toHaveLength(1);
    });

    it('charts the group health with a metric search on the dashboard instead', () => {
      // Act
      const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
      const body = JSON.stringify(dashboard?.Properties.DashboardBody);
      // Assess
      expect(body).toContain('SEARCH(');
      expect(body).toContain('targetgroup/bare-tcp/a3e2d6bc24d8a067');
    });
  });
});
