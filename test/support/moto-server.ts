import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A running moto server owned by the caller. */
export interface MotoServer {
  /** Base URL of the server, e.g. `http://127.0.0.1:40123`. */
  readonly endpoint: string;
  /** Moto's version as reported by its Python package, or `unknown`. */
  readonly version: string;
  /** The command line that started the server. */
  readonly command: readonly string[];
  /** Process id of the server, which also leads its own process group. */
  readonly pid: number;
  /** Kills the server and resolves once the process has exited. */
  stop(): Promise<void>;
  /** Clears all of moto's state (`POST /moto-api/reset`). */
  reset(): Promise<void>;
}

/** Options for {@link startMotoServer}. */
export interface StartMotoServerOptions {
  /** Command that starts moto, split on spaces. @default process.env.MOTO_CMD ?? 'moto_server' */
  readonly command?: string;
  /** How long to wait for moto to answer. @default 20000 */
  readonly startTimeoutMs?: number;
  /**
   * A directory where the server's PID is recorded (a file named after it) while it runs, so that
   * {@link stopRecordedMotoServers} can still stop it if its owner dies without calling `stop()`.
   */
  readonly pidDirectory?: string;
  /**
   * A file that receives moto's output (appended) instead of pipes read by this process. The server then
   * holds nothing of this process: it may outlive it (a jest worker), so stop it by PID. Without it, moto's
   * output is read through pipes and the server must be stopped before this process exits.
   */
  readonly outputFile?: string;
}

/** Raised when moto cannot be started or does not answer in time. */
export class MotoStartError extends Error {
  /** Creates the error with a message that already contains moto's stderr. */
  constructor(message: string) {
    super(message);
    this.name = 'MotoStartError';
  }
}

const HOST = '127.0.0.1';
const STDERR_KEEP_CHARS = 8_000;
const POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 5_000;

/** Finds a TCP port that is free on 127.0.0.1 by binding port 0 and releasing it. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a probe socket'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * Starts moto on 127.0.0.1 at a free port and waits until `GET /moto-api/` answers.
 * @example
 * const moto = await startMotoServer();
 * const ec2 = new EC2Client({ endpoint: moto.endpoint });
 * await moto.stop();
 */
export async function startMotoServer(options: StartMotoServerOptions = {}): Promise<MotoServer> {
  const command = (options.command ?? process.env.MOTO_CMD ?? 'moto_server')
    .split(' ')
    .filter((s) => s !== '');
  const [executable, ...baseArgs] = command;
  if (executable === undefined) {
    throw new MotoStartError('MOTO_CMD is empty; run `bash scripts/ensure-moto.sh` to find a moto command');
  }
  const port = await findFreePort();
  const endpoint = `http://${HOST}:${port}`;
  const args = [...baseArgs, '-H', HOST, '-p', String(port)];

  // Own process group so stop() also reaches a wrapper script's children (pyenv shims, venv launchers).
  const { outputFile } = options;
  const outputFd = outputFile === undefined ? undefined : openSync(outputFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(executable, args, {
      stdio: ['ignore', outputFd ?? 'pipe', outputFd ?? 'pipe'],
      detached: true,
    });
  } finally {
    if (outputFd !== undefined) closeSync(outputFd);
  }
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  let piped = '';
  const keep = (chunk: Buffer): void => {
    piped = (piped + chunk.toString('utf8')).slice(-STDERR_KEEP_CHARS);
  };
  // moto logs every request; both pipes must be drained or the server blocks once they fill up.
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // With its output in a file, nothing ties the server to this process's event loop.
  if (outputFile !== undefined) child.unref();
  const pidFile =
    options.pidDirectory === undefined || child.pid === undefined
      ? undefined
      : join(options.pidDirectory, String(child.pid));
  const record: PidRecord = { command: [executable, ...args], port };
  const recorded =
    pidFile === undefined ? Promise.resolve() : writeFile(pidFile, `${JSON.stringify(record)}\n`);
  // The PID file goes once the process is gone (after it was written, even if moto exits at once).
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
  }).then(async () => {
    await recorded.catch(() => undefined);
    if (pidFile !== undefined) await rm(pidFile, { force: true });
  });
  try {
    await recorded;
  } catch (error) {
    await killAndWait(child, exited);
    throw error;
  }

  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  const commandLine = [executable, ...args].join(' ');
  const failure = async (what: string): Promise<MotoStartError> => {
    const text = (outputFile === undefined ? piped : await tail(outputFile)).trim();
    const output = text === '' ? '' : `; moto's output:\n${text}`;
    return new MotoStartError(`moto (${commandLine}) ${what}${output}`);
  };
  for (;;) {
    if (spawnError !== undefined) {
      throw await failure(
        `could not be started: ${spawnError.message}. Install moto with \`pip install "moto[server]"\` ` +
          'or set MOTO_CMD (see scripts/ensure-moto.sh)',
      );
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      throw await failure(`exited with ${child.exitCode ?? child.signalCode} before answering`);
    }
    if (await motoAnswers(endpoint)) break;
    if (Date.now() > deadline) {
      await killAndWait(child, exited);
      throw await failure(`did not answer on ${endpoint}/moto-api/ within ${timeoutMs} ms`);
    }
    await sleep(POLL_INTERVAL_MS);
  }

  const pid = child.pid;
  if (pid === undefined) throw await failure('has no process id');
  const version = await motoVersion(command);
  return {
    endpoint,
    version,
    command: [executable, ...args],
    pid,
    stop: () => killAndWait(child, exited),
    reset: async () => {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`moto reset failed with HTTP ${response.status}`);
    },
  };
}

