// PING_CHECK: one ICMP / ICMPv6 echo request over a ping socket (socket(AF_INET[6], SOCK_DGRAM, IPPROTO_ICMP[V6]),
// opened through the in-repo addon since Node has no such socket), as keepalived's check_ping.c does: a new socket
// per check, the kernel fills the identifier and passes this socket only replies to it; a reply within
// connect_timeout is success, silence, an error on the socket (an ICMP unreachable) or another ICMP type is failure.
// Ping sockets are allowed to the groups in net.ipv4.ping_group_range (also for ICMPv6): like keepalived, the
// checker process widens it to include group 0 while PING_CHECKs run and puts it back on stop (pingGroupRange).
import { readFileSync, writeFileSync } from 'node:fs';
import { ksock, watchReadable, SOCK_DGRAM, SOL_SOCKET, SO_RCVBUF, SO_BINDTODEVICE } from '../net/ksock.js';
import { AF_INET, AF_INET6, IPPROTO_ICMPV6 } from '../net/constants.js';
import { sockaddrIn, sockaddrIn6 } from '../net/vrrp-socket.js';
import { decodeEchoReply, encodeEchoRequest, parsePingGroupRange, widenPingGroupRange } from '../net/icmp-echo.js';
import type { DroppedReplies, ProbeResult } from './checker-types.js';
import { probeDeadline } from './probe-deadline.js';

const IPPROTO_ICMP = 1;
/** keepalived's SOCK_RECV_BUFF. */
const RECV_BUF = 128 * 1024;

export interface PingProbeTarget {
  family: 4 | 6;
  host: string;
  bindTo?: string;
  bindIf?: string;
  timeoutMs: number;
  /** The echo sequence number (per checker, counting from 1 like keepalived 2.3). */
  seq: number;
}

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}

export function probePing(t: PingProbeTarget): Promise<ProbeResult> {
  const k = ksock();
  let fd: number;
  try {
    fd = k.socket(t.family === 4 ? AF_INET : AF_INET6, SOCK_DGRAM, t.family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
  } catch (e) {
    return Promise.resolve({ ok: false, reason: `ICMP${t.family === 4 ? '' : 'v6'} socket: ${(e as Error).message}` });
  }
  return new Promise((resolve) => {
    let done = false;
    let watcher: ReturnType<typeof watchReadable> | undefined;
    let dropped: DroppedReplies | undefined;
    const finish = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      deadline.clear();
      watcher?.close();
      k.close(fd);
      resolve(dropped ? { ...r, dropped } : r);
    };
    // Yields to pending I/O once before failing (probe-deadline.ts): an echo reply that came in time is read first.
    const deadline = probeDeadline(t.timeoutMs, () => finish({ ok: false, reason: `ICMP echo to ${t.host}: no reply within ${t.timeoutMs} ms` }));
    try {
      try { k.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, int32(RECV_BUF)); } catch { /* keepalived carries on too */ }
      let scope = 0;
      if (t.bindIf) {
        k.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${t.bindIf}\0`, 'latin1'));
        scope = k.ifNameToIndex(t.bindIf);
      }
      if (t.bindTo) k.bind(fd, t.family === 4 ? sockaddrIn(t.bindTo) : sockaddrIn6(t.bindTo, scope));
      watcher = watchReadable(fd, () => {
        for (;;) {
          let m;
          try {
            m = k.recvmsg(fd, 8 + 256);
          } catch (e) {
            return finish({ ok: false, reason: `ICMP echo to ${t.host}: ${(e as Error).message}` });
          }
          if (!m) return;
          const v = decodeEchoReply(t.family, m.data);
          if (v.kind === 'short') return finish({ ok: false, reason: `short ICMP packet, ${v.len} bytes` });
          if (v.kind === 'other-type') return finish({ ok: false, reason: `ICMP packet with type 0x${v.type.toString(16)}` });
          // A reply to an earlier request (a reused identifier) is not this check's answer: keep waiting.
          if (v.seq === (t.seq & 0xffff)) return finish({ ok: true, reason: `ICMP echo reply from ${t.host}` });
          dropped ??= {};
          dropped['other-sequence'] = (dropped['other-sequence'] ?? 0) + 1;
        }
      });
      watcher.start();
      const dst = t.family === 4 ? sockaddrIn(t.host) : sockaddrIn6(t.host, scope);
      if (k.sendto(fd, encodeEchoRequest(t.family, t.seq), dst) < 0) finish({ ok: false, reason: 'send ICMP packet: socket busy' });
    } catch (e) {
      finish({ ok: false, reason: `send ICMP packet to ${t.host} failed: ${(e as Error).message}` });
    }
  });
}

const PING_GROUP_RANGE = '/proc/sys/net/ipv4/ping_group_range';

/**
 * keepalived's set_ping_group_range: `widen(true)` lets group 0 open ping sockets (the range's low end becomes 0,
 * remembered); `widen(false)` puts the low end back. Returns a line for the log when the range changed, or why it
 * could not be read or written (then PING_CHECK socket creation fails and says so on every check).
 */
export class PingGroupRange {
  private saved?: number;
  constructor(private readonly path = PING_GROUP_RANGE) {}

  widen(): string | undefined {
    if (this.saved !== undefined) return undefined;
    try {
      const r = parsePingGroupRange(readFileSync(this.path, 'latin1'));
      if (!r) return `${this.path}: unreadable contents`;
      const next = widenPingGroupRange(r);
      if (!next) return undefined;
      writeFileSync(this.path, next);
      this.saved = r.low;
      return `${this.path} changed from ${r.low} ${r.high} to 0 ${r.high} for PING_CHECK`;
    } catch (e) {
      return `${this.path}: ${(e as Error).message}`;
    }
  }

  restore(): string | undefined {
    if (this.saved === undefined) return undefined;
    const low = this.saved;
    this.saved = undefined;
    try {
      const r = parsePingGroupRange(readFileSync(this.path, 'latin1'));
      if (!r || r.low === low) return undefined;
      writeFileSync(this.path, `${low}\t${r.high}\t\n`);
      return `${this.path} put back to ${low} ${r.high}`;
    } catch (e) {
      return `${this.path}: ${(e as Error).message}`;
    }
  }
}
