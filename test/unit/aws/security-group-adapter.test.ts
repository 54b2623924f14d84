import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  EC2ServiceException,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SecurityGroupAdapter } from '../../../lambdas/aws/security-group-adapter';
import { MissingResourceError } from '../../../lambdas/domain/errors';
import { SecurityGroupRuleLimitError } from '../../../lambdas/domain/network-errors';
import type { IngressRuleSpec, ObservedIngressRule } from '../../../lambdas/domain/network-ports';

const client = new EC2Client({ region: 'eu-west-1' });
const ec2 = mockClient(client);

const DESCRIPTION = 'nlb-nodeport-sync:nlb-nodeport-sync/blue:health+traffic';
const FROM_GROUP: IngressRuleSpec = {
  protocol: 'tcp',
  fromPort: 30080,
  toPort: 30081,
  source: { kind: 'group', groupId: 'sg-0nlb' },
  description: DESCRIPTION,
};
const FROM_CIDR: IngressRuleSpec = {
  protocol: 'tcp',
  fromPort: 30443,
  toPort: 30443,
  source: { kind: 'cidr', cidr: '10.0.1.10/32' },
  description: DESCRIPTION,
};
const OBSERVED: ObservedIngressRule = { ...FROM_CIDR, ruleId: 'sgr-1', groupId: 'sg-0node' };
/** An inbound rule as DescribeSecurityGroupRules answers it. */
const RAW_RULE: SecurityGroupRule = {
  IsEgress: false,
  IpProtocol: 'tcp',
  FromPort: 30080,
  ToPort: 30080,
  CidrIpv4: '10.0.0.0/16',
};

function ec2Error(code: string): EC2ServiceException {
  return new EC2ServiceException({
    name: code,
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: code,
  });
}

