// rtnetlink messages: addresses, links, routes and rules, encoded and decoded. Pure (layouts from
// <linux/rtnetlink.h>, <linux/if_addr.h>, <linux/if_link.h>, <linux/fib_rules.h>); the socket shell that sends them
// is rtnetlink.ts.
import {
  attr, attrMap, attrStr, attrU16, attrU32, attrU8, readStr,
  type NetlinkMessage,
} from './netlink-codec.js';
import { addrToBytes, bytesToAddr as addrText, familyOf, type Family } from './address.js';
import { AF_UNSPEC, afToFamily, familyToAf } from './constants.js';
import { KtError } from '../util/errors.js';

/** An address attribute from the kernel; a wrong length is a codec error like any other malformed attribute. */
const bytesToIp = (b: Buffer): string => {
  if (b.length !== 4 && b.length !== 16) throw new KtError('KT_NETLINK_MALFORMED', `address attribute of ${b.length} bytes`);
  return addrText(b);
};

/** 32-bit attribute values, with a codec error (not a RangeError) when the kernel's attribute is too short. */
function u32(b: Buffer | undefined): number | undefined {
  if (!b) return undefined;
  if (b.length < 4) throw new KtError('KT_NETLINK_MALFORMED', `32-bit attribute of ${b.length} bytes`);
  return b.readUInt32LE(0);
}
function s32(b: Buffer | undefined): number | undefined {
  if (!b) return undefined;
  if (b.length < 4) throw new KtError('KT_NETLINK_MALFORMED', `32-bit attribute of ${b.length} bytes`);
  return b.readInt32LE(0);
}

// --- constants -------------------------------------------------------------------------------------------------

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTM_NEWRULE = 32;
export const RTM_DELRULE = 33;
export const RTM_GETRULE = 34;

/** Multicast groups (numbers for NETLINK_ADD_MEMBERSHIP, not bit masks). */
export const RTNLGRP_LINK = 1;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV4_ROUTE = 7;
export const RTNLGRP_IPV6_IFADDR = 9;
export const RTNLGRP_IPV6_ROUTE = 11;


export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_CACHEINFO = 6;
export const IFA_FLAGS = 8;
export const IFA_PROTO = 11;

export const IFA_F_SECONDARY = 0x01;
export const IFA_F_NODAD = 0x02;
export const IFA_F_OPTIMISTIC = 0x04;
export const IFA_F_DADFAILED = 0x08;
export const IFA_F_HOMEADDRESS = 0x10;
export const IFA_F_DEPRECATED = 0x20;
export const IFA_F_TENTATIVE = 0x40;
export const IFA_F_PERMANENT = 0x80;
export const IFA_F_MANAGETEMPADDR = 0x100;
export const IFA_F_NOPREFIXROUTE = 0x200;
export const IFA_F_MCAUTOJOIN = 0x400;

export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_SITE = 200;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RT_SCOPE_NOWHERE = 255;

/** keepalived's protocol number for the routes and rules it installs (RTPROT_KEEPALIVED, Linux 5.8+). */
export const RTPROT_KEEPALIVED = 18;
export const RT_TABLE_UNSPEC = 0;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;

export const IFLA_ADDRESS = 1;
export const IFLA_BROADCAST = 2;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINKINFO = 18;
export const IFLA_AF_SPEC = 26;
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
/** Inside IFLA_INFO_DATA of a macvlan (<linux/if_link.h>). */
export const IFLA_MACVLAN_MODE = 1;
export const MACVLAN_MODE_PRIVATE = 1;
export const MACVLAN_MODE_VEPA = 2;
export const MACVLAN_MODE_BRIDGE = 4;
export const MACVLAN_MODE_PASSTHRU = 8;
/** Inside IFLA_INFO_DATA of an ipvlan (<linux/if_link.h>): IFLA_IPVLAN_MODE / IFLA_IPVLAN_FLAGS, both u16. */
export const IFLA_IPVLAN_MODE = 1;
export const IFLA_IPVLAN_FLAGS = 2;
export const IPVLAN_MODE_L2 = 0;
/** IFLA_IPVLAN_FLAGS: 0 is bridge. */
export const IPVLAN_F_PRIVATE = 1;
export const IPVLAN_F_VEPA = 2;
/** Inside IFLA_AF_SPEC / AF_INET6. */
export const IFLA_INET6_ADDR_GEN_MODE = 8;
export const IN6_ADDR_GEN_MODE_NONE = 1;

