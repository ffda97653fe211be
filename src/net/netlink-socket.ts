// A netlink socket over the ksock addon: request/ACK, dumps, multicast notifications, and the kernel's error text.
import { EventEmitter } from 'node:events';
import { constants as osConstants } from 'node:os';
import {
  ksock, AF_NETLINK, SOCK_RAW, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NETLINK_EXT_ACK, NETLINK_CAP_ACK, SOL_SOCKET,
  SO_RCVBUF, type NativeWatcher,
  watchReadable,
} from './ksock.js';
import {
  decodeMessages, decodeError, encodeMessage, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP, NLM_F_MULTI,
  NLM_F_REQUEST, type NetlinkMessage,
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

const errnoName = (n: number): string => {
  for (const [k, v] of Object.entries(osConstants.errno)) if (v === n) return k;
  return `errno ${n}`;
};

interface Pending {
  type: number;
  dump: boolean;
  replies: NetlinkMessage[];
  resolve: (m: NetlinkMessage[]) => void;
  reject: (e: Error) => void;
}

/**
 * One netlink socket. `request` resolves with the reply messages (a dump's parts, or [] for a plain ACK).
 * Messages that answer no request (multicast notifications) are emitted as 'notification'.
 */
export class NetlinkSocket extends EventEmitter {
  readonly fd: number;
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private pending = new Map<number, Pending>();
  private watcher: NativeWatcher;
  private closed = false;
  /** Receive errors such as ENOBUFS (the kernel dropped notifications): counted, and emitted as 'overrun'. */
  overruns = 0;

  constructor(protocol: number, opts: { groups?: number[]; rcvbuf?: number } = {}) {
    super();
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
    for (const g of opts.groups ?? []) this.addMembership(g);
    this.watcher = watchReadable(this.fd, () => this.drain());
    this.watcher.start();
  }

  addMembership(group: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(group);
    ksock().setsockopt(this.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, b);
  }

  /** Sends one request. `dump` adds NLM_F_DUMP and collects the multipart reply. */
  request(type: number, payload: Buffer, opts: { flags?: number; dump?: boolean } = {}): Promise<NetlinkMessage[]> {
    if (this.closed) return Promise.reject(new Error('netlink socket closed'));
    const seq = (this.seq = (this.seq + 1) >>> 0);
    const flags = NLM_F_REQUEST | NLM_F_ACK | (opts.dump ? NLM_F_DUMP : 0) | (opts.flags ?? 0);
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { type, dump: !!opts.dump, replies: [], resolve, reject });
      try {
        const n = ksock().sendto(this.fd, encodeMessage({ type, flags, seq, payload }));
        if (n < 0) throw new Error('netlink send would block');
      } catch (e) {
        this.pending.delete(seq);
        reject(e as Error);
      }
    });
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
        return;
      }
      if (!r) return;
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

  private dispatch(m: NetlinkMessage): void {
    const p = m.seq !== 0 ? this.pending.get(m.seq) : undefined;
    if (!p) {
      this.emit('notification', m);
      return;
    }
    if (m.type === NLMSG_ERROR) {
      const ack = decodeError(m);
      this.pending.delete(m.seq);
      if (ack.errno === 0) p.resolve(p.replies);
      else p.reject(new NetlinkError(ack.errno, errnoName(ack.errno), ack.message, p.type));
      return;
    }
    if (m.type === NLMSG_DONE) {
      // A dump ends with DONE; its ACK (requested) follows, but some families end with DONE alone.
      this.pending.delete(m.seq);
      p.resolve(p.replies);
      return;
    }
    p.replies.push(m);
    if (!p.dump && !(m.flags & NLM_F_MULTI)) {
      // A single reply to a GET; the ACK that follows finds no pending entry and is ignored.
      this.pending.delete(m.seq);
      p.resolve(p.replies);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
    ksock().close(this.fd);
    for (const p of this.pending.values()) p.reject(new Error('netlink socket closed'));
    this.pending.clear();
  }
}
