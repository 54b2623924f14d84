import { RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { parseSyncConfig, type SyncConfig } from '../../lambdas/domain/config';
import { lifecycleHookName } from '../../lambdas/domain/lifecycle-hooks';
import { createReconcileHandler } from '../../lambdas/handlers/reconcile-handler';
import { createContainer } from '../../lambdas/runtime/container';
import { lifecycleEvent, scheduledEvent, spotInterruptionEvent } from '../support/events';
import { silentTelemetry } from '../support/fake-aws';
import { sqsEventOf } from '../support/fake-queues';
import {
  isolated,
  MOTO_HOOK_TIMEOUT_MS,
  motoEndpoint,
  recordedLifecycleActions,
} from '../support/moto-test-env';
import {
  asgInstances,
  buildWorld,
  describeGroupTargets,
  setDesiredCapacity,
  type World,
  WorldTargetType,
  worldClients,
} from '../support/moto-world';
import { VirtualTime } from '../support/virtual-time';

/*
 * Held lifecycle actions against moto, with the shim's target model giving targets AWS's states
 * (initial -> healthy after 30 s; deregistered -> draining for the group's 300 s delay -> gone) on the
 * same virtual clock as the product and its queues (test/support/virtual-time.ts). The real handler,
 * use cases and adapters run; answers and heartbeats are what the shim recorded.
 */

const HEALTHY_AFTER_SECONDS = 30;

function configFor(world: World, extraAsgs: string[] = []): SyncConfig {
  return parseSyncConfig({
    clusters: [
      {
        name: 'it',
        nodeSource: { autoScalingGroups: [world.asgName, ...extraAsgs] },
        portMappings: world.targetGroups.map((tg) => ({
          name: tg.name.slice(-20).replace(/^-+/, '').toLowerCase(),
          targetGroupArn: tg.arn,
          targetType: tg.targetType,
          nodePort: tg.nodePort,
        })),
      },
    ],
  });
}

async function setUp(world: World, config = configFor(world)) {
  const time = new VirtualTime(motoEndpoint());
  await time.start({ healthyAfterSeconds: HEALTHY_AFTER_SECONDS });
  const container = createContainer({ ...silentTelemetry(), queues: time.queues, clock: time.clock });
  const reconcile = createReconcileHandler(config, container);
  await reconcile(scheduledEvent());
  await time.advance(HEALTHY_AFTER_SECONDS, reconcile, 5);
  return { time, container, reconcile };
}

async function answers(): Promise<string[]> {
  return (await recordedLifecycleActions()).map((r) =>
    `${r.action} ${r.lifecycleActionToken ?? r.instanceId} ${r.lifecycleActionResult ?? ''}`.trim(),
  );
}

/** The node's target state in each group, in world order (`absent` when the group no longer lists it). */
async function states(world: World, node: { privateIp: string; instanceId: string }): Promise<string[]> {
  return Promise.all(
    world.targetGroups.map(async (tg) => {
      const id = tg.targetType === 'ip' ? node.privateIp : node.instanceId;
      const target = (await describeGroupTargets(motoEndpoint(), tg.arn)).find((t) => t.id === id);
      return target?.state ?? 'absent';
    }),
  );
}

describe('Scenario: held lifecycle actions against moto with AWS target states', () => {
  let world: World;

  beforeEach(
    isolated(async () => {
      world = await buildWorld(motoEndpoint(), {
        nodes: 3,
        hookNames: {
          launch: lifecycleHookName('nlb-nodeport-sync', 'it', 'launch'),
          terminate: lifecycleHookName('nlb-nodeport-sync', 'it', 'terminate'),
        },
        asgName: 'it-workers',
        ports: [
          { name: 'app0', listenerPort: 4000, nodePort: 30000, targetType: WorldTargetType.ip },
          { name: 'inst', listenerPort: 4002, nodePort: 30002, targetType: WorldTargetType.instance },
        ],
      });
    }),
    MOTO_HOOK_TIMEOUT_MS,
  );

  it(
    'scale-out: CONTINUE is recorded only after every target of the new node turned healthy',
    isolated(async () => {
      // Prepare
      const { time, reconcile } = await setUp(world);
      const out = await setDesiredCapacity(motoEndpoint(), world.asgName, 4);
      const [id] = out.appeared;
      const node = (await asgInstances(motoEndpoint(), world.asgName)).find((n) => n.instanceId === id);
      if (id === undefined || node === undefined) throw new Error('no instance appeared');
      // Act
      await reconcile(lifecycleEvent(world, id, 'launch'));
      await time.advance(HEALTHY_AFTER_SECONDS - 5, reconcile);
      const whileInitial = {
        answers: await answers(),
        states: await states(world, node),
      };
      await time.advance(20, reconcile);
      // Assess
      expect(whileInitial).toEqual({ answers: [], states: ['initial', 'initial'] });
      expect(await states(world, node)).toEqual(['healthy', 'healthy']);
      expect(await answers()).toEqual([`CompleteLifecycleAction token-${id} CONTINUE`]);
    }),
  );

  it(
    'scale-in: CONTINUE is recorded only after draining ended, with a heartbeat while it drained',
    isolated(async () => {
      // Prepare
      const { time, reconcile } = await setUp(world);
      const before = await asgInstances(motoEndpoint(), world.asgName);
      const inn = await setDesiredCapacity(motoEndpoint(), world.asgName, 2);
      const [id] = inn.disappeared;
      const node = before.find((n) => n.instanceId === id);
      if (id === undefined || node === undefined) throw new Error('no instance left');
      // Act
      await reconcile(lifecycleEvent(world, id, 'terminate'));
      await time.advance(290, reconcile);
      const whileDraining = {
        answers: await answers(),
        states: await states(world, node),
      };
      await time.advance(30, reconcile);
      // Assess: the terminate hook waits 360 s by default, so one heartbeat at 180 s; the answer after 300 s
      expect(whileDraining).toEqual({
        answers: [`RecordLifecycleActionHeartbeat token-${id}`],
        states: ['draining', 'draining'],
      });
      expect(await states(world, node)).toEqual(['absent', 'absent']);
      expect(await answers()).toEqual([
        `RecordLifecycleActionHeartbeat token-${id}`,
        `CompleteLifecycleAction token-${id} CONTINUE`,
      ]);
    }),
  );

  it(
    'spot warning: the node is deregistered and a scheduled pass later does not register it again',
    isolated(async () => {
      // Prepare
      const { time, reconcile } = await setUp(world);
      const [node] = await asgInstances(motoEndpoint(), world.asgName);
      if (node === undefined) throw new Error('no node');
      // Act
      await reconcile(spotInterruptionEvent(node.instanceId));
      await time.advance(60, reconcile, 5);
      const scheduled = await reconcile(scheduledEvent());
      // Assess
      expect(scheduled.passes[0]?.changes).toEqual([]);
      expect(await states(world, node)).toEqual(['draining', 'draining']);
      const { ec2 } = worldClients(motoEndpoint());
      const { DescribeTagsCommand } = await import('@aws-sdk/client-ec2');
      const tags = await ec2.send(
        new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [node.instanceId] }] }),
      );
      expect(tags.Tags?.find((t) => t.Key === 'nlb-nodeport-sync/drain')?.Value).toMatch(
        /^spot-interruption /,
      );
    }),
  );

  it(
    'a first attempt failed by throttling is still answered by the product, long before the hook times out',
    isolated(async () => {
      // Prepare: the first RegisterTargets fails beyond the SDK's retries
      const { time, container, reconcile } = await setUp(world);
      jest
        .spyOn(container.targetGroups, 'registerTargets')
        .mockRejectedValueOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      const [id] = (await setDesiredCapacity(motoEndpoint(), world.asgName, 4)).appeared;
      if (id === undefined) throw new Error('no instance appeared');
      const start = time.elapsedSeconds();
      // Act
      const first = await reconcile(lifecycleEvent(world, id, 'launch'));
      let answeredAt: number | undefined;
      for (let s = 0; s < 120 && answeredAt === undefined; s += 1) {
        await time.advance(1, reconcile);
        if ((await answers()).length > 0) answeredAt = time.elapsedSeconds() - start;
      }
      // Assess: retried at 5 s through the lane, healthy 30 s later; the launch hook waits 300 s
      expect(first.lifecycle[0]).toMatchObject({ status: 'held', passError: expect.any(String) });
      expect(await answers()).toEqual([`CompleteLifecycleAction token-${id} CONTINUE`]);
      expect(answeredAt).toBeLessThanOrEqual(5 + HEALTHY_AFTER_SECONDS + 15);
    }),
  );

  it(
    'a poisoned message on the lane is rejected at once and does not delay the action behind it',
    isolated(async () => {
      // Prepare
      const { time, reconcile } = await setUp(world);
      const [id] = (await setDesiredCapacity(motoEndpoint(), world.asgName, 4)).appeared;
      if (id === undefined) throw new Error('no instance appeared');
      const lane = (body: string) =>
        sqsEventOf({ queue: 'lane', body, dueAt: time.clock.now(), groupId: 'it' });
      // Act
      const poisoned = await reconcile(lane('{"detail-type":"EC2 Instance-launch Lifecycle Action"'));
      const next = await reconcile(lane(JSON.stringify(lifecycleEvent(world, id, 'launch'))));
      await time.advance(HEALTHY_AFTER_SECONDS + 15, reconcile);
      // Assess
      expect(poisoned.rejected).toHaveLength(1);
      expect(next.lifecycle[0]?.status).toBe('held');
      expect(await answers()).toEqual([`CompleteLifecycleAction token-${id} CONTINUE`]);
    }),
  );

  it(
    'a cluster with one deleted ASG keeps its other ASG in sync and leaves the missing one’s targets alone',
    isolated(async () => {
      // Prepare: "deleted-workers" is gone; its node 10.0.77.7 still serves in app0
      const config = configFor(world, ['deleted-workers']);
      const [app0] = world.targetGroups;
      if (app0 === undefined) throw new Error('world incomplete');
      const { elbv2 } = worldClients(motoEndpoint());
      await elbv2.send(
        new RegisterTargetsCommand({ TargetGroupArn: app0.arn, Targets: [{ Id: '10.0.77.7', Port: 30000 }] }),
      );
      const { reconcile } = await setUp(world, config);
      // Act
      const out = await setDesiredCapacity(motoEndpoint(), world.asgName, 4);
      const scheduled = await reconcile(scheduledEvent());
      // Assess
      expect(scheduled.failures).toEqual([]);
      expect(scheduled.passes[0]?.missingAutoScalingGroups).toEqual(['deleted-workers']);
      const ids = (await describeGroupTargets(motoEndpoint(), app0.arn)).map((t) => t.id);
      expect(ids).toContain('10.0.77.7');
      const nodes = await asgInstances(motoEndpoint(), world.asgName);
      expect(nodes.map((n) => n.instanceId)).toEqual(expect.arrayContaining(out.appeared));
      for (const n of nodes) expect(ids).toContain(n.privateIp);
    }),
  );
});
