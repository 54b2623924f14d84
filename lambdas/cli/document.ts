import { z } from 'zod';
import type { ClusterConfig } from '../domain/config';
import { TARGET_STATES } from '../domain/target';
import type { TargetChange } from '../domain/target-plan';
import type { DrainOutcome } from '../sync/drain-node';
import type { PassReport } from '../sync/reconcile-pass';
import type { ConfigProblem } from './config-check';
import type { HeldActionView, ManagedRecordView, OwnedRuleView } from './inventory';

/**
 * The CLI's `--json` output: one versioned JSON document per run, whatever the number of clusters
 * (documented in docs/cli.md). `schemaVersion` changes only when a field is removed or changes meaning;
 * added fields keep it. The tests validate every document the CLI prints against {@link cliDocumentSchema}.
 */
export const SCHEMA_VERSION = 1;

/**
 * Said with the held lifecycle actions: where they come from, and what is not shown (the holds' deadlines
 * and heartbeats are messages on the wait queue, which `status` does not read).
 */
export const HELD_ACTIONS_NOTE =
  "from Auto Scaling (instances in Pending:Wait / Terminating:Wait); what each waits for is judged from the current targets by the hold rules; deadlines and heartbeats live on the deployment's wait queue";

const targetSchema = z.object({ id: z.string(), port: z.number().int() });

export const targetChangeSchema = z.object({
  action: z.enum(['register', 'deregister']),
  mapping: z.string(),
  targetGroupArn: z.string(),
  target: targetSchema,
  reason: z.string(),
  /** register: the node it stands for. */
  instanceId: z.string().optional(),
  /** deregister: leaving / replaced / vanished. */
  kind: z.string().optional(),
});

/** A security-group or DNS step of a pass, as the CLI reports it. */
export const stepSchema = z.object({
  name: z.string(),
  /**
   * `not-configured` / `disabled`: the step does nothing for this cluster (it is not "0 changes");
   * `unknown`: the cluster's pass failed before the step ran.
   */
  status: z.enum(['not-configured', 'disabled', 'in-sync', 'changes-pending', 'applied', 'unknown']),
  /** One line per change with its reason. */
  changes: z.array(z.string()),
  applied: z.number().int().min(0),
});

const nodeSchema = z.object({
  instanceId: z.string(),
  privateIp: z.string().optional(),
  desired: z.boolean(),
  reason: z.string(),
});

const clusterBase = {
  cluster: z.string(),
  /** false when the cluster's pass failed; `error` says why (one line with the fix). */
  ok: z.boolean(),
  error: z.string().optional(),
};

/** One cluster in a `plan` or `apply` document. */
export const passClusterSchema = z.object({
  ...clusterBase,
  nodes: z.array(nodeSchema),
  changes: z.array(targetChangeSchema),
  /** Changes planned but held back this pass (e.g. an ASG is missing), with why. */
  heldBack: z.array(targetChangeSchema.extend({ heldBecause: z.string() })),
  /**
   * Changes a safety guard or a quota refused this pass, with the reason; they wait (an operator may
   * confirm refused deregistrations with `apply --confirm-deregistrations`). Absent in older documents.
   */
  refused: z.array(targetChangeSchema.extend({ refusedBecause: z.string() })).optional(),
  steps: z.array(stepSchema),
  /** Target changes + step changes. */
  changeCount: z.number().int().min(0),
  /** apply only. */
  registered: z.number().int().min(0).optional(),
  deregistered: z.number().int().min(0).optional(),
  rejected: z
    .array(
      z.object({ targetGroupArn: z.string(), target: targetSchema, code: z.string(), message: z.string() }),
    )
    .optional(),
});

const actualTargetSchema = targetSchema.extend({
  state: z.enum(TARGET_STATES),
  reason: z.string().optional(),
  /**
   * managed: the product's; preserved: never touched; draining: on its way out; kept: its node is unknown
   * (a stale list), so it is neither registered nor deregistered this pass (`kept` added in schema 1).
   */
  role: z.enum(['managed', 'preserved', 'draining', 'kept']),
});

/** One target group in a `status` document: desired vs actual. */
export const statusGroupSchema = z.object({
  mapping: z.string(),
  targetGroupArn: z.string(),
  targetType: z.enum(['ip', 'instance']),
  nodePort: z.number().int(),
  inSync: z.boolean(),
  desired: z.array(targetSchema.extend({ instanceId: z.string() })),
  actual: z.array(actualTargetSchema),
  pendingChanges: z.array(targetChangeSchema),
});

