// Gratuitous ARP exactly as keepalived sends it (vrrp_arp.c): an ARP *request* broadcast to ff:ff:ff:ff:ff:ff,
// sender = target = VIP, sender MAC = the interface MAC, target MAC ff:ff:ff:ff:ff:ff. 42 bytes, no padding
// (the NIC pads on the wire; veth does not). Pure.
import { addrToBytes, bytesToAddr, familyOf } from './address.js';
import { macToBytes, macToString } from './rtnetlink-codec.js';
import { KtError } from '../util/errors.js';

export const ETH_P_ARP = 0x0806;
export const ETH_P_IP = 0x0800;
export const ARPHRD_ETHER = 1;
export const ARPOP_REQUEST = 1;
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

/** The Ethernet frame of a gratuitous ARP for `vip` from `mac`. */
export function buildGratuitousArp(mac: string | Buffer, vip: string): Buffer {
  const src = typeof mac === 'string' ? macToBytes(mac) : mac;
  if (src.length !== 6) throw new KtError('KT_NET_FRAME_INVALID', 'gratuitous ARP needs a 6-byte Ethernet MAC');
  if (familyOf(vip) !== 4) throw new KtError('KT_NET_FRAME_INVALID', `gratuitous ARP is for IPv4 addresses, not '${vip}'`);
  const ip = addrToBytes(vip);
  const bcast = Buffer.alloc(6, 0xff);
  const f = Buffer.alloc(42);
  bcast.copy(f, 0);
  src.copy(f, 6);
  f.writeUInt16BE(ETH_P_ARP, 12);
  f.writeUInt16BE(ARPHRD_ETHER, 14);
  f.writeUInt16BE(ETH_P_IP, 16);
  f[18] = 6; // hardware address length
  f[19] = 4; // protocol address length
  f.writeUInt16BE(ARPOP_REQUEST, 20);
  src.copy(f, 22);
  ip.copy(f, 28);
  bcast.copy(f, 32);
  ip.copy(f, 38);
  return f;
}

export interface ParsedArp {
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
  gratuitous: boolean;
}

/** Parses an Ethernet/IPv4 ARP frame; undefined if it is not one. */
export function parseArpFrame(f: Buffer): ParsedArp | undefined {
  if (f.length < 42 || f.readUInt16BE(12) !== ETH_P_ARP || f.readUInt16BE(16) !== ETH_P_IP || f[18] !== 6 || f[19] !== 4) return undefined;
  const senderIp = bytesToAddr(f.subarray(28, 32));
  const targetIp = bytesToAddr(f.subarray(38, 42));
  return {
    op: f.readUInt16BE(20),
    senderMac: macToString(f.subarray(22, 28)),
    senderIp,
    targetMac: macToString(f.subarray(32, 38)),
    targetIp,
    gratuitous: senderIp === targetIp,
  };
}
