import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  type ClusterConfig,
  ConfigError,
  preservedTargetsOf,
  type SyncConfig,
  safetyOf,
} from '../domain/config';
import { type DrainReason, drainMarkTagKey, formatDrainMark } from '../domain/drain-mark';
import { GuardRefusalError, PassDeadlineError, QuotaExceededError } from '../domain/errors';
import { METRICS } from '../domain/metric-names';
import type { Node, NodeHints } from '../domain/node';
import type { RejectedTarget, TargetGroupPort } from '../domain/ports';
import { checkTargetQuotas } from '../domain/quotas';
import {
  type GroupPlan,
  guardPlans,
  holdBackVanished,
  isPreserved,
  type JudgedNode,
  judgeNodes,
  planTargetGroup,
  type ResolvedPortMapping,
  type TargetChange,
} from '../domain/target-plan';
import {
  type Discovery,
  type DiscoveryPorts,
  discoverNodes,
  findUnlistedMembers,
  membershipByTags,
} from './discover-nodes';
import { setClusterDimension } from './publish-metrics';

/**
 * The latest moment, after a pass's start, at which it may begin writing targets (ms).
 *
 * The function times out after 60 s (infra/constants.ts FUNCTION_DEFAULTS). A pass whose reads took
 * longer than 45 s stops with a PassDeadlineError before its first target write, rather than being killed
 * in the middle of its writes: the remaining 15 s are one whole call budget (lambdas/aws/clients.ts
 * CALL_BUDGET_MS), so the first write started just in time still ends, retries included.
 * Measured on the system clock, not on `options.now`, which is the business time of marks and may be a
 * virtual clock (the demo) or a fixed instant (tests).
 */
export const PASS_DEADLINE_MS = 45_000;

/** Everything a pass talks to. */
export interface ReconcileDeps extends DiscoveryPorts {
  readonly targetGroups: TargetGroupPort;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Steps beside the target step (security groups, DNS); each gets the judged nodes. */
  readonly extraSteps?: readonly ReconcileStep[];
}

/**
 * A step of a pass beside the target step, with the same discovery. Its reads that need only the
 * config go out with the pass's first wave (`begin`), its writes with the target writes (`run`).
 */
export interface ReconcileStep {
  readonly name: string;
  /** Plans and writes, once the pass has judged the nodes; it runs beside the target writes. */
  run(input: ReconcileStepInput): Promise<ReconcileStepResult>;
  /**
   * Optional: called as the pass starts, before discovery, to send the step's reads that need only the
   * config; returns this pass's run, which uses them (instead of `run`). The reads' failures must stay
   * inside the returned run (a pass that fails before it never awaits them). Every step of a pass gets
   * the same start object, so steps may share per-pass lookups keyed on it.
   */
  begin?(input: ReconcileStepStart): (input: ReconcileStepInput) => Promise<ReconcileStepResult>;
}

/** What a step knows when the pass starts. */
export interface ReconcileStepStart {
  readonly config: SyncConfig;
  readonly cluster: ClusterConfig;
  readonly dryRun: boolean;
}

/** What a step receives. */
export interface ReconcileStepInput {
  readonly config: SyncConfig;
  readonly cluster: ClusterConfig;
  readonly judged: readonly JudgedNode[];
  readonly dryRun: boolean;
}

/** What a step reports: its planned changes (one line each, with reason) and how many it applied. */
export interface ReconcileStepResult {
  readonly planned: readonly string[];
  readonly applied: number;
}

/** Options of one pass. */
export interface PassOptions {
  /** What caused the pass, for the log (`schedule`, `lifecycle:launch i-...`, `cli`). */
  readonly trigger: string;
  readonly hints?: NodeHints;
  /** Plan only; no write call. */
  readonly dryRun?: boolean;
  /**
   * Drain marks to put on instances (spot warning, terminate action, operator). Written after discovery,
   * and only on instances discovery found in this cluster: an event about another instance marks nothing.
   */
  readonly marks?: readonly { readonly instanceId: string; readonly reason: DrainReason }[];
  /**
   * When the pass runs, for the marks' time and as the time of the describe answer: an event older than
   * it loses where the answer is definite (defaults to the system clock).
   */
  readonly now?: number;
  /**
   * Applies the deregistrations the safety guards refuse, for this pass only: an operator's explicit,
   * audited confirmation (`apply --confirm-deregistrations`), never a config default. Logged (who, why,
   * what) and counted (`GuardOverrides`). It covers both guards' refusals, never the quota checks.
   */
  readonly overrideGuards?: { readonly by: string; readonly reason: string };
  /**
   * Called once, as soon as the pass's registrations are written, before its deregistrations and the
   * other steps' writes end, with what they did: a lifecycle action whose condition holds then is
   * answered at once. Not called in a dry run, when the pass stops before its writes, or when a
   * registration call failed. It must not throw; what it starts, its caller awaits.
   */
  readonly onRegistered?: (progress: RegistrationProgress) => void;
}

