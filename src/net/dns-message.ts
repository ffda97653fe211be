// DNS_CHECK's message codec (check_dns.c): the one query keepalived sends and the reading of a reply. Pure.

/** check_dns.c's DNS_TYPE table (case-insensitive names). */
export const DNS_TYPES: ReadonlyMap<string, number> = new Map([
  ['A', 1], ['NS', 2], ['CNAME', 5], ['SOA', 6], ['MX', 15], ['TXT', 16], ['AAAA', 28], ['RRSIG', 46], ['DNSKEY', 48],
]);

export function dnsTypeNumber(name: string): number | undefined {
  return DNS_TYPES.get(name.toUpperCase());
}

export function dnsTypeName(n: number): string {
  for (const [k, v] of DNS_TYPES) if (v === n) return k;
  return '(unknown)';
}

/**
 * keepalived's name check (dns_name_handler), bug for bug so that `-t` agrees: a name is refused when it starts
 * with '.' (other than "." itself), when its second character is '.', or when two dots follow each other.
 */
export function dnsNameRejected(name: string): boolean {
  if (name[0] === '.' && name.length > 1) return true;
  for (let p = 0; p >= 0 && p < name.length; p = name.indexOf('.', p + 1)) if (name[p + 1] === '.') return true;
  return false;
}

/**
 * The query (dns_make_query): id, flags with only RD set, one question, QNAME as labels of the name split at dots
 * and a zero label unless the name is ".", then QTYPE and class IN. A label is at most 63 bytes on the wire; keepalived
 * writes the length byte as is (a longer label wraps), and so does this.
 */
export function encodeDnsQuery(id: number, name: string, qtype: number): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id & 0xffff, 0);
  h.writeUInt16BE(0x0100, 2);
  h.writeUInt16BE(1, 4);
  parts.push(h);
  let s = 0;
  while (s < name.length) {
    let e = name.indexOf('.', s);
    if (e < 0) e = name.length;
    const label = Buffer.from(name.slice(s, e), 'latin1');
    parts.push(Buffer.from([label.length & 0xff]), label);
    s = e < name.length ? e + 1 : e;
  }
  if (name !== '.') parts.push(Buffer.from([0]));
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(qtype & 0xffff, 0);
  tail.writeUInt16BE(1, 2);
  parts.push(tail);
  return Buffer.concat(parts);
}

export type DnsReplyVerdict =
  | { kind: 'ignore'; why: 'short' | 'id' | 'not-a-response' }
  | { kind: 'answer'; rcode: number };

/**
 * A datagram read while waiting for the answer (dns_recv_thread): fewer than 8 bytes (keepalived compares with the
 * size of a pointer), another id or a query are ignored and the wait goes on; otherwise the RCODE decides (0 =
 * success). The answer count is not looked at: "no such record" with RCODE 0 is a success, as in keepalived.
 */
export function decodeDnsReply(queryId: number, data: Buffer): DnsReplyVerdict {
  if (data.length < 8) return { kind: 'ignore', why: 'short' };
  if (data.readUInt16BE(0) !== (queryId & 0xffff)) return { kind: 'ignore', why: 'id' };
  const flags = data.readUInt16BE(2);
  if (!(flags & 0x8000)) return { kind: 'ignore', why: 'not-a-response' };
  return { kind: 'answer', rcode: flags & 0xf };
}