export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_POINTOPOINT = 0x10;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_PROMISC = 0x100;
export const IFF_MULTICAST = 0x1000;
export const IFF_LOWER_UP = 0x10000;

export const OPER_STATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;
export type OperState = (typeof OPER_STATES)[number];

export const RTA_DST = 1;
export const RTA_SRC = 2;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_TABLE = 15;

export const ROUTE_TYPES = {
  unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7, prohibit: 8, throw: 9,
} as const;
export type RouteType = keyof typeof ROUTE_TYPES;
const routeTypeName = (n: number): RouteType | number =>
  (Object.entries(ROUTE_TYPES).find(([, v]) => v === n)?.[0] as RouteType | undefined) ?? n;

export const FRA_DST = 1;
export const FRA_SRC = 2;
export const FRA_IIFNAME = 3;
export const FRA_PRIORITY = 6;
export const FRA_FWMARK = 10;
export const FRA_TABLE = 15;
export const FRA_FWMASK = 16;
export const FRA_OIFNAME = 17;
export const FRA_PROTOCOL = 21;
export const FR_ACT_TO_TBL = 1;

// --- addresses -------------------------------------------------------------------------------------------------

/** An address to add or delete. `address` is IFA_LOCAL (the VIP); family comes from it. */
export interface AddressSpec {
  ifindex: number;
  address: string;
  prefixlen: number;
  /** IFA_ADDRESS for point-to-point addresses (`peer`); for ordinary addresses the kernel sets it to `address`. */
  peer?: string;
  /** IPv4 only. */
  broadcast?: string;
  /** IPv4 only; must start with the interface name (kernel rule), at most 15 bytes. */
  label?: string;
  scope?: number;
  /** IFA_F_* (nodad, noprefixroute, home, …), sent as IFA_FLAGS (32 bits) and, low byte, in ifa_flags. */
  flags?: number;
  /** IPv6: a preferred lifetime of 0 marks the address deprecated (keepalived's `preferred_lft 0`). */
  preferredLft?: number;
  /** IFA_PROTO (Linux 5.18+); keepalived uses its own address protocol, normally 18. */
  protocol?: number;
}

/** An address as the kernel reports it. */
export interface AddressInfo {
  family: Family;
  ifindex: number;
  prefixlen: number;
  scope: number;
  flags: number;
  /** IFA_LOCAL if present (IPv4), else IFA_ADDRESS (IPv6 reports only IFA_ADDRESS). */
  address: string;
  peer?: string;
  broadcast?: string;
  label?: string;
  protocol?: number;
}

function ifaddrmsg(family: Family, prefixlen: number, flags: number, scope: number, ifindex: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(familyToAf(family), 0);
  b.writeUInt8(prefixlen, 1);
  b.writeUInt8(flags & 0xff, 2);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(ifindex, 4);
  return b;
}

