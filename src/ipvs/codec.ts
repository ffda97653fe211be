// IPVS generic-netlink messages (pure). Layouts and numbers from <linux/ip_vs.h> and the kernel's
// net/netfilter/ipvs/ip_vs_ctl.c policies:
//   - services are nested in IPVS_CMD_ATTR_SERVICE, keyed by AF + FWMARK, or AF + PROTOCOL + ADDR + PORT;
//   - addresses are 16-byte nf_inet_addr, ports (service, dest, GUE tunnel) are big-endian u16;
//   - FLAGS is struct ip_vs_flags { u32 flags; u32 mask } in host order;
//   - NETMASK is read by the kernel as a raw __be32: an IPv4 mask in network byte order, an IPv6 prefix length
//     as a plain host-order number (ipvsadm and keepalived both send it that way).
// A request here is the generic-netlink payload (genlmsghdr + attributes); NetlinkSocket adds the nlmsghdr.
import { attr, attrBe16, attrMap, attrStr, attrU16, attrU32, attrU8, decodeAttrs, nest, readStr } from '../net/netlink-codec.js';
import { decodeGenl, genlPayload } from '../net/genetlink-codec.js';
import { addrToBytes, bytesToAddr } from '../net/address.js';
import { AF_INET, AF_INET6, afToFamily, type Af } from '../net/constants.js';
import {
  FWD_MASK, FWD_TUNNEL, SVC_F_HASHED, TUN_GUE, TUN_IPIP,
  type DestEntry, type DestKey, type DestSpec, type IpvsInfo, type IpvsProtocol, type IpvsStats,
  type IpvsTimeouts, type ServiceEntry, type ServiceKey, type ServiceSpec, type SyncDaemonSpec,
} from './kernel-table.js';
import { KtError } from '../util/errors.js';

export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 1;

export const IPVS_CMD_NEW_SERVICE = 1;
export const IPVS_CMD_SET_SERVICE = 2;
export const IPVS_CMD_DEL_SERVICE = 3;
export const IPVS_CMD_GET_SERVICE = 4;
export const IPVS_CMD_NEW_DEST = 5;
export const IPVS_CMD_SET_DEST = 6;
export const IPVS_CMD_DEL_DEST = 7;
export const IPVS_CMD_GET_DEST = 8;
export const IPVS_CMD_NEW_DAEMON = 9;
export const IPVS_CMD_DEL_DAEMON = 10;
export const IPVS_CMD_GET_DAEMON = 11;
export const IPVS_CMD_SET_CONFIG = 12;
export const IPVS_CMD_GET_CONFIG = 13;
export const IPVS_CMD_SET_INFO = 14;
export const IPVS_CMD_GET_INFO = 15;
export const IPVS_CMD_ZERO = 16;
export const IPVS_CMD_FLUSH = 17;

export const IPVS_CMD_ATTR_SERVICE = 1;
export const IPVS_CMD_ATTR_DEST = 2;
export const IPVS_CMD_ATTR_DAEMON = 3;
export const IPVS_CMD_ATTR_TIMEOUT_TCP = 4;
export const IPVS_CMD_ATTR_TIMEOUT_TCP_FIN = 5;
export const IPVS_CMD_ATTR_TIMEOUT_UDP = 6;

export const IPVS_SVC_ATTR_AF = 1;
export const IPVS_SVC_ATTR_PROTOCOL = 2;
export const IPVS_SVC_ATTR_ADDR = 3;
export const IPVS_SVC_ATTR_PORT = 4;
export const IPVS_SVC_ATTR_FWMARK = 5;
export const IPVS_SVC_ATTR_SCHED_NAME = 6;
export const IPVS_SVC_ATTR_FLAGS = 7;
export const IPVS_SVC_ATTR_TIMEOUT = 8;
export const IPVS_SVC_ATTR_NETMASK = 9;
export const IPVS_SVC_ATTR_STATS = 10;
export const IPVS_SVC_ATTR_PE_NAME = 11;
export const IPVS_SVC_ATTR_STATS64 = 12;

