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
import { startLifecycleShim } from '../test/support/lifecycle-shim';
import { startMotoServer } from '../test/support/moto-server';
import { ASG_NODES, measureApiCalls, type ScenarioResult } from './api-calls';
import {
  type BundleResult,
  bundleEntry,
  type ColdStartResult,
  LAMBDA_ENTRIES,
  measureColdStart,
} from './bundle';
import { installCallCounter } from './call-counter';
import { type LifecyclePathResult, measureLifecyclePaths } from './lifecycle';
import { CALL_SLACK, PASS_OPERATIONS } from './minimum';

/** Cluster sizes of the API-call scenarios. */
const SIZES = [3, 50, 200] as const;
/** Runs of the steady-state pass; the median wall time is reported. */
const STEADY_RUNS = 5;
/** Fresh `node` processes per bundle for the cold-start figures. */
const COLD_START_RUNS = 10;
/** Packages listed in the bundle breakdown. */
const TOP_PACKAGES = 8;

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
  results: ScenarioResult[];
  lifecycle: LifecyclePathResult[];
  motoVersion: string;
}> {
  const moto = await startMotoServer();
  try {
    const shim = await startLifecycleShim(moto.endpoint);
    try {
      progress(`moto ${moto.version} on ${moto.endpoint}; lifecycle shim on ${shim.endpoint}`);
      // The product's clients read these as the SDK always does; nothing in the product knows it runs on moto.
      process.env.AWS_ENDPOINT_URL = shim.endpoint;
      process.env.AWS_REGION = 'us-east-1';
      process.env.AWS_ACCESS_KEY_ID = 'testing';
      process.env.AWS_SECRET_ACCESS_KEY = 'testing';
      process.env.POWERTOOLS_METRICS_DISABLED = 'true';
      const counter = installCallCounter();
      const results = await measureApiCalls({
        endpoint: shim.endpoint,
        reset: () => moto.reset(),
        counter,
        sizes: SIZES,
        steadyRuns: STEADY_RUNS,
        progress,
      });
      progress('lifecycle paths (virtual clock, target model)');
      const lifecycle = await measureLifecyclePaths(shim.endpoint, () => moto.reset(), counter);
      for (const l of lifecycle) {
        progress(
          `  ${l.path}: ${l.invocations} invocations, longest ${l.longestInvocationMs.toFixed(0)} ms, answered after ${l.answeredAfterSeconds ?? '-'} s${l.problems.length > 0 ? ` FAILED: ${l.problems.join('; ')}` : ''}`,
        );
      }
      return { results, lifecycle, motoVersion: moto.version };
    } finally {
      await shim.stop();
    }
  } finally {
    await moto.stop();
  }
}

async function measureBundles(): Promise<{ bundles: BundleResult[]; coldStarts: ColdStartResult[] }> {
  const outDir = mkdtempSync(join(tmpdir(), 'nlb-sync-bench-'));
  try {
    const configJson = JSON.stringify(JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8')));
    const bundles: BundleResult[] = [];
    const coldStarts: ColdStartResult[] = [];
    for (const entry of LAMBDA_ENTRIES) {
      const bundle = await bundleEntry(entry, outDir);
      bundles.push(bundle);
      progress(`bundled ${entry.entry}: ${bundle.bytes} bytes (${bundle.gzipBytes} gzipped)`);
      for (const sourceMaps of [true, false]) {
        const cold = measureColdStart(bundle, configJson, COLD_START_RUNS, sourceMaps);
        coldStarts.push(cold);
        progress(
          `cold start ${entry.name}${sourceMaps ? ' (source maps)' : ''}: require ${cold.requireMs.toFixed(1)} ms, process ${cold.processMs.toFixed(0)} ms`,
        );
      }
    }
    return { bundles, coldStarts };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

function renderReport(
  machine: Machine,
  passes: readonly ScenarioResult[],
  lifecycle: readonly LifecyclePathResult[],
  bundles: readonly BundleResult[],
  coldStarts: readonly ColdStartResult[],
): string {
  const lines: string[] = [];
  lines.push('# Benchmark results', '');
  lines.push(
    `Measured ${machine.date} by \`npm run bench\` on ${machine.cores} cores (${machine.cpu}), Node.js ${machine.node}, moto ${machine.moto}.`,
    '',
  );
  lines.push('## API calls per reconcile pass (moto)', '');
  lines.push(
    `Three target groups (2 ip, 1 instance). ${ASG_NODES} nodes in one Auto Scaling group; above that, the other nodes are found by an EC2 tag filter. Each cell is *calls / minimum*. Slack allowed: ${CALL_SLACK} call(s) per operation. Wall time: one pass, median of ${STEADY_RUNS} for the steady state.`,
    '',
  );
  const header = [
    'Nodes',
    'Scenario',
    ...PASS_OPERATIONS,
    'Total',
    'HTTP attempts',
    'Wall time (ms)',
    'Check',
  ];
  lines.push(row(header), row(header.map(() => '---')));
  for (const r of passes) {
    lines.push(
      row([
        String(r.nodes),
        r.scenario,
        ...PASS_OPERATIONS.map((op) => `${r.calls[op]} / ${r.minimum[op]}`),
        `**${r.total} / ${r.minimumTotal}**`,
        String(r.attempts),
        r.medianMs.toFixed(0),
        r.problems.length === 0 ? 'ok' : `FAILED: ${r.problems.join('; ')}`,
      ]),
    );
  }
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
      'whole process, median (ms)',
    ]),
  );
  lines.push(row(['---', '---', '---:', '---:', '---:']));
  for (const c of coldStarts) {
    lines.push(
      row([
        c.name,
        c.sourceMaps ? '`--enable-source-maps` (as deployed)' : '(none)',
        c.requireMs.toFixed(1),
        c.requireMinMs.toFixed(1),
        c.processMs.toFixed(0),
      ]),
    );
  }
  return `${lines.join('\n')}\n`;
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

async function main(): Promise<number> {
  const started = Date.now();
  const { results, lifecycle, motoVersion } = await measurePasses();
  const { bundles, coldStarts } = await measureBundles();
  const machine: Machine = {
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus().length,
    moto: motoVersion,
  };
  const report = renderReport(machine, results, lifecycle, bundles, coldStarts);
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
    ...results.filter((r) => r.problems.length > 0),
    ...lifecycle.filter((l) => l.problems.length > 0).map((l) => ({ ...l, nodes: 1, scenario: l.path })),
  ];
  if (failed.length > 0) {
    progress(`FAILED: ${failed.length} scenario(s) did not pass their check`);
    for (const r of failed) progress(`  ${r.nodes} nodes, ${r.scenario}: ${r.problems.join('; ')}`);
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
