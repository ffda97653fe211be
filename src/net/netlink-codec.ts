// Netlink message and attribute codec (pure). Used by rtnetlink (addresses, routes, links) and generic netlink
// (the IPVS family). Layouts from <linux/netlink.h>; all fields are host (little-endian) order unless noted.
import { KtError } from '../util/errors.js';

export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_CAPPED = 0x100; // in NLMSG_ERROR: the request was not echoed in full
export const NLM_F_ACK_TLVS = 0x200; // in NLMSG_ERROR: extended-ack attributes follow

export const NLMSGERR_ATTR_MSG = 1;

export const align4 = (n: number): number => (n + 3) & ~3;

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** Everything after the 16-byte header. */
  payload: Buffer;
}

/** A message to send: the header's fields and the payload after it. */
export interface OutgoingMessage {
  type: number;
  flags: number;
  seq: number;
  pid?: number;
  payload: Buffer;
}

export const encodeMessage = (m: OutgoingMessage): Buffer => encodeMessages([m]);

/**
 * Packs several messages into one datagram, in order, each padded to 4 bytes as the kernel walks them
 * (netlink_rcv_skb handles every message of a datagram and acknowledges each by its own sequence number).
 */
export function encodeMessages(ms: readonly OutgoingMessage[]): Buffer {
  let total = 0;
  for (const m of ms) total += align4(NLMSG_HDRLEN + m.payload.length);
  const b = Buffer.alloc(total);
  let off = 0;
  for (const m of ms) {
    const len = NLMSG_HDRLEN + m.payload.length;
    b.writeUInt32LE(len, off);
    b.writeUInt16LE(m.type, off + 4);
    b.writeUInt16LE(m.flags, off + 6);
    b.writeUInt32LE(m.seq >>> 0, off + 8);
    b.writeUInt32LE(m.pid ?? 0, off + 12);
    m.payload.copy(b, off + NLMSG_HDRLEN);
    off += align4(len);
  }
  return b;
}

/** Splits one datagram into messages. Throws KT_NETLINK_MALFORMED on a truncated or inconsistent buffer. */
export function decodeMessages(buf: Buffer): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) throw new KtError('KT_NETLINK_MALFORMED', `bad nlmsg_len ${len} at ${off}`);
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

export interface Attr {
  type: number;
  nested: boolean;
  netByteOrder: boolean;
  value: Buffer;
}

/** Encodes one attribute; `nested` sets NLA_F_NESTED (the kernel's strict validation wants it on nests). */
export function attr(type: number, value: Buffer, opts: { nested?: boolean; netByteOrder?: boolean } = {}): Buffer {
  const len = NLA_HDRLEN + value.length;
  const b = Buffer.alloc(align4(len));
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type | (opts.nested ? NLA_F_NESTED : 0) | (opts.netByteOrder ? NLA_F_NET_BYTEORDER : 0), 2);
  value.copy(b, NLA_HDRLEN);
  return b;
}

export const nest = (type: number, children: Buffer[]): Buffer => attr(type, Buffer.concat(children), { nested: true });
export const attrU8 = (type: number, v: number): Buffer => attr(type, Buffer.from([v & 0xff]));
export const attrU16 = (type: number, v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return attr(type, b);
};
/** A u16 in network byte order (e.g. IPVS ports). */
export const attrBe16 = (type: number, v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return attr(type, b);
};
export const attrU32 = (type: number, v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return attr(type, b);
};
export const attrS32 = (type: number, v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return attr(type, b);
};
/** NUL-terminated string attribute. */
export const attrStr = (type: number, s: string): Buffer => attr(type, Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]));

/** Decodes a run of attributes. Throws KT_NETLINK_MALFORMED if a length runs past the buffer. */
export function decodeAttrs(buf: Buffer): Attr[] {
  const out: Attr[] = [];
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = buf.readUInt16LE(off);
    const rawType = buf.readUInt16LE(off + 2);
    if (len < NLA_HDRLEN || off + len > buf.length) throw new KtError('KT_NETLINK_MALFORMED', `bad nla_len ${len} at ${off}`);
    out.push({
      type: rawType & NLA_TYPE_MASK,
      nested: (rawType & NLA_F_NESTED) !== 0,
      netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0,
      value: buf.subarray(off + NLA_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** Attributes by type (last one wins, as the kernel's nla_parse does). */
export function attrMap(buf: Buffer): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  for (const a of decodeAttrs(buf)) m.set(a.type, a.value);
  return m;
}

export const readStr = (b: Buffer | undefined): string | undefined => {
  if (!b) return undefined;
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString('utf8');
};

/** The payload of an NLMSG_ERROR message: errno (0 = ACK) and the kernel's extended-ack text if any. */
export interface NetlinkAck {
  errno: number;
  message?: string;
}

export function decodeError(msg: NetlinkMessage): NetlinkAck {
  const p = msg.payload;
  if (p.length < 4) throw new KtError('KT_NETLINK_MALFORMED', 'short NLMSG_ERROR');
  const errno = -p.readInt32LE(0);
  let message: string | undefined;
  if (msg.flags & NLM_F_ACK_TLVS && p.length >= 4 + NLMSG_HDRLEN) {
    // The echoed request: only its header when capped, else the whole request.
    const echoedLen = msg.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : p.readUInt32LE(4);
    const tlvOff = 4 + align4(echoedLen);
    if (tlvOff <= p.length) message = readStr(attrMap(p.subarray(tlvOff)).get(NLMSGERR_ATTR_MSG));
  }
  return { errno, message };
}
