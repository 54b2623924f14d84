#!/usr/bin/env node
/**
 * Operator CLI: `plan` (dry run), `apply` (one pass), `status` (targets and health per group),
 * `drain <instance-id>` / `undrain <instance-id>` (the operator's drain mark, docs/lifecycle.md).
 * Reads the config from --config PATH or NLB_SYNC_CONFIG_FILE; talks to AWS with the usual
 * credentials chain (AWS_ENDPOINT_URL points it at moto for local runs).
 */
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { renderPassReport, renderTargets } from '../lambdas/cli/render';
import { createContainer } from '../lambdas/runtime/container';
import { loadConfigFile, loadConfigFromEnvironment } from '../lambdas/runtime/environment';
import { drainInstance, undrainInstance } from '../lambdas/sync/drain-node';
import { resolvedMappings } from '../lambdas/sync/reconcile-pass';
import { runPasses } from '../lambdas/sync/run-passes';

const USAGE = `usage: npm run cli -- <plan|apply|status> [--config PATH] [--cluster NAME] [--json]
       npm run cli -- <drain|undrain> <instance-id> [--config PATH]`;
const COMMANDS = ['plan', 'apply', 'status', 'drain', 'undrain'];

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      cluster: { type: 'string' },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0];
  if (command === undefined || !COMMANDS.includes(command)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const config = values.config !== undefined ? loadConfigFile(values.config) : loadConfigFromEnvironment();
  const clusters = config.clusters.filter((c) => values.cluster === undefined || c.name === values.cluster);
  if (clusters.length === 0) {
    process.stderr.write(`No cluster named "${values.cluster}" in the config\n`);
    return 2;
  }
  // EMF lines are for CloudWatch, not for an operator's terminal.
  if (!values.verbose) process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const container = createContainer({
    logger: new Logger({ serviceName: 'nlb-nodeport-sync', logLevel: values.verbose ? 'INFO' : 'SILENT' }),
  });
  if (command === 'drain' || command === 'undrain') {
    const instanceId = positionals[1];
    if (instanceId === undefined || !/^i-[0-9a-f]{8,17}$/.test(instanceId)) {
      process.stderr.write(`${command} needs an instance id (i-...)\n${USAGE}\n`);
      return 2;
    }
    const outcome =
      command === 'drain'
        ? await drainInstance(config, instanceId, container)
        : await undrainInstance(config, instanceId, container);
    process.stdout.write(
      values.json
        ? `${JSON.stringify(outcome)}\n`
        : `${instanceId} (cluster ${outcome.cluster}): ${outcome.change}${outcome.previous === undefined ? '' : ` (was: ${outcome.previous})`}; the next pass ${command === 'drain' ? 'keeps it out of every group' : 'registers it again if it is otherwise desired'}\n`,
    );
    return 0;
  }
  if (command === 'status') {
    for (const cluster of clusters) {
      const groups = await Promise.all(
        resolvedMappings(cluster).map(async (m) => ({
          m,
          targets: await container.targetGroups.describeTargets(m.targetGroupArn),
        })),
      );
      if (values.json) {
        process.stdout.write(
          `${JSON.stringify({ cluster: cluster.name, groups: groups.map((g) => ({ mapping: g.m.name, targets: g.targets })) })}\n`,
        );
        continue;
      }
      process.stdout.write(
        `cluster ${cluster.name}\n${groups.map((g) => renderTargets(g.m.name, g.targets)).join('\n')}\n`,
      );
    }
    return 0;
  }
  const reports = await runPasses(config, clusters, container, {
    trigger: 'cli',
    dryRun: command === 'plan',
  });
  for (const report of reports) {
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${renderPassReport(report)}\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`${error.name}: ${error.message}\n`);
    process.exitCode = 1;
  },
);
