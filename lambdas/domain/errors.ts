/** Named errors of the domain; each sets `this.name` so logs and Lambda error types show it. */

/** An event does not have the shape AWS documents; nothing was written. */
export class MalformedEventError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'MalformedEventError';
  }
}

/** A safety guard refused a plan; nothing of the cluster's plan was applied. */
export class GuardRefusalError extends Error {
  /** The refusals, one line each. */
  public readonly refusals: readonly string[];
  public constructor(cluster: string, refusals: readonly string[]) {
    super(`Safety guard refused the plan for cluster "${cluster}": ${refusals.join('; ')}`);
    this.name = 'GuardRefusalError';
    this.refusals = refusals;
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
