import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { createSyncApp } from '../../../infra/app';
import { FIXTURES } from '../../infra/synth-helpers';

/*
 * docs/runbook.md has one entry per alarm kind the stack creates. The stack is synthesized from the infra
 * fixtures (an imported and a created load balancer, clusters with and without ASGs); every alarm's kind
 * must have an entry, and every entry an alarm, so a renamed, added or removed alarm fails here.
 */

const SYNTH_TIMEOUT_MS = 120_000;
const RUNBOOK = join(__dirname, '..', '..', '..', 'docs', 'runbook.md');

/** The alarms' construct ids, per fixture, with the fixture's cluster names. */
function alarmsOf(configPath: string, outdir: string): { ids: string[]; clusters: string[] } {
  const { stack } = createSyncApp({
    appProps: { outdir, context: { config: configPath, 'aws:cdk:bundling-stacks': [] } },
  });
  // Synthesizing runs the validations (cdk-nag) as `cdk synth` does; the alarms are read from the tree.
  Template.fromStack(stack);
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { clusters: { name: string }[] };
  return {
    ids: stack.node.findAll().flatMap((c) => (c instanceof Alarm ? [c.node.id] : [])),
    clusters: config.clusters.map((c) => c.name),
  };
}

/** `prod-NoHealthyTarget-2` -> `NoHealthyTarget`; `PassFunctionErrors` stays. */
function kindOf(id: string, clusters: readonly string[]): string {
  const cluster = clusters.find((name) => id.startsWith(`${name}-`));
  const rest = cluster === undefined ? id : id.slice(cluster.length + 1);
  return rest.replace(/-\d+$/, '');
}

describe('docs/runbook.md', () => {
  let outdir: string;
  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'nlb-sync-runbook-'));
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it(
    'has an entry for every alarm the stack creates, and no entry without an alarm',
    () => {
      // Prepare
      const text = readFileSync(RUNBOOK, 'utf8');
      const entries = [...text.matchAll(/^### `([A-Za-z]+)`$/gm)].map((m) => m[1]);
      // Act
      const kinds = new Set<string>();
      for (const [name, path] of [
        ['import', FIXTURES.import],
        ['create', FIXTURES.create],
      ] as const) {
        const { ids, clusters } = alarmsOf(path, join(outdir, name));
        for (const id of ids) kinds.add(kindOf(id, clusters));
      }
      // Assess
      expect(kinds.size).toBeGreaterThan(10);
      expect([...kinds].filter((kind) => !entries.includes(kind)).sort()).toEqual([]);
      expect(entries.filter((entry) => entry !== undefined && !kinds.has(entry)).sort()).toEqual([]);
      for (const entry of entries) {
        const body = text.split(`### \`${entry}\``)[1]?.split('\n### ')[0] ?? '';
        expect({
          entry,
          means: body.includes('**Means:**'),
          look: body.includes('**Look at:**'),
          act: body.includes('**Do:**'),
        }).toEqual({ entry, means: true, look: true, act: true });
      }
    },
    SYNTH_TIMEOUT_MS,
  );
});
