// Typed access to the in-repo socket addon (native/ksock.cc). It only moves bytes; every codec is TypeScript.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { KtError } from '../util/errors.js';

export interface RecvResult {
  data: Buffer;
  addr: Buffer;
  control: Buffer;
  flags: number;
}

/** A libuv timer (ksock.cc Timer): start(ms) arms or re-arms it, stop() disarms it, close() frees it. */
export interface NativeTimer {
  start(ms: number): void;
  stop(): void;
  close(): void;
}

/**
 * The VRRP engine's advert sender (ksock.cc AdvertSender): a thread that sends the armed datagrams at `atMs`
 * (CLOCK_MONOTONIC, ms), once. take(waitMs) takes them back: null if nothing was armed, false if they had not gone
 * out (withdrawn), else each one's send errno (0: on the wire); it first waits up to waitMs for the send.
 */
export interface NativeAdvertSender {
  arm(atMs: number, frames: Array<{ fd: number; bytes: Buffer; sockaddr: Buffer; flags: number }>): void;
  take(waitMs: number): number[] | false | null;
  /** The thread's Linux thread id. */
  tid(): number;
  close(): void;
}

export interface NativeWatcher {
  start(): void;
  stop(): void;
  close(): void;
}

export interface Ksock {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, sockaddr: Buffer): void;
  setsockopt(fd: number, level: number, name: number, value: Buffer): void;
  getsockopt(fd: number, level: number, name: number, maxLen: number): Buffer;
  getsockname(fd: number): Buffer;
  /** Returns bytes sent, or -1 if the socket would block. */
  sendto(fd: number, data: Buffer, sockaddr?: Buffer | null, flags?: number): number;
  /** Returns null when nothing is waiting (EAGAIN). */
  recvmsg(fd: number, maxData: number, maxControl?: number): RecvResult | null;
  /** recvmsg into the caller's buffers, re-used for every packet: bytes received, or -1 when nothing is waiting;
   *  `out` gets [address length, control length, msg_flags]. Absent from an addon built before it. */
  recvInto?(fd: number, data: Buffer, addr: Buffer, control: Buffer | null, out: Int32Array): number;
  close(fd: number): void;
  /** 0 when the interface does not exist. */
  ifNameToIndex(name: string): number;
  /** One ioctl on an ifreq naming `ifname`: `payload` is copied into the ifreq's union (or, `byPointer`, ifr_data
   * points at it) and holds what the kernel wrote back; returns 0 or the errno. Undefined in an addon built before it. */
  ifreqIoctl(fd: number, request: number, ifname: string, payload: Buffer, byPointer: boolean): number;
  Watcher: new (fd: number, onReadable: (status: number) => void) => NativeWatcher;
  /** Calls onTimeout on the event loop when armed and due. Absent from an addon built before it. */
  Timer?: new (onTimeout: () => void) => NativeTimer;
  /** Absent from an addon built before it. */
  AdvertSender?: new () => NativeAdvertSender;
  /** Installs a handler for these signals that writes each delivered signal number (one byte) to a pipe; returns
   * the pipe's non-blocking read end. For real-time signals, which Node cannot trap. */
  signalPipe(signals: number[]): number;
  /** SIGRTMIN / SIGRTMAX as this libc numbers them. */
  rtSignals(): { min: number; max: number };
  /** The calling thread's id. */
  gettid(): number;
  /** sched_setscheduler on one thread (0 = the calling thread); `policy` may include SCHED_RESET_ON_FORK. */
  schedSetScheduler(tid: number, policy: number, priority: number): void;
  schedGetScheduler(tid: number): { policy: number; priority: number };
  /** mlock2(2) of [address, address + length); flags MLOCK_ONFAULT or 0. */
  mlock2(address: number, length: number, flags: number): void;
  /** madvise(2) of [address, address + length). Absent from an addon built before it was added. */
  madvise?(address: number, length: number, advice: number): void;
  /** RLIM_INFINITY is -1 both ways. */
  setrlimit(resource: number, soft: number, hard: number): void;
  getrlimit(resource: number): { soft: number; hard: number };
  /** At SIGXCPU (RLIMIT_RTTIME's soft limit) a native handler turns these threads to SCHED_OTHER at nice `demotedNice` (0 if omitted) and `onDemoted`
   *  runs on the event loop. The four rt* / schedSetRealtime / clockTickUs are absent from an addon built before them. */
  rtGuard?(tids: number[], onDemoted: () => void, demotedNice?: number): void;
  /** Demotions the SIGXCPU handler made since the process started. */
  rtDemotions?(): number;
  /** The calling thread to `policy` / `priority` with RLIMIT_RTTIME `softUs` / `hardUs`, its kernel tick count reset
   *  (it switches with no limit and sleeps until it has really blocked as a real-time thread before the limits apply). */
  schedSetRealtime?(policy: number, priority: number, softUs: number, hardUs: number): void;
  /** The scheduler tick (1/HZ) in µs: RLIMIT_RTTIME is counted in ticks. */
  clockTickUs?(): number;
  /** prctl(PR_SET_THP_DISABLE, 1): no transparent huge pages for this process (inherited by what it forks). Absent
   *  from an addon built before it. */
  thpDisable?(): void;
}

