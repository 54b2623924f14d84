/**
 * API calls per reconcile pass against moto, next to the derived minimum. For each cluster size it builds
 * a world (VPC, a small ASG, an NLB with three target groups), adds EC2 instances found by tag filters for
 * the nodes beyond the ASG, and runs three scenarios through the real reconcile handler: converge from
 * empty, steady state, and one node added.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { parseSyncConfig, type SyncConfig } from '../lambdas/domain/config';
import { createReconcileHandler, type ReconcileHandlerResult } from '../lambdas/handlers/reconcile-handler';
import { createContainer } from '../lambdas/runtime/container';
import { scheduledEvent } from '../test/support/events';
import {
  asgInstances,
  buildWorld,
  describeGroupTargets,
  setDesiredCapacity,
  type World,
  worldClients,
} from '../test/support/moto-world';
import type { CallCounter } from './call-counter';
import { CALL_SLACK, minimumCalls, PASS_OPERATIONS, type PassOperation, type PassShape } from './minimum';
import { median } from './stats';

/** The scenarios measured for every cluster size. */
export const Scenario = {
  converge: 'converge from empty',
  steady: 'steady state',
  scaleOut: 'one node added',
} as const;

/** One of {@link Scenario}'s values. */
export type ScenarioName = (typeof Scenario)[keyof typeof Scenario];

/** The measurement of one scenario at one cluster size. */
export interface ScenarioResult {
  /** Nodes in the cluster before the scenario. */
  readonly nodes: number;
  /** Which scenario. */
  readonly scenario: ScenarioName;
  /** Calls per pass operation (the largest seen over the runs). */
  readonly calls: Record<PassOperation, number>;
  /** Calls to any other operation (should be none). */
  readonly otherCalls: ReadonlyMap<string, number>;
  /** All calls of one pass. */
  readonly total: number;
  /** HTTP attempts of one pass (retries included; the largest seen over the runs). */
  readonly attempts: number;
  /** The derived minimum per operation. */
  readonly minimum: Record<PassOperation, number>;
  /** Sum of {@link minimum}. */
  readonly minimumTotal: number;
  /** Wall time of every run of the pass, in milliseconds. */
  readonly runsMs: readonly number[];
  /** Median of {@link runsMs}. */
  readonly medianMs: number;
  /** Registrations and deregistrations the pass applied (over all groups, first run). */
  readonly applied: number;
  /** Why the scenario failed its check; empty when it passed. */
  readonly problems: readonly string[];
}

/** Options of {@link measureApiCalls}. */
export interface ApiCallOptions {
  /** Endpoint the product's clients reach (the lifecycle shim in front of moto). */
  readonly endpoint: string;
  /** Clears moto's state between cluster sizes. */
  readonly reset: () => Promise<void>;
  /** The counting middleware on the product's clients. */
  readonly counter: CallCounter;
  /** Cluster sizes to measure. */
  readonly sizes: readonly number[];
  /** Runs of the steady-state pass (median reported). */
  readonly steadyRuns: number;
  /** Progress lines go here. */
  readonly progress: (line: string) => void;
}

/** Instances in the world's Auto Scaling group; the rest of a cluster's nodes are found by tag filters. */
export const ASG_NODES = 3;

const NODE_TAG = { key: 'bench/cluster', value: 'bench' } as const;
const PORTS = [
  { name: 'app0', listenerPort: 4000, nodePort: 30000, targetType: 'ip' },
  { name: 'app1', listenerPort: 4001, nodePort: 30001, targetType: 'ip' },
  { name: 'inst', listenerPort: 4002, nodePort: 30002, targetType: 'instance' },
] as const;

/** Runs every scenario for every size; moto is reset before each size. */
export async function measureApiCalls(options: ApiCallOptions): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const [index, size] of options.sizes.entries()) {
    if (index > 0) await options.reset();
    results.push(...(await measureSize(size, options)));
  }
  return results;
}

interface ExpectedNode {
  readonly instanceId: string;
  readonly privateIp: string;
}

interface Cluster {
  readonly world: World;
  readonly config: SyncConfig;
  readonly tagged: readonly ExpectedNode[];
  readonly hasTagFilters: boolean;
}