function checkAddress(spec: AddressSpec): Family {
  const family = familyOf(spec.address);
  const max = family === 4 ? 32 : 128;
  if (!Number.isInteger(spec.prefixlen) || spec.prefixlen < 0 || spec.prefixlen > max)
    throw new KtError('KT_NETLINK_BAD_SPEC', `prefix length ${spec.prefixlen} invalid for ${spec.address}`);
  if (!Number.isInteger(spec.ifindex) || spec.ifindex <= 0) throw new KtError('KT_NETLINK_BAD_SPEC', `bad ifindex ${spec.ifindex}`);
  if (spec.peer && familyOf(spec.peer) !== family) throw new KtError('KT_NETLINK_BAD_SPEC', 'peer family differs from address');
  if (spec.broadcast && family !== 4) throw new KtError('KT_NETLINK_BAD_SPEC', 'broadcast is IPv4 only');
  if (spec.label !== undefined && (family !== 4 || Buffer.byteLength(spec.label) > 15))
    throw new KtError('KT_NETLINK_BAD_SPEC', `label '${spec.label}' invalid (IPv4 only, at most 15 bytes)`);
  return family;
}

/**
 * RTM_NEWADDR payload as keepalived builds it: IFA_LOCAL, IFA_BROADCAST (IPv4), IFA_FLAGS when non-zero,
 * IFA_LABEL, IFA_ADDRESS only for a peer, IFA_CACHEINFO only for a finite preferred lifetime.
 */
export function encodeNewAddress(spec: AddressSpec): Buffer {
  const family = checkAddress(spec);
  const flags = spec.flags ?? 0;
  const attrs: Buffer[] = [attr(IFA_LOCAL, addrToBytes(spec.address))];
  if (spec.broadcast) attrs.push(attr(IFA_BROADCAST, addrToBytes(spec.broadcast)));
  if (family === 6 && spec.preferredLft !== undefined) {
    const ci = Buffer.alloc(16); // struct ifa_cacheinfo: prefered, valid, cstamp, tstamp
    ci.writeUInt32LE(spec.preferredLft >>> 0, 0);
    ci.writeUInt32LE(0xffffffff, 4);
    attrs.push(attr(IFA_CACHEINFO, ci));
  }
  if (flags) attrs.push(attrU32(IFA_FLAGS, flags));
  if (spec.label !== undefined) attrs.push(attrStr(IFA_LABEL, spec.label));
  if (spec.peer) attrs.push(attr(IFA_ADDRESS, addrToBytes(spec.peer)));
  if (spec.protocol !== undefined) attrs.push(attrU8(IFA_PROTO, spec.protocol));
  return Buffer.concat([ifaddrmsg(family, spec.prefixlen, flags, spec.scope ?? RT_SCOPE_UNIVERSE, spec.ifindex), ...attrs]);
}

/** RTM_DELADDR payload: IFA_LOCAL, and for IPv4 IFA_ADDRESS too (keepalived does the same). */
export function encodeDelAddress(spec: Pick<AddressSpec, 'ifindex' | 'address' | 'prefixlen' | 'peer'>): Buffer {
  const family = checkAddress(spec as AddressSpec);
  const a = addrToBytes(spec.address);
  const attrs = [attr(IFA_LOCAL, a)];
  if (family === 4) attrs.push(attr(IFA_ADDRESS, spec.peer ? addrToBytes(spec.peer) : a));
  return Buffer.concat([ifaddrmsg(family, spec.prefixlen, 0, 0, spec.ifindex), ...attrs]);
}

/** RTM_GETADDR dump request for one family, or both when omitted. */
export function encodeGetAddress(family?: Family): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(family ? familyToAf(family) : AF_UNSPEC, 0);
  return b;
}

/** Decodes an RTM_NEWADDR/RTM_DELADDR payload; undefined for families other than IPv4/IPv6. */
export function decodeAddress(payload: Buffer): AddressInfo | undefined {
  if (payload.length < 8) return undefined;
  const family = afToFamily(payload[0]);
  if (!family) return undefined;
  const a = attrMap(payload.subarray(8));
  const local = a.get(IFA_LOCAL);
  const address = a.get(IFA_ADDRESS);
  const main = local ?? address;
  if (!main) return undefined;
  const info: AddressInfo = {
    family,
    ifindex: payload.readUInt32LE(4),
    prefixlen: payload[1],
    scope: payload[3],
    flags: u32(a.get(IFA_FLAGS)) ?? payload[2],
    address: bytesToIp(main),
  };
  if (local && address && !local.equals(address)) info.peer = bytesToIp(address);
  const brd = a.get(IFA_BROADCAST);
  if (brd) info.broadcast = bytesToIp(brd);
  const label = readStr(a.get(IFA_LABEL));
  if (label !== undefined) info.label = label;
  const proto = a.get(IFA_PROTO);
  if (proto?.length) info.protocol = proto[0];
  return info;
}

