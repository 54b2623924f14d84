import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { cliDocumentSchema, statusDocumentSchema } from '../../../lambdas/cli/document';
import { EXIT } from '../../../lambdas/cli/exit-codes';
import type { InventoryPorts } from '../../../lambdas/cli/inventory';
import { runCli } from '../../../lambdas/cli/program';
import { ownershipMarker } from '../../../lambdas/domain/dns-records';
import { ruleDescription } from '../../../lambdas/domain/ingress-rules';
import type { ObservedIngressRule, RecordSet } from '../../../lambdas/domain/network-ports';
import { asgNode, FakeAws, fakeDeps } from '../../support/fake-aws';
import { ManualClock } from '../../support/fake-queues';

/*
 * `status` beyond the plan (owned rules, managed records, held lifecycle actions) and `drain --wait`, on the
 * in-memory fakes: the CLI in-process, its streams captured, time on a manual clock.
 */

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/a/0123456789abcdef';
const SG = 'sg-0123456789abcdef0';
const ZONE = 'Z0123456789';
const CLUSTER = {
  name: 'prod',
  nodeSource: { autoScalingGroups: ['my-asg'] },
  portMappings: [{ name: 'a', targetGroupArn: TG, nodePort: 30000 }],
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nlb-sync-cli-status-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(cluster: Record<string, unknown>): string {
  const path = join(dir, `${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({ clusters: [cluster] }));
  return path;
}

/**
 * Security groups and Route 53 as the inventory reads them: fixed rules and record sets; every group
 * carries the cluster's tag unless `tags` says otherwise.
 */
function network(
  rules: ObservedIngressRule[],
  records: RecordSet[],
  tags: Record<string, string> = { 'nlb-nodeport-sync/cluster': 'prod' },
): InventoryPorts {
  const unused = () => Promise.reject(new Error('status writes nothing'));
  return {
    securityGroups: {
      describeGroups: async (ids) => ids.map((groupId) => ({ groupId, tags })),
      describeIngressRules: async (groupId) => rules.filter((r) => r.groupId === groupId),
      authorizeIngress: unused,
      revokeIngress: unused,
      updateIngressDescription: unused,
    },
    dns: {
      describeZone: async (id) => ({ id, name: 'example.com.' }),
      listRecordSets: async () => records,
      changeRecordSets: unused,
    },
  };
}

async function run(
  args: string[],
  fake: FakeAws,
  clock: ManualClock,
  net?: InventoryPorts,
  sleep?: (ms: number) => Promise<void>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: {
      write: (t: string) => {
        stdout += t;
      },
    },
    stderr: {
      write: (t: string) => {
        stderr += t;
      },
    },
    stdin: new PassThrough(),
    env: {},
    now: () => new Date(clock.now()),
    createDeps: (logger) => ({
      ...fakeDeps(fake),
      clock,
      logger,
      ...(net !== undefined && { network: net }),
    }),
    ...(sleep !== undefined && { sleep }),
  });
  return { code, stdout, stderr };
}

describe('CLI status: owned rules, managed records, held lifecycle actions', () => {
  it('lists only the owned rules and the marked names, and what each held action waits for', async () => {
    // Prepare
    const clock = new ManualClock();
    // No clock for the fake: the targets keep the states set here (no health checks pass, no drain ends).
    const fake = new FakeAws();
    fake.healthyAfterSeconds = 3600;
    fake.addGroup('my-asg', [asgNode(1), asgNode(2, 'Pending:Wait'), asgNode(3, 'Terminating:Wait')]);
    fake.targets.set(TG, [
      { id: '10.0.0.11', port: 30000, state: 'healthy' },
      { id: '10.0.0.12', port: 30000, state: 'initial', reason: 'Elb.RegistrationInProgress' },
      { id: '10.0.0.13', port: 30000, state: 'draining', reason: 'Target.DeregistrationInProgress' },
    ]);
    fake.drainSettings.set(TG, { deregistrationDelaySeconds: 120, connectionTermination: false });
    const owned = ruleDescription('nlb-nodeport-sync', 'prod', ['health', 'traffic']);
    const rules: ObservedIngressRule[] = [
      rule('sgr-1', 30000, owned),
      rule('sgr-2', 22, 'ssh from the bastion'),
      rule('sgr-3', 30001, ruleDescription('nlb-nodeport-sync', 'other', ['traffic'])),
    ];
    const marker = ownershipMarker('nlb-nodeport-sync', 'prod');
    const records: RecordSet[] = [
      { name: 'nodes.example.com.', type: 'A', ttl: 60, values: ['10.0.0.11'] },
      { name: 'nodes.example.com.', type: 'TXT', ttl: 60, values: [marker] },
      { name: 'www.example.com.', type: 'A', ttl: 300, values: ['192.0.2.1'] },
    ];
    const config = configFile({
      ...CLUSTER,
      loadBalancer: {
        arn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/nlb/0123456789abcdef',
      },
      securityGroups: { source: 'vpc-cidr' },
      dns: { hostedZoneId: ZONE, nodeRecordName: 'nodes.example.com' },
    });
    // Act
    const json = await run(['status', '--json', '--config', config], fake, clock, network(rules, records));
    const human = await run(['status', '--config', config], fake, clock, network(rules, records));
    // Assess
    expect(json.stderr).toBe('');
    expect(json.code).toBe(EXIT.ok);
    const [cluster] = statusDocumentSchema.parse(JSON.parse(json.stdout)).clusters;
    expect(cluster?.securityGroups).toMatchObject({
      nodeGroupIds: [SG],
      ownedRules: [{ groupId: SG, ruleId: 'sgr-1', rule: `tcp 30000 from 10.0.0.0/16`, description: owned }],
    });
    expect(cluster?.dns.records).toEqual([
      { name: 'nodes.example.com.', type: 'A', ttl: 60, values: ['10.0.0.11'] },
      { name: 'nodes.example.com.', type: 'TXT', ttl: 60, values: [marker] },
    ]);
    expect(cluster?.heldLifecycleActions.visible).toBe(true);
    expect(cluster?.heldLifecycleActions.actions).toEqual([
      expect.objectContaining({
        instanceId: asgNode(2).instanceId,
        kind: 'launch',
        hookName: 'nlb-nodeport-sync-prod-launch',
        next: 'wait',
        waitsFor: 'healthy in every group (launchGate), now: a: initial',
      }),
      expect.objectContaining({
        instanceId: asgNode(3).instanceId,
        kind: 'terminate',
        next: 'wait',
        waitsFor: 'draining to end (deregistration delay up to 120 s): a 10.0.0.13:30000',
      }),
    ]);
    expect(human.stdout).toContain(`    ${SG}: 1 owned rule(s)\n      tcp 30000 from 10.0.0.0/16  ${owned}`);
    expect(human.stdout).toContain('2 managed record set(s) in the zone:');
    expect(human.stdout).not.toContain('www.example.com');
    expect(human.stdout).toContain(
      `${asgNode(2).instanceId} (my-asg, Pending:Wait) launch: waits for healthy in every group (launchGate), now: a: initial`,
    );
  });

  it('shows no rules of a lone node group without the cluster tag, as a pass refuses it: a read error', async () => {
    // Prepare
    const clock = new ManualClock();
    const fake = new FakeAws();
    fake.addGroup('my-asg', [asgNode(1)]);
    fake.targets.set(TG, [{ id: '10.0.0.11', port: 30000, state: 'healthy' }]);
    const owned = ruleDescription('nlb-nodeport-sync', 'prod', ['health', 'traffic']);
    const config = configFile({
      ...CLUSTER,
      loadBalancer: {
        arn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/nlb/0123456789abcdef',
      },
      securityGroups: { source: 'vpc-cidr' },
    });
    // Act
    const json = await run(
      ['status', '--json', '--config', config],
      fake,
      clock,
      network([rule('sgr-1', 30000, owned)], [], {}),
    );
    // Assess
    expect(json.code).toBe(EXIT.error);
    const [cluster] = statusDocumentSchema.parse(JSON.parse(json.stdout)).clusters;
    expect(json.stdout).not.toContain('sgr-1');
    expect(cluster?.securityGroups.readError).toMatch(/none is tagged nlb-nodeport-sync\/cluster=prod/);
  });

  it('a launch whose target is missing waits for a pass; one that is healthy is ready to be answered', async () => {
    // Prepare
    const clock = new ManualClock();
    const fake = new FakeAws(clock);
    fake.addGroup('my-asg', [asgNode(1, 'Pending:Wait'), asgNode(2, 'Pending:Wait')]);
    fake.targets.set(TG, [{ id: '10.0.0.11', port: 30000, state: 'healthy' }]);
    // Act
    const ran = await run(['status', '--json', '--config', configFile(CLUSTER)], fake, clock);
    // Assess
    const actions = statusDocumentSchema.parse(JSON.parse(ran.stdout)).clusters[0]?.heldLifecycleActions
      .actions;
    expect(actions?.map((a) => [a.next, a.waitsFor])).toEqual([
      ['answer', 'nothing more (healthy in every group): the next re-check answers CONTINUE'],
      ['pass', 'a pass to put its targets in place (not registered in a)'],
    ]);
  });
});

describe('CLI status: a part it cannot read', () => {
  it('is shown with its one-line error, the rest of the cluster still is, and the exit is 1', async () => {
    // Prepare
    const clock = new ManualClock();
    const fake = new FakeAws();
    fake.addGroup('my-asg', [asgNode(1)]);
    fake.targets.set(TG, [{ id: '10.0.0.11', port: 30000, state: 'healthy' }]);
    const denied = network([], []);
    const net: InventoryPorts = {
      ...denied,
      dns: {
        ...denied.dns,
        listRecordSets: () =>
          Promise.reject(
            Object.assign(new Error('not authorized to perform route53:ListResourceRecordSets'), {
              name: 'AccessDenied',
            }),
          ),
      },
    };
    const config = configFile({
      ...CLUSTER,
      dns: { hostedZoneId: ZONE, nodeRecordName: 'nodes.example.com' },
    });
    // Act
    const json = await run(['status', '--json', '--config', config], fake, clock, net);
    const human = await run(['status', '--config', config], fake, clock, net);
    // Assess
    expect(json.code).toBe(EXIT.error);
    const doc = statusDocumentSchema.parse(JSON.parse(json.stdout));
    expect(doc.ok).toBe(false);
    expect(doc.clusters[0]?.dns.readError).toMatch(/^not allowed \(AccessDenied\): .*docs\/iam\.md$/);
    expect(doc.clusters[0]?.groups[0]?.inSync).toBe(true);
    expect(human.code).toBe(EXIT.error);
    expect(human.stdout).toContain('managed records not read: not allowed (AccessDenied)');
    expect(human.stdout).toContain('a (ip, NodePort 30000): desired 1, actual 1 — in sync');
  });
});

describe('CLI drain --wait', () => {
  const drained = asgNode(1).instanceId;

  it('shows progress while a pass deregisters the node and its targets drain, then ends', async () => {
    // Prepare
    const clock = new ManualClock();
    const fake = new FakeAws(clock);
    fake.addGroup('my-asg', [asgNode(1), asgNode(2)]);
    fake.targets.set(TG, [
      { id: '10.0.0.11', port: 30000, state: 'healthy' },
      { id: '10.0.0.12', port: 30000, state: 'healthy' },
    ]);
    fake.drainSettings.set(TG, { deregistrationDelaySeconds: 20, connectionTermination: false });
    let sleeps = 0;
    const sleep = async (ms: number) => {
      sleeps += 1;
      // The deployment's pass comes 10 s after the mark (the second look still finds the target serving).
      if (sleeps === 2) await fake.deregisterTargets(TG, [{ id: '10.0.0.11', port: 30000 }]);
      clock.advance(ms / 1000);
    };
    // Act
    const ran = await run(
      ['drain', drained, '--wait', '--config', configFile(CLUSTER)],
      fake,
      clock,
      undefined,
      sleep,
    );
    // Assess
    expect(ran.code).toBe(EXIT.ok);
    expect(ran.stderr.trimEnd().split('\n')).toEqual([
      "[0 s] waiting for a pass to deregister it (still registered: a 10.0.0.11:30000 (healthy)); the deployment's next pass does, or run `nlb-nodeport-sync apply --cluster prod`",
      '[10 s] draining: a 10.0.0.11:30000 (deregistration delay up to 20 s)',
    ]);
    expect(ran.stdout).toBe(
      `${drained} (cluster prod): marked; waiting for its targets to leave every group\n` +
        `${drained}: drained: no target of the node is registered or draining in any group (after 25 s)\n`,
    );
    expect(fake.writes.filter((w) => w.startsWith('tag'))).toEqual([
      `tag ${drained} nlb-nodeport-sync/drain`,
    ]);
  });

  it('a node already out of every group ends after one look, with no progress line', async () => {
    // Prepare
    const clock = new ManualClock();
    const fake = new FakeAws(clock);
    fake.addGroup('my-asg', [asgNode(1), asgNode(2)]);
    fake.targets.set(TG, [{ id: '10.0.0.12', port: 30000, state: 'healthy' }]);
    // Act
    const ran = await run(
      ['drain', drained, '--wait', '--json', '--config', configFile(CLUSTER)],
      fake,
      clock,
    );
    // Assess
    expect(ran.code).toBe(EXIT.ok);
    expect(ran.stderr).toBe('');
    expect(cliDocumentSchema.parse(JSON.parse(ran.stdout))).toMatchObject({
      command: 'drain',
      ok: true,
      wait: { done: true, waitedSeconds: 0 },
    });
  });

  it('gives up after --timeout with one error line and exit 1; the mark stays', async () => {
    // Prepare
    const clock = new ManualClock();
    const fake = new FakeAws(clock);
    fake.addGroup('my-asg', [asgNode(1), asgNode(2)]);
    fake.targets.set(TG, [{ id: '10.0.0.11', port: 30000, state: 'healthy' }]);
    const sleep = async (ms: number) => clock.advance(ms / 1000);
    // Act
    const ran = await run(
      ['drain', drained, '--wait', '--timeout', '12', '--poll-seconds', '5', '--config', configFile(CLUSTER)],
      fake,
      clock,
      undefined,
      sleep,
    );
    // Assess
    expect(ran.code).toBe(EXIT.error);
    const lines = ran.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^error: still waiting after 12 s \(--timeout\): waiting for a pass/);
    expect(fake.instances.get(drained)?.tags?.['nlb-nodeport-sync/drain']).toMatch(/^operator /);
  });
});

function rule(ruleId: string, port: number, description: string): ObservedIngressRule {
  return {
    ruleId,
    groupId: SG,
    protocol: 'tcp',
    fromPort: port,
    toPort: port,
    source: { kind: 'cidr', cidr: '10.0.0.0/16' },
    description,
  };
}
