// The status endpoint (beyond keepalived): `--status-listen 127.0.0.1:9654` or `--status-listen /run/keepalived-ts.sock`
// serves GET /status (JSON), GET /metrics (Prometheus text 0.0.4) and GET /keepalived.json (the content keepalived
// writes to /tmp/keepalived.json on its JSON signal), and POST /ctl, the control interface (control.ts; the caller
// is known by SO_PEERCRED on the unix socket). Off by default; loopback or a unix socket only unless forced,
// because it has no authentication.
// Bounded (issue 9): a connection limit where a new connection displaces the oldest one that has not sent a whole
// request (slow clients holding every slot cannot starve a scrape), header / request / idle timeouts, and one
// snapshot shared by every request for a short while, so a flood of scrapes costs the children one snapshot per
// period.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { unlinkSync, chmodSync, lstatSync } from 'node:fs';
import type { Socket } from 'node:net';
import { addressFamily } from '../net/address.js';
import type { CheckerStatus, ScriptStatus, InstanceStatusJson, IpvsTraffic } from './ipc.js';
import { formatMetrics, METRICS_CONTENT_TYPE } from './metrics.js';
import { KtError } from '../util/errors.js';
import { peerCredentials } from '../net/ksock.js';
import { httpStatusOf, type ControlCaller, type ControlReply } from './control.js';

/** Answers one control request (control.ts dispatchControl bound to the daemon's policy and children). */
export type ControlEndpoint = (body: string, caller: ControlCaller) => Promise<ControlReply>;

/** A control request's body is small JSON. */
const MAX_CONTROL_BODY = 64 * 1024;

/** Who is on the other end of a request's connection: SO_PEERCRED on a unix socket, the address on TCP. */
function callerOf(sock: Socket): ControlCaller | undefined {
  if (sock.remoteAddress !== undefined) return { kind: 'tcp', address: sock.remoteAddress, port: sock.remotePort ?? 0 };
  // Node exposes no peer credentials: read them from the connection's descriptor through the addon.
  const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  try {
    return { kind: 'unix', ...peerCredentials(fd) };
  } catch {
    return undefined;
  }
}

function answerControl(req: IncomingMessage, res: ServerResponse, control: ControlEndpoint): void {
  const caller = callerOf(req.socket);
  let body = '';
  let tooBig = false;
  req.setEncoding('utf8');
  req.on('data', (c: string) => {
    body += c;
    if (body.length > MAX_CONTROL_BODY && !tooBig) {
      tooBig = true;
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ ok: false, message: 'request too large' }) + '\n');
      req.destroy();
    }
  });
  req.on('end', () => {
    if (tooBig) return;
    if (!caller) {
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, message: 'cannot tell who is calling (no peer credentials)' }) + '\n');
      return;
    }
    control(body, caller).then(
      (r) => {
        const { refusal: _r, ...out } = r;
        res.writeHead(httpStatusOf(r), { 'content-type': 'application/json' }).end(JSON.stringify(out) + '\n');
      },
      (e: Error) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, message: e.message }) + '\n'),
    );
  });
}

export interface StatusDocument {
  version: string;
  /** Node.js version running the daemon (process.version; the parent always sets it). */
  node?: string;
  pid: number;
  /** ISO time the parent started. */
  startedAt: string;
  /** rtDemotions: a real-time child's demotions at its *_rlimit_rttime soft limit (absent when not real-time). */
  children: Array<{ kind: string; pid?: number; restarts: number; rtDemotions?: number }>;
  reloads: { ok: number; refused: number };
  vrrp: InstanceStatusJson[];
  scripts: ScriptStatus[];
  checkers: CheckerStatus[];
  /** keepalived 2.2.7's JSON dump content. */
  keepalivedJson: unknown[];
  /** `ctl maintenance on` (as the VRRP child reports it; absent without a VRRP child). */
  maintenance?: boolean;
  /** The control interface (control.ts): commands counted by name and result. */
  ctl?: { commands: Array<{ command: string; result: string; count: number }> };
  /** The kernel's IPVS counters per service and destination (checker child; absent without IPVS). */
  ipvs?: IpvsTraffic[];
}

