import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type CfnQueue, Queue } from 'aws-cdk-lib/aws-sqs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { PassLane } from '../../infra/constructs/pass-lane';
import { iamRecordName, recordScopeOf, syncPolicyStatements } from '../../infra/constructs/sync-permissions';
import { parseSyncConfig } from '../../lambdas/domain/config';
import { desireRecords, planRecords } from '../../lambdas/domain/dns-records';
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

/** A write grant the config calls for: its exact condition (undefined: it must have none). */
interface ExpectedGrant {
  readonly condition?: Record<string, unknown>;
}

/**
 * Wildcards in a resource that need no condition, with why: the ASG ARN's UUID (the name part pins the
 * group) and security-group rules (only reachable through their group, which the group statements scope).
 */
const UNCONDITIONED_WILDCARDS = [
  /:autoScalingGroup:\*:autoScalingGroupName\/[^*]+$/,
  /:security-group-rule\/\*$/,
];

function flat(value: unknown): string {
  return flattenCfnReference(value as never);
}

/**
 * Every way an Allow statement of the template grants a write on more than the config needs:
 * - a write on Resource "*" (X-Ray aside), or any NotAction / NotResource statement;
 * - a statement the config calls for (by Sid) whose condition is not exactly the expected one;
 * - a statement the config does not call for that carries a condition, or a wildcard resource other
 *   than the acknowledged ones (a tag- or name-conditioned grant must be one of the expected);
 * - a Route 53 write without the name, type and action conditions, whatever its Sid;
 * - a service principal admitted to a queue without the exact list of this deployment's rule ARNs.
 */
function writeGrantProblems(
  template: Template,
  expected: Readonly<Record<string, ExpectedGrant>>,
  ruleArnsByQueue: Readonly<Record<string, readonly string[]>> = {},
): string[] {
  const problems: string[] = [];
  const queuePolicies = template.findResources('AWS::SQS::QueuePolicy');
  for (const { owner, statement } of policyStatements(template)) {
    if (statement.Effect !== 'Allow') continue;
    const raw = statement as TemplateStatement & {
      NotAction?: unknown;
      NotResource?: unknown;
      Principal?: unknown;
    };
    const where = `${owner}: ${statement.Sid ?? JSON.stringify(statement.Action)}`;
    if (raw.NotAction !== undefined || raw.NotResource !== undefined) {
      problems.push(`${where}: NotAction/NotResource`);
      continue;
    }
    const writes = asArray(statement.Action).filter(
      (action) => !READ_ONLY.test(action) && !NO_RESOURCE_LEVEL.has(action),
    );
    if (writes.length === 0) continue;
    const resources = asArray(statement.Resource).map(flat);
    if (resources.includes('*')) problems.push(`${where}: ${writes.join(', ')} on "*"`);
    if (writes.includes('route53:ChangeResourceRecordSets')) {
      const keys = Object.keys(
        (statement.Condition?.['ForAllValues:StringEquals'] ?? {}) as Record<string, unknown>,
      ).sort();
      const needed = [
        'route53:ChangeResourceRecordSetsActions',
        'route53:ChangeResourceRecordSetsNormalizedRecordNames',
        'route53:ChangeResourceRecordSetsRecordTypes',
      ];
      if (JSON.stringify(keys) !== JSON.stringify(needed))
        problems.push(`${where}: Route 53 write not limited by names, types and actions`);
    }
    const queue = queuePolicies[owner]?.Properties?.Queues as unknown[] | undefined;
    if (queue !== undefined && raw.Principal !== undefined) {
      const queueId = flat(queue[0]);
      const admitted = asArray(
        (statement.Condition?.ArnEquals as Record<string, unknown> | undefined)?.['aws:SourceArn'] as
          | unknown[]
          | undefined,
      ).map(flat);
      const wanted = ruleArnsByQueue[queueId];
      const keys = Object.keys(statement.Condition ?? {}).sort();
      if (
        wanted === undefined ||
        JSON.stringify(keys) !== JSON.stringify(['ArnEquals', 'StringEquals']) ||
        JSON.stringify([...admitted].sort()) !== JSON.stringify([...wanted].sort())
      ) {
        problems.push(
          `${where}: admits ${JSON.stringify(statement.Condition)}, not exactly this deployment's rules`,
        );
      }
      continue;
    }
    const want = statement.Sid === undefined ? undefined : expected[statement.Sid];
    if (want !== undefined) {
      if (JSON.stringify(statement.Condition) !== JSON.stringify(want.condition))
        problems.push(
          `${where}: condition ${JSON.stringify(statement.Condition)}, expected ${JSON.stringify(want.condition)}`,
        );
      continue;
    }
    if (statement.Condition !== undefined)
      problems.push(`${where}: a conditioned write the config does not call for`);
    const wide = resources.filter(
      (resource) =>
        resource.includes('*') && !UNCONDITIONED_WILDCARDS.some((pattern) => pattern.test(resource)),
    );
    if (wide.length > 0) problems.push(`${where}: ${writes.join(', ')} on ${wide.join(', ')}`);
  }
  return problems;
}