// --- links -----------------------------------------------------------------------------------------------------

export interface LinkInfo {
  ifindex: number;
  name: string;
  /** IFF_* bits. */
  flags: number;
  /** IFF_UP: administratively up. */
  up: boolean;
  /** IFF_RUNNING: carrier (keepalived's "interface up" is up && running). */
  running: boolean;
  noarp: boolean;
  multicast: boolean;
  loopback: boolean;
  /** Link-layer address as "aa:bb:cc:dd:ee:ff"; undefined for links without one. */
  mac?: string;
  mtu?: number;
  operState: OperState | number;
  /** ARPHRD_* (1 = Ethernet). */
  hwType: number;
  /** IFLA_LINKINFO kind (veth, bridge, macvlan, dummy, …). */
  kind?: string;
  /** IFLA_LINK: the parent of a macvlan/vlan. */
  linkIndex?: number;
  /** IFLA_INFO_DATA / IFLA_MACVLAN_MODE of a macvlan (MACVLAN_MODE_*). */
  macvlanMode?: number;
  /** IFLA_IPVLAN_MODE and IFLA_IPVLAN_FLAGS of an ipvlan (IPVLAN_MODE_*, IPVLAN_F_*). */
  ipvlanMode?: number;
  ipvlanFlags?: number;
  masterIndex?: number;
}

export const macToString = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