/** The addon is built by `npm ci` (package.json "install": node-gyp rebuild) into build/Release. */
function findAddon(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'build', 'Release', 'ksock.node');
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new Error('ksock.node not found: run `npm ci` (it builds the socket addon with node-gyp)');
}

let cached: Ksock | undefined;
export function ksock(): Ksock {
  if (!cached) cached = createRequire(import.meta.url)(findAddon()) as Ksock;
  return cached;
}

/**
 * Watches `fd` for reads and keeps watching after a socket error. libuv stops a poll handle when the socket reports
 * POLLERR (a netlink socket does when the kernel drops notifications: ENOBUFS) and hands the callback a negative
 * status; without a restart the socket is never read again (the interface monitor went deaf after its first
 * overrun). `onReadable` drains the socket, which reads the pending error and clears it, then watching resumes.
 */
export function watchReadable(fd: number, onReadable: () => void): NativeWatcher {
  let closed = false;
  const w = new (ksock().Watcher)(fd, (status) => {
    onReadable();
    if (status < 0 && !closed) {
      w.stop();
      w.start();
    }
  });
  return {
    start: () => w.start(),
    stop: () => w.stop(),
    close: () => { closed = true; w.close(); },
  };
}

/** SO_PEERCRED of a connected unix socket: the peer's pid, uid and gid at connect time (struct ucred). */
export function peerCredentials(fd: number): { pid: number; uid: number; gid: number } {
  const b = ksock().getsockopt(fd, SOL_SOCKET, SO_PEERCRED, 12);
  if (b.length < 12) throw new KtError('KT_NET_PEERCRED', `SO_PEERCRED: ${b.length} bytes, expected 12`);
  return { pid: b.readInt32LE(0), uid: b.readUInt32LE(4), gid: b.readUInt32LE(8) };
}

// Linux socket constants used with the addon (address families and IP protocols are in constants.ts).
export const AF_NETLINK = 16;
export const AF_PACKET = 17;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_SNDBUF = 7;
export const SO_PEERCRED = 17;
export const SO_BINDTODEVICE = 25;
export const SO_MARK = 36;
export const SO_RCVBUFFORCE = 33;
export const SOL_NETLINK = 270;
export const NETLINK_ADD_MEMBERSHIP = 1;
export const NETLINK_EXT_ACK = 11;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_ROUTE = 0;
export const NETLINK_GENERIC = 16;
export const MSG_DONTROUTE = 4;
export const MSG_TRUNC = 0x20;

// Linux scheduling and resource-limit constants used with the addon.
export const SCHED_OTHER = 0;
export const SCHED_RR = 2;
export const SCHED_RESET_ON_FORK = 0x40000000;
export const RLIMIT_RTTIME = 15;
export const MLOCK_ONFAULT = 1;
export const MADV_DONTNEED = 4;
