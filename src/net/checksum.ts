// The Internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-header sums (RFC 768, RFC 8200 §8.1). Pure; works on
// any Uint8Array (Buffer included) so the pure VRRP core and the socket layer share it.

/** One's-complement sum of 16-bit big-endian words, not yet folded or inverted. */
export function onesSum(buf: Uint8Array, start = 0): number {
  let sum = start;
  const n = buf.length & ~1;
  for (let i = 0; i < n; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (buf.length & 1) sum += buf[buf.length - 1]! << 8;
  return sum;
}

export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Checksum of `buf`, continuing an unfolded partial sum (e.g. of a pseudo-header) when given. */
export const internetChecksum = (buf: Uint8Array, partial = 0): number => foldChecksum(onesSum(buf, partial));

/** Checksum of an upper-layer message over the IPv4 pseudo-header (src, dst, zero, protocol, length). */
export function ipv4UpperChecksum(src: Uint8Array, dst: Uint8Array, protocol: number, message: Uint8Array): number {
  const ph = new Uint8Array(12);
  ph.set(src, 0);
  ph.set(dst, 4);
  ph[9] = protocol;
  ph[10] = message.length >> 8;
  ph[11] = message.length & 0xff;
  return internetChecksum(message, onesSum(ph));
}

/** Checksum of an upper-layer message over the IPv6 pseudo-header (src, dst, length, next header). */
export function ipv6UpperChecksum(src: Uint8Array, dst: Uint8Array, nextHeader: number, message: Uint8Array): number {
  const ph = new Uint8Array(40);
  ph.set(src, 0);
  ph.set(dst, 16);
  new DataView(ph.buffer).setUint32(32, message.length);
  ph[39] = nextHeader;
  return internetChecksum(message, onesSum(ph));
}
