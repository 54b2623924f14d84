/**
 * Runs a piece of work with the latency proxy in rounds mode, so that its sequential round trips do not
 * depend on how long moto takes for each call.
 *
 * With a fixed added latency alone, moto's own time leaks into the figure: while a slow call (a
 * DescribeInstances of 500 instances takes moto seconds) is out, a chain of two quick calls that do not need
 * it can finish, and the call that waited for the slow one then starts after the second quick call ended: a
 * chain of three by time, two by dependency. In rounds mode the proxy holds every answer, and the bench
 * releases the held answers together, as one round, only when
 * - every call the product has in flight has its HTTP attempt at the proxy (none is still being built, none
 *   waits in a rate limit or a retry backoff),
 * - every answer released before has been consumed (the product has run everything it could run with it:
 *   the check runs in a later event-loop turn, after the product's synchronous work and promise callbacks),
 * - moto has answered every held request, and the round is at least the added latency old.
 * So every call of round k+1 was sent after every answer of round k was in, and each answer of a round comes
 * back at the same moment: the longest chain of spans (bench/round-trips.ts) is then the number of rounds of
 * calls that had to wait for each other, the dependency depth, whatever moto's speed.
 */
import type { CallCounter } from './call-counter';
import type { ProxyEvent, ProxyProcess } from './latency-proxy';

/**
 * Runs `work` with the proxy in rounds mode (see the module comment), and switches rounds mode off after.
 * @param minRoundMs - a round lasts at least this long (the latency a round trip has against AWS)
 */
export async function inRounds<T>(
  proxy: ProxyProcess,
  counter: CallCounter,
  minRoundMs: number,
  work: () => Promise<T>,
): Promise<T> {
  const arrived = new Map<string, number>();
  const ready = new Set<string>();
  const released = new Set<string>();
  let scheduled = false;
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    scheduled = false;
    const flying = counter.inFlight();
    if (flying.calls !== flying.attempts.size) return;
    for (const id of flying.attempts) if (!arrived.has(id) || released.has(id)) return;
    const held = [...arrived.keys()].filter((id) => !released.has(id));
    if (held.length === 0 || held.some((id) => !ready.has(id))) return;
    const age = performance.now() - Math.min(...held.map((id) => arrived.get(id) ?? 0));
    if (age < minRoundMs) {
      timer ??= setTimeout(() => {
        timer = undefined;
        schedule();
      }, minRoundMs - age);
      return;
    }
    for (const id of held) released.add(id);
    proxy.release(held);
  };
  // A later turn of the event loop: the product's callbacks for what just happened have run by then.
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(check);
  };
  const onEvent = (event: ProxyEvent) => {
    if (event.type === 'arrived') arrived.set(event.id, performance.now());
    else if (event.type === 'ready') ready.add(event.id);
    schedule();
  };
  await proxy.setRounds(true);
  const stopProxy = proxy.onEvent(onEvent);
  const stopCounter = counter.onChange(schedule);
  try {
    return await work();
  } finally {
    stopProxy();
    stopCounter();
    if (timer !== undefined) clearTimeout(timer);
    // Answers of attempts the product gave up on (timed out) may still be held: let them go.
    proxy.release([...arrived.keys()].filter((id) => !released.has(id)));
    await proxy.setRounds(false);
  }
}
