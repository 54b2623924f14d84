import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import { bundleLambda, inlineSchemaKeys, PROJECT_ROOT } from '../../infra/bundling/lambda-bundle';
import { runSynthCheck, type SynthCheckResult } from '../../scripts/synth-check';
import { FIXTURES } from './synth-helpers';

/** The real synths of the suite: esbuild bundles every handler, as `cdk deploy` would. */
describe('Function: runSynthCheck', () => {
  let example: SynthCheckResult;
  const outdirs: string[] = [];
  beforeAll(() => {
    example = runSynthCheck('examples/sync.config.json');
    outdirs.push(example.outdir);
  }, 120_000);
  afterAll(() => {
    for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
  });

  it('bundles every function into a loadable, minified arm64 asset', () => {
    // Assess
    expect(example.bundles).toHaveLength(1);
    for (const bundle of example.bundles) {
      expect(bundle.loadError).toBeUndefined();
      expect(bundle.exportsHandler).toBe(true);
      expect(bundle.codeBytes).toBeGreaterThan(10_000);
      // Lambda's limit for a zipped upload is 50 MB; a bundle this product ships stays far below.
      expect(bundle.codeBytes).toBeLessThan(5 * 1024 * 1024);
      expect(bundle.sourceMapBytes).toBeGreaterThan(0);
    }
  });

  it('bundles the config beside index.js, and the handler reads it from there', () => {
    // Assess: loaded with the function's own environment (no NLB_SYNC_CONFIG); without the file, init fails.
    for (const bundle of example.bundles) {
      expect(bundle.configFileBytes).toBeGreaterThan(100);
      expect(bundle.withoutConfigFile).toMatch(/BundledConfigError/);
    }
  });

  it('changes the asset with the config, and merges created ARNs in the bundled handler', () => {
    // Act: the same code, another config (create mode: deploy-time ARNs in NLB_SYNC_CONFIG_REFS).
    const created = runSynthCheck(FIXTURES.create);
    outdirs.push(created.outdir);

    // Assess
    const [before] = example.bundles;
    const [after] = created.bundles;
    expect(after?.exportsHandler).toBe(true);
    expect(after?.loadError).toBeUndefined();
    expect(after?.withoutConfigFile).toMatch(/BundledConfigError/);
    expect(basename(after?.assetDir ?? '')).not.toBe(basename(before?.assetDir ?? ''));
    expect(after?.codeBytes).toBe(before?.codeBytes);
  }, 120_000);
});

/** Every SDK client the product depends on, by package name. */
const SDK_CLIENTS = Object.keys(
  (
    JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    }
  ).dependencies,
).filter((name) => name.startsWith('@aws-sdk/client-'));

/** Bundles one ES module's text (imports resolved from `resolveDir`) and evaluates it; gives its exports. */
async function evaluateModule(contents: string, resolveDir: string): Promise<Record<string, unknown>> {
  const result = await build({
    stdin: { contents, resolveDir, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    mainFields: ['module', 'main'],
    write: false,
    logLevel: 'silent',
  });
  const module = { exports: {} as Record<string, unknown> };
  new Function('module', 'exports', 'require', result.outputFiles[0]?.text ?? '')(
    module,
    module.exports,
    require,
  );
  return module.exports;
}

/**
 * A structural image of a schema value: thunks (`() => X`) are followed, classes named, Maps listed,
 * an object seen before is named by the path where it was first seen (schemas are cyclic).
 */
function shapeOf(value: unknown, seen: Map<object, string> = new Map(), path = '$'): unknown {
  if (typeof value === 'function') {
    // Schema thunks are arrow functions (no prototype); error classes have one.
    if ('prototype' in value) return `[class ${value.name}]`;
    return { thunk: shapeOf((value as () => unknown)(), seen, `${path}()`) };
  }
  if (value === null || typeof value !== 'object') return value;
  const first = seen.get(value);
  if (first !== undefined) return { seenAt: first };
  seen.set(value, path);
  if (value instanceof Map) {
    return { map: [...value].map(([k, v], i) => [k, shapeOf(v, seen, `${path}.map[${i}]`)]) };
  }
  if (Array.isArray(value)) return value.map((item, i) => shapeOf(item, seen, `${path}[${i}]`));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, shapeOf(item, seen, `${path}.${key}`)]),
  );
}

