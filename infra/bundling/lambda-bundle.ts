/**
 * The one build of the deployed Lambda code: esbuild with changes the CDK `NodejsFunction` cannot
 * make (it takes no esbuild plugins), so infra/constructs/sync-function.ts runs this instead, and
 * bench/bundle.ts measures exactly this. Why, and what each change gives: docs/deploy.md "Functions".
 *
 * 1. **The SDK's schema modules made tree-shakable.** Every `@aws-sdk/client-*` keeps the schemas of all
 *    its operations in one module (`dist-es/schemas/schemas_0.js`; EC2's is 1.3 MB, ~550 KB minified).
 *    Their trait objects use computed keys (`{ [_xN]: _iI }` with `const _xN = "xmlName"`), which esbuild
 *    must assume may have side effects, so it keeps every schema. {@link inlineSchemaKeys} writes those
 *    keys as the string literals they are (the upstream fix, smithy-typescript PR 1889, is not released).
 * 2. **Credentials from the environment only.** `@aws-sdk/credential-provider-node` (the default chain,
 *    imported by every client's runtime config) is replaced by lambdas/runtime/lambda-credentials.ts,
 *    Lambda's own source of credentials. Unbundled runs (CLI, tests) keep the full default chain.
 * 3. **Code that cannot run left out.** `@smithy/core/event-streams`, which the SDK loads lazily only for
 *    an operation with an event stream (the product's services have none), is replaced by
 *    ./event-streams-stub.ts; and of each client's `package.json`, which its runtime config imports whole
 *    for the user agent, only `version` is kept.
 *
 * Run as a script (`node --import tsx infra/bundling/lambda-bundle.ts <entry> <outdir>`) it bundles one
 * entry: how the CDK's synchronous local bundling runs esbuild's asynchronous, plugin-capable API.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';

/** The repository root: entries are resolved from here, whatever the working directory. */
export const PROJECT_ROOT = resolve(__dirname, '..', '..');

/** The module that stands in for the SDK's default credential chain in the bundle. */
export const LAMBDA_CREDENTIALS_MODULE = join(PROJECT_ROOT, 'lambdas', 'runtime', 'lambda-credentials.ts');

/** What stands in for `@smithy/core/event-streams`. */
export const EVENT_STREAMS_STUB = join(PROJECT_ROOT, 'infra', 'bundling', 'event-streams-stub.ts');

/** An SDK client's package.json, which its runtime config imports for `version`. */
const CLIENT_PACKAGE_JSON = /[\\/]node_modules[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]package\.json$/;

