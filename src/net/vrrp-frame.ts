// A VRRP advert as a whole Ethernet frame, for use_vmac: keepalived's adverts leave from the VMAC with the virtual
// router MAC as their Ethernet source; keepalived-ts sends them through an AF_PACKET socket on the VMAC, keeping its
// raw IP socket on the base interface for receiving (so the VMAC joins no multicast group and sends no IGMP/MLD
// reports with the virtual MAC). Pure: the IP layer exactly as the raw sockets' (IPv4: TOS 0xc0, TTL 255, DF clear;
// IPv6: traffic class 0xc0, hop limit 255), Ethernet destination from the group (RFC 1112 / RFC 2464).
import { addrToBytes, familyOf } from './address.js';
import { buildIpv4Header, VRRP_TOS, VRRP_TTL } from './ipv4-header.js';
import { macToBytes } from './rtnetlink-codec.js';
import { IPPROTO_VRRP } from './constants.js';
import { KtError } from '../util/errors.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;

/** The Ethernet address of an IP multicast group: 01:00:5e + low 23 bits (IPv4), 33:33 + low 32 bits (IPv6). */
export function multicastMac(group: string): Buffer {
  const b = addrToBytes(group);
  if (b.length === 4) {
    if ((b[0]! & 0xf0) !== 0xe0) throw new KtError('KT_NET_FRAME_INVALID', `${group} is not an IPv4 multicast group`);
    return Buffer.from([0x01, 0x00, 0x5e, b[1]! & 0x7f, b[2]!, b[3]!]);
  }
  if (b[0] !== 0xff) throw new KtError('KT_NET_FRAME_INVALID', `${group} is not an IPv6 multicast group`);
  return Buffer.concat([Buffer.from([0x33, 0x33]), b.subarray(12, 16)]);
}

/** One VRRP message to a multicast group from `src`, framed with `srcMac`. The message's checksum is the caller's. */
export function vrrpMulticastFrame(o: { srcMac: string; src: string; group: string; message: Uint8Array; ttl?: number; ipId?: number }): Buffer {
  const family = familyOf(o.src);
  if (!family || familyOf(o.group) !== family) throw new KtError('KT_NET_FRAME_INVALID', `source ${o.src} and group ${o.group} differ in family`);
  const eth = Buffer.alloc(14);
  multicastMac(o.group).copy(eth, 0);
  macToBytes(o.srcMac).copy(eth, 6);
  eth.writeUInt16BE(family === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6, 12);
  const msg = Buffer.from(o.message.buffer, o.message.byteOffset, o.message.byteLength);
  if (family === 4) {
    const ip = buildIpv4Header({ src: o.src, dst: o.group, payloadLength: msg.length, id: o.ipId, ttl: o.ttl ?? VRRP_TTL, tos: VRRP_TOS });
    return Buffer.concat([eth, ip, msg]);
  }
  const ip = Buffer.alloc(40);
  ip.writeUInt32BE(((6 << 28) | (VRRP_TOS << 20)) >>> 0, 0);
  ip.writeUInt16BE(msg.length, 4);
  ip[6] = IPPROTO_VRRP;
  ip[7] = o.ttl ?? VRRP_TTL;
  addrToBytes(o.src).copy(ip, 8);
  addrToBytes(o.group).copy(ip, 24);
  return Buffer.concat([eth, ip, msg]);
}
