/**
 * Reconcile passes at 3, 50 and the NLB's full size (six target groups), through the latency proxy:
 * calls per operation next to the derived minimum, sequential round trips, CPU and wall time per pass.
 *
 * Scenarios per size: converge (every group empty), no-op (median of several passes), scale-in by
 * `delta` nodes, scale-out by `delta` nodes, and one launch event through the real handler (the
 * lifecycle action of one new node). Goals (docs/benchmarks.md) are checked at the full size; the
 * correctness checks (converged, the changes the world needed, no-op writes nothing, every request
 * counted) at every size.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createReconcileHandler, type ReconcileHandlerResult } from '../lambdas/handlers/reconcile-handler';
import { createContainer, systemClock } from '../lambdas/runtime/container';
import type { PassReport } from '../lambdas/sync/reconcile-pass';
import { lifecycleEvent, scheduledEvent } from '../test/support/events';
import { FakeQueues, ManualClock } from '../test/support/fake-queues';
import type { WorldInstance } from '../test/support/moto-world';
import type { CallCounter, CallRecord } from './call-counter';
import type { ProxyProcess } from './latency-proxy';
import {
  MAX_CALL_RATIO,
  minimumCalls,
  PASS_OPERATIONS,
  type PassOperation,
  type PassShape,
  totalOf,
  WRITE_OPERATIONS,
} from './minimum';
import { longestChain, roundTrips, roundTripsUntil } from './round-trips';
import { inRounds } from './rounds';
import {
  buildScaleWorld,
  dnsState,
  expectedTargets,
  heldTargets,
  members,
  nodeGroupRules,
  perZone,
  type ScaleWorld,
  setCapacities,
} from './scale-world';
import { median } from './stats';

/** Round-trip goals (issue 9), checked at the full size. */
export const ROUND_TRIP_GOALS = {
  /** A launched node registered in every group, counted from the handler's start. */
  launchRegistered: 3,
  /** Converge: until every group holds its targets. */
  convergeTargets: 4,
  /** Converge: the whole pass, security groups and DNS included. */
  convergePass: 6,
  /** A pass with nothing to change. */
  noOpPass: 2,
} as const;

/** The scenarios. */
export const Scenario = {
  converge: 'converge from empty',
  noOp: 'no-op',
  noOpGroupIds: 'no-op, groupIds configured',
  scaleIn: 'scale-in',
  scaleOut: 'scale-out',
  launch: 'one launch event',
} as const;

/** One of {@link Scenario}'s values. */
export type ScenarioName = (typeof Scenario)[keyof typeof Scenario];

/** A cluster size to measure. */
export interface ClusterSize {
  readonly nodes: number;
  /** Nodes removed, then added back, by the scale scenarios. */
  readonly delta: number;
  /** Whether the goals apply (the full size). */
  readonly goals: boolean;
}

/** The measurement of one scenario at one size. */
export interface ScenarioResult {
  readonly nodes: number;
  readonly scenario: ScenarioName;
  /** Scenario label with its size change, e.g. `scale-in -50`. */
  readonly label: string;
  /** Calls per pass operation (the largest seen over the runs). */
  readonly calls: Record<PassOperation, number>;
  /** Calls to other operations (lifecycle answers, marks), the largest seen over the runs. */
  readonly otherCalls: ReadonlyMap<string, number>;
  readonly total: number;
  /** Derived minimum; undefined for the launch event (its pass is a target pass plus the answer). */
  readonly minimum?: Record<PassOperation, number>;
  readonly minimumTotal?: number;
  /** HTTP attempts (retries included), and the requests the proxy forwarded. */
  readonly attempts: number;
  readonly proxyRequests: number;
  /** Write calls (the largest seen over the runs). */
  readonly writes: number;
  /** Sequential round trips of the whole invocation (the largest seen over the runs). */
  readonly roundTrips: number;
  /** Round trips until the last target write returned (undefined when none). */
  readonly targetRoundTrips?: number;
  /** Launch: round trips until the node was registered in every group. */
  readonly registeredAfter?: number;
  /** Launch: the operations of the longest chain that ends with the node's registration. */
  readonly registrationChain?: readonly string[];
  /** The operations of one longest chain (of the run with the most round trips), first call first. */
  readonly chain: readonly string[];
  /** The slowest answer any run waited for behind the proxy (moto's time + the added latency), ms. */
  readonly slowest: { readonly action: string; readonly ms: number };
  /** Median wall time and CPU time (user + system, this process) of a run, ms. */
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly runs: number;
  readonly problems: readonly string[];
}

