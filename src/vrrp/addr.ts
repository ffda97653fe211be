// The VRRP core's view of addresses: 'inet'/'inet6' families, typed AddressError, keepalived's address ordering.
// Text <-> bytes is src/net/ipaddr.ts's (pure); this only checks the family. No I/O (no dns, no sockets).
import { isIPv4, isIPv6 } from 'node:net';
import { bytesToIp, ipToBytes } from '../net/ipaddr.js';

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

/** Parse a textual IPv4/IPv6 address into its network-order bytes (a zone id is dropped). Throws AddressError. */
export function addrToBytes(addr: string, family: Family = familyOf(addr)): Uint8Array {
  if (family === 'inet' ? !isIPv4(addr) : !isIPv6(addr)) throw new AddressError(addr, family);
  return new Uint8Array(ipToBytes(addr));
}

/** Format network-order bytes as text (RFC 5952, as inet_ntop/ip print it). */
export function bytesToAddr(bytes: Uint8Array, family: Family): string {
  return bytesToIp(bytes.subarray(0, addrLength(family)));
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
