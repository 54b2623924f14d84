/**
 * A latency-adding, counting HTTP proxy for the bench, on 127.0.0.1 only.
 *
 * Every request waits `latencyMs` before it is forwarded, so each AWS call the product makes costs at least
 * one network round trip, as against a regional endpoint. Every request is recorded with its action
 * (query-protocol `Action`, `X-Amz-Target`, or the Route 53 REST route), its HTTP status and its timing.
 *
 * In *rounds* mode (bench/rounds.ts drives it) the proxy forwards a request at once and holds its answer until
 * told to release it: the bench releases every held answer together once the product has sent every call it
 * can send without them, so that calls answer in rounds whatever moto's time for each (see bench/rounds.ts).
 * Requests carry the bench's attempt id in the {@link ATTEMPT_HEADER} header; the proxy reports each
 * arrival and each answer from moto as an event.
 *
 * {@link spawnLatencyProxy} runs the proxy, with the lifecycle shim behind it, in a child process: the
 * proxy's timers are then not held up by the product's CPU work, and the product's CPU figures
 * (process.cpuUsage of the bench process) do not include the proxy's or the shim's.
 *
 * Run directly (`tsx bench/latency-proxy.ts <moto endpoint> <latency ms>`) it starts the shim in front
 * of moto and the proxy in front of the shim, prints `{"proxy": url, "shim": url}` on one line and
 * serves until SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { startLifecycleShim } from '../test/support/lifecycle-shim';

/** One request the proxy forwarded. */
export interface ProxyRecord {
  /** The API action, e.g. `DescribeInstances`, `ChangeResourceRecordSets`. */
  readonly action: string;
  /** HTTP status of the answer (0 while none came, or when the upstream could not be reached). */
  readonly status: number;
  /** When the request arrived and when its answer was sent (NaN: not yet), ms since the proxy started. */
  readonly startMs: number;
  readonly endMs: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Paths the proxy answers itself; the product never calls them. */
export const PROXY_CONTROL = { log: '/__bench/log', reset: '/__bench/reset' } as const;

/** The header carrying the bench's id of an HTTP attempt (bench/call-counter.ts sets it). */
export const ATTEMPT_HEADER = 'x-bench-attempt';

/** What the proxy reports: a request arrived, or moto's answer to it is in (held, in rounds mode). */
export type ProxyEvent =
  | { readonly type: 'arrived'; readonly id: string }
  | { readonly type: 'ready'; readonly id: string }
  | { readonly type: 'rounds'; readonly on: boolean };

/** What the bench tells the proxy process. */
type ProxyCommand =
  | { readonly type: 'rounds'; readonly on: boolean }
  | { readonly type: 'release'; readonly ids: readonly string[] };

/** A running proxy in this process. */
export interface LatencyProxy {
  readonly endpoint: string;
  /** Requests forwarded since the start or the last reset. */
  records(): ProxyRecord[];
  reset(): void;
  /** Switches rounds mode on (answers held until released) or off (answers after the latency). */
  setRounds(on: boolean): void;
  /** Sends the held answers of these attempts. */
  release(ids: readonly string[]): void;
  stop(): Promise<void>;
}

interface UpstreamAnswer {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

/**
 * Starts the proxy on 127.0.0.1 at a free port, in front of `upstream`.
 * @param latencyMs - added before every request is forwarded (not in rounds mode)
 * @param onEvent - told of every arrival and, in rounds mode, of every answer held
 */
export async function startLatencyProxy(
  upstream: string,
  latencyMs: number,
  onEvent: (event: ProxyEvent) => void = () => {},
): Promise<LatencyProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const records: Mutable<ProxyRecord>[] = [];
  const t0 = performance.now();
  let rounds = false;
  /** Held answers (rounds mode), by attempt id; a release of an id not yet answered waits for the answer. */
  const held = new Map<
    string,
    { answer?: UpstreamAnswer; send?: (answer: UpstreamAnswer) => void; released: boolean }
  >();
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`latency proxy: ${error instanceof Error ? error.message : String(error)}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startMs = performance.now() - t0;
    const body = await readBody(req);
    if (req.url === PROXY_CONTROL.log) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(records));
      return;
    }
    if (req.url === PROXY_CONTROL.reset) {
      records.length = 0;
      res.writeHead(204);
      res.end();
      return;
    }
    // Recorded on arrival: a request the client gave up on (its attempt timed out and was retried) still
    // counts, even if moto has not answered it when the log is read.
    const record = { action: actionOf(req, body), status: 0, startMs, endMs: Number.NaN };
    records.push(record);
    const header = req.headers[ATTEMPT_HEADER];
    const id = typeof header === 'string' ? header : undefined;
    if (id !== undefined) onEvent({ type: 'arrived', id });
    let answer: UpstreamAnswer;
    if (rounds && id !== undefined) {
      const slot: { answer?: UpstreamAnswer; send?: (answer: UpstreamAnswer) => void; released: boolean } = {
        released: false,
      };
      held.set(id, slot);
      const fetched = await fetchUpstream(req, body, target, agent);
      slot.answer = fetched;
      onEvent({ type: 'ready', id });
      answer = slot.released
        ? fetched
        : await new Promise<UpstreamAnswer>((resolve) => {
            slot.send = resolve;
          });
      held.delete(id);
    } else {
      await new Promise((resolve) => setTimeout(resolve, latencyMs));
      answer = await fetchUpstream(req, body, target, agent);
    }
    const { 'transfer-encoding': _chunked, ...headers } = answer.headers;
    res.writeHead(answer.status, { ...headers, 'content-length': String(answer.body.length) });
    res.end(answer.body);
    record.status = answer.status;
    record.endMs = performance.now() - t0;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    records: () => [...records],
    reset: () => {
      records.length = 0;
    },
    setRounds: (on) => {
      rounds = on;
    },
    release: (ids) => {
      for (const id of ids) {
        const slot = held.get(id);
        if (slot === undefined) continue;
        slot.released = true;
        if (slot.answer !== undefined && slot.send !== undefined) slot.send(slot.answer);
      }
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Forwards the request and reads moto's whole answer (502 when moto cannot be reached). */
function fetchUpstream(
  req: IncomingMessage,
  body: Buffer,
  target: URL,
  agent: Agent,
): Promise<UpstreamAnswer> {
  return new Promise((resolve) => {
    const headers: Record<string, string | string[] | undefined> = {
      ...req.headers,
      host: target.host,
      'content-length': String(body.length),
    };
    delete headers[ATTEMPT_HEADER];
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
      (answer) => {
        readBody(answer).then(
          (data) => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: data }),
          (error: Error) => resolve(badGateway(error)),
        );
      },
    );
    upstream.on('error', (error) => resolve(badGateway(error)));
    upstream.end(body);
  });
}

function badGateway(error: Error): UpstreamAnswer {
  return {
    status: 502,
    headers: { 'content-type': 'text/plain' },
    body: Buffer.from(`latency proxy: ${error.message}`),
  };
}

/** Route 53's REST routes (API version 2013-04-01), as the SDK sends them. */
const ROUTE53_ROUTES: readonly { method: string; path: RegExp; action: string }[] = [
  { method: 'GET', path: /^\/2013-04-01\/hostedzone\/[^/]+\/rrset/, action: 'ListResourceRecordSets' },
  { method: 'POST', path: /^\/2013-04-01\/hostedzone\/[^/]+\/rrset/, action: 'ChangeResourceRecordSets' },
  { method: 'GET', path: /^\/2013-04-01\/hostedzone\/[^/?]+$/, action: 'GetHostedZone' },
  { method: 'GET', path: /^\/2013-04-01\/change\//, action: 'GetChange' },
  { method: 'POST', path: /^\/2013-04-01\/hostedzone\/?$/, action: 'CreateHostedZone' },
];

/** The API action of a request: query protocol, JSON protocol, or a Route 53 route. */
export function actionOf(req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>, body: Buffer): string {
  const url = new URL(req.url ?? '/', 'http://proxy');
  const fromQuery = url.searchParams.get('Action');
  if (fromQuery !== null) return fromQuery;
  const contentType = req.headers['content-type'] ?? '';
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const action = new URLSearchParams(body.toString('utf8')).get('Action');
    if (action !== null) return action;
  }
  const amzTarget = req.headers['x-amz-target'];
  if (typeof amzTarget === 'string') return amzTarget.slice(amzTarget.lastIndexOf('.') + 1);
  const route = ROUTE53_ROUTES.find((r) => r.method === req.method && r.path.test(url.pathname));
  return route?.action ?? `${req.method ?? '?'} ${url.pathname}`;
}

/** The proxy and the lifecycle shim, running in a child process. */
export interface ProxyProcess {
  /** The proxy: latency added, requests recorded. The product's clients point here. */
  readonly endpoint: string;
  /** The shim behind it (no latency, not recorded): the bench's own set-up and checks go here. */
  readonly shimEndpoint: string;
  /** The child's PID (stopped by it). */
  readonly pid: number;
  records(): Promise<ProxyRecord[]>;
  reset(): Promise<void>;
  /** Rounds mode on or off (answers held until released, or sent after the latency), once the proxy says so. */
  setRounds(on: boolean): Promise<void>;
  /** Sends the held answers of these attempts. */
  release(ids: readonly string[]): void;
  /** Listens to the proxy's events (arrivals; answers held in rounds mode); returns how to stop listening. */
  onEvent(listener: (event: ProxyEvent) => void): () => void;
  stop(): Promise<void>;
}

/**
 * Starts the lifecycle shim (in front of `motoEndpoint`) and the latency proxy (in front of the shim) in a
 * child process, and returns their endpoints once both listen.
 */
export async function spawnLatencyProxy(motoEndpoint: string, latencyMs: number): Promise<ProxyProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, motoEndpoint, String(latencyMs)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the latency proxy process did not start');
  const started = await firstLine(child);
  const { proxy, shim } = JSON.parse(started) as { proxy: string; shim: string };
  const control = async (path: string, method: string): Promise<string> => {
    const answer = await fetch(`${proxy}${path}`, { method });
    if (!answer.ok) throw new Error(`latency proxy ${path}: HTTP ${answer.status}`);
    return answer.text();
  };
  const command = (message: ProxyCommand) => child.send(message);
  return {
    endpoint: proxy,
    shimEndpoint: shim,
    pid,
    records: async () => JSON.parse(await control(PROXY_CONTROL.log, 'GET')) as ProxyRecord[],
    reset: async () => {
      await control(PROXY_CONTROL.reset, 'POST');
    },
    setRounds: (on) =>
      new Promise<void>((resolve) => {
        const acknowledged = (message: unknown) => {
          const event = message as ProxyEvent;
          if (event.type === 'rounds' && event.on === on) {
            child.off('message', acknowledged);
            resolve();
          }
        };
        child.on('message', acknowledged);
        command({ type: 'rounds', on });
      }),
    release: (ids) => command({ type: 'release', ids }),
    onEvent: (listener) => {
      const handler = (message: unknown) => listener(message as ProxyEvent);
      child.on('message', handler);
      return () => child.off('message', handler);
    },
    stop: () => stopChild(child),
  };
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    if (child.stdout === null) {
      reject(new Error('the latency proxy process has no stdout'));
      return;
    }
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error('the latency proxy did not start within 30 s')), 30_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the latency proxy process exited (${code}) before it listened`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function main(motoEndpoint: string, latencyMs: number): Promise<void> {
  const shim = await startLifecycleShim(motoEndpoint);
  const proxy = await startLatencyProxy(shim.endpoint, latencyMs, (event) => process.send?.(event));
  process.on('message', (message: ProxyCommand) => {
    if (message.type === 'rounds') {
      proxy.setRounds(message.on);
      process.send?.({ type: 'rounds', on: message.on });
    } else proxy.release(message.ids);
  });
  process.stdout.write(`${JSON.stringify({ proxy: proxy.endpoint, shim: shim.endpoint })}\n`);
  process.once('SIGTERM', () => {
    Promise.all([proxy.stop(), shim.stop()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

if (require.main === module) {
  const [motoEndpoint, latency] = process.argv.slice(2);
  if (motoEndpoint === undefined || latency === undefined) {
    process.stderr.write('usage: tsx bench/latency-proxy.ts <moto endpoint> <latency ms>\n');
    process.exit(2);
  }
  main(motoEndpoint, Number(latency)).catch((error: unknown) => {
    process.stderr.write(`latency proxy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
