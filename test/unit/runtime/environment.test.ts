import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseSyncConfig } from '../../../lambdas/domain/config';
import { EnvironmentError } from '../../../lambdas/domain/errors';
import {
  BUNDLED_CONFIG_FILE_NAME,
  BundledConfigError,
  CONFIG_ENV,
  configDigest,
  type DeployTimeValues,
  loadBundledConfig,
  loadConfigFromEnvironment,
} from '../../../lambdas/runtime/environment';

const IMPORT_TG = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/app/0123456789abcdef';
const CREATED_LB =
  'arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/net/edge/1123456789abcdef';
const CREATED_TG = (i: number) =>
  `arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/edge-${i}/${i.toString(16).padStart(16, '0')}`;

/** What the stack writes: the validated config (defaults filled), created clusters without their ARNs. */
const bundled = JSON.stringify(
  parseSyncConfig({
    clusters: [
      {
        name: 'prod',
        nodeSource: { autoScalingGroups: ['prod-asg'] },
        portMappings: [{ name: 'app', targetGroupArn: IMPORT_TG, nodePort: 30000 }],
      },
      {
        name: 'edge',
        nodeSource: { autoScalingGroups: ['edge-asg'] },
        loadBalancer: {
          create: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'] },
        },
        portMappings: [
          { name: 'a', listenerPort: 80, nodePort: 30080 },
          { name: 'b', listenerPort: 443, nodePort: 30443 },
        ],
      },
    ],
  }),
);

const refs = (overrides: Partial<DeployTimeValues> = {}): string =>
  JSON.stringify({
    v: configDigest(bundled),
    c: { edge: { lb: CREATED_LB, tg: [CREATED_TG(1), CREATED_TG(2)] } },
    ...overrides,
  });

