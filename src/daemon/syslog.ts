// Sends log lines to the local syslog socket (/dev/log by default), as keepalived does through syslog(3): one unix
// datagram per line, to the socket's path each time (a restarted rsyslog or journald is found again without a
// reconnect). Node's dgram has no AF_UNIX, so the socket comes from the addon (close-on-exec, non-blocking): a full
// receiver drops the line rather than stall the VRRP child (glibc would block), and the drops are counted.
import { ksock } from '../net/ksock.js';

export const AF_UNIX = 1;
const SOCK_DGRAM = 2;

/** struct sockaddr_un for a path (family, path, NUL). */
export function sockaddrUn(path: string): Buffer {
  const p = Buffer.from(path);
  if (p.length > 107) throw new RangeError(`syslog socket path too long: ${path}`);
  const b = Buffer.alloc(2 + p.length + 1);
  b.writeUInt16LE(AF_UNIX, 0);
  p.copy(b, 2);
  return b;
}

export class SyslogSender {
  private fd: number | undefined;
  private readonly addr: Buffer;
  /** Lines the receiver had no room for (EAGAIN). */
  dropped = 0;

  constructor(readonly path: string) {
    this.addr = sockaddrUn(path);
  }

  /** Sends one datagram; false when it could not be delivered (no receiver, or it is full). */
  send(line: string): boolean {
    const k = ksock();
    try {
      this.fd ??= k.socket(AF_UNIX, SOCK_DGRAM, 0);
      if (k.sendto(this.fd, Buffer.from(line), this.addr) >= 0) return true;
      this.dropped++;
      return false;
    } catch {
      // ENOENT / ECONNREFUSED: no syslog daemon listening (yet); the caller keeps the line elsewhere.
      return false;
    }
  }

  close(): void {
    if (this.fd !== undefined) ksock().close(this.fd);
    this.fd = undefined;
  }
}
