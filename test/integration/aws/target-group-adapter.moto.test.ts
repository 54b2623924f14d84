import { StopInstancesCommand } from '@aws-sdk/client-ec2';
import { TargetGroupAdapter } from '../../../lambdas/aws/target-group-adapter';
import { MissingResourceError } from '../../../lambdas/domain/errors';
import type { TargetRef } from '../../../lambdas/domain/target';
import { isolated, MOTO_HOOK_TIMEOUT_MS, motoEndpoint } from '../../support/moto-test-env';
import {
  asgInstances,
  buildWorld,
  type World,
  WorldTargetType,
  worldClients,
} from '../../support/moto-world';

/*
 * The adapter is built with its default client: region, endpoint and credentials come from the
 * environment this file's moto harness prepared (test/integration/setup-moto.ts), exactly as in Lambda.
 */

function groupArn(world: World, targetType: string): string {
  const group = world.targetGroups.find((candidate) => candidate.targetType === targetType);
  if (group === undefined) {
    throw new Error(`no ${targetType} target group in the world`);
  }
  return group.arn;
}

/** n distinct IP targets inside the world's 10.0.0.0/16. */
function ipTargets(n: number, port: number): TargetRef[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `10.0.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`,
    port,
  }));
}

describe('Class: TargetGroupAdapter (moto)', () => {
  let world: World;

  // moto was reset and this test's fence opened just before (test/integration/setup-moto.ts).
  beforeEach(
    isolated(async () => {
      world = await buildWorld(motoEndpoint(), {
        nodes: 3,
        ports: [
          { name: 'http', listenerPort: 80, nodePort: 30080, targetType: WorldTargetType.ip },
          { name: 'https', listenerPort: 443, nodePort: 30443, targetType: WorldTargetType.instance },
        ],
      });
    }),
    MOTO_HOOK_TIMEOUT_MS,
  );

  describe('Method: registerTargets', () => {
    it(
      'registers 450 IP targets in chunks and describes every one of them',
      isolated(async () => {
        // Prepare
        const adapter = new TargetGroupAdapter();
        const arn = groupArn(world, WorldTargetType.ip);
        const targets = ipTargets(450, 30080);

        // Act
        const result = await adapter.registerTargets(arn, targets);
        const observed = await adapter.describeTargets(arn);

        // Assess
        expect(result).toEqual({ applied: targets, rejected: [] });
        expect(observed).toHaveLength(450);
        expect(observed.map((target) => `${target.id}:${target.port}`).sort()).toEqual(
          targets.map((target) => `${target.id}:${target.port}`).sort(),
        );
      }),
    );

    it(
      'isolates a stopped instance and registers the running ones',
      isolated(async () => {
        // Prepare
        const adapter = new TargetGroupAdapter();
        const arn = groupArn(world, WorldTargetType.instance);
        const instances = await asgInstances(motoEndpoint(), world.asgName);
        const [stopped] = instances;
        if (stopped === undefined) {
          throw new Error('the world has no instances');
        }
        await worldClients(motoEndpoint()).ec2.send(
          new StopInstancesCommand({ InstanceIds: [stopped.instanceId] }),
        );
        const targets = instances.map((instance) => ({ id: instance.instanceId, port: 30443 }));

        // Act
        const result = await adapter.registerTargets(arn, targets);
        const observed = await adapter.describeTargets(arn);

        // Assess
        expect(result.rejected).toEqual([
          {
            target: { id: stopped.instanceId, port: 30443 },
            code: 'InvalidTarget',
            message: expect.any(String),
          },
        ]);
        expect(result.applied).toEqual(targets.filter((target) => target.id !== stopped.instanceId));
        expect(observed.map((target) => target.id).sort()).toEqual(
          result.applied.map((target) => target.id).sort(),
        );
      }),
    );

    it(
      'throws MissingResourceError for a target group that does not exist',
      isolated(async () => {
        // Prepare
        const adapter = new TargetGroupAdapter();
        const missing =
          'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gone/0123456789abcdef';

        // Act
        const registering = adapter.registerTargets(missing, ipTargets(1, 30080));

        // Assess
        await expect(registering).rejects.toThrow(MissingResourceError);
      }),
    );
  });

  describe('Method: deregisterTargets', () => {
    it(
      'deregisters targets so that they are no longer described',
      isolated(async () => {
        // Prepare
        const adapter = new TargetGroupAdapter();
        const arn = groupArn(world, WorldTargetType.ip);
        const targets = ipTargets(5, 30080);
        await adapter.registerTargets(arn, targets);

        // Act
        const result = await adapter.deregisterTargets(arn, targets.slice(0, 3));
        const observed = await adapter.describeTargets(arn);

        // Assess
        expect(result).toEqual({ applied: targets.slice(0, 3), rejected: [] });
        expect(observed.map((target) => target.id).sort()).toEqual(
          targets.slice(3).map((target) => target.id),
        );
      }),
    );
  });

  describe('Method: describeTargets', () => {
    it(
      'throws MissingResourceError naming a target group that does not exist',
      isolated(async () => {
        // Prepare
        const adapter = new TargetGroupAdapter();
        const missing =
          'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gone/0123456789abcdef';

        // Act
        const describing = adapter.describeTargets(missing);

        // Assess
        await expect(describing).rejects.toThrow(missing);
      }),
    );
  });
});