describe('Function: inlineSchemaKeys (the Lambda build)', () => {
  it.each(SDK_CLIENTS)('leaves every export of %s schema module the same value', async (client) => {
    // Prepare
    const dir = join(PROJECT_ROOT, 'node_modules', client, 'dist-es', 'schemas');
    const source = readFileSync(join(dir, 'schemas_0.js'), 'utf8');
    // Act
    const transformed = inlineSchemaKeys(source);
    const [before, after] = await Promise.all([
      evaluateModule(source, dir),
      evaluateModule(transformed.code, dir),
    ]);
    // Assess: all computed keys are gone, the lines stay, and every exported schema is the same structure
    expect(transformed.inlined).toBeGreaterThan(0);
    expect(transformed.left).toBe(0);
    expect(transformed.code.split('\n')).toHaveLength(source.split('\n').length);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    // (compared as JSON: the images hold only strings, numbers, booleans, arrays and plain objects)
    expect(JSON.stringify(shapeOf(after))).toBe(JSON.stringify(shapeOf(before)));
  }, 120_000);

  it('leaves a computed key whose name is no string constant as it is', () => {
    // Act
    const result = inlineSchemaKeys(
      'const _a = "x";\nlet _b = f();\nexport var S = [{ [_a]: 1, [_b]: 2 }];\n',
    );
    // Assess
    expect(result.code).toContain('{ "x": 1, [_b]: 2 }');
    expect(result).toMatchObject({ inlined: 1, left: 1 });
  });
});

