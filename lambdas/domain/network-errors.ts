/** Named errors of security-group and Route 53 planning (issue 4); each sets `this.name`. */

/** The ingress source the config asks for cannot be built (e.g. the NLB has no security group). */
export class IngressSourceError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'IngressSourceError';
  }
}

/** The nodes' security groups cannot be told apart: more than one candidate and no single tagged one. */
export class AmbiguousSecurityGroupError extends Error {
  /** The candidate group ids. */
  public readonly candidates: readonly string[];
  public constructor(cluster: string, candidates: readonly string[], detail: string) {
    super(
      `Cannot tell which security group of cluster "${cluster}" to manage among ${candidates.join(', ')}: ${detail}. ` +
        'Set securityGroups.groupIds in the config, or tag exactly one group.',
    );
    this.name = 'AmbiguousSecurityGroupError';
    this.candidates = candidates;
  }
}

/** A security group has no room for the rules (RulesPerSecurityGroupLimitExceeded). */
export class SecurityGroupRuleLimitError extends Error {
  public constructor(groupId: string, message: string) {
    super(`Security group ${groupId} has no room for more inbound rules: ${message}`);
    this.name = 'SecurityGroupRuleLimitError';
  }
}

/** The DNS part of the config cannot be turned into records (a name outside the zone, a clash...). */
export class DnsPlanError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'DnsPlanError';
  }
}

/** Route 53 refused a change batch (InvalidChangeBatch): nothing of that batch was applied. */
export class RecordChangeRejectedError extends Error {
  /** Route 53's messages, one per refused change. */
  public readonly reasons: readonly string[];
  public constructor(hostedZoneId: string, reasons: readonly string[]) {
    super(`Route 53 refused the change batch for zone ${hostedZoneId}: ${reasons.join('; ')}`);
    this.name = 'RecordChangeRejectedError';
    this.reasons = reasons;
  }
}
