/** Helpers for integration tests that run against the moto started by jest-global-setup.ts. */
import { type LifecycleActionRecord, RECORDED_ACTIONS_PATH } from './lifecycle-shim';

/** Raised when a test needs moto but the integration globalSetup did not run. */
export class MotoEnvironmentError extends Error {
  /** Creates the error naming the missing variable. */
  constructor(variable: string) {
    super(
      `${variable} is not set: run integration tests through \`npx jest --selectProjects integration\`, ` +
        'whose globalSetup starts moto',
    );
    this.name = 'MotoEnvironmentError';
  }
}

function required(variable: string): string {
  const value = process.env[variable];
  if (value === undefined || value === '') throw new MotoEnvironmentError(variable);
  return value;
}

/** Endpoint to give SDK clients: the lifecycle shim, which passes everything else through to moto. */
export function motoEndpoint(): string {
  return required('AWS_ENDPOINT_URL');
}

/** moto's own endpoint, bypassing the lifecycle shim. */
export function rawMotoEndpoint(): string {
  return required('MOTO_ENDPOINT');
}

/** Clears moto's state and the shim's recorded lifecycle calls (the reset goes through the shim). */
export async function resetMoto(): Promise<void> {
  const response = await fetch(`${motoEndpoint()}/moto-api/reset`, { method: 'POST' });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`moto reset failed with HTTP ${response.status}`);
}

/** The CompleteLifecycleAction / RecordLifecycleActionHeartbeat calls the shim answered since the last reset. */
export async function recordedLifecycleActions(): Promise<LifecycleActionRecord[]> {
  const response = await fetch(`${motoEndpoint()}${RECORDED_ACTIONS_PATH}`);
  if (!response.ok) throw new Error(`reading recorded lifecycle actions failed with HTTP ${response.status}`);
  return (await response.json()) as LifecycleActionRecord[];
}
