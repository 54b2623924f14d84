/**
 * A transparent HTTP proxy in front of moto that fills one gap: moto 5.2.1 answers Auto Scaling's
 * `CompleteLifecycleAction` and `RecordLifecycleActionHeartbeat` with HTTP 500. The shim answers those two
 * itself (as AWS would: an empty result in the awsQuery XML envelope) and records them so tests can assert
 * what the code under test told Auto Scaling. Every other request, including all of EC2, ELBv2 and Route 53,
 * goes to moto unchanged.
 *
 * SDK v3's Auto Scaling client speaks awsQuery: `POST /` with a form body
 * `Action=CompleteLifecycleAction&Version=2011-01-01&AutoScalingGroupName=...`.
 *
 * The shim also hosts the target-state model (target-model.ts), off until a test switches it on through
 * `POST /shim/target-model`. While on, ELBv2's RegisterTargets, DeregisterTargets and DeleteTargetGroup still
 * go to moto, and the model notes what they changed; DescribeTargetHealth answers are rewritten with the
 * model's states. The code under test cannot tell: it sees moto's answers in moto's shape.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CLOCK_PATH,
  type ControlPath,
  DEFAULT_DEREGISTRATION_DELAY_SECONDS,
  ELBV2_VERSION,
  ModelledAction,
  type ModelledActionName,
  parseControlBody,
  parseDeregistrationDelayXml,
  parseTargetGroupXml,
  parseTargetHealthXml,
  replaceTargetHealthXml,
  TARGET_HEALTH_PATH,
  TARGET_MODEL_PATH,
  type TargetGroupFacts,
  TargetModel,
  TargetModelError,
  type TargetRef,
  targetsFromParams,
} from './target-model';

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
const MODELLED_ACTIONS: ReadonlySet<string> = new Set(Object.values(ModelledAction));

/**
 * Starts the shim on 127.0.0.1 at a free port, forwarding to `motoEndpoint`.
 * @example
 * const shim = await startLifecycleShim(moto.endpoint);
 * const autoScaling = new AutoScalingClient({ endpoint: shim.endpoint });
 */
