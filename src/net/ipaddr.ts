// IP address text <-> bytes (pure). Output follows RFC 5952 (lower case, longest zero run compressed), which is
// what `ip` prints, so tests can compare our decodes with `ip -j` output directly.
import { isIPv4, isIPv6 } from 'node:net';

export class IpAddressError extends Error {
  readonly code = 'IP_ADDRESS_INVALID';
}

export type IpFamily = 4 | 6;

export function ipFamily(text: string): IpFamily {
  if (isIPv4(text)) return 4;
  if (isIPv6(text)) return 6;
  throw new IpAddressError(`not an IP address: '${text}'`);
}

/** 4 or 16 bytes in network order. Throws IpAddressError on bad text; a zone id ("%eth0") is dropped. */
export function ipToBytes(text: string): Buffer {
  if (isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  if (!isIPv6(text)) throw new IpAddressError(`not an IP address: '${text}'`);
  const zone = text.indexOf('%');
  let s = (zone >= 0 ? text.slice(0, zone) : text).toLowerCase();
  const out = Buffer.alloc(16);
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two groups.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipToBytes(tail);
    s = `${s.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const [head, rest] = s.split('::');
  const hs = head ? head.split(':') : [];
  const rs = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? hs : [...hs, ...Array(8 - hs.length - rs.length).fill('0'), ...rs];
  if (groups.length !== 8) throw new IpAddressError(`not an IP address: '${text}'`);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) throw new IpAddressError(`address of ${b.length} bytes`);
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  // IPv4-mapped addresses print with a dotted tail, as ip/inet_ntop do.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  let bestStart = -1;
  let bestLen = 1; // a single zero group is not compressed (RFC 5952 4.2.2)
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** "10.0.0.0/24" → { address, prefixlen }; a bare address gets the full length. */
export function parsePrefix(text: string): { address: string; prefixlen: number; family: IpFamily } {
  const [address, len] = text.split('/');
  const family = ipFamily(address);
  const max = family === 4 ? 32 : 128;
  const prefixlen = len === undefined ? max : Number(len);
  if (!Number.isInteger(prefixlen) || prefixlen < 0 || prefixlen > max || (len !== undefined && !/^\d+$/.test(len)))
    throw new IpAddressError(`bad prefix length in '${text}'`);
  return { address, prefixlen, family };
}
