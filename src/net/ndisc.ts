// Unsolicited IPv6 Neighbour Advertisement as keepalived sends it (vrrp_ndisc.c): Ethernet dst 33:33:00:00:00:01,
// IPv6 src = the VIP, dst ff02::1, hop limit 255; ICMPv6 type 136 with Override (and Router when the interface
// forwards), target = VIP, target link-layer address option. Checksum over the IPv6 pseudo-header. Pure.
import { ipv6UpperChecksum } from './checksum.js';
import { addrToBytes, bytesToAddr, familyOf } from './address.js';
import { IPPROTO_ICMPV6 } from './constants.js';
import { macToBytes, macToString } from './rtnetlink-codec.js';
import { KtError } from '../util/errors.js';

export const ETH_P_IPV6 = 0x86dd;
export const ND_NEIGHBOR_ADVERT = 136;
export const ND_NA_FLAG_ROUTER = 0x80;
export const ND_NA_FLAG_SOLICITED = 0x40;
export const ND_NA_FLAG_OVERRIDE = 0x20;
export const ND_OPT_TARGET_LINKADDR = 2;
export const ALL_NODES = 'ff02::1';
export const ALL_NODES_MAC = '33:33:00:00:00:01';

/** 86 bytes: Ethernet 14 + IPv6 40 + NA 24 + option 8. */
export function buildUnsolicitedNa(mac: string | Buffer, vip: string, opts: { router?: boolean } = {}): Buffer {
  const src = typeof mac === 'string' ? macToBytes(mac) : mac;
  if (src.length !== 6) throw new KtError('KT_NET_FRAME_INVALID', 'neighbour advertisement needs a 6-byte Ethernet MAC');
  if (familyOf(vip) !== 6) throw new KtError('KT_NET_FRAME_INVALID', `neighbour advertisement is for IPv6 addresses, not '${vip}'`);
  const target = addrToBytes(vip);
  const dst = addrToBytes(ALL_NODES);

  const icmp = Buffer.alloc(32);
  icmp[0] = ND_NEIGHBOR_ADVERT;
  icmp[4] = ND_NA_FLAG_OVERRIDE | (opts.router ? ND_NA_FLAG_ROUTER : 0);
  target.copy(icmp, 8);
  icmp[24] = ND_OPT_TARGET_LINKADDR;
  icmp[25] = 1; // length in units of 8 bytes
  src.copy(icmp, 26);
  icmp.writeUInt16BE(ipv6UpperChecksum(target, dst, IPPROTO_ICMPV6, icmp), 2);

  const f = Buffer.alloc(14 + 40 + icmp.length);
  macToBytes(ALL_NODES_MAC).copy(f, 0);
  src.copy(f, 6);
  f.writeUInt16BE(ETH_P_IPV6, 12);
  f.writeUInt32BE(0x60000000, 14); // version 6, traffic class 0, flow label 0
  f.writeUInt16BE(icmp.length, 18);
  f[20] = IPPROTO_ICMPV6;
  f[21] = 255; // hop limit: receivers drop ND with anything else (RFC 4861 §7.1.2)
  target.copy(f, 22);
  dst.copy(f, 38);
  icmp.copy(f, 54);
  return f;
}

export interface ParsedNa {
  src: string;
  dst: string;
  hopLimit: number;
  router: boolean;
  solicited: boolean;
  override: boolean;
  target: string;
  targetMac?: string;
  checksumOk: boolean;
}

/** Parses an Ethernet/IPv6/ICMPv6 NA frame (no extension headers); undefined if it is not one. */
export function parseNaFrame(f: Buffer): ParsedNa | undefined {
  if (f.length < 14 + 40 + 24 || f.readUInt16BE(12) !== ETH_P_IPV6 || f[20] !== IPPROTO_ICMPV6) return undefined;
  const plen = f.readUInt16BE(18);
  const icmp = f.subarray(54, 54 + plen);
  if (icmp.length < 24 || icmp[0] !== ND_NEIGHBOR_ADVERT) return undefined;
  const srcB = f.subarray(22, 38);
  const dstB = f.subarray(38, 54);
  const flags = icmp[4];
  let targetMac: string | undefined;
  for (let o = 24; o + 8 <= icmp.length && icmp[o + 1] > 0; o += icmp[o + 1] * 8)
    if (icmp[o] === ND_OPT_TARGET_LINKADDR) targetMac = macToString(icmp.subarray(o + 2, o + 8));
  return {
    src: bytesToAddr(srcB),
    dst: bytesToAddr(dstB),
    hopLimit: f[21],
    router: (flags & ND_NA_FLAG_ROUTER) !== 0,
    solicited: (flags & ND_NA_FLAG_SOLICITED) !== 0,
    override: (flags & ND_NA_FLAG_OVERRIDE) !== 0,
    target: bytesToAddr(icmp.subarray(8, 24)),
    targetMac,
    checksumOk: ipv6UpperChecksum(srcB, dstB, IPPROTO_ICMPV6, icmp) === 0,
  };
}