/** Options of {@link measureScale}. */
export interface ScaleOptions {
  /** The proxy the product's clients reach, and the shim behind it for the bench's own calls. */
  readonly proxy: ProxyProcess;
  /** Clears moto's state between sizes. */
  readonly reset: () => Promise<void>;
  readonly counter: CallCounter;
  readonly sizes: readonly ClusterSize[];
  /** Runs of the no-op pass (medians reported). */
  readonly noOpRuns: number;
  /** The least time a round of calls takes (bench/rounds.ts): the latency of a round trip. */
  readonly roundMs: number;
  readonly progress: (line: string) => void;
}

/** Runs every scenario for every size; moto is reset before each size. */
export async function measureScale(options: ScaleOptions): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const [index, size] of options.sizes.entries()) {
    if (index > 0) await options.reset();
    results.push(...(await measureSize(size, options)));
  }
  return results;
}

interface Run {
  readonly log: readonly CallRecord[];
  readonly calls: ReadonlyMap<string, number>;
  readonly attempts: number;
  readonly proxyRequests: number;
  /** The slowest answer behind the proxy (moto's time plus the added latency). */
  readonly slowest: { readonly action: string; readonly ms: number };
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly result: ReconcileHandlerResult;
}

async function measureSize(size: ClusterSize, options: ScaleOptions): Promise<ScenarioResult[]> {
  const shim = options.proxy.shimEndpoint;
  const started = performance.now();
  const world = await buildScaleWorld(shim, size.nodes);
  options.progress(
    `  ${size.nodes} nodes: world built in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const queues = new FakeQueues(new ManualClock(Date.now()));
  const container = createContainer({
    logger: new Logger({ serviceName: 'nlb-nodeport-sync-bench', logLevel: 'ERROR' }),
    queues,
    clock: systemClock,
  });
  const handler = createReconcileHandler(world.config, container);
  // The same cluster with its node security group named in the config instead of found by its tag.
  const withGroupIds = createReconcileHandler(
    {
      ...world.config,
      clusters: world.config.clusters.map((c) =>
        c.securityGroups === undefined
          ? c
          : { ...c, securityGroups: { ...c.securityGroups, groupIds: [world.securityGroupId] } },
      ),
    },
    container,
  );
  const run = async (event: unknown, passHandler = handler): Promise<Run> => {
    await options.proxy.reset();
    options.counter.reset();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await inRounds(options.proxy, options.counter, options.roundMs, () => passHandler(event));
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const seen = options.counter.snapshot();
    const proxied = await options.proxy.records();
    return {
      log: seen.log,
      calls: seen.calls,
      attempts: seen.attempts,
      proxyRequests: proxied.length,
      slowest: proxied.reduce(
        (worst, p) =>
          p.endMs - p.startMs > worst.ms ? { action: p.action, ms: p.endMs - p.startMs } : worst,
        { action: '-', ms: 0 },
      ),
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      result,
    };
  };
  const results: ScenarioResult[] = [];
  const pass = async (scenario: ScenarioName, label: string, runs: number, passHandler = handler) => {
    const found = await passShape(shim, world);
    const shape =
      passHandler === withGroupIds && found.securityGroups !== undefined
        ? { ...found, securityGroups: { ...found.securityGroups, discover: false } }
        : found;
    const measured: Run[] = [];
    for (let i = 0; i < runs; i++) measured.push(await run(scheduledEvent(), passHandler));
    const r = await summarize(size, scenario, label, measured, shape, world, shim);
    results.push(r);
    report(options, r);
  };

  await pass(Scenario.converge, Scenario.converge, 1);
  await pass(Scenario.noOp, Scenario.noOp, options.noOpRuns);
  await pass(Scenario.noOpGroupIds, Scenario.noOpGroupIds, 1, withGroupIds);
  const full = perZone(size.nodes);
  const fewer = perZone(size.nodes - size.delta);
  await setCapacities(shim, world, fewer);
  await pass(Scenario.scaleIn, `${Scenario.scaleIn} -${size.delta}`, 1);
  await setCapacities(shim, world, full);
  await pass(Scenario.scaleOut, `${Scenario.scaleOut} +${size.delta}`, 1);

  // Launch: the first zone's group gets one node. At the full size it first loses one, uncounted: its zone
  // already holds all the targets the NLB allows there.
  const launchZone = full.map((n, i) => (i === 0 ? n - 1 : n));
  await setCapacities(shim, world, launchZone);
  await run(scheduledEvent());
  const before = new Set((await members(shim, world)).map((m) => m.instanceId));
  await setCapacities(shim, world, full);
  const launched = (await members(shim, world)).find((m) => !before.has(m.instanceId));
  if (launched === undefined) throw new Error('scaling the first group out by one started no instance');
  const asgName = world.asgNames[0] ?? '';
  const event = lifecycleEvent(
    { asgName, launchHookName: world.launchHookName, terminateHookName: world.terminateHookName },
    launched.instanceId,
    'launch',
  );
  const launchRun = await run(event);
  const r = await summarizeLaunch(size, launchRun, launched, world, shim);
  results.push(r);
  report(options, r);
  return results;
}

function report(options: ScaleOptions, r: ScenarioResult): void {
  const ratio = r.minimumTotal === undefined ? '' : ` (minimum ${r.minimumTotal})`;
  const registered = r.registeredAfter === undefined ? '' : `, registered after ${r.registeredAfter}`;
  options.progress(
    `  ${r.nodes} nodes, ${r.label}: ${r.total} calls${ratio}, ${r.roundTrips} round trips${registered}, ${r.wallMs.toFixed(0)} ms (slowest answer ${r.slowest.action} ${r.slowest.ms.toFixed(0)} ms), CPU ${r.cpuMs.toFixed(0)} ms${
      r.problems.length > 0 ? ` FAILED: ${r.problems.join('; ')}` : ''
    }`,
  );
}

/** The world as the bench sees it before a pass: what the pass must read and change. */
async function passShape(shim: string, world: ScaleWorld): Promise<PassShape> {
  const nodes = await members(shim, world);
  const want = expectedTargets(world, nodes);
  const have = await heldTargets(shim, world);
  const rules = await nodeGroupRules(shim, world);
  const dns = await dnsState(shim, world, nodes);
  return {
    asgCount: world.asgNames.length,
    asgInstanceCount: nodes.length,
    hasTagFilters: false,
    taggedInstanceCount: 0,
    registrations: want.map((w, i) => [...w].filter((k) => !have[i]?.has(k)).length),
    deregistrations: have.map((h, i) => [...h].filter((k) => !want[i]?.has(k)).length),
    securityGroups: {
      discover: true,
      vpcCidrSource: true,
      rules: rules.rules,
      // The rules the product owns cover every NodePort once it wrote them; nodes coming and going change none.
      groupsToAuthorize: rules.owned === 0 ? 1 : 0,
      groupsToModify: 0,
      groupsToRevoke: 0,
    },
    dns,
    needsLoadBalancer: true,
  };
}

function tally(runs: readonly Run[]): { calls: Record<PassOperation, number>; other: Map<string, number> } {
  const calls = Object.fromEntries(PASS_OPERATIONS.map((op) => [op, 0])) as Record<PassOperation, number>;
  const other = new Map<string, number>();
  for (const run of runs) {
    for (const [operation, count] of run.calls) {
      if ((PASS_OPERATIONS as readonly string[]).includes(operation)) {
        const op = operation as PassOperation;
        calls[op] = Math.max(calls[op], count);
      } else other.set(operation, Math.max(other.get(operation) ?? 0, count));
    }
  }
  return { calls, other };
}

function common(runs: readonly Run[]) {
  const writes = Math.max(...runs.map((r) => r.log.filter((c) => WRITE_OPERATIONS.has(c.operation)).length));
  const targetWrites = (c: CallRecord) =>
    c.operation === 'RegisterTargets' || c.operation === 'DeregisterTargets';
  const targetTrips = runs.map((r) => roundTripsUntil(r.log, targetWrites));
  const defined = targetTrips.filter((t): t is number => t !== undefined);
  return {
    attempts: Math.max(...runs.map((r) => r.attempts)),
    proxyRequests: Math.max(...runs.map((r) => r.proxyRequests)),
    slowest: runs.reduce((worst, r) => (r.slowest.ms > worst.ms ? r.slowest : worst), { action: '-', ms: 0 }),
    writes,
    roundTrips: Math.max(...runs.map((r) => roundTrips(r.log))),
    chain: longestChain(
      runs.reduce((worst, r) => (roundTrips(r.log) > roundTrips(worst) ? r.log : worst), runs[0]?.log ?? []),
    ).map((c) => c.operation),
    ...(defined.length > 0 && { targetRoundTrips: Math.max(...defined) }),
    wallMs: median(runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    runs: runs.length,
  };
}

/** The pass reports of a run: scheduled passes, and the passes of lifecycle actions. */
function passesOf(result: ReconcileHandlerResult): PassReport[] {
  return [
    ...result.passes,
    ...result.lifecycle.flatMap((outcome) =>
      outcome.status !== 'skipped' && outcome.pass !== undefined ? [outcome.pass] : [],
    ),
  ];
}

/** Checks that hold for every run: the handler's own report, every request counted. */
function runProblems(runs: readonly Run[]): string[] {
  const problems: string[] = [];
  for (const [i, run] of runs.entries()) {
    const counted = [...run.calls.values()].reduce((a, b) => a + b, 0);
    const passes = passesOf(run.result);
    if (run.result.failures.length > 0) problems.push(`run ${i + 1}: ${run.result.failures.join('; ')}`);
    for (const outcome of run.result.lifecycle) {
      if (outcome.status === 'skipped')
        problems.push(`run ${i + 1}: lifecycle action skipped: ${outcome.reason}`);
      else if (outcome.passError !== undefined)
        problems.push(`run ${i + 1}: lifecycle pass failed: ${outcome.passError}`);
    }
    if (passes.length === 0) problems.push(`run ${i + 1}: the handler ran no pass`);
    for (const p of passes) {
      if (p.rejected.length > 0) problems.push(`run ${i + 1}: ${p.rejected.length} target(s) rejected`);
    }
    // Every request on the wire is an attempt of a counted call: nothing escapes the count.
    if (run.proxyRequests !== run.attempts) {
      problems.push(
        `run ${i + 1}: the proxy forwarded ${run.proxyRequests} requests, the clients counted ${run.attempts} attempts of ${counted} calls`,
      );
    }
  }
  return problems;
}

async function convergence(shim: string, world: ScaleWorld): Promise<string[]> {
  const want = expectedTargets(world, await members(shim, world));
  const have = await heldTargets(shim, world);
  return want.flatMap((w, i) => {
    const h = have[i] ?? new Set<string>();
    const missing = [...w].filter((k) => !h.has(k)).length;
    const extra = [...h].filter((k) => !w.has(k)).length;
    return missing + extra === 0 ? [] : [`group ${i + 1} misses ${missing} and has ${extra} extra target(s)`];
  });
}

async function summarize(
  size: ClusterSize,
  scenario: ScenarioName,
  label: string,
  runs: readonly Run[],
  shape: PassShape,
  world: ScaleWorld,
  shim: string,
): Promise<ScenarioResult> {
  const { calls, other } = tally(runs);
  const minimum = minimumCalls(shape);
  const figures = common(runs);
  const total = totalOf(calls) + [...other.values()].reduce((a, b) => a + b, 0);
  const minimumTotal = totalOf(minimum);
  const problems = [...runProblems(runs), ...(await convergence(shim, world))];
  const needed = [...shape.registrations, ...shape.deregistrations].reduce((a, b) => a + b, 0);
  const first = runs[0] === undefined ? undefined : passesOf(runs[0].result)[0];
  const applied = first === undefined ? 0 : first.registered + first.deregistered;
  if (applied !== needed) problems.push(`applied ${applied} target change(s), the world needed ${needed}`);
  for (const [op, n] of other) problems.push(`${op}: ${n} call(s) a pass does not need`);
  const noOp = scenario === Scenario.noOp || scenario === Scenario.noOpGroupIds;
  if (noOp && figures.writes > 0) problems.push(`a no-op pass wrote (${figures.writes} write calls)`);
  if (size.goals) {
    if (total > minimumTotal * MAX_CALL_RATIO) {
      problems.push(`calls/minimum ${(total / minimumTotal).toFixed(2)} > ${MAX_CALL_RATIO}`);
    }
    if (scenario === Scenario.converge) {
      if ((figures.targetRoundTrips ?? 0) > ROUND_TRIP_GOALS.convergeTargets) {
        problems.push(
          `target step ${figures.targetRoundTrips} round trips > ${ROUND_TRIP_GOALS.convergeTargets}`,
        );
      }
      if (figures.roundTrips > ROUND_TRIP_GOALS.convergePass) {
        problems.push(`pass ${figures.roundTrips} round trips > ${ROUND_TRIP_GOALS.convergePass}`);
      }
    }
    if (noOp && figures.roundTrips > ROUND_TRIP_GOALS.noOpPass) {
      problems.push(`pass ${figures.roundTrips} round trips > ${ROUND_TRIP_GOALS.noOpPass}`);
    }
  }
  return {
    nodes: size.nodes,
    scenario,
    label,
    calls,
    otherCalls: other,
    total,
    minimum,
    minimumTotal,
    ...figures,
    problems,
  };
}

async function summarizeLaunch(
  size: ClusterSize,
  run: Run,
  node: WorldInstance,
  world: ScaleWorld,
  shim: string,
): Promise<ScenarioResult> {
  const { calls, other } = tally([run]);
  const figures = common([run]);
  const problems = [...runProblems([run]), ...(await convergence(shim, world))];
  // Registered in every group: per group the RegisterTargets call that carried the node (by IP or id).
  const idIn = (group: ScaleWorld['targetGroups'][number]) =>
    group.targetType === 'ip' ? node.privateIp : node.instanceId;
  const perGroup = world.targetGroups.map((group) =>
    roundTripsUntil(
      run.log,
      (c) =>
        c.operation === 'RegisterTargets' &&
        c.ok &&
        c.targetGroupArn === group.arn &&
        (c.targetIds ?? []).includes(idIn(group)),
    ),
  );
  const registers = (c: CallRecord) =>
    c.operation === 'RegisterTargets' &&
    c.ok &&
    world.targetGroups.some((g) => g.arn === c.targetGroupArn && (c.targetIds ?? []).includes(idIn(g)));
  const registrationChain = longestChain(run.log, registers).map((c) => c.operation);
  const missing = perGroup.filter((d) => d === undefined).length;
  const registeredAfter = missing === 0 ? Math.max(...(perGroup as number[])) : undefined;
  if (missing > 0) problems.push(`the node was not registered in ${missing} group(s) by this invocation`);
  if (size.goals && registeredAfter !== undefined && registeredAfter > ROUND_TRIP_GOALS.launchRegistered) {
    problems.push(`registered after ${registeredAfter} round trips > ${ROUND_TRIP_GOALS.launchRegistered}`);
  }
  const total = totalOf(calls) + [...other.values()].reduce((a, b) => a + b, 0);
  return {
    nodes: size.nodes,
    scenario: Scenario.launch,
    label: Scenario.launch,
    calls,
    otherCalls: other,
    total,
    ...figures,
    ...(registeredAfter !== undefined && { registeredAfter, registrationChain }),
    problems,
  };
}
