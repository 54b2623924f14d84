/**
 * Drain marks: an EC2 tag of this deployment's on an instance that must stay out of every target group
 * until the instance is gone or an operator removes the mark. A spot interruption warning, a rebalance
 * recommendation (when enabled), a terminate lifecycle action and an operator's `drain` put one; the
 * tag outlives the pass that wrote it, so the next pass (schedule, any event) does not undo it.
 */

/** Why an instance was marked; the words appear in the tag value, logs and plans. */
export const DRAIN_REASONS = [
  'spot-interruption',
  'rebalance-recommendation',
  'terminate-lifecycle-action',
  'operator',
] as const;
/** Why an instance was marked. */
export type DrainReason = (typeof DRAIN_REASONS)[number];

/** A parsed drain mark. */
export interface DrainMark {
  readonly reason: DrainReason | 'unknown';
  /** When it was set (ISO 8601), as written in the tag; absent when the value could not be read. */
  readonly since?: string;
}

/**
 * The tag key of a deployment's drain mark: `<ownerId>/drain`. Scoped by owner so two deployments never
 * lift each other's marks; IAM lets the function write only this key (docs/iam.md).
 */
export function drainMarkTagKey(ownerId: string): string {
  return `${ownerId}/drain`;
}

/** The tag value: `<reason> <ISO time>`, readable in the console. */
export function formatDrainMark(reason: DrainReason, at: Date): string {
  return `${reason} ${at.toISOString()}`;
}

/**
 * Reads a mark from an instance's tags. Any value under the key is a mark (an operator may write the tag
 * by hand): an unreadable value is reason `unknown`, never "no mark".
 */
export function drainMarkOf(
  tags: Readonly<Record<string, string>> | undefined,
  ownerId: string,
): DrainMark | undefined {
  const value = tags?.[drainMarkTagKey(ownerId)];
  if (value === undefined) return undefined;
  const [reason, since] = value.trim().split(/\s+/, 2);
  const known = (DRAIN_REASONS as readonly string[]).includes(reason ?? '');
  return {
    reason: known ? (reason as DrainReason) : 'unknown',
    ...(since !== undefined && !Number.isNaN(Date.parse(since)) && { since }),
  };
}
