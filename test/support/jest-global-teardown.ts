/**
 * Jest globalTeardown of the integration project: stops, by PID, the moto servers of the jest workers (see
 * useMoto() in moto-test-env.ts), then removes the PID directory jest-global-setup.ts created, with the
 * servers' output in it.
 */
import { stopRecordedMotoServers } from './moto-server';
import { MOTO_PID_DIR_ENV } from './moto-test-env';

/** Stops the recorded moto servers and removes the PID directory. */
export default async function globalTeardown(): Promise<void> {
  const directory = process.env[MOTO_PID_DIR_ENV];
  if (directory === undefined || directory === '') return;
  delete process.env[MOTO_PID_DIR_ENV];
  const stopped = await stopRecordedMotoServers(directory);
  process.stderr.write(`[moto] stopped ${stopped.length} moto server(s) by PID ${stopped.join(', ')}\n`);
}
