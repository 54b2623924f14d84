#!/usr/bin/env node
/**
 * `npm run demo`: the whole loop on moto. Starts moto (and the lifecycle shim that answers what moto
 * does not implement) on loopback, builds a VPC, an ASG of 3 nodes and an NLB with three target
 * groups, runs a pass, scales to 5 and to 2 with the matching lifecycle events, and prints each
 * group's targets after every step. Exits non-zero if any group does not hold exactly the ASG's nodes.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { parseSyncConfig, type SyncConfig } from '../lambdas/domain/config';
import { createLifecycleHandler } from '../lambdas/handlers/lifecycle-handler';
import { createReconcileHandler } from '../lambdas/handlers/reconcile-handler';
import { createContainer } from '../lambdas/runtime/container';
import { startLifecycleShim } from '../test/support/lifecycle-shim';
import { startMotoServer } from '../test/support/moto-server';
import {
  asgInstances,
  buildWorld,
  describeGroupTargets,
  setDesiredCapacity,
  type World,
} from '../test/support/moto-world';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

function lifecycleEvent(
  world: World,
  instanceId: string,
  kind: 'launch' | 'terminate',
): Record<string, unknown> {
  const launching = kind === 'launch';
  return {
    version: '0',
    id: `demo-${kind}-${instanceId}`,
    'detail-type': launching
      ? 'EC2 Instance-launch Lifecycle Action'
      : 'EC2 Instance-terminate Lifecycle Action',
    source: 'aws.autoscaling',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: REGION,
    resources: [
      `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:demo:autoScalingGroupName/${world.asgName}`,
    ],
    detail: {
      LifecycleActionToken: `token-${instanceId}`,
      AutoScalingGroupName: world.asgName,
      LifecycleHookName: launching ? world.launchHookName : world.terminateHookName,
      EC2InstanceId: instanceId,
      LifecycleTransition: launching
        ? 'autoscaling:EC2_INSTANCE_LAUNCHING'
        : 'autoscaling:EC2_INSTANCE_TERMINATING',
      Origin: launching ? 'EC2' : 'AutoScalingGroup',
      Destination: launching ? 'AutoScalingGroup' : 'EC2',
    },
  };
}

function scheduledEvent(): Record<string, unknown> {
  return {
    version: '0',
    id: 'demo-schedule',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: REGION,
    resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/demo`],
    detail: {},
  };
}

function demoConfig(world: World): SyncConfig {
  return parseSyncConfig(
    {
      clusters: [
        {
          name: 'demo',
          nodeSource: { autoScalingGroups: [world.asgName] },
          loadBalancer: { arn: world.loadBalancerArn },
          portMappings: world.targetGroups.map((tg, i) => ({
            name: tg.name.replace(/^demo-/, ''),
            targetGroupArn: tg.arn,
            targetType: tg.targetType,
            listenerPort: 4000 + i,
            nodePort: tg.nodePort,
          })),
        },
      ],
    },
    'demo config',
  );
}

/** Prints each group's targets and checks they are exactly the ASG's nodes; returns the mismatches. */
async function showAndCheck(endpoint: string, world: World, step: string): Promise<string[]> {
  const nodes = await asgInstances(endpoint, world.asgName);
  const problems: string[] = [];
  console.log(`\n== ${step}: ASG ${world.asgName} has ${nodes.length} node(s)`);
  for (const node of nodes) console.log(`   ${node.instanceId} ${node.privateIp} ${node.lifecycleState}`);
  for (const tg of world.targetGroups) {
    const targets = await describeGroupTargets(endpoint, tg.arn);
    const got = targets.map((t) => `${t.id}:${t.port}`).sort();
    const want = nodes
      .map((n) => `${tg.targetType === 'ip' ? n.privateIp : n.instanceId}:${tg.nodePort}`)
      .sort();
    const ok = JSON.stringify(got) === JSON.stringify(want);
    console.log(
      `   ${tg.name} (${tg.targetType} -> NodePort ${tg.nodePort}): ${got.length} target(s) ${ok ? 'OK' : 'MISMATCH'}`,
    );
    for (const t of targets) console.log(`     ${t.id}:${t.port} ${t.state ?? ''}`);
    if (!ok) problems.push(`${step}: ${tg.name} holds [${got.join(', ')}], expected [${want.join(', ')}]`);
  }
  return problems;
}