/** What the registrations of a pass did: its judged nodes, its group plans and the targets AWS rejected. */
export type RegistrationProgress = Pick<PassReport, 'nodes' | 'groups' | 'rejected'>;

/** The report of one pass, also what the CLI prints. */
export interface PassReport {
  readonly cluster: string;
  readonly trigger: string;
  readonly dryRun: boolean;
  readonly nodes: readonly { instanceId: string; privateIp?: string; desired: boolean; reason: string }[];
  /** Configured ASGs AWS does not know; while any is missing no target is deregistered for lack of a node. */
  readonly missingAutoScalingGroups: readonly string[];
  /** Drain marks this pass wrote (instance ids). */
  readonly marked: readonly string[];
  /** Per group: its applied changes, held-back, kept and refused ones (`refused`, with the guard's reason). */
  readonly groups: readonly GroupPlan[];
  /** The changes applied (or, in a dry run, that would be). */
  readonly changes: readonly TargetChange[];
  /** Safety-guard refusals, one line each; their deregistrations wait (empty when none or overridden). */
  readonly guardRefusals: readonly string[];
  /** Quota refusals, one line each naming the quota; nothing was written to the groups concerned. */
  readonly quotaRefusals: readonly string[];
  /** Refusals an operator overrode for this pass, with who and why. */
  readonly overridden?: {
    readonly by: string;
    readonly reason: string;
    readonly refusals: readonly string[];
  };
  readonly registered: number;
  readonly deregistered: number;
  readonly rejected: readonly (RejectedTarget & { targetGroupArn: string })[];
  readonly steps: readonly (ReconcileStepResult & { name: string })[];
  readonly durationMs: number;
}

/**
 * Resolves every port mapping's target group ARN.
 * @throws ConfigError when a mapping has none (create mode must have filled it in at deploy time).
 */
export function resolvedMappings(cluster: ClusterConfig): ResolvedPortMapping[] {
  return cluster.portMappings.map((mapping, index) => {
    if (mapping.targetGroupArn === undefined) {
      throw new ConfigError('runtime', [
        `clusters.${cluster.name}.portMappings.${index}.targetGroupArn: unknown at run time; deploy the stack that creates it`,
      ]);
    }
    return { ...mapping, targetGroupArn: mapping.targetGroupArn };
  });
}

/**
 * One reconcile pass for one cluster: discover -> judge -> observe -> plan -> guard -> quotas -> apply -> report.
 * Registrations go before deregistrations so a group is never empty for a moment during a swap.
 * @throws GuardRefusalError after the writes when a guard refused some deregistrations (they wait; the
 *   rest was applied; the error carries the report), QuotaExceededError likewise when a plan would pass a
 *   target quota (nothing written to the groups concerned), PassDeadlineError when
 *   the reads ran past {@link PASS_DEADLINE_MS} (nothing is written), MissingResourceError
 *   when a configured ASG or target group does not exist, and any AWS error the SDK could not retry.
 */
export async function reconcileCluster(
  config: SyncConfig,
  cluster: ClusterConfig,
  deps: ReconcileDeps,
  options: PassOptions,
): Promise<PassReport> {
  setClusterDimension(deps.metrics, cluster.name);
  try {
    return await runPass(config, cluster, deps, options);
  } catch (error) {
    // Every failed pass is counted, whatever failed, so one alarm covers them all.
    deps.metrics.addMetric(METRICS.passFailures, MetricUnit.Count, 1);
    throw error;
  }
}

