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

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const PREFIX = /^(\d|[12]\d|3[0-2])$/;
/** The number of IPv4 addresses. */
export const IPV4_SPACE = 2 ** 32;

/** An IPv4 CIDR as numbers: the address as written (host bits included) and the prefix length. */
export interface Ipv4Cidr {
  readonly address: number;
  readonly prefix: number;
}

/** A dotted-quad IPv4 address as an unsigned 32-bit number; undefined unless it is exactly `a.b.c.d`. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => OCTET.test(part))) return undefined;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

/** Formats an unsigned 32-bit number as a dotted quad. */
export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Parses `a.b.c.d/n` (n 0-32); undefined when it is not an IPv4 CIDR. Host bits are kept: see {@link networkOf}. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const [address, prefix, ...rest] = text.split('/');
  if (address === undefined || prefix === undefined || rest.length > 0 || !PREFIX.test(prefix))
    return undefined;
  const value = parseIpv4(address);
  return value === undefined ? undefined : { address: value, prefix: Number(prefix) };
}

/** How many addresses a CIDR covers. */
export function cidrSize(cidr: Pick<Ipv4Cidr, 'prefix'>): number {
  return 2 ** (32 - cidr.prefix);
}

/** The first address of the range (the address with its host bits cleared). */
export function networkOf(cidr: Ipv4Cidr): number {
  const size = cidrSize(cidr);
  return Math.floor(cidr.address / size) * size;
}

/** Whether the CIDR is written canonically: no host bits set (`10.0.0.0/8`, not `10.0.0.1/8`). */
export function isCanonicalCidr(cidr: Ipv4Cidr): boolean {
  return networkOf(cidr) === cidr.address;
}

/** The canonical form of a CIDR, e.g. `0.0.0.0/0` for `1.2.3.4/0`. */
export function canonicalCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(networkOf(cidr))}/${cidr.prefix}`;
}

/**
 * The share (0-1) of the IPv4 space the CIDRs cover together; overlaps are counted once, so
 * `0.0.0.0/1` + `128.0.0.0/1` is 1 and `10.0.0.0/8` twice is 1/256.
 */
export function ipv4CoverageShare(cidrs: readonly Ipv4Cidr[]): number {
  const ranges = cidrs
    .map((cidr) => ({ start: networkOf(cidr), end: networkOf(cidr) + cidrSize(cidr) }))
    .sort((a, b) => a.start - b.start);
  let covered = 0;
  let reached = 0;
  for (const { start, end } of ranges) {
    if (end <= reached) continue;
    covered += end - Math.max(start, reached);
    reached = end;
  }
  return covered / IPV4_SPACE;
}