/** An inbound rule this deployment owns for the cluster (description prefix `nlb-nodeport-sync:<ownerId>/<cluster>:`). */
export const ownedRuleSchema = z.object({
  groupId: z.string(),
  ruleId: z.string(),
  /** `tcp 30000-30001 from 10.0.0.0/16`. */
  rule: z.string(),
  description: z.string(),
});

/** A record set at a name whose TXT set holds the cluster's ownership marker (the marker included). */
export const managedRecordSchema = z.object({
  name: z.string(),
  type: z.string(),
  ttl: z.number().int().optional(),
  values: z.array(z.string()),
  /** Alias records: the alias target's DNS name. */
  alias: z.string().optional(),
});

/** A lifecycle action Auto Scaling holds on a node of the cluster, and what it waits for now. */
export const heldActionSchema = z.object({
  instanceId: z.string(),
  autoScalingGroup: z.string(),
  /** `Pending:Wait` (launch) or `Terminating:Wait` (terminate). */
  lifecycleState: z.string(),
  kind: z.enum(['launch', 'terminate']),
  /** This deployment's hook for that kind, `<ownerId>-<cluster>-launch|terminate`. */
  hookName: z.string(),
  /** `wait` (health, draining), `pass` (its targets are not in place yet), `answer` (ready to be answered). */
  next: z.enum(['wait', 'pass', 'answer']),
  waitsFor: z.string(),
});

/** One cluster in a `status` document. */
export const statusClusterSchema = z.object({
  ...clusterBase,
  nodes: z.array(nodeSchema),
  groups: z.array(statusGroupSchema),
  securityGroups: stepSchema.extend({
    /** The configured groups, or `discovered` (from the nodes' interfaces). */
    groupIds: z.union([z.array(z.string()), z.literal('discovered')]).optional(),
    /** The node groups read (configured, or chosen from the desired nodes' interfaces). */
    nodeGroupIds: z.array(z.string()).optional(),
    /** The rules this deployment owns in them now; absent when not configured, disabled or unread. */
    ownedRules: z.array(ownedRuleSchema).optional(),
    /** Why the owned rules could not be read (one line). */
    readError: z.string().optional(),
  }),
  dns: stepSchema.extend({
    hostedZoneId: z.string().optional(),
    /** The record names this cluster manages (from the config). */
    names: z.array(z.string()),
    /** The record sets at the names the zone marks as this cluster's now; absent when not configured or unread. */
    records: z.array(managedRecordSchema).optional(),
    readError: z.string().optional(),
  }),
  heldLifecycleActions: z.object({
    /** true when read from Auto Scaling (false: the cluster's pass failed, or the read failed). */
    visible: z.boolean(),
    note: z.string(),
    actions: z.array(heldActionSchema).optional(),
    readError: z.string().optional(),
  }),
});

const base = { schemaVersion: z.literal(SCHEMA_VERSION), generatedAt: z.string(), ok: z.boolean() };

export const planDocumentSchema = z.object({
  ...base,
  command: z.literal('plan'),
  changesPending: z.boolean(),
  clusters: z.array(passClusterSchema),
});
export const applyDocumentSchema = z.object({
  ...base,
  command: z.literal('apply'),
  clusters: z.array(passClusterSchema),
});
export const statusDocumentSchema = z.object({
  ...base,
  command: z.literal('status'),
  clusters: z.array(statusClusterSchema),
});
export const validateDocumentSchema = z.object({
  ...base,
  command: z.literal('validate'),
  source: z.string(),
  clusters: z.array(z.string()),
  problems: z.array(z.object({ field: z.string(), message: z.string() })),
});
export const drainDocumentSchema = z.object({
  ...base,
  command: z.enum(['drain', 'undrain']),
  instanceId: z.string(),
  cluster: z.string(),
  change: z.enum(['marked', 'unmarked', 'unchanged']),
  previous: z.string().optional(),
  /** `drain --wait` only: whether the node's targets left every group, after how long, the last look. */
  wait: z.object({ done: z.boolean(), waitedSeconds: z.number().int().min(0), last: z.string() }).optional(),
});

/** Every document the CLI prints with `--json`. */
export const cliDocumentSchema = z.discriminatedUnion('command', [
  planDocumentSchema,
  applyDocumentSchema,
  statusDocumentSchema,
  validateDocumentSchema,
  drainDocumentSchema,
]);

