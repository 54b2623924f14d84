/** Port ranges: contiguous ports from one source merge into one rule to stay under the rules quota. */

/** An inclusive port range. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/**
 * Merges ports into the fewest inclusive ranges, sorted; duplicates collapse.
 * @example mergePortRanges([30081, 30080, 30090]) // [{from: 30080, to: 30081}, {from: 30090, to: 30090}]
 */
export function mergePortRanges(ports: Iterable<number>): PortRange[] {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const ranges: { from: number; to: number }[] = [];
  for (const port of sorted) {
    const last = ranges.at(-1);
    if (last !== undefined && port === last.to + 1) {
      last.to = port;
    } else {
      ranges.push({ from: port, to: port });
    }
  }
  return ranges;
}

/** Whether the range holds the port. */
export function rangeHolds(range: PortRange, port: number): boolean {
  return port >= range.from && port <= range.to;
}

/** The range as people write it: `30080` or `30080-30081`. */
export function formatPortRange(range: PortRange): string {
  return range.from === range.to ? `${range.from}` : `${range.from}-${range.to}`;
}
