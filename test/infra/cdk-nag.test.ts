import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { FIXTURES, type Synthesized, synthesize } from './synth-helpers';

function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}

describe('Class: AwsSolutionsChecks', () => {
  describe.each([
    ['imported load balancer', FIXTURES.import],
    ['created load balancer', FIXTURES.create],
  ])('Method: validateScope (%s)', (_mode, fixture) => {
    let synthesized: Synthesized;
    beforeAll(() => {
      synthesized = synthesize(fixture);
    });

    it('leaves zero findings unanswered', () => {
      // Prepare
      const checks = new AwsSolutionsChecks();

      // Act
      const report = checks.validateScope(synthesized.stack);

      // Assess
      expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources[0]?.constructPath}`)).toEqual(
        [],
      );
      expect(report.success).toBe(true);
    });

    it('gives every acknowledgement a reason', () => {
      // Prepare & Act
      const acks = acknowledgements(synthesized.stack);

      // Assess
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) expect(ack.reason.length).toBeGreaterThan(30);
    });
  });
});
