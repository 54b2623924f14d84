/**
 * The demo's story (bin/demo.ts starts moto and runs it): builds the account in moto (bin/demo-world.ts), plays
 * each step through the product's real handler on a virtual clock, tells it (bin/demo-story.ts), checks after
 * every step that everything converged, and ends with the CLI's own `status`.
 */
import { writeFileSync } from 'node:fs';
import { RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { DeregisterTargetsCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { type CliDocument, cliDocumentSchema } from '../lambdas/cli/document';
import { runCli } from '../lambdas/cli/program';
import { StderrLogger } from '../lambdas/cli/stderr-logger';
import { parseSyncConfig } from '../lambdas/domain/config';
import { createReconcileHandler } from '../lambdas/handlers/reconcile-handler';
import { createContainer } from '../lambdas/runtime/container';
import { lifecycleEvent, scheduledEvent, spotInterruptionEvent } from '../test/support/events';
import { startLifecycleShim } from '../test/support/lifecycle-shim';
import type { MotoServer } from '../test/support/moto-server';
import { worldClients } from '../test/support/moto-world';
import { VirtualTime } from '../test/support/virtual-time';
import { CONFIG_FILE, type Kept, LOG_FILE, REGION } from './demo-settings';
import { Story } from './demo-story';
import {
  buildAccount,
  CLIENT_CIDR,
  CLUSTER,
  type DemoAccount,
  type DemoNode,
  type DemoRule,
  demoConfigInput,
  inboundRules,
  LEGACY_IP,
  NodeGroups,
  OWNER_ID,
  PRESERVED_IP,
  targetsByMapping,
  VPC_CIDR,
  ZONE_NAME,
  zoneRecords,
} from './demo-world';

/** A stranger target someone registers by hand: no node has this address. */
const STRANGER_IP = '10.0.47.99';

/** What a rule of the product is for, from the purpose its description ends with (lambdas/domain/ingress-rules.ts). */
function purpose(rule: DemoRule): string {
  const purposes = rule.description.split(':').at(-1) ?? '';
  const words: Record<string, string> = {
    'health+traffic': "the NLB's health checks and traffic",
    health: "the NLB's health checks",
    traffic: "the NLB's traffic",
    client: 'clients: the instance group keeps their IP, so the nodes see them',
  };
  return words[purposes] ?? purposes;
}

function ruleText(rule: DemoRule): string {
  const ports = rule.fromPort === rule.toPort ? `${rule.fromPort}` : `${rule.fromPort}-${rule.toPort}`;
  return `${rule.protocol} ${ports} from ${rule.source}`;
}

const ruleKey = (r: DemoRule) => `${ruleText(r)} ${r.description}`;
const isOurs = (r: DemoRule) => r.description.startsWith(`${OWNER_ID}:`);

/** What {@link play} needs from bin/demo.ts. */
export interface PlayOptions {
  readonly json: boolean;
  readonly keep: boolean;
  /** Prints one line of the story. */
  readonly say: (line: string) => void;
  /** Whether the story goes to a terminal (colour in the CLI's status). */
  readonly colour: boolean;
  readonly moto: Pick<MotoServer, 'endpoint' | 'version' | 'pid'>;
  /** Filled in as the story goes, for what --keep prints afterwards. */
  readonly kept: Kept;
}

/**
 * Plays the whole story against the moto at `options.moto.endpoint`, through a lifecycle shim it starts and
 * stops. Returns the exit code: 0 when everything converged, 1 otherwise (the story says what did not).
 */
export async function play(options: PlayOptions): Promise<number> {
  const shim = await startLifecycleShim(options.moto.endpoint);
  try {
    return await tell(options, shim.endpoint, shim.recorded);
  } finally {
    await shim.stop();
  }
}

async function tell(
  { json, keep, say, colour, moto, kept }: PlayOptions,
  endpoint: string,
  recorded: () => readonly { action: string; lifecycleActionResult?: string }[],
): Promise<number> {
  // The product reads these as the SDK always does: nothing in it knows it runs on moto. The lifecycle shim
  // in front of moto answers what moto lacks (lifecycle actions, target states over time): test/support/.
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_REGION = REGION;
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  say('nlb-nodeport-sync demo: an AWS account on a local moto; minutes of waiting pass on a virtual clock.');
  say(`moto ${moto.version} on ${moto.endpoint} (PID ${moto.pid}). The product's own logs: ${LOG_FILE}`);

  const account = await buildAccount(endpoint, { onDemand: 3, spot: 2 });
  const groups = new NodeGroups(account);
  const { onDemand, spot } = account.groups;
  const configInput = demoConfigInput(account);
  kept.targetGroupArn = account.ports[0]?.targetGroupArn;
  if (keep) {
    writeFileSync(CONFIG_FILE, `${JSON.stringify(configInput, null, 2)}\n`);
    kept.configFile = CONFIG_FILE;
  }
  const config = parseSyncConfig(configInput, 'demo config');
  describeAccount(say, account, await groups.nodes());

  // One virtual clock for the product, its queues and the shim's target states. The product's JSON log lines
  // go to the log file, so they never interleave with the story.
  const time = new VirtualTime(endpoint);
  await time.start();
  const container = createContainer({
    logger: new StderrLogger(
      { serviceName: 'nlb-nodeport-sync', logLevel: 'INFO' },
      { write: (line) => writeFileSync(LOG_FILE, line, { flag: 'a' }) },
    ),
    queues: time.queues,
    clock: time.clock,
  });
  const story = new Story(time, say);
  const reconcile = story.watch(createReconcileHandler(config, container));
  const problems: string[] = [];
  const marked = new Set<string>();
  const { ec2, elbv2 } = worldClients(endpoint);

  /** The node security group's rules after the first sync: the product's and the hand-made ssh rule. */
  let settledRules: DemoRule[] | undefined;

  /**
   * Checks every group holds exactly the serving nodes (and the preserved target), nodes.<zone> lists their
   * IPs, the hand-made record is untouched, and the rules are those of the first sync (the ssh rule included).
   */
  const converged = async (step: string): Promise<void> => {
    const serving = (await groups.nodes()).filter((n) => !marked.has(n.instanceId));
    const targets = await targetsByMapping(account);
    const found: string[] = [];
    for (const port of account.ports) {
      const want = serving.map(
        (n) => `${port.targetType === 'ip' ? n.privateIp : n.instanceId}:${port.nodePort}`,
      );
      if (port.mapping === 'app0') want.push(`${PRESERVED_IP}:${port.nodePort}`);
      // Draining targets are on their way out: AWS lists them until the delay ends.
      const got = (targets.get(port.mapping) ?? [])
        .filter((t) => t.state !== 'draining')
        .map((t) => `${t.id}:${t.port}`);
      if (JSON.stringify(got.sort()) !== JSON.stringify(want.sort()))
        found.push(
          `${step}: ${port.targetGroupName} serves [${got.join(', ')}], expected [${want.join(', ')}]`,
        );
    }
    const records = await zoneRecords(account);
    const nodeIps = records.find((r) => r.name === `nodes.${ZONE_NAME}` && r.type === 'A')?.values ?? [];
    const ips = serving.map((n) => n.privateIp);
    if (JSON.stringify([...nodeIps].sort()) !== JSON.stringify([...ips].sort()))
      found.push(`${step}: nodes.${ZONE_NAME} is [${nodeIps.join(', ')}], expected [${ips.join(', ')}]`);
    if (records.find((r) => r.name === `legacy.${ZONE_NAME}`)?.values[0] !== LEGACY_IP)
      found.push(`${step}: the hand-made record legacy.${ZONE_NAME} was changed`);
    if (!records.some((r) => r.name === `proxy.${ZONE_NAME}` && r.type === 'A'))
      found.push(`${step}: proxy.${ZONE_NAME} is missing`);
    const rules = await inboundRules(account);
    settledRules ??= rules;
    if (JSON.stringify(rules.map(ruleKey).sort()) !== JSON.stringify(settledRules.map(ruleKey).sort()))
      found.push(
        `${step}: the rules are [${rules.map(ruleText).join(', ')}], expected [${settledRules.map(ruleText).join(', ')}]`,
      );
    if (!rules.some((r) => r.fromPort === 22 && !isOurs(r)))
      found.push(`${step}: the hand-made ssh rule is gone`);
    problems.push(...found);
    const healthy = [...targets.values()].flat().filter((t) => t.state === 'healthy').length;
    story.line(
      found.length === 0
        ? `checked: every group holds exactly the ${serving.length} serving nodes (${healthy} healthy targets), nodes.${ZONE_NAME} lists their IPs`
        : `NOT CONVERGED: ${found.join('; ')}`,
    );
  };

  /** Tells the rules and records a pass added or removed. */
  const tellNetwork = (beforeRules: DemoRule[], afterRules: DemoRule[], verb: string) => {
    const had = new Set(beforeRules.map(ruleKey));
    const has = new Set(afterRules.map(ruleKey));
    for (const r of afterRules.filter((r) => !had.has(ruleKey(r))))
      story.event(account.securityGroupId, `${verb} ${ruleText(r)}: ${purpose(r)}`);
    for (const r of beforeRules.filter((r) => !has.has(ruleKey(r))))
      story.event(account.securityGroupId, `removed ${ruleText(r)}: ${purpose(r)}`);
  };

  // ---- 1. First sync -------------------------------------------------------------------------------------
  story.begin(
    "1. First sync. The schedule (every 5 minutes) runs a pass: 5 nodes, and no targets, rules or records of the product's yet.",
  );
  const rules0 = await inboundRules(account);
  const records0 = await zoneRecords(account);
  await reconcile(scheduledEvent());
  const rules1 = await inboundRules(account);
  tellNetwork(rules0, rules1, 'opened');
  const had = new Set(records0.map((r) => `${r.name} ${r.type}`));
  for (const r of (await zoneRecords(account)).filter(
    (r) => !had.has(`${r.name} ${r.type}`) && r.type !== 'TXT',
  ))
    story.event('Route 53', `created ${r.name} ${r.type} ${r.values.join(' ')}`);
  story.line(
    `(each record the product creates has a TXT twin that marks it as the product's; legacy.${ZONE_NAME} has none and is left alone)`,
  );
  await time.advance(150, reconcile, 5);
  story.event('NLB', 'health checks passed: every new target is healthy');
  await converged('first sync');

  // ---- 2. Scale-out ---------------------------------------------------------------------------------------
  story.begin(
    `2. Scale-out: ${spot.asgName} 2 -> 4. Each launch is held until the node serves in every group.`,
  );
  const launched = await groups.launch(spot, 2);
  story.know(launched);
  for (const n of launched)
    story.event(n.instanceId, `launched by ${n.group} in ${n.zone} (${n.privateIp}): Pending:Wait`);
  for (const n of launched) await reconcile(lifecycleEvent(spot, n.instanceId, 'launch'));
  await time.advance(180, reconcile, 5);
  problems.push(
    ...story.check(
      'launch',
      launched.map((n) => n.instanceId),
      'healthy in every group',
    ),
  );
  await converged('scale-out');

  // ---- 3. Spot interruption -------------------------------------------------------------------------------
  const spotNodes = await groups.nodes(spot);
  const victim = spotNodes.find((n) => n.zone === 'us-east-1a') ?? required(spotNodes[0], 'a spot node');
  story.begin(
    `3. Spot interruption: EC2 will reclaim ${victim.instanceId} (${victim.zone}) in 2 minutes.`,
    'The warning arrives before any lifecycle action: the node leaves the groups at once and drains while it still runs.',
  );
  story.event(victim.instanceId, 'EC2 spot interruption warning');
  await reconcile(spotInterruptionEvent(victim.instanceId));
  marked.add(victim.instanceId);
  await time.advance(120, reconcile, 5);
  const [replacement] = await groups.reclaim(victim, spot);
  if (replacement === undefined) throw new Error(`${spot.asgName} launched no replacement`);
  story.know([replacement]);
  story.event(
    victim.instanceId,
    `EC2 reclaims it; ${spot.asgName} runs its terminate hook: Terminating:Wait`,
  );
  story.event(
    replacement.instanceId,
    `launched by ${spot.asgName} in ${replacement.zone} (${replacement.privateIp}) to replace it`,
  );
  await reconcile(lifecycleEvent(spot, victim.instanceId, 'terminate'));
  await reconcile(lifecycleEvent(spot, replacement.instanceId, 'launch'));
  await time.advance(210, reconcile, 5);
  problems.push(...story.check('terminate', [victim.instanceId], 'draining'));
  problems.push(...story.check('launch', [replacement.instanceId], 'healthy in every group'));
  marked.delete(victim.instanceId);
  await converged('spot interruption');

  // ---- 4. Scale-in ----------------------------------------------------------------------------------------
  story.begin(
    `4. Scale-in: ${spot.asgName} 4 -> 2. Each terminate is held until its targets finished draining (delay 300 s).`,
  );
  const removed: DemoNode[] = [];
  // One at a time, each with its event: moto drops a terminating instance at once, where AWS would still list
  // it in Terminating:Wait; so the next pass never meets a node that vanished without its event.
  for (let i = 0; i < 2; i += 1) {
    for (const n of await groups.scaleIn(spot, 1)) {
      story.event(
        n.instanceId,
        `chosen by ${n.group} in ${n.zone}, to keep its zones balanced: Terminating:Wait`,
      );
      await reconcile(lifecycleEvent(spot, n.instanceId, 'terminate'));
      removed.push(n);
    }
  }
  await time.advance(330, reconcile, 5);
  problems.push(
    ...story.check(
      'terminate',
      removed.map((n) => n.instanceId),
      'draining',
    ),
  );
  await converged('scale-in');

  // ---- 5. Drift by hand -----------------------------------------------------------------------------------
  const app0 = required(
    account.ports.find((p) => p.mapping === 'app0'),
    'app0',
  );
  const app1 = required(
    account.ports.find((p) => p.mapping === 'app1'),
    'app1',
  );
  const someone = required((await groups.nodes(onDemand))[0], 'an on-demand node');
  const revoked = required(
    rules1.find(
      (r) => isOurs(r) && r.fromPort <= app0.nodePort && app0.nodePort <= r.toPort && r.source === VPC_CIDR,
    ),
    'the health check rule of app0',
  );
  story.begin(
    '5. Drift made by hand, between two scheduled passes.',
    `Every target of a configured group is the product's to manage, except preservedTargets (here ${PRESERVED_IP}, a canary`,
    "VM of another team); rules and records are the product's only when they carry its mark. The rest is left alone.",
  );
  await elbv2.send(
    new DeregisterTargetsCommand({
      TargetGroupArn: app0.targetGroupArn,
      Targets: [{ Id: someone.privateIp, Port: app0.nodePort }],
    }),
  );
  story.event(
    'by hand',
    `deregistered ${someone.privateIp}:${app0.nodePort} (${someone.instanceId}) from ${app0.targetGroupName}`,
  );
  await elbv2.send(
    new RegisterTargetsCommand({
      TargetGroupArn: app1.targetGroupArn,
      Targets: [{ Id: STRANGER_IP, Port: app1.nodePort }],
    }),
  );
  story.event(
    'by hand',
    `registered a stranger, ${STRANGER_IP}:${app1.nodePort}, in ${app1.targetGroupName}`,
  );
  await ec2.send(
    new RevokeSecurityGroupIngressCommand({
      GroupId: account.securityGroupId,
      IpPermissions: [
        {
          IpProtocol: revoked.protocol,
          FromPort: revoked.fromPort,
          ToPort: revoked.toPort,
          IpRanges: [{ CidrIp: revoked.source }],
        },
      ],
    }),
  );
  story.event(
    'by hand',
    `revoked ${ruleText(revoked)} on ${account.securityGroupId}: the NLB's health checks would fail`,
  );
  await time.advance(120, reconcile, 5);
  story.event('schedule', 'a scheduled pass runs');
  const rulesDrifted = await inboundRules(account);
  await reconcile(scheduledEvent());
  tellNetwork(rulesDrifted, await inboundRules(account), 're-opened');
  const changes = story.stepChanges();
  if (!changes.some((c) => c.action === 'register' && c.target.id === someone.privateIp))
    problems.push(`drift: ${someone.privateIp} was not registered again in ${app0.targetGroupName}`);
  if (!changes.some((c) => c.action === 'deregister' && c.target.id === STRANGER_IP))
    problems.push(`drift: the stranger ${STRANGER_IP} was not deregistered from ${app1.targetGroupName}`);
  // Until the stranger's deregistration delay has passed, so that the closing status shows only what serves.
  await time.advance(300, reconcile, 5);
  story.line(
    `left alone: the ssh rule and legacy.${ZONE_NAME} (no mark of the product), ${PRESERVED_IP}:${app0.nodePort} in ${app0.targetGroupName} (preserved)`,
  );
  await converged('drift repaired');

  // ---- Lifecycle summary and status -----------------------------------------------------------------------
  const completions = recorded().filter((r) => r.action === 'CompleteLifecycleAction');
  const heartbeats = recorded().filter((r) => r.action === 'RecordLifecycleActionHeartbeat');
  const expected = launched.length + 2 + removed.length;
  if (completions.length !== expected)
    problems.push(`expected ${expected} lifecycle answers, Auto Scaling received ${completions.length}`);
  if (completions.some((c) => c.lifecycleActionResult !== 'CONTINUE'))
    problems.push('a lifecycle action was not answered CONTINUE');

  say('');
  say(`6. Status: what \`nlb-nodeport-sync status\` says now (the CLI's own code, on this moto).`);
  const status = await cliStatus(configInput, container, colour, false);
  say(status.text.trimEnd());
  const document = await cliStatus(configInput, container, false, true);
  problems.push(...checkStatusDocument(document));

  say('');
  if (problems.length > 0) {
    say(`DEMO FAILED: did not converge\n  ${problems.join('\n  ')}`);
    return 1;
  }
  say(
    `Lifecycle: Auto Scaling received ${completions.length} answers (all CONTINUE, each after its wait) and ${heartbeats.length} heartbeats.`,
  );
  say('Next: the CLI on your own account (docs/cli.md), starting with the read-only commands:');
  say('  npx nlb-nodeport-sync validate --config your.config.json');
  say('  npx nlb-nodeport-sync plan --config your.config.json --detailed-exitcode');
  if (!keep) say('  (npm run demo -- --keep leaves this moto running to try the CLI on it)');
  say(`The product's logs of this run (JSON lines): ${LOG_FILE}`);
  say(
    "DEMO OK: launches held until healthy, terminates until drained, the spot node drained before it went, drift repaired by the next scheduled pass, what is not the product's left alone; status in sync.",
  );
  if (json) process.stdout.write(`${JSON.stringify(document.value, null, 2)}\n`);
  return 0;
}

/** The account, in a few lines. */
function describeAccount(
  say: (line: string) => void,
  account: DemoAccount,
  nodes: readonly DemoNode[],
): void {
  say('');
  say('The account');
  say(`  VPC ${VPC_CIDR}, one private subnet in each of ${account.subnets.map((s) => s.zone).join(', ')}`);
  for (const group of Object.values(account.groups)) {
    const mine = nodes.filter((n) => n.group === group.asgName);
    say(
      `  node group ${group.asgName}: ${mine.length} nodes (${mine.map((n) => `${n.privateIp} ${n.zone}`).join(', ')})`,
    );
  }
  say(
    `  NLB ${account.loadBalancerName} (internal): each listener -> its target group -> one NodePort on every node`,
  );
  for (const p of account.ports)
    say(
      `    listener ${p.listenerPort} -> target group ${p.targetGroupName} (${p.targetType}) -> NodePort ${p.nodePort}`,
    );
  say(`  hosted zone ${ZONE_NAME} (${account.hostedZoneId}); node security group ${account.securityGroupId}`);
  say(
    `  not the product's: an ssh rule, the record legacy.${ZONE_NAME}, and ${PRESERVED_IP} in ${CLUSTER}-app0 (listed in preservedTargets)`,
  );
  say(
    `  config: cluster "${CLUSTER}" = both node groups, 3 port mappings, security groups from the VPC (clients ${CLIENT_CIDR} on the instance group), DNS proxy.${ZONE_NAME} and nodes.${ZONE_NAME}`,
  );
}

/** Runs `status` (or `status --json`) through the CLI's own program, on the demo's adapters and clock. */
async function cliStatus(
  configInput: Record<string, unknown>,
  container: ReturnType<typeof createContainer>,
  colour: boolean,
  json: boolean,
): Promise<{ text: string; value?: unknown; exitCode: number }> {
  let stdout = '';
  let stderr = '';
  const exitCode = await runCli(json ? ['status', '--json'] : ['status'], {
    stdout: {
      write: (text: string) => {
        stdout += text;
      },
      isTTY: colour,
    },
    stderr: {
      write: (text: string) => {
        stderr += text;
      },
    },
    stdin: process.stdin,
    // The config travels in the environment (NLB_SYNC_CONFIG), as the CLI reads it; the demo's virtual clock
    // and in-memory queues stand in for the deployment's.
    env: { ...process.env, NLB_SYNC_CONFIG: JSON.stringify(configInput) },
    createDeps: () => container,
  });
  if (exitCode !== 0) throw new Error(`status exited ${exitCode}: ${stderr.trim()}`);
  return { text: stdout, exitCode, ...(json && { value: JSON.parse(stdout) as unknown }) };
}

/** The status document: valid against the CLI's schema, every group in sync, rules and records in sync. */
function checkStatusDocument(document: { value?: unknown }): string[] {
  const parsed = cliDocumentSchema.safeParse(document.value);
  if (!parsed.success)
    return [
      `status --json does not match its schema: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    ];
  const doc: CliDocument = parsed.data;
  if (doc.command !== 'status') return [`status --json printed a ${doc.command} document`];
  const problems: string[] = [];
  if (!doc.ok) problems.push('status: ok is false');
  for (const cluster of doc.clusters) {
    for (const g of cluster.groups) if (!g.inSync) problems.push(`status: ${g.mapping} is not in sync`);
    if (cluster.securityGroups.status !== 'in-sync')
      problems.push(`status: security groups ${cluster.securityGroups.status}`);
    if (cluster.dns.status !== 'in-sync') problems.push(`status: dns ${cluster.dns.status}`);
  }
  return problems;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the demo found no ${what}`);
  return value;
}