/** The ARN, flattened as cdk-nag does, of every rule that targets a queue (as target or as its DLQ). */
function ruleArnsByQueue(template: Template): Record<string, string[]> {
  const byQueue: Record<string, string[]> = {};
  for (const rule of Object.values(template.findResources('AWS::Events::Rule'))) {
    const name = rule.Properties.Name as string;
    const ruleArn = flat({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':events:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:rule/${name}`,
        ],
      ],
    });
    const targets = (rule.Properties.Targets ?? []) as {
      Arn: unknown;
      DeadLetterConfig?: { Arn: unknown };
    }[];
    for (const target of targets) {
      for (const arn of [target.Arn, target.DeadLetterConfig?.Arn]) {
        const ref = (arn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
        if (ref === undefined) continue;
        const queueId = flat({ Ref: ref });
        byQueue[queueId] = [...new Set([...(byQueue[queueId] ?? []), ruleArn])];
      }
    }
  }
  return byQueue;
}

/** The drain-mark conditions of the fixtures' owner id, with the instance scope. */
function drainMark(resourceTags: Record<string, unknown>): ExpectedGrant {
  return {
    condition: {
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['nlb-sync-test/drain'] },
      Null: { 'aws:TagKeys': 'false' },
      StringEquals: resourceTags,
    },
  };
}

