// A netlink socket over the ksock addon: request/ACK, batches of requests packed into few datagrams with each ACK
// matched to its request by sequence number, dumps, multicast notifications, and the kernel's error text.
import { EventEmitter } from 'node:events';
import { constants as osConstants } from 'node:os';
import {
  ksock, AF_NETLINK, SOCK_RAW, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NETLINK_EXT_ACK, NETLINK_CAP_ACK, SOL_SOCKET,
  SO_RCVBUF, type NativeWatcher,
  watchReadable,
} from './ksock.js';
import {
  align4, decodeMessages, decodeError, encodeMessages, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_ACK, NLM_F_DUMP,
  NLM_F_MULTI, NLM_F_REQUEST, type NetlinkMessage, type OutgoingMessage,
} from './netlink-codec.js';
import { KtError } from '../util/errors.js';

/**
 * A request the kernel refused (KT_NETLINK_REQUEST_FAILED): the errno and its name (EEXIST, ENOENT, …) and, when the
 * kernel gives one, its own text.
 */
export class NetlinkError extends KtError {
  constructor(
    readonly errno: number,
    readonly errnoName: string,
    readonly kernelMessage: string | undefined,
    readonly requestType: number,
  ) {
    super('KT_NETLINK_REQUEST_FAILED', `netlink request ${requestType} failed: ${errnoName}${kernelMessage ? ` (${kernelMessage})` : ''}`);
  }
}

/**
 * A request the kernel never answered within the socket's request timeout (KT_NETLINK_TIMEOUT): its ACK was dropped
 * (a full receive buffer), or the family answers nothing. Without it the request, and whoever awaits it (a reconcile,
 * hence a stop), would wait for ever.
 */
export class NetlinkTimeoutError extends KtError {
  constructor(readonly requestType: number, readonly waitedMs: number) {
    super('KT_NETLINK_TIMEOUT', `netlink request ${requestType} got no answer within ${waitedMs} ms`);
  }
}

/** How long a request may go without any answer from the kernel (each part of a dump counts as one). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

const errnoName = (n: number): string => {
  for (const [k, v] of Object.entries(osConstants.errno)) if (v === n) return k;
  return `errno ${n}`;
};

interface Pending {
  type: number;
  dump: boolean;
  /** performance.now() of the send or of the last reply part: the timeout counts from here. */
  lastActivity: number;
  replies: NetlinkMessage[];
  resolve: (m: NetlinkMessage[]) => void;
  reject: (e: Error) => void;
}

/** A request waiting for its turn to be sent: the message, its reply collector, and how many may be in flight before it. */
interface Queued {
  message: OutgoingMessage;
  pending: Pending;
  window: number;
}

/** One request of a batch. */
export interface NetlinkRequest {
  type: number;
  payload: Buffer;
  /** Added to NLM_F_REQUEST | NLM_F_ACK. */
  flags?: number;
  /** Adds NLM_F_DUMP and collects the multipart reply; a dump is sent in a datagram of its own. */
  dump?: boolean;
}

/** Bytes of requests packed into one datagram: well below the socket's send buffer (netlink refuses more). */
export const BATCH_MAX_BYTES = 32 * 1024;
/**
 * Receive-buffer bytes one acknowledgement may take (the skb's truesize, not the 36 bytes of the ACK): requests in
 * flight are bounded by SO_RCVBUF / this, so the ACKs the kernel queues while handling a datagram all fit and none
 * is dropped (a dropped ACK would leave its request waiting for ever).
 */
const ACK_TRUESIZE = 1024;

/**
 * One netlink socket. `request` resolves with the reply messages (a dump's parts, or [] for a plain ACK);
 * `requestBatch` sends several requests packed into few datagrams, each settled by its own ACK or error.
 * Messages that answer no request (multicast notifications) are emitted as 'notification'.
 */