export function macToBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p)))
    throw new KtError('KT_NETLINK_BAD_SPEC', `bad MAC address '${mac}'`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

/** ifinfomsg: family, pad, type u16, index s32, flags u32, change u32. */
export function ifinfomsg(ifindex = 0, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32LE(ifindex, 4);
  b.writeUInt32LE(flags >>> 0, 8);
  b.writeUInt32LE(change >>> 0, 12);
  return b;
}

export function decodeLink(payload: Buffer): LinkInfo | undefined {
  if (payload.length < 16) return undefined;
  const flags = payload.readUInt32LE(8);
  const a = attrMap(payload.subarray(16));
  const name = readStr(a.get(IFLA_IFNAME));
  if (name === undefined) return undefined;
  const op = a.get(IFLA_OPERSTATE)?.[0] ?? 0;
  const info: LinkInfo = {
    ifindex: payload.readInt32LE(4),
    name,
    flags,
    up: (flags & IFF_UP) !== 0,
    running: (flags & IFF_RUNNING) !== 0,
    noarp: (flags & IFF_NOARP) !== 0,
    multicast: (flags & IFF_MULTICAST) !== 0,
    loopback: (flags & IFF_LOOPBACK) !== 0,
    operState: OPER_STATES[op] ?? op,
    hwType: payload.readUInt16LE(2),
  };
  const mac = a.get(IFLA_ADDRESS);
  if (mac && mac.length > 0) info.mac = macToString(mac);
  const mtu = a.get(IFLA_MTU);
  if (mtu) info.mtu = u32(mtu);
  const li = a.get(IFLA_LINKINFO);
  if (li) {
    const lm = attrMap(li);
    info.kind = readStr(lm.get(IFLA_INFO_KIND));
    const data = lm.get(IFLA_INFO_DATA);
    if (info.kind === 'macvlan' && data) info.macvlanMode = u32(attrMap(data).get(IFLA_MACVLAN_MODE));
    if (info.kind === 'ipvlan' && data) {
      const d = attrMap(data);
      info.ipvlanMode = d.get(IFLA_IPVLAN_MODE)?.readUInt16LE(0);
      info.ipvlanFlags = d.get(IFLA_IPVLAN_FLAGS)?.readUInt16LE(0) ?? 0;
    }
  }
  const link = a.get(IFLA_LINK);
  if (link) info.linkIndex = s32(link);
  const master = a.get(IFLA_MASTER);
  if (master) info.masterIndex = s32(master);
  return info;
}

/** What keepalived's use_vmac creates: a macvlan `name` on `parent` with MAC `mac`, mode private by default. */
export interface MacvlanSpec {
  name: string;
  parent: number;
  mac: string;
  mode?: number;
}

/** A string attribute without the NUL, as keepalived's addattr_l(…, strlen(s)) writes it. */
const attrChars = (type: number, s: string): Buffer => attr(type, Buffer.from(s, 'utf8'));

/**
 * RTM_NEWLINK payload creating a macvlan (send with NLM_F_CREATE | NLM_F_EXCL), attribute for attribute as
 * keepalived's netlink_link_add_vmac builds it: IFLA_LINKINFO { IFLA_INFO_KIND "macvlan", IFLA_INFO_DATA
 * { IFLA_MACVLAN_MODE } }, IFLA_LINK, IFLA_IFNAME, IFLA_ADDRESS. The link is created down.
 */
export function encodeNewMacvlan(spec: MacvlanSpec): Buffer {
  if (!Number.isInteger(spec.parent) || spec.parent <= 0) throw new KtError('KT_NETLINK_BAD_SPEC', `bad parent ifindex ${spec.parent}`);
  if (!spec.name || Buffer.byteLength(spec.name) > 15 || /[/:\s]/.test(spec.name) || spec.name === '.' || spec.name === '..')
    throw new KtError('KT_NETLINK_BAD_SPEC', `bad interface name '${spec.name}'`);
  const linkinfo = attr(IFLA_LINKINFO, Buffer.concat([
    attrChars(IFLA_INFO_KIND, 'macvlan'),
    attr(IFLA_INFO_DATA, attrU32(IFLA_MACVLAN_MODE, spec.mode ?? MACVLAN_MODE_PRIVATE)),
  ]));
  return Buffer.concat([ifinfomsg(), linkinfo, attrU32(IFLA_LINK, spec.parent), attrChars(IFLA_IFNAME, spec.name), attr(IFLA_ADDRESS, macToBytes(spec.mac))]);
}

/** What keepalived's use_ipvlan creates: an l2 ipvlan `name` on `parent` with IFLA_IPVLAN_FLAGS `flags`. */
export interface IpvlanSpec {
  name: string;
  parent: number;
  flags: number;
}

/**
 * RTM_NEWLINK payload creating an ipvlan (send with NLM_F_CREATE | NLM_F_EXCL), as keepalived's
 * netlink_link_add_ipvlan builds it: created up (ifi_flags and ifi_change IFF_UP), then IFLA_LINK, IFLA_IFNAME,
 * IFLA_LINKINFO { IFLA_INFO_KIND "ipvlan", IFLA_INFO_DATA { IFLA_IPVLAN_MODE l2, IFLA_IPVLAN_FLAGS } }. No MAC:
 * an ipvlan has its parent's.
 */
export function encodeNewIpvlan(spec: IpvlanSpec): Buffer {
  if (!Number.isInteger(spec.parent) || spec.parent <= 0) throw new KtError('KT_NETLINK_BAD_SPEC', `bad parent ifindex ${spec.parent}`);
  if (!spec.name || Buffer.byteLength(spec.name) > 15 || /[/:\s]/.test(spec.name) || spec.name === '.' || spec.name === '..')
    throw new KtError('KT_NETLINK_BAD_SPEC', `bad interface name '${spec.name}'`);
  const linkinfo = attr(IFLA_LINKINFO, Buffer.concat([
    attrChars(IFLA_INFO_KIND, 'ipvlan'),
    attr(IFLA_INFO_DATA, Buffer.concat([attrU16(IFLA_IPVLAN_MODE, IPVLAN_MODE_L2), attrU16(IFLA_IPVLAN_FLAGS, spec.flags)])),
  ]));
  return Buffer.concat([ifinfomsg(0, IFF_UP, IFF_UP), attrU32(IFLA_LINK, spec.parent), attrChars(IFLA_IFNAME, spec.name), linkinfo]);
}

/** RTM_DELLINK payload for one link (keepalived sends ifi_family AF_INET; the kernel ignores it). */
export function encodeDelLink(ifindex: number): Buffer {
  if (!Number.isInteger(ifindex) || ifindex <= 0) throw new KtError('KT_NETLINK_BAD_SPEC', `bad ifindex ${ifindex}`);
  const b = ifinfomsg(ifindex);
  b.writeUInt8(2, 0); // AF_INET, as keepalived
  return b;
}

/**
 * RTM_NEWLINK payload setting IPv6 address generation to none (no EUI-64 link-local on a VMAC, RFC 5798 §7.4):
 * IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE u8 } }. The kernel ignores it in a create, so it is separate.
 */
export function encodeAddrGenModeNone(ifindex: number): Buffer {
  const inet6 = attr(10 /* AF_INET6 */, attrU8(IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE));
  return Buffer.concat([ifinfomsg(ifindex), attr(IFLA_AF_SPEC, inet6)]);
}

// --- routes ----------------------------------------------------------------------------------------------------

/** A route in the forms keepalived's virtual_routes use. */
export interface RouteSpec {
  family: Family;
  /** Destination address; omitted = default route. */
  dst?: string;
  dstLen?: number;
  /** Source-specific routing (`from`). */
  src?: string;
  srcLen?: number;
  gateway?: string;
  oif?: number;
  /** RTA_PREFSRC (`src` in `ip route`). */
  prefsrc?: string;
  /** Default: universe on add, nowhere on delete (keepalived's choice). */
  scope?: number;
  /** Default main (254); ids ≥ 256 go in RTA_TABLE. */
  table?: number;
  /** RTA_PRIORITY (`metric`). */
  metric?: number;
  /** Default unicast. */
  type?: RouteType;
  /** Default RTPROT_KEEPALIVED (18), as keepalived. */
  protocol?: number;
  tos?: number;
  /** RTNH_F_ONLINK etc. */
  flags?: number;
}

export interface RouteInfo {
  family: Family;
  dst?: string;
  dstLen: number;
  src?: string;
  srcLen: number;
  gateway?: string;
  oif?: number;
  prefsrc?: string;
  scope: number;
  table: number;
  metric?: number;
  type: RouteType | number;
  protocol: number;
  tos: number;
  flags: number;
}

export function encodeRoute(spec: RouteSpec, op: 'add' | 'del'): Buffer {
  const full = spec.family === 4 ? 32 : 128;
  const addr = (t: number, s: string): Buffer => {
    if (familyOf(s) !== spec.family) throw new KtError('KT_NETLINK_BAD_SPEC', `${s} is not IPv${spec.family}`);
    return attr(t, addrToBytes(s));
  };
  const table = spec.table ?? RT_TABLE_MAIN;
  const h = Buffer.alloc(12);
  h.writeUInt8(familyToAf(spec.family), 0);
  h.writeUInt8(spec.dst ? spec.dstLen ?? full : 0, 1);
  h.writeUInt8(spec.src ? spec.srcLen ?? full : 0, 2);
  h.writeUInt8(spec.tos ?? 0, 3);
  h.writeUInt8(table < 256 ? table : RT_TABLE_UNSPEC, 4);
  h.writeUInt8(spec.protocol ?? RTPROT_KEEPALIVED, 5);
  h.writeUInt8(spec.scope ?? (op === 'del' ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE), 6);
  h.writeUInt8(op === 'del' && !spec.type ? 0 : ROUTE_TYPES[spec.type ?? 'unicast'], 7);
  h.writeUInt32LE(spec.flags ?? 0, 8);
  // Attribute order as iproute2 sends them (byte-for-byte comparable with `ip route add`).
  const attrs: Buffer[] = [];
  if (spec.dst) attrs.push(addr(RTA_DST, spec.dst));
  if (spec.src) attrs.push(addr(RTA_SRC, spec.src));
  if (spec.prefsrc) attrs.push(addr(RTA_PREFSRC, spec.prefsrc));
  if (spec.gateway) attrs.push(addr(RTA_GATEWAY, spec.gateway));
  if (spec.metric !== undefined) attrs.push(attrU32(RTA_PRIORITY, spec.metric));
  if (table >= 256) attrs.push(attrU32(RTA_TABLE, table));
  if (spec.oif) attrs.push(attrU32(RTA_OIF, spec.oif));
  return Buffer.concat([h, ...attrs]);
}

export function encodeGetRoute(family?: Family): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt8(family ? familyToAf(family) : AF_UNSPEC, 0);
  return h;
}