async function runPass(
  config: SyncConfig,
  cluster: ClusterConfig,
  deps: ReconcileDeps,
  options: PassOptions,
): Promise<PassReport> {
  const started = Date.now();
  const dryRun = options.dryRun ?? false;
  const log = deps.logger.createChild({
    persistentKeys: { cluster: cluster.name, trigger: options.trigger },
  });
  const mappings = resolvedMappings(cluster);
  // Wave 1: every read that needs only the config goes out at once: the other steps' own reads, the ASG
  // describe with its instances (discover-nodes.ts), and every group's targets (they need only the ARNs).
  // One start object for every step of the pass: steps may share per-pass lookups keyed on it.
  const stepStart: ReconcileStepStart = { config, cluster, dryRun };
  const stepRuns = (deps.extraSteps ?? []).map((step) =>
    step.begin === undefined ? (input: ReconcileStepInput) => step.run(input) : step.begin(stepStart),
  );
  const [discovery, observed] = await Promise.all([
    discoverNodes(cluster, deps, options.hints, config.ownerId),
    Promise.all(mappings.map((m) => deps.targetGroups.describeTargets(m.targetGroupArn))),
  ]);
  const { nodes, marked } = await writeMarks(config, cluster, discovery, deps, options, dryRun);
  for (const instanceId of marked) log.info('Drain mark written', { instanceId });
  const discoveredAt = options.now ?? Date.now();
  const preserved = preservedTargetsOf(config, cluster);
  // Instance targets no listed node explains: a member a stale list missed is unknown, not vanished.
  const listed = new Set(nodes.map((n) => n.instanceId));
  const unexplained = [
    ...new Set(
      mappings.flatMap((m, i) =>
        m.targetType === 'instance'
          ? (observed[i] ?? [])
              .map((t) => t.id)
              .filter((id) => /^i-/.test(id) && !listed.has(id) && !isPreserved(id, preserved))
          : [],
      ),
    ),
  ];
  const unlisted = findUnlistedMembers(cluster, discovery, unexplained, config.ownerId);
  const judged = judgeNodes([...nodes, ...unlisted], options.hints, discoveredAt);
  const missing = discovery.missingAutoScalingGroups;
  if (missing.length > 0) {
    // Unknown is not vanished: the missing ASG's nodes may still serve; everything else syncs.
    log.error('Configured Auto Scaling group not found; no target is deregistered for lack of a node', {
      missingAutoScalingGroups: missing,
    });
    deps.metrics.addMetric(METRICS.missingNodeSources, MetricUnit.Count, missing.length);
  }
  const planned = mappings.map((mapping, i) => {
    const plan = planTargetGroup(mapping, judged, observed[i] ?? [], preserved);
    return missing.length > 0
      ? holdBackVanished(plan, `Auto Scaling group(s) ${missing.join(', ')} not found`)
      : plan;
  });
  const desiredNodeCount = judged.filter((j) => j.verdict.desired).length;
  deps.metrics.addMetric(METRICS.driftFound, MetricUnit.Count, planned.flatMap((p) => p.changes).length);
  const guarded = guardPlans(planned, {
    maxDeregisterShare: safetyOf(config, cluster).maxDeregisterShare,
    asgDesiredCapacity: discovery.asgDesiredCapacity,
    desiredNodeCount,
  });
  const override = guarded.refusals.length > 0 ? options.overrideGuards : undefined;
  let plans: readonly GroupPlan[] = guarded.plans;
  if (override !== undefined) {
    // The operator confirmed the refused deregistrations for this pass: audit who, why and what.
    const confirmed = guarded.plans.flatMap((p) => p.refused ?? []);
    log.warn('Safety guard overridden by an operator for one pass', {
      by: override.by,
      reason: override.reason,
      refusals: guarded.refusals,
      deregistrations: confirmed.map((c) => `${c.mapping} ${c.target.id}:${c.target.port}`),
    });
    if (!dryRun) deps.metrics.addMetric(METRICS.guardOverrides, MetricUnit.Count, confirmed.length);
    plans = planned;
  } else if (guarded.refusals.length > 0) {
    for (const refusal of guarded.refusals) {
      log.error(
        'Safety guard refused part of the plan; the refused deregistrations wait, the rest is applied',
        {
          refusal,
        },
      );
    }
    deps.metrics.addMetric(METRICS.guardRefusals, MetricUnit.Count, guarded.refusals.length);
  }
  // Quotas are checked on what would be written, before any write: a group (or the NLB) over one gets nothing.
  const quotaRefusals = checkTargetQuotas(plans, judged);
  if (quotaRefusals.length > 0) {
    for (const refusal of quotaRefusals) {
      log.error('Plan refused: it would pass an Elastic Load Balancing quota', {
        quota: refusal.message,
        targetGroupArns: refusal.targetGroupArns,
      });
    }
    deps.metrics.addMetric(METRICS.quotaRefusals, MetricUnit.Count, quotaRefusals.length);
    const blocked = new Map<string, string>();
    for (const r of quotaRefusals) {
      for (const arn of r.targetGroupArns)
        blocked.set(arn, [blocked.get(arn), r.message].filter(Boolean).join('; '));
    }
    plans = plans.map((plan) => {
      const because = blocked.get(plan.mapping.targetGroupArn);
      if (because === undefined) return plan;
      return {
        ...plan,
        changes: [],
        refused: [...(plan.refused ?? []), ...plan.changes.map((c) => ({ ...c, refusedBecause: because }))],
      };
    });
  }
  const changes = plans.flatMap((p) => p.changes);
  const elapsedMs = Date.now() - started;
  if (!dryRun && elapsedMs > PASS_DEADLINE_MS) {
    log.error('Pass deadline reached before the writes; nothing written, the next pass retries', {
      elapsedMs,
      deadlineMs: PASS_DEADLINE_MS,
      planned: changes.length,
    });
    throw new PassDeadlineError(cluster.name, elapsedMs, PASS_DEADLINE_MS);
  }
  for (const change of changes) {
    log.info(dryRun ? 'Planned target change' : 'Target change', {
      action: change.action,
      mapping: change.mapping,
      targetGroupArn: change.targetGroupArn,
      target: `${change.target.id}:${change.target.port}`,
      reason: change.reason,
    });
  }
  const nodeLines = judged.map(({ node, verdict }) => ({
    instanceId: node.instanceId,
    ...(node.privateIp !== undefined && { privateIp: node.privateIp }),
    desired: verdict.desired,
    reason: verdict.reason,
  }));
  // Wave 2: every write at once: the target writes of every group beside the other steps (each plans from
  // its own first-wave reads and writes). A step's failure waits until the target writes have ended.
  const stepInput: ReconcileStepInput = { config, cluster, judged, dryRun };
  const stepResults = stepRuns.map((run) => Promise.resolve().then(() => run(stepInput)));
  const targetWrites = dryRun
    ? Promise.resolve({ registered: 0, deregistered: 0, rejected: [] })
    : writeTargets(plans, deps.targetGroups, log, (rejected) =>
        options.onRegistered?.({ nodes: nodeLines, groups: plans, rejected }),
      );
  const [written, ...stepOutcomes] = await Promise.allSettled([targetWrites, ...stepResults]);
  if (written.status === 'rejected') throw written.reason;
  const { registered, deregistered, rejected } = written.value;
  const steps = stepOutcomes.map((outcome, i) => {
    if (outcome.status === 'rejected') throw outcome.reason;
    return { name: deps.extraSteps?.[i]?.name ?? `step ${i}`, ...outcome.value };
  });
  const durationMs = Date.now() - started;
  deps.metrics.addMetric(METRICS.targetsRegistered, MetricUnit.Count, registered);
  deps.metrics.addMetric(METRICS.targetsDeregistered, MetricUnit.Count, deregistered);
  deps.metrics.addMetric(METRICS.targetsRejected, MetricUnit.Count, rejected.length);
  deps.metrics.addMetric(METRICS.passDuration, MetricUnit.Milliseconds, durationMs);
  const report: PassReport = {
    cluster: cluster.name,
    trigger: options.trigger,
    dryRun,
    nodes: nodeLines,
    missingAutoScalingGroups: missing,
    marked,
    groups: plans,
    changes,
    guardRefusals: override === undefined ? guarded.refusals : [],
    quotaRefusals: quotaRefusals.map((r) => r.message),
    ...(override !== undefined && { overridden: { ...override, refusals: guarded.refusals } }),
    registered,
    deregistered,
    rejected,
    steps,
    durationMs,
  };
  log.info('Reconcile pass finished', {
    dryRun,
    nodes: judged.length,
    desiredNodes: desiredNodeCount,
    planned: changes.length,
    registered,
    deregistered,
    rejected: rejected.length,
    steps: steps.map((s) => ({ name: s.name, planned: s.planned.length, applied: s.applied })),
    groups: plans.map((p) => ({
      mapping: p.mapping.name,
      desired: p.desired.length,
      observed: p.observedOwned.length,
      draining: p.draining.length,
      preserved: p.preserved.length,
      changes: p.changes.length,
      refused: p.refused?.length ?? 0,
      kept: p.kept?.length ?? 0,
    })),
    durationMs,
  });
  if (!dryRun && report.quotaRefusals.length > 0) {
    throw new QuotaExceededError(cluster.name, report.quotaRefusals, report);
  }
  if (!dryRun && report.guardRefusals.length > 0) {
    // The safe part is applied; the refusal still fails the pass, so it is counted and alarmed.
    throw new GuardRefusalError(cluster.name, report.guardRefusals, report);
  }
  return report;
}

