/**
 * The one real synth: bundles every function with esbuild (no Docker), then reports the synth time,
 * each function's bundle size, whether each bundle loads and exports `handler` with the function's own
 * environment (deploy-time references stood in for), and that it reads its config from the bundled file.
 * Run: `npx tsx scripts/synth-check.ts [config.json]`; test/infra/bundling.test.ts calls runSynthCheck.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSyncApp } from '../infra/app';
import { BUNDLED_CONFIG_FILE } from '../infra/constants';

/** One bundled function. */
export interface FunctionBundle {
  /** The function's logical id in the template. */
  readonly logicalId: string;
  /** The asset directory in the cloud assembly. */
  readonly assetDir: string;
  /** Size of the bundled code (index.js), bytes. */
  readonly codeBytes: number;
  /** Size of the source map, bytes. */
  readonly sourceMapBytes: number;
  /** Size of the configuration file bundled beside index.js (0: none), bytes. */
  readonly configFileBytes: number;
  /** Whether `require()` of the bundle, with the function's own environment, gave a `handler` function. */
  readonly exportsHandler: boolean;
  /** What loading printed on failure. */
  readonly loadError?: string;
  /**
   * The control: with the bundled configuration file moved away, what `require()` printed (it must
   * fail naming BundledConfigError, which shows the handler read its config from that file).
   */
  readonly withoutConfigFile?: string;
}

/** The result of {@link runSynthCheck}. */
export interface SynthCheckResult {
  readonly outdir: string;
  readonly synthMillis: number;
  readonly bundles: readonly FunctionBundle[];
}

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: {
    readonly Code?: { readonly S3Key?: string };
    readonly Environment?: { readonly Variables?: Record<string, unknown> };
  };
}

/**
 * A deploy-time value as it could come out of CloudFormation: `Ref`s and `Fn::GetAtt`s become values
 * of the right shape (ELB ARNs, queue URLs), `Fn::Join` joins. Enough for the bundle to initialize.
 */
function stubIntrinsic(value: unknown, resources: Record<string, TemplateResource>): string {
  if (typeof value === 'string') return value;
  const object = value as Record<string, unknown>;
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => stubIntrinsic(part, resources)).join(separator);
  }
  const id = String('Ref' in object ? object.Ref : (object['Fn::GetAtt'] as unknown[])[0]);
  const index = Object.keys(resources).indexOf(id);
  const hex = Math.max(index, 0).toString(16).padStart(16, '0');
  switch (resources[id]?.Type) {
    case 'AWS::ElasticLoadBalancingV2::LoadBalancer':
      return `arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/synth-${index}/${hex}`;
    case 'AWS::ElasticLoadBalancingV2::TargetGroup':
      return `arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/synth-${index}/${hex}`;
    case 'AWS::SQS::Queue':
      return `https://sqs.us-east-1.amazonaws.com/000000000000/${id}`;
    default:
      throw new Error(`synth-check cannot stand in for ${JSON.stringify(value)} (${resources[id]?.Type})`);
  }
}

/** Loads a bundle in a child Node process, as Lambda would, with the function's own environment. */
function loadBundle(assetDir: string, environment: Record<string, string>): { ok: boolean; error?: string } {
  const probe = spawnSync(
    process.execPath,
    ['-e', "const m=require('./index.js');if(typeof m.handler!=='function'){process.exit(3)}"],
    {
      cwd: assetDir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', ...environment },
      timeout: 30_000,
    },
  );
  return probe.status === 0
    ? { ok: true }
    : { ok: false, error: `${probe.stderr}${probe.stdout}`.slice(0, 2000) };
}

/** Loads the bundle once more with its configuration file moved away; gives what it printed. */
function loadWithoutConfigFile(assetDir: string, environment: Record<string, string>): string | undefined {
  const file = join(assetDir, BUNDLED_CONFIG_FILE);
  if (!existsSync(file)) return undefined;
  const aside = `${file}.aside`;
  renameSync(file, aside);
  try {
    const loaded = loadBundle(assetDir, environment);
    return loaded.ok ? '(loaded)' : loaded.error;
  } finally {
    renameSync(aside, file);
  }
}

