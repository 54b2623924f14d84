/** Jest globalTeardown of the integration project: stops what jest-global-setup.ts started. */
import { HARNESS_GLOBAL_KEY, type MotoHarness } from './jest-global-setup';

/** Stops the lifecycle shim, then moto. */
export default async function globalTeardown(): Promise<void> {
  const store = globalThis as Record<string, unknown>;
  const harness = store[HARNESS_GLOBAL_KEY] as MotoHarness | undefined;
  if (harness === undefined) return;
  delete store[HARNESS_GLOBAL_KEY];
  try {
    await harness.shim.stop();
  } finally {
    await harness.moto.stop();
  }
}