export const IPVS_DEST_ATTR_ADDR = 1;
export const IPVS_DEST_ATTR_PORT = 2;
export const IPVS_DEST_ATTR_FWD_METHOD = 3;
export const IPVS_DEST_ATTR_WEIGHT = 4;
export const IPVS_DEST_ATTR_U_THRESH = 5;
export const IPVS_DEST_ATTR_L_THRESH = 6;
export const IPVS_DEST_ATTR_ACTIVE_CONNS = 7;
export const IPVS_DEST_ATTR_INACT_CONNS = 8;
export const IPVS_DEST_ATTR_PERSIST_CONNS = 9;
export const IPVS_DEST_ATTR_STATS = 10;
export const IPVS_DEST_ATTR_ADDR_FAMILY = 11;
export const IPVS_DEST_ATTR_STATS64 = 12;
export const IPVS_DEST_ATTR_TUN_TYPE = 13;
export const IPVS_DEST_ATTR_TUN_PORT = 14;
export const IPVS_DEST_ATTR_TUN_FLAGS = 15;

export const IPVS_DAEMON_ATTR_STATE = 1;
export const IPVS_DAEMON_ATTR_MCAST_IFN = 2;
export const IPVS_DAEMON_ATTR_SYNC_ID = 3;
export const IPVS_DAEMON_ATTR_SYNC_MAXLEN = 4;
export const IPVS_DAEMON_ATTR_MCAST_GROUP = 5;
export const IPVS_DAEMON_ATTR_MCAST_GROUP6 = 6;
export const IPVS_DAEMON_ATTR_MCAST_PORT = 7;
export const IPVS_DAEMON_ATTR_MCAST_TTL = 8;

export const IPVS_STATS_ATTR_CONNS = 1;
export const IPVS_STATS_ATTR_PAD = 11;
const STATS_FIELDS = ['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes', 'cps', 'inpps', 'outpps', 'inbps', 'outbps'] as const;

export const IPVS_INFO_ATTR_VERSION = 1;
export const IPVS_INFO_ATTR_CONN_TAB_SIZE = 2;

export const IP_VS_SCHEDNAME_MAXLEN = 16;
export const IP_VS_PENAME_MAXLEN = 16;
export const IP_VS_IFNAME_MAXLEN = 16;

/** One request: the command and its generic-netlink payload; `dump` asks for NLM_F_DUMP. */
export interface IpvsRequest {
  cmd: number;
  payload: Buffer;
  dump: boolean;
}

const req = (cmd: number, attrs: Buffer[], dump = false): IpvsRequest => ({
  cmd,
  payload: genlPayload(cmd, IPVS_GENL_VERSION, attrs),
  dump,
});

function checkPort(p: number, what: string): void {
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new KtError('KT_IPVS_BAD_SPEC', `${what} out of range: ${p}`);
}
function checkU32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new KtError('KT_IPVS_BAD_SPEC', `${what} out of range: ${v}`);
}
function checkName(s: string, max: number, what: string): void {
  if (!s || Buffer.byteLength(s) >= max || s.includes('\0')) throw new KtError('KT_IPVS_BAD_SPEC', `${what} must be 1..${max - 1} bytes: '${s}'`);
}

/** The key attributes of a service (AF first, as the kernel's parser and libipvs order them). */
function serviceKeyAttrs(k: ServiceKey): Buffer[] {
  if (k.af !== AF_INET && k.af !== AF_INET6) throw new KtError('KT_IPVS_BAD_SPEC', `unknown address family ${k.af}`);
  if (k.fwmark !== undefined) {
    checkU32(k.fwmark, 'fwmark');
    if (k.fwmark === 0) throw new KtError('KT_IPVS_BAD_SPEC', 'fwmark must be non-zero');
    return [attrU16(IPVS_SVC_ATTR_AF, k.af), attrU32(IPVS_SVC_ATTR_FWMARK, k.fwmark)];
  }
  checkPort(k.port, 'service port');
  return [
    attrU16(IPVS_SVC_ATTR_AF, k.af),
    attrU16(IPVS_SVC_ATTR_PROTOCOL, k.protocol),
    attr(IPVS_SVC_ATTR_ADDR, addrToNf(k.af, k.addr)),
    attrBe16(IPVS_SVC_ATTR_PORT, k.port),
  ];
}

