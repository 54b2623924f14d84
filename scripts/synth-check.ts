/**
 * The one real synth: bundles every function with esbuild (no Docker), then reports the synth time,
 * each function's bundle size, and whether each bundle loads and exports `handler`.
 * Run: `npx tsx scripts/synth-check.ts [config.json]`; test/infra/bundling.test.ts calls runSynthCheck.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSyncApp } from '../infra/app';
import { SYNC_ENVIRONMENT } from '../infra/constants';

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
  /** Whether `require()` of the bundle gave a `handler` function. */
  readonly exportsHandler: boolean;
  /** What loading printed on failure. */
  readonly loadError?: string;
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

/** Loads a bundle in a child Node process, as Lambda would, with the function's own config. */
function loadBundle(assetDir: string, config: string): { ok: boolean; error?: string } {
  const probe = spawnSync(
    process.execPath,
    ['-e', "const m=require('./index.js');if(typeof m.handler!=='function'){process.exit(3)}"],
    {
      cwd: assetDir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', [SYNC_ENVIRONMENT.config]: config },
      timeout: 30_000,
    },
  );
  return probe.status === 0
    ? { ok: true }
    : { ok: false, error: `${probe.stderr}${probe.stdout}`.slice(0, 2000) };
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
      // A config holding deploy-time references is not loadable here; the file's own config is.
      const loaded = loadBundle(assetDir, readFileSync(configPath, 'utf8'));
      return {
        logicalId,
        assetDir,
        codeBytes: size('index.js'),
        sourceMapBytes: size('index.js.map'),
        exportsHandler: loaded.ok,
        ...(loaded.error === undefined ? {} : { loadError: loaded.error }),
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
  for (const bundle of result.bundles) {
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
    console.log(
      `${bundle.logicalId}: index.js ${kib(bundle.codeBytes)}, index.js.map ${kib(bundle.sourceMapBytes)}, ` +
        `handler ${bundle.exportsHandler ? 'loads' : `FAILS: ${bundle.loadError}`}`,
    );
    console.log(`  files: ${readdirSync(bundle.assetDir).join(', ')}`);
  }
  if (result.bundles.some((bundle) => !bundle.exportsHandler)) process.exitCode = 1;
  // `npm test` runs this: it leaves nothing behind unless asked (`--keep` to read the assets).
  if (keep) console.log(`kept ${result.outdir}`);
  else rmSync(result.outdir, { recursive: true, force: true });
}

if (require.main === module) main();
