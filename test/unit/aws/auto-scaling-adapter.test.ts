import {
  AutoScalingClient,
  type AutoScalingGroup,
  AutoScalingServiceException,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  AUTO_SCALING_GROUP_NAMES_PER_CALL,
  AutoScalingAdapter,
} from '../../../lambdas/aws/auto-scaling-adapter';
import type { LifecycleActionRef } from '../../../lambdas/domain/ports';

const client = new AutoScalingClient({ region: 'eu-west-1' });
const autoScaling = mockClient(client);

const ACTION: LifecycleActionRef = {
  autoScalingGroupName: 'workers-a',
  lifecycleHookName: 'nlb-nodeport-sync-launch',
  instanceId: 'i-0123456789abcdef0',
};

/** A group with the fields the SDK's type requires; only the name and capacity matter here. */
function group(name: string, desiredCapacity: number): AutoScalingGroup {
  return {
    AutoScalingGroupName: name,
    DesiredCapacity: desiredCapacity,
    MinSize: 0,
    MaxSize: 10,
    DefaultCooldown: 300,
    AvailabilityZones: ['eu-west-1a'],
    HealthCheckType: 'EC2',
    CreatedTime: new Date('2024-01-01T00:00:00Z'),
  };
}

function validationError(message: string): AutoScalingServiceException {
  return new AutoScalingServiceException({
    name: 'ValidationError',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message,
  });
}

