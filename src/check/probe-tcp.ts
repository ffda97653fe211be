// TCP_CHECK: a connect() within connect_timeout, then close — exactly what keepalived's tcp_check does.
import type net from 'node:net';
import type { ProbeResult } from './checker-types.js';
import { connectTcp, type ConnOptions } from './probe-socket.js';

export interface TcpProbeTarget extends ConnOptions {
  host: string;
  port: number;
  timeoutMs: number;
}

export function probeTcp(t: TcpProbeTarget): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let done = false;
    let sock: net.Socket;
    try {
      sock = connectTcp(t.host, t.port, t);
    } catch (e) {
      return resolve({ ok: false, reason: (e as Error).message });
    }
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // A plain close (FIN), as keepalived's close() after a successful connect.
      sock.destroy();
      resolve(r);
    };
    // The timer yields to pending I/O once before failing: after the event loop was held (a big reconcile, GC),
    // an expired timer runs before the poll phase that carries the connect that made it in time.
    const timer = setTimeout(() => setImmediate(() => finish({ ok: false, reason: `connect timeout after ${t.timeoutMs} ms` })), t.timeoutMs);
    sock.once('connect', () => finish({ ok: true, reason: 'connected' }));
    sock.once('error', (e: NodeJS.ErrnoException) => finish({ ok: false, reason: `connect error: ${e.code ?? e.message}` }));
  });
}