function netmaskBytes(af: Af, netmask: number): Buffer {
  const b = Buffer.alloc(4);
  if (af === AF_INET) b.writeUInt32BE(netmask >>> 0);
  else {
    if (!Number.isInteger(netmask) || netmask < 1 || netmask > 128) throw new KtError('KT_IPVS_BAD_SPEC', `IPv6 persistence prefix must be 1..128: ${netmask}`);
    b.writeUInt32LE(netmask);
  }
  return b;
}

/** The full service nest, as NEW_SERVICE and SET_SERVICE need it (the kernel wants all four settings). */
export function serviceNest(s: ServiceSpec): Buffer {
  checkName(s.scheduler, IP_VS_SCHEDNAME_MAXLEN, 'scheduler name');
  checkU32(s.timeout, 'persistence timeout');
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE((s.flags & ~SVC_F_HASHED) >>> 0, 0);
  flags.writeUInt32LE(0xffffffff, 4);
  const attrs = [...serviceKeyAttrs(s), attrStr(IPVS_SVC_ATTR_SCHED_NAME, s.scheduler)];
  if (s.peName) {
    checkName(s.peName, IP_VS_PENAME_MAXLEN, 'persistence engine name');
    attrs.push(attrStr(IPVS_SVC_ATTR_PE_NAME, s.peName));
  }
  attrs.push(attr(IPVS_SVC_ATTR_FLAGS, flags), attrU32(IPVS_SVC_ATTR_TIMEOUT, s.timeout), attr(IPVS_SVC_ATTR_NETMASK, netmaskBytes(s.af, s.netmask)));
  return nest(IPVS_CMD_ATTR_SERVICE, attrs);
}

/** A service nest with only its key: enough for DEL_SERVICE, GET_SERVICE and the dest commands. */
export const serviceKeyNest = (k: ServiceKey): Buffer => nest(IPVS_CMD_ATTR_SERVICE, serviceKeyAttrs(k));

function destKeyAttrs(d: DestKey): Buffer[] {
  if (d.af !== AF_INET && d.af !== AF_INET6) throw new KtError('KT_IPVS_BAD_SPEC', `unknown address family ${d.af}`);
  checkPort(d.port, 'destination port');
  return [attrU16(IPVS_DEST_ATTR_ADDR_FAMILY, d.af), attr(IPVS_DEST_ATTR_ADDR, addrToNf(d.af, d.addr)), attrBe16(IPVS_DEST_ATTR_PORT, d.port)];
}

export function destNest(d: DestSpec): Buffer {
  if (!Number.isInteger(d.weight) || d.weight < 0 || d.weight > 0x7fffffff) throw new KtError('KT_IPVS_BAD_SPEC', `weight out of range: ${d.weight}`);
  checkU32(d.uThreshold, 'upper threshold');
  checkU32(d.lThreshold, 'lower threshold');
  const fwd = d.fwd & FWD_MASK;
  const attrs = [...destKeyAttrs(d), attrU32(IPVS_DEST_ATTR_FWD_METHOD, fwd), attrU32(IPVS_DEST_ATTR_WEIGHT, d.weight)];
  if (fwd === FWD_TUNNEL) {
    const type = d.tunType ?? TUN_IPIP;
    attrs.push(attrU8(IPVS_DEST_ATTR_TUN_TYPE, type));
    if (type === TUN_GUE) {
      if (!d.tunPort) throw new KtError('KT_IPVS_BAD_SPEC', 'a GUE tunnel needs a port');
      checkPort(d.tunPort, 'tunnel port');
      attrs.push(attrBe16(IPVS_DEST_ATTR_TUN_PORT, d.tunPort));
    }
    if (type !== TUN_IPIP) attrs.push(attrU16(IPVS_DEST_ATTR_TUN_FLAGS, d.tunFlags ?? 0));
  }
  attrs.push(attrU32(IPVS_DEST_ATTR_U_THRESH, d.uThreshold), attrU32(IPVS_DEST_ATTR_L_THRESH, d.lThreshold));
  return nest(IPVS_CMD_ATTR_DEST, attrs);
}