describe('Class: AutoScalingAdapter', () => {
  beforeEach(() => {
    autoScaling.reset();
  });

  describe('Method: describeGroups', () => {
    it('maps groups and their instances to AutoScalingGroupInfo', async () => {
      // Prepare
      autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
        AutoScalingGroups: [
          {
            AutoScalingGroupName: 'workers-a',
            DesiredCapacity: 2,
            MinSize: 0,
            MaxSize: 4,
            DefaultCooldown: 300,
            AvailabilityZones: ['eu-west-1a'],
            HealthCheckType: 'EC2',
            CreatedTime: new Date('2024-01-01T00:00:00Z'),
            Instances: [
              {
                InstanceId: 'i-1',
                LifecycleState: 'InService',
                HealthStatus: 'Healthy',
                AvailabilityZone: 'eu-west-1a',
                ProtectedFromScaleIn: false,
              },
              {
                InstanceId: 'i-2',
                LifecycleState: 'Terminating:Wait',
                HealthStatus: 'Healthy',
                AvailabilityZone: 'eu-west-1a',
                ProtectedFromScaleIn: false,
              },
            ],
          },
        ],
      });
      const adapter = new AutoScalingAdapter(client);

      // Act
      const groups = await adapter.describeGroups(['workers-a']);

      // Assess
      expect(groups).toEqual([
        {
          name: 'workers-a',
          desiredCapacity: 2,
          instances: [
            {
              instanceId: 'i-1',
              lifecycleState: 'InService',
              healthStatus: 'Healthy',
              availabilityZone: 'eu-west-1a',
            },
            {
              instanceId: 'i-2',
              lifecycleState: 'Terminating:Wait',
              healthStatus: 'Healthy',
              availabilityZone: 'eu-west-1a',
            },
          ],
        },
      ]);
      expect(autoScaling).toHaveReceivedCommandWith(DescribeAutoScalingGroupsCommand, {
        AutoScalingGroupNames: ['workers-a'],
      });
    });

    it('follows NextToken until the last page', async () => {
      // Prepare
      autoScaling
        .on(DescribeAutoScalingGroupsCommand)
        .resolvesOnce({
          AutoScalingGroups: [group('a', 1)],
          NextToken: 'page-2',
        })
        .resolvesOnce({ AutoScalingGroups: [group('b', 3)] });
      const adapter = new AutoScalingAdapter(client);

      // Act
      const groups = await adapter.describeGroups(['a', 'b']);

      // Assess
      expect(groups.map((group) => [group.name, group.desiredCapacity])).toEqual([
        ['a', 1],
        ['b', 3],
      ]);
      expect(autoScaling).toHaveReceivedCommandTimes(DescribeAutoScalingGroupsCommand, 2);
      expect(autoScaling).toHaveReceivedNthCommandWith(2, DescribeAutoScalingGroupsCommand, {
        AutoScalingGroupNames: ['a', 'b'],
        NextToken: 'page-2',
      });
    });

    it('asks for at most 50 names per request', async () => {
      // Prepare
      autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
      const names = Array.from({ length: 120 }, (_, i) => `group-${i}`);
      const adapter = new AutoScalingAdapter(client);

      // Act
      await adapter.describeGroups(names);

      // Assess
      expect(AUTO_SCALING_GROUP_NAMES_PER_CALL).toBe(50);
      const requested = autoScaling
        .commandCalls(DescribeAutoScalingGroupsCommand)
        .map((call) => call.args[0].input.AutoScalingGroupNames);
      expect(requested).toEqual([names.slice(0, 50), names.slice(50, 100), names.slice(100)]);
    });

    it('makes no call for an empty name list, which AWS would read as every group', async () => {
      // Prepare
      const adapter = new AutoScalingAdapter(client);

      // Act
      const groups = await adapter.describeGroups([]);

      // Assess
      expect(groups).toEqual([]);
      expect(autoScaling).not.toHaveReceivedCommand(DescribeAutoScalingGroupsCommand);
    });

    it('leaves out names AWS does not know', async () => {
      // Prepare
      autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
        AutoScalingGroups: [{ ...group('known', 0), Instances: [] }],
      });
      const adapter = new AutoScalingAdapter(client);

      // Act
      const groups = await adapter.describeGroups(['known', 'gone']);

      // Assess
      expect(groups).toEqual([{ name: 'known', desiredCapacity: 0, instances: [] }]);
    });
  });

  describe('Method: completeLifecycleAction', () => {
    it('answers by token when the event carried one', async () => {
      // Prepare
      autoScaling.on(CompleteLifecycleActionCommand).resolves({});
      const adapter = new AutoScalingAdapter(client);

      // Act
      await adapter.completeLifecycleAction(
        { ...ACTION, lifecycleActionToken: '87654321-4321-4321-4321-21098EXAMPLE' },
        'CONTINUE',
      );

      // Assess
      const [call] = autoScaling.commandCalls(CompleteLifecycleActionCommand);
      expect(call?.args[0].input).toEqual({
        AutoScalingGroupName: 'workers-a',
        LifecycleHookName: 'nlb-nodeport-sync-launch',
        LifecycleActionResult: 'CONTINUE',
        LifecycleActionToken: '87654321-4321-4321-4321-21098EXAMPLE',
      });
    });

    it('answers by instance id when there is no token', async () => {
      // Prepare
      autoScaling.on(CompleteLifecycleActionCommand).resolves({});
      const adapter = new AutoScalingAdapter(client);

      // Act
      await adapter.completeLifecycleAction(ACTION, 'ABANDON');

      // Assess
      const [call] = autoScaling.commandCalls(CompleteLifecycleActionCommand);
      expect(call?.args[0].input).toEqual({
        AutoScalingGroupName: 'workers-a',
        LifecycleHookName: 'nlb-nodeport-sync-launch',
        LifecycleActionResult: 'ABANDON',
        InstanceId: 'i-0123456789abcdef0',
      });
    });

    it('reports an action that is no longer pending as not-active, without throwing', async () => {
      // Prepare
      autoScaling
        .on(CompleteLifecycleActionCommand)
        .rejects(validationError('No active Lifecycle Action found with instance ID i-0123456789abcdef0'));
      const adapter = new AutoScalingAdapter(client);

      // Act
      const completing = adapter.completeLifecycleAction(ACTION, 'CONTINUE');

      // Assess
      await expect(completing).resolves.toBe('not-active');
      expect(autoScaling).toHaveReceivedCommandTimes(CompleteLifecycleActionCommand, 1);
    });

    it('propagates any other ValidationError', async () => {
      // Prepare
      autoScaling
        .on(CompleteLifecycleActionCommand)
        .rejects(
          validationError('Unable to find lifecycle hook nlb-nodeport-sync-launch for group workers-a'),
        );
      const adapter = new AutoScalingAdapter(client);

      // Act
      const completing = adapter.completeLifecycleAction(ACTION, 'CONTINUE');

      // Assess
      await expect(completing).rejects.toThrow('Unable to find lifecycle hook');
    });
  });

  describe('Method: recordLifecycleActionHeartbeat', () => {
    it('restarts the heartbeat by token when there is one', async () => {
      // Prepare
      autoScaling.on(RecordLifecycleActionHeartbeatCommand).resolves({});
      const adapter = new AutoScalingAdapter(client);

      // Act
      await adapter.recordLifecycleActionHeartbeat({ ...ACTION, lifecycleActionToken: 'token-1' });

      // Assess
      const [call] = autoScaling.commandCalls(RecordLifecycleActionHeartbeatCommand);
      expect(call?.args[0].input).toEqual({
        AutoScalingGroupName: 'workers-a',
        LifecycleHookName: 'nlb-nodeport-sync-launch',
        LifecycleActionToken: 'token-1',
      });
    });

    it('restarts the heartbeat by instance id when there is no token', async () => {
      // Prepare
      autoScaling.on(RecordLifecycleActionHeartbeatCommand).resolves({});
      const adapter = new AutoScalingAdapter(client);

      // Act
      await adapter.recordLifecycleActionHeartbeat(ACTION);

      // Assess
      expect(autoScaling).toHaveReceivedCommandWith(RecordLifecycleActionHeartbeatCommand, {
        InstanceId: 'i-0123456789abcdef0',
      });
    });

    it('reports a vanished action as not-active so the caller stops waiting on it', async () => {
      // Prepare
      autoScaling
        .on(RecordLifecycleActionHeartbeatCommand)
        .rejects(validationError('No active Lifecycle Action found with instance ID i-0123456789abcdef0'));
      const adapter = new AutoScalingAdapter(client);

      // Act
      const beating = adapter.recordLifecycleActionHeartbeat(ACTION);

      // Assess
      await expect(beating).resolves.toBe('not-active');
    });
  });
});
