// IP addresses, the one module for them (pure: no node:net, no sockets, no dns; the VRRP core, the codecs and the
// config model all import it). Text is accepted as inet_pton does (dotted quads without leading zeros, IPv6 with
// at most one '::' and an optional dotted-quad tail), plus an IPv6 zone id ('%eth0') where the caller allows it,
// which is dropped. Text is printed as RFC 5952 (lower case, the longest run of two or more zero groups as '::',
// IPv4-mapped with a dotted tail): what `ip` prints, so tests compare our output with `ip -j` directly.
// A family is 4 or 6 everywhere; 'inet'/'inet6' only come out of familyName() for text meant for people or `ip`,
// and the kernel's AF_* numbers live in ./constants.ts for the wire codecs.
import { KtError } from '../util/errors.js';

export type Family = 4 | 6;

/** keepalived's default VRRP multicast groups (RFC 5798 §5.1.1.2, §5.1.2.2). */
export const VRRP_GROUP4 = '224.0.0.18';
export const VRRP_GROUP6 = 'ff02::12';
export const vrrpGroup = (family: Family): string => (family === 4 ? VRRP_GROUP4 : VRRP_GROUP6);

/** The name `ip` and keepalived's output use for a family. */
export const familyName = (family: Family): 'inet' | 'inet6' => (family === 4 ? 'inet' : 'inet6');
export const addrLength = (family: Family): 4 | 16 => (family === 4 ? 4 : 16);

/** Text that is not an address (of the expected family, when one was expected), or bytes of the wrong length. */
export class AddressError extends KtError {
  constructor(
    readonly input: string,
    readonly family?: Family,
    message = `not an ${family === 6 ? 'IPv6' : family === 4 ? 'IPv4' : 'IP'} address: '${input}'`,
  ) {
    super('KT_ADDR_INVALID', message);
  }
}

// ---- parsing ----------------------------------------------------------------------------------------------------

/** Dotted quad → 4 bytes written at out[off..], or false. Octets are 1-3 digits, <= 255, no leading zero. */
function parse4(s: string, start: number, end: number, out: Uint8Array, off: number): boolean {
  let part = 0;
  let digits = 0;
  let value = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 46; /* '.' closes the last octet */
    if (c === 46) {
      if (digits === 0 || part > 3) return false;
      out[off + part++] = value;
      digits = 0;
      value = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return false;
    } else return false;
  }
  return part === 4;
}

const hexVal = (c: number): number =>
  c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;

/** Zone id characters node accepted after '%': letters, digits, '-', '.', ':'. */
const ZONE_RE = /^[0-9a-zA-Z.:-]+$/;

/** IPv6 text in s[0..end) → 16 bytes, or false. */
function parse6(s: string, end: number, out: Uint8Array): boolean {
  const groups: number[] = [];
  let gap = -1; // index in groups where '::' stands
  let i = 0;
  if (s.charCodeAt(0) === 58 /* : */) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === end) return fill6(groups, gap, out);
  }
  for (;;) {
    // One group (or the dotted-quad tail), then ':' , '::' or the end.
    const start = i;
    let value = 0;
    while (i < end && i - start <= 4) {
      const h = hexVal(s.charCodeAt(i));
      if (h < 0) break;
      value = value * 16 + h;
      i++;
    }
    if (i < end && s.charCodeAt(i) === 46 /* . */) {
      // The dotted-quad tail: two more groups, and nothing after it.
      if (groups.length > 6) return false;
      const v4 = new Uint8Array(4);
      if (!parse4(s, start, end, v4, 0)) return false;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      return fill6(groups, gap, out);
    }
    const len = i - start;
    if (len === 0 || len > 4) return false;
    groups.push(value);
    if (groups.length > 8) return false;
    if (i === end) return fill6(groups, gap, out);
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = groups.length;
      i++;
      if (i === end) return fill6(groups, gap, out);
    } else if (i === end) return false; // a trailing single ':'
  }
}

function fill6(groups: number[], gap: number, out: Uint8Array): boolean {
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) return false;
  const zeros = 8 - groups.length;
  let g = 0;
  for (let k = 0; k < 8; k++) {
    const v = gap >= 0 && k >= gap && k < gap + zeros ? 0 : groups[g++]!;
    out[k * 2] = v >> 8;
    out[k * 2 + 1] = v & 0xff;
  }
  return true;
}

export interface AddressParseOptions {
  /** Only this family is accepted. */
  family?: Family;
  /** Accept an IPv6 zone id ('%eth0', dropped); default true. */
  zone?: boolean;
}

/** Text → family and network-order bytes (4 or 16), or undefined when it is not an address. Never throws. */
export function parseAddress(text: string, opts: AddressParseOptions = {}): { family: Family; bytes: Buffer } | undefined {
  if (typeof text !== 'string') return undefined;
  if (opts.family !== 6 && !text.includes(':')) {
    const b = Buffer.allocUnsafe(4);
    return parse4(text, 0, text.length, b, 0) ? { family: 4, bytes: b } : undefined;
  }
  if (opts.family === 4) return undefined;
  let end = text.length;
  const pct = text.indexOf('%');
  if (pct >= 0) {
    if (opts.zone === false || !ZONE_RE.test(text.slice(pct + 1))) return undefined;
    end = pct;
  }
  const b = Buffer.allocUnsafe(16);
  return end > 0 && parse6(text, end, b) ? { family: 6, bytes: b } : undefined;
}

