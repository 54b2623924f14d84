/**
 * Counts the AWS API calls the product makes, by adding middleware to its process-wide SDK clients from
 * the outside. The product code does not know it is being counted.
 */
import type { HandlerExecutionContext, MiddlewareStack } from '@smithy/types';
import { autoScalingClient, ec2Client, elbv2Client } from '../lambdas/aws/clients';

/** Operation name -> number of times it was sent. */
export type CallTally = Map<string, number>;

/** What a {@link CallCounter} saw since its last reset. */
export interface CallSnapshot {
  /** Logical calls (one per `client.send`, whatever the retries), by operation. */
  readonly calls: ReadonlyMap<string, number>;
  /** HTTP attempts, retries included; equals the call total when nothing was retried. */
  readonly attempts: number;
}

/** Counts the calls sent through the product's Auto Scaling, EC2 and ELBv2 clients. */
export interface CallCounter {
  /** Forgets everything counted so far. */
  reset(): void;
  /** A copy of what was counted since the last reset. */
  snapshot(): CallSnapshot;
}

const COUNTER_NAME = 'benchCallCounter';
const ATTEMPT_COUNTER_NAME = 'benchAttemptCounter';

let installed: CallCounter | undefined;

/**
 * Installs the counting middleware on the product's client singletons (once per process; later calls
 * return the same counter). Call it after AWS_ENDPOINT_URL and AWS_REGION are set, because the first
 * call creates the singletons.
 */
export function installCallCounter(): CallCounter {
  if (installed !== undefined) return installed;
  const calls: CallTally = new Map();
  const state = { attempts: 0 };
  // One call each: the three stacks have different input/output types.
  addCounters(autoScalingClient().middlewareStack, calls, state);
  addCounters(ec2Client().middlewareStack, calls, state);
  addCounters(elbv2Client().middlewareStack, calls, state);
  installed = {
    reset() {
      calls.clear();
      state.attempts = 0;
    },
    snapshot() {
      return { calls: new Map(calls), attempts: state.attempts };
    },
  };
  return installed;
}

function addCounters<Input extends object, Output extends object>(
  stack: MiddlewareStack<Input, Output>,
  calls: CallTally,
  state: { attempts: number },
): void {
  // `initialize` runs once per send, before the retry middleware: one logical call.
  stack.add(
    (next, context: HandlerExecutionContext) => async (args) => {
      const operation = operationName(context);
      calls.set(operation, (calls.get(operation) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: COUNTER_NAME },
  );
  // `deserialize` runs inside the retry loop: once per HTTP attempt.
  stack.add(
    (next) => async (args) => {
      state.attempts += 1;
      return next(args);
    },
    { step: 'deserialize', name: ATTEMPT_COUNTER_NAME },
  );
}

/** `DescribeInstancesCommand` -> `DescribeInstances`. */
function operationName(context: HandlerExecutionContext): string {
  return (context.commandName ?? 'Unknown').replace(/Command$/, '');
}
