#!/usr/bin/env node
/**
 * `npm run demo`: the whole loop on moto. Starts moto (and the lifecycle shim that answers what moto
 * does not implement) on loopback, builds a VPC, an ASG of 3 nodes and an NLB with three target
 * groups, runs a pass, scales to 5 and to 2 with the matching lifecycle events, and prints each
 * group's targets after every step. Exits non-zero if any group does not hold exactly the ASG's nodes.
 */
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand } from '@aws-sdk/client-ec2';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { StderrLogger } from '../lambdas/cli/stderr-logger';
import { parseSyncConfig, type SyncConfig } from '../lambdas/domain/config';
import { lifecycleHookName } from '../lambdas/domain/lifecycle-hooks';
import { createReconcileHandler } from '../lambdas/handlers/reconcile-handler';
import { createContainer } from '../lambdas/runtime/container';
import { lifecycleEvent, scheduledEvent, spotInterruptionEvent } from '../test/support/events';
import { startLifecycleShim } from '../test/support/lifecycle-shim';
import { startMotoServer } from '../test/support/moto-server';
import {
  asgInstances,
  buildWorld,
  describeGroupTargets,
  setDesiredCapacity,
  type World,
  worldClients,
} from '../test/support/moto-world';
import { VirtualTime } from '../test/support/virtual-time';
import { Story } from './demo-story';

const REGION = 'us-east-1';

/** Where the product's log lines go while the demo tells its story on stdout. */
const LOG_FILE = join(tmpdir(), `nlb-nodeport-sync-demo-${process.pid}.log`);

const ZONE = 'demo.internal';