export function decodeRoute(payload: Buffer): RouteInfo | undefined {
  if (payload.length < 12) return undefined;
  const family = afToFamily(payload[0]);
  if (!family) return undefined;
  const a = attrMap(payload.subarray(12));
  const ip = (t: number): string | undefined => {
    const v = a.get(t);
    return v ? bytesToIp(v) : undefined;
  };
  const r: RouteInfo = {
    family,
    dstLen: payload[1],
    srcLen: payload[2],
    tos: payload[3],
    table: u32(a.get(RTA_TABLE)) ?? payload[4],
    protocol: payload[5],
    scope: payload[6],
    type: routeTypeName(payload[7]),
    flags: payload.readUInt32LE(8),
  };
  const set = <K extends keyof RouteInfo>(k: K, v: RouteInfo[K] | undefined): void => {
    if (v !== undefined) r[k] = v;
  };
  set('dst', ip(RTA_DST));
  set('src', ip(RTA_SRC));
  set('gateway', ip(RTA_GATEWAY));
  set('prefsrc', ip(RTA_PREFSRC));
  set('oif', u32(a.get(RTA_OIF)));
  set('metric', u32(a.get(RTA_PRIORITY)));
  return r;
}

// --- rules -----------------------------------------------------------------------------------------------------

export interface RuleSpec {
  family: Family;
  from?: string;
  fromLen?: number;
  to?: string;
  toLen?: number;
  /** Lookup table (action "to table"). */
  table: number;
  priority?: number;
  fwmark?: number;
  fwmask?: number;
  iif?: string;
  oif?: string;
  /** Default RTPROT_KEEPALIVED (18). */
  protocol?: number;
}