/**
 * Synthesizes the app with bundling into a fresh directory and inspects each function's asset.
 * @param configPath - the sync config to deploy
 */
export function runSynthCheck(configPath = 'examples/sync.config.json'): SynthCheckResult {
  const outdir = mkdtempSync(join(tmpdir(), 'nlb-sync-synth-'));
  const started = process.hrtime.bigint();
  const { app, stack } = createSyncApp({ appProps: { outdir, context: { config: configPath } } });
  app.synth();
  const synthMillis = Number((process.hrtime.bigint() - started) / 1_000_000n);

  const template = JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.template.json`), 'utf8')) as {
    Resources: Record<string, TemplateResource>;
  };
  const bundles = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource]): FunctionBundle => {
      const hash = (resource.Properties?.Code?.S3Key ?? '').replace(/\.zip$/, '');
      const assetDir = join(outdir, `asset.${hash}`);
      const size = (file: string) =>
        existsSync(join(assetDir, file)) ? statSync(join(assetDir, file)).size : 0;
      // The function's own environment, deploy-time references stood in for: no NLB_SYNC_CONFIG.
      const environment = Object.fromEntries(
        Object.entries(resource.Properties?.Environment?.Variables ?? {}).map(([key, value]) => [
          key,
          stubIntrinsic(value, template.Resources),
        ]),
      );
      const loaded = loadBundle(assetDir, environment);
      const withoutConfigFile = loadWithoutConfigFile(assetDir, environment);
      return {
        logicalId,
        assetDir,
        codeBytes: size('index.js'),
        sourceMapBytes: size('index.js.map'),
        configFileBytes: size(BUNDLED_CONFIG_FILE),
        exportsHandler: loaded.ok,
        ...(loaded.error === undefined ? {} : { loadError: loaded.error }),
        ...(withoutConfigFile === undefined ? {} : { withoutConfigFile }),
      };
    });
  return { outdir, synthMillis, bundles };
}

function main(): void {
  const keep = process.argv.includes('--keep');
  const configPath =
    process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? 'examples/sync.config.json';
  const result = runSynthCheck(configPath);
  console.log(
    `synth with bundling: ${result.synthMillis} ms (in-process, after module load) -> ${result.outdir}`,
  );
  const findsConfig = (bundle: FunctionBundle) =>
    bundle.configFileBytes > 0 && /BundledConfigError/.test(bundle.withoutConfigFile ?? '');
  for (const bundle of result.bundles) {
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
    console.log(
      `${bundle.logicalId}: index.js ${kib(bundle.codeBytes)}, index.js.map ${kib(bundle.sourceMapBytes)}, ` +
        `${BUNDLED_CONFIG_FILE} ${kib(bundle.configFileBytes)}, ` +
        `handler ${bundle.exportsHandler ? 'loads' : `FAILS: ${bundle.loadError}`}`,
    );
    console.log(
      findsConfig(bundle)
        ? `  config: read from the bundled ${BUNDLED_CONFIG_FILE} (without it, init fails with BundledConfigError)`
        : `  config: NOT read from a bundled ${BUNDLED_CONFIG_FILE}; without it: ${bundle.withoutConfigFile ?? '(no file)'}`,
    );
    console.log(`  files: ${readdirSync(bundle.assetDir).join(', ')}`);
  }
  if (result.bundles.some((bundle) => !bundle.exportsHandler || !findsConfig(bundle))) process.exitCode = 1;
  // `npm test` runs this: it leaves nothing behind unless asked (`--keep` to read the assets).
  if (keep) console.log(`kept ${result.outdir}`);
  else rmSync(result.outdir, { recursive: true, force: true });
}

if (require.main === module) main();
