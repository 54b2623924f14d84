/**
 * A transparent HTTP proxy in front of moto that fills one gap: moto 5.2.1 answers Auto Scaling's
 * `CompleteLifecycleAction` and `RecordLifecycleActionHeartbeat` with HTTP 500. The shim answers those two
 * itself (as AWS would: an empty result in the awsQuery XML envelope) and records them so tests can assert
 * what the code under test told Auto Scaling. Every other request, including all of EC2, ELBv2 and Route 53,
 * goes to moto unchanged.
 *
 * SDK v3's Auto Scaling client speaks awsQuery: `POST /` with a form body
 * `Action=CompleteLifecycleAction&Version=2011-01-01&AutoScalingGroupName=...`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The Auto Scaling actions the shim answers instead of moto. */
export const LifecycleAction = {
  complete: 'CompleteLifecycleAction',
  heartbeat: 'RecordLifecycleActionHeartbeat',
} as const;

/** One of {@link LifecycleAction}'s values. */
export type LifecycleActionName = (typeof LifecycleAction)[keyof typeof LifecycleAction];

/** One lifecycle call the shim answered. */
export interface LifecycleActionRecord {
  /** Which Auto Scaling action was called. */
  readonly action: LifecycleActionName;
  /** `AutoScalingGroupName` parameter. */
  readonly autoScalingGroupName: string;
  /** `LifecycleHookName` parameter. */
  readonly lifecycleHookName: string;
  /** `InstanceId` parameter, when given. */
  readonly instanceId?: string;
  /** `LifecycleActionToken` parameter, when given. */
  readonly lifecycleActionToken?: string;
  /** `LifecycleActionResult` (`CONTINUE` | `ABANDON`), only for CompleteLifecycleAction. */
  readonly lifecycleActionResult?: string;
  /** When the shim received the call (ISO 8601). */
  readonly at: string;
}

/** A running lifecycle shim owned by the caller. */
export interface LifecycleShim {
  /** Base URL to give SDK clients, e.g. `http://127.0.0.1:40124`. */
  readonly endpoint: string;
  /** Closes the proxy and its open connections. */
  stop(): Promise<void>;
  /** The lifecycle calls answered since start or the last reset/clear, oldest first. */
  recorded(): LifecycleActionRecord[];
  /** Forgets the recorded calls. */
  clear(): void;
}

/** Path that lists the recorded lifecycle calls as JSON. */
export const RECORDED_ACTIONS_PATH = '/shim/lifecycle-actions';

const RESET_PATH = '/moto-api/reset';
const AUTO_SCALING_VERSION = '2011-01-01';
const XML_NAMESPACE = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';
const HANDLED_ACTIONS: ReadonlySet<string> = new Set(Object.values(LifecycleAction));

/**
 * Starts the shim on 127.0.0.1 at a free port, forwarding to `motoEndpoint`.
 * @example
 * const shim = await startLifecycleShim(moto.endpoint);
 * const autoScaling = new AutoScalingClient({ endpoint: shim.endpoint });
 */
export async function startLifecycleShim(motoEndpoint: string): Promise<LifecycleShim> {
  const upstream = new URL(motoEndpoint);
  const records: LifecycleActionRecord[] = [];

  const server = createServer((req, res) => {
    handle(req, res, upstream, records).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`lifecycle shim: ${message}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    recorded: () => [...records],
    clear: () => {
      records.length = 0;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: URL,
  records: LifecycleActionRecord[],
): Promise<void> {
  const path = req.url ?? '/';
  if (req.method === 'GET' && path === RECORDED_ACTIONS_PATH) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(records));
    return;
  }
  if (req.method === 'POST' && path === RESET_PATH) {
    const status = await forward(req, res, upstream, undefined);
    if (status < 400) records.length = 0;
    return;
  }
  // Only form bodies can carry a query-protocol action; everything else streams straight through.
  const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  if (req.method !== 'POST' || !isForm) {
    await forward(req, res, upstream, undefined);
    return;
  }
  const body = await readBody(req);
  const params = new URLSearchParams(body.toString('utf8'));
  const action = params.get('Action');
  if (action !== null && HANDLED_ACTIONS.has(action) && params.get('Version') === AUTO_SCALING_VERSION) {
    answerLifecycleAction(action as LifecycleActionName, params, res, records);
    return;
  }
  await forward(req, res, upstream, body);
}

function answerLifecycleAction(
  action: LifecycleActionName,
  params: URLSearchParams,
  res: ServerResponse,
  records: LifecycleActionRecord[],
): void {
  const requestId = randomUUID();
  const autoScalingGroupName = params.get('AutoScalingGroupName');
  const lifecycleHookName = params.get('LifecycleHookName');
  const instanceId = params.get('InstanceId') ?? undefined;
  const lifecycleActionToken = params.get('LifecycleActionToken') ?? undefined;
  const lifecycleActionResult = params.get('LifecycleActionResult') ?? undefined;

  // Same required parameters as AWS, so a caller that forgets one fails here as it would in AWS.
  const missing = [
    autoScalingGroupName === null ? 'AutoScalingGroupName' : undefined,
    lifecycleHookName === null ? 'LifecycleHookName' : undefined,
    action === LifecycleAction.complete && lifecycleActionResult === undefined
      ? 'LifecycleActionResult'
      : undefined,
  ].filter((name) => name !== undefined);
  if (missing.length > 0 || autoScalingGroupName === null || lifecycleHookName === null) {
    sendValidationError(res, requestId, `Missing required parameter(s): ${missing.join(', ')}`);
    return;
  }
  if (instanceId === undefined && lifecycleActionToken === undefined) {
    sendValidationError(res, requestId, 'Either InstanceId or LifecycleActionToken must be specified');
    return;
  }
  if (lifecycleActionResult !== undefined && !['CONTINUE', 'ABANDON'].includes(lifecycleActionResult)) {
    sendValidationError(res, requestId, `Invalid LifecycleActionResult: ${lifecycleActionResult}`);
    return;
  }

  records.push({
    action,
    autoScalingGroupName,
    lifecycleHookName,
    ...(instanceId === undefined ? {} : { instanceId }),
    ...(lifecycleActionToken === undefined ? {} : { lifecycleActionToken }),
    ...(action === LifecycleAction.complete ? { lifecycleActionResult } : {}),
    at: new Date().toISOString(),
  });
  sendXml(
    res,
    200,
    `<${action}Response xmlns="${XML_NAMESPACE}"><${action}Result/>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  );
}

function sendValidationError(res: ServerResponse, requestId: string, message: string): void {
  sendXml(
    res,
    400,
    `<ErrorResponse xmlns="${XML_NAMESPACE}"><Error><Type>Sender</Type><Code>ValidationError</Code>` +
      `<Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
}

function sendXml(res: ServerResponse, status: number, xml: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
  res.writeHead(status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': /<RequestId>([^<]+)</.exec(xml)?.[1] ?? '',
  });
  res.end(body);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Sends the request to moto (the buffered body if given, else the live stream) and pipes the answer back. */
function forward(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: URL,
  body: Buffer | undefined,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const upstreamRequest = request(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upstreamResponse) => {
        const status = upstreamResponse.statusCode ?? 502;
        res.writeHead(status, upstreamResponse.headers);
        upstreamResponse.pipe(res);
        upstreamResponse.once('end', () => resolve(status));
        upstreamResponse.once('error', reject);
      },
    );
    upstreamRequest.once('error', reject);
    if (body === undefined) {
      req.pipe(upstreamRequest);
    } else {
      upstreamRequest.end(body);
    }
  });
}
