// vrrp_track_process, the shell: subscribes to the kernel's process connector (one socket for every tracker, as
// keepalived's VRRP process has), scans /proc once at start, reads /proc/PID/{comm,cmdline} when a process execs,
// runs the delay timers, and after the kernel dropped events (ENOBUFS) doubles the receive buffer and rescans 1 s
// later, as keepalived does. The counting rules are the pure ProcessTracking (src/vrrp/track-process.ts).
// The connector exists only in the initial network namespace: opened anywhere else, subscribing fails, every
// tracker stays without quorum and the error says why (keepalived behaves the same under `ip netns exec`).
import { EventEmitter } from 'node:events';
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import type { Logger } from 'pino';
import { ksock, watchReadable, AF_NETLINK, SOCK_DGRAM, SOL_SOCKET, SO_RCVBUF, SO_RCVBUFFORCE, type NativeWatcher } from '../net/ksock.js';
import { CN_IDX_PROC, NETLINK_CONNECTOR, PROC_CN_MCAST_IGNORE, PROC_CN_MCAST_LISTEN, decodeProcEvent, encodeProcListen } from '../net/proc-connector-codec.js';
import { ProcessTracking, factsNeeded, type ProcessFacts, type ProcessTrackerSpec, type QuorumChange } from '../vrrp/track-process.js';

/** keepalived waits this long after lost events before it re-reads /proc (process_lost_messages_timer_thread). */
const RESCAN_AFTER_MS = 1000;

/** One buffer for every /proc read: a read per exec event on the machine, so no allocation and no fstat. */
const procBuf = Buffer.alloc(8192);

/** The first bytes of a /proc file (a longer command line is cut: it cannot equal a configured one anyway). */
function readProc(path: string): string {
  const fd = openSync(path, 'r');
  try {
    let n = 0;
    for (let r; n < procBuf.length && (r = readSync(fd, procBuf, n, procBuf.length - n, null)) > 0;) n += r;
    return procBuf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}

/** Reads what the trackers compare for one process; undefined when it is gone (or a zombie, for comm trackers). */
function readFacts(pid: number, need: { comm: boolean; cmdline: boolean }, commText?: string): ProcessFacts | undefined {
  const f: ProcessFacts = { pid };
  try {
    if (need.cmdline) {
      const parts = readProc(`/proc/${pid}/cmdline`).split('\0');
      if (parts.at(-1) === '') parts.pop();
      f.argv = parts;
    }
    if (need.comm) {
      if (commText !== undefined) f.comm = commText;
      else {
        // stat gives the name and the state together: a zombie no longer counts (keepalived read_procs).
        const stat = readProc(`/proc/${pid}/stat`);
        const open = stat.indexOf('(');
        const close = stat.lastIndexOf(')');
        if (open < 0 || close < open) return undefined;
        if (stat[close + 2] === 'Z') return undefined;
        f.comm = stat.slice(open + 1, close);
      }
    }
  } catch {
    return undefined;
  }
  return f;
}

/** Every process in /proc with the facts the trackers need. */
export function scanProcesses(need: { comm: boolean; cmdline: boolean }): ProcessFacts[] {
  const out: ProcessFacts[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[1-9]\d*$/.test(name)) continue;
    const f = readFacts(Number(name), need);
    if (f) out.push(f);
  }
  return out;
}

export interface ProcessMonitorOptions {
  log: Logger;
  now?: () => number;
  /** process_monitor_rcv_bufs(_force): the socket's receive buffer, set before subscribing. */
  rcvBufs?: { bytes: number; force: boolean };
}

/**
 * Emits 'change' ({ name, up }) for each tracker: once per tracker from the start-up scan (synchronously inside
 * start()), then whenever a tracker's quorum changes.
 */
export class ProcessMonitor extends EventEmitter {
  private readonly tracking: ProcessTracking;
  private readonly need: { comm: boolean; cmdline: boolean };
  private readonly now: () => number;
  private fd = -1;
  private watcher?: NativeWatcher;
  private timer?: NodeJS.Timeout;
  private rescanTimer?: NodeJS.Timeout;
  private stopped = false;
  /** Events decoded (for tests and logs). */
  events = 0;
  /** Times the kernel dropped events and /proc was read again. */
  rescans = 0;

  constructor(specs: readonly ProcessTrackerSpec[], private readonly opts: ProcessMonitorOptions) {
    super();
    this.tracking = new ProcessTracking(specs);
    this.need = factsNeeded(specs);
    this.now = opts.now ?? (() => performance.now());
  }

  get log(): Logger {
    return this.opts.log;
  }

  status(): Array<{ name: string; count: number; up: boolean }> {
    return this.tracking.status();
  }