/** 4, 6, or undefined when the text is not an address (as node's isIP, without the 0). */
export const addressFamily = (text: string): Family | undefined => parseAddress(text)?.family;
export const isAddress = (text: string, family?: Family): boolean => parseAddress(text, { family }) !== undefined;

/** The family of an address. Throws AddressError. */
export function familyOf(text: string): Family {
  const a = parseAddress(text);
  if (!a) throw new AddressError(text);
  return a.family;
}

/** 4 or 16 bytes in network order (a zone id is dropped). Throws AddressError on bad text or another family. */
export function addrToBytes(text: string, family?: Family): Buffer {
  const a = parseAddress(text, { family });
  if (!a) throw new AddressError(text, family);
  return a.bytes;
}

// ---- printing ---------------------------------------------------------------------------------------------------

/** Network-order bytes → RFC 5952 text. With a family, the first 4/16 bytes are used; without, 4 or 16 must be given. */
export function bytesToAddr(b: Uint8Array, family?: Family): string {
  if (family !== undefined && b.length >= addrLength(family)) b = b.subarray(0, addrLength(family));
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) throw new AddressError(Buffer.from(b).toString('hex'), family, `address of ${b.length} bytes`);
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  // IPv4-mapped addresses print with a dotted tail, as ip/inet_ntop do.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  let bestStart = -1;
  let bestLen = 1; // a single zero group is not compressed (RFC 5952 4.2.2)
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The canonical (RFC 5952) text of an address, e.g. to compare address lists as strings. Throws AddressError. */
export function canonicalAddr(text: string, family?: Family): string {
  // A valid dotted quad has no leading zeros, so it is already canonical.
  const a = parseAddress(text, { family });
  if (!a) throw new AddressError(text, family);
  return a.family === 4 ? text : bytesToAddr(a.bytes);
}

// ---- prefixes ---------------------------------------------------------------------------------------------------

export interface Cidr {
  /** Canonical text of the address part. */
  address: string;
  family: Family;
  /** The prefix length when `/nn` was written. */
  prefix?: number;
}

/**
 * `ADDR` or `ADDR/NN` → canonical address, family and prefix length (0..32 / 0..128), or undefined when bad.
 * Strict like inet_pton: no zone id. `allowPrefix: false` refuses a `/NN`.
 */
export function parseCidr(text: string, allowPrefix = true): Cidr | undefined {
  const slash = text.indexOf('/');
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  const pfx = slash >= 0 ? text.slice(slash + 1) : undefined;
  if (pfx !== undefined && (!allowPrefix || !/^\d+$/.test(pfx))) return undefined;
  const a = parseAddress(addr, { zone: false });
  if (!a) return undefined;
  const prefix = pfx === undefined ? undefined : Number(pfx);
  if (prefix !== undefined && prefix > (a.family === 4 ? 32 : 128)) return undefined;
  return { address: a.family === 4 ? addr : bytesToAddr(a.bytes), family: a.family, prefix };
}

// ---- classification and order -----------------------------------------------------------------------------------

/** 224.0.0.0/4 or ff00::/8. Throws AddressError. */
export function isMulticast(text: string): boolean {
  const b = addrToBytes(text);
  return b.length === 4 ? (b[0]! & 0xf0) === 0xe0 : b[0] === 0xff;
}

/** fe80::/10, as the kernel's and keepalived's IN6_IS_ADDR_LINKLOCAL. False for anything that is not IPv6. */
export function isLinkLocal6(text: string): boolean {
  const a = parseAddress(text, { family: 6 });
  return a !== undefined && a.bytes[0] === 0xfe && (a.bytes[1]! & 0xc0) === 0x80;
}

/**
 * Compare two addresses as unsigned big-endian numbers, like keepalived's inet_sockaddrcmp (memcmp of the
 * network-order bytes): negative if a < b, 0 if equal, positive if a > b. Different families compare equal (0),
 * as keepalived treats them as "no opinion". Throws AddressError.
 */
export function compareAddr(a: string, b: string): number {
  const x = addrToBytes(a), y = addrToBytes(b);
  if (x.length !== y.length) return 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}

// ---- IPv4 as numbers (ranges, netmasks) -------------------------------------------------------------------------

export const ipv4ToNumber = (text: string): number => addrToBytes(text, 4).readUInt32BE(0);
export const numberToIpv4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
/** IPv4 mask from a prefix length (24 → 0xffffff00). */
export const prefixToMask = (p: number): number => (p <= 0 ? 0 : (0xffffffff << (32 - p)) >>> 0);
/** IPv6 address ↔ 128-bit number (range expansion). */
export const ipv6ToBigInt = (text: string): bigint => BigInt(`0x${addrToBytes(text, 6).toString('hex')}`);
export const bigIntToIpv6 = (n: bigint): string => bytesToAddr(Buffer.from(n.toString(16).padStart(32, '0'), 'hex'));