async function measureSize(size: number, options: ApiCallOptions): Promise<ScenarioResult[]> {
  const started = Date.now();
  const cluster = await buildCluster(size, options.endpoint);
  options.progress(`  ${size} nodes: world built in ${Date.now() - started} ms`);
  const container = createContainer({
    logger: new Logger({ serviceName: 'nlb-nodeport-sync-bench', logLevel: 'WARN' }),
  });
  const handler = createReconcileHandler(cluster.config, container);
  const run = (scenario: ScenarioName, runs: number) =>
    measureScenario(size, scenario, runs, cluster, options, () => handler(scheduledEvent()));

  const results = [await run(Scenario.converge, 1), await run(Scenario.steady, options.steadyRuns)];
  await setDesiredCapacity(options.endpoint, cluster.world.asgName, ASG_NODES + 1);
  results.push(await run(Scenario.scaleOut, 1));
  for (const r of results) {
    options.progress(
      `  ${size} nodes, ${r.scenario}: ${r.total} calls (minimum ${r.minimumTotal}), ${r.medianMs.toFixed(0)} ms${
        r.problems.length > 0 ? ` FAILED: ${r.problems.join('; ')}` : ''
      }`,
    );
  }
  return results;
}

/** Runs the pass `runs` times, counting calls, then checks convergence and the calls against the minimum. */
async function measureScenario(
  size: number,
  scenario: ScenarioName,
  runs: number,
  cluster: Cluster,
  options: ApiCallOptions,
  pass: () => Promise<ReconcileHandlerResult>,
): Promise<ScenarioResult> {
  const shape = await passShape(cluster, options.endpoint);
  const minimum = minimumCalls(shape);
  const problems: string[] = [];
  const calls = Object.fromEntries(PASS_OPERATIONS.map((op) => [op, 0])) as Record<PassOperation, number>;
  const otherCalls = new Map<string, number>();
  const runsMs: number[] = [];
  let attempts = 0;
  let applied = 0;
  for (let i = 0; i < runs; i++) {
    options.counter.reset();
    const t0 = performance.now();
    const result = await pass();
    runsMs.push(performance.now() - t0);
    const seen = options.counter.snapshot();
    attempts = Math.max(attempts, seen.attempts);
    for (const [operation, count] of seen.calls) {
      if (isPassOperation(operation)) calls[operation] = Math.max(calls[operation], count);
      else otherCalls.set(operation, Math.max(otherCalls.get(operation) ?? 0, count));
    }
    const report = result.passes[0];
    if (report === undefined) {
      problems.push(`run ${i + 1}: the handler ran no pass`);
      continue;
    }
    if (i === 0) applied = report.registered + report.deregistered;
    if (report.rejected.length > 0)
      problems.push(`run ${i + 1}: ${report.rejected.length} target(s) rejected`);
  }
  problems.push(...(await convergenceProblems(cluster, options.endpoint)));
  for (const op of PASS_OPERATIONS) {
    if (calls[op] > minimum[op] + CALL_SLACK) {
      problems.push(`${op}: ${calls[op]} calls, minimum ${minimum[op]} (+${CALL_SLACK} slack)`);
    }
  }
  for (const [op, count] of otherCalls) problems.push(`${op}: ${count} call(s) not needed by a pass`);
  const expectedChanges =
    shape.registrations.reduce((a, b) => a + b, 0) + shape.deregistrations.reduce((a, b) => a + b, 0);
  if (applied !== expectedChanges) {
    problems.push(`applied ${applied} change(s), the world needed ${expectedChanges}`);
  }
  return {
    nodes: size,
    scenario,
    calls,
    otherCalls,
    total: PASS_OPERATIONS.reduce((sum, op) => sum + calls[op], 0) + sum(otherCalls.values()),
    attempts,
    minimum,
    minimumTotal: PASS_OPERATIONS.reduce((sum, op) => sum + minimum[op], 0),
    runsMs,
    medianMs: median(runsMs),
    applied,
    problems,
  };
}

