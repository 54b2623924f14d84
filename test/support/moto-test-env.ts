/**
 * The integration tests' moto harness. {@link useMoto} (called for every integration test file by
 * test/integration/setup-moto.ts) gives the file its own lifecycle shim, in front of its jest worker's moto,
 * and resets both before each test; {@link isolated} runs a test or hook body inside that test's fence;
 * {@link motoEndpoint} and the helpers below reach the file's servers.
 * See README.md beside this file for how tests and files are isolated, and what it costs.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFile, writeFile } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import { join } from 'node:path';
import {
  type LifecycleActionRecord,
  type LifecycleShim,
  RECORDED_ACTIONS_PATH,
  startLifecycleShim,
} from './lifecycle-shim';
import { motoAnswers, startMotoServer, stopMotoServerByPid } from './moto-server';
import {
  CLOCK_PATH,
  type ClockReading,
  type ModelTargetStatus,
  TARGET_HEALTH_PATH,
  TARGET_MODEL_PATH,
  type TargetHealthOverride,
  type TargetModelStatus,
} from './target-model';

/**
 * Timeout of one moto-backed test: test/integration/setup-moto.ts makes it the integration project's default
 * (`jest.setTimeout`). Tests that take up to ~5 s alone took several times that on a busy 2-core CI machine,
 * where jest's default of 5 s failed tests that were merely slow; a real hang still fails, only later.
 */
export const MOTO_TEST_TIMEOUT_MS = 120_000;

/**
 * Timeout of the hooks that start and stop moto, reset it, or build a world in it: as generous as a test,
 * for the same reason. Pass it to every beforeAll/beforeEach/afterEach/afterAll that talks to moto.
 */
export const MOTO_HOOK_TIMEOUT_MS = 120_000;

/** Environment variable naming the directory jest-global-setup.ts made for the motos' PIDs and output. */
export const MOTO_PID_DIR_ENV = 'NLB_SYNC_MOTO_PID_DIR';

/** Region of the SDK clients; moto-world.ts builds its worlds in the same one. */
const REGION = 'us-east-1';
/** How long moto may take to answer after its start (importing moto is slow on a loaded machine). */
const MOTO_START_TIMEOUT_MS = 60_000;
/** How long the next test waits for the calls a finished test still has on the wire before resetting moto. */
const DRAIN_TIMEOUT_MS = 30_000;
const DRAIN_POLL_MS = 10;
/** How often a file asks its worker's moto to answer (2 s each) before replacing it. */
const WORKER_MOTO_CHECKS = 3;
/** Published by node:http for every client request, synchronously, in the async context of its caller. */
const HTTP_REQUEST_START = 'http.client.request.start';

/** Raised when a test needs moto but no {@link useMoto} started one for its file. */
export class MotoEnvironmentError extends Error {
  /** Creates the error naming the missing variable. */
  constructor(variable: string) {
    super(
      `${variable} is not set: run integration tests through \`npx jest --selectProjects integration\`, ` +
        'whose setup file (test/integration/setup-moto.ts) gives each test file a moto behind a lifecycle shim',
    );
    this.name = 'MotoEnvironmentError';
  }
}

/**
 * Raised in place of a call that a test makes after it has finished, typically because it timed out and its
 * promise chain kept running. The call never reaches moto, so it cannot change the next test's state.
 */
export class StaleTestCallError extends Error {
  /** Creates the error naming the finished test and what it tried to do. */
  constructor(testName: string, what: string) {
    super(
      `refused ${what}: the test "${testName}" has already finished (it timed out or left work running), ` +
        'and only the running test may reach moto',
    );
    this.name = 'StaleTestCallError';
  }
}

/** One test's fence: open while the test (with its beforeEach/afterEach hooks) runs. */
interface TestSlot {
  readonly testName: string;
  open: boolean;
  /** HTTP requests the test has sent that have not completed. */
  readonly inFlight: Set<ClientRequest>;
}

/** The moto a test file uses; `stop` is set when the file started it for itself and must stop it. */
interface FileMoto {
  readonly endpoint: string;
  readonly stop?: () => Promise<void>;
}

/** The servers {@link useMoto} started or found for this file. */
interface FileHarness {
  readonly moto: FileMoto;
  readonly shim: LifecycleShim;
}

