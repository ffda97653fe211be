// An AF_PACKET SOCK_RAW sender bound to one interface, for gratuitous ARP and unsolicited NA frames. Protocol 0:
// the socket receives nothing (keepalived's sockets only send, too), so it never needs draining.
import { AF_PACKET, SOCK_RAW, ksock } from './ksock.js';
import { macToBytes } from './rtnetlink-codec.js';
import { KtError } from '../util/errors.js';

/** struct sockaddr_ll (20 bytes): family, protocol (network order), ifindex, hatype, pkttype, halen, addr[8]. */
export function sockaddrLl(ifindex: number, protocol = 0, mac?: string | Buffer, hatype = 1): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16LE(AF_PACKET, 0);
  b.writeUInt16BE(protocol, 2);
  b.writeInt32LE(ifindex, 4);
  b.writeUInt16LE(hatype, 8);
  if (mac) {
    const m = typeof mac === 'string' ? macToBytes(mac) : mac;
    b[11] = m.length;
    m.copy(b, 12, 0, Math.min(8, m.length));
  }
  return b;
}

/**
 * Sends whole Ethernet frames. Bound to one interface (`new PacketSender(ifindex)`, then `send`), or unbound
 * (`new PacketSender()`, then `sendOn(ifindex, frame)`) like keepalived's single GARP socket, which survives
 * interfaces being deleted and recreated with a new index.
 */
export class PacketSender {
  private fd: number;

  constructor(readonly ifindex?: number) {
    if (ifindex !== undefined && (!Number.isInteger(ifindex) || ifindex <= 0)) throw new KtError('KT_NET_BAD_ARGUMENT', `bad ifindex ${ifindex}`);
    this.fd = ksock().socket(AF_PACKET, SOCK_RAW, 0);
    if (ifindex === undefined) return;
    try {
      ksock().bind(this.fd, sockaddrLl(ifindex));
    } catch (e) {
      ksock().close(this.fd);
      throw e;
    }
  }

  /**
   * Sends one frame (Ethernet header included) on the bound interface. Returns false if the socket buffer is full
   * (the frame is dropped, as keepalived drops a GARP it cannot send); throws the kernel error otherwise
   * (ENETDOWN when the link is down, ENXIO/ENODEV when it is gone).
   */
  send(frame: Buffer): boolean {
    if (this.ifindex === undefined) throw new KtError('KT_NET_BAD_ARGUMENT', 'unbound packet sender: use sendOn(ifindex, frame)');
    return this.sendOn(this.ifindex, frame);
  }

  /** Sends one frame on `ifindex` (any interface when unbound; must match when bound). */
  sendOn(ifindex: number, frame: Buffer): boolean {
    if (this.fd < 0) throw new KtError('KT_NET_SOCKET_CLOSED', 'packet socket closed');
    if (frame.length < 14) throw new KtError('KT_NET_BAD_ARGUMENT', `frame of ${frame.length} bytes`);
    return ksock().sendto(this.fd, frame, sockaddrLl(ifindex, frame.readUInt16BE(12))) >= 0;
  }

  close(): void {
    if (this.fd >= 0) ksock().close(this.fd);
    this.fd = -1;
  }
}
