import type { ObservedTarget } from '../domain/target';
import type { PassReport } from '../sync/reconcile-pass';
import type { Painter } from './colour';
import type { PassCluster, StatusCluster, StepView } from './document';

/** Renders a pass report for a terminal: the nodes, then each group's plan with reasons. */
export function renderPassReport(report: PassReport): string {
  const lines: string[] = [];
  const mode = report.dryRun ? 'plan (dry run, nothing written)' : 'applied';
  lines.push(`cluster ${report.cluster} — ${mode} — trigger: ${report.trigger}`);
  lines.push(`  nodes (${report.nodes.filter((n) => n.desired).length} desired of ${report.nodes.length}):`);
  for (const node of report.nodes) {
    lines.push(
      `    ${node.desired ? '+' : '-'} ${node.instanceId} ${node.privateIp ?? '(no ip)'}  ${node.reason}`,
    );
  }
  for (const group of report.groups) {
    lines.push(
      `  ${group.mapping.name} (${group.mapping.targetType}, NodePort ${group.mapping.nodePort}): ${group.desired.length} desired, ${group.observedOwned.length} registered, ${group.draining.length} draining, ${group.preserved.length} preserved`,
    );
    if (group.changes.length === 0) lines.push('    no change');
    for (const change of group.changes) {
      const sign = change.action === 'register' ? '+' : '-';
      lines.push(`    ${sign} ${change.action} ${change.target.id}:${change.target.port}  ${change.reason}`);
    }
  }
  for (const step of report.steps) {
    lines.push(`  ${step.name}: ${step.planned.length} planned, ${step.applied} applied`);
    for (const line of step.planned) lines.push(`    ${line}`);
  }
  for (const r of report.rejected) {
    lines.push(`  ! rejected ${r.target.id}:${r.target.port} in ${r.targetGroupArn}: ${r.code} ${r.message}`);
  }
  if (!report.dryRun)
    lines.push(
      `  registered ${report.registered}, deregistered ${report.deregistered}, ${report.durationMs} ms`,
    );
  return lines.join('\n');
}

/** Renders a group's targets, one per line, sorted. */
export function renderTargets(name: string, targets: readonly ObservedTarget[]): string {
  const sorted = [...targets].sort((a, b) => (a.id === b.id ? a.port - b.port : a.id < b.id ? -1 : 1));
  const body = sorted.map((t) => `    ${t.id}:${t.port} ${t.state}${t.reason ? ` (${t.reason})` : ''}`);
  return [`  ${name}: ${targets.length} target(s)`, ...body].join('\n');
}

// ---- The CLI's human reports, rendered from the same views as its --json documents (document.ts). ----

function stepLines(step: StepView, paint: Painter, verb: 'plan' | 'apply' | 'status'): string[] {
  const label = `  ${step.name}:`;
  switch (step.status) {
    case 'not-configured':
      return [`${label} ${paint.dim('not configured')}`];
    case 'disabled':
      return [`${label} ${paint.dim('disabled')}`];
    case 'unknown':
      return [`${label} ${paint.dim('unknown (the pass failed)')}`];
    case 'in-sync':
      return [`${label} ${paint.green('in sync')}`];
    default: {
      const head =
        verb === 'apply'
          ? `${step.applied} of ${step.changes.length} change(s) applied`
          : `${step.changes.length} change(s) pending`;
      return [`${label} ${paint.yellow(head)}`, ...step.changes.map((c) => `    ${c}`)];
    }
  }
}

function changeLine(c: PassCluster['changes'][number], paint: Painter): string {
  const sign = c.action === 'register' ? paint.green('+') : paint.red('-');
  return `    ${sign} ${c.action} ${c.target.id}:${c.target.port} in ${c.mapping}  ${paint.dim(c.reason)}`;
}

/** `plan` and `apply` for one cluster: every change with its reason, then what was applied. */
export function renderPassCluster(view: PassCluster, verb: 'plan' | 'apply', paint: Painter): string {
  const lines = [paint.bold(`cluster ${view.cluster}`)];
  if (!view.ok) {
    lines.push(`  ${paint.red('FAILED')}: ${view.error ?? 'unknown error'}`);
    // A refusal (guard, quota) still applied the rest: its report follows.
    if (view.steps.length === 0) return lines.join('\n');
  }
  const desired = view.nodes.filter((n) => n.desired).length;
  lines.push(`  nodes: ${desired} desired of ${view.nodes.length}`);
  for (const node of view.nodes.filter((n) => !n.desired)) {
    lines.push(
      `    ${paint.dim('·')} ${node.instanceId} ${node.privateIp ?? '(no ip)'} left out: ${node.reason}`,
    );
  }
  if (view.changes.length === 0) lines.push(`  targets: ${paint.green('in sync')}`);
  else {
    const head =
      verb === 'apply'
        ? `${view.registered ?? 0} registered, ${view.deregistered ?? 0} deregistered`
        : `${view.changes.length} change(s) pending`;
    lines.push(`  targets: ${paint.yellow(head)}`);
    for (const change of view.changes) lines.push(changeLine(change, paint));
  }
  for (const held of view.heldBack) {
    lines.push(
      `    ${paint.yellow('!')} held back: ${held.action} ${held.target.id}:${held.target.port} in ${held.mapping}: ${held.heldBecause}`,
    );
  }
  for (const refused of view.refused ?? []) {
    lines.push(
      `    ${paint.red('!')} refused: ${refused.action} ${refused.target.id}:${refused.target.port} in ${refused.mapping}: ${refused.refusedBecause}`,
    );
  }
  for (const r of view.rejected ?? []) {
    lines.push(
      `    ${paint.red('!')} rejected by AWS: ${r.target.id}:${r.target.port}: ${r.code} ${r.message}`,
    );
  }
  for (const step of view.steps) lines.push(...stepLines(step, paint, verb));
  return lines.join('\n');
}