/** The cluster as the harness sees it (uncounted clients): what the pass must read and change. */
async function passShape(cluster: Cluster, endpoint: string): Promise<PassShape> {
  const expected = await expectedTargets(cluster, endpoint);
  const registrations: number[] = [];
  const deregistrations: number[] = [];
  for (const [index, group] of cluster.world.targetGroups.entries()) {
    const want = expected[index] ?? new Set<string>();
    const have = new Set((await describeGroupTargets(endpoint, group.arn)).map((t) => `${t.id}:${t.port}`));
    registrations.push([...want].filter((key) => !have.has(key)).length);
    deregistrations.push([...have].filter((key) => !want.has(key)).length);
  }
  return {
    asgCount: 1,
    asgInstanceCount: (await asgInstances(endpoint, cluster.world.asgName)).length,
    hasTagFilters: cluster.hasTagFilters,
    taggedInstanceCount: cluster.tagged.length,
    registrations,
    deregistrations,
  };
}

/** Every target group must hold exactly the ASG's and the tagged instances on its NodePort. */
async function convergenceProblems(cluster: Cluster, endpoint: string): Promise<string[]> {
  const expected = await expectedTargets(cluster, endpoint);
  const problems: string[] = [];
  for (const [index, group] of cluster.world.targetGroups.entries()) {
    const want = expected[index] ?? new Set<string>();
    const have = (await describeGroupTargets(endpoint, group.arn)).map((t) => `${t.id}:${t.port}`);
    const missing = [...want].filter((key) => !have.includes(key));
    const extra = have.filter((key) => !want.has(key));
    if (missing.length > 0 || extra.length > 0) {
      problems.push(
        `did not converge: ${group.name} misses ${missing.length} and has ${extra.length} extra target(s)`,
      );
    }
  }
  return problems;
}

async function expectedTargets(cluster: Cluster, endpoint: string): Promise<Set<string>[]> {
  const nodes: ExpectedNode[] = [...(await asgInstances(endpoint, cluster.world.asgName)), ...cluster.tagged];
  return cluster.world.targetGroups.map(
    (group) =>
      new Set(
        nodes.map((n) => `${group.targetType === 'ip' ? n.privateIp : n.instanceId}:${group.nodePort}`),
      ),
  );
}

/**
 * A world whose ASG has {@link ASG_NODES} instances (moto caps the harness ASG at 10), plus `size - 3`
 * instances launched from the same template in the same subnet and found by a tag filter.
 */
async function buildCluster(size: number, endpoint: string): Promise<Cluster> {
  const world = await buildWorld(endpoint, {
    nodes: Math.min(size, ASG_NODES),
    asgName: 'bench-workers',
    ports: PORTS.map((p) => ({ ...p, name: `bench-${p.name}` })),
  });
  const extra = size - ASG_NODES;
  const tagged = extra > 0 ? await runTaggedInstances(endpoint, world, extra) : [];
  const hasTagFilters = extra > 0;
  const config = parseSyncConfig(
    {
      clusters: [
        {
          name: 'bench',
          nodeSource: {
            autoScalingGroups: [world.asgName],
            tagFilters: hasTagFilters ? { [NODE_TAG.key]: [NODE_TAG.value] } : {},
          },
          loadBalancer: { arn: world.loadBalancerArn },
          portMappings: world.targetGroups.map((tg, i) => ({
            name: PORTS[i]?.name ?? `port${i}`,
            targetGroupArn: tg.arn,
            targetType: tg.targetType,
            listenerPort: PORTS[i]?.listenerPort ?? 5000 + i,
            nodePort: tg.nodePort,
          })),
        },
      ],
    },
    'bench config',
  );
  return { world, config, tagged, hasTagFilters };
}

async function runTaggedInstances(endpoint: string, world: World, count: number): Promise<ExpectedNode[]> {
  const { ec2 } = worldClients(endpoint);
  const out = await ec2.send(
    new RunInstancesCommand({
      LaunchTemplate: { LaunchTemplateName: `${world.asgName}-lt`, Version: '$Latest' },
      SubnetId: world.subnetIds[0],
      MinCount: count,
      MaxCount: count,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: NODE_TAG.key, Value: NODE_TAG.value }] }],
    }),
  );
  const nodes = (out.Instances ?? []).flatMap((i) =>
    i.InstanceId !== undefined && i.PrivateIpAddress !== undefined
      ? [{ instanceId: i.InstanceId, privateIp: i.PrivateIpAddress }]
      : [],
  );
  if (nodes.length !== count) throw new Error(`RunInstances started ${nodes.length} of ${count} instances`);
  return nodes;
}

function isPassOperation(operation: string): operation is PassOperation {
  return (PASS_OPERATIONS as readonly string[]).includes(operation);
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