  /** Subscribes and scans; when the connector cannot be used, every tracker reports without quorum. */
  start(): void {
    try {
      this.open();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ECONNREFUSED' || err.code === 'EPROTONOSUPPORT'
        ? 'the process connector exists only in the initial network namespace (and needs CONFIG_PROC_EVENTS)'
        : err.message;
      this.log.error({ errno: err.code }, `track_process: cannot follow process events (${err.code ?? err.message}): ${why}; tracked processes count as not running`);
      this.close();
      this.emitChanges(this.tracking.scan([]), false);
      return;
    }
    const procs = scanProcesses(this.need);
    const changes = this.tracking.scan(procs);
    for (const s of this.tracking.status()) this.log.info({ trackProcess: s.name, count: s.count }, `track_process ${s.name}: ${s.count} process(es) running, quorum ${s.up ? 'achieved' : 'not achieved'}`);
    this.emitChanges(changes, false);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.rescanTimer) clearTimeout(this.rescanTimer);
    if (this.fd >= 0) {
      try { ksock().sendto(this.fd, encodeProcListen(0, PROC_CN_MCAST_IGNORE)); } catch { /* closing anyway */ }
    }
    this.close();
  }

  private open(): void {
    const k = ksock();
    this.fd = k.socket(AF_NETLINK, SOCK_DGRAM, NETLINK_CONNECTOR);
    const sa = Buffer.alloc(12);
    sa.writeUInt16LE(AF_NETLINK, 0);
    sa.writeUInt32LE(CN_IDX_PROC, 8); // nl_groups: the process events' multicast group
    k.bind(this.fd, sa);
    if (this.opts.rcvBufs) this.setRcvBuf(this.opts.rcvBufs.bytes, this.opts.rcvBufs.force);
    const portId = k.getsockname(this.fd).readUInt32LE(4);
    // Watch before subscribing, so no event is left unread between the subscribe and the scan.
    this.watcher = watchReadable(this.fd, () => this.drain());
    this.watcher.start();
    k.sendto(this.fd, encodeProcListen(portId, PROC_CN_MCAST_LISTEN));
  }

  private close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.fd >= 0) {
      try { ksock().close(this.fd); } catch { /* already closed */ }
      this.fd = -1;
    }
  }

  private drain(): void {
    const k = ksock();
    for (;;) {
      if (this.fd < 0) return;
      let r;
      try {
        r = k.recvmsg(this.fd, 256);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOBUFS') { this.overrun(); continue; }
        this.log.warn({ errno: (e as NodeJS.ErrnoException).code }, `track_process: receive error: ${(e as Error).message}`);
        return;
      }
      if (!r) return;
      // Only the kernel (port 0) sends process events.
      if (r.addr.length >= 8 && r.addr.readUInt32LE(4) !== 0) continue;
      const ev = decodeProcEvent(r.data);
      if (!ev) continue;
      this.events++;
      const now = this.now();
      switch (ev.what) {
        case 'fork': if (ev.childPid === ev.childTgid) this.apply(this.tracking.fork(ev.parentTgid, ev.childTgid, now)); break;
        case 'exec': if (ev.pid === ev.tgid) this.apply(this.tracking.exec(readFacts(ev.tgid, this.need), now)); break;
        case 'comm': if (ev.pid === ev.tgid && this.need.comm) this.apply(this.tracking.comm(ev.tgid, ev.comm, now)); break;
        case 'exit': if (ev.pid === ev.tgid) this.apply(this.tracking.exit(ev.tgid, now)); break;
        default: break;
      }
    }
  }

  /** SO_RCVBUF, or SO_RCVBUFFORCE past net.core.rmem_max; a refusal is logged, as keepalived's set_rcv_buf does. */
  private setRcvBuf(bytes: number, force: boolean): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(Math.min(bytes, 0x7fffffff));
    try {
      ksock().setsockopt(this.fd, SOL_SOCKET, force ? SO_RCVBUFFORCE : SO_RCVBUF, b);
    } catch (e) {
      this.log.warn({ errno: (e as NodeJS.ErrnoException).code }, `track_process: cannot set SO_RCVBUF${force ? 'FORCE' : ''} to ${bytes}: ${(e as Error).message}`);
    }
  }

  /** The kernel dropped events: a bigger buffer, and a fresh count from /proc once things settle (keepalived
   * doubles the buffer and recommends process_monitor_rcv_bufs). Forced past net.core.rmem_max, which would
   * otherwise cap the doubling at the system default. */
  private overrun(): void {
    try {
      const size = ksock().getsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, 4).readInt32LE(0) * 2;
      this.setRcvBuf(size, true);
      this.log.warn({ rcvbuf: size }, `track_process: the kernel dropped process events; receive buffer set to ${size} bytes (consider process_monitor_rcv_bufs), rereading /proc in 1 s`);
    } catch (e) {
      this.log.warn(`track_process: the kernel dropped process events (${(e as Error).message}); rereading /proc in 1 s`);
    }
    if (this.rescanTimer) clearTimeout(this.rescanTimer);
    this.rescanTimer = setTimeout(() => {
      this.rescanTimer = undefined;
      if (this.stopped) return;
      this.rescans++;
      this.apply(this.tracking.rescan(scanProcesses(this.need), this.now()));
    }, RESCAN_AFTER_MS);
  }

  private apply(changes: QuorumChange[]): void {
    this.emitChanges(changes);
    this.arm();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const due = this.tracking.nextDeadline();
    if (due === undefined || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.apply(this.tracking.tick(this.now()));
    }, Math.max(0, due - this.now()));
  }

  private emitChanges(changes: QuorumChange[], log = true): void {
    for (const c of changes) {
      if (log) {
        const s = this.tracking.status().find((x) => x.name === c.name);
        this.log.info({ trackProcess: c.name, count: s?.count }, `Quorum ${c.up ? 'gained' : 'lost'} for tracked process ${c.name}`);
      }
      this.emit('change', c);
    }
  }
}
