// VRRP raw sockets, set up as keepalived sets up its own (vrrp_if.c if_setsockopt_*, vrrp.c open_vrrp_*_socket):
// one socket per (interface, family, multicast|unicast). The VRRP message itself is opaque here (src/vrrp builds
// and checks it); this layer moves it with the right IP metadata.
//
// Both families use the ksock addon, whose sockets are always SOCK_CLOEXEC | SOCK_NONBLOCK: a script the daemon
// runs never inherits a raw socket (the `raw-socket` package used for IPv4 before opened its socket without
// close-on-exec and offers no way to set it).
// IPv4: IP_HDRINCL with our own header (TOS 0xc0, TTL 255, keepalived's id counter, DF clear); multicast sockets
// set SO_DONTROUTE, which the kernel applies to every send exactly as keepalived's MSG_DONTROUTE.
// IPv6: IPV6_RECVHOPLIMIT / IPV6_RECVPKTINFO ancillary data from recvmsg; the kernel computes and verifies the
// checksum (IPV6_CHECKSUM offset 6).
import { EventEmitter } from 'node:events';
import {
  MSG_DONTROUTE, MSG_TRUNC, SOCK_RAW, SOL_SOCKET, SO_BINDTODEVICE, SO_RCVBUF,
  ksock, type Ksock, type NativeWatcher,
  watchReadable,
} from './ksock.js';
import { buildIpv4Header, parseIpv4Header, VRRP_TTL } from './ipv4-header.js';
import { internetChecksum } from './checksum.js';
import { AF_INET, AF_INET6, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_VRRP } from './constants.js';
import { addrToBytes, bytesToAddr, familyOf, VRRP_GROUP4, VRRP_GROUP6, type Family } from './address.js';
import { KtError, type KtCode } from '../util/errors.js';

const SO_DONTROUTE = 5;
const SO_PROTOCOL = 38;
const SO_MEMINFO = 55;
/** ioctl: set close-on-exec (fs/ioctl.c handles it for every descriptor, the argument unused). */
const FIOCLEX = 0x5451;
const IP_HDRINCL = 3;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const IP_MULTICAST_ALL = 49;
const IPV6_CHECKSUM = 7;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_ADD_MEMBERSHIP = 20;
const IPV6_MULTICAST_ALL = 29;
const IPV6_RECVPKTINFO = 49;
const IPV6_PKTINFO = 50;
const IPV6_RECVHOPLIMIT = 51;
const IPV6_HOPLIMIT = 52;
const IPV6_TCLASS = 67;
const IPV6_FREEBIND = 78;
const IPTOS_PREC_INTERNETCONTROL = 0xc0;

/** One received VRRP packet. */
export interface VrrpReceived {
  family: Family;
  src: string;
  /** Destination address (IPv4 header / IPV6_PKTINFO): the group in multicast mode, our address in unicast. */
  dst: string;
  /** IPv4 TTL or IPv6 hop limit as received (must be 255 in multicast mode). */
  ttl: number;
  /** Receiving interface (IPv6: from IPV6_PKTINFO; IPv4: the socket's interface). */
  ifindex: number;
  /**
   * The VRRP message: a view into the socket's receive buffer, valid during the 'message' event only (the next
   * datagram is read into the same buffer; keepReceived copies one to keep).
   */
  payload: Buffer;
  /** IPv4: the whole IP packet, header included (what src/vrrp/validate.ts takes); IPv6: same as payload. Same view. */
  packet: Buffer;
  /** The datagram was longer than the receive buffer. */
  truncated: boolean;
}

export interface VrrpSendOptions {
  /** Destination: a unicast peer; default the VRRP group. */
  dst?: string;
  /** IPv4 only: source address written in the header (instance saddr / unicast_src_ip). */
  src?: string;
  /** IPv4 only: IP id (keepalived's per-instance counter); 0/omitted lets the kernel choose. */
  id?: number;
  /** IPv4 only: TTL for this packet (default the socket's, 255). */
  ttl?: number;
}

