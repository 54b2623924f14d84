import fc from 'fast-check';
import {
  changeWeight,
  type DesiredRecords,
  MAX_CHARS_PER_BATCH,
  MAX_RECORDS_PER_BATCH,
  ownershipMarker,
  planRecords,
  splitIntoBatches,
} from '../../../lambdas/domain/dns-records';
import type { RecordChange, RecordSet } from '../../../lambdas/domain/network-ports';

const OWNER = 'nlb-nodeport-sync';
const CLUSTER = 'blue';
const MARKER = ownershipMarker(OWNER, CLUSTER);
const NAMES = ['a.example.com.', 'b.example.com.', 'c.example.com.', '_http._tcp.example.com.'];

const ipArb = fc.integer({ min: 1, max: 40 }).map((n) => `10.0.0.${n}`);

const desiredArb: fc.Arbitrary<DesiredRecords> = fc
  .record({
    names: fc.subarray(NAMES),
    ips: fc.array(ipArb, { maxLength: 6 }),
  })
  .map(({ names, ips }) => {
    const values = [...new Set(ips)].sort();
    return {
      names,
      recordSets: names.flatMap((name): RecordSet[] =>
        name.startsWith('_')
          ? [{ name, type: 'SRV', ttl: 60, values: ['0 50 30080 a.example.com.'] }]
          : values.length > 0
            ? [{ name, type: 'A', ttl: 60, values }]
            : [],
      ),
      warnings: [],
    };
  });

const observedArb: fc.Arbitrary<RecordSet[]> = fc
  .array(
    fc.record({
      name: fc.constantFrom(...NAMES, 'other.example.com.'),
      type: fc.constantFrom('A', 'AAAA', 'SRV', 'TXT', 'MX'),
      values: fc.array(
        fc.oneof(
          ipArb,
          fc.constant(MARKER),
          fc.constant(ownershipMarker(OWNER, 'green')),
          fc.constant('"v=spf1 -all"'),
        ),
        { minLength: 1, maxLength: 3 },
      ),
      ttl: fc.constantFrom(60, 300),
    }),
    { maxLength: 10 },
  )
  .map((sets) => {
    // Route 53 holds one simple record set per name and type.
    const unique = new Map<string, RecordSet>();
    for (const set of sets) {
      unique.set(`${set.name}|${set.type}`, { ...set, values: [...new Set(set.values)].sort() });
    }
    return [...unique.values()];
  });

/** Applies changes the way Route 53 would (without its validation). */
function applyChanges(observed: readonly RecordSet[], changes: readonly RecordChange[]): RecordSet[] {
  const byKey = new Map(observed.map((set) => [`${set.name}|${set.type}`, set]));
  for (const change of changes) {
    const key = `${change.recordSet.name}|${change.recordSet.type}`;
    if (change.action === 'DELETE') byKey.delete(key);
    else byKey.set(key, change.recordSet);
  }
  return [...byKey.values()];
}

function ownedNames(observed: readonly RecordSet[]): Set<string> {
  return new Set(observed.filter((s) => s.type === 'TXT' && s.values.includes(MARKER)).map((s) => s.name));
}

describe('Function: planRecords (properties)', () => {
  it('never changes a record at a name without our marker, except to create a name nobody holds', () => {
    fc.assert(
      fc.property(desiredArb, observedArb, (desired, observed) => {
        // Act
        const plan = planRecords({ ownerId: OWNER, clusterName: CLUSTER, ttl: 60, desired, observed });

        // Assess
        const owned = ownedNames(observed);
        const taken = new Set(observed.map((s) => s.name));
        for (const change of plan.changes) {
          const name = change.recordSet.name;
          if (owned.has(name)) continue;
          expect(change.action).toBe('CREATE');
          expect(taken.has(name)).toBe(false);
        }
      }),
    );
  });

  it('never deletes or overwrites a record type it does not write', () => {
    fc.assert(
      fc.property(desiredArb, observedArb, (desired, observed) => {
        // Act
        const plan = planRecords({ ownerId: OWNER, clusterName: CLUSTER, ttl: 60, desired, observed });

        // Assess
        for (const change of plan.changes)
          expect(['A', 'AAAA', 'SRV', 'TXT']).toContain(change.recordSet.type);
        for (const change of plan.changes.filter((c) => c.recordSet.type === 'TXT')) {
          expect(change.recordSet.values).toEqual([MARKER]);
        }
      }),
    );
  });

  it('plans nothing when planned again after its plan was applied', () => {
    fc.assert(
      fc.property(desiredArb, observedArb, (desired, observed) => {
        // Prepare
        const input = { ownerId: OWNER, clusterName: CLUSTER, ttl: 60, desired };
        const first = planRecords({ ...input, observed });

        // Act
        const second = planRecords({ ...input, observed: applyChanges(observed, first.changes) });

        // Assess
        expect(second.changes).toEqual([]);
      }),
    );
  });

  it('is deterministic whatever order the records are listed in', () => {
    fc.assert(
      fc.property(desiredArb, observedArb, (desired, observed) => {
        // Act
        const forward = planRecords({ ownerId: OWNER, clusterName: CLUSTER, ttl: 60, desired, observed });
        const reversed = planRecords({
          ownerId: OWNER,
          clusterName: CLUSTER,
          ttl: 60,
          desired: {
            ...desired,
            names: [...desired.names].reverse(),
            recordSets: [...desired.recordSets].reverse(),
          },
          observed: [...observed].reverse(),
        });

        // Assess
        expect(reversed).toEqual(forward);
      }),
    );
  });
});

describe('Function: splitIntoBatches (properties)', () => {
  it('keeps every change, in order, with each batch within the limits and each name in one batch', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            name: fc.constantFrom('a.', 'b.', 'c.', 'd.', 'e.'),
            action: fc.constantFrom<RecordChange['action']>('CREATE', 'UPSERT', 'DELETE'),
            count: fc.integer({ min: 1, max: 400 }),
          }),
          { maxLength: 12 },
        ),
        (raw) => {
          // Prepare
          const changes: RecordChange[] = [...raw]
            .sort((a, b) => a.name.localeCompare(b.name))
            .map((r) => ({
              action: r.action,
              recordSet: {
                name: r.name,
                type: 'A',
                ttl: 60,
                values: Array.from({ length: r.count }, (_, i) => `10.0.${i >> 8}.${i & 255}`),
              },
            }));
          const heaviestName = Math.max(
            0,
            ...['a.', 'b.', 'c.', 'd.', 'e.'].map((n) =>
              changes.filter((c) => c.recordSet.name === n).reduce((s, c) => s + changeWeight(c).records, 0),
            ),
          );
          fc.pre(heaviestName <= MAX_RECORDS_PER_BATCH);

          // Act
          const batches = splitIntoBatches(changes);

          // Assess
          expect(batches.flat()).toEqual(changes);
          for (const batch of batches) {
            const weight = batch
              .map(changeWeight)
              .reduce((a, b) => ({ records: a.records + b.records, chars: a.chars + b.chars }));
            expect(weight.records).toBeLessThanOrEqual(MAX_RECORDS_PER_BATCH);
            expect(weight.chars).toBeLessThanOrEqual(MAX_CHARS_PER_BATCH);
          }
          const batchOf = new Map<string, number>();
          batches.forEach((batch, i) => {
            for (const change of batch) {
              expect(batchOf.get(change.recordSet.name) ?? i).toBe(i);
              batchOf.set(change.recordSet.name, i);
            }
          });
        },
      ),
    );
  });
});
