// Minimal reader for classic pcap files (as written by `tcpdump -w`) and a decoder for the frames the lab cares
// about: Ethernet, ARP, IPv4, IPv6, VRRP (v2/v3, IPv4/IPv6), ICMP echo, ICMPv6 neighbour discovery. Pure functions over bytes; no I/O here.
import { bytesToAddr, type Family } from '../../src/net/address.js';
import { macToString } from '../../src/net/rtnetlink-codec.js';
import { KtError } from '../../src/util/errors.js';

export interface PcapHeader {
  littleEndian: boolean;
  nanosecond: boolean;
  linkType: number;
  snapLen: number;
}

export interface RawRecord {
  /** Capture time, epoch milliseconds (fractional: micro/nanosecond resolution kept). */
  tMs: number;
  origLen: number;
  data: Buffer;
}

export interface ArpInfo {
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

export interface VrrpInfo {
  version: number;
  type: number;
  vrid: number;
  priority: number;
  count: number;
  /** v2: advert interval in seconds; v3: max advert interval in centiseconds (as on the wire). */
  advertField: number;
  /** Advert interval in milliseconds, whatever the version. */
  advertIntMs: number;
  checksum: number;
  addresses: string[];
}

export interface IcmpInfo {
  type: number;
  code: number;
  id: number;
  seq: number;
}

export interface Ipv4Info {
  src: string;
  dst: string;
  proto: number;
  ttl: number;
  tos: number;
  id: number;
}

export interface Ipv6Info {
  src: string;
  dst: string;
  /** Next header of the fixed header (no extension headers are walked). */
  nextHeader: number;
  hopLimit: number;
  trafficClass: number;
}

/** ICMPv6, with the target of a neighbour solicitation/advertisement (types 135/136) and the NA flags. */
export interface Icmp6Info {
  type: number;
  code: number;
  target?: string;
  /** NA flags: router, solicited, override. */
  flags?: { router: boolean; solicited: boolean; override: boolean };
  /** Target link-layer address option (NA) or source link-layer address option (NS). */
  lladdr?: string;
}

export interface Frame {
  index: number;
  tMs: number;
  length: number;
  ethSrc: string;
  ethDst: string;
  ethType: number;
  arp?: ArpInfo;
  ipv4?: Ipv4Info;
  vrrp?: VrrpInfo;
  icmp?: IcmpInfo;
  ipv6?: Ipv6Info;
  icmp6?: Icmp6Info;
  raw: Buffer;
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
export const LINKTYPE_ETHERNET = 1;
const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

export function parsePcapHeader(buf: Buffer): PcapHeader {
  if (buf.length < GLOBAL_HEADER_LEN) throw new KtError('KT_LAB_PCAP_FORMAT', `pcap header truncated (${buf.length} bytes)`);
  const le = buf.readUInt32LE(0);
  const be = buf.readUInt32BE(0);
  let littleEndian: boolean;
  let nanosecond: boolean;
  if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) {
    littleEndian = true;
    nanosecond = le === PCAP_MAGIC_NS;
  } else if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) {
    littleEndian = false;
    nanosecond = be === PCAP_MAGIC_NS;
  } else {
    throw new KtError('KT_LAB_PCAP_FORMAT', `not a classic pcap file (magic 0x${be.toString(16)}; pcapng is not supported)`);
  }
  const u32 = (o: number) => (littleEndian ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  return { littleEndian, nanosecond, snapLen: u32(16), linkType: u32(20) };
}

/**
 * Reads the complete records in `buf` starting at `offset`. A record cut short at the end (a file still being
 * written) is left for the next call: `nextOffset` points at its start.
 */
export function readRecords(buf: Buffer, header: PcapHeader, offset = GLOBAL_HEADER_LEN): { records: RawRecord[]; nextOffset: number } {
  const records: RawRecord[] = [];
  const u32 = (o: number) => (header.littleEndian ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  let o = offset;
  while (o + RECORD_HEADER_LEN <= buf.length) {
    const sec = u32(o);
    const frac = u32(o + 4);
    const inclLen = u32(o + 8);
    const origLen = u32(o + 12);
    if (inclLen > 0x40000) throw new KtError('KT_LAB_PCAP_FORMAT', `record at offset ${o} claims ${inclLen} bytes`);
    if (o + RECORD_HEADER_LEN + inclLen > buf.length) break;
    const tMs = sec * 1000 + (header.nanosecond ? frac / 1e6 : frac / 1e3);
    records.push({ tMs, origLen, data: Buffer.from(buf.subarray(o + RECORD_HEADER_LEN, o + RECORD_HEADER_LEN + inclLen)) });
    o += RECORD_HEADER_LEN + inclLen;
  }
  return { records, nextOffset: o };
}

export function parsePcap(buf: Buffer): Frame[] {
  const header = parsePcapHeader(buf);
  if (header.linkType !== LINKTYPE_ETHERNET) throw new KtError('KT_LAB_PCAP_FORMAT', `link type ${header.linkType} is not Ethernet`);
  return readRecords(buf, header).records.map((r, i) => decodeFrame(r, i));
}

export { macToString };

const ipv4ToString = (b: Buffer, o: number): string => bytesToAddr(b.subarray(o, o + 4));
/** RFC 5952 text form (lower case, longest zero run compressed). */
export const ipv6ToString = (b: Buffer, o: number): string => bytesToAddr(b.subarray(o, o + 16));

export function decodeFrame(rec: RawRecord, index: number): Frame {
  const d = rec.data;
  const frame: Frame = { index, tMs: rec.tMs, length: rec.origLen, ethDst: '', ethSrc: '', ethType: 0, raw: d };
  if (d.length < 14) return frame;
  frame.ethDst = macToString(d.subarray(0, 6));
  frame.ethSrc = macToString(d.subarray(6, 12));
  let type = d.readUInt16BE(12);
  let p = 14;
  if (type === 0x8100 && d.length >= 18) {
    type = d.readUInt16BE(16);
    p = 18;
  }
  frame.ethType = type;
  if (type === 0x0806 && d.length >= p + 28) {
    frame.arp = {
      op: d.readUInt16BE(p + 6),
      senderMac: macToString(d.subarray(p + 8, p + 14)),
      senderIp: ipv4ToString(d, p + 14),
      targetMac: macToString(d.subarray(p + 18, p + 24)),
      targetIp: ipv4ToString(d, p + 24),
    };
  } else if (type === 0x0800 && d.length >= p + 20) {
    const ihl = (d[p] & 0x0f) * 4;
    const ip: Ipv4Info = {
      tos: d[p + 1],
      id: d.readUInt16BE(p + 4),
      ttl: d[p + 8],
      proto: d[p + 9],
      src: ipv4ToString(d, p + 12),
      dst: ipv4ToString(d, p + 16),
    };
    frame.ipv4 = ip;
    const l4 = p + ihl;
    if (ip.proto === 112 && d.length >= l4 + 8) frame.vrrp = decodeVrrp(d.subarray(l4));
    else if (ip.proto === 1 && d.length >= l4 + 8) {
      frame.icmp = { type: d[l4], code: d[l4 + 1], id: d.readUInt16BE(l4 + 4), seq: d.readUInt16BE(l4 + 6) };
    }
  } else if (type === 0x86dd && d.length >= p + 40) {
    const ip: Ipv6Info = {
      trafficClass: (d.readUInt16BE(p) >> 4) & 0xff,
      nextHeader: d[p + 6],
      hopLimit: d[p + 7],
      src: ipv6ToString(d, p + 8),
      dst: ipv6ToString(d, p + 24),
    };
    frame.ipv6 = ip;
    const l4 = p + 40;
    if (ip.nextHeader === 112 && d.length >= l4 + 8) frame.vrrp = decodeVrrp(d.subarray(l4), 6);
    else if (ip.nextHeader === 58 && d.length >= l4 + 4) frame.icmp6 = decodeIcmp6(d.subarray(l4));
  }
  return frame;
}

function decodeIcmp6(m: Buffer): Icmp6Info {
  const info: Icmp6Info = { type: m[0], code: m[1] };
  if ((m[0] === 135 || m[0] === 136) && m.length >= 24) {
    info.target = ipv6ToString(m, 8);
    if (m[0] === 136) info.flags = { router: !!(m[4] & 0x80), solicited: !!(m[4] & 0x40), override: !!(m[4] & 0x20) };
    for (let o = 24; o + 8 <= m.length && m[o + 1] > 0; o += m[o + 1] * 8) {
      if ((m[o] === 1 || m[o] === 2) && o + 8 <= m.length) info.lladdr = macToString(m.subarray(o + 2, o + 8));
    }
  }
  return info;
}

function decodeVrrp(v: Buffer, family: Family = 4): VrrpInfo {
  const version = v[0] >> 4;
  const count = v[3];
  let advertField: number;
  let advertIntMs: number;
  let addrStart: number;
  if (version === 3) {
    advertField = v.readUInt16BE(4) & 0x0fff;
    advertIntMs = advertField * 10;
    addrStart = 8;
  } else {
    advertField = v[5];
    advertIntMs = advertField * 1000;
    addrStart = 8;
  }
  const addresses: string[] = [];
  const len = family === 6 ? 16 : 4;
  for (let i = 0; i < count && addrStart + len * (i + 1) <= v.length; i++) {
    addresses.push(family === 6 ? ipv6ToString(v, addrStart + len * i) : ipv4ToString(v, addrStart + len * i));
  }
  return { version, type: v[0] & 0x0f, vrid: v[1], priority: v[2], count, advertField, advertIntMs, checksum: v.readUInt16BE(6), addresses };
}

/** A gratuitous ARP as keepalived sends it: sender IP == target IP. */
export const isGratuitousArp = (f: Frame): boolean => !!f.arp && f.arp.senderIp === f.arp.targetIp;