/** What each fixture's config calls for, written out by hand from the fixture files. */
const EXPECTED_GRANTS: Readonly<Record<string, Readonly<Record<string, ExpectedGrant>>>> = {
  [FIXTURES.import]: {
    DrainMarkOnConfiguredAsgInstances: drainMark({
      'aws:ResourceTag/aws:autoscaling:groupName': ['eks-prod-a', 'eks-prod-b'],
    }),
    DrainMarkOnTaggedInstances1: drainMark({ 'aws:ResourceTag/karpenter.sh/nodepool': ['default'] }),
    WriteTaggedSecurityGroups0: {
      condition: { StringEquals: { 'aws:ResourceTag/nlb-nodeport-sync/cluster': 'karpenter' } },
    },
    WriteKubernetesSecurityGroups0: {
      condition: { StringEquals: { 'aws:ResourceTag/kubernetes.io/cluster/karpenter': ['owned', 'shared'] } },
    },
    WriteOwnRecordsOfCluster0: {
      condition: {
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['proxy.example.com'],
          // Alias A, and AAAA in case the imported NLB is dualstack; TXT for the ownership marker.
          'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA', 'TXT'],
          'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE', 'UPSERT'],
        },
      },
    },
  },
  [FIXTURES.create]: {
    DrainMarkOnConfiguredAsgInstances: drainMark({
      'aws:ResourceTag/aws:autoscaling:groupName': ['edge-workers'],
    }),
  },
};

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

    it('grants no write on a resource or condition wider than the config needs', () => {
      // Prepare
      const expected = EXPECTED_GRANTS[fixture] ?? {};

      // Act
      const problems = writeGrantProblems(
        synthesized.template,
        expected,
        ruleArnsByQueue(synthesized.template),
      );

      // Assess
      expect(problems).toEqual([]);
      const sids = policyStatements(synthesized.template).map(({ statement }) => statement.Sid);
      for (const sid of Object.keys(expected)) expect(sids).toContain(sid);
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
      // Only the values Kubernetes documents; a group tagged with anything else is not the cluster's.
      expect(kubernetes[0]?.Condition).toEqual({
        StringEquals: { 'aws:ResourceTag/kubernetes.io/cluster/karpenter': ['owned', 'shared'] },
      });
    });

    it('changes records only in the configured hosted zone, only at its names, of its types', () => {
      // Prepare & Act
      const statements = policyStatements(synthesized.template)
        .map(({ statement }) => statement)
        .filter((statement) => asArray(statement.Action).includes('route53:ChangeResourceRecordSets'));

      // Assess
      expect(statements).toHaveLength(1);
      expect(statements[0]?.Sid).toBe('WriteOwnRecordsOfCluster0');
      expect(statements[0]?.Action).toBe('route53:ChangeResourceRecordSets');
      expect(JSON.stringify(statements[0]?.Resource)).toContain(':hostedzone/Z0123456789ABCDEFGHIJ');
      expect(statements[0]?.Condition).toEqual({
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['proxy.example.com'],
          'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA', 'TXT'],
          'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE', 'UPSERT'],
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

    it('lets EventBridge send to the lane and the event DLQ only from the exact rules of this deployment', () => {
      // Prepare
      const rules = ruleArnsByQueue(synthesized.template);

      // Act
      const statements = policyStatements(synthesized.template).filter(
        ({ statement }) => statement.Sid === 'EventBridgeRulesOfThisDeployment',
      );

      // Assess
      expect(statements).toHaveLength(2);
      for (const { statement } of statements) {
        const admitted = asArray(
          (statement.Condition?.ArnEquals as Record<string, unknown[]>)['aws:SourceArn'],
        ).map(flat);
        expect(admitted).toHaveLength(7);
        expect(admitted.every((arn) => !arn.includes('*'))).toBe(true);
        expect(Object.values(rules)).toContainEqual(admitted);
      }
      // prod: schedule, lifecycle, asg-result, spot; karpenter: schedule, ec2-state, spot.
      expect(Object.values(rules).map((arns) => arns.length)).toEqual([7, 7]);
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

    it('catches any-value tag conditions, name-less Route 53 writes and prefix-matched queue senders', () => {
      // Prepare
      const stack = new Stack();
      const role = new Role(stack, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
      const sgWrites = ['ec2:AuthorizeSecurityGroupIngress'];
      role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'WriteKubernetesSecurityGroups0',
          actions: sgWrites,
          resources: ['arn:aws:ec2:eu-west-1:111122223333:security-group/*'],
          conditions: { StringLike: { 'aws:ResourceTag/kubernetes.io/cluster/karpenter': '*' } },
        }),
      );
      role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'Unexpected',
          actions: sgWrites,
          resources: ['arn:aws:ec2:eu-west-1:111122223333:security-group/*'],
        }),
      );
      role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'TypesOnly',
          actions: ['route53:ChangeResourceRecordSets'],
          resources: ['arn:aws:route53:::hostedzone/Z1'],
          conditions: {
            'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['A'] },
          },
        }),
      );
      const queue = new Queue(stack, 'Queue');
      queue.addToResourcePolicy(
        new PolicyStatement({
          sid: 'ByPrefix',
          principals: [new ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn],
          conditions: { ArnLike: { 'aws:SourceArn': 'arn:aws:events:eu-west-1:111122223333:rule/team*' } },
        }),
      );
      const expected = {
        WriteKubernetesSecurityGroups0: {
          condition: {
            StringEquals: { 'aws:ResourceTag/kubernetes.io/cluster/karpenter': ['owned', 'shared'] },
          },
        },
      };

      // Act
      const problems = writeGrantProblems(Template.fromStack(stack), expected);

      // Assess
      expect(problems.map((problem) => problem.split(': ')[1])).toEqual([
        'WriteKubernetesSecurityGroups0',
        'Unexpected',
        'TypesOnly',
        'TypesOnly',
        'ByPrefix',
      ]);
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

