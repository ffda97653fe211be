// ICMP / ICMPv6 echo codec for PING_CHECK, as keepalived's check_ping.c builds and reads it. Pure.
// The request goes through a ping socket (SOCK_DGRAM + IPPROTO_ICMP[V6]): the kernel writes the identifier and the
// checksum, and hands back only replies to that socket's identifier, without the IP header.

export const ICMP_ECHO_REQUEST = 8;
export const ICMP_ECHO_REPLY = 0;
export const ICMP6_ECHO_REQUEST = 128;
export const ICMP6_ECHO_REPLY = 129;
/** keepalived's ICMP_BUFSIZE: the payload after the 8-byte header. */
export const ICMP_PAYLOAD_LEN = 128;

/** keepalived's set_buf (layer4.c): "keepalived check - " repeated over `len` bytes. */
export function keepalivedFill(len: number): Buffer {
  const s = Buffer.from('keepalived check - ', 'latin1');
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = s[i % s.length]!;
  return b;
}

/** An echo request: type, code 0, checksum and identifier 0 (the kernel fills both), sequence, 128 bytes of fill. */
export function encodeEchoRequest(family: 4 | 6, seq: number): Buffer {
  const b = Buffer.alloc(8 + ICMP_PAYLOAD_LEN);
  b[0] = family === 4 ? ICMP_ECHO_REQUEST : ICMP6_ECHO_REQUEST;
  b.writeUInt16BE(seq & 0xffff, 6);
  keepalivedFill(ICMP_PAYLOAD_LEN).copy(b, 8);
  return b;
}

export type EchoReplyVerdict = { kind: 'reply'; seq: number } | { kind: 'short'; len: number } | { kind: 'other-type'; type: number };

/** What a datagram read from the ping socket is: a reply (with its sequence), too short, or another ICMP type. */
export function decodeEchoReply(family: 4 | 6, data: Buffer): EchoReplyVerdict {
  if (data.length < 8) return { kind: 'short', len: data.length };
  const want = family === 4 ? ICMP_ECHO_REPLY : ICMP6_ECHO_REPLY;
  if (data[0] !== want) return { kind: 'other-type', type: data[0]! };
  return { kind: 'reply', seq: data.readUInt16BE(6) };
}

/** /proc/sys/net/ipv4/ping_group_range: "LOW<TAB>HIGH\n"; undefined when it is not that. */
export function parsePingGroupRange(text: string): { low: number; high: number } | undefined {
  const m = /^(\d+)[\t ]+(\d+)\n/.exec(text);
  if (!m) return undefined;
  const low = Number(m[1]), high = Number(m[2]);
  return low < 2 ** 32 && high < 2 ** 32 ? { low, high } : undefined;
}

/** What keepalived writes to let group 0 open ping sockets, or undefined when it already can (low end 0). */
export function widenPingGroupRange(r: { low: number; high: number }): string | undefined {
  return r.low === 0 ? undefined : `0\t${r.high}\t\n`;
}
