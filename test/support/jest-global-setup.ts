/**
 * Jest globalSetup of the integration project: starts one moto and one lifecycle shim for the whole run and
 * hands their endpoints to the test files through process.env (workers inherit it). Test files share this
 * moto, so the integration project runs with `--runInBand` (see scripts/test.sh).
 */
import { type LifecycleShim, startLifecycleShim } from './lifecycle-shim';
import { type MotoServer, startMotoServer } from './moto-server';

/** Where the running servers are kept for jest-global-teardown.ts (same process as globalSetup). */
export const HARNESS_GLOBAL_KEY = '__nlbNodeportSyncMotoHarness';

/** The servers started by globalSetup. */
export interface MotoHarness {
  /** The moto server. */
  readonly moto: MotoServer;
  /** The lifecycle shim in front of it. */
  readonly shim: LifecycleShim;
}

/** Starts moto and the shim, and points the AWS SDK at them through the environment. */
export default async function globalSetup(): Promise<void> {
  const moto = await startMotoServer();
  let shim: LifecycleShim;
  try {
    shim = await startLifecycleShim(moto.endpoint);
  } catch (error) {
    await moto.stop();
    throw error;
  }
  (globalThis as Record<string, unknown>)[HARNESS_GLOBAL_KEY] = { moto, shim } satisfies MotoHarness;

  process.env.MOTO_ENDPOINT = moto.endpoint;
  process.env.AWS_ENDPOINT_URL = shim.endpoint;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  // A developer's profile, session token or instance metadata must never leak into (or out of) the tests.
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';

  const name = moto.command[0]?.split('/').pop() ?? 'moto';
  process.stderr.write(
    `\n[moto] ${name} ${moto.version} listening on ${moto.endpoint} (lifecycle shim on ${shim.endpoint})\n`,
  );
}
