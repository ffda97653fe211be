// UDP_CHECK and DNS_CHECK transport: one connected UDP socket per check (keepalived's udp_bind_connect /
// socket_bind_connect), a datagram sent, and the first answer, an error or the timeout.
// UDP_CHECK (check_udp.c): an ICMP unreachable (the connected socket's ECONNREFUSED / EHOSTUNREACH…) is failure,
// silence is success unless require_reply; a reply is checked against the reply pattern when one is set.
// DNS_CHECK (check_dns.c): datagrams that are not our answer are skipped; the answer's RCODE decides.
import type dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { decodeDnsReply, encodeDnsQuery } from '../net/dns-message.js';
import { udpReplyMatches, type HexBytes } from './udp-reply.js';
import type { DroppedReplies, ProbeResult } from './checker-types.js';
import { openUdp, type ConnOptions } from './probe-socket.js';
import { probeDeadline } from './probe-deadline.js';

export interface UdpEndpoint extends ConnOptions {
  family: 4 | 6;
  host: string;
  port: number;
  timeoutMs: number;
}

/**
 * Opens, binds (when asked), connects and sends; `onMessage` sees every datagram and returns a result to finish.
 * `onTimeout` is the result when nothing decided within the timeout.
 */
function exchange(t: UdpEndpoint, payload: Buffer, onMessage: (m: Buffer) => ProbeResult | undefined, onTimeout: () => ProbeResult): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let sock: dgram.Socket | undefined;
    let done = false;
    const finish = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      deadline.clear();
      try { sock?.close(); } catch { /* already closed */ }
      resolve(r);
    };
    const go = (s: dgram.Socket): void => s.connect(t.port, t.host, (err?: Error) => {
      if (err) return finish({ ok: false, reason: `UDP connect to [${t.host}]:${t.port}: ${(err as NodeJS.ErrnoException).code ?? err.message}` });
      s.send(payload, (e) => { if (e) finish({ ok: false, reason: `UDP send to [${t.host}]:${t.port}: ${(e as NodeJS.ErrnoException).code ?? e.message}` }); });
    });
    try {
      sock = openUdp(t.family, t.host, t, go);
    } catch (e) {
      return resolve({ ok: false, reason: (e as Error).message });
    }
    // Yields to pending I/O once before deciding (probe-deadline.ts): a reply or ICMP error that came in time counts.
    const deadline = probeDeadline(t.timeoutMs, () => finish(onTimeout()));
    sock.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, reason: `UDP to [${t.host}]:${t.port}: ${e.code ?? e.message}` }));
    sock.on('message', (m) => {
      const r = onMessage(m);
      if (r) finish(r);
    });
  });
}

export interface UdpProbeTarget extends UdpEndpoint {
  payload: Buffer;
  requireReply: boolean;
  reply?: HexBytes;
  minReplyLength: number;
  maxReplyLength: number;
}

export function probeUdp(t: UdpProbeTarget): Promise<ProbeResult> {
  return exchange(
    t,
    t.payload,
    (m) => {
      // keepalived reads into max_reply_length + 1 bytes, so a longer reply reads as too long.
      if (t.reply && !udpReplyMatches(m.subarray(0, t.maxReplyLength + 1), t.reply, t.minReplyLength, t.maxReplyLength))
        return { ok: false, reason: `UDP reply from [${t.host}]:${t.port} does not match (${m.length} bytes)` };
      return { ok: true, reason: `UDP reply from [${t.host}]:${t.port}` };
    },
    () => (t.requireReply ? { ok: false, reason: `no UDP reply from [${t.host}]:${t.port} within ${t.timeoutMs} ms` } : { ok: true, reason: `no ICMP error from [${t.host}]:${t.port} within ${t.timeoutMs} ms` }),
  );
}

export interface DnsProbeTarget extends UdpEndpoint {
  name: string;
  qtype: number;
}

export async function probeDns(t: DnsProbeTarget): Promise<ProbeResult> {
  const id = randomInt(0x10000);
  // What keepalived skips silently (dns_recv_thread) is counted, so that a server answering garbage shows.
  let dropped: DroppedReplies | undefined;
  const r = await exchange(
    t,
    encodeDnsQuery(id, t.name, t.qtype),
    (m) => {
      const v = decodeDnsReply(id, m);
      if (v.kind === 'ignore') {
        dropped ??= {};
        dropped[v.why] = (dropped[v.why] ?? 0) + 1;
        return undefined;
      }
      return v.rcode === 0 ? { ok: true, reason: 'DNS answer with rcode 0' } : { ok: false, reason: `read error occurred. (rcode = ${v.rcode})` };
    },
    () => ({ ok: false, reason: `read timeout from socket (${t.timeoutMs} ms)` }),
  );
  return dropped ? { ...r, dropped } : r;
}
