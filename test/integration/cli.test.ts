import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeregisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { cliDocumentSchema, statusDocumentSchema } from '../../lambdas/cli/document';
import { EXIT } from '../../lambdas/cli/exit-codes';
import {
  advanceClock,
  enableTargetModel,
  isolated,
  MOTO_HOOK_TIMEOUT_MS,
  motoEndpoint,
} from '../support/moto-test-env';
import {
  asgInstances,
  buildWorld,
  describeGroupTargets,
  type World,
  WorldTargetType,
  worldClients,
} from '../support/moto-world';

/*
 * The operator CLI as a user runs it: a child process (`node --import tsx bin/cli.ts ...`) pointed at this
 * file's moto with --endpoint-url, a config file in a temporary folder, the exit code and the two streams.
 */

const ROOT = join(__dirname, '..', '..');
const CLI_TIMEOUT_MS = 60_000;
const MISSING_TG =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/nothing-here/0123456789abcdef';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A CLI child's environment: credentials `testing`, no AWS config files, nothing from the user's shell. */
function baseEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    // tsx keeps its cache in the temporary directory: the test run's scratch one, not /tmp.
    TMPDIR: tmpdir(),
    HOME: workDir,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(workDir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(workDir, 'no-aws-credentials'),
  };
}

/** Runs the CLI; `env` replaces the AWS part of the environment (credentials `testing` unless overridden). */
function cli(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = baseEnv();
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bin/cli.ts', ...args],
      { cwd: ROOT, env: childEnv, timeout: CLI_TIMEOUT_MS },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A CLI run that is still going: its streams so far, a wait for some stderr text, and its end. */
function spawnCli(args: readonly string[]): {
  until: (seen: (stderr: string) => boolean) => Promise<void>;
  exit: Promise<Run>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/cli.ts', ...args], {
    cwd: ROOT,
    env: baseEnv(),
    timeout: CLI_TIMEOUT_MS,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<Run>((resolve) => {
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  const until = async (seen: (text: string) => boolean): Promise<void> => {
    const deadline = Date.now() + CLI_TIMEOUT_MS;
    while (!seen(stderr)) {
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`the CLI ended or timed out before the expected progress; stderr: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  return { until, exit };
}

function clientConfig() {
  return {
    endpoint: motoEndpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'nlb-sync-cli-'));
});
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

function writeConfig(name: string, config: unknown): string {
  const path = join(workDir, name);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

function clusterOf(world: World, name = 'it') {
  return {
    name,
    nodeSource: { autoScalingGroups: [world.asgName] },
    portMappings: world.targetGroups.map((tg, i) => ({
      name: `app${i}`,
      targetGroupArn: tg.arn,
      targetType: tg.targetType,
      nodePort: tg.nodePort,
    })),
  };
}

/** The common options: this file's moto and the config. */
function on(config: string): string[] {
  return ['--endpoint-url', motoEndpoint(), '--config', config];
}

describe('Scenario: the operator CLI against moto', () => {
  let world: World;
  let config: string;

  beforeEach(
    isolated(async () => {
      world = await buildWorld(motoEndpoint(), {
        nodes: 2,
        asgName: 'cli-workers',
        ports: [
          { name: 'app0', listenerPort: 4000, nodePort: 30000, targetType: WorldTargetType.ip },
          { name: 'inst', listenerPort: 4002, nodePort: 30002, targetType: WorldTargetType.instance },
        ],
      });
      config = writeConfig('one.json', { clusters: [clusterOf(world)] });
    }),
    MOTO_HOOK_TIMEOUT_MS,
  );

  it(
    'plan --detailed-exitcode: 2 with changes, 0 once applied, 2 again after drift by hand',
    isolated(async () => {
      // Act
      const before = await cli(['plan', '--detailed-exitcode', ...on(config)]);
      const apply = await cli(['apply', '--yes', ...on(config)]);
      const inSync = await cli(['plan', '--detailed-exitcode', ...on(config)]);
      const [node] = await asgInstances(motoEndpoint(), world.asgName);
      const ipGroup = world.targetGroups[0];
      if (node === undefined || ipGroup === undefined) throw new Error('world without node or group');
      await worldClients(motoEndpoint()).elbv2.send(
        new DeregisterTargetsCommand({
          TargetGroupArn: ipGroup.arn,
          Targets: [{ Id: node.privateIp, Port: ipGroup.nodePort }],
        }),
      );
      const drift = await cli(['plan', '--detailed-exitcode', ...on(config)]);
      const plain = await cli(['plan', ...on(config)]);
      // Assess
      expect(before).toMatchObject({ code: EXIT.changesPending });
      expect(before.stdout).toContain('4 change(s) pending');
      expect(apply).toMatchObject({ code: EXIT.ok });
      expect(apply.stdout).toContain('targets: 4 registered, 0 deregistered');
      expect(inSync).toMatchObject({ code: EXIT.ok });
      expect(inSync.stdout).toContain('no changes: in sync');
      expect(drift).toMatchObject({ code: EXIT.changesPending });
      expect(drift.stdout).toContain(`+ register ${node.privateIp}:30000 in app0`);
      expect(plain.code).toBe(EXIT.ok);
    }),
  );

  it(
    'plan --detailed-exitcode exits 1 on error (a target group that does not exist), not 0 or 2',
    isolated(async () => {
      // Prepare
      const broken = writeConfig('broken.json', {
        clusters: [
          {
            ...clusterOf(world),
            portMappings: [{ name: 'gone', targetGroupArn: MISSING_TG, nodePort: 30009 }],
          },
        ],
      });
      // Act
      const run = await cli(['plan', '--detailed-exitcode', ...on(broken)]);
      // Assess
      expect(run.code).toBe(EXIT.error);
      expect(run.stdout).toContain('FAILED');
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }),
  );

  it(
    'apply with one failing cluster reports the other cluster changes and exits non-zero',
    isolated(async () => {
      // Prepare
      const two = writeConfig('two.json', {
        clusters: [
          clusterOf(world, 'good'),
          {
            name: 'bad',
            nodeSource: { autoScalingGroups: ['no-such-asg'] },
            portMappings: [{ name: 'gone', targetGroupArn: MISSING_TG, nodePort: 30009 }],
          },
        ],
      });
      // Act
      const run = await cli(['apply', '--yes', '--json', ...on(two)]);
      // Assess
      expect(run.code).toBe(EXIT.error);
      const doc = cliDocumentSchema.parse(JSON.parse(run.stdout));
      expect(doc.command).toBe('apply');
      if (doc.command !== 'apply') throw new Error('not an apply document');
      const good = doc.clusters.find((c) => c.cluster === 'good');
      const bad = doc.clusters.find((c) => c.cluster === 'bad');
      expect(good).toMatchObject({ ok: true, registered: 4, deregistered: 0 });
      expect(bad?.ok).toBe(false);
      expect(bad?.error).toBeTruthy();
      for (const tg of world.targetGroups) {
        expect(await describeGroupTargets(motoEndpoint(), tg.arn)).toHaveLength(2);
      }
      const human = await cli(['apply', '--yes', ...on(two)]);
      expect(human.code).toBe(EXIT.error);
      expect(human.stdout).toMatch(/cluster good\n {2}nodes: 2 desired of 2\n {2}targets: in sync/);
      expect(human.stdout).toContain('apply: 1 of 2 cluster(s) done, 1 failed (bad)');
    }),
  );

  it(
    'status --json is one document that validates against the schema: desired vs actual per group, owned rules, managed records',
    isolated(async () => {
      // Prepare
      const zone = await new Route53Client(clientConfig()).send(
        new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `cli-${Date.now()}` }),
      );
      const zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
      config = writeConfig('network.json', {
        clusters: [
          {
            ...clusterOf(world),
            loadBalancer: { arn: world.loadBalancerArn },
            securityGroups: { source: 'vpc-cidr', groupIds: [world.securityGroupId] },
            dns: { hostedZoneId: zoneId, nodeRecordName: 'nodes.example.com' },
          },
        ],
      });
      await cli(['apply', '--yes', ...on(config)]);
      // Act
      const run = await cli(['status', '--json', ...on(config)]);
      // Assess
      expect(run.code).toBe(EXIT.ok);
      const doc = statusDocumentSchema.parse(JSON.parse(run.stdout));
      expect(doc.schemaVersion).toBe(1);
      const [cluster] = doc.clusters;
      expect(cluster?.groups).toHaveLength(2);
      for (const group of cluster?.groups ?? []) {
        expect(group.inSync).toBe(true);
        expect(group.actual.map((t) => `${t.id}:${t.port}`).sort()).toEqual(
          group.desired.map((t) => `${t.id}:${t.port}`).sort(),
        );
        expect(group.actual.every((t) => t.state === 'healthy')).toBe(true);
      }
      expect(cluster?.securityGroups.status).toBe('in-sync');
      expect(cluster?.securityGroups.nodeGroupIds).toEqual([world.securityGroupId]);
      const owned = cluster?.securityGroups.ownedRules ?? [];
      expect(owned.length).toBeGreaterThan(0);
      for (const rule of owned) expect(rule.description).toMatch(/^nlb-nodeport-sync:nlb-nodeport-sync\/it:/);
      expect(owned.map((r) => r.rule)).toContain('tcp 30000 from 10.0.0.0/16');
      const ips = (await asgInstances(motoEndpoint(), world.asgName)).map((n) => n.privateIp).sort();
      expect(
        cluster?.dns.records?.map((r) => [r.name, r.type, r.type === 'A' ? [...r.values].sort() : r.values]),
      ).toEqual([
        ['nodes.example.com.', 'A', ips],
        ['nodes.example.com.', 'TXT', ['"heritage=nlb-nodeport-sync,owner=nlb-nodeport-sync,cluster=it"']],
      ]);
      expect(cluster?.heldLifecycleActions).toMatchObject({ visible: true, actions: [] });
      const human = await cli(['status', ...on(config)]);
      expect(human.stdout).toContain('app0 (ip, NodePort 30000): desired 2, actual 2 — in sync');
      expect(human.stdout).toContain(`    ${world.securityGroupId}: ${owned.length} owned rule(s)`);
      expect(human.stdout).toContain('2 managed record set(s) in the zone:');
      expect(human.stdout).toContain('held lifecycle actions: none');
      expect(human.stdout).not.toContain('\u001b[');
    }),
  );

  it(
    'drain then undrain: the node leaves every group on the next apply and comes back after undrain',
    isolated(async () => {
      // Prepare
      await cli(['apply', '--yes', ...on(config)]);
      const [node] = await asgInstances(motoEndpoint(), world.asgName);
      if (node === undefined) throw new Error('no node');
      // Act
      const drain = await cli(['drain', node.instanceId, ...on(config)]);
      const again = await cli(['drain', node.instanceId, '--json', ...on(config)]);
      await cli(['apply', '--yes', ...on(config)]);
      const drained = await Promise.all(
        world.targetGroups.map((tg) => describeGroupTargets(motoEndpoint(), tg.arn)),
      );
      const undrain = await cli(['undrain', node.instanceId, ...on(config)]);
      await cli(['apply', '--yes', ...on(config)]);
      const back = await Promise.all(
        world.targetGroups.map((tg) => describeGroupTargets(motoEndpoint(), tg.arn)),
      );
      // Assess
      expect(drain.code).toBe(EXIT.ok);
      expect(drain.stdout).toContain(`${node.instanceId} (cluster it): marked`);
      expect(cliDocumentSchema.parse(JSON.parse(again.stdout))).toMatchObject({
        command: 'drain',
        change: 'unchanged',
        previous: 'operator',
      });
      expect(drained.map((targets) => targets.length)).toEqual([1, 1]);
      expect(undrain.stdout).toContain('unmarked (mark was: operator)');
      expect(back.map((targets) => targets.length)).toEqual([2, 2]);
    }),
  );

  it(
    'drain --wait shows the wait: first for a pass to deregister the node, then for draining, and ends when it is out',
    isolated(async () => {
      // Prepare: the target model gives deregistered targets AWS's draining state, on a clock the test moves.
      await enableTargetModel({ healthyAfterSeconds: 0 });
      await cli(['apply', '--yes', ...on(config)]);
      const [node] = await asgInstances(motoEndpoint(), world.asgName);
      if (node === undefined) throw new Error('no node');
      // Act
      const waiting = spawnCli(['drain', node.instanceId, '--wait', '--poll-seconds', '1', ...on(config)]);
      await waiting.until((err) => err.includes('waiting for a pass to deregister it'));
      const apply = await cli(['apply', '--yes', ...on(config)]);
      await waiting.until((err) => err.includes('draining: '));
      await advanceClock(301);
      const done = await waiting.exit;
      // Assess
      expect(apply.stdout).toContain('targets: 0 registered, 2 deregistered');
      expect(done.code).toBe(EXIT.ok);
      const progress = done.stderr.trimEnd().split('\n');
      expect(progress[0]).toMatch(
        /^\[\d+ s\] waiting for a pass to deregister it \(still registered: app0 \S+:30000 \(healthy\), app1 i-\S+:30002 \(healthy\)\)/,
      );
      expect(progress).toContainEqual(
        expect.stringMatching(
          /^\[\d+ s\] draining: app0 \S+:30000, app1 i-\S+:30002 \(deregistration delay up to 300 s\)$/,
        ),
      );
      expect(progress.length).toBeLessThan(6);
      expect(done.stdout).toContain(
        `${node.instanceId} (cluster it): marked; waiting for its targets to leave every group`,
      );
      expect(done.stdout).toMatch(
        /drained: no target of the node is registered or draining in any group \(after \d+ s\)/,
      );
    }),
  );

  it(
    'expected errors are one line with the documented exit code: unknown key, bad config, unknown cluster, no credentials',
    isolated(async () => {
      // Prepare
      const typo = writeConfig('typo.json', {
        clusters: [{ ...clusterOf(world), preservedTarget: [] }],
      });
      const bad = writeConfig('bad.json', {
        clusters: [{ ...clusterOf(world), portMappings: [{ name: 'app0', nodePort: 70000 }] }],
      });
      // Act
      const runs = {
        unknownKey: await cli(['plan', ...on(typo)]),
        validate: await cli(['validate', '--config', bad]),
        badConfig: await cli(['status', ...on(bad)]),
        unknownCluster: await cli(['status', '--cluster', 'nope', ...on(config)]),
        noCredentials: await cli(['plan', ...on(config)], {
          AWS_ACCESS_KEY_ID: undefined,
          AWS_SECRET_ACCESS_KEY: undefined,
        }),
        usage: await cli(['plan', '--bogus']),
      };
      // Assess
      for (const [what, run] of Object.entries(runs)) {
        if (what === 'validate') continue;
        expect({ what, lines: run.stderr.trimEnd().split('\n').length }).toEqual({ what, lines: 1 });
        expect(run.stdout).toBe('');
      }
      expect(runs.unknownKey.code).toBe(EXIT.error);
      expect(runs.unknownKey.stderr).toContain(
        'clusters.0.preservedTarget: unknown key; did you mean "preservedTargets"?',
      );
      expect(runs.validate.code).toBe(EXIT.error);
      expect(runs.validate.stdout).toContain('clusters.0.portMappings.0.nodePort:');
      expect(runs.validate.stdout).toContain('clusters.0.portMappings.0.targetGroupArn:');
      expect(runs.badConfig.code).toBe(EXIT.error);
      expect(runs.badConfig.stderr).toMatch(/^error: bad config .*clusters\.0\.portMappings\.0\.nodePort: /);
      expect(runs.unknownCluster.code).toBe(EXIT.error);
      expect(runs.unknownCluster.stderr).toContain('error: unknown cluster "nope"');
      expect(runs.noCredentials.code).toBe(EXIT.error);
      expect(runs.noCredentials.stderr).toMatch(/^error: no credentials: set AWS_PROFILE/);
      expect(runs.usage.code).toBe(EXIT.usage);
    }),
  );
});