/** The closing line of `plan`. */
export function renderPlanSummary(views: readonly PassCluster[], paint: Painter): string {
  const failed = views.filter((v) => !v.ok).length;
  const changes = views.reduce((n, v) => n + v.changeCount, 0);
  const parts = [
    changes === 0 ? paint.green('no changes: in sync') : paint.yellow(`${changes} change(s) pending`),
  ];
  if (failed > 0) parts.push(paint.red(`${failed} cluster(s) failed`));
  return `plan: ${parts.join(', ')}`;
}

/** The closing line of `apply`. */
export function renderApplySummary(views: readonly PassCluster[], paint: Painter): string {
  const failed = views.filter((v) => !v.ok);
  const ok = views.length - failed.length;
  const text = `apply: ${ok} of ${views.length} cluster(s) done`;
  return failed.length === 0
    ? paint.green(text)
    : `${text}, ${paint.red(`${failed.length} failed (${failed.map((f) => f.cluster).join(', ')})`)}`;
}

/** `status` for one cluster: per group desired vs actual with health, then rules, records and held actions. */
export function renderStatusCluster(view: StatusCluster, paint: Painter): string {
  const lines = [paint.bold(`cluster ${view.cluster}`)];
  if (!view.ok) lines.push(`  ${paint.red('FAILED')}: ${view.error ?? 'unknown error'}`);
  for (const group of view.groups) {
    const actualManaged = group.actual.filter((t) => t.role === 'managed').length;
    const sync = group.inSync
      ? paint.green('in sync')
      : paint.yellow(`${group.pendingChanges.length} change(s) pending`);
    lines.push(
      `  ${group.mapping} (${group.targetType}, NodePort ${group.nodePort}): desired ${group.desired.length}, actual ${actualManaged} — ${sync}`,
    );
    const desiredKeys = new Set(group.desired.map((d) => `${d.id}:${d.port}`));
    const actualKeys = new Set(group.actual.map((t) => `${t.id}:${t.port}`));
    for (const t of group.actual) {
      const state =
        t.state === 'healthy'
          ? paint.green(t.state)
          : t.state === 'unhealthy'
            ? paint.red(t.state)
            : paint.yellow(t.state);
      const note =
        t.role !== 'managed' ? ` [${t.role}]` : desiredKeys.has(`${t.id}:${t.port}`) ? '' : ' [not desired]';
      lines.push(`    ${t.id}:${t.port} ${state}${t.reason !== undefined ? ` (${t.reason})` : ''}${note}`);
    }
    for (const d of group.desired.filter((d) => !actualKeys.has(`${d.id}:${d.port}`))) {
      lines.push(`    ${d.id}:${d.port} ${paint.yellow('missing')} (desired for ${d.instanceId})`);
    }
  }
  const sg = view.securityGroups;
  lines.push(
    ...stepLines(sg, paint, 'status').map((l, i) =>
      i === 0 && sg.groupIds !== undefined
        ? `${l} ${paint.dim(`(groups: ${sg.groupIds === 'discovered' ? `discovered from the nodes${sg.nodeGroupIds !== undefined ? `: ${sg.nodeGroupIds.join(', ') || 'none'}` : ''}` : sg.groupIds.join(', ')})`)}`
        : l,
    ),
  );
  if (sg.readError !== undefined) lines.push(`    ${paint.red('owned rules not read')}: ${sg.readError}`);
  if (sg.ownedRules !== undefined) {
    for (const groupId of sg.nodeGroupIds ?? []) {
      const rules = sg.ownedRules.filter((r) => r.groupId === groupId);
      lines.push(`    ${groupId}: ${rules.length} owned rule(s)`);
      for (const r of rules) lines.push(`      ${r.rule}  ${paint.dim(r.description)}`);
    }
  }
  const dns = view.dns;
  lines.push(
    ...stepLines(dns, paint, 'status').map((l, i) =>
      i === 0 && dns.hostedZoneId !== undefined
        ? `${l} ${paint.dim(`(zone ${dns.hostedZoneId}: ${dns.names.join(', ') || 'no names'})`)}`
        : l,
    ),
  );
  if (dns.readError !== undefined)
    lines.push(`    ${paint.red('managed records not read')}: ${dns.readError}`);
  if (dns.records !== undefined) {
    lines.push(`    ${dns.records.length} managed record set(s) in the zone:`);
    for (const r of dns.records) {
      const value = r.alias !== undefined ? `ALIAS ${r.alias}` : r.values.join(' ');
      lines.push(`      ${r.name} ${r.type}${r.ttl !== undefined ? ` ${r.ttl}` : ''} ${value}`);
    }
  }
  const held = view.heldLifecycleActions;
  if (held.readError !== undefined) {
    lines.push(`  held lifecycle actions: ${paint.red('not read')}: ${held.readError}`);
  } else if (held.actions !== undefined) {
    lines.push(
      `  held lifecycle actions: ${held.actions.length === 0 ? paint.green('none') : paint.yellow(`${held.actions.length}`)}`,
    );
    for (const a of held.actions) {
      lines.push(
        `    ${a.instanceId} (${a.autoScalingGroup}, ${a.lifecycleState}) ${a.kind}: waits for ${a.waitsFor}`,
      );
    }
  }
  if (held.visible || held.readError !== undefined) lines.push(`    ${paint.dim(held.note)}`);
  return lines.join('\n');
}