describe('Function: loadConfigFromEnvironment (bundled file)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nlb-sync-bundle-'));
    writeFileSync(join(dir, BUNDLED_CONFIG_FILE_NAME), bundled);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the file bundled beside the code, relative to the bundle directory', () => {
    // Prepare
    const env = { [CONFIG_ENV.bundled]: BUNDLED_CONFIG_FILE_NAME };

    // Act
    const config = loadConfigFromEnvironment(env, dir);

    // Assess
    expect(config).toEqual(parseSyncConfig(JSON.parse(bundled)));
    expect(config.clusters[1]?.portMappings[0]?.targetGroupArn).toBeUndefined();
  });

  it('merges the deploy-time ARNs into the created clusters, in port-mapping order', () => {
    // Prepare
    const env = { [CONFIG_ENV.bundled]: BUNDLED_CONFIG_FILE_NAME, [CONFIG_ENV.deployTime]: refs() };

    // Act
    const config = loadConfigFromEnvironment(env, dir);

    // Assess
    const [prod, edge] = config.clusters;
    expect(prod?.portMappings[0]?.targetGroupArn).toBe(IMPORT_TG);
    expect(edge?.loadBalancer.arn).toBe(CREATED_LB);
    expect(edge?.portMappings.map((m) => [m.name, m.targetGroupArn])).toEqual([
      ['a', CREATED_TG(1)],
      ['b', CREATED_TG(2)],
    ]);
  });

  it('still validates the merged config, naming the field of a bad deploy-time value', () => {
    // Prepare
    const bad = refs({ c: { edge: { lb: CREATED_LB, tg: [CREATED_TG(1), 'not-an-arn'] } } });
    const env = { [CONFIG_ENV.bundled]: BUNDLED_CONFIG_FILE_NAME, [CONFIG_ENV.deployTime]: bad };

    // Act
    const load = () => loadConfigFromEnvironment(env, dir);

    // Assess
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/clusters\.1\.portMappings\.1\.targetGroupArn/);
  });

  it('fails with BundledConfigError naming the path when the file is missing', () => {
    // Prepare
    rmSync(join(dir, BUNDLED_CONFIG_FILE_NAME));
    const env = { [CONFIG_ENV.bundled]: BUNDLED_CONFIG_FILE_NAME };

    // Act
    const load = () => loadConfigFromEnvironment(env, dir);

    // Assess
    expect(load).toThrow(BundledConfigError);
    expect(load).toThrow(join(dir, BUNDLED_CONFIG_FILE_NAME));
    try {
      load();
    } catch (error) {
      expect((error as Error).name).toBe('BundledConfigError');
    }
  });

  it('fails with ConfigError naming the field when the file is invalid', () => {
    // Prepare
    const raw = JSON.parse(bundled) as { clusters: { portMappings: { nodePort: number }[] }[] };
    (raw.clusters[0] as { portMappings: { nodePort: number }[] }).portMappings[0] = {
      ...(raw.clusters[0]?.portMappings[0] as { nodePort: number }),
      nodePort: 70000,
    };
    writeFileSync(join(dir, BUNDLED_CONFIG_FILE_NAME), JSON.stringify(raw));
    const env = { [CONFIG_ENV.bundled]: BUNDLED_CONFIG_FILE_NAME };

    // Act
    const load = () => loadConfigFromEnvironment(env, dir);

    // Assess
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/clusters\.0\.portMappings\.0\.nodePort/);
  });

  it('fails with ConfigError when the file is not JSON, with or without deploy-time values', () => {
    // Prepare
    writeFileSync(join(dir, BUNDLED_CONFIG_FILE_NAME), '{"clusters": [');
    const plain = { [CONFIG_ENV.bundled]: BUNDLED_CONFIG_FILE_NAME };
    const withRefs = {
      ...plain,
      [CONFIG_ENV.deployTime]: refs({ v: configDigest('{"clusters": [') }),
    };

    // Act & Assess
    expect(() => loadConfigFromEnvironment(plain, dir)).toThrow(/not valid JSON/);
    expect(() => loadConfigFromEnvironment(withRefs, dir)).toThrow(ConfigError);
  });

  it('refuses deploy-time values made for another bundled file (an update seen half-way)', () => {
    // Prepare
    const env = {
      [CONFIG_ENV.bundled]: BUNDLED_CONFIG_FILE_NAME,
      [CONFIG_ENV.deployTime]: refs({ v: configDigest(`${bundled} `) }),
    };

    // Act
    const load = () => loadConfigFromEnvironment(env, dir);

    // Assess
    expect(load).toThrow(BundledConfigError);
    expect(load).toThrow(/different deployments/);
  });

  it.each([
    ['not JSON', '{"v":', /not valid JSON/],
    ['the wrong shape', '{"v":1,"c":{}}', /must be \{"v": digest/],
    [
      'a cluster without ARNs',
      JSON.stringify({ v: 'x', c: { edge: { lb: CREATED_LB } } }),
      /c\.edge must be/,
    ],
  ])('refuses deploy-time values that are %s', (_name, text, message) => {
    // Prepare
    const env = { [CONFIG_ENV.bundled]: BUNDLED_CONFIG_FILE_NAME, [CONFIG_ENV.deployTime]: text };

    // Act
    const load = () => loadConfigFromEnvironment(env, dir);

    // Assess
    expect(load).toThrow(BundledConfigError);
    expect(load).toThrow(message);
  });

  it('refuses deploy-time values for an unknown cluster or the wrong number of target groups', () => {
    // Prepare
    const unknown = refs({ c: { nope: { lb: CREATED_LB, tg: [] } } });
    const short = refs({ c: { edge: { lb: CREATED_LB, tg: [CREATED_TG(1)] } } });

    // Act & Assess
    expect(() => loadBundledConfig(BUNDLED_CONFIG_FILE_NAME, unknown, dir)).toThrow(
      /clusters the bundled configuration does not have: nope/,
    );
    expect(() => loadBundledConfig(BUNDLED_CONFIG_FILE_NAME, short, dir)).toThrow(
      /has 1 target group ARNs for 2 port mappings/,
    );
  });

  it('prefers inline NLB_SYNC_CONFIG (local runs, the bench) and falls back to NLB_SYNC_CONFIG_FILE', () => {
    // Prepare
    const inline = JSON.stringify({ ...JSON.parse(bundled), ownerId: 'inline-owner' });
    const path = join(dir, BUNDLED_CONFIG_FILE_NAME);

    // Act
    const fromInline = loadConfigFromEnvironment(
      { [CONFIG_ENV.inline]: inline, [CONFIG_ENV.bundled]: 'missing.json' },
      dir,
    );
    const fromFile = loadConfigFromEnvironment({ [CONFIG_ENV.file]: path }, dir);

    // Assess
    expect(fromInline.ownerId).toBe('inline-owner');
    expect(fromFile).toEqual(parseSyncConfig(JSON.parse(readFileSync(path, 'utf8'))));
    expect(() => loadConfigFromEnvironment({}, dir)).toThrow(EnvironmentError);
  });
});