/** What `<PID directory>/worker-<JEST_WORKER_ID>.json` says about the moto of a jest worker. */
interface WorkerMotoRecord {
  readonly pid: number;
  readonly port: number;
  readonly endpoint: string;
}

// jest gives each test file its own module registry, so this state is per file.
const slots = new AsyncLocalStorage<TestSlot>();
let currentSlot: TestSlot | undefined;

/**
 * Gives the calling test file its own lifecycle shim in front of a moto, and isolates its tests from one
 * another and from other files. test/integration/setup-moto.ts calls it for every integration test file
 * (jest's setupFilesAfterEnv), so test files do not; its hooks run before the file's own.
 *
 * - beforeAll starts the shim, in front of this jest worker's moto (started by the worker's first file, see
 *   motoForThisFile below), both on 127.0.0.1, and points the SDK at them through the environment
 *   (`AWS_ENDPOINT_URL` = the shim, `MOTO_ENDPOINT` = moto, region and test credentials), before any test
 *   creates a client; the product's adapters pick that up as they would in Lambda.
 * - beforeEach closes the previous test's fence, waits for its requests still on the wire, resets moto
 *   (and the shim's state), then opens a fence for the next test. Tests and hooks that wrap their body in
 *   {@link isolated} have whatever they leave running refused once they are over.
 * - afterAll waits for the last test's open requests, stops the shim (so nothing of this file reaches moto
 *   any more) and removes the endpoints from the environment. The worker's moto is stopped by PID in
 *   jest-global-teardown.ts.
 * @example
 * // test/integration/setup-moto.ts
 * useMoto();
 */
export function useMoto(): void {
  let harness: Promise<FileHarness> | undefined;
  beforeAll(async () => {
    harness = startFileHarness();
    await harness;
  }, MOTO_HOOK_TIMEOUT_MS);
  beforeEach(async () => {
    await closeCurrentSlot();
    await resetMoto();
    currentSlot = {
      testName: expect.getState().currentTestName ?? '(unnamed test)',
      open: true,
      inFlight: new Set(),
    };
  }, MOTO_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await closeCurrentSlot();
    // If beforeAll timed out, its start may still be under way: wait for it, so nothing is left running.
    const started = await harness?.catch(() => undefined);
    if (started !== undefined) await stopFileHarness(started);
  }, MOTO_HOOK_TIMEOUT_MS);
}

/**
 * Wraps a test or beforeEach/afterEach body so that everything it starts (SDK calls, helper fetches) is
 * tagged as the current test's. Once the test has finished, whatever of it is still running is refused
 * with {@link StaleTestCallError} before it reaches moto.
 * @example
 * it('registers the nodes', isolated(async () => { await reconcile(scheduledEvent()); }));
 */
export function isolated(body: () => unknown): () => Promise<void> {
  return async () => {
    const slot = currentSlot;
    if (slot === undefined) {
      throw new Error(
        'isolated() wraps a test or a beforeEach/afterEach hook of a file that calls useMoto()',
      );
    }
    await slots.run(slot, body);
  };
}

/** Endpoint to give SDK clients: the lifecycle shim, which passes everything else through to moto. */
export function motoEndpoint(): string {
  refuseIfStale('motoEndpoint()');
  return required('AWS_ENDPOINT_URL');
}

/** moto's own endpoint, bypassing the lifecycle shim. */
export function rawMotoEndpoint(): string {
  refuseIfStale('rawMotoEndpoint()');
  return required('MOTO_ENDPOINT');
}

/** Clears moto's state and the shim's (the reset goes through the shim); the harness does it before each test. */
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

async function startFileHarness(): Promise<FileHarness> {
  process.env.AWS_REGION = REGION;
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  // A developer's profile, session token or instance metadata must never leak into (or out of) the tests.
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';

  const moto = await motoForThisFile();
  let shim: LifecycleShim;
  try {
    shim = await startLifecycleShim(moto.endpoint);
  } catch (error) {
    await moto.stop?.();
    throw error;
  }
  process.env.MOTO_ENDPOINT = moto.endpoint;
  process.env.AWS_ENDPOINT_URL = shim.endpoint;
  subscribe(HTTP_REQUEST_START, fenceRequest);
  return { moto, shim };
}

