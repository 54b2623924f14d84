import type { CallCounter, InFlight } from '../../../bench/call-counter';
import type { ProxyEvent, ProxyProcess } from '../../../bench/latency-proxy';
import { roundTrips, type Span } from '../../../bench/round-trips';
import { inRounds } from '../../../bench/rounds';

/**
 * A proxy and a product's clients in memory: `send` is one call with one attempt; the "upstream" answers
 * after `upstreamMs`, and the answer reaches the caller only when the proxy releases it (rounds mode) or at
 * once (rounds mode off).
 */
function fakeWorld() {
  const listeners = new Set<(event: ProxyEvent) => void>();
  const changes = new Set<() => void>();
  const waiting = new Map<string, () => void>();
  const open = new Set<string>();
  let calls = 0;
  let next = 1;
  let rounds = false;
  const spans: Span[] = [];
  const emit = (event: ProxyEvent) =>
    setImmediate(() => {
      for (const l of listeners) l(event);
    });
  const changed = () => {
    for (const l of changes) l();
  };
  const proxy = {
    setRounds: async (on: boolean) => {
      rounds = on;
    },
    release: (ids: readonly string[]) => {
      for (const id of ids) {
        const resume = waiting.get(id);
        waiting.delete(id);
        resume?.();
      }
    },
    onEvent: (listener: (event: ProxyEvent) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as ProxyProcess;
  const counter = {
    inFlight: (): InFlight => ({ calls, attempts: new Set(open) }),
    onChange: (listener: () => void) => {
      changes.add(listener);
      return () => changes.delete(listener);
    },
  } as unknown as CallCounter;
  const send = async (upstreamMs: number): Promise<void> => {
    const startMs = performance.now();
    const id = String(next++);
    calls += 1;
    open.add(id);
    changed();
    const released = new Promise<void>((resolve) => waiting.set(id, resolve));
    emit({ type: 'arrived', id });
    await new Promise((resolve) => setTimeout(resolve, upstreamMs));
    emit({ type: 'ready', id });
    if (!rounds) waiting.get(id)?.();
    await released;
    open.delete(id);
    calls -= 1;
    changed();
    spans.push({ startMs, endMs: performance.now() });
  };
  return { proxy, counter, send, spans };
}

/** One slow call beside a chain of two quick ones; a last call needs only the slow one. */
async function product(send: (upstreamMs: number) => Promise<void>): Promise<void> {
  await Promise.all([send(120).then(() => send(1)), send(1).then(() => send(1))]);
}

describe('bench rounds', () => {
  it('counts by dependency: a quick chain beside a slow call does not lengthen the count', async () => {
    // Prepare
    const world = fakeWorld();

    // Act
    await inRounds(world.proxy, world.counter, 5, () => product(world.send));

    // Assess
    expect(world.spans).toHaveLength(4);
    expect(roundTrips(world.spans)).toBe(2);
  });

  it('without rounds, time alone counts the call after the slow one three deep', async () => {
    // Prepare
    const world = fakeWorld();

    // Act
    await product(world.send);

    // Assess: the control case the rounds exist for.
    expect(roundTrips(world.spans)).toBe(3);
  });
});