export type ListenTarget = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (addressFamily(host) === 4) return host.startsWith('127.');
  if (addressFamily(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Parses ADDR:PORT, [V6]:PORT or an absolute unix socket path; refuses non-loopback addresses unless forced. */
export function parseListen(spec: string, force = false): ListenTarget {
  if (spec.startsWith('/')) return { kind: 'unix', path: spec };
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(spec) ?? /^([^:]+):(\d+)$/.exec(spec);
  if (!m) throw new KtError('KT_DAEMON_STATUS_BAD_ADDRESS', `--status-listen ${spec}: expected ADDR:PORT, [IPv6]:PORT or /path/to.sock`);
  const host = m[1]!;
  const port = Number(m[2]);
  if (!(port > 0 && port < 65536)) throw new KtError('KT_DAEMON_STATUS_BAD_ADDRESS', `--status-listen ${spec}: bad port`);
  if (host !== 'localhost' && !addressFamily(host)) throw new KtError('KT_DAEMON_STATUS_BAD_ADDRESS', `--status-listen ${spec}: ${host} is not an IP address`);
  if (!force && !isLoopback(host))
    throw new KtError('KT_DAEMON_STATUS_NOT_LOOPBACK', `--status-listen ${spec}: not a loopback address; the endpoint has no authentication (use --status-listen-force to allow it)`);
  return { kind: 'tcp', host, port };
}

export interface StatusServerLimits {
  /**
   * Open connections at once. A connection beyond it takes the place of the oldest one that has not sent a whole
   * request yet (a slow or silent client); when every connection is serving a request, the new one is closed.
   */
  maxConnections: number;
  /** Time allowed for a client to send the request headers (slow clients are cut off). */
  headersTimeoutMs: number;
  /** Time allowed for the whole request. */
  requestTimeoutMs: number;
  /** An idle connection (keep-alive or silent) is closed after this. */
  idleTimeoutMs: number;
  /** A snapshot from the children is reused for this long by every request. */
  cacheMs: number;
}

export const DEFAULT_STATUS_LIMITS: StatusServerLimits = {
  maxConnections: 32,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  idleTimeoutMs: 5000,
  cacheMs: 1000,
};

/**
 * Wraps `collect` so that concurrent callers share one collection in flight and its result is reused for `ttlMs`
 * after it completes; a failure is not cached. `now` is injected for tests.
 */
export function cachedCollector<T>(collect: () => Promise<T>, ttlMs: number, now: () => number = () => performance.now()): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  let cached: { value: T; at: number } | undefined;
  return () => {
    if (cached && now() - cached.at < ttlMs) return Promise.resolve(cached.value);
    inFlight ??= collect().then(
      (value) => {
        cached = { value, at: now() };
        inFlight = undefined;
        return value;
      },
      (e: unknown) => {
        inFlight = undefined;
        throw e;
      },
    );
    return inFlight;
  };
}

function isOwnSocket(path: string): boolean {
  try {
    const st = lstatSync(path);
    return st.isSocket() && st.uid === (process.geteuid?.() ?? 0);
  } catch {
    return false;
  }
}

function unlinkOwnSocket(path: string): void {
  if (!isOwnSocket(path)) return;
  try {
    unlinkSync(path);
  } catch {
    /* gone meanwhile */
  }
}

/** One open connection as the admission rule sees it. */
export interface ConnectionEntry<K> {
  key: K;
  /** When it was accepted (ms, any monotonic clock). */
  acceptedAt: number;
  /** A complete request is being answered on it. */
  busy: boolean;
}

/**
 * Admission at the connection limit. Pure. Below the limit: admit. At it: evict the oldest connection that has not
 * sent a complete request (slow clients cannot starve a scrape by holding every slot); none: refuse the new one.
 */
export function admit<K>(open: readonly ConnectionEntry<K>[], max: number): { admit: true; evict?: K } | { admit: false } {
  if (open.length < max) return { admit: true };
  let oldest: ConnectionEntry<K> | undefined;
  for (const e of open) if (!e.busy && (!oldest || e.acceptedAt < oldest.acceptedAt)) oldest = e;
  return oldest ? { admit: true, evict: oldest.key } : { admit: false };
}

/**
 * Starts the HTTP server; `collect` gathers a document, shared by requests for `limits.cacheMs`. With `control`,
 * `POST /ctl` is the control interface (control.ts); without it, only GET and HEAD.
 */
export async function startStatusServer(
  target: ListenTarget,
  collect: () => Promise<StatusDocument>,
  limits: Partial<StatusServerLimits> = {},
  control?: ControlEndpoint,
): Promise<Server> {
  const l = { ...DEFAULT_STATUS_LIMITS, ...limits };
  const snapshot = cachedCollector(collect, l.cacheMs);
  const server = createServer(
    {
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs,
      keepAliveTimeout: l.idleTimeoutMs,
      // How often Node checks the two timeouts above (default 30 s would let a slow client stay that long).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(l.headersTimeoutMs / 4))),
      maxHeaderSize: 8192,
    },
    (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/ctl' && control) {
        if (req.method === 'POST') answerControl(req, res, control);
        else res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path !== '/status' && path !== '/metrics' && path !== '/keepalived.json') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /status, /metrics or /keepalived.json\n');
        return;
      }
      snapshot().then(
        (doc) => {
          if (path === '/metrics') res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(formatMetrics(doc));
          else {
            const body = path === '/status' ? doc : doc.keepalivedJson;
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 2) + '\n');
          }
        },
        (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`),
      );
    },
  );
  const open = new Map<Socket, ConnectionEntry<Socket>>();
  server.on('connection', (sock: Socket) => {
    const verdict = admit([...open.values()], l.maxConnections);
    if (!verdict.admit) {
      sock.destroy();
      return;
    }
    if (verdict.evict) {
      open.delete(verdict.evict);
      verdict.evict.destroy();
    }
    open.set(sock, { key: sock, acceptedAt: performance.now(), busy: false });
    sock.once('close', () => open.delete(sock));
  });
  server.on('request', (req, res) => {
    const e = open.get(req.socket);
    if (!e) return;
    e.busy = true;
    res.once('close', () => (e.busy = false));
  });
  // A silent connection is destroyed when idle (no 'timeout' listener on the server).
  server.setTimeout(l.idleTimeoutMs);
  // Only a stale socket of ours from a crashed run is removed: never a file, a link or someone else's socket.
  if (target.kind === 'unix') unlinkOwnSocket(target.path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (target.kind === 'unix') server.listen(target.path, resolve);
    else server.listen(target.port, target.host, resolve);
  });
  if (target.kind === 'unix') {
    // chmod follows links: only while the name still is our socket (swapping it in between needs write access to
    // its directory; keep the socket in /run, not in /tmp).
    if (isOwnSocket(target.path)) chmodSync(target.path, 0o660);
  }
  return server;
}

export async function stopStatusServer(server: Server, target: ListenTarget): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  if (target.kind === 'unix') unlinkOwnSocket(target.path);
}
