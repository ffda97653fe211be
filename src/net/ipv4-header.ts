// The IPv4 header keepalived puts on VRRP adverts (vrrp.c vrrp_build_ip4): version 4, IHL 5, TOS 0xc0,
// DF clear, TTL 255 (or unicast_ttl), protocol 112, its own id counter; and the decoder for received headers.
// Pure (the VRRP core uses it too).
import { internetChecksum } from './checksum.js';
import { addrToBytes, bytesToAddr, familyOf } from './address.js';
import { IPPROTO_VRRP } from './constants.js';
import { KtError } from '../util/errors.js';

export const VRRP_TOS = 0xc0;
export const VRRP_TTL = 255;

export interface Ipv4HeaderSpec {
  src: string;
  dst: string;
  payloadLength: number;
  /** 0 lets the kernel pick one (IP_HDRINCL semantics). */
  id?: number;
  ttl?: number;
  tos?: number;
  protocol?: number;
}

export function buildIpv4Header(h: Ipv4HeaderSpec): Buffer {
  if (familyOf(h.src) !== 4 || familyOf(h.dst) !== 4) throw new KtError('KT_NET_IPV4_HEADER_INVALID', 'IPv4 header needs IPv4 addresses');
  if (h.payloadLength < 0 || h.payloadLength > 65515) throw new KtError('KT_NET_IPV4_HEADER_INVALID', `payload of ${h.payloadLength} bytes`);
  const b = Buffer.alloc(20);
  b[0] = 0x45;
  b[1] = h.tos ?? VRRP_TOS;
  b.writeUInt16BE(20 + h.payloadLength, 2);
  b.writeUInt16BE((h.id ?? 0) & 0xffff, 4);
  b.writeUInt16BE(0, 6); // flags and fragment offset: DF clear
  b[8] = h.ttl ?? VRRP_TTL;
  b[9] = h.protocol ?? IPPROTO_VRRP;
  addrToBytes(h.src).copy(b, 12);
  addrToBytes(h.dst).copy(b, 16);
  b.writeUInt16BE(internetChecksum(b), 10);
  return b;
}

export interface Ipv4HeaderInfo {
  /** Header length in bytes (IHL*4). */
  headerLength: number;
  totalLength: number;
  tos: number;
  id: number;
  ttl: number;
  protocol: number;
  src: string;
  dst: string;
}

export interface Ipv4Header extends Ipv4HeaderInfo {
  /** Flags (3 bits) and fragment offset as the 16-bit field. */
  fragment: number;
  checksum: number;
}

export type Ipv4DecodeResult =
  | { ok: true; header: Ipv4Header; checksumOk: boolean; payload: Uint8Array }
  | { ok: false; reason: 'too-short' | 'not-ipv4' | 'bad-ihl'; detail: string };

/** Decode an IPv4 header, saying why when it is not one; payload is everything after the header (length policy
 * is the caller's). Never throws. */
export function decodeIpv4Header(buf: Uint8Array): Ipv4DecodeResult {
  if (buf.length < 20) return { ok: false, reason: 'too-short', detail: `${buf.length} bytes` };
  if (buf[0]! >> 4 !== 4) return { ok: false, reason: 'not-ipv4', detail: `version ${buf[0]! >> 4}` };
  const ihl = (buf[0]! & 0x0f) * 4;
  if (ihl < 20 || ihl > buf.length) return { ok: false, reason: 'bad-ihl', detail: `IHL ${ihl} bytes` };
  const u16 = (o: number): number => (buf[o]! << 8) | buf[o + 1]!;
  const header: Ipv4Header = {
    headerLength: ihl,
    totalLength: u16(2),
    tos: buf[1]!,
    id: u16(4),
    fragment: u16(6),
    ttl: buf[8]!,
    protocol: buf[9]!,
    checksum: u16(10),
    src: bytesToAddr(buf.subarray(12, 16)),
    dst: bytesToAddr(buf.subarray(16, 20)),
  };
  return { ok: true, header, checksumOk: internetChecksum(buf.subarray(0, ihl)) === 0, payload: buf.subarray(ihl) };
}

/** Reads the header of a received IPv4 packet; undefined if it is not a plausible IPv4 header. */
export function parseIpv4Header(p: Uint8Array): Ipv4HeaderInfo | undefined {
  const d = decodeIpv4Header(p);
  if (!d.ok) return undefined;
  const { fragment: _fragment, checksum: _checksum, ...info } = d.header;
  return info;
}

/** keepalived's per-instance IP id: starts at 1, +1 per multicast advert, skips 0 (which means "kernel picks"). */
export class IpIdCounter {
  private v = 0;
  next(): number {
    this.v = (this.v + 1) & 0xffff;
    if (this.v === 0) this.v = 1;
    return this.v;
  }

  /** What the k-th next() from now will return, without taking it. */
  peek(k = 1): number {
    let v = this.v;
    for (let i = 0; i < k; i++) {
      v = (v + 1) & 0xffff;
      if (v === 0) v = 1;
    }
    return v;
  }
}
