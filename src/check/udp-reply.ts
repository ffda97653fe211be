// UDP_CHECK's bytes: the hex strings of `payload` / `require_reply` (keepalived's read_hex_str) and the reply test
// (check_udp_reply). Pure.

export interface HexBytes {
  data: number[];
  /** Wildcard nibbles (x or X) as set bits; absent when there are none. */
  mask?: number[];
}

function hexVal(c: string | undefined, wildcard: boolean): number {
  if (c === undefined) return 0xff;
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  const up = code >= 97 ? code - 32 : code;
  if (up >= 65 && up <= 70) return up - 55;
  if (wildcard && up === 88) return 0xfe;
  return 0xff;
}

/**
 * keepalived's read_hex_str: blanks separate bytes, two hex digits make a byte and a lone digit before a blank is
 * its own byte; with `wildcard`, x/X is a nibble matching anything. Undefined when keepalived says "Invalid hex
 * string": a bad character, nothing at all — or a string whose last byte is 0xff, which keepalived's end test
 * mistakes for a bad character (kept, so that `-t` agrees).
 */
export function readHexString(text: string, wildcard: boolean): HexBytes | undefined {
  const data: number[] = [];
  const mask: number[] = [];
  let usingMask = false;
  let val = 0;
  let p = 0;
  for (;;) {
    while (text[p] === ' ' || text[p] === '\t') p++;
    if (p >= text.length) break;
    val = hexVal(text[p++], wildcard);
    if (val === 0xff) break;
    let m = 0;
    if (val === 0xfe) { m = 0x0f; val = 0; usingMask = true; }
    if (p < text.length && text[p] !== ' ') {
      const hi = val << 4;
      m <<= 4;
      val = hexVal(text[p++], wildcard);
      if (val === 0xff) break;
      if (val === 0xfe) { m |= 0x0f; val = 0; usingMask = true; }
      val |= hi;
    }
    data.push(val);
    mask.push(m);
  }
  if (val === 0xff || !data.length) return undefined;
  return usingMask ? { data, mask } : { data };
}

/** check_udp_reply: the length within [min, max], then the first min(len, pattern) bytes equal outside the mask. */
export function udpReplyMatches(reply: Uint8Array, pattern: HexBytes, minLen: number, maxLen: number): boolean {
  if (reply.length < minLen || reply.length > maxLen) return false;
  const n = Math.min(reply.length, pattern.data.length);
  for (let i = 0; i < n; i++) {
    const care = pattern.mask ? ~pattern.mask[i]! & 0xff : 0xff;
    if ((reply[i]! ^ pattern.data[i]!) & care) return false;
  }
  return true;
}