export interface RuleInfo {
  family: Family;
  from?: string;
  fromLen: number;
  to?: string;
  toLen: number;
  table: number;
  action: number;
  priority?: number;
  fwmark?: number;
  iif?: string;
  oif?: string;
  protocol?: number;
}

export function encodeRule(spec: RuleSpec, op: 'add' | 'del'): Buffer {
  const full = spec.family === 4 ? 32 : 128;
  const addr = (t: number, s: string): Buffer => {
    if (familyOf(s) !== spec.family) throw new KtError('KT_NETLINK_BAD_SPEC', `${s} is not IPv${spec.family}`);
    return attr(t, addrToBytes(s));
  };
  const h = Buffer.alloc(12); // struct fib_rule_hdr
  h.writeUInt8(familyToAf(spec.family), 0);
  h.writeUInt8(spec.to ? spec.toLen ?? full : 0, 1);
  h.writeUInt8(spec.from ? spec.fromLen ?? full : 0, 2);
  h.writeUInt8(spec.table < 256 ? spec.table : RT_TABLE_UNSPEC, 4);
  h.writeUInt8(FR_ACT_TO_TBL, 7);
  // Attribute order as iproute2 sends them.
  const attrs: Buffer[] = [];
  if (spec.from) attrs.push(addr(FRA_SRC, spec.from));
  if (spec.to) attrs.push(addr(FRA_DST, spec.to));
  if (spec.priority !== undefined) attrs.push(attrU32(FRA_PRIORITY, spec.priority));
  if (spec.fwmark !== undefined) attrs.push(attrU32(FRA_FWMARK, spec.fwmark));
  if (spec.fwmask !== undefined) attrs.push(attrU32(FRA_FWMASK, spec.fwmask));
  if (spec.iif) attrs.push(attrStr(FRA_IIFNAME, spec.iif));
  if (spec.oif) attrs.push(attrStr(FRA_OIFNAME, spec.oif));
  if (spec.table >= 256) attrs.push(attrU32(FRA_TABLE, spec.table));
  if (op === 'add' || spec.protocol !== undefined) attrs.push(attrU8(FRA_PROTOCOL, spec.protocol ?? RTPROT_KEEPALIVED));
  return Buffer.concat([h, ...attrs]);
}

