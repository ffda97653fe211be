// TCP_CHECK: a connect() within connect_timeout, then close — exactly what keepalived's tcp_check does.
import type net from 'node:net';
import type { ProbeResult } from './checker-types.js';
import { connectTcp, type ConnOptions } from './probe-socket.js';
import { probeDeadline } from './probe-deadline.js';

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
      deadline.clear();
      // A plain close (FIN), as keepalived's close() after a successful connect.
      sock.destroy();
      resolve(r);
    };
    // Yields to pending I/O once before failing (probe-deadline.ts): a connect that made it in time is seen first.
    const deadline = probeDeadline(t.timeoutMs, () => finish({ ok: false, reason: `connect timeout after ${t.timeoutMs} ms` }));
    sock.once('connect', () => finish({ ok: true, reason: 'connected' }));
    sock.once('error', (e: NodeJS.ErrnoException) => finish({ ok: false, reason: `connect error: ${e.code ?? e.message}` }));
  });
}
