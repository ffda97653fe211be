// Receive validation of one advert for one instance, in keepalived's order (vrrp_check_packet, vrrp.c:927-1370).
// Every drop has a stable reason so the shell can count it; VIP-list mismatches are accepted but reported.
import { canonicalAddr, compareAddr, isMulticast, type Family } from '../net/address.js';
import { IPPROTO_AH, IPPROTO_VRRP } from '../net/constants.js';
import type { InstanceState } from './machine.js';
import type { UnicastPeerSpec } from './spec.js';
import { decodeIpv4Header, VRRP_TTL } from '../net/ipv4-header.js';
import {
  VRRP_AUTH_TYPE, passAuthData, decodeAdvert, expectedAdvertLength,
  VRRP_TYPE_ADVERT, type Advert,
} from './packet.js';

/** Why a received packet was dropped; one counter per value in the shell. In keepalived's check order. */
export const DropReason = {
  /** IPv4 header unparsable (short, not v4, bad IHL). */
  IpHeader: 'ip-header',
  /** Protocol is AH but we do not use AH, or vice versa. */
  AhMismatch: 'ah-mismatch',
  /** VRRP message truncated or unparsable (too short, version nibble not 2/3, naddr beyond the data). */
  Malformed: 'malformed',
  /** Received length differs from the header's naddr (beyond allowed Ethernet padding). */
  Length: 'length',
  /** TTL / hop limit not 255 (multicast), or outside a unicast peer's min_ttl..max_ttl. */
  Ttl: 'ttl',
  /** VRRP version differs from the instance's. */
  Version: 'version',
  /** v2 auth type not NONE/PASS/AH. */
  AuthTypeInvalid: 'auth-type-invalid',
  /** v2 auth type differs from configured. */
  AuthTypeMismatch: 'auth-type-mismatch',
  /** v2 PASS password differs. */
  Auth: 'auth',
  /** v2 advert interval differs from ours (keepalived drops to avoid concurrent VRIDs). */
  IntervalV2: 'interval-v2',
  /** Type is not ADVERTISEMENT. */
  Type: 'type',
  /** IPv4 tot_len does not match the received length. */
  IpLength: 'ip-length',
  /** VRRP checksum wrong. */
  Checksum: 'checksum',
  /** Multicast packet on a unicast instance or unicast packet on a multicast one. */
  ModeMismatch: 'mode-mismatch',
  /** We are address owner (255) with owner_ignore_adverts. */
  OwnerIgnore: 'owner-ignore',
  /** check_unicast_src and the source is not a configured peer. */
  NotAPeer: 'not-a-peer',
  /** The advert is for another VRID (shell dispatch error or shared socket). */
  Vrid: 'vrid',
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

/** Accepted-but-noted findings (keepalived logs them, counts addr_list_err, still processes the advert). */
export type RxNote = 'naddr-mismatch' | 'vip-mismatch' | 'interval-v3-mismatch' | 'priority-zero';

/** What the shell received. */
export interface RxPacket {
  /**
   * IPv4: the whole IP packet (raw socket read, header included). IPv6: the VRRP message only (the kernel strips
   * the IPv6 header); pass src/dst/ttl from recvmsg (IPV6_RECVPKTINFO / IPV6_RECVHOPLIMIT).
   */
  bytes: Uint8Array;
  family: Family;
  /** IPv6 source (required for IPv6); ignored for IPv4 (taken from the header). */
  src?: string;
  /** IPv6 destination (required for IPv6 checksum and mode checks); ignored for IPv4. */
  dst?: string;
  /** IPv6 hop limit; undefined = unknown (check skipped, like keepalived's rx_ttl_hl -1). IPv4 uses the header. */
  ttl?: number;
}

/** The per-instance facts validation needs (a subset of VrrpInstanceSpec plus live state). */
export interface RxPolicy {
  vrid: number;
  version: 2 | 3;
  family: Family;
  advertIntMs: number;
  /** v2 only: 0 none, 1 PASS (AH is not supported by keepalived-ts; adverts with AH are dropped). */
  authType: 0 | 1;
  /** v2 PASS: the 8 auth bytes (see passAuthData). */
  authData?: Uint8Array;
  unicast: boolean;
  unicastPeers: UnicastPeerSpec[];
  checkUnicastSrc: boolean;
  v3ChecksumAsV2: boolean;
  ownerIgnoreAdverts: boolean;
  effectivePriority: number;
  /** Configured VIPs (not eVIPs), textual. */
  vips: string[];
  /** skip_check_adv_addr: skip the VIP comparison when the advert comes from the same master as last time. */
  skipCheckAdvAddr: boolean;
  /** Address of the master we last accepted an advert from (for skipCheckAdvAddr). */
  lastMaster?: string;
}

export type ValidateResult =
  | { ok: true; advert: Advert; src: string; dst: string; notes: RxNote[] }
  | { ok: false; reason: DropReason; detail: string; src?: string };

/** VRID of a packet, for dispatching to an instance before full validation. undefined if unparsable. */
export function peekVrid(bytes: Uint8Array, family: Family): number | undefined {
  let off = 0;
  if (family === 4) {
    if (bytes.length < 20) return undefined;
    off = (bytes[0]! & 0x0f) * 4;
    if (bytes[9] === IPPROTO_AH) off += 24;
  }
  return bytes.length > off + 1 ? bytes[off + 1] : undefined;
}

const ETH_ZLEN = 60, ETH_HLEN = 14, VLAN_TAG = 4;
/** keepalived accepts short frames padded to 60 bytes (possibly less VLAN tags). */
function paddingOk(expected: number, got: number): boolean {
  return expected < ETH_ZLEN - ETH_HLEN && expected < got &&
    (got - expected) % VLAN_TAG === (VLAN_TAG - ((ETH_ZLEN - ETH_HLEN) % VLAN_TAG)) % VLAN_TAG;
}

function eq8(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  const x = a ?? new Uint8Array(8), y = b ?? new Uint8Array(8);
  let diff = 0; // constant time, like keepalived
  for (let i = 0; i < 8; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

const drop = (reason: DropReason, detail: string, src?: string): ValidateResult => ({ ok: false, reason, detail, src });

export function validateAdvert(pkt: RxPacket, pol: RxPolicy): ValidateResult {
  let src: string, dst: string, ttl: number | undefined, msg: Uint8Array, ipTotLen: number | undefined;
  const buflen = pkt.bytes.length;
  let headerLen = 0;
  if (pol.family === 4) {
    const ip = decodeIpv4Header(pkt.bytes);
    if (!ip.ok) return drop(DropReason.IpHeader, ip.detail);
    ({ src, dst, ttl } = ip.header);
    ipTotLen = ip.header.totalLength;
    headerLen = ip.header.headerLength;
    // 1. AH presence must match auth type (we never use AH).
    if (ip.header.protocol === IPPROTO_AH) return drop(DropReason.AhMismatch, 'received AH header but auth type not AH', src);
    if (ip.header.protocol !== IPPROTO_VRRP) return drop(DropReason.IpHeader, `protocol ${ip.header.protocol}`, src);
    msg = ip.payload;
  } else {
    if (!pkt.src || !pkt.dst) return drop(DropReason.IpHeader, 'IPv6 packet without source/destination');
    src = pkt.src; dst = pkt.dst; ttl = pkt.ttl;
    msg = pkt.bytes;
  }
  if (msg.length < 8) return drop(DropReason.Malformed, `${msg.length}-byte VRRP message`, src);
  const wireVersion = msg[0]! >> 4;
  // 2. Exact length from the header's own version and naddr (padding allowed).
  const expected = headerLen + expectedAdvertLength(wireVersion, msg[3]!, pol.family);
  if (buflen !== expected && !paddingOk(expected, buflen))
    return drop(DropReason.Length, `length ${buflen}, expected ${expected}`, src);
  // 3. TTL/HL 255 unless unicast (per-peer bounds are checked with the peer list, step 14).
  if (!pol.unicast && ttl !== undefined && ttl !== VRRP_TTL) return drop(DropReason.Ttl, `TTL ${ttl}, expected 255`, src);
  // 4. Version.
  if (wireVersion !== pol.version) return drop(DropReason.Version, `version ${wireVersion}, expected ${pol.version}`, src);
  const d = decodeAdvert(msg, { family: pol.family, src, dst, v3ChecksumAsV2: pol.v3ChecksumAsV2 });
  if (!d.ok) return drop(DropReason.Malformed, d.detail, src);
  const adv = d.advert;
  const notes: RxNote[] = [];
  // 6. v2 auth and interval.
  if (pol.version === 2) {
    const at = adv.authType ?? 0;
    if (at !== VRRP_AUTH_TYPE.NONE && at !== VRRP_AUTH_TYPE.PASS && at !== VRRP_AUTH_TYPE.AH)
      return drop(DropReason.AuthTypeInvalid, `auth type ${at}`, src);
    if (at !== pol.authType) return drop(DropReason.AuthTypeMismatch, `auth type ${at}, expected ${pol.authType}`, src);
    if (pol.authType === VRRP_AUTH_TYPE.PASS && !eq8(adv.authData, pol.authData)) return drop(DropReason.Auth, 'invalid password', src);
    if (adv.advertIntMs !== Math.round(pol.advertIntMs / 1000) * 1000)
      return drop(DropReason.IntervalV2, `interval ${adv.advertIntMs / 1000}s, ours ${pol.advertIntMs / 1000}s`, src);
  }
  // 7. Type.
  if (adv.type !== VRRP_TYPE_ADVERT) return drop(DropReason.Type, `type ${adv.type}`, src);
  // 8. IPv4 tot_len vs received.
  if (ipTotLen !== undefined && ipTotLen !== buflen &&
      !(buflen <= ETH_ZLEN - ETH_HLEN && ipTotLen < buflen && paddingOk(ipTotLen, buflen)))
    return drop(DropReason.IpLength, `tot_len ${ipTotLen}, received ${buflen}`, src);
  // 9. v3 interval mismatch is only logged (backups adopt the master's interval).
  if (pol.version === 3 && adv.advertIntMs !== Math.round(pol.advertIntMs / 10) * 10) notes.push('interval-v3-mismatch');
  // 10. Checksum (keepalived leaves IPv6 to the kernel; we verify it too since we have src/dst).
  // With v3_checksum_as_v2 a peer may use either form (keepalived does not check the sum at all in that mode);
  // accept the standard pseudo-header sum too, so a mixed-setting pair still hears each other.
  const standardSumOk = (): boolean => {
    const r = decodeAdvert(msg, { family: pol.family, src, dst, v3ChecksumAsV2: false });
    return r.ok && r.checksumOk;
  };
  const checksumOk = d.checksumOk || (pol.v3ChecksumAsV2 && pol.version === 3 && pol.family === 4 && standardSumOk());
  if (!checksumOk) return drop(DropReason.Checksum, `checksum 0x${d.checksum.toString(16).padStart(4, '0')} invalid`, src);
  // 11. Destination kind matches mode.
  if (isMulticast(dst) === pol.unicast)
    return drop(DropReason.ModeMismatch, `expected ${pol.unicast ? 'unicast' : 'multicast'} packet, got ${pol.unicast ? 'multicast' : 'unicast'}`, src);
  // 12. Owner ignoring adverts.
  if (pol.ownerIgnoreAdverts && pol.effectivePriority === 255) return drop(DropReason.OwnerIgnore, 'we are address owner', src);
  if (adv.vrid !== pol.vrid) return drop(DropReason.Vrid, `vrid ${adv.vrid}, ours ${pol.vrid}`, src);
  // 13. VIP count/list: logged, packet still accepted.
  const sameMaster = pol.lastMaster !== undefined && compareAddr(pol.lastMaster, src) === 0;
  if (adv.addresses.length !== pol.vips.length) notes.push('naddr-mismatch');
  else if (!(pol.skipCheckAdvAddr && sameMaster)) {
    const got = new Set(adv.addresses.map((a) => canonicalAddr(a)));
    if (pol.vips.some((v) => !got.has(safeNormalize(v)))) notes.push('vip-mismatch');
  }
  // 14. Unicast source must be a peer (with its TTL bounds) when check_unicast_src.
  if (pol.unicast && pol.checkUnicastSrc) {
    const peer = pol.unicastPeers.find((p) => compareAddr(p.address, src) === 0 && sameFamily(p.address, pol.family));
    if (!peer) return drop(DropReason.NotAPeer, `unicast source ${src} not a unicast peer`, src);
    if (ttl !== undefined && ((peer.minTtl !== undefined && ttl < peer.minTtl) || (peer.maxTtl !== undefined && ttl > peer.maxTtl)))
      return drop(DropReason.Ttl, `TTL ${ttl} outside ${peer.minTtl ?? 0}..${peer.maxTtl ?? 255} for peer ${src}`, src);
  }
  if (adv.priority === 0) notes.push('priority-zero');
  return { ok: true, advert: adv, src, dst, notes };
}

function safeNormalize(a: string): string {
  try { return canonicalAddr(a); } catch { return a; }
}
function sameFamily(a: string, f: Family): boolean {
  return f === 4 ? !a.includes(':') : a.includes(':');
}

/** The receive policy of an instance in its current state (effective priority, last master). */
export function rxPolicyFor(s: InstanceState): RxPolicy {
  const spec = s.spec;
  const auth = spec.version === 2 && spec.family === 4 && spec.authType === 1;
  return {
    vrid: spec.vrid, version: spec.version, family: spec.family, advertIntMs: spec.advertIntMs,
    authType: auth ? 1 : 0, authData: auth ? passAuthData(spec.authPass ?? '') : undefined,
    unicast: spec.unicastPeers.length > 0, unicastPeers: spec.unicastPeers, checkUnicastSrc: spec.checkUnicastSrc,
    v3ChecksumAsV2: spec.v3ChecksumAsV2, ownerIgnoreAdverts: spec.ownerIgnoreAdverts,
    effectivePriority: s.effectivePriority, vips: spec.vips, skipCheckAdvAddr: spec.skipCheckAdvAddr, lastMaster: s.masterAddress,
  };
}
