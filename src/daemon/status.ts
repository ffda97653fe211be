// The status endpoint (beyond keepalived): `--status-listen 127.0.0.1:9650` or `--status-listen /run/keepalived-ts.sock`
// serves GET /status (JSON), GET /metrics (Prometheus text 0.0.4) and GET /keepalived.json (the content keepalived
// writes to /tmp/keepalived.json on its JSON signal). Off by default; loopback or a unix socket only unless forced,
// because it has no authentication.
import { createServer, type Server } from 'node:http';
import { unlinkSync, chmodSync } from 'node:fs';
import { isIP } from 'node:net';
import type { CheckerStatus, ScriptStatus, VrrpInstanceStatus } from './ipc.js';
import { formatMetrics, METRICS_CONTENT_TYPE } from './metrics.js';

export interface StatusDocument {
  version: string;
  pid: number;
  /** ISO time the parent started. */
  startedAt: string;
  children: Array<{ kind: string; pid?: number; restarts: number }>;
  reloads: { ok: number; refused: number };
  vrrp: VrrpInstanceStatus[];
  scripts: ScriptStatus[];
  checkers: CheckerStatus[];
  /** keepalived 2.2.7's JSON dump content. */
  keepalivedJson: unknown[];
}

export class StatusListenError extends Error {
  constructor(readonly code: 'STATUS_BAD_ADDRESS' | 'STATUS_NOT_LOOPBACK', message: string) {
    super(message);
  }
}

export type ListenTarget = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Parses ADDR:PORT, [V6]:PORT or an absolute unix socket path; refuses non-loopback addresses unless forced. */
export function parseListen(spec: string, force = false): ListenTarget {
  if (spec.startsWith('/')) return { kind: 'unix', path: spec };
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(spec) ?? /^([^:]+):(\d+)$/.exec(spec);
  if (!m) throw new StatusListenError('STATUS_BAD_ADDRESS', `--status-listen ${spec}: expected ADDR:PORT, [IPv6]:PORT or /path/to.sock`);
  const host = m[1]!;
  const port = Number(m[2]);
  if (!(port > 0 && port < 65536)) throw new StatusListenError('STATUS_BAD_ADDRESS', `--status-listen ${spec}: bad port`);
  if (host !== 'localhost' && !isIP(host)) throw new StatusListenError('STATUS_BAD_ADDRESS', `--status-listen ${spec}: ${host} is not an IP address`);
  if (!force && !isLoopback(host))
    throw new StatusListenError('STATUS_NOT_LOOPBACK', `--status-listen ${spec}: not a loopback address; the endpoint has no authentication (use --status-listen-force to allow it)`);
  return { kind: 'tcp', host, port };
}

/** Starts the HTTP server; `collect` gathers a fresh document per request. */
export async function startStatusServer(target: ListenTarget, collect: () => Promise<StatusDocument>): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path !== '/status' && path !== '/metrics' && path !== '/keepalived.json') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /status, /metrics or /keepalived.json\n');
      return;
    }
    collect().then(
      (doc) => {
        if (path === '/metrics') res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(formatMetrics(doc));
        else {
          const body = path === '/status' ? doc : doc.keepalivedJson;
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 2) + '\n');
        }
      },
      (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`),
    );
  });
  if (target.kind === 'unix') {
    try {
      unlinkSync(target.path); // a stale socket from a crashed run
    } catch {
      /* none */
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (target.kind === 'unix') server.listen(target.path, resolve);
    else server.listen(target.port, target.host, resolve);
  });
  if (target.kind === 'unix') chmodSync(target.path, 0o660);
  return server;
}

export async function stopStatusServer(server: Server, target: ListenTarget): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  if (target.kind === 'unix') {
    try {
      unlinkSync(target.path);
    } catch {
      /* gone */
    }
  }
}