/** An SDK client's schema module (ES module build), the one the computed keys defeat tree shaking in. */
const SCHEMA_MODULE =
  /[\\/]node_modules[\\/]@aws-sdk[\\/][^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;
/** A module-level string constant, as the SDK's code generator writes them: `const _xN = "xmlName";`. */
const STRING_CONSTANT = /^const (_[\w$]*) = ("(?:[^"\\\n]|\\.)*");$/gm;
/** A computed key naming a variable, in key position of an object literal. */
const COMPUTED_KEY = /([{,]\s*)\[(_[\w$]*)\]:/g;

/** What {@link inlineSchemaKeys} did to one module. */
export interface InlinedKeys {
  /** The module with its computed keys written as string literals. */
  readonly code: string;
  /** Computed keys replaced. */
  readonly inlined: number;
  /** Computed keys left as they were (a name that is no module-level string constant). */
  readonly left: number;
}

/**
 * Writes each computed key `[_name]` whose name is a module-level string constant as that string
 * literal. The same object results (a computed key with a string value is that key), but esbuild can
 * now see that evaluating it has no side effect, so a schema no command imports is dropped. Lines are
 * kept, so source-map lines stay right.
 */
export function inlineSchemaKeys(source: string): InlinedKeys {
  const constants = new Map<string, string>();
  for (const [, name, literal] of source.matchAll(STRING_CONSTANT)) {
    if (name !== undefined && literal !== undefined) constants.set(name, literal);
  }
  let inlined = 0;
  let left = 0;
  const code = source.replace(COMPUTED_KEY, (whole: string, before: string, name: string) => {
    const literal = constants.get(name);
    if (literal === undefined) {
      left += 1;
      return whole;
    }
    inlined += 1;
    return `${before}${literal}:`;
  });
  return { code, inlined, left };
}

/** The esbuild plugin of the changes above. */
export function lambdaBundlePlugin(): Plugin {
  return {
    name: 'nlb-nodeport-sync-lambda',
    setup(builder) {
      builder.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({
        path: LAMBDA_CREDENTIALS_MODULE,
      }));
      builder.onResolve({ filter: /^@smithy\/core\/event-streams$/ }, () => ({ path: EVENT_STREAMS_STUB }));
      builder.onLoad({ filter: CLIENT_PACKAGE_JSON }, async (args) => {
        const { version } = JSON.parse(await readFile(args.path, 'utf8')) as { version?: unknown };
        return { contents: JSON.stringify({ version }), loader: 'json' };
      });
      builder.onLoad({ filter: SCHEMA_MODULE }, async (args) => {
        const { code, left } = inlineSchemaKeys(await readFile(args.path, 'utf8'));
        return {
          contents: code,
          loader: 'js',
          warnings:
            left === 0
              ? []
              : [
                  {
                    text: `${left} computed keys left in ${args.path}: its unused schemas stay in the bundle`,
                  },
                ],
        };
      });
    },
  };
}

/**
 * The esbuild options of the deployed code: one minified CommonJS file for Node.js 22 with an external
 * source map (no sources content: stack traces name the files and lines, the map stays small), the ES
 * module builds of packages preferred (esbuild drops unused SDK commands only from those), and nothing
 * external: the function runs the SDK versions the tests ran, not the runtime's copy.
 */
export const LAMBDA_BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  external: [],
  logLevel: 'warning',
} as const satisfies BuildOptions;

/** The files one build writes: `index.js` and its source map `index.js.map`. */
export const BUNDLE_FILE = 'index.js';

/**
 * Bundles one Lambda entry into `outDir/index.js` (+ `index.js.map`).
 * @param entry - the handler file, relative to the repository root or absolute
 * @returns esbuild's metafile (what each input contributed)
 * @throws when esbuild reports an error
 */
export async function bundleLambda(entry: string, outDir: string): Promise<Metafile> {
  const result = await build({
    ...LAMBDA_BUILD_OPTIONS,
    entryPoints: [resolve(PROJECT_ROOT, entry)],
    outfile: join(outDir, BUNDLE_FILE),
    absWorkingDir: PROJECT_ROOT,
    plugins: [lambdaBundlePlugin()],
    metafile: true,
  });
  return result.metafile;
}

/**
 * {@link bundleLambda} for synchronous callers (the CDK's local bundling): runs this file as a script in
 * a child `node` with tsx, because esbuild's synchronous API takes no plugins.
 * @throws naming esbuild's output when the build fails
 */
export function bundleLambdaSync(entry: string, outDir: string): void {
  const child = spawnSync(process.execPath, ['--import', 'tsx', __filename, entry, outDir], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (child.status !== 0) {
    throw new Error(
      `Bundling ${entry} failed (exit ${child.status ?? child.signal}): ${child.stderr}${child.stdout}${child.error?.message ?? ''}`,
    );
  }
  // esbuild's warnings (e.g. computed keys left) go to the synth's output, not lost.
  if (child.stderr.trim() !== '') process.stderr.write(child.stderr);
}

async function main(): Promise<void> {
  const [entry, outDir] = process.argv.slice(2);
  if (entry === undefined || outDir === undefined) {
    throw new Error('usage: node --import tsx infra/bundling/lambda-bundle.ts <entry> <outdir>');
  }
  await bundleLambda(entry, outDir);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