describe('Function: recordScopeOf', () => {
  const tg = (name: string) =>
    `arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/${name}/93e2d6bc24d8a067`;
  const config = parseSyncConfig({
    ownerId: 'team-a',
    clusters: [
      {
        name: 'blue',
        nodeSource: { autoScalingGroups: ['asg-1'] },
        loadBalancer: {
          arn: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/blue/50dc6c495c0c9188',
        },
        portMappings: [
          { name: 'web', nodePort: 30080, targetGroupArn: tg('web') },
          { name: 'dns', nodePort: 30053, protocol: 'UDP', targetGroupArn: tg('dns') },
          { name: 'both', nodePort: 30054, protocol: 'TCP_UDP', targetGroupArn: tg('both') },
        ],
        dns: {
          hostedZoneId: 'Z0123456789ABCDEFGHIJ',
          aliasNames: ['Proxy.Example.com.', '*.apps.example.com'],
          nodeRecordName: 'nodes.example.com',
          srvDomain: 'svc.example.com.',
        },
      },
      {
        name: 'green',
        nodeSource: { autoScalingGroups: ['asg-2'] },
        portMappings: [{ name: 'web', nodePort: 30080, targetGroupArn: tg('green') }],
        dns: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', nodeRecordName: 'green.example.com' },
      },
    ],
  });
  const [blue, green] = config.clusters as [(typeof config.clusters)[0], (typeof config.clusters)[0]];

  it('grants the lower-cased names without the trailing dot, with Route 53 octal escapes', () => {
    // Prepare & Act
    const scope = recordScopeOf(blue);

    // Assess
    expect(iamRecordName('*.Apps.example.com.')).toBe('\\052.apps.example.com');
    expect(iamRecordName('bücher.example.com')).toBe('b\\303\\274cher.example.com');
    expect(scope).toEqual({
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      names: [
        '\\052.apps.example.com',
        '_both._tcp.svc.example.com',
        '_both._udp.svc.example.com',
        '_dns._udp.svc.example.com',
        '_web._tcp.svc.example.com',
        'nodes.example.com',
        'proxy.example.com',
      ],
      types: ['A', 'AAAA', 'SRV', 'TXT'],
      actions: ['CREATE', 'DELETE', 'UPSERT'],
    });
    expect(recordScopeOf(green)).toEqual({
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      names: ['green.example.com'],
      types: ['A', 'TXT'],
      actions: ['CREATE', 'DELETE', 'UPSERT'],
    });
  });

  it('adds the retired names, with every record type the product writes, so their deletes are allowed', () => {
    // Prepare
    const retiring = {
      ...green,
      dns: { ...(green.dns as NonNullable<typeof green.dns>), retiredNames: ['_old._tcp.svc.example.com.'] },
    };

    // Act
    const scope = recordScopeOf(retiring);

    // Assess
    expect(scope?.names).toEqual(['_old._tcp.svc.example.com', 'green.example.com']);
    expect(scope?.types).toEqual(['A', 'AAAA', 'SRV', 'TXT']);
  });

  it('covers every change the DNS planner makes, and grants no name it never writes', () => {
    // Prepare
    const zone = { id: 'Z0123456789ABCDEFGHIJ', name: 'example.com.' };
    const loadBalancer = {
      arn: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/blue/50dc6c495c0c9188',
      name: 'blue',
      dnsName: 'blue-123.elb.eu-west-1.amazonaws.com',
      canonicalHostedZoneId: 'Z2IFOLAFXWLO4F',
      vpcId: 'vpc-1',
      securityGroupIds: [],
      dualstack: true,
    };
    const scope = recordScopeOf(blue);
    const desired = desireRecords({
      cluster: blue,
      zone,
      nodes: [{ privateIp: '10.0.0.1' }],
      loadBalancer,
    });
    const plan = (observed: Parameters<typeof planRecords>[0]['observed'], nodes: string[]) =>
      planRecords({
        ownerId: config.ownerId,
        clusterName: blue.name,
        ttl: 60,
        desired: desireRecords({
          cluster: blue,
          zone,
          nodes: nodes.map((privateIp) => ({ privateIp })),
          loadBalancer,
        }),
        observed,
      }).changes;

    // Act: a first pass on an empty zone, then one that changes and deletes what it owns.
    const created = plan([], ['10.0.0.1']);
    const owned = created.map((change) => change.recordSet);
    const updated = plan(
      owned.map((set) => (set.type === 'SRV' ? { ...set, values: ['0 50 1 other.example.com.'] } : set)),
      [],
    );

    // Assess
    expect([...new Set(desired.names.map(iamRecordName))].sort()).toEqual(scope?.names);
    const changes = [...created, ...updated];
    expect(new Set(changes.map((change) => change.action))).toEqual(new Set(['CREATE', 'UPSERT', 'DELETE']));
    for (const change of changes) {
      expect(scope?.names).toContain(iamRecordName(change.recordSet.name));
      expect(scope?.types).toContain(change.recordSet.type);
      expect(scope?.actions).toContain(change.action);
    }
    expect(new Set(changes.map((change) => change.recordSet.type))).toEqual(new Set(scope?.types));
  });

  it('writes one statement per cluster with DNS, in its own zone, with the three conditions', () => {
    // Prepare & Act
    const statements = syncPolicyStatements({
      ownerId: config.ownerId,
      clusters: config.clusters.map((cluster) => ({ cluster, targetGroupArns: [] })),
      sendQueueArns: [],
    })
      .map((statement) => statement.toStatementJson() as TemplateStatement)
      .filter((statement) => asArray(statement.Action).includes('route53:ChangeResourceRecordSets'));

    // Assess
    expect(statements.map((statement) => statement.Sid)).toEqual([
      'WriteOwnRecordsOfCluster0',
      'WriteOwnRecordsOfCluster1',
    ]);
    expect(statements[1]?.Condition).toEqual({
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['green.example.com'],
        'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'TXT'],
        'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE', 'UPSERT'],
      },
    });
  });
});

