#!/usr/bin/env node
/**
 * `npm run bench`: API calls per reconcile pass against moto (next to the derived minimum), the size of
 * each Lambda bundle and its cold-start (init) time. Prints a markdown report, writes it to
 * bench/results/latest.md only with `--save` (a tracked file: commit it with the change it measures), and
 * exits non-zero when a pass does not converge or sends more calls than the
 * minimum plus the slack. See docs/benchmarks.md.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUNDLED_CONFIG_FILE_NAME } from '../lambdas/runtime/environment';
import { startMotoServer } from '../test/support/moto-server';
import {
  type BundleResult,
  bundleEntry,
  type ColdStartResult,
  coldStartGoalProblems,
  LAMBDA_ENTRIES,
  measureColdStart,
} from './bundle';
import { installCallCounter } from './call-counter';
import { type ConfigInitResult, LARGE_CONFIG, largeConfigText, measureConfigInits } from './config-init';
import { spawnLatencyProxy } from './latency-proxy';
import { type LifecyclePathResult, measureLifecyclePaths } from './lifecycle';
import { renderMemory } from './memory';
import { MAX_CALL_RATIO, PASS_OPERATIONS } from './minimum';
import { type ClusterSize, measureScale, ROUND_TRIP_GOALS, type ScenarioResult } from './scale';

/**
 * Cluster sizes of the pass scenarios. The full size is 498 nodes, 83 in each of six zones: with six target
 * groups that is 498 targets per zone and 2,988 per NLB, the most the NLB's quotas (500 per zone, 3,000 per
 * NLB, a target in N groups counting N times) allow; 500 nodes would put 504 targets in two zones.
 */
const SIZES: readonly ClusterSize[] = [
  { nodes: 3, delta: 1, goals: false },
  { nodes: 50, delta: 5, goals: false },
  { nodes: 498, delta: 50, goals: true },
];

/** `--sizes=3,50` measures only those of {@link SIZES} (a quicker look; the goals apply to the full size). */
function sizesFromArgs(argv: readonly string[]): readonly ClusterSize[] {
  const arg = argv.find((a) => a.startsWith('--sizes='));
  if (arg === undefined) return SIZES;
  const wanted = new Set(arg.slice('--sizes='.length).split(',').map(Number));
  const chosen = SIZES.filter((s) => wanted.has(s.nodes));
  if (chosen.length === 0) throw new Error(`--sizes: choose among ${SIZES.map((s) => s.nodes).join(', ')}`);
  return chosen;
}
/** Latency the proxy adds to every AWS call (a regional endpoint's round trip, roughly). */
const LATENCY_MS = 40;
/** Runs of the no-op pass; the median wall and CPU times are reported. */
const NO_OP_RUNS = 3;
/** Fresh `node` processes per bundle for the cold-start figures. */
const COLD_START_RUNS = 10;
/** Packages listed in the bundle breakdown. */
const TOP_PACKAGES = 8;

// The SDK's notice that Node.js < 22 loses support (printed once per process) is not a bench figure.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const PROJECT_ROOT = resolve(__dirname, '..');
const RESULTS_FILE = join(PROJECT_ROOT, 'bench', 'results', 'latest.md');
const EXAMPLE_CONFIG = join(PROJECT_ROOT, 'examples', 'sync.config.json');

interface Machine {
  readonly date: string;
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly moto: string;
}

async function measurePasses(): Promise<{
  scale: ScenarioResult[];
  lifecycle: LifecyclePathResult[];
  motoVersion: string;
}> {
  const moto = await startMotoServer();
  try {
    const proxy = await spawnLatencyProxy(moto.endpoint, LATENCY_MS);
    try {
      progress(
        `moto ${moto.version} on ${moto.endpoint}; lifecycle shim on ${proxy.shimEndpoint}; latency proxy (+${LATENCY_MS} ms) on ${proxy.endpoint} (pid ${proxy.pid})`,
      );
      // The product's clients read these as the SDK always does; nothing in the product knows it runs on moto.
      process.env.AWS_ENDPOINT_URL = proxy.endpoint;
      process.env.AWS_REGION = 'us-east-1';
      process.env.AWS_ACCESS_KEY_ID = 'testing';
      process.env.AWS_SECRET_ACCESS_KEY = 'testing';
      process.env.POWERTOOLS_METRICS_DISABLED = 'true';
      const counter = installCallCounter();
      const scale = await measureScale({
        proxy,
        reset: () => moto.reset(),
        counter,
        sizes: sizesFromArgs(process.argv),
        noOpRuns: NO_OP_RUNS,
        roundMs: LATENCY_MS,
        progress,
      });
      progress('lifecycle paths (virtual clock, target model)');
      await moto.reset();
      const lifecycle = await measureLifecyclePaths(proxy.shimEndpoint, () => moto.reset(), counter);
      for (const l of lifecycle) {
        progress(
          `  ${l.path}: ${l.invocations} invocations, longest ${l.longestInvocationMs.toFixed(0)} ms, answered after ${l.answeredAfterSeconds ?? '-'} s${l.problems.length > 0 ? ` FAILED: ${l.problems.join('; ')}` : ''}`,
        );
      }
      return { scale, lifecycle, motoVersion: moto.version };
    } finally {
      await proxy.stop();
    }
  } finally {
    await moto.stop();
  }
}

