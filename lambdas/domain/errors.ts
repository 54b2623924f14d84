/** Named errors of the domain; each sets `this.name` so logs and Lambda error types show it. */

/** An event does not have the shape AWS documents; nothing was written. */
export class MalformedEventError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'MalformedEventError';
  }
}

/**
 * A safety guard refused part of a plan: the refused deregistrations wait; registrations and
 * evidence-backed deregistrations were applied (the pass's report, when given, says which).
 */
export class GuardRefusalError extends Error {
  /** The refusals, one line each. */
  public readonly refusals: readonly string[];
  /** The pass's report (lambdas/sync/reconcile-pass.ts PassReport), with the refused changes per group. */
  public readonly report?: unknown;
  public constructor(cluster: string, refusals: readonly string[], report?: unknown) {
    super(
      `Safety guard refused part of the plan for cluster "${cluster}" (the refused deregistrations wait, the rest was applied): ${refusals.join('; ')}`,
    );
    this.name = 'GuardRefusalError';
    this.refusals = refusals;
    if (report !== undefined) this.report = report;
  }
}

/**
 * A plan would pass a quota (lambdas/domain/quotas.ts): Elastic Load Balancing targets, inbound rules per
 * security group, or Route 53's batch limits. Nothing was written to the target groups, security groups or
 * record names concerned; the other changes were applied.
 */
export class QuotaExceededError extends Error {
  /** One line per quota, naming it. */
  public readonly refusals: readonly string[];
  /** The pass's report, when given. */
  public readonly report?: unknown;
  public constructor(cluster: string, refusals: readonly string[], report?: unknown) {
    super(`Plan for cluster "${cluster}" refused before any write: ${refusals.join('; ')}`);
    this.name = 'QuotaExceededError';
    this.refusals = refusals;
    if (report !== undefined) this.report = report;
  }
}

/** A configured resource (ASG, target group) does not exist in AWS. */
export class MissingResourceError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'MissingResourceError';
  }
}

/** A required environment variable is missing or invalid. */
export class EnvironmentError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'EnvironmentError';
  }
}

/**
 * A pass's reads took so long that its writes could not finish before the function's timeout; the pass
 * stopped before its first target write (nothing of the plan was applied) and the next pass retries.
 */
export class PassDeadlineError extends Error {
  /** How long the pass had run when it stopped (ms). */
  public readonly elapsedMs: number;
  /** The deadline it passed (ms after the pass's start). */
  public readonly deadlineMs: number;
  public constructor(cluster: string, elapsedMs: number, deadlineMs: number) {
    super(
      `Reconcile pass for cluster "${cluster}" reached its write deadline: reads took ${(elapsedMs / 1000).toFixed(1)} s, ` +
        `writes must start within ${deadlineMs / 1000} s; nothing was written`,
    );
    this.name = 'PassDeadlineError';
    this.elapsedMs = elapsedMs;
    this.deadlineMs = deadlineMs;
  }
}
