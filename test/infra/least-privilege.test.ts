import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { syncPolicyStatements } from '../../infra/constructs/sync-permissions';
import { parseSyncConfig } from '../../lambdas/domain/config';
import {
  asArray,
  FIXTURES,
  policyStatements,
  type Synthesized,
  synthesize,
  type TemplateStatement,
} from './synth-helpers';

/** Actions that only read. */
const READ_ONLY = /^[a-z0-9-]+:(Describe|List|Get)[A-Za-z]*$/;
/** X-Ray writes support no resource-level permissions at all (AWS service authorization reference). */
const NO_RESOURCE_LEVEL = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);

/**
 * Every write an Allow statement grants on Resource "*". A statement with NotAction or NotResource
 * grants more than it names, so it counts as a write on "*" whatever it lists.
 */
function writesOnStar(template: Template): string[] {
  return policyStatements(template)
    .filter(({ statement }) => statement.Effect === 'Allow')
    .flatMap(({ owner, statement }) => {
      const raw = statement as TemplateStatement & { NotAction?: unknown; NotResource?: unknown };
      if (raw.NotAction !== undefined || raw.NotResource !== undefined)
        return [`${owner}: ${raw.Sid ?? 'Not*'}`];
      const onStar = asArray(statement.Resource).some((resource) => resource === '*');
      if (!onStar) return [];
      return asArray(statement.Action)
        .filter((action) => !READ_ONLY.test(action) && !NO_RESOURCE_LEVEL.has(action))
        .map((action) => `${owner}: ${action}`);
    });
}

/** The role's statements with the given action, by Sid. */
function grantsOf(synthesized: Synthesized, action: string): TemplateStatement[] {
  return policyStatements(synthesized.template)
    .filter(({ owner }) => synthesized.template.findResources('AWS::IAM::Policy')[owner] !== undefined)
    .map(({ statement }) => statement)
    .filter((statement) => asArray(statement.Action).includes(action));
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
      const offending = writesOnStar(synthesized.template);

      // Assess
      expect(offending).toEqual([]);
    });

    it('sends messages only to its own wait queue and lane', () => {
      // Prepare
      const { stack } = synthesized;
      const ref = (queue: { node: { defaultChild?: unknown } }) => ({
        'Fn::GetAtt': [stack.getLogicalId(queue.node.defaultChild as CfnQueue), 'Arn'],
      });

      // Act
      const sends = grantsOf(synthesized, 'sqs:SendMessage');

      // Assess
      expect(sends).toHaveLength(1);
      expect(sends[0]?.Sid).toBe('SendToOwnQueues');
      expect(sends[0]?.Action).toBe('sqs:SendMessage');
      expect(sends[0]?.Resource).toEqual([ref(stack.waitQueue.queue), ref(stack.lane.queue)]);
    });

    it('tags instances only with its drain mark and only instances of a configured node source', () => {
      // Prepare & Act
      const tagging = [
        ...grantsOf(synthesized, 'ec2:CreateTags'),
        ...grantsOf(synthesized, 'ec2:DeleteTags'),
      ];

      // Assess
      expect(tagging.length).toBeGreaterThan(0);
      for (const statement of tagging) {
        expect(statement.Action).toEqual(['ec2:CreateTags', 'ec2:DeleteTags']);
        expect(JSON.stringify(statement.Resource)).toMatch(/:instance\/\*"\]\]\}$/);
        expect(statement.Condition?.['ForAllValues:StringEquals']).toEqual({
          'aws:TagKeys': ['nlb-sync-test/drain'],
        });
        // Without it, a DeleteTags naming no key (which deletes every tag) would pass ForAllValues.
        expect(statement.Condition?.Null).toEqual({ 'aws:TagKeys': 'false' });
        const resourceTags = Object.keys(
          (statement.Condition?.StringEquals ?? {}) as Record<string, unknown>,
        ).filter((key) => key.startsWith('aws:ResourceTag/'));
        expect(resourceTags.length).toBeGreaterThan(0);
      }
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

    it('drains instances of the configured ASGs by their Auto Scaling tag, tag-filter nodes by their tags', () => {
      // Prepare
      const statements = policyStatements(synthesized.template).map(({ statement }) => statement);

      // Act
      const byAsg = statements.find((s) => s.Sid === 'DrainMarkOnConfiguredAsgInstances');
      const byTags = statements.filter((s) => s.Sid?.startsWith('DrainMarkOnTaggedInstances'));

      // Assess
      expect(byAsg?.Condition?.StringEquals).toEqual({
        'aws:ResourceTag/aws:autoscaling:groupName': ['eks-prod-a', 'eks-prod-b'],
      });
      expect(byTags).toHaveLength(1);
      expect(byTags[0]?.Condition?.StringEquals).toEqual({
        'aws:ResourceTag/karpenter.sh/nodepool': ['default'],
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

  describe('Method: constructor (the write-on-star check itself)', () => {
    it('catches a write granted on "*", and a NotResource statement', () => {
      // Prepare
      const stack = new Stack();
      const role = new Role(stack, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
      role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'Bad',
          actions: ['ec2:CreateTags', 'ec2:DescribeTags'],
          resources: ['*'],
        }),
      );
      role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'Sneaky',
          actions: ['sqs:SendMessage'],
          notResources: ['arn:aws:sqs:::x'],
        }),
      );

      // Act
      const offending = writesOnStar(Template.fromStack(stack));

      // Assess
      expect(offending.map((o) => o.split(': ')[1])).toEqual(['ec2:CreateTags', 'Sneaky']);
    });
  });
});

describe('Function: syncPolicyStatements', () => {
  it('ANDs every tag-filter key of a cluster and ORs its values, one statement per cluster', () => {
    // Prepare
    const config = parseSyncConfig({
      ownerId: 'team-a',
      clusters: [
        {
          name: 'mixed',
          nodeSource: {
            autoScalingGroups: ['asg-1'],
            tagFilters: { 'karpenter.sh/nodepool': ['default', 'spot'], 'eks:cluster-name': ['mixed'] },
          },
          portMappings: [
            {
              name: 'tcp',
              nodePort: 31000,
              targetGroupArn:
                'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/m-tcp/93e2d6bc24d8a067',
            },
          ],
        },
      ],
    });

    // Act
    const statements = syncPolicyStatements({
      ownerId: config.ownerId,
      clusters: config.clusters.map((cluster) => ({ cluster, targetGroupArns: [] })),
      sendQueueArns: ['arn:aws:sqs:eu-west-1:111122223333:wait'],
    }).map((statement) => statement.toStatementJson() as TemplateStatement);

    // Assess
    const tagged = statements.filter((s) => s.Sid?.startsWith('DrainMarkOnTaggedInstances'));
    expect(tagged).toHaveLength(1);
    expect(tagged[0]?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['team-a/drain'] },
      Null: { 'aws:TagKeys': 'false' },
      StringEquals: {
        'aws:ResourceTag/karpenter.sh/nodepool': ['default', 'spot'],
        'aws:ResourceTag/eks:cluster-name': ['mixed'],
      },
    });
    expect(statements.find((s) => s.Sid === 'DrainMarkOnConfiguredAsgInstances')?.Condition).toMatchObject({
      StringEquals: { 'aws:ResourceTag/aws:autoscaling:groupName': ['asg-1'] },
    });
  });
});