export const destKeyNest = (d: DestKey): Buffer => nest(IPVS_CMD_ATTR_DEST, destKeyAttrs(d));

// ---- requests ---------------------------------------------------------------------------------------------

export const getInfoRequest = (): IpvsRequest => req(IPVS_CMD_GET_INFO, []);
export const getConfigRequest = (): IpvsRequest => req(IPVS_CMD_GET_CONFIG, []);
export const flushRequest = (): IpvsRequest => req(IPVS_CMD_FLUSH, []);
export const zeroRequest = (k?: ServiceKey): IpvsRequest => req(IPVS_CMD_ZERO, k ? [serviceKeyNest(k)] : []);
export const dumpServicesRequest = (): IpvsRequest => req(IPVS_CMD_GET_SERVICE, [], true);
export const getServiceRequest = (k: ServiceKey): IpvsRequest => req(IPVS_CMD_GET_SERVICE, [serviceKeyNest(k)]);
export const dumpDestsRequest = (k: ServiceKey): IpvsRequest => req(IPVS_CMD_GET_DEST, [serviceKeyNest(k)], true);
export const dumpDaemonsRequest = (): IpvsRequest => req(IPVS_CMD_GET_DAEMON, [], true);

export const newServiceRequest = (s: ServiceSpec): IpvsRequest => req(IPVS_CMD_NEW_SERVICE, [serviceNest(s)]);
export const setServiceRequest = (s: ServiceSpec): IpvsRequest => req(IPVS_CMD_SET_SERVICE, [serviceNest(s)]);
export const delServiceRequest = (k: ServiceKey): IpvsRequest => req(IPVS_CMD_DEL_SERVICE, [serviceKeyNest(k)]);

export const newDestRequest = (k: ServiceKey, d: DestSpec): IpvsRequest => req(IPVS_CMD_NEW_DEST, [serviceKeyNest(k), destNest(d)]);
export const setDestRequest = (k: ServiceKey, d: DestSpec): IpvsRequest => req(IPVS_CMD_SET_DEST, [serviceKeyNest(k), destNest(d)]);
export const delDestRequest = (k: ServiceKey, d: DestKey): IpvsRequest => req(IPVS_CMD_DEL_DEST, [serviceKeyNest(k), destKeyNest(d)]);

/** SET_CONFIG: the kernel treats 0 / absent as "leave unchanged". */
export function setConfigRequest(t: IpvsTimeouts): IpvsRequest {
  const attrs: Buffer[] = [];
  if (t.tcp !== undefined) { checkU32(t.tcp, 'tcp timeout'); attrs.push(attrU32(IPVS_CMD_ATTR_TIMEOUT_TCP, t.tcp)); }
  if (t.tcpFin !== undefined) { checkU32(t.tcpFin, 'tcpfin timeout'); attrs.push(attrU32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t.tcpFin)); }
  if (t.udp !== undefined) { checkU32(t.udp, 'udp timeout'); attrs.push(attrU32(IPVS_CMD_ATTR_TIMEOUT_UDP, t.udp)); }
  return req(IPVS_CMD_SET_CONFIG, attrs);
}

const s32 = (type: number, v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return attr(type, b);
};

