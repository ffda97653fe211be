// VRRP advertisement codec (RFC 3768 v2, RFC 5798/9568 v3, IPv4 and IPv6). Pure: bytes in, data out; decode never
// throws on bad input, it returns a typed error. The IPv4 header and the checksums are the wire layer's
// (src/net/ipv4-header.ts, src/net/checksum.ts), which are pure too.
import { internetChecksum, ipv4UpperChecksum, ipv6UpperChecksum } from '../net/checksum.js';
import { buildIpv4Header } from '../net/ipv4-header.js';
import { addrLength, addrToBytes, bytesToAddr, type Family } from '../net/address.js';
import { IPPROTO_VRRP } from '../net/constants.js';
import type { VrrpInstanceSpec } from './spec.js';
import { KtError } from '../util/errors.js';

export const VRRP_TYPE_ADVERT = 1;
export const VRRP_AUTH_LEN = 8;
export const VRRP_HEADER_LEN = 8;
export const VRRP_MAX_ADDR = 255;

/** v2 auth_type field values on the wire (the configured kind is the model's AuthType). */
export const VRRP_AUTH_TYPE = { NONE: 0, PASS: 1, AH: 2 } as const;
export type VrrpAuthTypeCode = (typeof VRRP_AUTH_TYPE)[keyof typeof VRRP_AUTH_TYPE];

/** A decoded (or to-be-encoded) VRRP advertisement. */
export interface Advert {
  version: 2 | 3;
  /** Packet type; 1 = ADVERTISEMENT. Kept so validation can reject other types in keepalived's order. */
  type: number;
  vrid: number;
  priority: number;
  /**
   * Advert interval in milliseconds. v2 carries whole seconds (8 bits), v3 centiseconds (12 bits); encode rounds
   * to the wire unit and decode converts back.
   */
  advertIntMs: number;
  /** Virtual addresses in the advert, textual, all of the advert's family. */
  addresses: string[];
  /** v2 only: auth type (0 none, 1 PASS, 2 AH). */
  authType?: number;
  /** v2 only: the 8 authentication bytes as on the wire. */
  authData?: Uint8Array;
}

export interface ChecksumContext {
  family: Family;
  /** IPv4/IPv6 source address (needed for v3 pseudo-header checksums and all IPv6). */
  src?: string;
  /** IPv4/IPv6 destination address (multicast group or unicast peer). */
  dst?: string;
  /** v3 over IPv4: compute the checksum without the pseudo-header (keepalived `v3_checksum_as_v2`). */
  v3ChecksumAsV2?: boolean;
}

export type DecodeErrorReason =
  | 'too-short'
  | 'bad-version'
  | 'length-mismatch'
  | 'bad-naddr'
  | 'missing-context';

export interface DecodeError {
  ok: false;
  reason: DecodeErrorReason;
  detail: string;
}

export interface DecodeOk {
  ok: true;
  advert: Advert;
  /** Number of bytes the VRRP message occupies (header + addresses [+ auth]); anything after is padding/trailer. */
  length: number;
  /** Checksum field as received. */
  checksum: number;
  /** True when the checksum verifies in the given context (v2: message only; v3: with pseudo-header unless asV2). */
  checksumOk: boolean;
}

export type DecodeResult = DecodeOk | DecodeError;

/** Whether this version/family/options combination sums a pseudo-header. */
function usesPseudoHeader(version: 2 | 3, ctx: ChecksumContext): boolean {
  if (ctx.family === 6) return true; // IPv6 upper-layer checksums always include it (v2-over-IPv6 too, as the kernel does with IPV6_CHECKSUM)
  return version === 3 && !ctx.v3ChecksumAsV2;
}

