import { AutoScalingClient, type AutoScalingClientConfig } from '@aws-sdk/client-auto-scaling';
import { EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';
import {
  ElasticLoadBalancingV2Client,
  type ElasticLoadBalancingV2ClientConfig,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { Route53Client, type Route53ClientConfig } from '@aws-sdk/client-route-53';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HandlerExecutionContext, MiddlewareStack } from '@smithy/types';
import { addRateLimit, ELBV2_TARGET_WRITES, ROUTE53_RECORD_WRITES } from './rate-limit';

/**
 * SDK clients, each created once per Lambda execution environment.
 *
 * Region, endpoint (AWS_ENDPOINT_URL, which is how moto is reached) and credentials are left to the
 * SDK's own provider chains on purpose: this module reads no environment variable itself.
 *
 * Every call is bounded (docs/architecture.md, "Bounded calls"): each HTTP attempt by the timeouts of
 * {@link HTTP_TIMEOUTS}, each call with all its retries by {@link CALL_BUDGET_MS}. ELBv2 target writes
 * and Route 53 record writes are also rate-limited on the client side (./rate-limit.ts).
 */

/**
 * Retry settings every client shares.
 *
 * Adaptive mode adds a client-side token bucket on top of standard retries, so a burst of reconciles
 * slows itself down instead of burning the account's ELBv2 and Route 53 rate limits (Route 53 allows 5
 * requests per second per account). Eight attempts ride out a throttling spike of several seconds.
 */
export const SDK_CLIENT_CONFIG = { retryMode: 'adaptive', maxAttempts: 8 } as const;

/**
 * Timeouts of one HTTP attempt.
 *
 * - `connectionTimeout` 3 s: a TCP + TLS handshake with a regional AWS endpoint takes well under 100 ms;
 *   3 s still covers two lost SYNs (the first retransmit waits 1 s).
 * - `requestTimeout` 10 s, for the whole attempt (`throwOnRequestTimeout`: without it the handler only
 *   logs a warning and keeps waiting): the control-plane calls the product makes answer in well under
 *   2 s, a DescribeInstances page of 1,000 instances in a few; 10 s is far from a false timeout.
 *
 * A timed-out attempt is a transient error, which the SDK retries like a 5xx.
 */
export const HTTP_TIMEOUTS = { connectionTimeout: 3_000, requestTimeout: 10_000 } as const;

/**
 * The most time one call may spend, all its attempts, backoff sleeps and adaptive-mode waits together.
 *
 * Per-attempt timeouts alone cannot bound a call: with 8 attempts, throttling backoff (random, up to
 * 1, 2, 4, 8, 16, 20, 20 s) may sleep 71 s, and 8 hung attempts take 8 x 13 s. So the retry loop gets
 * an abort signal that fires after 15 s: no new attempt or backoff sleep starts after it, and the attempt
 * in flight ends by its own timeouts (the SDK then throws that attempt's error). A call that never gets
 * an answer thus ends within 15 s + one attempt (13 s) at worst, usually within 15 s.
 *
 * Why 15 s: it is a third of the pass deadline (lambdas/sync/reconcile-pass.ts PASS_DEADLINE_MS, 45 s),
 * so the whole retry budget of one call can never outlast a pass, and equal to what the 60 s function
 * timeout leaves after that deadline, so a write started just before it can still finish. 15 s is still
 * room for 5 or more throttled attempts (backoff 1, 2, 4, 8 s at most), enough for a throttling spike.
 */
export const CALL_BUDGET_MS = 15_000;

/** The error a call ends with when its time budget ran out during a backoff sleep or an adaptive wait. */
export class CallBudgetExceededError extends Error {
  public constructor(operation: string, budgetMs: number, cause: unknown) {
    super(`${operation} did not succeed within its ${budgetMs / 1000} s call budget (retries included)`, {
      cause,
    });
    this.name = 'CallBudgetExceededError';
  }
}

/** The middleware's name on the stack (one per client). */
export const CALL_BUDGET_MIDDLEWARE = 'nlbSyncCallBudget';

/** The key under which the SDK keeps its own context, whose `abortSignal` its retry loop honours. */
const SMITHY_CONTEXT_KEY = '__smithy_context';

/** A Node.js HTTP handler with the product's timeouts; `timeouts` override them (tests use short ones). */
export function createHttpHandler(
  timeouts: { connectionTimeout?: number; requestTimeout?: number } = {},
): NodeHttpHandler {
  return new NodeHttpHandler({ ...HTTP_TIMEOUTS, ...timeouts, throwOnRequestTimeout: true });
}

/**
 * Bounds every call of a client to `budgetMs`, retries included (see {@link CALL_BUDGET_MS}), by handing
 * the SDK's retry loop an abort signal that fires then. A caller's own abort signal keeps working.
 */
export function addCallBudget<Input extends object, Output extends object>(
  stack: MiddlewareStack<Input, Output>,
  budgetMs: number = CALL_BUDGET_MS,
): void {
  stack.add(
    (next, context: HandlerExecutionContext) => async (args) => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), budgetMs);
      const smithy = (context[SMITHY_CONTEXT_KEY] ?? {}) as { abortSignal?: AbortSignal };
      const callers = smithy.abortSignal;
      smithy.abortSignal =
        callers === undefined ? controller.signal : AbortSignal.any([callers, controller.signal]);
      context[SMITHY_CONTEXT_KEY] = smithy;
      try {
        return await next(args);
      } catch (error) {
        if (controller.signal.aborted && (error as Error).name === 'AbortError' && !callers?.aborted) {
          throw new CallBudgetExceededError(context.commandName ?? 'AWS call', budgetMs, error);
        }
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
    // Inside the rate limit (which waits first, priority high), outside the retry loop.
    { step: 'initialize', priority: 'low', name: CALL_BUDGET_MIDDLEWARE },
  );
}