describe('Class: SecurityGroupAdapter', () => {
  beforeEach(() => {
    ec2.reset();
  });

  describe('Method: describeIngressRules', () => {
    it('reads every page of inbound rules and maps their sources, leaving egress rules out', async () => {
      // Prepare
      ec2
        .on(DescribeSecurityGroupRulesCommand)
        .resolvesOnce({
          SecurityGroupRules: [
            {
              SecurityGroupRuleId: 'sgr-1',
              GroupId: 'sg-0node',
              IsEgress: false,
              IpProtocol: 'tcp',
              FromPort: 30080,
              ToPort: 30081,
              ReferencedGroupInfo: { GroupId: 'sg-0nlb' },
              Description: DESCRIPTION,
            },
            {
              SecurityGroupRuleId: 'sgr-e',
              GroupId: 'sg-0node',
              IsEgress: true,
              IpProtocol: '-1',
              CidrIpv4: '0.0.0.0/0',
            },
          ],
          NextToken: 'page-2',
        })
        .resolvesOnce({
          SecurityGroupRules: [
            {
              SecurityGroupRuleId: 'sgr-2',
              GroupId: 'sg-0node',
              IsEgress: false,
              IpProtocol: '6',
              FromPort: 22,
              ToPort: 22,
              CidrIpv4: '192.0.2.0/24',
            },
            {
              SecurityGroupRuleId: 'sgr-3',
              GroupId: 'sg-0node',
              IsEgress: false,
              IpProtocol: 'tcp',
              FromPort: 22,
              ToPort: 22,
              CidrIpv6: '::/0',
            },
          ],
        });
      const adapter = new SecurityGroupAdapter(client);

      // Act
      const rules = await adapter.describeIngressRules('sg-0node');

      // Assess
      expect(rules).toEqual([
        {
          ruleId: 'sgr-1',
          groupId: 'sg-0node',
          protocol: 'tcp',
          fromPort: 30080,
          toPort: 30081,
          source: { kind: 'group', groupId: 'sg-0nlb' },
          description: DESCRIPTION,
        },
        {
          ruleId: 'sgr-2',
          groupId: 'sg-0node',
          protocol: 'tcp',
          fromPort: 22,
          toPort: 22,
          source: { kind: 'cidr', cidr: '192.0.2.0/24' },
          description: undefined,
        },
        {
          ruleId: 'sgr-3',
          groupId: 'sg-0node',
          protocol: 'tcp',
          fromPort: 22,
          toPort: 22,
          source: { kind: 'other', id: '::/0' },
          description: undefined,
        },
      ]);
      expect(ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupRulesCommand, 2);
      expect(ec2).toHaveReceivedNthCommandWith(1, DescribeSecurityGroupRulesCommand, {
        Filters: [{ Name: 'group-id', Values: ['sg-0node'] }],
      });
    });

    it('turns an unknown group into a MissingResourceError', async () => {
      // Prepare
      ec2.on(DescribeSecurityGroupRulesCommand).rejects(ec2Error('InvalidGroup.NotFound'));
      const adapter = new SecurityGroupAdapter(client);

      // Act & Assess
      await expect(adapter.describeIngressRules('sg-0gone')).rejects.toThrow(MissingResourceError);
    });
  });

  describe('Method: describeGroups', () => {
    it('returns the groups with their tags', async () => {
      // Prepare
      ec2.on(DescribeSecurityGroupsCommand).resolves({
        SecurityGroups: [
          { GroupId: 'sg-1', VpcId: 'vpc-1', Tags: [{ Key: 'kubernetes.io/cluster/blue', Value: 'owned' }] },
        ],
      });
      const adapter = new SecurityGroupAdapter(client);

      // Act
      const groups = await adapter.describeGroups(['sg-1']);

      // Assess
      expect(groups).toEqual([
        { groupId: 'sg-1', vpcId: 'vpc-1', tags: { 'kubernetes.io/cluster/blue': 'owned' } },
      ]);
    });
  });

  describe('Method: describeGroupsWithTagKeys', () => {
    it('sends one tag-key filter naming every key, reads every page, and returns the groups with their tags', async () => {
      // Prepare
      ec2
        .on(DescribeSecurityGroupsCommand)
        .resolvesOnce({
          SecurityGroups: [
            { GroupId: 'sg-1', VpcId: 'vpc-1', Tags: [{ Key: 'nlb-nodeport-sync/cluster', Value: 'blue' }] },
          ],
          NextToken: 'page-2',
        })
        .resolvesOnce({
          SecurityGroups: [
            {
              GroupId: 'sg-2',
              VpcId: 'vpc-1',
              Tags: [{ Key: 'kubernetes.io/cluster/blue', Value: 'owned' }],
            },
          ],
        });
      const adapter = new SecurityGroupAdapter(client);

      // Act
      const groups = await adapter.describeGroupsWithTagKeys([
        'nlb-nodeport-sync/cluster',
        'kubernetes.io/cluster/blue',
      ]);

      // Assess
      expect(groups).toEqual([
        { groupId: 'sg-1', vpcId: 'vpc-1', tags: { 'nlb-nodeport-sync/cluster': 'blue' } },
        { groupId: 'sg-2', vpcId: 'vpc-1', tags: { 'kubernetes.io/cluster/blue': 'owned' } },
      ]);
      expect(ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupsCommand, 2);
      // The paginator reuses one input object (NextToken is set on it later): match the filter exactly.
      expect(ec2).toHaveReceivedNthCommandWith(1, DescribeSecurityGroupsCommand, {
        Filters: [{ Name: 'tag-key', Values: ['nlb-nodeport-sync/cluster', 'kubernetes.io/cluster/blue'] }],
      });
      expect(ec2).toHaveReceivedNthCommandWith(2, DescribeSecurityGroupsCommand, { NextToken: 'page-2' });
    });

    it('makes no call for no key', async () => {
      // Prepare
      const adapter = new SecurityGroupAdapter(client);

      // Act
      const groups = await adapter.describeGroupsWithTagKeys([]);

      // Assess
      expect(groups).toEqual([]);
      expect(ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupsCommand, 0);
    });
  });

  describe('Method: describeIngressRulesOf', () => {
    it('reads the rules of every group with one group-id filter, by group, a group without rules included', async () => {
      // Prepare
      ec2.on(DescribeSecurityGroupRulesCommand).resolves({
        SecurityGroupRules: [
          { ...RAW_RULE, SecurityGroupRuleId: 'sgr-1', GroupId: 'sg-0node' },
          { ...RAW_RULE, SecurityGroupRuleId: 'sgr-e', GroupId: 'sg-0node', IsEgress: true },
          { ...RAW_RULE, SecurityGroupRuleId: 'sgr-2', GroupId: 'sg-0other' },
        ],
      });
      const adapter = new SecurityGroupAdapter(client);

      // Act
      const rules = await adapter.describeIngressRulesOf(['sg-0node', 'sg-0other', 'sg-0empty']);

      // Assess
      expect(ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupRulesCommand, 1);
      expect(ec2.commandCalls(DescribeSecurityGroupRulesCommand)[0]?.args[0].input).toEqual({
        Filters: [{ Name: 'group-id', Values: ['sg-0node', 'sg-0other', 'sg-0empty'] }],
      });
      expect(rules).toEqual({
        'sg-0node': [expect.objectContaining({ ruleId: 'sgr-1', groupId: 'sg-0node' })],
        'sg-0other': [expect.objectContaining({ ruleId: 'sgr-2', groupId: 'sg-0other' })],
        'sg-0empty': [],
      });
    });

    it('sends at most 200 groups a request, the requests together', async () => {
      // Prepare
      ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
      const ids = Array.from({ length: 201 }, (_, i) => `sg-${i.toString(16).padStart(17, '0')}`);
      const adapter = new SecurityGroupAdapter(client);

      // Act
      const rules = await adapter.describeIngressRulesOf(ids);

      // Assess
      expect(Object.keys(rules)).toHaveLength(201);
      expect(
        ec2
          .commandCalls(DescribeSecurityGroupRulesCommand)
          .map((c) => c.args[0].input.Filters?.[0]?.Values?.length),
      ).toEqual([200, 1]);
    });

    it('turns an unknown group into a MissingResourceError', async () => {
      // Prepare
      ec2.on(DescribeSecurityGroupRulesCommand).rejects(ec2Error('InvalidGroup.NotFound'));
      const adapter = new SecurityGroupAdapter(client);

      // Act & Assess
      await expect(adapter.describeIngressRulesOf(['sg-0gone'])).rejects.toThrow(MissingResourceError);
    });
  });

  describe('Method: authorizeIngress', () => {
    it('sends all rules in one call with the ownership description on each source', async () => {
      // Prepare
      ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
      const adapter = new SecurityGroupAdapter(client);

      // Act
      const result = await adapter.authorizeIngress('sg-0node', [FROM_GROUP, FROM_CIDR]);

      // Assess
      expect(result).toEqual({ done: 2, alreadyDone: 0 });
      expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);
      expect(ec2).toHaveReceivedCommandWith(AuthorizeSecurityGroupIngressCommand, {
        GroupId: 'sg-0node',
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 30080,
            ToPort: 30081,
            UserIdGroupPairs: [{ GroupId: 'sg-0nlb', Description: DESCRIPTION }],
          },
          {
            IpProtocol: 'tcp',
            FromPort: 30443,
            ToPort: 30443,
            IpRanges: [{ CidrIp: '10.0.1.10/32', Description: DESCRIPTION }],
          },
        ],
      });
    });

    it('treats InvalidPermission.Duplicate as success, sending the rules one by one so the others still land', async () => {
      // Prepare
      ec2
        .on(AuthorizeSecurityGroupIngressCommand)
        .rejectsOnce(ec2Error('InvalidPermission.Duplicate'))
        .rejectsOnce(ec2Error('InvalidPermission.Duplicate'))
        .resolvesOnce({ Return: true });
      const adapter = new SecurityGroupAdapter(client);

      // Act
      const result = await adapter.authorizeIngress('sg-0node', [FROM_GROUP, FROM_CIDR]);

      // Assess
      expect(result).toEqual({ done: 2, alreadyDone: 1 });
      expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 3);
    });

    it('turns RulesPerSecurityGroupLimitExceeded into a SecurityGroupRuleLimitError', async () => {
      // Prepare
      ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(ec2Error('RulesPerSecurityGroupLimitExceeded'));
      const adapter = new SecurityGroupAdapter(client);

      // Act & Assess
      await expect(adapter.authorizeIngress('sg-0node', [FROM_GROUP])).rejects.toThrow(
        SecurityGroupRuleLimitError,
      );
    });

    it('lets any other error propagate', async () => {
      // Prepare
      ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(ec2Error('UnauthorizedOperation'));
      const adapter = new SecurityGroupAdapter(client);

      // Act & Assess
      await expect(adapter.authorizeIngress('sg-0node', [FROM_GROUP])).rejects.toMatchObject({
        name: 'UnauthorizedOperation',
      });
    });

    it('makes no call for no rules', async () => {
      // Prepare
      const adapter = new SecurityGroupAdapter(client);

      // Act
      const result = await adapter.authorizeIngress('sg-0node', []);

      // Assess
      expect(result).toEqual({ done: 0, alreadyDone: 0 });
      expect(ec2).not.toHaveReceivedCommand(AuthorizeSecurityGroupIngressCommand);
    });
  });

  describe('Method: revokeIngress', () => {
    it('revokes by rule id, so the exact observed rule goes whatever its description', async () => {
      // Prepare
      ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
      const adapter = new SecurityGroupAdapter(client);

      // Act
      await adapter.revokeIngress('sg-0node', [OBSERVED, { ...OBSERVED, ruleId: 'sgr-2' }]);

      // Assess
      expect(ec2).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, {
        GroupId: 'sg-0node',
        SecurityGroupRuleIds: ['sgr-1', 'sgr-2'],
      });
    });

    it.each([
      'InvalidPermission.NotFound',
      'InvalidSecurityGroupRuleId.NotFound',
    ])('treats %s as success', async (code) => {
      // Prepare
      ec2.on(RevokeSecurityGroupIngressCommand).rejectsOnce(ec2Error(code)).resolves({ Return: true });
      const adapter = new SecurityGroupAdapter(client);

      // Act
      const result = await adapter.revokeIngress('sg-0node', [OBSERVED, { ...OBSERVED, ruleId: 'sgr-2' }]);

      // Assess
      expect(result).toEqual({ done: 2, alreadyDone: 0 });
      expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 3);
    });

    it('counts a single missing rule as already done', async () => {
      // Prepare
      ec2.on(RevokeSecurityGroupIngressCommand).rejects(ec2Error('InvalidPermission.NotFound'));
      const adapter = new SecurityGroupAdapter(client);

      // Act
      const result = await adapter.revokeIngress('sg-0node', [OBSERVED]);

      // Assess
      expect(result).toEqual({ done: 1, alreadyDone: 1 });
    });
  });

  describe('Method: updateIngressDescription', () => {
    it('rewrites the description keeping protocol, ports and source', async () => {
      // Prepare
      ec2.on(ModifySecurityGroupRulesCommand).resolves({ Return: true });
      const adapter = new SecurityGroupAdapter(client);

      // Act
      await adapter.updateIngressDescription(
        'sg-0node',
        OBSERVED,
        'nlb-nodeport-sync:nlb-nodeport-sync/blue:traffic',
      );

      // Assess
      expect(ec2).toHaveReceivedCommandWith(ModifySecurityGroupRulesCommand, {
        GroupId: 'sg-0node',
        SecurityGroupRules: [
          {
            SecurityGroupRuleId: 'sgr-1',
            SecurityGroupRule: {
              IpProtocol: 'tcp',
              FromPort: 30443,
              ToPort: 30443,
              CidrIpv4: '10.0.1.10/32',
              Description: 'nlb-nodeport-sync:nlb-nodeport-sync/blue:traffic',
            },
          },
        ],
      });
    });
  });
});