/** Checksum of a VRRP message (checksum field must be zero or is ignored by zeroing a copy). */
export function vrrpChecksum(msg: Uint8Array, version: 2 | 3, ctx: ChecksumContext): number {
  const copy = Uint8Array.from(msg);
  copy[6] = 0; copy[7] = 0;
  if (!usesPseudoHeader(version, ctx)) return internetChecksum(copy);
  if (!ctx.src || !ctx.dst) throw new KtError('KT_VRRP_ENCODE_MISSING_CONTEXT', 'pseudo-header checksum needs src and dst addresses');
  const src = addrToBytes(ctx.src, ctx.family), dst = addrToBytes(ctx.dst, ctx.family);
  return ctx.family === 4
    ? ipv4UpperChecksum(src, dst, IPPROTO_VRRP, copy)
    : ipv6UpperChecksum(src, dst, IPPROTO_VRRP, copy); // RFC 8200 §8.1
}

/** Wire units of an interval: v2 whole seconds (1..255), v3 centiseconds (1..4095). */
export function advertIntToWire(version: 2 | 3, ms: number): number {
  return version === 2 ? Math.round(ms / 1000) : Math.round(ms / 10);
}

/** PASS auth data: the first 8 bytes of the password, zero padded (keepalived uses only 8 chars). */
export function passAuthData(password: string): Uint8Array {
  const out = new Uint8Array(VRRP_AUTH_LEN);
  out.set(new TextEncoder().encode(password).subarray(0, VRRP_AUTH_LEN));
  return out;
}

/**
 * Encode a VRRP message (no IP header). The checksum is filled in for the context's family:
 * v2 over IPv4 = message incl. auth bytes; v3 over IPv4 = with IPv4 pseudo-header unless v3ChecksumAsV2;
 * IPv6 = with IPv6 pseudo-header. Throws KT_VRRP_ENCODE_* on values that cannot be represented.
 */
export function encodeAdvert(advert: Advert, ctx: ChecksumContext): Uint8Array {
  const { version, vrid, priority } = advert;
  if (version !== 2 && version !== 3) throw new KtError('KT_VRRP_ENCODE_BAD_VERSION', `VRRP version ${version} unsupported`);
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) throw new KtError('KT_VRRP_ENCODE_BAD_VRID', `vrid ${vrid} out of 1..255`);
  if (!Number.isInteger(priority) || priority < 0 || priority > 255)
    throw new KtError('KT_VRRP_ENCODE_BAD_PRIORITY', `priority ${priority} out of 0..255`);
  if (advert.addresses.length > VRRP_MAX_ADDR) throw new KtError('KT_VRRP_ENCODE_TOO_MANY_ADDRESSES', `more than ${VRRP_MAX_ADDR} addresses`);
  const wireInt = advertIntToWire(version, advert.advertIntMs);
  const maxInt = version === 2 ? 0xff : 0xfff;
  if (wireInt < (version === 2 ? 1 : 1) || wireInt > maxInt)
    throw new KtError('KT_VRRP_ENCODE_BAD_INTERVAL', `advert interval ${advert.advertIntMs} ms not representable in VRRPv${version}`);
  const alen = addrLength(ctx.family);
  const len = VRRP_HEADER_LEN + advert.addresses.length * alen + (version === 2 ? VRRP_AUTH_LEN : 0);
  const msg = new Uint8Array(len);
  msg[0] = (version << 4) | ((advert.type ?? VRRP_TYPE_ADVERT) & 0x0f);
  msg[1] = vrid;
  msg[2] = priority;
  msg[3] = advert.addresses.length;
  if (version === 2) {
    msg[4] = advert.authType ?? 0;
    msg[5] = wireInt;
  } else {
    msg[4] = (wireInt >> 8) & 0x0f;
    msg[5] = wireInt & 0xff;
  }
  let off = VRRP_HEADER_LEN;
  for (const a of advert.addresses) {
    msg.set(addrToBytes(a, ctx.family), off);
    off += alen;
  }
  if (version === 2 && advert.authData) msg.set(advert.authData.subarray(0, VRRP_AUTH_LEN), off);
  const sum = vrrpChecksum(msg, version, ctx);
  msg[6] = sum >> 8;
  msg[7] = sum & 0xff;
  return msg;
}

