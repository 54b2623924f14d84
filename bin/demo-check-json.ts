/**
 * `npm test`'s check of `npx tsx bin/demo.ts --json`: stdout must be exactly one CLI `status` document that
 * validates against the CLI's schema (lambdas/cli/document.ts) and shows the cluster in sync. Reads the
 * document on stdin; prints one line; exits 1 otherwise. Used only by scripts/test.sh.
 */
import { readFileSync } from 'node:fs';
import { cliDocumentSchema } from '../lambdas/cli/document';

function check(text: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`stdout is not one JSON document: ${(error as Error).message}`);
  }
  const parsed = cliDocumentSchema.safeParse(value);
  if (!parsed.success)
    throw new Error(
      `the document does not match the schema: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  const doc = parsed.data;
  if (doc.command !== 'status') throw new Error(`expected a status document, got ${doc.command}`);
  const groups = doc.clusters.flatMap((c) => c.groups);
  const behind = groups.filter((g) => !g.inSync).map((g) => g.mapping);
  if (!doc.ok || behind.length > 0)
    throw new Error(`not in sync: ok=${doc.ok}, groups behind: ${behind.join(', ')}`);
  return `status document valid (schemaVersion ${doc.schemaVersion}): ${doc.clusters.length} cluster(s), ${groups.length} group(s) in sync`;
}

try {
  process.stdout.write(`${check(readFileSync(0, 'utf8'))}\n`);
} catch (error) {
  process.stderr.write(`demo --json: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