/** What the target writes of a pass did. */
interface TargetWrites {
  readonly registered: number;
  readonly deregistered: number;
  readonly rejected: readonly (RejectedTarget & { targetGroupArn: string })[];
}

/**
 * Writes the target changes: every group's registrations at once, then, once they have all ended, every
 * group's deregistrations at once, so no group is ever empty for a moment during a swap. `registeredAll`
 * is called between the two with the rejections so far. A failed call fails the whole write, but only
 * after the calls beside it have ended (nothing is left in flight), and no deregistration follows a
 * failed registration.
 */
async function writeTargets(
  plans: readonly GroupPlan[],
  port: TargetGroupPort,
  log: Logger,
  registeredAll: (rejected: readonly (RejectedTarget & { targetGroupArn: string })[]) => void,
): Promise<TargetWrites> {
  const rejected: (RejectedTarget & { targetGroupArn: string })[] = [];
  const counts = { register: 0, deregister: 0 };
  for (const action of ['register', 'deregister'] as const) {
    const writes = plans.map(async (plan) => {
      const targets = plan.changes.filter((c) => c.action === action).map((c) => c.target);
      if (targets.length === 0) return undefined;
      const arn = plan.mapping.targetGroupArn;
      const result =
        action === 'register'
          ? await port.registerTargets(arn, targets)
          : await port.deregisterTargets(arn, targets);
      return { arn, result };
    });
    for (const outcome of await Promise.allSettled(writes)) {
      if (outcome.status === 'rejected') throw outcome.reason;
      if (outcome.value === undefined) continue;
      const { arn, result } = outcome.value;
      counts[action] += result.applied.length;
      for (const r of result.rejected) {
        log.error('AWS rejected a target; the rest of the batch was applied', {
          action,
          targetGroupArn: arn,
          target: `${r.target.id}:${r.target.port}`,
          code: r.code,
          message: r.message,
        });
        rejected.push({ ...r, targetGroupArn: arn });
      }
    }
    if (action === 'register') registeredAll([...rejected]);
  }
  return { registered: counts.register, deregistered: counts.deregister, rejected };
}