/** Expected VRRP message length for a header's version/naddr in a family. */
export function expectedAdvertLength(version: number, naddr: number, family: Family): number {
  return VRRP_HEADER_LEN + naddr * addrLength(family) + (version === 2 ? VRRP_AUTH_LEN : 0);
}

/**
 * Decode a VRRP message (bytes after the IP header / AH header). Extra bytes after the message (Ethernet
 * padding, auth trailers) are tolerated here; exact-length policy is validate.ts's job. The checksum is verified
 * when the context allows (src/dst needed for pseudo-header sums; without them checksumOk is false).
 */
export function decodeAdvert(buf: Uint8Array, ctx: ChecksumContext): DecodeResult {
  if (buf.length < VRRP_HEADER_LEN) return { ok: false, reason: 'too-short', detail: `${buf.length} bytes, need ${VRRP_HEADER_LEN}` };
  const version = buf[0]! >> 4;
  if (version !== 2 && version !== 3) return { ok: false, reason: 'bad-version', detail: `version ${version}` };
  const naddr = buf[3]!;
  const len = expectedAdvertLength(version, naddr, ctx.family);
  if (buf.length < len) return { ok: false, reason: 'length-mismatch', detail: `${buf.length} bytes, naddr ${naddr} needs ${len}` };
  const alen = addrLength(ctx.family);
  const addresses: string[] = [];
  for (let i = 0; i < naddr; i++) {
    const o = VRRP_HEADER_LEN + i * alen;
    addresses.push(bytesToAddr(buf.subarray(o, o + alen), ctx.family));
  }
  const advert: Advert = {
    version,
    type: buf[0]! & 0x0f,
    vrid: buf[1]!,
    priority: buf[2]!,
    advertIntMs: version === 2 ? buf[5]! * 1000 : (((buf[4]! & 0x0f) << 8) | buf[5]!) * 10,
    addresses,
  };
  if (version === 2) {
    advert.authType = buf[4]!;
    advert.authData = Uint8Array.from(buf.subarray(len - VRRP_AUTH_LEN, len));
  }
  const msg = buf.subarray(0, len);
  const checksum = (buf[6]! << 8) | buf[7]!;
  let checksumOk = false;
  if (!usesPseudoHeader(version, ctx) || (ctx.src && ctx.dst)) {
    try {
      checksumOk = vrrpChecksum(msg, version, ctx) === checksum;
    } catch {
      checksumOk = false; // unparsable src/dst in the context
    }
  }
  return { ok: true, advert, length: len, checksum, checksumOk };
}

/** Build a complete IPv4 VRRP packet (header + message) ready for an IP_HDRINCL raw socket. */
export function encodeIpv4Advert(
  advert: Advert,
  opts: { src: string; dst: string; id?: number; ttl?: number; v3ChecksumAsV2?: boolean },
): Uint8Array {
  const msg = encodeAdvert(advert, { family: 4, src: opts.src, dst: opts.dst, v3ChecksumAsV2: opts.v3ChecksumAsV2 });
  // IPv4 header as keepalived builds it (TOS 0xc0, DF clear, protocol 112); id 0 lets the kernel pick.
  const hdr = buildIpv4Header({ src: opts.src, dst: opts.dst, payloadLength: msg.length, id: opts.id, ttl: opts.ttl });
  const out = new Uint8Array(hdr.length + msg.length);
  out.set(hdr, 0);
  out.set(msg, hdr.length);
  return out;
}

/** The advert an instance sends for a `send-advert {priority}` effect. */
export function advertFor(spec: VrrpInstanceSpec, priority: number): Advert {
  const auth = spec.version === 2 && spec.family === 4 && spec.authType === 1;
  return {
    version: spec.version, type: VRRP_TYPE_ADVERT, vrid: spec.vrid, priority, advertIntMs: spec.advertIntMs,
    addresses: spec.vips,
    ...(spec.version === 2 ? { authType: auth ? VRRP_AUTH_TYPE.PASS : VRRP_AUTH_TYPE.NONE, authData: auth ? passAuthData(spec.authPass ?? '') : new Uint8Array(8) } : {}),
  };
}
