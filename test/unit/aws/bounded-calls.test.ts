import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  CALL_BUDGET_MS,
  CallBudgetExceededError,
  createAutoScalingClient,
  createEc2Client,
  createElbv2Client,
  createHttpHandler,
  createRoute53Client,
  createSqsClient,
  HTTP_TIMEOUTS,
} from '../../../lambdas/aws/clients';
import { ELBV2_TARGET_WRITES, ROUTE53_RECORD_WRITES } from '../../../lambdas/aws/rate-limit';

/*
 * Bounded calls (docs/architecture.md): per-attempt timeouts against a real local server that never
 * answers, the per-call budget through the SDK's real retry loop, and the client-side rate limits.
 */

const TEST_CONFIG = {
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
};
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/t/1';

/** Servers a test started; each is stopped after its test, even one that failed or timed out. */
const servers: { stop: () => Promise<void> }[] = [];

/** Turns the real event loop until `done()` holds, at most `turns` times (so a regression fails, never hangs). */
async function realTurnsUntil(done: () => boolean, turns = 2_000): Promise<void> {
  for (let i = 0; i < turns && !done(); i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** An HTTP server on 127.0.0.1 that accepts every request and never answers it; stopped after the test. */
async function silentServer(): Promise<{
  endpoint: string;
  requests: () => number;
  stop: () => Promise<void>;
}> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer(() => {
    requests += 1; // and no answer, ever
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const stop = async () => {
    if (!server.listening) return;
    for (const socket of sockets) socket.destroy();
    const closed = once(server, 'close');
    server.close();
    await closed;
  };
  servers.push({ stop });
  return { endpoint: `http://127.0.0.1:${port}`, requests: () => requests, stop };
}

/** An HTTP handler that answers every request at once with the same reply, and counts them. */
function constantHttp(status: number, body: string) {
  let served = 0;
  return {
    requestHandler: {
      handle: async () => {
        served += 1;
        return {
          response: {
            statusCode: status,
            headers: { 'content-type': 'text/xml' },
            body: Readable.from([Buffer.from(body)]),
          },
        };
      },
    },
    requests: () => served,
  };
}

const THROTTLED =
  '<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>';
const REGISTERED = '<RegisterTargetsResponse><RegisterTargetsResult/></RegisterTargetsResponse>';
const HEALTH =
  '<DescribeTargetHealthResponse><DescribeTargetHealthResult><TargetHealthDescriptions/></DescribeTargetHealthResult></DescribeTargetHealthResponse>';
const CHANGED =
  '<ChangeResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeInfo><Id>/change/C1</Id><Status>PENDING</Status><SubmittedAt>2025-01-01T00:00:00Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>';

/** Sends all `calls` at once and records, for each, the (fake) time it settled, relative to the start. */
async function settleTimes(calls: (() => Promise<unknown>)[], advanceMs: number): Promise<number[]> {
  const start = Date.now();
  const times: number[] = [];
  const all = Promise.all(calls.map((call) => call().then(() => times.push(Date.now() - start))));
  await jest.advanceTimersByTimeAsync(advanceMs);
  await all;
  return times.sort((a, b) => a - b);
}

describe('Bounded calls', () => {
  afterEach(async () => {
    jest.useRealTimers();
    jest.restoreAllMocks();
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  describe('Timeouts of one HTTP attempt', () => {
    it('give every client a Node.js handler with the connection and request timeouts', async () => {
      // Prepare
      const clients = [
        createAutoScalingClient(),
        createEc2Client(),
        createElbv2Client(),
        createRoute53Client(),
        createSqsClient(),
      ];

      // Act
      const handlers = clients.map((client) => client.config.requestHandler);

      // Assess
      expect(HTTP_TIMEOUTS).toEqual({ connectionTimeout: 3_000, requestTimeout: 10_000 });
      for (const handler of handlers) expect(handler).toBeInstanceOf(NodeHttpHandler);
    });

    it('end a call to a server that never answers with a TimeoutError after the production 10 s', async () => {
      // Prepare: production timeouts, the clock faked only for the handler's timers (I/O stays real)
      const server = await silentServer();
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
      const client = createElbv2Client({ ...TEST_CONFIG, endpoint: server.endpoint, maxAttempts: 1 });
      let outcome: unknown;
      client.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG })).then(
        () => {
          outcome = 'answered';
        },
        (error: unknown) => {
          outcome = error;
        },
      );

      // Act: let the request reach the server, then move the handler's clock past the request timeout
      await realTurnsUntil(() => server.requests() > 0);
      await jest.advanceTimersByTimeAsync(HTTP_TIMEOUTS.requestTimeout - 100);
      const before = outcome;
      await jest.advanceTimersByTimeAsync(200);
      await realTurnsUntil(() => outcome !== undefined);

      // Assess
      expect(before).toBeUndefined();
      expect(outcome).toMatchObject({ name: 'TimeoutError' });
      expect(server.requests()).toBe(1);
    });

    it('end a call to a server that never answers within seconds on the real clock, retries included', async () => {
      // Prepare: the same handler with a short request timeout, two attempts
      const server = await silentServer();
      const client = createElbv2Client({
        ...TEST_CONFIG,
        endpoint: server.endpoint,
        maxAttempts: 2,
        requestHandler: createHttpHandler({ requestTimeout: 300 }),
      });
      const started = Date.now();

      // Act
      const call = client.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG }));

      // Assess
      await expect(call).rejects.toMatchObject({ name: 'TimeoutError', $metadata: { attempts: 2 } });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(server.requests()).toBe(2);
    });
  });

  describe('Call budget', () => {
    it('ends a call that keeps being throttled at the 15 s budget instead of after all 8 attempts', async () => {
      // Prepare: production retry settings (adaptive, 8 attempts); backoff draws fixed at 90% of their range
      jest.useFakeTimers();
      jest.spyOn(Math, 'random').mockReturnValue(0.9);
      const http = constantHttp(400, THROTTLED);
      const client = createElbv2Client({ ...TEST_CONFIG, requestHandler: http.requestHandler });
      let outcome: unknown;
      client.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG })).then(
        () => {
          outcome = 'answered';
        },
        (error: unknown) => {
          outcome = error;
        },
      );

      // Act
      await jest.advanceTimersByTimeAsync(CALL_BUDGET_MS - 100);
      const before = outcome;
      await jest.advanceTimersByTimeAsync(200);

      // Assess: without the budget the backoff alone would sleep 0.9 x (1+2+4+8+16+20+20) = 63.9 s
      expect(before).toBeUndefined();
      expect(outcome).toBeInstanceOf(CallBudgetExceededError);
      expect(String((outcome as Error).message)).toMatch(/DescribeTargetHealthCommand .* 15 s call budget/);
      expect(http.requests()).toBeLessThan(8);
    });

    it('does not touch a call that succeeds in time', async () => {
      // Prepare
      const http = constantHttp(200, HEALTH);
      const client = createElbv2Client({ ...TEST_CONFIG, requestHandler: http.requestHandler });

      // Act
      const output = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG }));

      // Assess
      expect(output.TargetHealthDescriptions).toEqual([]);
    });
  });

  describe('Rate limits', () => {
    it('spread a burst of 30 RegisterTargets calls: 20 at once, then 4 a second', async () => {
      // Prepare
      jest.useFakeTimers();
      const http = constantHttp(200, REGISTERED);
      const client = createElbv2Client({ ...TEST_CONFIG, requestHandler: http.requestHandler });
      const register = () =>
        client.send(
          new RegisterTargetsCommand({ TargetGroupArn: TG, Targets: [{ Id: '10.0.1.7', Port: 30080 }] }),
        );

      // Act
      const times = await settleTimes(
        Array.from({ length: 30 }, () => register),
        5_000,
      );

      // Assess
      expect(ELBV2_TARGET_WRITES).toMatchObject({ perSecond: 4, burst: 20 });
      expect(times.slice(0, 20).every((t) => t === 0)).toBe(true);
      const later = times.slice(20);
      expect(later[0]).toBeGreaterThanOrEqual(240);
      expect(later.at(-1)).toBeGreaterThanOrEqual(2_490);
      expect(later.at(-1)).toBeLessThanOrEqual(2_600);
      expect(http.requests()).toBe(30);
    });

    it('share one bucket between RegisterTargets and DeregisterTargets', async () => {
      // Prepare
      jest.useFakeTimers();
      const http = constantHttp(200, REGISTERED);
      const client = createElbv2Client({ ...TEST_CONFIG, requestHandler: http.requestHandler });
      const targets = [{ Id: '10.0.1.7', Port: 30080 }];
      const calls = Array.from({ length: 24 }, (_, i) =>
        i % 2 === 0
          ? () => client.send(new RegisterTargetsCommand({ TargetGroupArn: TG, Targets: targets }))
          : () => client.send(new DeregisterTargetsCommand({ TargetGroupArn: TG, Targets: targets })),
      );

      // Act
      const times = await settleTimes(calls, 5_000);

      // Assess: 20 at once, the 4 others over the next second
      expect(times.filter((t) => t === 0)).toHaveLength(20);
      expect(times.at(-1)).toBeGreaterThanOrEqual(990);
    });

    it('leave describe calls alone: 30 DescribeTargetHealth calls all go at once', async () => {
      // Prepare
      jest.useFakeTimers();
      const http = constantHttp(200, HEALTH);
      const client = createElbv2Client({ ...TEST_CONFIG, requestHandler: http.requestHandler });
      const describe = () => client.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG }));

      // Act
      const times = await settleTimes(
        Array.from({ length: 30 }, () => describe),
        0,
      );

      // Assess
      expect(times).toEqual(Array.from({ length: 30 }, () => 0));
    });

    it('limit Route 53 record writes to 4 at once, then 2 a second', async () => {
      // Prepare
      jest.useFakeTimers();
      const http = constantHttp(200, CHANGED);
      const client = createRoute53Client({ ...TEST_CONFIG, requestHandler: http.requestHandler });
      const change = () =>
        client.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: 'Z1',
            ChangeBatch: {
              Changes: [
                {
                  Action: 'UPSERT',
                  ResourceRecordSet: {
                    Name: 'a.example.com',
                    Type: 'A',
                    TTL: 60,
                    ResourceRecords: [{ Value: '10.0.1.7' }],
                  },
                },
              ],
            },
          }),
        );

      // Act
      const times = await settleTimes(
        Array.from({ length: 8 }, () => change),
        5_000,
      );

      // Assess
      expect(ROUTE53_RECORD_WRITES).toMatchObject({ perSecond: 2, burst: 4 });
      expect(times.filter((t) => t === 0)).toHaveLength(4);
      expect(times.at(-1)).toBeGreaterThanOrEqual(1_990);
      expect(times.at(-1)).toBeLessThanOrEqual(2_100);
    });
  });
});
