// The IPv4 header keepalived puts on VRRP adverts (vrrp.c vrrp_build_ip4): version 4, IHL 5, TOS 0xc0,
// DF clear, TTL 255 (or unicast_ttl), protocol 112, its own id counter. Pure.
import { internetChecksum } from './checksum.js';
import { bytesToIp, ipFamily, ipToBytes } from './ipaddr.js';

export const IPPROTO_VRRP = 112;
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

export class Ipv4HeaderError extends Error {
  readonly code = 'IPV4_HEADER_INVALID';
}

export function buildIpv4Header(h: Ipv4HeaderSpec): Buffer {
  if (ipFamily(h.src) !== 4 || ipFamily(h.dst) !== 4) throw new Ipv4HeaderError('IPv4 header needs IPv4 addresses');
  if (h.payloadLength < 0 || h.payloadLength > 65515) throw new Ipv4HeaderError(`payload of ${h.payloadLength} bytes`);
  const b = Buffer.alloc(20);
  b[0] = 0x45;
  b[1] = h.tos ?? VRRP_TOS;
  b.writeUInt16BE(20 + h.payloadLength, 2);
  b.writeUInt16BE((h.id ?? 0) & 0xffff, 4);
  b.writeUInt16BE(0, 6); // flags and fragment offset: DF clear
  b[8] = h.ttl ?? VRRP_TTL;
  b[9] = h.protocol ?? IPPROTO_VRRP;
  ipToBytes(h.src).copy(b, 12);
  ipToBytes(h.dst).copy(b, 16);
  b.writeUInt16BE(internetChecksum(b), 10);
  return b;
}

export interface Ipv4HeaderInfo {
  headerLength: number;
  totalLength: number;
  tos: number;
  id: number;
  ttl: number;
  protocol: number;
  src: string;
  dst: string;
}

/** Reads the header of a received IPv4 packet; undefined if it is not a plausible IPv4 header. */
export function parseIpv4Header(p: Buffer): Ipv4HeaderInfo | undefined {
  if (p.length < 20 || p[0] >> 4 !== 4) return undefined;
  const headerLength = (p[0] & 0x0f) * 4;
  if (headerLength < 20 || headerLength > p.length) return undefined;
  return {
    headerLength,
    totalLength: p.readUInt16BE(2),
    tos: p[1],
    id: p.readUInt16BE(4),
    ttl: p[8],
    protocol: p[9],
    src: bytesToIp(p.subarray(12, 16)),
    dst: bytesToIp(p.subarray(16, 20)),
  };
}

/** keepalived's per-instance IP id: starts at 1, +1 per multicast advert, skips 0 (which means "kernel picks"). */
export class IpIdCounter {
  private v = 0;
  next(): number {
    this.v = (this.v + 1) & 0xffff;
    if (this.v === 0) this.v = 1;
    return this.v;
  }
}
