// IP address text <-> bytes and keepalived's address ordering, without I/O (no dns, no node:net sockets).
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 'inet' | 'inet6';

export class AddressError extends Error {
  readonly code = 'bad-address';
  constructor(readonly input: string, readonly family?: Family) {
    super(`invalid ${family === 'inet6' ? 'IPv6' : family === 'inet' ? 'IPv4' : 'IP'} address '${input}'`);
  }
}

export function familyOf(addr: string): Family {
  if (isIPv4(addr)) return 'inet';
  if (isIPv6(addr)) return 'inet6';
  throw new AddressError(addr);
}

export function addrLength(family: Family): 4 | 16 {
  return family === 'inet' ? 4 : 16;
}

/** Parse a textual IPv4/IPv6 address into its network-order bytes. Throws AddressError. */
export function addrToBytes(addr: string, family: Family = familyOf(addr)): Uint8Array {
  if (family === 'inet') {
    if (!isIPv4(addr)) throw new AddressError(addr, family);
    return Uint8Array.from(addr.split('.').map(Number));
  }
  if (!isIPv6(addr)) throw new AddressError(addr, family);
  let text = addr;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // Embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    text = text.slice(0, v4.index) + ((b[0]! << 8) | b[1]!).toString(16) + ':' + ((b[2]! << 8) | b[3]!).toString(16);
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const groups = tail !== undefined ? [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

/** Format network-order bytes as text (IPv6 in RFC 5952 compressed form). */
export function bytesToAddr(bytes: Uint8Array, family: Family): string {
  if (family === 'inet') return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((bytes[i]! << 8) | bytes[i + 1]!);
  // Longest run of >= 2 zero groups is compressed.
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}

/** Normalised text form, e.g. for comparing VIP lists. */
export function normalizeAddr(addr: string): string {
  const fam = familyOf(addr);
  return bytesToAddr(addrToBytes(addr, fam), fam);
}

/**
 * Compare two addresses as unsigned big-endian numbers, like keepalived's inet_sockaddrcmp (memcmp of the
 * network-order bytes): negative if a < b, 0 if equal, positive if a > b. Different families compare equal (0),
 * as keepalived treats them as "no opinion".
 */
export function compareAddr(a: string, b: string): number {
  const fa = familyOf(a), fb = familyOf(b);
  if (fa !== fb) return 0;
  const x = addrToBytes(a, fa), y = addrToBytes(b, fb);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}

export function isMulticast(addr: string): boolean {
  const fam = familyOf(addr);
  const b = addrToBytes(addr, fam);
  return fam === 'inet' ? (b[0]! & 0xf0) === 0xe0 : b[0] === 0xff;
}