/** The settings every client is created with, before `overrides`. */
function baseConfig() {
  return { ...SDK_CLIENT_CONFIG, requestHandler: createHttpHandler() };
}

/** Creates an Auto Scaling client with the shared settings; `overrides` win (tests inject handlers). */
export function createAutoScalingClient(overrides: AutoScalingClientConfig = {}): AutoScalingClient {
  const client = new AutoScalingClient({ ...baseConfig(), ...overrides });
  addCallBudget(client.middlewareStack);
  return client;
}

/** Creates an EC2 client with the shared settings; `overrides` win (tests inject handlers). */
export function createEc2Client(overrides: EC2ClientConfig = {}): EC2Client {
  const client = new EC2Client({ ...baseConfig(), ...overrides });
  addCallBudget(client.middlewareStack);
  return client;
}

/**
 * Creates an ELBv2 client with the shared settings and the target-write rate limit; `overrides` win
 * (tests inject handlers).
 */
export function createElbv2Client(
  overrides: ElasticLoadBalancingV2ClientConfig = {},
): ElasticLoadBalancingV2Client {
  const client = new ElasticLoadBalancingV2Client({ ...baseConfig(), ...overrides });
  addCallBudget(client.middlewareStack);
  addRateLimit(client.middlewareStack, ELBV2_TARGET_WRITES);
  return client;
}

/**
 * Creates a Route 53 client with the shared settings and the record-write rate limit; `overrides` win
 * (tests inject handlers).
 */
export function createRoute53Client(overrides: Route53ClientConfig = {}): Route53Client {
  const client = new Route53Client({ ...baseConfig(), ...overrides });
  addCallBudget(client.middlewareStack);
  addRateLimit(client.middlewareStack, ROUTE53_RECORD_WRITES);
  return client;
}

/** Creates an SQS client with the shared settings; `overrides` win (tests inject handlers). */
export function createSqsClient(overrides: SQSClientConfig = {}): SQSClient {
  const client = new SQSClient({ ...baseConfig(), ...overrides });
  addCallBudget(client.middlewareStack);
  return client;
}

let autoScaling: AutoScalingClient | undefined;
let sqs: SQSClient | undefined;
let ec2: EC2Client | undefined;
let elbv2: ElasticLoadBalancingV2Client | undefined;
let route53: Route53Client | undefined;

/** The process-wide Auto Scaling client, created on first use so warm invocations reuse its connections. */
export function autoScalingClient(): AutoScalingClient {
  autoScaling ??= createAutoScalingClient();
  return autoScaling;
}

/** The process-wide EC2 client, created on first use so warm invocations reuse its connections. */
export function ec2Client(): EC2Client {
  ec2 ??= createEc2Client();
  return ec2;
}

/** The process-wide ELBv2 client, created on first use so warm invocations reuse its connections. */
export function elbv2Client(): ElasticLoadBalancingV2Client {
  elbv2 ??= createElbv2Client();
  return elbv2;
}

/** The process-wide Route 53 client, created on first use so warm invocations reuse its connections. */
export function route53Client(): Route53Client {
  route53 ??= createRoute53Client();
  return route53;
}

/** The process-wide SQS client, created on first use so warm invocations reuse its connections. */
export function sqsClient(): SQSClient {
  sqs ??= createSqsClient();
  return sqs;
}
