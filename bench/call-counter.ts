/**
 * Counts and times the AWS API calls the product makes, by adding middleware to its process-wide SDK
 * clients from the outside. The product code does not know it is being counted.
 */
import type { HandlerExecutionContext, InitializeMiddleware, MiddlewareStack } from '@smithy/types';
import { autoScalingClient, ec2Client, elbv2Client, route53Client, sqsClient } from '../lambdas/aws/clients';
import { RATE_LIMIT_MIDDLEWARE } from '../lambdas/aws/rate-limit';
import { ATTEMPT_HEADER } from './latency-proxy';

/** Operation name -> number of times it was sent. */
export type CallTally = Map<string, number>;

/** One logical call (one `client.send`), as the product's process saw it. */
export interface CallRecord {
  /** `DescribeInstances`, `RegisterTargets`, ... */
  readonly operation: string;
  /**
   * When `send` entered the middleware stack and when it returned or threw (performance.now(), ms). The
   * span holds everything the call waited for: client-side rate limits, every attempt, their backoff.
   */
  readonly startMs: number;
  readonly endMs: number;
  /** False when the call threw. */
  readonly ok: boolean;
  /** `TargetGroupArn` of the input, when it has one (target writes and reads). */
  readonly targetGroupArn?: string;
  /** Target ids of a RegisterTargets / DeregisterTargets input. */
  readonly targetIds?: readonly string[];
}

/** What a {@link CallCounter} saw since its last reset. */
export interface CallSnapshot {
  /** Logical calls (one per `client.send`, whatever the retries), by operation. */
  readonly calls: ReadonlyMap<string, number>;
  /** HTTP attempts, retries included; equals the call total when nothing was retried. */
  readonly attempts: number;
  /** Every finished call, in the order they finished. */
  readonly log: readonly CallRecord[];
}

/** What is on its way right now (bench/rounds.ts waits on it). */
export interface InFlight {
  /** Calls sent and not yet returned. */
  readonly calls: number;
  /** Ids of the HTTP attempts sent (the {@link ATTEMPT_HEADER} header) whose answer is not yet in. */
  readonly attempts: ReadonlySet<string>;
}

/** Counts the calls sent through the product's Auto Scaling, EC2, ELBv2, Route 53 and SQS clients. */
export interface CallCounter {
  /** Forgets everything counted so far. */
  reset(): void;
  /** A copy of what was counted since the last reset. */
  snapshot(): CallSnapshot;
  /** The calls and attempts in flight. */
  inFlight(): InFlight;
  /** Called whenever a call or an attempt starts or ends; returns how to stop listening. */
  onChange(listener: () => void): () => void;
}

const COUNTER_NAME = 'benchCallCounter';
const ATTEMPT_COUNTER_NAME = 'benchAttemptCounter';

let installed: CallCounter | undefined;

interface CounterState {
  readonly calls: CallTally;
  readonly log: CallRecord[];
  attempts: number;
  inFlightCalls: number;
  readonly openAttempts: Set<string>;
  nextAttempt: number;
  readonly listeners: Set<() => void>;
}

/**
 * Installs the counting middleware on the product's client singletons (once per process; later calls
 * return the same counter). Call it after AWS_ENDPOINT_URL and AWS_REGION are set, because the first
 * call creates the singletons.
 */
export function installCallCounter(): CallCounter {
  if (installed !== undefined) return installed;
  const state: CounterState = {
    calls: new Map(),
    log: [],
    attempts: 0,
    inFlightCalls: 0,
    openAttempts: new Set(),
    nextAttempt: 1,
    listeners: new Set(),
  };
  // One call each: the stacks have different input/output types.
  addCounters(autoScalingClient().middlewareStack, state);
  addCounters(ec2Client().middlewareStack, state);
  addCounters(elbv2Client().middlewareStack, state);
  addCounters(route53Client().middlewareStack, state);
  addCounters(sqsClient().middlewareStack, state);
  installed = {
    reset() {
      state.calls.clear();
      state.log.length = 0;
      state.attempts = 0;
    },
    snapshot() {
      return { calls: new Map(state.calls), attempts: state.attempts, log: [...state.log] };
    },
    inFlight() {
      return { calls: state.inFlightCalls, attempts: new Set(state.openAttempts) };
    },
    onChange(listener) {
      state.listeners.add(listener);
      return () => state.listeners.delete(listener);
    },
  };
  return installed;
}

function addCounters<Input extends object, Output extends object>(
  stack: MiddlewareStack<Input, Output>,
  state: CounterState,
): void {
  const changed = () => {
    for (const listener of state.listeners) listener();
  };
  // `initialize`, before the product's rate limit where the client has one: once per send, outside the
  // retry loop. The span it times is the whole call as the caller waits for it.
  const counter: InitializeMiddleware<Input, Output> =
    (next, context: HandlerExecutionContext) => async (args) => {
      const operation = operationName(context);
      state.calls.set(operation, (state.calls.get(operation) ?? 0) + 1);
      state.inFlightCalls += 1;
      changed();
      const startMs = performance.now();
      const facts = inputFacts(args.input);
      let ok = false;
      try {
        const output = await next(args);
        ok = true;
        return output;
      } finally {
        state.log.push({ operation, startMs, endMs: performance.now(), ok, ...facts });
        state.inFlightCalls -= 1;
        changed();
      }
    };
  if (stack.identify().some((entry) => entry.startsWith(`${RATE_LIMIT_MIDDLEWARE} `))) {
    stack.addRelativeTo(counter, {
      relation: 'before',
      toMiddleware: RATE_LIMIT_MIDDLEWARE,
      name: COUNTER_NAME,
    });
  } else {
    stack.add(counter, { step: 'initialize', priority: 'high', name: COUNTER_NAME });
  }
  // `deserialize` runs inside the retry loop: once per HTTP attempt. Each attempt carries its id to the
  // latency proxy, which tells the bench when it arrived and when moto answered it.
  stack.add(
    (next) => async (args) => {
      state.attempts += 1;
      const id = String(state.nextAttempt++);
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers !== undefined) request.headers[ATTEMPT_HEADER] = id;
      state.openAttempts.add(id);
      changed();
      try {
        return await next(args);
      } finally {
        state.openAttempts.delete(id);
        changed();
      }
    },
    { step: 'deserialize', name: ATTEMPT_COUNTER_NAME },
  );
}

function inputFacts(input: unknown): Pick<CallRecord, 'targetGroupArn' | 'targetIds'> {
  if (typeof input !== 'object' || input === null) return {};
  const { TargetGroupArn, Targets } = input as { TargetGroupArn?: unknown; Targets?: unknown };
  const targetIds = Array.isArray(Targets)
    ? Targets.flatMap((t: unknown) =>
        typeof t === 'object' && t !== null && typeof (t as { Id?: unknown }).Id === 'string'
          ? [(t as { Id: string }).Id]
          : [],
      )
    : undefined;
  return {
    ...(typeof TargetGroupArn === 'string' && { targetGroupArn: TargetGroupArn }),
    ...(targetIds !== undefined && { targetIds }),
  };
}

/** `DescribeInstancesCommand` -> `DescribeInstances`. */
function operationName(context: HandlerExecutionContext): string {
  return (context.commandName ?? 'Unknown').replace(/Command$/, '');
}