export interface VrrpSocketOptions {
  ifname: string;
  mode: 'multicast' | 'unicast';
  /** Multicast group (keepalived's mcast_dst_address); default VRRP_GROUP4 / VRRP_GROUP6. */
  group?: string;
  /** TTL / hop limit sent (keepalived: 255; unicast_ttl in unicast mode). */
  ttl?: number;
  /**
   * IPv6: the source to bind to (the interface's link-local address in multicast mode, unicast_src_ip in unicast
   * mode). IPv4: the default header source for send().
   */
  src?: string;
  rcvbuf?: number;
  /** IP protocol; default 112 (51 is AH, which this project does not implement). */
  protocol?: number;
}

export interface VrrpSocketEvents {
  message: [VrrpReceived];
  error: [Error];
}

/** A VRRP socket error (KT_NET_*), with the system errno name where there is one (ENODEV, EINVAL, EAGAIN, the
 *  kernel's errno of a failed send or setup). */
export class VrrpSocketError extends KtError {
  constructor(code: KtCode, readonly errnoName: string | undefined, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

const errnoOf = (e: unknown): string | undefined => {
  const c = (e as { code?: unknown })?.code;
  return typeof c === 'string' && /^E[A-Z0-9]+$/.test(c) ? c : undefined;
};

/** One sendto(2): the socket, the datagram (the caller's own copy), the destination's sockaddr and the flags. */
export interface VrrpFrame {
  fd: number;
  bytes: Buffer;
  sockaddr: Buffer;
  flags: number;
}

export interface VrrpSocket {
  readonly family: Family;
  readonly ifindex: number;
  send(payload: Buffer, opts?: VrrpSendOptions): Promise<void>;
  /** send() without the promise: on the wire when it returns, or throws a VrrpSocketError. */
  sendNow(payload: Uint8Array, opts?: VrrpSendOptions): void;
  /** What sendNow would hand the kernel, for a send made later from another thread (the advert sender). */
  frame(payload: Uint8Array, opts?: VrrpSendOptions): VrrpFrame;
  /** Reads what is waiting now ('message' events, synchronously), without waiting for the event loop. */
  poll(): void;
  on<K extends keyof VrrpSocketEvents>(ev: K, fn: (...a: VrrpSocketEvents[K]) => void): this;
  once<K extends keyof VrrpSocketEvents>(ev: K, fn: (...a: VrrpSocketEvents[K]) => void): this;
  off<K extends keyof VrrpSocketEvents>(ev: K, fn: (...a: VrrpSocketEvents[K]) => void): this;
  /** Reads what is queued now, synchronously. */
  readQueued(): void;
  /** Datagrams the kernel dropped for this socket so far (receive buffer full). */
  drops(): number;
  close(): void;
}

const int32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
};

function ifindexOf(ifname: string): number {
  const idx = ksock().ifNameToIndex(ifname);
  if (!idx) throw new VrrpSocketError('KT_NET_NO_INTERFACE', 'ENODEV', `no interface '${ifname}'`);
  return idx;
}

/** struct sockaddr_in (16 bytes). */
export function sockaddrIn(addr: string): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  addrToBytes(addr).copy(b, 4);
  return b;
}

/** Opening the raw socket and setting it up: what a fresh socket needs before it is listening (group joined). */
interface FamilySetup {
  /** The family's socket options; idempotent, so they are applied again to an adopted socket. */
  configure(k: Ksock, fd: number, ifindex: number, opts: VrrpSocketOptions): void;
  joinGroup(k: Ksock, fd: number, ifindex: number, group: string): void;
  bindSource(k: Ksock, fd: number, ifindex: number, opts: VrrpSocketOptions): void;
}

function groupOf(family: 4 | 6, opts: VrrpSocketOptions): string {
  const group = opts.group ?? (family === 4 ? VRRP_GROUP4 : VRRP_GROUP6);
  if (familyOf(group) !== family) throw new VrrpSocketError('KT_NET_BAD_ARGUMENT', 'EINVAL', `group ${group} is not IPv${family}`);
  return group;
}

