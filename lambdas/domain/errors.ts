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
