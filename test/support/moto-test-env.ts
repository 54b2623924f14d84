/** Helpers for integration tests that run against the moto started by jest-global-setup.ts. */
import { type LifecycleActionRecord, RECORDED_ACTIONS_PATH } from './lifecycle-shim';
import {
  CLOCK_PATH,
  type ClockReading,
  type ModelTargetStatus,
  TARGET_HEALTH_PATH,
  TARGET_MODEL_PATH,
  type TargetHealthOverride,
  type TargetModelStatus,
} from './target-model';

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

/** Options of {@link enableTargetModel}. */
export interface TargetModelOptions {
  /**
   * Seconds from registration to `healthy`. Absent: each group's `HealthCheckIntervalSeconds` x
   * `HealthyThresholdCount` (150 s for moto's and AWS's TCP defaults).
   */
  readonly healthyAfterSeconds?: number;
  /** Sets the model's clock (epoch milliseconds), e.g. to the product's injected clock. */
  readonly nowMs?: number;
}

/** Calls one of the shim's target-model control endpoints: GET without a body, POST with a JSON one. */
async function shimControl<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(
    `${motoEndpoint()}${path}`,
    body === undefined
      ? {}
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );
  const text = await response.text();
  if (!response.ok) throw new Error(`shim ${path} answered HTTP ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/**
 * Switches on the shim's target-state model for this test (resetMoto() switches it off): targets registered
 * from now on are `initial` until the model's clock passes their health check time, deregistered ones
 * `draining` for the group's deregistration delay. See test/support/README.md.
 * @example
 * await enableTargetModel({ healthyAfterSeconds: 30 });
 */
export function enableTargetModel(options: TargetModelOptions = {}): Promise<TargetModelStatus> {
  return shimControl(TARGET_MODEL_PATH, { enabled: true, ...options });
}

/** Switches the target-state model off and forgets its targets and clock, without resetting moto. */
export function disableTargetModel(): Promise<TargetModelStatus> {
  return shimControl(TARGET_MODEL_PATH, { enabled: false });
}

/** The target-state model's settings, clock and tracked targets. */
export function targetModelStatus(): Promise<TargetModelStatus> {
  return shimControl(TARGET_MODEL_PATH);
}

/** Moves the model's virtual clock forward by `seconds`; nothing else moves it. */
export function advanceClock(seconds: number): Promise<ClockReading> {
  return shimControl(CLOCK_PATH, { advanceSeconds: seconds });
}

/** Sets the model's virtual clock to `nowMs` (epoch milliseconds; it may not go back). */
export function setClock(nowMs: number): Promise<ClockReading> {
  return shimControl(CLOCK_PATH, { nowMs });
}

/** Reads the model's virtual clock. */
export function readClock(): Promise<ClockReading> {
  return shimControl(CLOCK_PATH);
}

/**
 * Forces a target registered while the model was on to `unhealthy` (it stays so until set back) or
 * `healthy` (which also ends `initial` at once).
 */
export function setTargetHealth(override: TargetHealthOverride): Promise<ModelTargetStatus> {
  return shimControl(TARGET_HEALTH_PATH, override);
}