export type PassCluster = z.infer<typeof passClusterSchema>;
export type StatusCluster = z.infer<typeof statusClusterSchema>;
export type StepView = z.infer<typeof stepSchema>;
export type CliDocument = z.infer<typeof cliDocumentSchema>;

function changeView(change: TargetChange): z.infer<typeof targetChangeSchema> {
  return {
    action: change.action,
    mapping: change.mapping,
    targetGroupArn: change.targetGroupArn,
    target: { id: change.target.id, port: change.target.port },
    reason: change.reason,
    ...(change.action === 'register' ? { instanceId: change.instanceId } : { kind: change.kind }),
  };
}

/** A step of the report, with "not configured" / "disabled" told apart from "in sync". */
export function stepView(cluster: ClusterConfig, report: PassReport | undefined, name: string): StepView {
  const configured =
    name === 'security-groups'
      ? cluster.securityGroups === undefined
        ? 'not-configured'
        : cluster.securityGroups.enabled
          ? 'on'
          : 'disabled'
      : name === 'dns'
        ? cluster.dns === undefined
          ? 'not-configured'
          : 'on'
        : 'on';
  const step = report?.steps.find((s) => s.name === name);
  const changes = [...(step?.planned ?? [])];
  const applied = step?.applied ?? 0;
  if (configured !== 'on') return { name, status: configured, changes, applied };
  if (report === undefined) return { name, status: 'unknown', changes, applied };
  const status = changes.length === 0 ? 'in-sync' : !report.dryRun ? 'applied' : 'changes-pending';
  return { name, status, changes, applied };
}

function stepNames(report: PassReport): string[] {
  const names = report.steps.map((s) => s.name);
  for (const name of ['security-groups', 'dns']) if (!names.includes(name)) names.push(name);
  return names;
}

/** A `plan` or `apply` cluster entry from its pass report. */
export function passCluster(cluster: ClusterConfig, report: PassReport): PassCluster {
  const steps = stepNames(report).map((name) => stepView(cluster, report, name));
  return {
    cluster: report.cluster,
    ok: true,
    nodes: report.nodes.map((n) => ({ ...n })),
    changes: report.changes.map(changeView),
    heldBack: report.groups.flatMap((g) =>
      (g.heldBack ?? []).map((h) => ({ ...changeView(h), heldBecause: h.heldBecause })),
    ),
    refused: report.groups.flatMap((g) =>
      (g.refused ?? []).map((r) => ({ ...changeView(r), refusedBecause: r.refusedBecause })),
    ),
    steps,
    changeCount: report.changes.length + steps.reduce((n, s) => n + s.changes.length, 0),
    ...(!report.dryRun && {
      registered: report.registered,
      deregistered: report.deregistered,
      rejected: report.rejected.map((r) => ({
        targetGroupArn: r.targetGroupArn,
        target: { id: r.target.id, port: r.target.port },
        code: r.code,
        message: r.message,
      })),
    }),
  };
}

/** A failed cluster entry of a `plan` or `apply` document. */
export function failedPassCluster(cluster: string, error: string): PassCluster {
  return { cluster, ok: false, error, nodes: [], changes: [], heldBack: [], steps: [], changeCount: 0 };
}

/** The DNS record names a cluster manages, from its config. */
function managedNames(cluster: ClusterConfig): string[] {
  const dns = cluster.dns;
  if (dns === undefined) return [];
  const names = [...dns.aliasNames];
  if (dns.nodeRecordName !== undefined) names.push(dns.nodeRecordName);
  if (dns.srvDomain !== undefined)
    for (const m of cluster.portMappings) names.push(`_${m.name}._tcp.${dns.srvDomain}`);
  return names;
}

/** What `status` read besides the pass (lambdas/cli/inventory.ts); a part that failed carries its error line. */
export interface StatusInventory {
  readonly securityGroups?:
    | { readonly groupIds: readonly string[]; readonly rules: readonly OwnedRuleView[] }
    | { readonly error: string };
  readonly records?: readonly ManagedRecordView[] | { readonly error: string };
  readonly held?: readonly HeldActionView[] | { readonly error: string };
}

function failedRead<T>(part: T | { readonly error: string } | undefined): string | undefined {
  return part !== undefined && part !== null && typeof part === 'object' && 'error' in part
    ? part.error
    : undefined;
}