export class NetlinkSocket extends EventEmitter {
  readonly fd: number;
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private pending = new Map<number, Pending>();
  /** Requests in call order; those before `queueHead` are sent. */
  private queue: Queued[] = [];
  private queueHead = 0;
  /** Requests sent and not yet settled. */
  private inFlight = 0;
  /** The most requests a batch keeps in flight (their ACKs must fit in the receive buffer). */
  readonly batchWindow: number;
  private watcher: NativeWatcher;
  private closed = false;
  /** Datagrams sent (a batch packs several requests into one). */
  datagramsSent = 0;
  /** Receive errors such as ENOBUFS (the kernel dropped notifications): counted, and emitted as 'overrun'. */
  overruns = 0;
  /** Requests given up after requestTimeoutMs without an answer. */
  timeouts = 0;
  readonly requestTimeoutMs: number;
  private sweepTimer?: NodeJS.Timeout;
  /** Sequence numbers given up on: a late answer to one is dropped, not taken for a notification. */
  private readonly abandoned = new Set<number>();

  constructor(protocol: number, opts: { groups?: number[]; rcvbuf?: number; requestTimeoutMs?: number } = {}) {
    super();
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const k = ksock();
    this.fd = k.socket(AF_NETLINK, SOCK_RAW, protocol);
    const sa = Buffer.alloc(12);
    sa.writeUInt16LE(AF_NETLINK, 0);
    k.bind(this.fd, sa);
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    // Ask for the kernel's text on errors, and not to echo whole requests back in them.
    try {
      k.setsockopt(this.fd, SOL_NETLINK, NETLINK_EXT_ACK, one);
      k.setsockopt(this.fd, SOL_NETLINK, NETLINK_CAP_ACK, one);
    } catch {
      /* older kernels: plain errno only */
    }
    if (opts.rcvbuf) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(opts.rcvbuf);
      k.setsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, b);
    }
    this.batchWindow = Math.max(1, Math.floor(k.getsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, 4).readInt32LE(0) / ACK_TRUESIZE));
    for (const g of opts.groups ?? []) this.addMembership(g);
    this.watcher = watchReadable(this.fd, () => this.drain());
    this.watcher.start();
  }

  addMembership(group: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(group);
    ksock().setsockopt(this.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, b);
  }

  /** Sends one request (now, unless a batch before it is still waiting). `dump` adds NLM_F_DUMP and collects the multipart reply. */
  request(type: number, payload: Buffer, opts: { flags?: number; dump?: boolean } = {}): Promise<NetlinkMessage[]> {
    return this.enqueue([{ type, payload, ...opts }], Infinity)[0];
  }

  /**
   * Sends the requests in order, packed several to a datagram (up to BATCH_MAX_BYTES), with at most `window`
   * (default and ceiling: batchWindow) in flight; each has its own sequence number and NLM_F_ACK. Returns one
   * promise per request, settled by the kernel's answer to that request alone: one refused request (EEXIST,
   * ENOENT, …) rejects only its own promise, the kernel carries on with the next message of the datagram.
   */
  requestBatch(reqs: readonly NetlinkRequest[], opts: { window?: number } = {}): Promise<NetlinkMessage[]>[] {
    return this.enqueue(reqs, Math.max(1, Math.min(opts.window ?? this.batchWindow, this.batchWindow)));
  }

  private enqueue(reqs: readonly NetlinkRequest[], window: number): Promise<NetlinkMessage[]>[] {
    if (this.closed) return reqs.map(() => Promise.reject(new Error('netlink socket closed')));
    const out = reqs.map((r) => new Promise<NetlinkMessage[]>((resolve, reject) => {
      const seq = (this.seq = (this.seq + 1) >>> 0);
      const flags = NLM_F_REQUEST | NLM_F_ACK | (r.dump ? NLM_F_DUMP : 0) | (r.flags ?? 0);
      this.queue.push({
        message: { type: r.type, flags, seq, payload: r.payload },
        pending: { type: r.type, dump: !!r.dump, lastActivity: 0, replies: [], resolve, reject },
        window,
      });
    }));
    this.pump();
    return out;
  }

  /** Sends what the windows allow, in call order; called on enqueue and after each drain of the socket. */
  private pump(): void {
    const q = this.queue;
    while (this.queueHead < q.length && this.inFlight < q[this.queueHead].window) {
      // Pack following requests while they fit in the datagram and in their own window; a dump travels alone.
      let end = this.queueHead;
      let bytes = 0;
      while (end < q.length) {
        const e = q[end];
        const size = align4(NLMSG_HDRLEN + e.message.payload.length);
        if (end > this.queueHead && (bytes + size > BATCH_MAX_BYTES || e.pending.dump || this.inFlight + (end - this.queueHead) >= e.window)) break;
        bytes += size;
        end++;
        if (e.pending.dump) break;
      }
      const sent = q.slice(this.queueHead, end);
      this.queueHead = end;
      for (const e of sent) this.pending.set(e.message.seq, e.pending);
      this.inFlight += sent.length;
      try {
        const n = ksock().sendto(this.fd, encodeMessages(sent.map((e) => e.message)));
        if (n < 0) throw new Error('netlink send would block');
        this.datagramsSent++;
        // From the end of the send: the kernel does a datagram's work inside sendmsg, however long that takes.
        const now = performance.now();
        for (const e of sent) e.pending.lastActivity = now;
        this.armSweep();
      } catch (err) {
        for (const e of sent) {
          this.pending.delete(e.message.seq);
          e.pending.reject(err as Error);
        }
        this.inFlight -= sent.length;
      }
    }
    if (this.queueHead === q.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 4096) {
      this.queue = q.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private drain(): void {
    const k = ksock();
    for (;;) {
      let r;
      try {
        r = k.recvmsg(this.fd, 1 << 16);
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOBUFS') {
          this.overruns++;
          this.emit('overrun');
          continue;
        }
        this.emit('error', e);
        this.pump();
        return;
      }
      if (!r) {
        // Everything the kernel had queued is read: send the next datagram of a waiting batch.
        this.pump();
        return;
      }
      let msgs: NetlinkMessage[];
      try {
        msgs = decodeMessages(r.data);
      } catch (e) {
        this.emit('malformed', e);
        continue;
      }
      for (const m of msgs) this.dispatch(m);
    }
  }

  /** While requests are in flight, checks once a second for those the kernel left unanswered too long. */
  private armSweep(): void {
    if (this.sweepTimer || this.closed) return;
    const every = Math.max(10, Math.min(1000, this.requestTimeoutMs / 4));
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  private sweep(): void {
    // Read what the kernel has queued first: after a stall of the event loop, timers run before the socket's
    // readable callback, and answers already waiting must not count as missing.
    this.drain();
    const now = performance.now();
    for (const [seq, p] of this.pending) {
      if (now - p.lastActivity < this.requestTimeoutMs) continue;
      this.settled(seq);
      this.timeouts++;
      if (this.abandoned.size >= 4096) this.abandoned.clear();
      this.abandoned.add(seq);
      p.reject(new NetlinkTimeoutError(p.type, Math.round(now - p.lastActivity)));
    }
    if (!this.pending.size) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
    this.pump();
  }

  private dispatch(m: NetlinkMessage): void {
    const p = m.seq !== 0 ? this.pending.get(m.seq) : undefined;
    if (!p) {
      if (m.seq !== 0 && this.abandoned.has(m.seq)) return;
      this.emit('notification', m);
      return;
    }
    p.lastActivity = performance.now();
    if (m.type === NLMSG_ERROR) {
      const ack = decodeError(m);
      this.settled(m.seq);
      if (ack.errno === 0) p.resolve(p.replies);
      else p.reject(new NetlinkError(ack.errno, errnoName(ack.errno), ack.message, p.type));
      return;
    }
    if (m.type === NLMSG_DONE) {
      // A dump ends with DONE; its ACK (requested) follows, but some families end with DONE alone.
      this.settled(m.seq);
      p.resolve(p.replies);
      return;
    }
    p.replies.push(m);
    if (!p.dump && !(m.flags & NLM_F_MULTI)) {
      // A single reply to a GET; the ACK that follows finds no pending entry and is ignored.
      this.settled(m.seq);
      p.resolve(p.replies);
    }
  }

  private settled(seq: number): void {
    this.pending.delete(seq);
    this.inFlight--;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.watcher.close();
    ksock().close(this.fd);
    for (const p of this.pending.values()) p.reject(new Error('netlink socket closed'));
    for (let i = this.queueHead; i < this.queue.length; i++) this.queue[i].pending.reject(new Error('netlink socket closed'));
    this.pending.clear();
    this.queue = [];
    this.queueHead = 0;
    this.inFlight = 0;
  }
}