/** socket() close-on-exec, bound to the interface, the family's options, the group joined: listening on return. */
function openSetUp(family: 4 | 6, opts: VrrpSocketOptions): { fd: number; ifindex: number; group: string } {
  const k = ksock();
  const setup = family === 4 ? SETUP4 : SETUP6;
  const ifindex = ifindexOf(opts.ifname);
  const group = groupOf(family, opts);
  const fd = k.socket(family === 4 ? AF_INET : AF_INET6, SOCK_RAW, opts.protocol ?? IPPROTO_VRRP);
  try {
    k.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${opts.ifname}\0`));
    setup.configure(k, fd, ifindex, opts);
    if (opts.rcvbuf) k.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, int32(opts.rcvbuf));
    if (opts.mode === 'multicast') setup.joinGroup(k, fd, ifindex, group);
    setup.bindSource(k, fd, ifindex, opts);
  } catch (e) {
    k.close(fd);
    throw e instanceof VrrpSocketError ? e : new VrrpSocketError('KT_NET_SOCKET_SETUP', errnoOf(e), `VRRP IPv${family} socket on ${opts.ifname}: ${(e as Error).message}`, { cause: e });
  }
  return { fd, ifindex, group };
}

/**
 * Opens and sets up a VRRP socket without reading it: from the return on, the kernel queues the adverts for it.
 * The start-up path opens the VRRP child's sockets this way before the child runs and hands it the descriptor.
 */
export function openVrrpSocketFd(family: Family, opts: VrrpSocketOptions): number {
  return openSetUp(family, opts).fd;
}

/**
 * What both VRRP sockets share: the raw socket (opened here, or adopted: a descriptor openVrrpSocketFd set up in
 * another process with the same options), the readable watcher, and close(). Each family adds its receive path
 * (`drain`) and its send.
 */
abstract class VrrpSocketBase extends EventEmitter<VrrpSocketEvents> {
  readonly ifindex: number;
  protected readonly fd: number;
  protected readonly group: string;
  protected closed = false;
  private readonly watcher: NativeWatcher;
  /** The receive buffers, re-used for every datagram. */
  protected readonly rx: RxBuffers;

  protected constructor(protected readonly opts: VrrpSocketOptions, family: 4 | 6, adoptFd?: number) {
    super();
    this.rx = new RxBuffers(family === 6 ? 256 : 0);
    if (adoptFd === undefined) {
      ({ fd: this.fd, ifindex: this.ifindex, group: this.group } = openSetUp(family, opts));
    } else {
      const k = ksock();
      this.fd = adoptFd;
      this.ifindex = ifindexOf(opts.ifname);
      this.group = groupOf(family, opts);
      try {
        // An inherited descriptor lost close-on-exec in the fork (dup2): scripts must never inherit a raw socket.
        const err = k.ifreqIoctl(adoptFd, FIOCLEX, '', Buffer.alloc(0), false);
        if (err) throw new VrrpSocketError('KT_NET_SOCKET_SETUP', undefined, `FIOCLEX: errno ${err}`);
        const dev = k.getsockopt(adoptFd, SOL_SOCKET, SO_BINDTODEVICE, 16).toString('latin1').replace(/\0.*$/s, '');
        const proto = k.getsockopt(adoptFd, SOL_SOCKET, SO_PROTOCOL, 4).readInt32LE(0);
        if (dev !== opts.ifname || proto !== (opts.protocol ?? IPPROTO_VRRP)) {
          throw new VrrpSocketError('KT_NET_SOCKET_SETUP', undefined, `descriptor ${adoptFd} is bound to '${dev}', protocol ${proto}: not this socket`);
        }
        (family === 4 ? SETUP4 : SETUP6).configure(k, adoptFd, this.ifindex, opts);
      } catch (e) {
        // Handed to this process to own: not usable, so not kept open either (the caller opens a fresh one).
        try {
          k.close(adoptFd);
        } catch {
          /* not open */
        }
        throw e instanceof VrrpSocketError ? e : new VrrpSocketError('KT_NET_SOCKET_SETUP', errnoOf(e), `adopting VRRP IPv${family} socket on ${opts.ifname}: ${(e as Error).message}`, { cause: e });
      }
    }
    // One datagram per wake-up: the poll is level-triggered, so another queued one wakes the loop again, and the
    // usual single advert costs one recvmsg, not a second one that finds nothing.
    this.watcher = watchReadable(this.fd, () => this.drain(1));
    this.watcher.start();
  }

  /** Reads up to `limit` datagrams waiting now and emits each as a 'message'. */
  protected abstract drain(limit: number): void;
  abstract frame(payload: Uint8Array, opts?: VrrpSendOptions): VrrpFrame;

  sendNow(payload: Uint8Array, opts: VrrpSendOptions = {}): void {
    this.sendFrame(this.frame(payload, opts));
  }

  protected sendFrame(f: VrrpFrame): void {
    let n: number;
    try {
      n = ksock().sendto(f.fd, f.bytes, f.sockaddr, f.flags);
    } catch (e) {
      throw new VrrpSocketError('KT_NET_SEND_FAILED', errnoOf(e), `VRRP send on ${this.opts.ifname}: ${(e as Error).message}`, { cause: e });
    }
    if (n < 0) throw new VrrpSocketError('KT_NET_SEND_BUFFER_FULL', 'EAGAIN', `VRRP send on ${this.opts.ifname}: socket send buffer full`);
  }

  poll(): void {
    if (!this.closed) this.drain(Infinity);
  }

  send(payload: Buffer, opts: VrrpSendOptions = {}): Promise<void> {
    try {
      this.sendNow(payload, opts);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Reads what is queued now, synchronously (the watcher would read it a loop turn later): an adopted socket's
   * adverts queued before its owner started are handled before any decision.
   */
  readQueued(): void {
    if (!this.closed) this.drain(Infinity);
  }

  /** Datagrams the kernel dropped for this socket so far (SO_MEMINFO's SK_MEMINFO_DROPS: receive buffer full). */
  drops(): number {
    const b = ksock().getsockopt(this.fd, SOL_SOCKET, SO_MEMINFO, 36);
    return b.length >= 36 ? b.readUInt32LE(32) : 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
    ksock().close(this.fd);
  }
}

const SETUP4: FamilySetup = {
  configure(k, fd, _ifindex, opts) {
    k.setsockopt(fd, IPPROTO_IP, IP_HDRINCL, int32(1));
    k.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, int32(opts.ttl ?? VRRP_TTL));
    k.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, int32(0));
    // Only the groups this socket joined (not every group joined on the host).
    k.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, int32(0));
  },
  joinGroup(k, fd, ifindex, group) {
    const mreqn = Buffer.alloc(12); // struct ip_mreqn: multiaddr, address, ifindex
    addrToBytes(group).copy(mreqn, 0);
    mreqn.writeInt32LE(ifindex, 8);
    k.setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, mreqn);
    k.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, mreqn);
    // keepalived sends group adverts with MSG_DONTROUTE; the socket option applies it to every send.
    k.setsockopt(fd, SOL_SOCKET, SO_DONTROUTE, int32(1));
  },
  bindSource() {},
};

const SETUP6: FamilySetup = {
  configure(k, fd, _ifindex, opts) {
    const hops = opts.ttl ?? VRRP_TTL;
    k.setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, int32(6));
    k.setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, int32(1));
    k.setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, int32(1));
    k.setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, int32(hops));
    k.setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, int32(hops));
    k.setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, int32(0));
    k.setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, int32(IPTOS_PREC_INTERNETCONTROL));
    try {
      k.setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, int32(0));
    } catch {
      /* before Linux 4.20: every group joined on the host is delivered; dst is reported, so callers can filter */
    }
  },
  joinGroup(k, fd, ifindex, group) {
    k.setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, int32(ifindex));
    const mreq = Buffer.alloc(20); // struct ipv6_mreq: group, ifindex
    addrToBytes(group).copy(mreq, 0);
    mreq.writeInt32LE(ifindex, 16);
    k.setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, mreq);
  },
  bindSource(k, fd, ifindex, opts) {
    if (!opts.src) return;
    if (familyOf(opts.src) !== 6) throw new VrrpSocketError('KT_NET_BAD_ARGUMENT', 'EINVAL', `source ${opts.src} is not IPv6`);
    // unicast_src_ip may not be configured yet (e.g. a VIP): keepalived binds with IP_FREEBIND.
    k.setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, int32(1));
    k.bind(fd, sockaddrIn6(opts.src, ifindex));
  },
};

/** IPv4 VRRP socket over the ksock addon (IP_HDRINCL): opened close-on-exec, so scripts never inherit it. */
export class VrrpSocket4 extends VrrpSocketBase implements VrrpSocket {
  readonly family = 4 as const;

  constructor(opts: VrrpSocketOptions, adoptFd?: number) {
    super(opts, 4, adoptFd);
  }

  protected drain(limit: number): void {
    const rx = this.rx;
    readDatagrams(this.fd, rx, limit, (e) => this.emit('error', e), (n) => {
      const packet = rx.data.subarray(0, n);
      const h = parseIpv4Header(packet);
      if (!h) return;
      const end = Math.min(packet.length, Math.max(h.totalLength, h.headerLength));
      this.emit('message', {
        family: 4,
        src: h.src || (rx.meta[0]! >= 8 ? bytesToAddr(rx.addr.subarray(4, 8)) : ''),
        dst: h.dst,
        ttl: h.ttl,
        ifindex: this.ifindex,
        payload: packet.subarray(h.headerLength, end),
        packet,
        truncated: (rx.meta[2]! & MSG_TRUNC) !== 0,
      });
    });
  }

  /** A copy of the re-used datagram: the caller may hold it past the next send. */
  frame(payload: Uint8Array, opts: VrrpSendOptions = {}): VrrpFrame {
    const pkt = this.packet(payload, opts);
    return { fd: this.fd, bytes: Buffer.from(pkt.bytes), sockaddr: pkt.sockaddr, flags: 0 };
  }

  /** The re-used datagram itself: sendto copies it before it returns. */
  override sendNow(payload: Uint8Array, opts: VrrpSendOptions = {}): void {
    const pkt = this.packet(payload, opts);
    this.sendFrame({ fd: this.fd, bytes: pkt.bytes, sockaddr: pkt.sockaddr, flags: 0 });
  }

  private packet(payload: Uint8Array, opts: VrrpSendOptions): { bytes: Buffer; sockaddr: Buffer } {
    if (this.closed) throw new VrrpSocketError('KT_NET_SOCKET_CLOSED', undefined, 'VRRP socket closed');
    const dst = opts.dst ?? this.group;
    const src = opts.src ?? this.opts.src;
    if (!src) throw new VrrpSocketError('KT_NET_BAD_ARGUMENT', 'EINVAL', 'IPv4 send needs a source address');
    return this.datagram(payload, src, dst, opts.id ?? 0, opts.ttl ?? this.opts.ttl ?? VRRP_TTL);
  }

  /** The last datagram sent: the next one to the same place differs in the VRRP message's bytes, the id and the sum. */
  private last?: { src: string; dst: string; ttl: number; bytes: Buffer; sockaddr: Buffer };

  /**
   * vrrpIpv4Datagram's bytes. A master sends the same header to the same group ten times a second: the datagram
   * and its sockaddr are built once (addresses parsed, checked) and then re-used, the message copied in and the id
   * and header checksum written (sendto copies the datagram before it returns).
   */
  private datagram(payload: Uint8Array, src: string, dst: string, id: number, ttl: number): { bytes: Buffer; sockaddr: Buffer } {
    const l = this.last;
    if (!l || l.src !== src || l.dst !== dst || l.ttl !== ttl || l.bytes.length !== 20 + payload.length) {
      const bytes = vrrpIpv4Datagram(payload, { src, dst, id, ttl, protocol: this.opts.protocol });
      this.last = { src, dst, ttl, bytes, sockaddr: sockaddrIn(dst) };
      return this.last;
    }
    refillIpv4Datagram(l.bytes, payload, id);
    return l;
  }

}

/**
 * The receive buffer's size. The longest valid VRRP packet is 4,088 bytes (IPv6, 255 addresses; IPv4: 1,120 with
 * options and AH); anything longer is cut (MSG_TRUNC) and fails validation's length checks, as it would whole.
 */
const RECV_MAX = 8192;

/** A socket's receive buffers, allocated once: every datagram is read into them (no allocation per packet). */
class RxBuffers {
  readonly data = Buffer.allocUnsafe(RECV_MAX);
  readonly addr = Buffer.alloc(128);
  readonly control: Buffer | null;
  /** Of the last datagram read: [address length, control length, msg_flags]. */
  readonly meta = new Int32Array(3);
  constructor(maxControl: number) {
    this.control = maxControl > 0 ? Buffer.alloc(maxControl) : null;
  }
}

/**
 * Reads up to `limit` datagrams waiting on a non-blocking socket into `rx`, calling `each` with each one's length
 * before the next is read; a read error is reported and ends this turn.
 */
function readDatagrams(fd: number, rx: RxBuffers, limit: number, onError: (e: Error) => void, each: (length: number) => void): void {
  const k = ksock();
  for (let i = 0; i < limit; i++) {
    let n: number;
    try {
      n = k.recvInto ? k.recvInto(fd, rx.data, rx.addr, rx.control, rx.meta) : recvCopied(k, fd, rx);
    } catch (e) {
      onError(e as Error);
      return;
    }
    if (n < 0) return;
    each(Math.min(n, rx.data.length));
  }
}

/** recvInto through an addon built before it: its recvmsg's fresh Buffers copied into `rx`. */
function recvCopied(k: Ksock, fd: number, rx: RxBuffers): number {
  const r = k.recvmsg(fd, RECV_MAX, rx.control?.length ?? 0);
  if (!r) return -1;
  r.data.copy(rx.data);
  r.addr.copy(rx.addr);
  if (rx.control) r.control.copy(rx.control);
  rx.meta[0] = r.addr.length;
  rx.meta[1] = r.control.length;
  rx.meta[2] = r.flags;
  return r.data.length;
}

/** A received packet with its own copy of the bytes, to keep past its 'message' event. */
export function keepReceived(r: VrrpReceived): VrrpReceived {
  const packet = Buffer.from(r.packet);
  if (r.payload === r.packet) return { ...r, packet, payload: packet };
  const at = r.payload.byteOffset - r.packet.byteOffset;
  return { ...r, packet, payload: packet.subarray(at, at + r.payload.length) };
}

/** struct sockaddr_in6 (28 bytes). */
export function sockaddrIn6(addr: string, scopeId = 0): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  addrToBytes(addr).copy(b, 8);
  b.writeUInt32LE(scopeId, 24);
  return b;
}

export interface Cmsg {
  level: number;
  type: number;
  data: Buffer;
}

/** Splits recvmsg ancillary data (64-bit Linux: cmsg_len is a size_t, data aligned to 8). Pure. */
export function parseCmsgs(control: Buffer): Cmsg[] {
  const out: Cmsg[] = [];
  let off = 0;
  while (off + 16 <= control.length) {
    const len = Number(control.readBigUInt64LE(off));
    if (len < 16 || off + len > control.length) break;
    out.push({ level: control.readInt32LE(off + 8), type: control.readInt32LE(off + 12), data: control.subarray(off + 16, off + len) });
    off += (len + 7) & ~7;
  }
  return out;
}

/** IPv6 VRRP socket over the ksock addon. */
export class VrrpSocket6 extends VrrpSocketBase implements VrrpSocket {
  readonly family = 6 as const;

  constructor(opts: VrrpSocketOptions, adoptFd?: number) {
    super(opts, 6, adoptFd);
  }

  protected drain(limit: number): void {
    const rx = this.rx;
    readDatagrams(this.fd, rx, limit, (e) => this.emit('error', e), (n) => {
      let dst: string | undefined;
      let ifindex = this.ifindex;
      let ttl: number | undefined;
      for (const c of parseCmsgs(rx.control!.subarray(0, rx.meta[1]))) {
        if (c.level !== IPPROTO_IPV6) continue;
        if (c.type === IPV6_PKTINFO && c.data.length >= 20) {
          dst = bytesToAddr(c.data.subarray(0, 16));
          ifindex = c.data.readInt32LE(16);
        } else if (c.type === IPV6_HOPLIMIT && c.data.length >= 4) ttl = c.data.readInt32LE(0);
      }
      if (rx.meta[0]! < 24 || dst === undefined || ttl === undefined) return; // not what we asked the kernel for
      const payload = rx.data.subarray(0, n);
      this.emit('message', {
        family: 6,
        src: bytesToAddr(rx.addr.subarray(8, 24)),
        dst,
        ttl,
        ifindex,
        payload,
        packet: payload,
        truncated: (rx.meta[2]! & MSG_TRUNC) !== 0,
      });
    });
  }

  /** The last destination's sockaddr (a master sends to one group or the same peers over and over). */
  private lastDst?: { dst: string; sockaddr: Buffer };

  frame(payload: Uint8Array, opts: VrrpSendOptions = {}): VrrpFrame {
    if (this.closed) throw new VrrpSocketError('KT_NET_SOCKET_CLOSED', undefined, 'VRRP socket closed');
    const dst = opts.dst ?? this.group;
    let to = this.lastDst;
    if (to?.dst !== dst) {
      if (familyOf(dst) !== 6) throw new VrrpSocketError('KT_NET_BAD_ARGUMENT', 'EINVAL', `destination ${dst} is not IPv6`);
      this.lastDst = to = { dst, sockaddr: sockaddrIn6(dst, this.ifindex) };
    }
    const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    // Group adverts go out MSG_DONTROUTE, as keepalived's.
    return { fd: this.fd, bytes, sockaddr: to.sockaddr, flags: opts.dst ? 0 : MSG_DONTROUTE };
  }
}

/**
 * The IPv4 datagram an advert goes out as (IP_HDRINCL): keepalived's header — TOS 0xc0 (internetwork control), DF
 * clear, protocol 112 — in front of the VRRP message. Pure, so the simulator and the golden tests put the very
 * bytes on their wire that this socket puts on the real one.
 */
export function vrrpIpv4Datagram(payload: Uint8Array, o: { src: string; dst: string; id?: number; ttl?: number; protocol?: number }): Buffer {
  const header = buildIpv4Header({ src: o.src, dst: o.dst, payloadLength: payload.length, id: o.id, ttl: o.ttl ?? VRRP_TTL, tos: IPTOS_PREC_INTERNETCONTROL, protocol: o.protocol });
  return Buffer.concat([header, payload]);
}

/**
 * Turns a datagram vrrpIpv4Datagram built into the one it would build for another message of the same length and
 * another id (same addresses, TTL and protocol), in place: the message copied in, the id and the header checksum
 * written.
 */
export function refillIpv4Datagram(datagram: Uint8Array, payload: Uint8Array, id: number): void {
  datagram.set(payload, 20);
  datagram[4] = (id >> 8) & 0xff;
  datagram[5] = id & 0xff;
  datagram[10] = 0;
  datagram[11] = 0;
  const sum = internetChecksum(datagram.subarray(0, 20));
  datagram[10] = sum >> 8;
  datagram[11] = sum & 0xff;
}

/** Opens the socket for `family`, or adopts `adoptFd` (set up by openVrrpSocketFd with the same options). */
export function openVrrpSocket(family: Family, opts: VrrpSocketOptions, adoptFd?: number): VrrpSocket {
  return family === 4 ? new VrrpSocket4(opts, adoptFd) : new VrrpSocket6(opts, adoptFd);
}