async function stopFileHarness({ moto, shim }: FileHarness): Promise<void> {
  unsubscribe(HTTP_REQUEST_START, fenceRequest);
  if (process.env.AWS_ENDPOINT_URL === shim.endpoint) delete process.env.AWS_ENDPOINT_URL;
  if (process.env.MOTO_ENDPOINT === moto.endpoint) delete process.env.MOTO_ENDPOINT;
  try {
    await shim.stop();
  } finally {
    await moto.stop?.();
  }
}

/**
 * The moto of this jest worker: started by the first file the worker runs, reused by the files it runs after
 * that (one at a time), and stopped by PID in jest-global-teardown.ts. A moto process costs ~5 s of CPU
 * before its first world is built (starting, then importing EC2, Auto Scaling and ELBv2), which one per file
 * spent again and again; what isolates files is their own shim and the reset and fence before each test.
 * A worker moto that does not answer is replaced. Without the PID directory (no globalSetup), the file
 * starts a moto of its own and stops it in afterAll.
 */
async function motoForThisFile(): Promise<FileMoto> {
  const pidDirectory = process.env[MOTO_PID_DIR_ENV];
  if (pidDirectory === undefined || pidDirectory === '') {
    const own = await startMotoServer({ startTimeoutMs: MOTO_START_TIMEOUT_MS });
    return { endpoint: own.endpoint, stop: () => own.stop() };
  }
  const worker = process.env.JEST_WORKER_ID ?? '1';
  const recordFile = join(pidDirectory, `worker-${worker}.json`);
  const previous = await readWorkerRecord(recordFile);
  if (previous !== undefined) {
    for (let attempt = 0; attempt < WORKER_MOTO_CHECKS; attempt += 1) {
      if (await motoAnswers(previous.endpoint)) return { endpoint: previous.endpoint };
    }
    await stopMotoServerByPid(previous.pid, previous.port);
  }
  const moto = await startMotoServer({
    startTimeoutMs: MOTO_START_TIMEOUT_MS,
    pidDirectory,
    outputFile: join(pidDirectory, `worker-${worker}.log`),
  });
  const record: WorkerMotoRecord = {
    pid: moto.pid,
    port: Number(new URL(moto.endpoint).port),
    endpoint: moto.endpoint,
  };
  await writeFile(recordFile, `${JSON.stringify(record)}\n`);
  return { endpoint: moto.endpoint };
}

async function readWorkerRecord(file: string): Promise<WorkerMotoRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as WorkerMotoRecord;
  } catch {
    return undefined;
  }
}

/**
 * Sees every node:http client request of this process as it is created, in its caller's async context: the
 * SDK clients' (the product's own included) and none of the shim's (it runs outside any test's context).
 * A request of a finished test is destroyed before a byte is sent; one of the running test is tracked until
 * it completes, so the next test can wait for it before resetting moto.
 */
function fenceRequest(message: unknown): void {
  const slot = slots.getStore();
  if (slot === undefined) return;
  const { request } = message as { request: ClientRequest };
  if (!slot.open) {
    request.destroy(
      new StaleTestCallError(slot.testName, `${request.method} ${request.host}${request.path}`),
    );
    return;
  }
  slot.inFlight.add(request);
  request.once('close', () => slot.inFlight.delete(request));
}

/** Closes the current test's fence and waits (bounded) for its requests still on the wire to complete. */
async function closeCurrentSlot(): Promise<void> {
  const slot = currentSlot;
  currentSlot = undefined;
  if (slot === undefined) return;
  slot.open = false;
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (slot.inFlight.size > 0 && Date.now() < deadline) await sleep(DRAIN_POLL_MS);
  if (slot.inFlight.size === 0) return;
  // moto may still act on these after the reset; say so, since a later failure could come from them.
  process.stderr.write(
    `[moto] ${slot.inFlight.size} request(s) of the finished test "${slot.testName}" still open after ` +
      `${DRAIN_TIMEOUT_MS} ms; destroying them\n`,
  );
  for (const request of slot.inFlight)
    request.destroy(new StaleTestCallError(slot.testName, 'an open request'));
}

function refuseIfStale(what: string): void {
  const slot = slots.getStore();
  if (slot !== undefined && !slot.open) throw new StaleTestCallError(slot.testName, what);
}

function required(variable: string): string {
  const value = process.env[variable];
  if (value === undefined || value === '') throw new MotoEnvironmentError(variable);
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
