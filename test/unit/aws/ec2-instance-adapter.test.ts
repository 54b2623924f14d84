import { DescribeInstancesCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { Ec2InstanceAdapter, INSTANCE_IDS_PER_CALL } from '../../../lambdas/aws/ec2-instance-adapter';

const client = new EC2Client({ region: 'eu-west-1' });
const ec2 = mockClient(client);

/** An instance as DescribeInstances returns it, with a primary and a secondary interface. */
function instance(id: string, overrides: Partial<Instance> = {}): Instance {
  return {
    InstanceId: id,
    PrivateIpAddress: '10.0.1.7',
    Placement: { AvailabilityZone: 'eu-west-1a' },
    SubnetId: 'subnet-a',
    VpcId: 'vpc-1',
    State: { Name: 'running', Code: 16 },
    SecurityGroups: [
      { GroupId: 'sg-node', GroupName: 'node' },
      { GroupId: 'sg-pods', GroupName: 'pods' },
    ],
    NetworkInterfaces: [
      {
        NetworkInterfaceId: 'eni-secondary',
        Attachment: { DeviceIndex: 1, NetworkCardIndex: 0 },
        Groups: [{ GroupId: 'sg-pods' }],
      },
      {
        NetworkInterfaceId: 'eni-primary',
        Attachment: { DeviceIndex: 0, NetworkCardIndex: 0 },
        Groups: [{ GroupId: 'sg-node' }],
      },
    ],
    ...overrides,
  };
}

describe('Class: Ec2InstanceAdapter', () => {
  beforeEach(() => {
    ec2.reset();
  });

  describe('Method: describeInstancesById', () => {
    it('maps an instance to a node with the security groups of its primary interface', async () => {
      // Prepare
      ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance('i-1')] }] });
      const adapter = new Ec2InstanceAdapter(client);

      // Act
      const nodes = await adapter.describeInstancesById(['i-1']);

      // Assess
      expect(nodes).toEqual([
        {
          instanceId: 'i-1',
          privateIp: '10.0.1.7',
          availabilityZone: 'eu-west-1a',
          subnetId: 'subnet-a',
          vpcId: 'vpc-1',
          ec2State: 'running',
          securityGroupIds: ['sg-node'],
          origins: [],
        },
      ]);
    });

    it('falls back to the instance security groups when EC2 returns no interface details', async () => {
      // Prepare
      ec2.on(DescribeInstancesCommand).resolves({
        Reservations: [{ Instances: [instance('i-1', { NetworkInterfaces: [] })] }],
      });
      const adapter = new Ec2InstanceAdapter(client);

      // Act
      const [node] = await adapter.describeInstancesById(['i-1']);

      // Assess
      expect(node?.securityGroupIds).toEqual(['sg-node', 'sg-pods']);
    });

    it('leaves out the fields of an instance that has no IP or placement yet', async () => {
      // Prepare
      ec2.on(DescribeInstancesCommand).resolves({
        Reservations: [{ Instances: [{ InstanceId: 'i-new', State: { Name: 'pending' } }] }],
      });
      const adapter = new Ec2InstanceAdapter(client);

      // Act
      const nodes = await adapter.describeInstancesById(['i-new']);

      // Assess
      expect(nodes).toEqual([
        { instanceId: 'i-new', ec2State: 'pending', securityGroupIds: [], origins: [] },
      ]);
    });

    it('asks through an instance-id filter so unknown ids do not fail the call', async () => {
      // Prepare
      ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance('i-1')] }] });
      const adapter = new Ec2InstanceAdapter(client);

      // Act
      const nodes = await adapter.describeInstancesById(['i-1', 'i-gone']);

      // Assess
      expect(nodes.map((node) => node.instanceId)).toEqual(['i-1']);
      const [call] = ec2.commandCalls(DescribeInstancesCommand);
      expect(call?.args[0].input).toEqual({ Filters: [{ Name: 'instance-id', Values: ['i-1', 'i-gone'] }] });
    });

    it('describes 250 ids in chunks of 100, 100 and 50', async () => {
      // Prepare
      ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
      const ids = Array.from({ length: 250 }, (_, i) => `i-${i.toString(16).padStart(8, '0')}`);
      const adapter = new Ec2InstanceAdapter(client);

      // Act
      await adapter.describeInstancesById(ids);

      // Assess
      expect(INSTANCE_IDS_PER_CALL).toBe(100);
      const requested = ec2
        .commandCalls(DescribeInstancesCommand)
        .map((call) => call.args[0].input.Filters?.[0]?.Values);
      expect(requested).toEqual([ids.slice(0, 100), ids.slice(100, 200), ids.slice(200)]);
    });

    it('sends the chunks together: all three are in flight before the first answers', async () => {
      // Prepare
      let inFlight = 0;
      let most = 0;
      ec2.on(DescribeInstancesCommand).callsFake(async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        return { Reservations: [] };
      });
      const ids = Array.from({ length: 250 }, (_, i) => `i-${i.toString(16).padStart(8, '0')}`);
      const adapter = new Ec2InstanceAdapter(client);

      // Act
      await adapter.describeInstancesById(ids);

      // Assess
      expect(most).toBe(3);
    });

    it('makes no call for an empty id list', async () => {
      // Prepare
      const adapter = new Ec2InstanceAdapter(client);

      // Act
      const nodes = await adapter.describeInstancesById([]);

      // Assess
      expect(nodes).toEqual([]);
      expect(ec2).not.toHaveReceivedCommand(DescribeInstancesCommand);
    });
  });

  describe('Method: describeInstancesOfGroups', () => {
    it('searches by the aws:autoscaling:groupName tag, in every state, 1,000 a page, following NextToken', async () => {
      // Prepare
      ec2
        .on(DescribeInstancesCommand)
        .resolvesOnce({ Reservations: [{ Instances: [instance('i-1')] }], NextToken: 'page-2' })
        .resolvesOnce({
          Reservations: [{ Instances: [instance('i-2', { State: { Name: 'terminated' } })] }],
        });
      const adapter = new Ec2InstanceAdapter(client);

      // Act
      const nodes = await adapter.describeInstancesOfGroups(['workers-a', 'workers-b', 'workers-a']);

      // Assess
      expect(nodes.map((node) => [node.instanceId, node.ec2State, node.origins])).toEqual([
        ['i-1', 'running', []],
        ['i-2', 'terminated', []],
      ]);
      const search = {
        Filters: [{ Name: 'tag:aws:autoscaling:groupName', Values: ['workers-a', 'workers-b'] }],
        MaxResults: 1000,
      };
      const calls = ec2.commandCalls(DescribeInstancesCommand).map((call) => call.args[0].input);
      expect(calls).toEqual([expect.objectContaining(search), expect.objectContaining(search)]);
      expect(calls[1]?.NextToken).toBe('page-2');
    });

    it('makes no call for no group', async () => {
      // Prepare
      const adapter = new Ec2InstanceAdapter(client);

      // Act
      const nodes = await adapter.describeInstancesOfGroups([]);

      // Assess
      expect(nodes).toEqual([]);
      expect(ec2).not.toHaveReceivedCommand(DescribeInstancesCommand);
    });
  });

  describe('Method: describeInstancesByTags', () => {
    it('filters on every tag and on the non-terminated states', async () => {
      // Prepare
      ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance('i-1')] }] });
      const adapter = new Ec2InstanceAdapter(client);

      // Act
      const nodes = await adapter.describeInstancesByTags({
        'karpenter.sh/nodepool': ['default', 'spot'],
        'kubernetes.io/cluster/prod': ['owned'],
      });

      // Assess
      expect(nodes.map((node) => [node.instanceId, node.origins])).toEqual([['i-1', ['tag-filter']]]);
      expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, {
        Filters: [
          { Name: 'tag:karpenter.sh/nodepool', Values: ['default', 'spot'] },
          { Name: 'tag:kubernetes.io/cluster/prod', Values: ['owned'] },
          {
            Name: 'instance-state-name',
            Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'],
          },
        ],
      });
    });

    it('follows NextToken until the last page', async () => {
      // Prepare
      ec2
        .on(DescribeInstancesCommand)
        .resolvesOnce({ Reservations: [{ Instances: [instance('i-1')] }], NextToken: 'page-2' })
        .resolvesOnce({ Reservations: [{ Instances: [instance('i-2')] }, { Instances: [instance('i-3')] }] });
      const adapter = new Ec2InstanceAdapter(client);

      // Act
      const nodes = await adapter.describeInstancesByTags({ 'karpenter.sh/nodepool': ['default'] });

      // Assess
      expect(nodes.map((node) => node.instanceId)).toEqual(['i-1', 'i-2', 'i-3']);
      expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2);
      expect(ec2).toHaveReceivedNthCommandWith(2, DescribeInstancesCommand, { NextToken: 'page-2' });
    });

    it('matches any value of a tag listed without values', async () => {
      // Prepare
      ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
      const adapter = new Ec2InstanceAdapter(client);

      // Act
      await adapter.describeInstancesByTags({ 'eks:eks-cluster-name': [] });

      // Assess
      const [call] = ec2.commandCalls(DescribeInstancesCommand);
      expect(call?.args[0].input.Filters?.[0]).toEqual({ Name: 'tag-key', Values: ['eks:eks-cluster-name'] });
    });

    it('returns no nodes and makes no call when there is no tag filter', async () => {
      // Prepare
      const adapter = new Ec2InstanceAdapter(client);

      // Act
      const nodes = await adapter.describeInstancesByTags({});

      // Assess
      expect(nodes).toEqual([]);
      expect(ec2).not.toHaveReceivedCommand(DescribeInstancesCommand);
    });

    it('propagates EC2 errors', async () => {
      // Prepare
      ec2
        .on(DescribeInstancesCommand)
        .rejects(Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' }));
      const adapter = new Ec2InstanceAdapter(client);

      // Act
      const describing = adapter.describeInstancesByTags({ team: ['web'] });

      // Assess
      await expect(describing).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    });
  });
});