/** A `status` cluster entry from a dry-run pass report (desired from the plan, actual from AWS). */
export function statusCluster(
  cluster: ClusterConfig,
  report: PassReport,
  inventory: StatusInventory = {},
): StatusCluster {
  const sg = inventory.securityGroups;
  const sgError = failedRead(sg);
  const records = inventory.records;
  const recordsError = failedRead(records);
  const held = inventory.held;
  const heldError = failedRead(held);
  const byKey = (a: { id: string; port: number }, b: { id: string; port: number }) =>
    a.id === b.id ? a.port - b.port : a.id < b.id ? -1 : 1;
  return {
    cluster: report.cluster,
    ok: true,
    nodes: report.nodes.map((n) => ({ ...n })),
    groups: report.groups.map((g) => ({
      mapping: g.mapping.name,
      targetGroupArn: g.mapping.targetGroupArn,
      targetType: g.mapping.targetType,
      nodePort: g.mapping.nodePort,
      inSync: g.changes.length === 0,
      desired: g.desired.map((d) => ({ id: d.id, port: d.port, instanceId: d.instanceId })).sort(byKey),
      actual: [
        ...g.observedOwned.map((t) => ({ t, role: 'managed' as const })),
        ...g.preserved.map((t) => ({ t, role: 'preserved' as const })),
        ...g.draining.map((t) => ({ t, role: 'draining' as const })),
        ...(g.kept ?? []).map((t) => ({ t, role: 'kept' as const })),
      ]
        .map(({ t, role }) => ({
          id: t.id,
          port: t.port,
          state: t.state,
          ...(t.reason !== undefined && { reason: t.reason }),
          role,
        }))
        .sort(byKey),
      pendingChanges: g.changes.map(changeView),
    })),
    securityGroups: {
      ...stepView(cluster, report, 'security-groups'),
      ...(cluster.securityGroups !== undefined && {
        groupIds: cluster.securityGroups.groupIds ?? ('discovered' as const),
      }),
      ...(sg !== undefined &&
        !('error' in sg) && {
          nodeGroupIds: [...sg.groupIds],
          ownedRules: sg.rules.map((r) => ({ ...r })),
        }),
      ...(sgError !== undefined && { readError: sgError }),
    },
    dns: {
      ...stepView(cluster, report, 'dns'),
      ...(cluster.dns !== undefined && { hostedZoneId: cluster.dns.hostedZoneId }),
      names: managedNames(cluster),
      ...(records !== undefined &&
        !('error' in records) && { records: records.map((r) => ({ ...r, values: [...r.values] })) }),
      ...(recordsError !== undefined && { readError: recordsError }),
    },
    heldLifecycleActions: {
      visible: held !== undefined && heldError === undefined,
      note: HELD_ACTIONS_NOTE,
      ...(held !== undefined && !('error' in held) && { actions: held.map((h) => ({ ...h })) }),
      ...(heldError !== undefined && { readError: heldError }),
    },
  };
}

/** A failed cluster entry of a `status` document. */
export function failedStatusCluster(cluster: ClusterConfig, error: string): StatusCluster {
  return {
    cluster: cluster.name,
    ok: false,
    error,
    nodes: [],
    groups: [],
    securityGroups: stepView(cluster, undefined, 'security-groups'),
    dns: { ...stepView(cluster, undefined, 'dns'), names: managedNames(cluster) },
    heldLifecycleActions: { visible: false, note: HELD_ACTIONS_NOTE },
  };
}

/** A document without the envelope every document carries (schemaVersion, generatedAt). */
export type DocumentBody = CliDocument extends infer D
  ? D extends unknown
    ? Omit<D, 'schemaVersion' | 'generatedAt'>
    : never
  : never;

/** Wraps a body in the envelope: the one place that stamps the schema version and the time. */
export function cliDocument(body: DocumentBody, now: Date): CliDocument {
  return { schemaVersion: SCHEMA_VERSION, generatedAt: now.toISOString(), ...body } as CliDocument;
}

/** A `drain` / `undrain` document body. */
export function drainDocument(command: 'drain' | 'undrain', outcome: DrainOutcome): DocumentBody {
  return {
    ok: true,
    command,
    instanceId: outcome.instanceId,
    cluster: outcome.cluster,
    change: outcome.change,
    ...(outcome.previous !== undefined && { previous: outcome.previous }),
  };
}

/** A `validate` document body. */
export function validateDocument(
  source: string,
  clusters: readonly string[],
  problems: readonly ConfigProblem[],
): DocumentBody {
  return {
    ok: problems.length === 0,
    command: 'validate',
    source,
    clusters: [...clusters],
    problems: [...problems],
  };
}
