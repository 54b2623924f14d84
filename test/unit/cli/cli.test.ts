import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { painter, useColour } from '../../../lambdas/cli/colour';
import { checkConfig } from '../../../lambdas/cli/config-check';
import { cliDocumentSchema, statusDocumentSchema } from '../../../lambdas/cli/document';
import { CliError, explainError } from '../../../lambdas/cli/errors';
import { EXIT } from '../../../lambdas/cli/exit-codes';
import { applyAwsOptions, type CliDeps, runCli } from '../../../lambdas/cli/program';
import { humanLine, StderrLogger } from '../../../lambdas/cli/stderr-logger';
import { ConfigError } from '../../../lambdas/domain/config';
import type { ObservedTarget } from '../../../lambdas/domain/target';
import { asgNode, FakeAws, fakeDeps } from '../../support/fake-aws';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/a/0123456789abcdef';
const CONFIG = {
  clusters: [
    {
      name: 'prod',
      nodeSource: { autoScalingGroups: ['my-asg'] },
      portMappings: [{ name: 'a', targetGroupArn: TG, nodePort: 30000 }],
    },
  ],
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nlb-sync-cli-unit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  env: NodeJS.ProcessEnv;
  fake: FakeAws;
}

/** Runs the CLI in-process on a fake AWS (two nodes, one of them registered). */
async function run(
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    tty?: boolean;
    input?: string;
    deps?: (logger: Logger) => CliDeps;
    /** Targets the group holds (default: node 1's). */
    targets?: ObservedTarget[];
  } = {},
): Promise<Ran> {
  const fake = new FakeAws();
  fake.addGroup('my-asg', [asgNode(1), asgNode(2)]);
  fake.targets.set(TG, options.targets ?? [{ id: '10.0.0.11', port: 30000, state: 'healthy' }]);
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  stdin.isTTY = options.tty ?? false;
  if (options.input !== undefined) stdin.end(options.input);
  const env: NodeJS.ProcessEnv = { ...options.env };
  const code = await runCli(args, {
    stdout: {
      write: (t: string) => {
        stdout += t;
      },
      isTTY: options.tty ?? false,
    },
    stderr: {
      write: (t: string) => {
        stderr += t;
      },
    },
    stdin,
    env,
    now: () => new Date('2026-01-01T00:00:00Z'),
    createDeps: options.deps ?? ((logger) => ({ ...fakeDeps(fake), logger })),
  });
  return { code, stdout, stderr, env, fake };
}

