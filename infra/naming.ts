import { createHash } from 'node:crypto';

/** The kinds of EventBridge rule a cluster gets; each becomes a rule-name suffix. */
export const RULE_KINDS = {
  schedule: 'schedule',
  lifecycle: 'lifecycle',
  asgResult: 'asg-result',
  ec2State: 'ec2-state',
  spot: 'spot',
} as const;

/** One kind of rule. */
export type RuleKind = (typeof RULE_KINDS)[keyof typeof RULE_KINDS];

/** EventBridge allows 64 characters; the longest kind plus its dash takes 11. */
const RULE_NAME_MAX = 64;
/** The part of ownerId every rule name starts with (the lane refuses to admit a rule without it). */
const OWNER_PREFIX_MAX = 20;

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * The prefix every rule name of a deployment starts with. The queue policies no longer match on it:
 * they list the exact ARN of every rule that targets the lane (infra/constructs/pass-lane.ts), and the
 * lane refuses at synth to admit a rule whose name lacks the prefix.
 */
export function ruleNamePrefix(ownerId: string): string {
  return ownerId.slice(0, OWNER_PREFIX_MAX);
}

/**
 * A stable, unique, at most 64-character rule name: `<ownerId>-<cluster>-<kind>`, shortened with a
 * hash of the full pair when it would be too long.
 * @example ruleName('nlb-nodeport-sync', 'prod', 'schedule') // 'nlb-nodeport-sync-prod-schedule'
 */
export function ruleName(ownerId: string, cluster: string, kind: RuleKind): string {
  const full = `${ownerId}-${cluster}-${kind}`;
  // Either form starts with ruleNamePrefix(ownerId), which the lane checks before admitting a rule.
  if (full.length <= RULE_NAME_MAX) return full;
  const budget = RULE_NAME_MAX - OWNER_PREFIX_MAX - kind.length - 8 - 3;
  return `${ruleNamePrefix(ownerId)}-${cluster.slice(0, budget)}-${shortHash(`${ownerId}/${cluster}`)}-${kind}`;
}

// Hook names live in the domain: the stack creates them and the pass answers only them.
export { type HookTransition, lifecycleHookName } from '../lambdas/domain/lifecycle-hooks';