describe('Class: PassLane', () => {
  const build = (ruleNames: readonly string[]) => {
    const stack = new Stack();
    const lane = new PassLane(stack, 'Lane', { ownerId: 'team-a' });
    for (const [index, ruleName] of ruleNames.entries()) {
      new Rule(stack, `Rule${index}`, {
        ruleName,
        schedule: Schedule.rate(Duration.minutes(5)),
        targets: [lane.targetFor('blue')],
      });
    }
    return { stack, lane };
  };

  it('admits the exact ARN of each rule that targets it, once', () => {
    // Prepare & Act
    const { stack, lane } = build(['team-a-blue-schedule', 'team-a-blue-spot']);
    const admitted = lane.admittedRuleArns.map((arn) => flat(stack.resolve(arn)));

    // Assess
    expect(admitted).toEqual([
      'arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/team-a-blue-schedule',
      'arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/team-a-blue-spot',
    ]);
  });

  it('refuses a rule not named for its owner', () => {
    // Prepare, Act & Assess
    expect(() => build(['other-blue-schedule'])).toThrow(/not named for owner team-a/);
  });

  it("stops synth when the rule list would pass SQS's policy size limit", () => {
    // Prepare
    const names = Array.from(
      { length: 70 },
      (_, i) => `team-a-${'c'.repeat(40)}-${String(i).padStart(3, '0')}-schedule`,
    );
    const { stack } = build(names);

    // Act & Assess
    expect(() => Template.fromStack(stack)).toThrow(/8192-byte policy limit/);
  });
});
