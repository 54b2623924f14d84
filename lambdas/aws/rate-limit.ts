import type { HandlerExecutionContext, MiddlewareStack } from '@smithy/types';
import { TokenBucket } from 'limiter';

/**
 * Client-side rate limits for the product's write calls, so it shares the account's API budget politely
 * with everyone else who writes to the same load balancers and hosted zones.
 *
 * A token bucket per limited client (so per Lambda execution environment): `burst` calls go at once, then
 * `perSecond` a second. The bucket is `limiter`'s TokenBucket (no dependencies, a few kB bundled, FIFO
 * waiters); it starts full, like the Load Balancer Controller's buckets. Only the named operations draw
 * tokens: describe calls are never slowed down here (the SDK's adaptive retry mode still slows everything
 * down once AWS throttles).
 *
 * The wait happens once per logical call (`initialize` step, outside the retry loop, before the call's
 * time budget starts), so a queued write does not spend its own budget waiting for its turn.
 */
export interface RateLimit {
  /** Operation names as the SDK knows them (`RegisterTargetsCommand`), which share the bucket. */
  readonly commands: readonly string[];
  /** Sustained calls per second. */
  readonly perSecond: number;
  /** Calls that may go at once after a quiet period (the bucket's size). */
  readonly burst: number;
}

/**
 * ELBv2 target writes: 4 a second, bursts of 20, shared by RegisterTargets and DeregisterTargets, as the
 * AWS Load Balancer Controller keeps them (`elasticloadbalancing:RegisterTargets|DeregisterTargets=4:20`).
 * A pass sends a group's 200-target chunks together (up to 18 calls at 500 nodes x 6 groups), which fits
 * the burst; the bucket spaces them only beyond it, or when many clusters reconcile at once.
 */
export const ELBV2_TARGET_WRITES: RateLimit = {
  commands: ['RegisterTargetsCommand', 'DeregisterTargetsCommand'],
  perSecond: 4,
  burst: 20,
};

/**
 * Route 53 record writes: 2 a second, bursts of 4. Route 53 allows 5 requests a second per account for
 * all its APIs together; this keeps our writes to less than half of it and leaves room for our reads
 * (GetHostedZone, ListResourceRecordSets) and other tools in the account.
 */
export const ROUTE53_RECORD_WRITES: RateLimit = {
  commands: ['ChangeResourceRecordSetsCommand'],
  perSecond: 2,
  burst: 4,
};

/** The middleware's name on the stack (one per client). */
export const RATE_LIMIT_MIDDLEWARE = 'nlbSyncRateLimit';

/** Creates a full bucket for a limit (limiter's TokenBucket starts empty). */
export function tokenBucketFor(limit: RateLimit): TokenBucket {
  const bucket = new TokenBucket({
    bucketSize: limit.burst,
    tokensPerInterval: limit.perSecond,
    interval: 'second',
  });
  bucket.content = limit.burst;
  return bucket;
}

/**
 * Adds the limit to a client's middleware stack: the named operations wait for a token before they are
 * sent; every other operation passes straight through.
 */
export function addRateLimit<Input extends object, Output extends object>(
  stack: MiddlewareStack<Input, Output>,
  limit: RateLimit,
): void {
  const bucket = tokenBucketFor(limit);
  const limited = new Set(limit.commands);
  stack.add(
    (next, context: HandlerExecutionContext) => async (args) => {
      if (context.commandName !== undefined && limited.has(context.commandName)) {
        await bucket.removeTokens(1);
      }
      return next(args);
    },
    { step: 'initialize', priority: 'high', name: RATE_LIMIT_MIDDLEWARE },
  );
}
