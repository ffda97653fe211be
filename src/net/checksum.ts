// The Internet checksum (RFC 1071) and the IPv6 pseudo-header sum (RFC 8200 §8.1). Pure.

/** One's-complement sum of 16-bit big-endian words, not yet folded or inverted. */
export function onesSum(buf: Buffer, start = 0): number {
  let sum = start;
  const n = buf.length & ~1;
  for (let i = 0; i < n; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length & 1) sum += buf[buf.length - 1] << 8;
  return sum;
}

export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export const internetChecksum = (buf: Buffer): number => foldChecksum(onesSum(buf));

/** Checksum of an upper-layer message over the IPv6 pseudo-header (src, dst, length, next header). */
export function ipv6UpperChecksum(src: Buffer, dst: Buffer, nextHeader: number, message: Buffer): number {
  const ph = Buffer.alloc(40);
  src.copy(ph, 0);
  dst.copy(ph, 16);
  ph.writeUInt32BE(message.length, 32);
  ph[39] = nextHeader;
  return foldChecksum(onesSum(message, onesSum(ph)));
}
