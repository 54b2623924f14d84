import {
  DeregisterTargetsCommand,
  type DeregisterTargetsCommandInput,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  InvalidTargetException,
  RegisterTargetsCommand,
  type RegisterTargetsCommandInput,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { TARGETS_PER_CALL, TargetGroupAdapter } from '../../../lambdas/aws/target-group-adapter';
import { MissingResourceError } from '../../../lambdas/domain/errors';
import type { TargetRef } from '../../../lambdas/domain/target';

const ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-30080/0123456789abcdef';

const client = new ElasticLoadBalancingV2Client({ region: 'eu-west-1' });
const elbv2 = mockClient(client);

/** n IP targets on port 30080: 10.0.0.1, 10.0.0.2, ... */
function ipTargets(n: number): TargetRef[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `10.0.${Math.floor((i + 1) / 256)}.${(i + 1) % 256}`,
    port: 30080,
  }));
}

/** Makes RegisterTargets fail with InvalidTarget whenever the request holds one of `bad`, as AWS does. */
function rejectRegistrationOf(...bad: string[]): void {
  elbv2.on(RegisterTargetsCommand).callsFake((input: RegisterTargetsCommandInput) => {
    const culprit = input.Targets?.find((target) => target.Id !== undefined && bad.includes(target.Id));
    if (culprit !== undefined) {
      throw new InvalidTargetException({
        message: `The following targets are not in a running state and cannot be registered: '${culprit.Id}'`,
        $metadata: { httpStatusCode: 400 },
      });
    }
    return {};
  });
}

function registeredChunks(): (RegisterTargetsCommandInput['Targets'] | undefined)[] {
  return elbv2.commandCalls(RegisterTargetsCommand).map((call) => call.args[0].input.Targets);
}

