/**
 * Jest globalSetup of the integration project. It starts no server: each jest worker starts its own moto
 * and each test file its own lifecycle shim, through `useMoto()` (moto-test-env.ts), so files may run in
 * parallel workers. It only creates the directory where those motos record their PIDs and output (its path
 * goes to the workers through the environment), so that jest-global-teardown.ts can stop them by PID.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MOTO_PID_DIR_ENV } from './moto-test-env';

/** Creates the PID directory and names it in the environment the test workers inherit. */
export default async function globalSetup(): Promise<void> {
  process.env[MOTO_PID_DIR_ENV] = await mkdtemp(join(tmpdir(), 'nlb-nodeport-sync-moto-pids-'));
  const command = process.env.MOTO_CMD ?? 'moto_server';
  process.stderr.write(
    `\n[moto] one \`${command}\` per jest worker, one lifecycle shim per test file, on 127.0.0.1\n`,
  );
}
