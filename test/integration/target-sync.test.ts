import { DeregisterTargetsCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { parseSyncConfig, type SyncConfig } from '../../lambdas/domain/config';
import { lifecycleHookName } from '../../lambdas/domain/lifecycle-hooks';
import { createLifecycleHandler } from '../../lambdas/handlers/lifecycle-handler';
import { createReconcileHandler } from '../../lambdas/handlers/reconcile-handler';
import { createContainer } from '../../lambdas/runtime/container';
import { lifecycleEvent, scheduledEvent } from '../support/events';
import { silentTelemetry } from '../support/fake-aws';
import { FakeQueues, ManualClock } from '../support/fake-queues';
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

/*
 * Whole reconcile scenarios against moto, through the real handlers, use cases and adapters. The
 * adapters use their default clients: endpoint and region come from the environment that this file's
 * harness prepared (AWS_ENDPOINT_URL points at the lifecycle shim in front of this file's moto).
 */

function configFor(world: World, preservedTargets: string[] = []): SyncConfig {
  return parseSyncConfig({
    clusters: [
      {
        name: 'it',
        nodeSource: { autoScalingGroups: [world.asgName] },
        portMappings: world.targetGroups.map((tg) => ({
          name: tg.name.slice(-20).replace(/^-+/, '').toLowerCase(),
          targetGroupArn: tg.arn,
          targetType: tg.targetType,
          nodePort: tg.nodePort,
        })),
        preservedTargets,
      },
    ],
  });
}

/**
 * The real handlers on the real adapters; the deployment's queues in memory on a manual clock (moto's SQS
 * delays are real seconds). `settle` moves the clock and delivers the re-checks that came due.
 */
function handlers(config: SyncConfig) {
  const queues = new FakeQueues(new ManualClock());
  const container = createContainer({ ...silentTelemetry(), queues, clock: queues.clock });
  const reconcile = createReconcileHandler(config, container);
  return {
    reconcile,
    lifecycle: createLifecycleHandler(config, container),
    settle: async (seconds: number) => {
      for (let s = 0; s < seconds; s += 1) {
        queues.clock.advance(1);
        await queues.deliverDue(reconcile);
      }
    },
  };
}

/** Each group's targets, as `id:port`, and what the ASG's nodes say they should be. */
async function targetsVsNodes(world: World) {
  const nodes = await asgInstances(motoEndpoint(), world.asgName);
  return Promise.all(
    world.targetGroups.map(async (tg) => ({
      actual: (await describeGroupTargets(motoEndpoint(), tg.arn)).map((t) => `${t.id}:${t.port}`).sort(),
      expected: nodes
        .map((n) => `${tg.targetType === 'ip' ? n.privateIp : n.instanceId}:${tg.nodePort}`)
        .sort(),
    })),
  );
}

async function expectConverged(world: World, count: number): Promise<void> {
  for (const group of await targetsVsNodes(world)) {
    expect(group.actual).toEqual(group.expected);
    expect(group.actual).toHaveLength(count);
  }
}

describe('Scenario: target sync against moto', () => {
  let world: World;

  // moto was reset and this test's fence opened just before (test/integration/setup-moto.ts).
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
          { name: 'app1', listenerPort: 4001, nodePort: 30001, targetType: WorldTargetType.ip },
          { name: 'inst', listenerPort: 4002, nodePort: 30002, targetType: WorldTargetType.instance },
        ],
      });
    }),
    MOTO_HOOK_TIMEOUT_MS,
  );

  it(
    'converges from empty target groups in one pass, and a second pass changes nothing',
    isolated(async () => {
      // Prepare
      const { reconcile } = handlers(configFor(world));
      // Act
      const first = await reconcile(scheduledEvent());
      const second = await reconcile(scheduledEvent());
      // Assess
      expect(first.passes[0]?.registered).toBe(9);
      expect(second.passes[0]?.changes).toEqual([]);
      await expectConverged(world, 3);
    }),
  );

  it(
    'follows a scale-out to 5 and a scale-in to 2 with lifecycle events, completing each action',
    isolated(async () => {
      // Prepare
      const { reconcile, lifecycle, settle } = handlers(configFor(world));
      await reconcile(scheduledEvent());
      // Act
      const out = await setDesiredCapacity(motoEndpoint(), world.asgName, 5);
      for (const id of out.appeared) await lifecycle(lifecycleEvent(world, id, 'launch'));
      await settle(15);
      // Assess
      await expectConverged(world, 5);
      // Act
      const inn = await setDesiredCapacity(motoEndpoint(), world.asgName, 2);
      for (const id of inn.disappeared) await lifecycle(lifecycleEvent(world, id, 'terminate'));
      await settle(15);
      // Assess
      await expectConverged(world, 2);
      const recorded = await recordedLifecycleActions();
      // Each action answered exactly once (the order among held actions is the order their checks came due).
      const answers = recorded.map(
        (r) => `${r.action} ${r.instanceId ?? r.lifecycleActionToken} ${r.lifecycleActionResult}`,
      );
      expect(answers.sort()).toEqual(
        [...out.appeared, ...inn.disappeared]
          .map((id) => `CompleteLifecycleAction token-${id} CONTINUE`)
          .sort(),
      );
      expect(recorded.every((r) => r.autoScalingGroupName === world.asgName)).toBe(true);
    }),
  );

  it(
    'repairs drift: a target removed by hand comes back and a stranger target is removed',
    isolated(async () => {
      // Prepare
      const { reconcile } = handlers(configFor(world));
      await reconcile(scheduledEvent());
      const { elbv2 } = worldClients(motoEndpoint());
      const [app0] = world.targetGroups;
      const [node] = await asgInstances(motoEndpoint(), world.asgName);
      if (app0 === undefined || node === undefined) throw new Error('world incomplete');
      await elbv2.send(
        new DeregisterTargetsCommand({
          TargetGroupArn: app0.arn,
          Targets: [{ Id: node.privateIp, Port: 30000 }],
        }),
      );
      await elbv2.send(
        new RegisterTargetsCommand({
          TargetGroupArn: app0.arn,
          Targets: [{ Id: '10.0.200.9', Port: 30000 }],
        }),
      );
      // Act
      const pass = await reconcile(scheduledEvent());
      // Assess
      expect(pass.passes[0]?.changes.map((c) => `${c.action} ${c.target.id}`).sort()).toEqual([
        'deregister 10.0.200.9',
        `register ${node.privateIp}`,
      ]);
      await expectConverged(world, 3);
    }),
  );

  it(
    'leaves a preserved target in place, by CIDR',
    isolated(async () => {
      // Prepare
      const { reconcile } = handlers(configFor(world, ['10.0.250.0/24']));
      const { elbv2 } = worldClients(motoEndpoint());
      const [app0] = world.targetGroups;
      if (app0 === undefined) throw new Error('world incomplete');
      await elbv2.send(
        new RegisterTargetsCommand({
          TargetGroupArn: app0.arn,
          Targets: [{ Id: '10.0.250.7', Port: 30000 }],
        }),
      );
      // Act
      await reconcile(scheduledEvent());
      await reconcile(scheduledEvent());
      // Assess
      const targets = (await describeGroupTargets(motoEndpoint(), app0.arn)).map((t) => t.id);
      expect(targets).toContain('10.0.250.7');
      expect(targets).toHaveLength(4);
    }),
  );

  it(
    'refuses, writing nothing and reporting it, when most registered nodes vanish without evidence',
    isolated(async () => {
      // Prepare: the ASG is scaled from 3 to 1 behind the product's back and no lifecycle event arrives
      const { reconcile } = handlers(configFor(world));
      await reconcile(scheduledEvent());
      const before = await Promise.all(
        world.targetGroups.map((tg) => describeGroupTargets(motoEndpoint(), tg.arn)),
      );
      await setDesiredCapacity(motoEndpoint(), world.asgName, 1);
      // Act
      const result = await reconcile(scheduledEvent());
      // Assess: reported as a failure (log, metrics), never by failing the invocation
      expect(result.failures).toEqual([expect.stringMatching(/GuardRefusalError/)]);
      const after = await Promise.all(
        world.targetGroups.map((tg) => describeGroupTargets(motoEndpoint(), tg.arn)),
      );
      expect(after).toEqual(before);
    }),
  );

  it(
    'never registers an instance headed into a warm pool',
    isolated(async () => {
      // Prepare
      const { reconcile, lifecycle } = handlers(configFor(world));
      await reconcile(scheduledEvent());
      const out = await setDesiredCapacity(motoEndpoint(), world.asgName, 4);
      const [newcomer] = out.appeared;
      if (newcomer === undefined) throw new Error('no instance appeared');
      // Act
      const [outcome] = await lifecycle(lifecycleEvent(world, newcomer, 'launch', 'WarmPool'));
      // Assess
      expect(outcome?.status).toBe('answered');
      const instTargets = await describeGroupTargets(motoEndpoint(), world.targetGroups[2]?.arn ?? '');
      expect(instTargets.map((t) => t.id)).not.toContain(newcomer);
      expect((await recordedLifecycleActions()).map((r) => r.lifecycleActionResult)).toEqual(['CONTINUE']);
    }),
  );

  it(
    'reports a named error, and writes nothing, when a configured target group does not exist',
    isolated(async () => {
      // Prepare
      const config = configFor(world);
      const broken = parseSyncConfig({
        ...config,
        clusters: [
          {
            ...config.clusters[0],
            portMappings: [
              ...(config.clusters[0]?.portMappings ?? []),
              {
                name: 'ghost',
                targetGroupArn:
                  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/ghost/0123456789abcdef',
                nodePort: 30009,
              },
            ],
          },
        ],
      });
      const { reconcile } = handlers(broken);
      // Act
      const result = await reconcile(scheduledEvent());
      // Assess
      expect(result.failures).toEqual([expect.stringMatching(/MissingResourceError: Target group .*ghost/)]);
      for (const tg of world.targetGroups)
        expect(await describeGroupTargets(motoEndpoint(), tg.arn)).toEqual([]);
    }),
  );
});
