// The sockets of the TCP, HTTP/SSL, SMTP, UDP and DNS probes with keepalived's connection options applied before
// connect, in socket_bind_connect's / udp_bind_connect's order (layer4.c): SO_MARK (fwmark), SO_BINDTODEVICE
// (bind_if), bind (bindto / bind_port). Node's sockets cannot set a mark or a device before they connect, so when
// either is asked the socket is opened through the addon and handed to Node as an fd; otherwise Node opens its own.
import net from 'node:net';
import dgram from 'node:dgram';
import { ksock, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_BINDTODEVICE, SO_MARK } from '../net/ksock.js';
import { AF_INET, AF_INET6 } from '../net/constants.js';
import { addrToBytes, familyOf } from '../net/address.js';

export interface ConnOptions {
  fwmark?: number;
  bindIf?: string;
  bindTo?: string;
  bindPort?: number;
}

function sockaddr(family: 4 | 6, addr: string | undefined, port: number, scopeId: number): Buffer {
  if (family === 4) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt16BE(port, 2);
    if (addr) addrToBytes(addr, 4).copy(b, 4);
    return b;
  }
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  if (addr) addrToBytes(addr, 6).copy(b, 8);
  b.writeUInt32LE(scopeId, 24);
  return b;
}

/**
 * A non-blocking socket with fwmark, bind_if and the source address set, or undefined when neither fwmark nor
 * bind_if is asked (Node's own socket and bind do). Throws with keepalived's log wording when an option fails, which
 * the probe reports as a failed check (keepalived's connect_error).
 */
function openFd(host: string, kind: 'tcp' | 'udp', o: ConnOptions): number | undefined {
  if (!o.fwmark && !o.bindIf) return undefined;
  const family = familyOf(host) === 6 ? 6 : 4;
  const k = ksock();
  const fd = k.socket(family === 4 ? AF_INET : AF_INET6, kind === 'tcp' ? SOCK_STREAM : SOCK_DGRAM, 0);
  try {
    if (o.fwmark) {
      const v = Buffer.alloc(4);
      v.writeUInt32LE(o.fwmark);
      try { k.setsockopt(fd, SOL_SOCKET, SO_MARK, v); } catch (e) { throw new Error(`Error setting fwmark ${o.fwmark} to socket: ${(e as Error).message}`); }
    }
    let scope = 0;
    if (o.bindIf) {
      try { k.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${o.bindIf}\0`, 'latin1')); } catch (e) { throw new Error(`Checker can't bind to device ${o.bindIf}: ${(e as Error).message}`); }
      scope = k.ifNameToIndex(o.bindIf);
    }
    if (o.bindTo !== undefined || o.bindPort) {
      try { k.bind(fd, sockaddr(family, o.bindTo, o.bindPort ?? 0, scope)); } catch (e) { throw new Error(`Checker bind failed: ${(e as Error).message}`); }
    }
    return fd;
  } catch (e) {
    k.close(fd);
    throw e;
  }
}

/** A TCP connection to host:port with the options applied (the caller listens for 'connect' and 'error'). */
export function connectTcp(host: string, port: number, o: ConnOptions): net.Socket {
  const fd = openFd(host, 'tcp', o);
  if (fd === undefined) {
    const opts: net.TcpNetConnectOpts = { host, port };
    if (o.bindTo) opts.localAddress = o.bindTo;
    if (o.bindPort) opts.localPort = o.bindPort;
    return net.connect(opts);
  }
  return new net.Socket({ fd }).connect({ host, port });
}

/**
 * A UDP socket for host with the options applied; `ready` gets it once it is bound (when asked), at once otherwise,
 * and may connect. Errors of the socket itself arrive on its 'error' event; an option that fails throws.
 */
export function openUdp(family: 4 | 6, host: string, o: ConnOptions, ready: (sock: dgram.Socket) => void): dgram.Socket {
  const fd = openFd(host, 'udp', o);
  const sock = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
  if (fd !== undefined) sock.bind({ fd }, () => ready(sock));
  else if (o.bindTo !== undefined || o.bindPort !== undefined) sock.bind({ address: o.bindTo, port: o.bindPort ?? 0, exclusive: true }, () => ready(sock));
  else ready(sock);
  return sock;
}
