#!/usr/bin/env node
/**
 * Operator CLI: `validate`, `plan`, `apply`, `status`, `drain <instance-id>`, `undrain <instance-id>`.
 * Runs through tsx (`npx nlb-nodeport-sync`, `npm run cli --`, or `node --import tsx bin/cli.ts`); the
 * program is lambdas/cli/program.ts, the reference docs/cli.md. The report goes to stdout, logs and errors
 * to stderr; the exit code is in docs/cli.md.
 */
import { runCli } from '../lambdas/cli/program';

// `status | head`: the reader went away; stop quietly, as other command-line tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // runCli never throws; this is the last line of defence, still one line.
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