export function newDaemonRequest(d: SyncDaemonSpec): IpvsRequest {
  checkName(d.mcastIfn, IP_VS_IFNAME_MAXLEN, 'sync daemon interface');
  const a = [s32(IPVS_DAEMON_ATTR_STATE, d.state), attrStr(IPVS_DAEMON_ATTR_MCAST_IFN, d.mcastIfn), s32(IPVS_DAEMON_ATTR_SYNC_ID, d.syncId)];
  if (d.syncMaxLen) a.push(attrU16(IPVS_DAEMON_ATTR_SYNC_MAXLEN, d.syncMaxLen));
  if (d.mcastPort) a.push(attrU16(IPVS_DAEMON_ATTR_MCAST_PORT, d.mcastPort));
  if (d.mcastTtl) a.push(attrU8(IPVS_DAEMON_ATTR_MCAST_TTL, d.mcastTtl));
  if (d.mcastGroup) {
    if (d.mcastGroup.includes(':')) a.push(attr(IPVS_DAEMON_ATTR_MCAST_GROUP6, addrToNf(AF_INET6, d.mcastGroup)));
    else a.push(attr(IPVS_DAEMON_ATTR_MCAST_GROUP, addrToBytes(d.mcastGroup, 4)));
  }
  return req(IPVS_CMD_NEW_DAEMON, [nest(IPVS_CMD_ATTR_DAEMON, a)]);
}

export const delDaemonRequest = (state: number, syncId: number): IpvsRequest =>
  req(IPVS_CMD_DEL_DAEMON, [nest(IPVS_CMD_ATTR_DAEMON, [s32(IPVS_DAEMON_ATTR_STATE, state), s32(IPVS_DAEMON_ATTR_SYNC_ID, syncId)])]);

// ---- decoders ---------------------------------------------------------------------------------------------

const u16 = (b: Buffer | undefined): number | undefined => (b && b.length >= 2 ? b.readUInt16LE(0) : undefined);
const u32 = (b: Buffer | undefined): number | undefined => (b && b.length >= 4 ? b.readUInt32LE(0) : undefined);
const be16 = (b: Buffer | undefined): number | undefined => (b && b.length >= 2 ? b.readUInt16BE(0) : undefined);

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new KtError('KT_IPVS_MALFORMED', `IPVS reply lacks ${what}`);
  return v;
}

/** The 16-byte nf_inet_addr: an IPv4 address in the first 4 bytes, the rest zero. Throws AddressError. */
function addrToNf(af: Af, addr: string): Buffer {
  const out = Buffer.alloc(16);
  addrToBytes(addr, afToFamily(af)).copy(out);
  return out;
}

/** nf_inet_addr → text; a short IPv6 attribute is zero-filled (callers check the IPv4 length). */
function nfToAddr(af: Af, b: Buffer): string {
  if (af === AF_INET) return bytesToAddr(b, 4);
  const full = Buffer.alloc(16);
  b.copy(full, 0, 0, Math.min(16, b.length));
  return bytesToAddr(full);
}

/** An address attribute of a reply: a known family and enough bytes for it (the kernel sends 16 for both). */
function replyAddr(af: number, b: Buffer | undefined, what: string): string {
  const buf = need(b, what);
  if (af !== AF_INET && af !== AF_INET6) throw new KtError('KT_IPVS_MALFORMED', `IPVS reply: ${what} of unknown address family ${af}`);
  const want = af === AF_INET ? 4 : 16;
  if (buf.length < want) throw new KtError('KT_IPVS_MALFORMED', `IPVS reply: ${what} of ${buf.length} bytes, need ${want}`);
  return nfToAddr(af, buf);
}

