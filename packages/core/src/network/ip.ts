import ipaddr from 'ipaddr.js';

/**
 * IPv4 addresses and prefixes for tenant networks, parsed by ipaddr.js (a
 * maintained library) and held as unsigned 32-bit numbers so that the
 * compiler, the switch and the verifier compare integers. Customer and
 * provider addresses are IPv4 here; IPv6 CAs are not modelled yet.
 */
export interface Prefix {
  /** Network address as an unsigned 32-bit integer. */
  base: number;
  length: number;
}

/** Parsed addresses, memoised: the switch and the verifier parse the same few thousand CAs millions of times. */
const parsedIpv4 = new Map<string, number | null>();

export function parseIpv4(text: string): number | null {
  let value = parsedIpv4.get(text);
  if (value === undefined) {
    value = parseIpv4Uncached(text);
    if (parsedIpv4.size > 200_000) parsedIpv4.clear();
    parsedIpv4.set(text, value);
  }
  return value;
}

function parseIpv4Uncached(text: string): number | null {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
  const bytes = ipaddr.IPv4.parse(text).toByteArray();
  return (((bytes[0] ?? 0) << 24) | ((bytes[1] ?? 0) << 16) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)) >>> 0;
}

export function formatIpv4(value: number): string {
  return ipaddr
    .fromByteArray([(value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255])
    .toString();
}

function maskOf(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

/** "10.1.1.0/24" -> prefix; null when malformed, not IPv4, or host bits are set ("10.1.1.5/24"). */
export function parsePrefix(text: string): Prefix | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const address = text.slice(0, slash);
  if (!ipaddr.IPv4.isValidFourPartDecimal(address)) return null;
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(text);
  } catch {
    return null;
  }
  if (parsed[0].kind() !== 'ipv4') return null;
  const base = parseIpv4(address);
  if (base === null) return null;
  const length = parsed[1];
  if ((base & maskOf(length)) >>> 0 !== base) return null;
  return { base, length };
}

export function formatPrefix(prefix: Prefix): string {
  return `${formatIpv4(prefix.base)}/${prefix.length}`;
}

export function prefixSize(prefix: Prefix): number {
  return 2 ** (32 - prefix.length);
}

export function prefixContains(prefix: Prefix, address: number): boolean {
  return (address & maskOf(prefix.length)) >>> 0 === prefix.base;
}

export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  const shorter = Math.min(a.length, b.length);
  const m = maskOf(shorter);
  return (a.base & m) >>> 0 === (b.base & m) >>> 0;
}

/** Broadcast (last) address of a prefix. */
export function prefixLast(prefix: Prefix): number {
  return (prefix.base + prefixSize(prefix) - 1) >>> 0;
}

/**
 * IPv4 ranges that are not unicast addresses a VM can own (RFC 6890): a
 * subnet or PA pool inside or overlapping one of them would hand out
 * addresses no host stack routes as ordinary unicast. The limited broadcast
 * address comes first, so that it is named rather than its enclosing 240/4.
 */
export const RESERVED_RANGES: readonly { range: string; name: string }[] = [
  { range: '255.255.255.255/32', name: 'limited broadcast address' },
  { range: '0.0.0.0/8', name: '"this network" range' },
  { range: '127.0.0.0/8', name: 'loopback range' },
  { range: '169.254.0.0/16', name: 'link-local range' },
  { range: '224.0.0.0/4', name: 'multicast range' },
  { range: '240.0.0.0/4', name: 'reserved (class E) range' },
];

const reservedParsed = RESERVED_RANGES.map((r) => ({ ...r, prefix: parsePrefix(r.range) as Prefix }));

/**
 * Why `text` (a prefix) cannot hold VM or provider addresses, or null when it
 * is a unicast range: "127.0.0.0/24 is in the loopback range 127.0.0.0/8".
 * Malformed prefixes are left to the parser's own message (null here).
 */
export function reservedRangeProblem(text: string): string | null {
  const prefix = parsePrefix(text);
  if (!prefix) return null;
  const inside = reservedParsed.find((r) => prefix.length >= r.prefix.length && prefixesOverlap(prefix, r.prefix));
  if (inside?.prefix.length === 32) return `${text} is the ${inside.name} ${formatIpv4(inside.prefix.base)}`;
  if (inside) return `${text} is in the ${inside.name} ${inside.range}`;
  const overlapped = reservedParsed.find((r) => prefixesOverlap(prefix, r.prefix));
  return overlapped ? `${text} overlaps the ${overlapped.name} ${overlapped.range}` : null;
}

export const MAC_RE = /^([0-9A-F]{2}-){5}[0-9A-F]{2}$/;

/** MAC as a number (48 bits fit a double exactly). Accepts 00-15-5D-00-00-01 or 00:15:5d:00:00:01. */
export function parseMac(text: string): number | null {
  const norm = text.toUpperCase().replaceAll(':', '-');
  if (!MAC_RE.test(norm)) return null;
  return Number.parseInt(norm.replaceAll('-', ''), 16);
}

export function formatMac(value: number): string {
  const hex = value.toString(16).toUpperCase().padStart(12, '0');
  return hex.match(/../g)?.join('-') ?? hex;
}