async function measureBundles(): Promise<{
  bundles: BundleResult[];
  coldStarts: ColdStartResult[];
  configInit: ConfigInitResult[];
}> {
  const outDir = mkdtempSync(join(tmpdir(), 'nlb-sync-bench-'));
  try {
    const exampleText = JSON.stringify(JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8')));
    const bundles: BundleResult[] = [];
    const coldStarts: ColdStartResult[] = [];
    const configInit: ConfigInitResult[] = [];
    for (const entry of LAMBDA_ENTRIES) {
      const bundle = await bundleEntry(entry, outDir);
      bundles.push(bundle);
      progress(`bundled ${entry.entry}: ${bundle.bytes} bytes (${bundle.gzipBytes} gzipped)`);
      for (const sourceMaps of [true, false]) {
        const cold = measureColdStart(bundle, exampleText, COLD_START_RUNS, sourceMaps);
        coldStarts.push(cold);
        progress(
          `cold start ${entry.name}${sourceMaps ? ' (source maps)' : ''}: require ${cold.requireMs.toFixed(1)} ms, process ${cold.processMs.toFixed(0)} ms`,
        );
      }
    }
    // The config's share of init: the pass handler's bundle with the example and the largest config file.
    const reconcile = bundles[0];
    if (reconcile !== undefined) {
      const large = `${LARGE_CONFIG.clusters} x ${LARGE_CONFIG.mappingsPerCluster}`;
      const configs = [
        { label: 'example', text: exampleText },
        { label: large, text: largeConfigText() },
      ];
      for (const init of measureConfigInits(reconcile, configs, COLD_START_RUNS, true)) {
        configInit.push(init);
        progress(
          `init ${reconcile.name} with the ${init.config} config (${init.configBytes} bytes): require ${init.requireMs.toFixed(1)} ms, CPU ${init.requireCpuMs.toFixed(1)} ms`,
        );
      }
    }
    return { bundles, coldStarts, configInit };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

function renderReport(
  machine: Machine,
  scale: readonly ScenarioResult[],
  lifecycle: readonly LifecyclePathResult[],
  bundles: readonly BundleResult[],
  coldStarts: readonly ColdStartResult[],
  configInit: readonly ConfigInitResult[],
): string {
  const lines: string[] = [];
  lines.push('# Benchmark results', '');
  lines.push(
    `Measured ${machine.date} by \`npm run bench\` on ${machine.cores} cores (${machine.cpu}), Node.js ${machine.node}, moto ${machine.moto}.`,
    '',
  );
  lines.push(...renderScale(scale));
  lines.push(...renderMemory(scale));
  lines.push('', '## Lifecycle paths, one node each (moto + target model, virtual clock)', '');
  lines.push(
    'Three groups (2 ip, 1 instance), AWS default health checks (150 s in `initial`) and deregistration delay (300 s); re-checks every 15 s. *Calls*: AWS calls of the whole path for the one node (the passes included); *messages*: re-checks and retries the product sent itself.',
    '',
  );
  lines.push(
    row([
      'Path',
      'Invocations',
      'Longest invocation (ms)',
      'AWS calls',
      'Messages',
      'Answered after (s)',
      'Check',
    ]),
  );
  lines.push(row(['---', '---:', '---:', '---', '---:', '---:', '---']));
  for (const l of lifecycle) {
    const calls = [...l.calls.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([op, n]) => `${op} ${n}`);
    lines.push(
      row([
        l.path,
        String(l.invocations),
        l.longestInvocationMs.toFixed(0),
        calls.join(', '),
        String(l.messages),
        l.answeredAfterSeconds === undefined ? '-' : String(l.answeredAfterSeconds),
        l.problems.length === 0 ? 'ok' : `FAILED: ${l.problems.join('; ')}`,
      ]),
    );
  }
  lines.push('', '## Lambda bundles (esbuild, as the CDK NodejsFunction bundles them)', '');
  lines.push(row(['Entry', 'index.js (bytes)', 'gzipped (bytes)', 'source map (bytes)']));
  lines.push(row(['---', '---:', '---:', '---:']));
  for (const b of bundles) {
    lines.push(row([b.entry, String(b.bytes), String(b.gzipBytes), String(b.mapBytes)]));
  }
  lines.push('', `Largest packages in the bundle (bytes of minified output, top ${TOP_PACKAGES}):`, '');
  lines.push(row(['Package', ...bundles.map((b) => b.name)]));
  lines.push(row(['---', ...bundles.map(() => '---:')]));
  for (const { name } of bundles[0]?.byPackage.slice(0, TOP_PACKAGES) ?? []) {
    lines.push(
      row([name, ...bundles.map((b) => String(b.byPackage.find((p) => p.name === name)?.bytes ?? 0))]),
    );
  }
  lines.push('', `## Cold start (init), median of ${COLD_START_RUNS} fresh \`node\` processes`, '');
  lines.push(
    row([
      'Entry',
      'NODE_OPTIONS',
      'require, median (ms)',
      'require, fastest (ms)',
      'require, CPU median (ms)',
      'whole process, median (ms)',
    ]),
  );
  lines.push(row(['---', '---', '---:', '---:', '---:', '---:']));
  for (const c of coldStarts) {
    lines.push(
      row([
        c.name,
        c.sourceMaps ? '`--enable-source-maps` (as deployed)' : '(none)',
        c.requireMs.toFixed(1),
        c.requireMinMs.toFixed(1),
        c.requireCpuMs.toFixed(1),
        c.processMs.toFixed(0),
      ]),
    );
  }
  lines.push(
    '',
    `## Init with a config of ${LARGE_CONFIG.clusters} clusters x ${LARGE_CONFIG.mappingsPerCluster} port mappings`,
    '',
  );
  lines.push(
    `The config file a deployment of that size bundles (\`${BUNDLED_CONFIG_FILE_NAME}\` beside \`index.js\`, named by \`NLB_SYNC_CONFIG_BUNDLED\`, as infra/sync-stack.ts deploys it; imported NLBs, so every ARN is in the file), loaded and validated at init by ${COLD_START_RUNS} fresh \`node\` processes each, taking turns with the example config; the pass handler's bundle.`,
    '',
  );
  lines.push(
    row([
      'Entry',
      'Config',
      'Config (bytes)',
      'NODE_OPTIONS',
      'require, median (ms)',
      'require, fastest (ms)',
      'require, CPU median (ms)',
    ]),
  );
  lines.push(row(['---', '---', '---:', '---', '---:', '---:', '---:']));
  for (const c of configInit) {
    lines.push(
      row([
        c.name,
        c.config,
        String(c.configBytes),
        c.sourceMaps ? '`--enable-source-maps` (as deployed)' : '(none)',
        c.requireMs.toFixed(1),
        c.requireMinMs.toFixed(1),
        c.requireCpuMs.toFixed(1),
      ]),
    );
  }
  return `${lines.join('\n')}\n`;
}

function renderScale(scale: readonly ScenarioResult[]): string[] {
  const lines: string[] = [];
  lines.push('## Reconcile passes through the latency proxy (moto)', '');
  lines.push(
    `Six zones, one Auto Scaling group each, an NLB with six target groups (4 ip, 2 instance), node security-group rules (source: the VPC CIDR) and Route 53 records (an alias, the node A record, one SRV per mapping). The proxy answers the product's calls in rounds, all answers of a round together once the product has sent every call it can, a round lasting at least ${LATENCY_MS} ms (bench/rounds.ts). *Round trips*: the longest chain of calls each sent after the previous one returned (bench/round-trips.ts), i.e. the rounds of calls that waited for each other; *target step*: until the last target write returned. Goals at the full size: calls/minimum <= ${MAX_CALL_RATIO}; converge <= ${ROUND_TRIP_GOALS.convergeTargets} round trips for the target step and <= ${ROUND_TRIP_GOALS.convergePass} for the pass; no-op <= ${ROUND_TRIP_GOALS.noOpPass} and no write; a launched node registered in every group within ${ROUND_TRIP_GOALS.launchRegistered}. *Slowest answer*: the longest a call waited for its answer at the proxy (its round waits for moto's slowest answer). CPU: user + system of the product's process during the pass (the proxy and moto run apart). No-op: the median of ${NO_OP_RUNS} passes (calls and round trips: the largest).`,
    '',
  );
  const header = [
    'Nodes',
    'Scenario',
    'Calls / minimum',
    'Ratio',
    'Round trips: target step / pass',
    'Registered after',
    'Writes',
    'Wall (ms)',
    'Slowest answer (ms)',
    'CPU (ms)',
    'Check',
  ];
  lines.push(
    row(header),
    row(['---:', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---', '---:', '---']),
  );
  for (const r of scale) {
    lines.push(
      row([
        String(r.nodes),
        r.label,
        r.minimumTotal === undefined ? `${r.total} / -` : `**${r.total} / ${r.minimumTotal}**`,
        r.minimumTotal === undefined ? '-' : (r.total / r.minimumTotal).toFixed(2),
        `${r.targetRoundTrips ?? '-'} / ${r.roundTrips}`,
        r.registeredAfter === undefined ? '-' : String(r.registeredAfter),
        String(r.writes),
        r.wallMs.toFixed(0),
        `${r.slowest.ms.toFixed(0)} ${r.slowest.action}`,
        r.cpuMs.toFixed(0),
        r.problems.length === 0 ? 'ok' : `FAILED: ${r.problems.join('; ')}`,
      ]),
    );
  }
  const full = Math.max(...scale.map((r) => r.nodes));
  const atFull = scale.filter((r) => r.nodes === full);
  lines.push(
    '',
    `Calls per operation at ${full} nodes (*calls / minimum*; the launch event has no minimum):`,
    '',
  );
  lines.push(row(['Operation', ...atFull.map((r) => r.label)]), row(['---', ...atFull.map(() => '---:')]));
  const others = [...new Set(atFull.flatMap((r) => [...r.otherCalls.keys()]))].sort();
  for (const op of PASS_OPERATIONS) {
    if (atFull.every((r) => r.calls[op] === 0 && (r.minimum?.[op] ?? 0) === 0)) continue;
    lines.push(
      row([
        op,
        ...atFull.map((r) =>
          r.minimum === undefined ? String(r.calls[op]) : `${r.calls[op]} / ${r.minimum[op]}`,
        ),
      ]),
    );
  }
  for (const op of others) lines.push(row([op, ...atFull.map((r) => String(r.otherCalls.get(op) ?? 0))]));
  lines.push('');
  lines.push(
    `The longest chain of each scenario at ${full} nodes (one call per round trip; calls sent together are not shown):`,
    '',
  );
  for (const r of atFull) lines.push(`- ${r.label} (${r.chain.length}): ${r.chain.join(' -> ')}`);
  for (const r of atFull) {
    if (r.registrationChain !== undefined) {
      lines.push(
        `- ${r.label}, until the node is registered (${r.registrationChain.length}): ${r.registrationChain.join(' -> ')}`,
      );
    }
  }
  lines.push('');
  return lines;
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

async function main(): Promise<number> {
  const started = Date.now();
  const { scale, lifecycle, motoVersion } = await measurePasses();
  const { bundles, coldStarts, configInit } = await measureBundles();
  const machine: Machine = {
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus().length,
    moto: motoVersion,
  };
  const report = renderReport(machine, scale, lifecycle, bundles, coldStarts, configInit);
  process.stdout.write(report);
  // The tracked report changes only when asked: a run to look at figures leaves the tree clean.
  if (process.argv.includes('--save')) {
    mkdirSync(join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(RESULTS_FILE, report);
  }
  progress(
    `done in ${((Date.now() - started) / 1000).toFixed(0)} s${process.argv.includes('--save') ? '; report written to bench/results/latest.md' : ' (npm run bench -- --save writes bench/results/latest.md)'}`,
  );
  const failed = [
    ...scale
      .filter((r) => r.problems.length > 0)
      .map((r) => ({ what: `${r.nodes} nodes, ${r.label}`, problems: r.problems })),
    ...lifecycle
      .filter((l) => l.problems.length > 0)
      .map((l) => ({ what: `lifecycle ${l.path}`, problems: l.problems })),
    // Issue 9 item 3: the deployed bundle's size and init median (bench/bundle.ts COLD_START_GOALS).
    ...[coldStartGoalProblems(bundles, coldStarts)]
      .filter((problems) => problems.length > 0)
      .map((problems) => ({ what: 'cold start', problems })),
  ];
  if (failed.length > 0) {
    progress(`FAILED: ${failed.length} scenario(s) missed a goal or a check`);
    for (const f of failed) progress(`  ${f.what}: ${f.problems.join('; ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    progress(`failed: ${error.name}: ${error.message}`);
    process.exitCode = 1;
  },
);