export function decodeStats(b: Buffer): IpvsStats {
  const s = Object.fromEntries(STATS_FIELDS.map((f) => [f, 0n])) as unknown as IpvsStats;
  for (const a of decodeAttrs(b)) {
    const f = STATS_FIELDS[a.type - IPVS_STATS_ATTR_CONNS];
    if (!f) continue;
    if (a.value.length >= 8) s[f] = a.value.readBigUInt64LE(0);
    else if (a.value.length >= 4) s[f] = BigInt(a.value.readUInt32LE(0));
  }
  return s;
}

/** Decodes the attributes inside a service nest. */
export function decodeServiceAttrs(b: Buffer): ServiceEntry {
  const m = attrMap(b);
  const af = need(u16(m.get(IPVS_SVC_ATTR_AF)), 'service AF') as Af;
  const flagsBuf = m.get(IPVS_SVC_ATTR_FLAGS);
  const kernelFlags = flagsBuf && flagsBuf.length >= 4 ? flagsBuf.readUInt32LE(0) : 0;
  const nm = m.get(IPVS_SVC_ATTR_NETMASK);
  const netmask = !nm || nm.length < 4 ? (af === AF_INET ? 0xffffffff : 128) : af === AF_INET ? nm.readUInt32BE(0) : nm.readUInt32LE(0);
  const settings = {
    scheduler: readStr(m.get(IPVS_SVC_ATTR_SCHED_NAME)) ?? '',
    flags: kernelFlags & ~SVC_F_HASHED,
    timeout: u32(m.get(IPVS_SVC_ATTR_TIMEOUT)) ?? 0,
    netmask,
    ...(m.has(IPVS_SVC_ATTR_PE_NAME) ? { peName: readStr(m.get(IPVS_SVC_ATTR_PE_NAME)) } : {}),
  };
  const statsBuf = m.get(IPVS_SVC_ATTR_STATS64) ?? m.get(IPVS_SVC_ATTR_STATS);
  const extra = { kernelFlags, ...(statsBuf ? { stats: decodeStats(statsBuf) } : {}) };
  const fwmark = u32(m.get(IPVS_SVC_ATTR_FWMARK));
  if (fwmark) return { af, fwmark, ...settings, ...extra };
  return {
    af,
    protocol: need(u16(m.get(IPVS_SVC_ATTR_PROTOCOL)), 'service protocol') as IpvsProtocol,
    addr: replyAddr(af, m.get(IPVS_SVC_ATTR_ADDR), 'service address'),
    port: need(be16(m.get(IPVS_SVC_ATTR_PORT)), 'service port'),
    ...settings,
    ...extra,
  };
}

/** Decodes the attributes inside a dest nest; `svcAf` stands in for kernels that omit ADDR_FAMILY. */
export function decodeDestAttrs(b: Buffer, svcAf: Af): DestEntry {
  const m = attrMap(b);
  const af = (u16(m.get(IPVS_DEST_ATTR_ADDR_FAMILY)) ?? svcAf) as Af;
  const fwd = need(u32(m.get(IPVS_DEST_ATTR_FWD_METHOD)), 'dest forwarding method') & FWD_MASK;
  const statsBuf = m.get(IPVS_DEST_ATTR_STATS64) ?? m.get(IPVS_DEST_ATTR_STATS);
  const d: DestEntry = {
    af,
    addr: replyAddr(af, m.get(IPVS_DEST_ATTR_ADDR), 'dest address'),
    port: need(be16(m.get(IPVS_DEST_ATTR_PORT)), 'dest port'),
    fwd,
    weight: need(u32(m.get(IPVS_DEST_ATTR_WEIGHT)), 'dest weight') | 0,
    uThreshold: u32(m.get(IPVS_DEST_ATTR_U_THRESH)) ?? 0,
    lThreshold: u32(m.get(IPVS_DEST_ATTR_L_THRESH)) ?? 0,
    activeConns: u32(m.get(IPVS_DEST_ATTR_ACTIVE_CONNS)) ?? 0,
    inactConns: u32(m.get(IPVS_DEST_ATTR_INACT_CONNS)) ?? 0,
    persistConns: u32(m.get(IPVS_DEST_ATTR_PERSIST_CONNS)) ?? 0,
  };
  if (fwd === FWD_TUNNEL) {
    const t = m.get(IPVS_DEST_ATTR_TUN_TYPE);
    d.tunType = t && t.length ? t[0] : TUN_IPIP;
    if (d.tunType === TUN_GUE) d.tunPort = be16(m.get(IPVS_DEST_ATTR_TUN_PORT)) ?? 0;
    if (d.tunType !== TUN_IPIP) d.tunFlags = u16(m.get(IPVS_DEST_ATTR_TUN_FLAGS)) ?? 0;
  }
  if (statsBuf) d.stats = decodeStats(statsBuf);
  return d;
}

