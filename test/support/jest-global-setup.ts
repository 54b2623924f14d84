/**
 * Jest globalSetup of the integration project. It starts no server: every test file starts its own moto and
 * lifecycle shim through `useMoto()` (moto-test-env.ts), so files share no state and may run in parallel
 * workers. It only creates the directory where those servers record their PIDs (its path goes to the
 * workers through the environment), so that jest-global-teardown.ts can stop, by PID, any server whose
 * worker died before its afterAll.
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
    `\n[moto] one \`${command}\` per test file, on 127.0.0.1, each behind a lifecycle shim\n`,
  );
}
