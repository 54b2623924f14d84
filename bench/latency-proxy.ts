/**
 * A latency-adding, counting HTTP proxy for the bench, on 127.0.0.1 only.
 *
 * Every request waits `latencyMs` before it is forwarded, so each AWS call the product makes costs at least
 * one network round trip, as against a regional endpoint. Every request is recorded with its action
 * (query-protocol `Action`, `X-Amz-Target`, or the Route 53 REST route), its HTTP status and its timing.
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

/** A running proxy in this process. */
export interface LatencyProxy {
  readonly endpoint: string;
  /** Requests forwarded since the start or the last reset. */
  records(): ProxyRecord[];
  reset(): void;
  stop(): Promise<void>;
}

/**
 * Starts the proxy on 127.0.0.1 at a free port, in front of `upstream`.
 * @param latencyMs - added before every request is forwarded
 */
export async function startLatencyProxy(upstream: string, latencyMs: number): Promise<LatencyProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const records: Mutable<ProxyRecord>[] = [];
  const t0 = performance.now();
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
    await new Promise((resolve) => setTimeout(resolve, latencyMs));
    record.status = await forward(req, res, body, target, agent);
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

function forward(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  target: URL,
  agent: Agent,
): Promise<number> {
  return new Promise((resolve) => {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host, 'content-length': String(body.length) },
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => resolve(answer.statusCode ?? 0));
        answer.on('error', () => resolve(0));
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`latency proxy: ${error.message}`);
      resolve(0);
    });
    upstream.end(body);
  });
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
  stop(): Promise<void>;
}

/**
 * Starts the lifecycle shim (in front of `motoEndpoint`) and the latency proxy (in front of the shim) in a
 * child process, and returns their endpoints once both listen.
 */
export async function spawnLatencyProxy(motoEndpoint: string, latencyMs: number): Promise<ProxyProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, motoEndpoint, String(latencyMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
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
  return {
    endpoint: proxy,
    shimEndpoint: shim,
    pid,
    records: async () => JSON.parse(await control(PROXY_CONTROL.log, 'GET')) as ProxyRecord[],
    reset: async () => {
      await control(PROXY_CONTROL.reset, 'POST');
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
  const proxy = await startLatencyProxy(shim.endpoint, latencyMs);
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
