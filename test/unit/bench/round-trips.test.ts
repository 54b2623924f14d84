import { chainDepths, longestChain, roundTrips, roundTripsUntil } from '../../../bench/round-trips';

/** A call's span with a name, for readable expectations. */
const call = (name: string, startMs: number, endMs: number) => ({ name, startMs, endMs });

describe('bench round trips', () => {
  it('counts calls sent together as one round trip, however long each takes', () => {
    // Prepare: three reads sent at once; moto answers them one after another.
    const spans = [call('a', 0, 40), call('b', 1, 90), call('c', 2, 300)];

    // Act / Assert
    expect(roundTrips(spans)).toBe(1);
  });

  it('counts a chain of dependent calls, and the deepest branch of a fan-out', () => {
    // Prepare: a -> (b, c together) -> d after c; e after b only, still in flight when d starts.
    const spans = [
      call('a', 0, 40),
      call('b', 41, 80),
      call('c', 41, 120),
      call('d', 121, 160),
      call('e', 81, 200),
    ];

    // Act
    const depths = chainDepths(spans);

    // Assert
    expect(depths).toEqual([1, 2, 2, 3, 3]);
    expect(roundTrips(spans)).toBe(3);
    expect(longestChain(spans).map((s) => s.name)).toEqual(['a', 'c', 'd']);
  });

  it('measures until selected calls returned, counting the chains that lead to them', () => {
    // Prepare
    const spans = [call('read', 0, 40), call('write', 50, 90), call('dns', 100, 140)];

    // Act / Assert
    expect(roundTripsUntil(spans, (s) => s.name === 'write')).toBe(2);
    expect(roundTripsUntil(spans, (s) => s.name === 'none')).toBeUndefined();
    expect(roundTrips([])).toBe(0);
  });
});