describe('CLI: argument parsing and exit codes', () => {
  it.each<[string, number, string[]]>([
    ['--help', EXIT.ok, ['--help']],
    ['--version', EXIT.ok, ['--version']],
    ['a subcommand --help', EXIT.ok, ['plan', '--help']],
    ['an unknown option', EXIT.usage, ['plan', '--bogus']],
    ['an unknown command', EXIT.usage, ['staus']],
    ['no command', EXIT.usage, []],
    ['a malformed instance id', EXIT.usage, ['drain', 'i-xyz']],
    ['a missing instance id', EXIT.usage, ['undrain']],
    ['an endpoint that is no URL', EXIT.usage, ['plan', '--endpoint-url', 'localhost']],
  ])('%s exits %i', async (what, expected, args) => {
    // Act
    const ran = await run(args);
    // Assess
    expect(ran.code).toBe(expected);
    // A usage error is one line; no command at all prints the help (on stderr) instead.
    if (expected === EXIT.usage && what !== 'no command')
      expect(ran.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('--help lists every subcommand and the common options; --version prints package.json version', async () => {
    // Act
    const help = await run(['--help']);
    const version = await run(['--version']);
    // Assess
    for (const word of ['validate', 'plan', 'apply', 'status', 'drain', 'undrain'])
      expect(help.stdout).toContain(word);
    for (const option of [
      '--config',
      '--cluster',
      '--region',
      '--profile',
      '--endpoint-url',
      '--json',
      '--verbose',
    ])
      expect(help.stdout).toContain(option);
    expect(version.stdout.trim()).toBe(require('../../../package.json').version);
  });

  it('a subcommand help shows its own options and the global ones', async () => {
    // Act
    const help = await run(['apply', '--help']);
    // Assess
    expect(help.stdout).toContain('--yes');
    expect(help.stdout).toContain('Global Options');
    expect(help.stdout).toContain('--endpoint-url');
  });

  it('--region, --profile and --endpoint-url set what the SDK reads, and say where the endpoint came from', () => {
    // Prepare
    const env: NodeJS.ProcessEnv = {};
    const fromEnv: NodeJS.ProcessEnv = { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' };
    // Act
    const flags = applyAwsOptions(
      { region: 'eu-west-1', profile: 'ops', endpointUrl: 'http://127.0.0.1:1' },
      env,
    );
    const environment = applyAwsOptions({}, fromEnv);
    // Assess
    expect(env).toEqual({
      AWS_REGION: 'eu-west-1',
      AWS_PROFILE: 'ops',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
    });
    expect(flags).toEqual({ url: 'http://127.0.0.1:1', from: '--endpoint-url', profile: 'ops' });
    expect(environment).toEqual({ url: 'http://127.0.0.1:5000', from: 'AWS_ENDPOINT_URL' });
  });
});

describe('CLI: refused deregistrations (issue 8)', () => {
  /** Node 1 registered, two hand-made targets no node explains: the guard refuses their deregistration. */
  const strangers: ObservedTarget[] = [
    { id: '10.0.0.11', port: 30000, state: 'healthy' },
    { id: '10.9.9.8', port: 30000, state: 'healthy' },
    { id: '10.9.9.9', port: 30000, state: 'healthy' },
  ];

  it('plan shows the refused changes with the guard reason, and the registrations (it printed no plan)', async () => {
    // Prepare
    const config = file('refused.json', CONFIG);
    // Act
    const human = await run(['plan', '--config', config], { targets: strangers });
    const json = await run(['plan', '--json', '--config', config], { targets: strangers });
    // Assess
    expect(human.code).toBe(EXIT.ok);
    expect(human.stdout).toContain('+ register 10.0.0.12:30000 in a');
    expect(human.stdout).toMatch(
      /refused: deregister 10\.9\.9\.8:30000 in a: a: would deregister 2 of 3 serving targets/,
    );
    const doc = cliDocumentSchema.parse(JSON.parse(json.stdout)) as { clusters: { refused?: unknown[] }[] };
    expect(doc.clusters[0]?.refused).toHaveLength(2);
    expect(human.fake.writes).toEqual([]);
  });

  it('apply registers and leaves the refused deregistrations waiting, exit 1', async () => {
    // Prepare
    const config = file('refused-apply.json', CONFIG);
    // Act
    const ran = await run(['apply', '--yes', '--config', config], { targets: strangers });
    // Assess
    expect(ran.code).toBe(EXIT.error);
    expect(ran.fake.writes).toEqual([`register ${TG} 10.0.0.12:30000`]);
    expect(ran.stdout).toContain('refused: deregister 10.9.9.9:30000 in a');
  });

  it('apply --confirm-deregistrations applies them for this run, logging who and why', async () => {
    // Prepare
    const config = file('refused-confirm.json', CONFIG);
    // Act
    const ran = await run(
      ['apply', '--yes', '--confirm-deregistrations', 'old hand-made targets', '--config', config],
      { targets: strangers, env: { USER: 'alice' } },
    );
    // Assess
    expect(ran.code).toBe(EXIT.ok);
    expect(ran.fake.writes).toEqual([
      `register ${TG} 10.0.0.12:30000`,
      `deregister ${TG} 10.9.9.8:30000,10.9.9.9:30000`,
    ]);
    expect(ran.stderr).toContain('Safety guard overridden by an operator for one pass');
    expect(ran.stderr).toContain('alice');
    expect(ran.stderr).toContain('old hand-made targets');
  });

  it('a blank reason is refused before anything runs', async () => {
    // Prepare
    const config = file('refused-blank.json', CONFIG);
    // Act
    const ran = await run(['apply', '--yes', '--confirm-deregistrations', ' ', '--config', config], {
      targets: strangers,
    });
    // Assess
    expect(ran.code).not.toBe(EXIT.ok);
    expect(ran.fake.writes).toEqual([]);
  });
});

describe('CLI: commands on a fake AWS', () => {
  it('plan --detailed-exitcode exits 2 with changes, plan alone 0; stdout has the change and its reason', async () => {
    // Prepare
    const config = file('ok.json', CONFIG);
    // Act
    const detailed = await run(['plan', '--detailed-exitcode', '--config', config]);
    const plain = await run(['plan', '--config', config]);
    // Assess
    expect(detailed.code).toBe(EXIT.changesPending);
    expect(plain.code).toBe(EXIT.ok);
    expect(detailed.stdout).toContain('+ register 10.0.0.12:30000 in a');
    expect(detailed.stdout).toContain('security-groups: not configured');
    expect(detailed.fake.writes).toEqual([]);
  });

  it('apply without --yes in a terminal shows the plan, asks, and changes nothing on "no"', async () => {
    // Prepare
    const config = file('ok.json', CONFIG);
    // Act
    const no = await run(['apply', '--config', config], { tty: true, input: 'no\n' });
    const yes = await run(['apply', '--config', config], { tty: true, input: 'yes\n' });
    // Assess
    expect(no.code).toBe(EXIT.error);
    expect(no.stderr).toContain('1 change(s) pending');
    expect(no.stderr).toContain('error: apply cancelled');
    expect(no.fake.writes).toEqual([]);
    expect(yes.code).toBe(EXIT.ok);
    expect(yes.fake.writes).toEqual([`register ${TG} 10.0.0.12:30000`]);
    expect(yes.stdout).toContain('1 registered, 0 deregistered');
  });

  it('validate lists every problem with its field and exits 1; a valid config exits 0', async () => {
    // Prepare
    const bad = file('bad.json', {
      clusters: [{ ...CONFIG.clusters[0], portMappings: [{ name: 'A', nodePort: 0 }], nodeSourc: {} }],
    });
    // Act
    const invalid = await run(['validate', '--config', bad]);
    const json = await run(['validate', '--json', '--config', bad]);
    const valid = await run(['validate', '--config', file('ok.json', CONFIG)]);
    // Assess
    expect(invalid.code).toBe(EXIT.error);
    expect(invalid.stdout).toContain('clusters.0.portMappings.0.name:');
    expect(invalid.stdout).toContain('clusters.0.portMappings.0.nodePort:');
    expect(invalid.stdout).toContain('clusters.0.nodeSourc: unknown key; did you mean "nodeSource"?');
    expect(cliDocumentSchema.parse(JSON.parse(json.stdout))).toMatchObject({
      command: 'validate',
      ok: false,
    });
    expect(valid).toMatchObject({ code: EXIT.ok });
  });

  it('status --json prints one document the schema accepts, with desired vs actual', async () => {
    // Act
    const ran = await run(['status', '--json', '--config', file('ok.json', CONFIG)]);
    // Assess
    expect(ran.code).toBe(EXIT.ok);
    const doc = statusDocumentSchema.parse(JSON.parse(ran.stdout));
    expect(doc.clusters[0]?.groups[0]).toMatchObject({
      inSync: false,
      actual: [{ id: '10.0.0.11', port: 30000, state: 'healthy', role: 'managed' }],
    });
    expect(doc.clusters[0]?.groups[0]?.desired).toHaveLength(2);
  });

  it('logs go to stderr only: --verbose adds log lines there and none to stdout', async () => {
    // Act
    const ran = await run(['plan', '--verbose', '--json', '--config', file('ok.json', CONFIG)]);
    // Assess
    expect(() => JSON.parse(ran.stdout)).not.toThrow();
    expect(ran.stderr).toContain('Reconcile pass finished');
  });

  it('expected errors are one line on stderr with the fix, and nothing on stdout', async () => {
    // Prepare
    const noCredentials = () => {
      throw Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      });
    };
    // Act
    const ran = {
      noConfig: await run(['plan']),
      unknownCluster: await run(['plan', '--cluster', 'nope', '--config', file('ok.json', CONFIG)]),
      badJson: await run(['status', '--config', file('broken.json', '{ "clusters": [')]),
      noCredentials: await run(['plan', '--config', file('ok.json', CONFIG)], { deps: noCredentials }),
    };
    // Assess
    for (const r of Object.values(ran)) {
      expect(r.code).toBe(EXIT.error);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
    expect(ran.noConfig.stderr).toBe('error: no config: set --config PATH or NLB_SYNC_CONFIG_FILE=PATH\n');
    expect(ran.unknownCluster.stderr).toContain('unknown cluster "nope"');
    expect(ran.badJson.stderr).toContain('(root): not valid JSON');
    expect(ran.noCredentials.stderr).toMatch(/^error: no credentials: set AWS_PROFILE/);
  });
});

describe('Function: explainError', () => {
  it.each<[string, unknown, object, RegExp]>([
    ['no region', new Error('Region is missing'), {}, /^no region: set --region or AWS_REGION/],
    [
      'an unreachable endpoint from the flag',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
      { url: 'http://127.0.0.1:9', from: '--endpoint-url' },
      /^cannot reach the endpoint http:\/\/127\.0\.0\.1:9 \(from --endpoint-url\): ECONNREFUSED/,
    ],
    [
      'an unreachable endpoint from the environment, as a cause',
      new Error('socket hang up', { cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }) }),
      { url: 'http://moto:5000', from: 'AWS_ENDPOINT_URL' },
      /\(from AWS_ENDPOINT_URL\): ENOTFOUND; .*unset AWS_ENDPOINT_URL/,
    ],
    [
      'rejected credentials',
      Object.assign(new Error('bad'), { name: 'InvalidClientTokenId' }),
      {},
      /^credentials rejected/,
    ],
    ['access denied', Object.assign(new Error('no'), { name: 'AccessDenied' }), {}, /docs\/iam\.md/],
    [
      'a bad config',
      new ConfigError('x.json', ['clusters.0.name: bad', 'a: b']),
      {},
      /^bad config: clusters\.0\.name: bad; a: b/,
    ],
    [
      'anything else',
      new TypeError('boom\nsecond line'),
      {},
      /^TypeError: boom; second line \(run with --verbose/,
    ],
  ])('%s', (_what, error, endpoint, expected) => {
    // Act
    const explained = explainError(error, endpoint);
    // Assess
    expect(explained.line).toMatch(expected);
    expect(explained.line).not.toContain('\n');
    expect(explained.exitCode).toBe(EXIT.error);
  });

  it('keeps a CliError exit code', () => {
    expect(explainError(new CliError('x', EXIT.usage))).toMatchObject({ line: 'x', exitCode: EXIT.usage });
  });
});

describe('Colour rules', () => {
  it.each<[string, { isTTY: boolean; json: boolean; env: NodeJS.ProcessEnv }, boolean]>([
    ['a terminal', { isTTY: true, json: false, env: {} }, true],
    ['a pipe', { isTTY: false, json: false, env: {} }, false],
    ['--json in a terminal', { isTTY: true, json: true, env: {} }, false],
    ['NO_COLOR in a terminal', { isTTY: true, json: false, env: { NO_COLOR: '1' } }, false],
    ['an empty NO_COLOR', { isTTY: true, json: false, env: { NO_COLOR: '' } }, true],
    ['TERM=dumb', { isTTY: true, json: false, env: { TERM: 'dumb' } }, false],
  ])('%s', (_what, context, expected) => {
    expect(useColour(context)).toBe(expected);
  });

  it('paints with ANSI only when enabled', () => {
    expect(painter(true).red('x')).toBe('\u001b[31mx\u001b[39m');
    expect(painter(false).red('x')).toBe('x');
  });

  it('a terminal report is coloured; the same report piped or with NO_COLOR is not', async () => {
    // Prepare
    const config = file('ok.json', CONFIG);
    // Act
    const tty = await run(['plan', '--config', config], { tty: true });
    const noColour = await run(['plan', '--config', config], { tty: true, env: { NO_COLOR: '1' } });
    const piped = await run(['plan', '--config', config]);
    // Assess
    expect(tty.stdout).toContain('\u001b[');
    expect(noColour.stdout).not.toContain('\u001b[');
    expect(piped.stdout).not.toContain('\u001b[');
  });
});

describe('Config check', () => {
  it('names unknown keys with the nearest known one, and schema problems with their field', () => {
    // Act
    const check = checkConfig({
      name: 't.json',
      text: JSON.stringify({ schedul: 'rate(5 minutes)', clusters: [{ ...CONFIG.clusters[0], zzz: 1 }] }),
    });
    // Assess
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.problems).toEqual(
      expect.arrayContaining([
        { field: 'schedul', message: 'unknown key; did you mean "schedule"?' },
        { field: 'clusters.0.zzz', message: 'unknown key' },
      ]),
    );
  });
});

describe('Class: StderrLogger', () => {
  it('writes the logger and its children to the given stream, never to stdout', () => {
    // Prepare
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const logger = new StderrLogger({ serviceName: 't', logLevel: 'INFO' }, { write: (l) => lines.push(l) });
    // Act
    logger.info('parent');
    logger.createChild({ persistentKeys: { cluster: 'c' } }).warn('child');
    spy.mockRestore();
    // Assess
    expect(spy).not.toHaveBeenCalled();
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['parent', 'child']);
  });

  it('humanLine prints level, message and the other attributes', () => {
    expect(humanLine('{"level":"WARN","message":"m","timestamp":"t","service":"s","cluster":"c"}')).toBe(
      'warn: m {"cluster":"c"}',
    );
    expect(humanLine('not json')).toBe('not json');
    expect(new StderrLogger()).toBeInstanceOf(Logger);
  });
});