/** What a PID file of {@link StartMotoServerOptions.pidDirectory} holds. */
interface PidRecord {
  readonly command: readonly string[];
  readonly port: number;
}

/**
 * Stops, by PID, every moto server still recorded in `pidDirectory` (its owner died, or left it running on
 * purpose), then removes the directory and everything in it.
 * @returns the PIDs that were stopped.
 * @example
 * const stopped = await stopRecordedMotoServers(dir); // in a jest globalTeardown
 */
export async function stopRecordedMotoServers(pidDirectory: string): Promise<number[]> {
  const stopped: number[] = [];
  let names: string[] = [];
  try {
    names = await readdir(pidDirectory);
  } catch {
    return stopped;
  }
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isSafeInteger(pid) || pid <= 1) continue;
    const record = JSON.parse(await readFile(join(pidDirectory, name), 'utf8')) as PidRecord;
    if (await stopMotoServerByPid(pid, record.port)) stopped.push(pid);
  }
  await rm(pidDirectory, { recursive: true, force: true });
  return stopped;
}

/**
 * Stops the moto server with this PID, started on `port` by {@link startMotoServer}, and its process group:
 * SIGTERM, then SIGKILL after a grace period. On Linux the PID is only signalled if `/proc` shows it still
 * runs moto on that port, so a recycled PID is never hit.
 * @returns whether there was such a server to stop.
 */
export async function stopMotoServerByPid(pid: number, port: number): Promise<boolean> {
  if (!(await stillMoto(pid, port))) return false;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (isRunning(pid) && Date.now() < deadline) await sleep(POLL_INTERVAL_MS);
  if (isRunning(pid)) signalGroup(pid, 'SIGKILL');
  return true;
}

async function stillMoto(pid: number, port: number): Promise<boolean> {
  if (!isRunning(pid)) return false;
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    const portAt = args.indexOf('-p') + 1;
    return portAt > 0 && args[portAt] === String(port);
  } catch {
    return false;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether a moto server answers `GET /moto-api/` at `endpoint` within two seconds. */
export async function motoAnswers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

async function killAndWait(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const pid = child.pid;
  signalGroup(pid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Asks the Python that runs moto for its version; `python3 -m moto.server` names that Python directly. */
async function motoVersion(command: readonly string[]): Promise<string> {
  const python = command[1] === '-m' && command[0] !== undefined ? command[0] : 'python3';
  return new Promise((resolve) => {
    execFile(
      python,
      ['-c', 'import importlib.metadata as m; print(m.version("moto"))'],
      { timeout: 10_000 },
      (error, stdout) => resolve(error === null ? stdout.trim() : 'unknown'),
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The last characters of a file, or nothing if it cannot be read. */
async function tail(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).slice(-STDERR_KEEP_CHARS);
  } catch {
    return '';
  }
}
