// TCP_CHECK: a connect() within connect_timeout, then close — exactly what keepalived's tcp_check does.
import net from 'node:net';
import type { ProbeResult } from './checker-types.js';

export interface TcpProbeTarget {
  host: string;
  port: number;
  bindTo?: string;
  bindPort?: number;
  timeoutMs: number;
}

export function probeTcp(t: TcpProbeTarget): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let done = false;
    const opts: net.TcpNetConnectOpts = { host: t.host, port: t.port };
    if (t.bindTo) opts.localAddress = t.bindTo;
    if (t.bindPort) opts.localPort = t.bindPort;
    const sock = net.connect(opts);
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // A plain close (FIN), as keepalived's close() after a successful connect.
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: `connect timeout after ${t.timeoutMs} ms` }), t.timeoutMs);
    sock.once('connect', () => finish({ ok: true, reason: 'connected' }));
    sock.once('error', (e: NodeJS.ErrnoException) => finish({ ok: false, reason: `connect error: ${e.code ?? e.message}` }));
  });
}