async function main(): Promise<number> {
  const moto = await startMotoServer();
  const shim = await startLifecycleShim(moto.endpoint);
  try {
    console.log(`moto ${moto.version} on ${moto.endpoint}; lifecycle shim on ${shim.endpoint}`);
    // The product code reads these as the SDK always does: nothing in it knows it runs on moto.
    process.env.AWS_ENDPOINT_URL = shim.endpoint;
    process.env.AWS_REGION = REGION;
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const world = await buildWorld(shim.endpoint, {
      nodes: 3,
      asgName: 'demo-workers',
      ports: [
        { name: 'demo-app0', listenerPort: 4000, nodePort: 30000, targetType: 'ip' },
        { name: 'demo-app1', listenerPort: 4001, nodePort: 30001, targetType: 'ip' },
        { name: 'demo-inst', listenerPort: 4002, nodePort: 30002, targetType: 'instance' },
      ],
    });
    const config = demoConfig(world);
    // Warnings and errors only by default; DEMO_LOG_LEVEL=INFO shows every change with its reason.
    const logLevel = process.env.DEMO_LOG_LEVEL === 'INFO' ? 'INFO' : 'WARN';
    const container = createContainer({ logger: new Logger({ serviceName: 'nlb-nodeport-sync', logLevel }) });
    const reconcile = createReconcileHandler(config, container);
    const lifecycle = createLifecycleHandler(config, container);
    const problems: string[] = [];

    problems.push(
      ...(await showAndCheck(shim.endpoint, world, 'before the first pass')).map(() => '').filter(Boolean),
    );
    const first = await reconcile(scheduledEvent());
    console.log(
      `\npass (schedule): registered ${first.passes[0]?.registered ?? 0}, deregistered ${first.passes[0]?.deregistered ?? 0}`,
    );
    problems.push(...(await showAndCheck(shim.endpoint, world, 'after the first pass (3 nodes)')));

    const out = await setDesiredCapacity(shim.endpoint, world.asgName, 5);
    for (const id of out.appeared) await lifecycle(lifecycleEvent(world, id, 'launch'));
    problems.push(
      ...(await showAndCheck(
        shim.endpoint,
        world,
        `after scale-out to 5 (${out.appeared.length} launch events)`,
      )),
    );

    const inn = await setDesiredCapacity(shim.endpoint, world.asgName, 2);
    for (const id of inn.disappeared) await lifecycle(lifecycleEvent(world, id, 'terminate'));
    problems.push(
      ...(await showAndCheck(
        shim.endpoint,
        world,
        `after scale-in to 2 (${inn.disappeared.length} terminate events)`,
      )),
    );

    const completions = shim.recorded().filter((r) => r.action === 'CompleteLifecycleAction');
    console.log(
      `\nlifecycle actions completed: ${completions.length} (${completions.map((c) => c.lifecycleActionResult).join(', ')})`,
    );
    const expected = out.appeared.length + inn.disappeared.length;
    if (completions.length !== expected)
      problems.push(`expected ${expected} lifecycle completions, saw ${completions.length}`);
    if (problems.length > 0) {
      console.error(`\nDEMO FAILED: did not converge\n  ${problems.join('\n  ')}`);
      return 1;
    }
    console.log('\nDEMO OK: every target group held exactly the ASG nodes after every step');
    return 0;
  } finally {
    await shim.stop();
    await moto.stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    console.error(`demo failed: ${error.name}: ${error.message}`);
    process.exitCode = 1;
  },
);
