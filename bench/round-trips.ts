/**
 * Sequential round trips: how many AWS calls a piece of work must wait for one after another.
 *
 * Definition. Call B *follows* call A when B started after A had returned (A.end <= B.start, both taken
 * in the caller's process: A's span ends when its result is in the caller's hands, B's starts when `send`
 * is called). A chain is a sequence of calls each following the previous one; the depth of a call is the
 * length of the longest chain ending with it; the round trips of a piece of work are the largest depth
 * among its calls.
 *
 * It never undercounts: a call that needs another call's answer can only be sent after that answer arrived,
 * so every true dependency chain is a chain here. By time alone it can overcount: while a slow call is out,
 * a chain of quick calls that do not need it can finish, and the call that waited for the slow one then
 * starts after the last quick call ended. So the bench runs its passes with the proxy in rounds mode
 * (bench/rounds.ts): every answer of a round comes back at the same moment, after the product sent every
 * call it could, and the longest chain is then the dependency depth whatever moto's time for each call.
 */

/** A call's span, in ms on one clock. */
export interface Span {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * The depth of every call: 1 + the largest depth among the calls that ended before it started.
 * @returns depths in the order of `spans`
 */
export function chainDepths(spans: readonly Span[]): number[] {
  const order = spans.map((_, i) => i).sort((a, b) => (spans[a]?.startMs ?? 0) - (spans[b]?.startMs ?? 0));
  const depth = new Array<number>(spans.length).fill(0);
  // Starts in ascending order: every call a span can follow started (and ended) before it, so its depth is final.
  for (const i of order) {
    const span = spans[i] as Span;
    let before = 0;
    for (const j of order) {
      const other = spans[j] as Span;
      if (other.startMs >= span.startMs) break;
      if (other.endMs <= span.startMs) before = Math.max(before, depth[j] ?? 0);
    }
    depth[i] = before + 1;
  }
  return depth;
}

/** The round trips of a set of calls: the longest chain (0 for no call). */
export function roundTrips(spans: readonly Span[]): number {
  return Math.max(0, ...chainDepths(spans));
}

/**
 * The round trips until every call `until` selects had returned: the deepest of them, chains counted
 * over all `spans` (a selected call may follow unselected ones). Undefined when none is selected.
 */
export function roundTripsUntil<T extends Span>(
  spans: readonly T[],
  until: (span: T) => boolean,
): number | undefined {
  const depths = chainDepths(spans);
  const selected = depths.filter((_, i) => until(spans[i] as T));
  return selected.length === 0 ? undefined : Math.max(...selected);
}

/**
 * One longest chain, first call first: what a piece of work waited for, one round trip after another; with
 * `until`, the longest chain ending with a call it selects (empty when it selects none). Among equally deep
 * predecessors the one that returned last is taken (the one the next call waited for).
 */
export function longestChain<T extends Span>(
  spans: readonly T[],
  until: (span: T) => boolean = () => true,
): T[] {
  const depths = chainDepths(spans);
  let at = -1;
  for (const [i, span] of spans.entries()) {
    if (until(span) && (at < 0 || (depths[i] ?? 0) > (depths[at] ?? 0))) at = i;
  }
  const chain: T[] = [];
  while (at >= 0) {
    const span = spans[at] as T;
    chain.unshift(span);
    const want = (depths[at] ?? 0) - 1;
    let next = -1;
    for (const [j, other] of spans.entries()) {
      if (
        depths[j] === want &&
        other.endMs <= span.startMs &&
        (next < 0 || other.endMs > (spans[next] as T).endMs)
      ) {
        next = j;
      }
    }
    at = next;
  }
  return chain;
}
