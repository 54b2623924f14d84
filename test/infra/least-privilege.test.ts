import { asArray, FIXTURES, policyStatements, type Synthesized, synthesize } from './synth-helpers';

/** Actions that only read. */
const READ_ONLY = /^[a-z0-9-]+:(Describe|List|Get)[A-Za-z]*$/;
/** X-Ray writes support no resource-level permissions at all (AWS service authorization reference). */
const NO_RESOURCE_LEVEL = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);

function writesOnStar(synthesized: Synthesized): string[] {
  return policyStatements(synthesized.template)
    .filter(({ statement }) => statement.Effect === 'Allow')
    .flatMap(({ owner, statement }) => {
      const onStar = asArray(statement.Resource).some((resource) => resource === '*');
      if (!onStar) return [];
      return asArray(statement.Action)
        .filter((action) => !READ_ONLY.test(action) && !NO_RESOURCE_LEVEL.has(action))
        .map((action) => `${owner}: ${action}`);
    });
}

describe('Class: NlbNodeportSyncStack', () => {
  describe.each([
    ['imported load balancer', FIXTURES.import],
    ['created load balancer', FIXTURES.create],
  ])('Method: constructor (%s), least privilege', (_mode, fixture) => {
    let synthesized: Synthesized;
    beforeAll(() => {
      synthesized = synthesize(fixture);
    });

    it('grants no write action on Resource "*" in any policy', () => {
      // Prepare & Act
      const offending = writesOnStar(synthesized);

      // Assess
      expect(offending).toEqual([]);
    });

    it('scopes lifecycle answers to the configured ASGs by name', () => {
      // Prepare & Act
      const statement = policyStatements(synthesized.template).find(
        ({ statement }) => statement.Sid === 'AnswerConfiguredLifecycleHooks',
      )?.statement;

      // Assess
      expect(statement?.Action).toEqual([
        'autoscaling:CompleteLifecycleAction',
        'autoscaling:RecordLifecycleActionHeartbeat',
      ]);
      for (const resource of asArray(statement?.Resource)) {
        expect(JSON.stringify(resource)).toMatch(/autoScalingGroup:\*:autoScalingGroupName\/[a-z-]+"/);
      }
    });
  });

  describe('Method: constructor (imported load balancer), scoped writes', () => {
    let synthesized: Synthesized;
    beforeAll(() => {
      synthesized = synthesize(FIXTURES.import);
    });

    it('registers and deregisters targets only in the configured target groups', () => {
      // Prepare & Act
      const statement = policyStatements(synthesized.template).find(
        ({ statement }) => statement.Sid === 'WriteConfiguredTargetGroups',
      )?.statement;

      // Assess
      expect(asArray(statement?.Resource).sort()).toEqual([
        'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/karp-tcp/93e2d6bc24d8a067',
        'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/prod-http/73e2d6bc24d8a067',
        'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/prod-https/83e2d6bc24d8a067',
      ]);
    });

    it('changes configured security groups by id and discovered ones only when tagged for the cluster', () => {
      // Prepare
      const statements = policyStatements(synthesized.template).map(({ statement }) => statement);

      // Act
      const explicit = statements.find((s) => s.Sid === 'WriteConfiguredSecurityGroups');
      const tagged = statements.filter((s) => s.Sid?.startsWith('WriteTaggedSecurityGroups'));
      const kubernetes = statements.filter((s) => s.Sid?.startsWith('WriteKubernetesSecurityGroups'));

      // Assess
      expect(JSON.stringify(explicit?.Resource)).toContain('security-group/sg-0123456789abcdef0');
      expect(tagged).toHaveLength(1);
      expect(tagged[0]?.Condition).toEqual({
        StringEquals: { 'aws:ResourceTag/nlb-nodeport-sync/cluster': 'karpenter' },
      });
      expect(kubernetes[0]?.Condition).toEqual({
        StringLike: { 'aws:ResourceTag/kubernetes.io/cluster/karpenter': '*' },
      });
    });

    it('changes records only in the configured hosted zone and only of the types it manages', () => {
      // Prepare & Act
      const statement = policyStatements(synthesized.template).find(
        ({ statement }) => statement.Sid === 'WriteConfiguredHostedZones',
      )?.statement;

      // Assess
      expect(statement?.Action).toBe('route53:ChangeResourceRecordSets');
      expect(JSON.stringify(statement?.Resource)).toContain(':hostedzone/Z0123456789ABCDEFGHIJ');
      expect(statement?.Condition).toEqual({
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA', 'SRV', 'TXT'],
        },
      });
    });

    it('lets EventBridge send to the lane only from this deployment rules', () => {
      // Prepare & Act
      const statements = policyStatements(synthesized.template).filter(
        ({ statement }) => statement.Sid === 'EventBridgeRulesOfThisDeployment',
      );

      // Assess
      expect(statements).toHaveLength(2);
      for (const { statement } of statements) {
        expect(JSON.stringify(statement.Condition)).toContain(':rule/nlb-sync-test*');
      }
    });
  });
});