export function decodeRule(payload: Buffer): RuleInfo | undefined {
  if (payload.length < 12) return undefined;
  const family = afToFamily(payload[0]);
  if (!family) return undefined;
  const a = attrMap(payload.subarray(12));
  const r: RuleInfo = {
    family,
    toLen: payload[1],
    fromLen: payload[2],
    table: u32(a.get(FRA_TABLE)) ?? payload[4],
    action: payload[7],
  };
  const to = a.get(FRA_DST);
  if (to) r.to = bytesToIp(to);
  const from = a.get(FRA_SRC);
  if (from) r.from = bytesToIp(from);
  const prio = a.get(FRA_PRIORITY);
  if (prio) r.priority = u32(prio);
  const mark = a.get(FRA_FWMARK);
  if (mark) r.fwmark = u32(mark);
  const iif = readStr(a.get(FRA_IIFNAME));
  if (iif !== undefined) r.iif = iif;
  const oif = readStr(a.get(FRA_OIFNAME));
  if (oif !== undefined) r.oif = oif;
  const proto = a.get(FRA_PROTOCOL);
  if (proto?.length) r.protocol = proto[0];
  return r;
}

// --- notifications (pure) --------------------------------------------------------------------------------------

export type RtnlEvent =
  | { kind: 'link'; change: 'new' | 'del'; link: LinkInfo }
  | { kind: 'address'; change: 'added' | 'removed'; address: AddressInfo }
  | { kind: 'route'; change: 'added' | 'removed'; route: RouteInfo };

/** Turns one rtnetlink message into a typed event, by nlmsg_type (so NEWADDR and DELADDR stay distinct). */
export function decodeEvent(m: NetlinkMessage): RtnlEvent | undefined {
  switch (m.type) {
    case RTM_NEWLINK:
    case RTM_DELLINK: {
      const link = decodeLink(m.payload);
      return link && { kind: 'link', change: m.type === RTM_NEWLINK ? 'new' : 'del', link };
    }
    case RTM_NEWADDR:
    case RTM_DELADDR: {
      const address = decodeAddress(m.payload);
      return address && { kind: 'address', change: m.type === RTM_NEWADDR ? 'added' : 'removed', address };
    }
    case RTM_NEWROUTE:
    case RTM_DELROUTE: {
      const route = decodeRoute(m.payload);
      return route && { kind: 'route', change: m.type === RTM_NEWROUTE ? 'added' : 'removed', route };
    }
    default:
      return undefined;
  }
}