export async function startLifecycleShim(motoEndpoint: string): Promise<LifecycleShim> {
  const upstream = new URL(motoEndpoint);
  const records: LifecycleActionRecord[] = [];
  const model = new TargetModel();
  const queue = new SerialQueue();

  const server = createServer((req, res) => {
    handle(req, res, upstream, records, model, queue).catch((error: unknown) => {
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
  model: TargetModel,
  queue: SerialQueue,
): Promise<void> {
  const path = req.url ?? '/';
  if (req.method === 'GET' && path === RECORDED_ACTIONS_PATH) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(records));
    return;
  }
  if (path === TARGET_MODEL_PATH || path === CLOCK_PATH || path === TARGET_HEALTH_PATH) {
    await answerModelControl(req, res, path, model);
    return;
  }
  if (req.method === 'POST' && path === RESET_PATH) {
    const status = await forward(req, res, upstream, undefined);
    if (status < 400) {
      records.length = 0;
      model.reset();
    }
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
  if (
    model.enabled &&
    action !== null &&
    MODELLED_ACTIONS.has(action) &&
    params.get('Version') === ELBV2_VERSION
  ) {
    await queue.run(() =>
      modelTargetCall(action as ModelledActionName, params, req, res, upstream, body, model),
    );
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

// ---- target-state model glue (see target-model.ts) --------------------------------------------------------

/**
 * Runs modelled calls one at a time: each reads moto before and after forwarding, so two interleaving (the
 * product registers in several groups at once) could record a stale picture.
 */
class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `work` after every call queued before it has finished. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work, work);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

/** `GET|POST /shim/target-model`, `GET|POST /shim/clock`, `POST /shim/targets/health`. */
async function answerModelControl(
  req: IncomingMessage,
  res: ServerResponse,
  path: ControlPath,
  model: TargetModel,
): Promise<void> {
  try {
    if (req.method === 'GET' && path === TARGET_MODEL_PATH) {
      sendJson(res, 200, model.status());
    } else if (req.method === 'GET' && path === CLOCK_PATH) {
      sendJson(res, 200, model.clock());
    } else if (req.method !== 'POST') {
      sendJson(res, 405, { error: `${req.method ?? '?'} ${path} is not supported` });
    } else {
      const text = (await readBody(req)).toString('utf8');
      if (path === TARGET_MODEL_PATH) {
        sendJson(res, 200, model.configure(parseControlBody(path, text)));
      } else if (path === CLOCK_PATH) {
        const change = parseControlBody(path, text);
        sendJson(
          res,
          200,
          'advanceSeconds' in change ? model.advance(change.advanceSeconds) : model.setNow(change.nowMs),
        );
      } else {
        const override = parseControlBody(path, text);
        if (!model.enabled) throw new TargetModelError(`${path}: the target model is off`, 409);
        sendJson(res, 200, model.forceHealth(override));
      }
    }
  } catch (error) {
    if (!(error instanceof TargetModelError)) throw error;
    sendJson(res, error.status, { error: error.message });
  }
}

/** Forwards a modelled ELBv2 call to moto, tells the model what it changed, and answers with moto's answer. */
async function modelTargetCall(
  action: ModelledActionName,
  params: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
  upstream: URL,
  body: Buffer,
  model: TargetModel,
): Promise<void> {
  const targetGroupArn = params.get('TargetGroupArn');
  if (targetGroupArn === null) {
    // moto answers the missing parameter; there is nothing to model.
    await forward(req, res, upstream, body);
    return;
  }
  const moto = new MotoQuery(upstream, req);

  if (action === ModelledAction.describeHealth) {
    const answer = await exchange(req, upstream, body);
    const listed = answer.status < 300 ? parseTargetHealthXml(answer.body.toString('utf8')) : undefined;
    const group = listed === undefined ? undefined : await moto.targetGroup(targetGroupArn);
    if (listed === undefined || group === undefined) {
      sendAnswer(res, answer, answer.body);
      return;
    }
    const entries = model.describe(
      targetGroupArn,
      listed,
      targetsFromParams(params, group.port),
      group.healthCheckPort,
    );
    sendAnswer(res, answer, Buffer.from(replaceTargetHealthXml(answer.body.toString('utf8'), entries)));
    return;
  }

  if (action === ModelledAction.deleteGroup) {
    const answer = await exchange(req, upstream, body);
    if (answer.status < 300) model.forgetGroup(targetGroupArn);
    sendAnswer(res, answer, answer.body);
    return;
  }

  // RegisterTargets / DeregisterTargets: moto's targets before the call tell the model which (id, port)
  // pairs moto held, since moto keys by id and may drop some; the group's settings set the timings.
  const before = await moto.targetHealth(targetGroupArn);
  const group = before === undefined ? undefined : await moto.targetGroup(targetGroupArn);
  const delaySeconds =
    action === ModelledAction.deregister && group !== undefined
      ? await moto.deregistrationDelay(targetGroupArn)
      : undefined;
  const answer = await exchange(req, upstream, body);
  const targets = targetsFromParams(params, group?.port);
  if (answer.status < 300 && before !== undefined && group !== undefined && targets !== undefined) {
    if (action === ModelledAction.register) {
      model.register(targetGroupArn, targets, group, before);
    } else {
      model.deregister(targetGroupArn, targets, delaySeconds ?? DEFAULT_DEREGISTRATION_DELAY_SECONDS, before);
    }
  }
  // The answer goes out only now, so the caller's next DescribeTargetHealth already sees the change.
  sendAnswer(res, answer, answer.body);
}

/** The shim's own reads from moto, signed like the request being served (moto reads service and region there). */
class MotoQuery {
  readonly #auth: Record<string, string>;

  constructor(
    private readonly upstream: URL,
    req: IncomingMessage,
  ) {
    this.#auth = {};
    for (const name of ['authorization', 'x-amz-date', 'x-amz-security-token']) {
      const value = req.headers[name];
      if (typeof value === 'string') this.#auth[name] = value;
    }
  }

  /** What moto lists in the group, or `undefined` if moto refuses (e.g. no such group). */
  async targetHealth(targetGroupArn: string): Promise<TargetRef[] | undefined> {
    const xml = await this.#call({ Action: ModelledAction.describeHealth, TargetGroupArn: targetGroupArn });
    return xml === undefined ? undefined : parseTargetHealthXml(xml);
  }

  /** The group's port and health check settings, or `undefined` if moto refuses. */
  async targetGroup(targetGroupArn: string): Promise<TargetGroupFacts | undefined> {
    const xml = await this.#call({
      Action: 'DescribeTargetGroups',
      'TargetGroupArns.member.1': targetGroupArn,
    });
    return xml === undefined ? undefined : parseTargetGroupXml(xml);
  }

  /** The group's `deregistration_delay.timeout_seconds`, read at deregistration as AWS applies it then. */
  async deregistrationDelay(targetGroupArn: string): Promise<number | undefined> {
    const xml = await this.#call({ Action: 'DescribeTargetGroupAttributes', TargetGroupArn: targetGroupArn });
    return xml === undefined ? undefined : parseDeregistrationDelayXml(xml);
  }

  async #call(query: Record<string, string>): Promise<string | undefined> {
    const body = Buffer.from(new URLSearchParams({ ...query, Version: ELBV2_VERSION }).toString(), 'utf8');
    const answer = await send(
      this.upstream,
      {
        method: 'POST',
        path: '/',
        headers: {
          ...this.#auth,
          host: this.upstream.host,
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
          'content-length': String(body.length),
        },
      },
      body,
    );
    return answer.status < 300 ? answer.body.toString('utf8') : undefined;
  }
}

interface UpstreamAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Sends the client's request to moto and buffers the answer, so the shim can act on it before replying. */
function exchange(req: IncomingMessage, upstream: URL, body: Buffer): Promise<UpstreamAnswer> {
  return send(upstream, { method: req.method ?? 'POST', path: req.url ?? '/', headers: req.headers }, body);
}

function send(
  upstream: URL,
  options: { method: string; path: string; headers: IncomingHttpHeaders },
  body: Buffer,
): Promise<UpstreamAnswer> {
  return new Promise((resolve, reject) => {
    const upstreamRequest = request(
      { hostname: upstream.hostname, port: upstream.port, ...options },
      (upstreamResponse) => {
        const chunks: Buffer[] = [];
        upstreamResponse.on('data', (chunk: Buffer) => chunks.push(chunk));
        upstreamResponse.once('end', () =>
          resolve({
            status: upstreamResponse.statusCode ?? 502,
            headers: upstreamResponse.headers,
            body: Buffer.concat(chunks),
          }),
        );
        upstreamResponse.once('error', reject);
      },
    );
    upstreamRequest.once('error', reject);
    upstreamRequest.end(body);
  });
}

/** Replies with moto's status and headers and `body` (moto's, or rewritten: the length is set anew). */
function sendAnswer(res: ServerResponse, answer: UpstreamAnswer, body: Buffer): void {
  const { 'content-length': _length, 'transfer-encoding': _encoding, ...headers } = answer.headers;
  res.writeHead(answer.status, { ...headers, 'content-length': body.length });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