/**
 * Writes the pass's drain marks on instances discovery found in the cluster and that do not carry one yet,
 * and returns the nodes as they are now marked. A dry run writes nothing and judges as if it had.
 */
async function writeMarks(
  config: SyncConfig,
  cluster: ClusterConfig,
  discovery: Discovery,
  deps: ReconcileDeps,
  options: PassOptions,
  dryRun: boolean,
): Promise<{ nodes: readonly Node[]; marked: string[] }> {
  const wanted = new Map((options.marks ?? []).map((m) => [m.instanceId, m.reason] as const));
  if (wanted.size === 0) return { nodes: discovery.nodes, marked: [] };
  const at = new Date(options.now ?? Date.now());
  const key = drainMarkTagKey(config.ownerId);
  const marked: string[] = [];
  const nodes = await Promise.all(
    discovery.nodes.map(async (node) => {
      const reason = wanted.get(node.instanceId);
      if (reason === undefined || node.drainMark !== undefined) return node;
      // Discovery also holds instances only an event named (origins empty): mark one only when its own
      // tags make it the cluster's, never an instance of another team that a spot warning names.
      if (node.origins.length === 0 && membershipByTags(node, cluster) === undefined) return node;
      if (!dryRun) {
        if ((await deps.ec2.tagInstance(node.instanceId, key, formatDrainMark(reason, at))) === 'not-found') {
          return node;
        }
        marked.push(node.instanceId);
        deps.metrics.addMetric(METRICS.drainMarksWritten, MetricUnit.Count, 1);
      }
      return { ...node, drainMark: { reason, since: at.toISOString() } };
    }),
  );
  return { nodes, marked };
}