describe('Function: bundleLambda (what the stack deploys)', () => {
  let outDir: string;
  let inputs: string[];
  let bytesOf: (pattern: RegExp) => number;
  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'nlb-sync-bundle-'));
    const metafile = await bundleLambda('lambdas/handlers/reconcile.ts', outDir);
    const all = Object.assign(
      {},
      ...Object.values(metafile.outputs).map((output) => output.inputs),
    ) as Record<string, { bytesInOutput: number }>;
    inputs = Object.keys(all);
    bytesOf = (pattern) =>
      Object.entries(all)
        .filter(([path]) => pattern.test(path))
        .reduce((sum, [, input]) => sum + input.bytesInOutput, 0);
  }, 120_000);
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('resolves credentials from the environment only: the default chain is not in the bundle', () => {
    // Assess
    expect(inputs).toContain('lambdas/runtime/lambda-credentials.ts');
    expect(
      inputs.filter((path) =>
        /credential-provider-(node|ini|sso|process|web-identity|http)|nested-clients/.test(path),
      ),
    ).toEqual([]);
  });

  it('keeps only the schemas of the EC2 operations the product sends', () => {
    // Assess: the whole EC2 schema module is ~550 KB minified; the product's operations need under 100 KB
    expect(bytesOf(/client-ec2\/dist-es\/schemas\//)).toBeGreaterThan(10_000);
    expect(bytesOf(/client-ec2\/dist-es\/schemas\//)).toBeLessThan(100_000);
  });

  it('leaves out the SDK’s event streams, which none of the product’s services has', () => {
    // Assess: the stub stands in, and no client the product bundles has a streaming member to reach it
    expect(inputs).toContain('infra/bundling/event-streams-stub.ts');
    expect(inputs.filter((path) => /submodules\/event-streams\//.test(path))).toEqual([]);
    for (const client of SDK_CLIENTS) {
      const schemas = readFileSync(
        join(PROJECT_ROOT, 'node_modules', client, 'dist-es', 'schemas', 'schemas_0.js'),
        'utf8',
      );
      expect({ client, streaming: schemas.includes('"streaming"') }).toEqual({ client, streaming: false });
    }
  });

  it('keeps only `version` of each client’s package.json, the one field the clients read', () => {
    // Assess: every read of the imported package.json in the clients' ES module builds is `.version`
    for (const client of SDK_CLIENTS) {
      const runtimeConfig = readFileSync(
        join(PROJECT_ROOT, 'node_modules', client, 'dist-es', 'runtimeConfig.js'),
        'utf8',
      );
      expect(runtimeConfig).toContain('import packageInfo from "../package.json"');
      expect([...new Set(runtimeConfig.match(/packageInfo\.\w+/g))]).toEqual(['packageInfo.version']);
    }
    expect(bytesOf(/client-[^/]+\/package\.json$/)).toBeLessThan(500);
  });

  it('signs its calls with the environment’s credentials and never reads a profile', async () => {
    // Prepare: a loopback endpoint that records each request's headers and answers a client error
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((request, response) => {
      seen.push(request.headers);
      request.resume();
      request.on('end', () => {
        response.writeHead(400, { 'content-type': 'text/xml' });
        response.end(
          '<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>test</Message></Error><RequestId>1</RequestId></ErrorResponse>',
        );
      });
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    const home = mkdtempSync(join(tmpdir(), 'nlb-sync-profile-'));
    writeFileSync(
      join(home, 'credentials'),
      '[default]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = secret\n',
    );
    const run = (credentials: Record<string, string>) =>
      new Promise<string>((done, fail) => {
        execFile(
          process.execPath,
          [
            '-e',
            'require(process.argv[1]).handler(JSON.parse(process.argv[2])).then((r) => process.stdout.write(JSON.stringify(r.failures)), (e) => process.stdout.write(String(e)))',
            join(outDir, 'index.js'),
            JSON.stringify({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }),
          ],
          {
            timeout: 60_000,
            env: {
              PATH: process.env.PATH,
              HOME: home,
              AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
              AWS_CONFIG_FILE: join(home, 'config'),
              AWS_REGION: 'us-east-1',
              AWS_ENDPOINT_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
              AWS_MAX_ATTEMPTS: '1',
              NLB_SYNC_CONFIG: readFileSync(join(PROJECT_ROOT, 'examples', 'sync.config.json'), 'utf8'),
              POWERTOOLS_METRICS_DISABLED: 'true',
              AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
              ...credentials,
            },
          },
          (error, stdout) => (error === null ? done(stdout) : fail(error)),
        );
      });
    try {
      // Act
      const withEnvironment = await run({
        AWS_ACCESS_KEY_ID: 'AKIDFROMENV',
        AWS_SECRET_ACCESS_KEY: 'secret',
      });
      const signedByEnvironment = seen.length;
      const withProfileOnly = await run({});
      // Assess: the first run reached the endpoint signed with the environment's key (and the client's
      // version in the user agent); the second found no credentials and sent nothing, profile or not
      expect(withEnvironment).toContain('prod');
      expect(signedByEnvironment).toBeGreaterThan(0);
      expect(seen[0]?.authorization).toContain('Credential=AKIDFROMENV/');
      expect(`${seen[0]?.['user-agent']} ${seen[0]?.['x-amz-user-agent']}`).toMatch(
        /api\/[\w-]+#\d+\.\d+\.\d+/,
      );
      expect(withProfileOnly).toContain('prod');
      expect(seen).toHaveLength(signedByEnvironment);
      expect(JSON.stringify(seen)).not.toContain('AKIDFROMPROFILE');
    } finally {
      server.close();
      rmSync(home, { recursive: true, force: true });
    }
  }, 120_000);

  it('carries no copy of zod’s locales (English imported by name) and no Powertools parser', () => {
    // Assess: the locales' index only re-exports, so none of it may reach the output
    expect(inputs.filter((path) => /zod\/v4\/locales\/(?!en\.js|index\.js)/.test(path))).toEqual([]);
    expect(bytesOf(/zod\/v4\/locales\/index\.js$/)).toBe(0);
    expect(bytesOf(/zod\/v4\/locales\/en\.js$/)).toBeGreaterThan(0);
    expect(inputs.filter((path) => /powertools\/parser/.test(path))).toEqual([]);
  });

  it('validates with zod/mini: none of classic zod’s API or its JSON Schema generator is bundled', () => {
    // Assess: the schemas on the deployed path use zod/mini; classic zod (its methods on every schema,
    // and with them toJSONSchema's processors, ~55 KB) stays with the CLI and the docs generator
    expect(inputs.filter((path) => /zod\/v4\/classic\//.test(path))).toEqual([]);
    expect(
      inputs.filter((path) => /zod\/v4\/core\/(to-json-schema|json-schema-processors)\.js$/.test(path)),
    ).toEqual([]);
    expect(bytesOf(/zod\/v4\/mini\//)).toBeGreaterThan(0);
  });
});