describe('Class: TargetGroupAdapter', () => {
  beforeEach(() => {
    elbv2.reset();
  });

  describe('Method: describeTargets', () => {
    it('maps every target health description with state, reason and availability zone', async () => {
      // Prepare
      elbv2.on(DescribeTargetHealthCommand, { TargetGroupArn: ARN }).resolves({
        TargetHealthDescriptions: [
          {
            Target: { Id: '10.0.1.7', Port: 30080, AvailabilityZone: 'eu-west-1a' },
            TargetHealth: { State: 'healthy' },
          },
          {
            Target: { Id: '10.0.2.9', Port: 30080, AvailabilityZone: 'eu-west-1b' },
            TargetHealth: { State: 'draining', Reason: 'Target.DeregistrationInProgress' },
          },
          {
            Target: { Id: 'i-0abc', Port: 30443 },
            TargetHealth: { State: 'initial', Reason: 'Elb.RegistrationInProgress' },
          },
        ],
      });
      const adapter = new TargetGroupAdapter(client);

      // Act
      const targets = await adapter.describeTargets(ARN);

      // Assess
      expect(targets).toEqual([
        { id: '10.0.1.7', port: 30080, state: 'healthy', availabilityZone: 'eu-west-1a' },
        {
          id: '10.0.2.9',
          port: 30080,
          state: 'draining',
          reason: 'Target.DeregistrationInProgress',
          availabilityZone: 'eu-west-1b',
        },
        { id: 'i-0abc', port: 30443, state: 'initial', reason: 'Elb.RegistrationInProgress' },
      ]);
      expect(elbv2).toHaveReceivedCommandTimes(DescribeTargetHealthCommand, 1);
    });

    it('returns no targets for an empty group', async () => {
      // Prepare
      elbv2.on(DescribeTargetHealthCommand).resolves({});
      const adapter = new TargetGroupAdapter(client);

      // Act
      const targets = await adapter.describeTargets(ARN);

      // Assess
      expect(targets).toEqual([]);
    });

    it('treats a state it does not know as unavailable', async () => {
      // Prepare
      elbv2.on(DescribeTargetHealthCommand).resolves({
        TargetHealthDescriptions: [
          { Target: { Id: '10.0.1.7', Port: 30080 }, TargetHealth: { State: 'hibernating' as 'healthy' } },
        ],
      });
      const adapter = new TargetGroupAdapter(client);

      // Act
      const targets = await adapter.describeTargets(ARN);

      // Assess
      expect(targets).toEqual([{ id: '10.0.1.7', port: 30080, state: 'unavailable' }]);
    });

    it('throws MissingResourceError naming the ARN when the target group does not exist', async () => {
      // Prepare
      elbv2
        .on(DescribeTargetHealthCommand)
        .rejects(
          new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: {} }),
        );
      const adapter = new TargetGroupAdapter(client);

      // Act
      const describing = adapter.describeTargets(ARN);

      // Assess
      await expect(describing).rejects.toThrow(MissingResourceError);
      await expect(describing).rejects.toThrow(ARN);
    });
  });

  describe('Method: registerTargets', () => {
    it('sends 450 targets in three calls of 200, 200 and 50, in order', async () => {
      // Prepare
      elbv2.on(RegisterTargetsCommand).resolves({});
      const targets = ipTargets(450);
      const adapter = new TargetGroupAdapter(client);

      // Act
      const result = await adapter.registerTargets(ARN, targets);

      // Assess
      expect(TARGETS_PER_CALL).toBe(200);
      expect(elbv2).toHaveReceivedCommandTimes(RegisterTargetsCommand, 3);
      const expected = targets.map((target) => ({ Id: target.id, Port: target.port }));
      expect(elbv2.commandCalls(RegisterTargetsCommand).map((call) => call.args[0].input)).toEqual([
        { TargetGroupArn: ARN, Targets: expected.slice(0, 200) },
        { TargetGroupArn: ARN, Targets: expected.slice(200, 400) },
        { TargetGroupArn: ARN, Targets: expected.slice(400) },
      ]);
      expect(result).toEqual({ applied: targets, rejected: [] });
    });

    it('sends the chunks of one group together: all three are in flight before the first answers', async () => {
      // Prepare
      let inFlight = 0;
      let most = 0;
      elbv2.on(RegisterTargetsCommand).callsFake(async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        return {};
      });
      const adapter = new TargetGroupAdapter(client);

      // Act
      const result = await adapter.registerTargets(ARN, ipTargets(450));

      // Assess
      expect(most).toBe(3);
      expect(result.applied).toHaveLength(450);
    });

    it('makes no call when there is nothing to register', async () => {
      // Prepare
      const adapter = new TargetGroupAdapter(client);

      // Act
      const result = await adapter.registerTargets(ARN, []);

      // Assess
      expect(result).toEqual({ applied: [], rejected: [] });
      expect(elbv2).not.toHaveReceivedCommand(RegisterTargetsCommand);
    });

    it('sends a target listed twice only once', async () => {
      // Prepare
      elbv2.on(RegisterTargetsCommand).resolves({});
      const adapter = new TargetGroupAdapter(client);

      // Act
      const result = await adapter.registerTargets(ARN, [
        { id: '10.0.1.7', port: 30080 },
        { id: '10.0.1.7', port: 30080 },
        { id: '10.0.1.7', port: 30443 },
      ]);

      // Assess
      expect(registeredChunks()).toEqual([
        [
          { Id: '10.0.1.7', Port: 30080 },
          { Id: '10.0.1.7', Port: 30443 },
        ],
      ]);
      expect(result.applied).toHaveLength(2);
    });

    it('isolates one InvalidTarget among ten: nine applied, one rejected with its code', async () => {
      // Prepare
      const targets = ipTargets(10);
      const bad = targets[6] as TargetRef;
      rejectRegistrationOf(bad.id);
      const adapter = new TargetGroupAdapter(client);

      // Act
      const result = await adapter.registerTargets(ARN, targets);

      // Assess
      expect(result.applied).toEqual(targets.filter((target) => target !== bad));
      expect(result.rejected).toEqual([
        { target: bad, code: 'InvalidTarget', message: expect.stringContaining(bad.id) },
      ]);
      // Every target that ended up applied was in a call AWS accepted; the bad one never was.
      const accepted = registeredChunks()
        .filter((chunk) => !chunk?.some((target) => target.Id === bad.id))
        .flatMap((chunk) => chunk ?? []);
      expect(accepted.map((target) => target.Id).sort()).toEqual(
        targets
          .filter((target) => target !== bad)
          .map((target) => target.id)
          .sort(),
      );
    });

    it('isolates two InvalidTargets in different halves of the chunk', async () => {
      // Prepare
      const targets = ipTargets(10);
      const badIds = [(targets[1] as TargetRef).id, (targets[8] as TargetRef).id];
      rejectRegistrationOf(...badIds);
      const adapter = new TargetGroupAdapter(client);

      // Act
      const result = await adapter.registerTargets(ARN, targets);

      // Assess
      expect(result.applied.map((target) => target.id)).toEqual(
        targets.map((target) => target.id).filter((id) => !badIds.includes(id)),
      );
      expect(result.rejected.map((rejection) => [rejection.target.id, rejection.code])).toEqual([
        [badIds[0], 'InvalidTarget'],
        [badIds[1], 'InvalidTarget'],
      ]);
    });

    it('isolates a bad target only within its own chunk and applies the other chunks whole', async () => {
      // Prepare
      const targets = ipTargets(450);
      const bad = targets[420] as TargetRef;
      rejectRegistrationOf(bad.id);
      const adapter = new TargetGroupAdapter(client);

      // Act
      const result = await adapter.registerTargets(ARN, targets);

      // Assess
      expect(result.applied).toHaveLength(449);
      expect(result.rejected.map((rejection) => rejection.target)).toEqual([bad]);
      const chunks = registeredChunks();
      expect(chunks[0]).toHaveLength(200);
      expect(chunks[1]).toHaveLength(200);
      // 50 targets bisect in ceil(log2 50) = 6 levels, two calls per level after the first failure.
      expect(chunks.length).toBeLessThanOrEqual(3 + 2 * 6);
    });

    it('rejects every target when each one is invalid', async () => {
      // Prepare
      const targets = ipTargets(3);
      rejectRegistrationOf(...targets.map((target) => target.id));
      const adapter = new TargetGroupAdapter(client);

      // Act
      const result = await adapter.registerTargets(ARN, targets);

      // Assess
      expect(result.applied).toEqual([]);
      expect(result.rejected.map((rejection) => rejection.target)).toEqual(targets);
    });

    it('takes the rejection code from the wire code the SDK keeps in Code', async () => {
      // Prepare
      elbv2.on(RegisterTargetsCommand).rejects(
        Object.assign(new InvalidTargetException({ message: 'not running', $metadata: {} }), {
          Code: 'InvalidTarget',
        }),
      );
      const target = { id: 'i-0stopped', port: 30080 };
      const adapter = new TargetGroupAdapter(client);

      // Act
      const result = await adapter.registerTargets(ARN, [target]);

      // Assess
      expect(result).toEqual({
        applied: [],
        rejected: [{ target, code: 'InvalidTarget', message: 'not running' }],
      });
    });

    it('propagates an error that is not about one target, without bisecting', async () => {
      // Prepare
      elbv2.on(RegisterTargetsCommand).rejects(
        new ElasticLoadBalancingV2ServiceException({
          name: 'AccessDenied',
          $fault: 'client',
          $metadata: { httpStatusCode: 403 },
          message: 'User is not authorized to perform: elasticloadbalancing:RegisterTargets',
        }),
      );
      const adapter = new TargetGroupAdapter(client);

      // Act
      const registering = adapter.registerTargets(ARN, ipTargets(10));

      // Assess
      await expect(registering).rejects.toMatchObject({ name: 'AccessDenied' });
      expect(elbv2).toHaveReceivedCommandTimes(RegisterTargetsCommand, 1);
    });

    it('propagates throttling that outlived the SDK retries', async () => {
      // Prepare
      elbv2.on(RegisterTargetsCommand).rejects(
        new ElasticLoadBalancingV2ServiceException({
          name: 'Throttling',
          $fault: 'client',
          $metadata: { httpStatusCode: 400, attempts: 8 },
          message: 'Rate exceeded',
        }),
      );
      const adapter = new TargetGroupAdapter(client);

      // Act
      const registering = adapter.registerTargets(ARN, ipTargets(2));

      // Assess
      await expect(registering).rejects.toMatchObject({ name: 'Throttling' });
    });

    it('throws MissingResourceError naming the ARN when the target group does not exist', async () => {
      // Prepare
      elbv2
        .on(RegisterTargetsCommand)
        .rejects(
          new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: {} }),
        );
      const adapter = new TargetGroupAdapter(client);

      // Act
      const registering = adapter.registerTargets(ARN, ipTargets(3));

      // Assess
      await expect(registering).rejects.toThrow(MissingResourceError);
      await expect(registering).rejects.toThrow(`Target group ${ARN} does not exist`);
    });
  });

  describe('Method: deregisterTargets', () => {
    it('sends 450 targets in three calls of 200, 200 and 50', async () => {
      // Prepare
      elbv2.on(DeregisterTargetsCommand).resolves({});
      const targets = ipTargets(450);
      const adapter = new TargetGroupAdapter(client);

      // Act
      const result = await adapter.deregisterTargets(ARN, targets);

      // Assess
      const sizes = elbv2
        .commandCalls(DeregisterTargetsCommand)
        .map((call) => call.args[0].input.Targets?.length);
      expect(sizes).toEqual([200, 200, 50]);
      expect(elbv2).toHaveReceivedNthCommandWith(3, DeregisterTargetsCommand, {
        TargetGroupArn: ARN,
        Targets: targets.slice(400).map((target) => ({ Id: target.id, Port: target.port })),
      });
      expect(result).toEqual({ applied: targets, rejected: [] });
    });

    it('isolates an InvalidTarget and deregisters the rest', async () => {
      // Prepare
      const targets = ipTargets(4);
      const bad = targets[3] as TargetRef;
      elbv2.on(DeregisterTargetsCommand).callsFake((input: DeregisterTargetsCommandInput) => {
        if (input.Targets?.some((target) => target.Id === bad.id)) {
          throw new InvalidTargetException({ message: `Invalid target ${bad.id}`, $metadata: {} });
        }
        return {};
      });
      const adapter = new TargetGroupAdapter(client);

      // Act
      const result = await adapter.deregisterTargets(ARN, targets);

      // Assess
      expect(result.applied).toEqual(targets.slice(0, 3));
      expect(result.rejected).toEqual([
        { target: bad, code: 'InvalidTarget', message: `Invalid target ${bad.id}` },
      ]);
    });

    it('throws MissingResourceError when the target group does not exist', async () => {
      // Prepare
      elbv2
        .on(DeregisterTargetsCommand)
        .rejects(
          new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: {} }),
        );
      const adapter = new TargetGroupAdapter(client);

      // Act
      const deregistering = adapter.deregisterTargets(ARN, ipTargets(1));

      // Assess
      await expect(deregistering).rejects.toThrow(MissingResourceError);
    });
  });
});
