// Address helpers for IPVS: parse/format IPv4 and IPv6 text, the 16-byte nf_inet_addr layout, and canonical
// forms (RFC 5952 for IPv6) so that desired and kernel-reported addresses compare as strings.
import { isIPv4, isIPv6 } from 'node:net';
import { AF_INET, AF_INET6, type AddressFamily } from './types.js';
import { KtError } from '../util/errors.js';

export function familyOf(addr: string): AddressFamily {
  if (isIPv4(addr)) return AF_INET;
  if (isIPv6(addr)) return AF_INET6;
  throw new KtError('KT_IPVS_BAD_SPEC', `not an IP address: '${addr}'`);
}

export function ipv4ToBytes(s: string): Buffer {
  if (!isIPv4(s)) throw new KtError('KT_IPVS_BAD_SPEC', `not an IPv4 address: '${s}'`);
  return Buffer.from(s.split('.').map(Number));
}

export function ipv6ToBytes(s: string): Buffer {
  if (!isIPv6(s)) throw new KtError('KT_IPVS_BAD_SPEC', `not an IPv6 address: '${s}'`);
  let text = s.split('%')[0];
  const out = Buffer.alloc(16);
  // An embedded dotted quad becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipv4ToBytes(v4[1]);
    text = text.slice(0, -v4[1].length) + `${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function bytesToIpv6(b: Buffer): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(b.readUInt16BE(i * 2));
  // RFC 5952: the longest run (>1) of zero groups, first one on ties, becomes '::'.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The 16-byte nf_inet_addr: IPv4 in the first 4 bytes, the rest zero. */
export function addrToNf(af: AddressFamily, addr: string): Buffer {
  const out = Buffer.alloc(16);
  (af === AF_INET ? ipv4ToBytes(addr) : ipv6ToBytes(addr)).copy(out);
  return out;
}

export function nfToAddr(af: number, b: Buffer): string {
  if (af === AF_INET) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (af === AF_INET6) {
    const full = Buffer.alloc(16);
    b.copy(full, 0, 0, Math.min(16, b.length));
    return bytesToIpv6(full);
  }
  throw new KtError('KT_IPVS_BAD_SPEC', `unknown address family ${af}`);
}

/** Canonical text for an address of either family. */
export function canonicalAddr(addr: string): string {
  const af = familyOf(addr);
  return af === AF_INET ? ipv4ToBytes(addr).join('.') : bytesToIpv6(ipv6ToBytes(addr));
}

export const ipv4ToNumber = (s: string): number => ipv4ToBytes(s).readUInt32BE(0);
export const numberToIpv4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** IPv4 mask from a prefix length (24 → 0xffffff00). */
export const prefixToMask = (p: number): number => (p <= 0 ? 0 : (0xffffffff << (32 - p)) >>> 0);
