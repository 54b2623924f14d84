import { DescribeSecurityGroupRulesCommand } from '@aws-sdk/client-ec2';
import { RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { parseSyncConfig, parseSyncConfigText, type SyncConfig } from '../../lambdas/domain/config';
import { createReconcileHandler } from '../../lambdas/handlers/reconcile-handler';
import { createContainer } from '../../lambdas/runtime/container';
import { scheduledEvent } from '../support/events';
import { silentTelemetry } from '../support/fake-aws';
import { FakeQueues, ManualClock, sqsEventOf } from '../support/fake-queues';
import { isolated, MOTO_HOOK_TIMEOUT_MS, MOTO_TEST_TIMEOUT_MS, motoEndpoint } from '../support/moto-test-env';
import {
  asgInstances,
  buildWorld,
  describeGroupTargets,
  type World,
  type WorldPort,
  WorldTargetType,
  worldClients,
} from '../support/moto-world';

/*
 * Issue 9: a deployment of the NLB's full size runs. 4 clusters, each behind its own NLB with 50 listeners
 * and target groups (the NLB's listener quota), the config shaped as test/infra/large-config.ts shapes it
 * (loadBalancer.arn, security groups, a health-check NodePort on every fifth mapping, some instance
 * targets), handed to the real pass handler on the real adapters as the deployed function loads it, one lane
 * message per cluster as the schedule sends them.
 *
 * Runtime: the product's target writes share a 4/s bucket (burst 20, lambdas/aws/rate-limit.ts), so 200
 * groups converging from empty would wait ~45 s for it alone. The scene starts as a running deployment
 * does: most groups already hold their nodes; a few per cluster are empty or hold a stranger, which the pass
 * must fix (16 writes, within the burst). Every one of the 200 groups is still read and checked.
 */

const CLUSTERS = 4;
const MAPPINGS = 50;
const NODES = 3;
/** Per cluster: groups left empty (the pass registers the nodes) and groups given a stranger to remove. */
const EMPTY_GROUPS = 3;
const STRANGER_GROUPS = 1;
const STRANGER = '10.0.250.9';

function ports(): WorldPort[] {
  return Array.from({ length: MAPPINGS }, (_, m) => ({
    name: `s${m}`,
    listenerPort: 10000 + m,
    nodePort: 30000 + m,
    targetType: m % 10 === 9 ? WorldTargetType.instance : WorldTargetType.ip,
    ...(m % 5 === 0 ? { healthCheckNodePort: 32000 + m } : {}),
  }));
}

function configFor(worlds: readonly World[]): SyncConfig {
  const config = parseSyncConfig({
    ownerId: 'platform-ingress',
    clusters: worlds.map((world, c) => ({
      name: `cluster-${c}`,
      nodeSource: { autoScalingGroups: [world.asgName] },
      loadBalancer: { arn: world.loadBalancerArn },
      portMappings: world.targetGroups.map((tg, m) => ({
        name: `service-${m}`,
        targetGroupArn: tg.arn,
        targetType: tg.targetType,
        nodePort: tg.nodePort,
        listenerPort: 10000 + m,
        ...(m % 5 === 0 ? { healthCheckNodePort: 32000 + m } : {}),
      })),
      securityGroups: { groupIds: [world.securityGroupId], source: 'vpc-cidr' },
    })),
  });
  // As the deployed function receives it: the validated config as a file's text, validated again at init.
  return parseSyncConfigText(JSON.stringify(config), 'the bundled configuration');
}

/** The deployed path: the schedule puts one message per cluster on the lane, its group the cluster's name. */
function scheduler(config: SyncConfig) {
  const queues = new FakeQueues(new ManualClock());
  const reconcile = createReconcileHandler(
    config,
    createContainer({ ...silentTelemetry(), queues, clock: queues.clock }),
  );
  return async () => {
    const results = [];
    for (const cluster of config.clusters) {
      results.push(
        await reconcile(
          sqsEventOf({
            queue: 'lane',
            body: JSON.stringify(scheduledEvent(`schedule-${cluster.name}`)),
            dueAt: 0,
            groupId: cluster.name,
          }),
        ),
      );
    }
    return {
      passes: results.flatMap((r) => r.passes),
      failures: results.flatMap((r) => r.failures),
      skipped: results.flatMap((r) => r.skipped),
    };
  };
}

/** Registers the nodes in every group but the first EMPTY_GROUPS, and a stranger in the next ones. */
async function runningDeployment(world: World): Promise<void> {
  const { elbv2 } = worldClients(motoEndpoint());
  const nodes = await asgInstances(motoEndpoint(), world.asgName);
  await Promise.all(
    world.targetGroups.slice(EMPTY_GROUPS).map((tg, i) =>
      elbv2.send(
        new RegisterTargetsCommand({
          TargetGroupArn: tg.arn,
          Targets: [
            ...nodes.map((n) => ({
              Id: tg.targetType === WorldTargetType.ip ? n.privateIp : n.instanceId,
              Port: tg.nodePort,
            })),
            ...(i < STRANGER_GROUPS ? [{ Id: STRANGER, Port: tg.nodePort }] : []),
          ],
        }),
      ),
    ),
  );
}

/** Groups whose targets are not exactly the ASG's nodes at the group's NodePort. */
async function unconverged(world: World): Promise<string[]> {
  const nodes = await asgInstances(motoEndpoint(), world.asgName);
  const off: string[] = [];
  for (const tg of world.targetGroups) {
    const actual = (await describeGroupTargets(motoEndpoint(), tg.arn))
      .map((t) => `${t.id}:${t.port}`)
      .sort();
    const expected = nodes
      .map((n) => `${tg.targetType === WorldTargetType.ip ? n.privateIp : n.instanceId}:${tg.nodePort}`)
      .sort();
    if (JSON.stringify(actual) !== JSON.stringify(expected)) off.push(`${tg.name}: ${actual.join(' ')}`);
  }
  return off;
}

describe('Scenario: a 4 x 50 port-mapping deployment on moto', () => {
  let worlds: World[];

  beforeEach(
    isolated(async () => {
      const started = Date.now();
      worlds = await Promise.all(
        Array.from({ length: CLUSTERS }, (_, c) =>
          buildWorld(motoEndpoint(), { nodes: NODES, asgName: `c${c}-workers`, ports: ports() }),
        ),
      );
      await Promise.all(worlds.map(runningDeployment));
      process.stdout.write(
        `large-config: ${CLUSTERS} worlds of ${MAPPINGS} groups built and registered in ${Date.now() - started} ms\n`,
      );
    }),
    MOTO_HOOK_TIMEOUT_MS,
  );

  it(
    'converges every group of every cluster in one pass, with the node rules, and a second pass changes nothing',
    isolated(async () => {
      // Prepare
      const config = configFor(worlds);
      const pass = scheduler(config);

      // Act
      const started = Date.now();
      const first = await pass();
      const firstMs = Date.now() - started;
      const second = await pass();
      const secondMs = Date.now() - started - firstMs;
      process.stdout.write(`large-config: first pass ${firstMs} ms, second (no-op) ${secondMs} ms\n`);

      // Assess
      expect(first.failures).toEqual([]);
      expect(first.skipped).toEqual([]);
      expect(first.passes.map((p) => p.cluster)).toEqual(config.clusters.map((c) => c.name));
      expect(first.passes.map((p) => p.registered)).toEqual(Array(CLUSTERS).fill(EMPTY_GROUPS * NODES));
      expect(first.passes.map((p) => p.deregistered)).toEqual(Array(CLUSTERS).fill(STRANGER_GROUPS));
      expect(first.passes.map((p) => p.groups.length)).toEqual(Array(CLUSTERS).fill(MAPPINGS));
      for (const world of worlds) expect(await unconverged(world)).toEqual([]);
      const { ec2 } = worldClients(motoEndpoint());
      for (const world of worlds) {
        const rules = await ec2.send(
          new DescribeSecurityGroupRulesCommand({
            Filters: [{ Name: 'group-id', Values: [world.securityGroupId] }],
          }),
        );
        const ingress = (rules.SecurityGroupRules ?? []).filter((r) => r.IsEgress === false);
        // Traffic on 30000-30049 (one merged range) and health checks on every fifth mapping's port.
        expect(ingress.map((r) => `${r.FromPort}-${r.ToPort}`).sort()).toEqual(
          [
            '30000-30049',
            ...Array.from({ length: MAPPINGS / 5 }, (_, i) => `${32000 + 5 * i}-${32000 + 5 * i}`),
          ].sort(),
        );
      }
      expect(second.failures).toEqual([]);
      expect(second.passes.flatMap((p) => p.changes)).toEqual([]);
      expect(second.passes.flatMap((p) => p.steps.flatMap((s) => s.planned))).toEqual([]);
    }),
    MOTO_TEST_TIMEOUT_MS,
  );
});
