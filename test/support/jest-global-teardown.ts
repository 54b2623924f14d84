/**
 * Jest globalTeardown of the integration project: stops, by PID, any moto server a test file left running
 * (its worker died before afterAll), then removes the PID directory jest-global-setup.ts created.
 */
import { stopRecordedMotoServers } from './moto-server';
import { MOTO_PID_DIR_ENV } from './moto-test-env';

/** Stops stray moto servers and removes the PID directory. */
export default async function globalTeardown(): Promise<void> {
  const directory = process.env[MOTO_PID_DIR_ENV];
  if (directory === undefined || directory === '') return;
  delete process.env[MOTO_PID_DIR_ENV];
  const stray = await stopRecordedMotoServers(directory);
  if (stray.length > 0) {
    process.stderr.write(
      `[moto] stopped ${stray.length} moto server(s) left running: PID ${stray.join(', ')}\n`,
    );
  }
}