function topAttrs(payload: Buffer): Map<number, Buffer> {
  return attrMap(decodeGenl(payload).attrs);
}

/** One message of a GET_SERVICE dump (or the single GET_SERVICE reply). */
export function decodeServiceMessage(payload: Buffer): ServiceEntry {
  return decodeServiceAttrs(need(topAttrs(payload).get(IPVS_CMD_ATTR_SERVICE), 'service nest'));
}

export function decodeDestMessage(payload: Buffer, svcAf: Af): DestEntry {
  return decodeDestAttrs(need(topAttrs(payload).get(IPVS_CMD_ATTR_DEST), 'dest nest'), svcAf);
}

export function decodeInfoMessage(payload: Buffer): IpvsInfo {
  const m = topAttrs(payload);
  const version = need(u32(m.get(IPVS_INFO_ATTR_VERSION)), 'version');
  return {
    version,
    versionString: `${(version >> 16) & 0xff}.${(version >> 8) & 0xff}.${version & 0xff}`,
    connTabSize: u32(m.get(IPVS_INFO_ATTR_CONN_TAB_SIZE)) ?? 0,
  };
}

export function decodeConfigMessage(payload: Buffer): Required<IpvsTimeouts> {
  const m = topAttrs(payload);
  return {
    tcp: u32(m.get(IPVS_CMD_ATTR_TIMEOUT_TCP)) ?? 0,
    tcpFin: u32(m.get(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN)) ?? 0,
    udp: u32(m.get(IPVS_CMD_ATTR_TIMEOUT_UDP)) ?? 0,
  };
}

export function decodeDaemonMessage(payload: Buffer): SyncDaemonSpec {
  const m = attrMap(need(topAttrs(payload).get(IPVS_CMD_ATTR_DAEMON), 'daemon nest'));
  const d: SyncDaemonSpec = {
    state: need(u32(m.get(IPVS_DAEMON_ATTR_STATE)), 'daemon state') as SyncDaemonSpec['state'],
    mcastIfn: readStr(m.get(IPVS_DAEMON_ATTR_MCAST_IFN)) ?? '',
    syncId: u32(m.get(IPVS_DAEMON_ATTR_SYNC_ID)) ?? 0,
  };
  const maxLen = u16(m.get(IPVS_DAEMON_ATTR_SYNC_MAXLEN));
  if (maxLen) d.syncMaxLen = maxLen;
  const port = u16(m.get(IPVS_DAEMON_ATTR_MCAST_PORT));
  if (port) d.mcastPort = port;
  const ttl = m.get(IPVS_DAEMON_ATTR_MCAST_TTL);
  if (ttl && ttl.length) d.mcastTtl = ttl[0];
  const g4 = m.get(IPVS_DAEMON_ATTR_MCAST_GROUP);
  const g6 = m.get(IPVS_DAEMON_ATTR_MCAST_GROUP6);
  if (g6 && g6.length >= 16 && g6.some((x) => x !== 0)) d.mcastGroup = nfToAddr(AF_INET6, g6);
  else if (g4 && g4.length >= 4 && g4.readUInt32BE(0) !== 0) d.mcastGroup = nfToAddr(AF_INET, g4);
  return d;
}
