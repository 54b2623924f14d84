import type { ObservedTarget } from '../domain/target';
import type { PassReport } from '../sync/reconcile-pass';

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