function demoConfig(world: World, hostedZoneId: string): SyncConfig {
  return parseSyncConfig(
    {
      clusters: [
        {
          name: 'demo',
          nodeSource: { autoScalingGroups: [world.asgName] },
          loadBalancer: { arn: world.loadBalancerArn },
          securityGroups: { source: 'auto', clientCidrs: ['192.168.0.0/16'] },
          dns: {
            hostedZoneId,
            aliasNames: [`proxy.${ZONE}`, `legacy.${ZONE}`],
            nodeRecordName: `nodes.${ZONE}`,
            srvDomain: ZONE,
          },
          portMappings: world.targetGroups.map((tg, i) => ({
            name: tg.name.replace(`${world.asgName}-demo-`, ''),
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
async function showAndCheck(
  endpoint: string,
  world: World,
  step: string,
  marked: ReadonlySet<string>,
  checked = true,
): Promise<string[]> {
  const nodes = (await asgInstances(endpoint, world.asgName)).filter((n) => !marked.has(n.instanceId));
  const problems: string[] = [];
  console.log(
    `\n== ${step}: ASG ${world.asgName} has ${nodes.length} serving node(s)${marked.size > 0 ? ` (+ drain-marked: ${[...marked].join(', ')})` : ''}`,
  );
  for (const node of nodes) console.log(`   ${node.instanceId} ${node.privateIp} ${node.lifecycleState}`);
  for (const tg of world.targetGroups) {
    const targets = await describeGroupTargets(endpoint, tg.arn);
    const got = targets.map((t) => `${t.id}:${t.port}`).sort();
    const want = nodes
      .map((n) => `${tg.targetType === 'ip' ? n.privateIp : n.instanceId}:${tg.nodePort}`)
      .sort();
    // Targets still draining are on their way out: AWS lists them until the delay ends.
    const serving = targets
      .filter((t) => t.state !== 'draining')
      .map((t) => `${t.id}:${t.port}`)
      .sort();
    const ok = JSON.stringify(serving) === JSON.stringify(want);
    console.log(
      `   ${tg.name} (${tg.targetType} -> NodePort ${tg.nodePort}): ${got.length} target(s) ${checked ? (ok ? 'OK' : 'MISMATCH') : '(not synced yet)'}`,
    );
    for (const t of targets) console.log(`     ${t.id}:${t.port} ${t.state ?? ''}`);
    if (!ok)
      problems.push(`${step}: ${tg.name} serves [${serving.join(', ')}], expected [${want.join(', ')}]`);
  }
  return problems;
}

/** Prints the node security group's inbound rules: ours (marked) and the hand-made one. */
async function showRules(endpoint: string, world: World): Promise<void> {
  const { ec2 } = worldClients(endpoint);
  const rules = await ec2.send(
    new DescribeSecurityGroupRulesCommand({
      Filters: [{ Name: 'group-id', Values: [world.securityGroupId] }],
    }),
  );
  const inbound = (rules.SecurityGroupRules ?? []).filter((r) => r.IsEgress === false);
  console.log(`   security group ${world.securityGroupId}: ${inbound.length} inbound rule(s)`);
  for (const r of inbound) {
    const ports = r.FromPort === r.ToPort ? `${r.FromPort}` : `${r.FromPort}-${r.ToPort}`;
    const from = r.CidrIpv4 ?? r.ReferencedGroupInfo?.GroupId ?? '?';
    console.log(`     ${r.IpProtocol} ${ports} from ${from}  "${r.Description ?? ''}"`);
  }
}

/** Checks the node A record lists exactly the ASG's IPs and the hand-made record is untouched. */
async function checkRecords(
  route53: Route53Client,
  zoneId: string,
  endpoint: string,
  world: World,
  marked: ReadonlySet<string>,
): Promise<string[]> {
  const sets =
    (await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets ??
    [];
  const ips = (await asgInstances(endpoint, world.asgName))
    .filter((n) => !marked.has(n.instanceId))
    .map((n) => n.privateIp)
    .sort();
  const nodeA = sets.find((r) => r.Name === `nodes.${ZONE}.` && r.Type === 'A');
  const legacy = sets.find((r) => r.Name === `legacy.${ZONE}.` && r.Type === 'A');
  const problems: string[] = [];
  const got = (nodeA?.ResourceRecords ?? []).map((v) => v.Value ?? '').sort();
  if (JSON.stringify(got) !== JSON.stringify(ips))
    problems.push(`nodes.${ZONE} A is [${got.join(', ')}], expected [${ips.join(', ')}]`);
  if (legacy?.ResourceRecords?.[0]?.Value !== '192.0.2.10')
    problems.push(`the hand-made legacy.${ZONE} record was changed`);
  return problems;
}

/** Checks no rule admits the removed port any more and the hand-made ssh rule is still there. */
async function checkRulesWithout(endpoint: string, world: World, port: number): Promise<string[]> {
  const { ec2 } = worldClients(endpoint);
  const rules = await ec2.send(
    new DescribeSecurityGroupRulesCommand({
      Filters: [{ Name: 'group-id', Values: [world.securityGroupId] }],
    }),
  );
  const inbound = (rules.SecurityGroupRules ?? []).filter((r) => r.IsEgress === false);
  const problems: string[] = [];
  if (inbound.some((r) => (r.FromPort ?? 0) <= port && port <= (r.ToPort ?? 0))) {
    problems.push(`a rule still admits the removed NodePort ${port}`);
  }
  if (!inbound.some((r) => r.FromPort === 22 && r.Description === 'ssh (hand-made)')) {
    problems.push('the hand-made ssh rule was touched');
  }
  return problems;
}

/** Prints the zone's records (SOA and NS left out). */
async function showRecords(route53: Route53Client, zoneId: string): Promise<void> {
  const sets = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  const shown = (sets.ResourceRecordSets ?? []).filter((r) => r.Type !== 'SOA' && r.Type !== 'NS');
  console.log(`   zone ${ZONE}: ${shown.length} record set(s)`);
  for (const r of shown) {
    const values = r.AliasTarget
      ? `ALIAS ${r.AliasTarget.DNSName}`
      : (r.ResourceRecords ?? []).map((v) => v.Value).join(' ');
    console.log(`     ${r.Name} ${r.Type} ${values}`);
  }
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
      // Discovery manages only a node group tagged for the cluster (docs/security-groups.md).
      clusterTag: 'demo',
      // The hooks the CDK stack would add to the ASG for cluster "demo".
      hookNames: {
        launch: lifecycleHookName('nlb-nodeport-sync', 'demo', 'launch'),
        terminate: lifecycleHookName('nlb-nodeport-sync', 'demo', 'terminate'),
      },
      asgName: 'demo-workers',
      ports: [
        { name: 'demo-app0', listenerPort: 4000, nodePort: 30000, targetType: 'ip' },
        { name: 'demo-app1', listenerPort: 4001, nodePort: 30001, targetType: 'ip' },
        { name: 'demo-inst', listenerPort: 4002, nodePort: 30002, targetType: 'instance' },
      ],
    });
    // Things the product does not own, which it must leave alone: a hand-made rule and record.
    const { ec2 } = worldClients(shim.endpoint);
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: world.securityGroupId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 22,
            ToPort: 22,
            IpRanges: [{ CidrIp: '10.0.0.0/16', Description: 'ssh (hand-made)' }],
          },
        ],
      }),
    );
    const route53 = new Route53Client({});
    const zone = await route53.send(
      new CreateHostedZoneCommand({ Name: ZONE, CallerReference: `demo-${Date.now()}` }),
    );
    const hostedZoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: hostedZoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: `legacy.${ZONE}`,
                Type: 'A',
                TTL: 300,
                ResourceRecords: [{ Value: '192.0.2.10' }],
              },
            },
          ],
        },
      }),
    );
    const config = demoConfig(world, hostedZoneId);
    // The product's JSON log lines go to a file, so they never interleave with the story. Every decision
    // is logged (INFO); DEMO_LOG_LEVEL=WARN keeps only warnings and errors.
    const logLevel = process.env.DEMO_LOG_LEVEL === 'WARN' ? 'WARN' : 'INFO';
    console.log(`the product's logs (JSON lines): ${LOG_FILE}`);
    // One virtual clock for the product, its queues and the shim's target states: minutes in milliseconds.
    const time = new VirtualTime(shim.endpoint);
    await time.start();
    const container = createContainer({
      logger: new StderrLogger(
        { serviceName: 'nlb-nodeport-sync', logLevel },
        { write: (line) => appendFileSync(LOG_FILE, line) },
      ),
      queues: time.queues,
      clock: time.clock,
    });
    const story = new Story(time);
    const reconcile = story.watch(createReconcileHandler(config, container));
    const problems: string[] = [];
    const marked = new Set<string>();

    // Before the first pass the groups are empty by design: shown, not checked.
    await showAndCheck(shim.endpoint, world, 'before the first pass', marked, false);
    const first = await reconcile(scheduledEvent());
    const pass = first.passes[0];
    console.log(
      `\npass (schedule): registered ${pass?.registered ?? 0}, deregistered ${pass?.deregistered ?? 0}`,
    );
    for (const step of pass?.steps ?? []) {
      console.log(`  ${step.name}: ${step.applied} change(s) applied`);
      for (const line of step.planned) console.log(`    ${line}`);
    }
    await time.advance(180, reconcile, 5);
    problems.push(...(await showAndCheck(shim.endpoint, world, 'after the first pass (3 nodes)', marked)));
    await showRules(shim.endpoint, world);
    await showRecords(route53, hostedZoneId);
    problems.push(...(await checkRecords(route53, hostedZoneId, shim.endpoint, world, marked)));

    console.log('\n== scale-out 3 -> 5: each launch is held until its targets are healthy in every group');
    const out = await setDesiredCapacity(shim.endpoint, world.asgName, 5);
    story.begin();
    for (const id of out.appeared) await reconcile(lifecycleEvent(world, id, 'launch'));
    await time.advance(200, reconcile);
    story.print();
    problems.push(...story.check('launch', out.appeared, 'healthy in every group'));
    problems.push(
      ...(await showAndCheck(
        shim.endpoint,
        world,
        `after scale-out to 5 (${out.appeared.length} launch events)`,
        marked,
      )),
    );
    await showRecords(route53, hostedZoneId);
    problems.push(...(await checkRecords(route53, hostedZoneId, shim.endpoint, world, marked)));

    const nodes = await asgInstances(shim.endpoint, world.asgName);
    const interrupted = nodes[nodes.length - 1]?.instanceId ?? '';
    console.log(`\n== spot interruption warning for ${interrupted}, then a scheduled pass 5 minutes later`);
    story.begin();
    await reconcile(spotInterruptionEvent(interrupted));
    marked.add(interrupted);
    await time.advance(300, reconcile, 5);
    const later = await reconcile(scheduledEvent());
    story.print();
    const reRegistered = later.passes.flatMap((p) => p.changes).filter((c) => c.action === 'register');
    console.log(
      `   the scheduled pass registered ${reRegistered.length} target(s): the drain mark keeps ${interrupted} out`,
    );
    if (reRegistered.length > 0) problems.push(`the scheduled pass re-registered ${interrupted}`);
    problems.push(...(await showAndCheck(shim.endpoint, world, 'after the spot warning', marked)));

    console.log(
      '\n== scale-in 5 -> 2: each terminate is held until its targets finished draining (delay 300 s)',
    );
    const inn = await setDesiredCapacity(shim.endpoint, world.asgName, 2);
    story.begin();
    for (const id of inn.disappeared) await reconcile(lifecycleEvent(world, id, 'terminate'));
    await time.advance(400, reconcile);
    story.print();
    problems.push(...story.check('terminate', inn.disappeared, 'draining'));
    problems.push(
      ...(await showAndCheck(
        shim.endpoint,
        world,
        `after scale-in to 2 (${inn.disappeared.length} terminate events)`,
        marked,
      )),
    );
    await showRules(shim.endpoint, world);
    await showRecords(route53, hostedZoneId);
    problems.push(...(await checkRecords(route53, hostedZoneId, shim.endpoint, world, marked)));

    // A port mapping leaves the config: only our now-stale rule and SRV record go; the rest stays.
    const withoutApp1 = parseSyncConfig(
      {
        ...config,
        clusters: config.clusters.map((c) => ({
          ...c,
          portMappings: c.portMappings.filter((m) => m.name !== 'app1'),
          // Its SRV name is listed as retired, so the role may still delete what the product put there.
          ...(c.dns !== undefined && { dns: { ...c.dns, retiredNames: [`_app1._tcp.${ZONE}`] } }),
        })),
      },
      'demo config without app1',
    );
    const again = await createReconcileHandler(withoutApp1, container)(scheduledEvent());
    console.log('\n== after removing port mapping app1 (NodePort 30001) from the config');
    for (const step of again.passes[0]?.steps ?? []) {
      for (const line of step.planned) console.log(`    ${step.name}: ${line}`);
    }
    await showRules(shim.endpoint, world);
    await showRecords(route53, hostedZoneId);
    problems.push(...(await checkRecords(route53, hostedZoneId, shim.endpoint, world, marked)));
    problems.push(...(await checkRulesWithout(shim.endpoint, world, 30001)));

    const completions = shim.recorded().filter((r) => r.action === 'CompleteLifecycleAction');
    const heartbeats = shim.recorded().filter((r) => r.action === 'RecordLifecycleActionHeartbeat');
    console.log(
      `\nlifecycle actions completed: ${completions.length} (${completions.map((c) => c.lifecycleActionResult).join(', ')}), heartbeats: ${heartbeats.length}`,
    );
    const expected = out.appeared.length + inn.disappeared.length;
    if (completions.length !== expected)
      problems.push(`expected ${expected} lifecycle completions, saw ${completions.length}`);
    if (problems.length > 0) {
      console.error(`\nDEMO FAILED: did not converge\n  ${problems.join('\n  ')}`);
      return 1;
    }
    console.log(`\nthe product's logs of this run: ${LOG_FILE}`);
    console.log(
      '\nDEMO OK: every launch was answered only once healthy, every terminate only once drained, the spot-interrupted node stayed out, every target group held exactly the serving nodes after every step, the node A record listed exactly their IPs, and the hand-made rule and record were left alone',
    );
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
