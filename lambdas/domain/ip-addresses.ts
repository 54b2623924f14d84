/** IPv4 address helpers shared by the ingress and record planners. */

/** Orders IPv4 addresses numerically, so 10.0.0.9 comes before 10.0.0.10. */
export function compareIps(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i += 1) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
