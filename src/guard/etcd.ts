// The split-brain guard's etcd client (a shell; src/guard/ holds the lock clients), over etcd's JSON gateway
// (POST /v3/...) with node:http: one lease per vrrp_guard (TTL = session_timeout), kept alive every T/6; per lock key
// etcd's concurrency recipe (etcd-lock.ts: our key under PATH/KEY/ with the lease, lowest create revision holds the
// lock, the others watch their predecessor). Each request goes to the endpoint that answered last and fails over to
// the next; the service counts as unreachable only when no endpoint answered. It makes no decision: the node says
// which locks it wants and when to drop the lease; this reports what etcd said and when the confirmed request left
// (vrrp/guard.ts safeDeadline). README "Split-brain guard" says why not the etcd3 package.
import { request, Agent, type ClientRequest } from 'node:http';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { VrrpGuard } from '../config/model/index.js';
import { KtError } from '../util/errors.js';
import { LockKeyClient, errText, type GuardClient, type GuardClientOptions } from './guard-client.js';
import { etcdB64, etcdLeaseTtlS, etcdLockKey, etcdLockPosition, etcdLockPrefix, etcdPrefixEnd, etcdSessionTimeoutMs, type EtcdKv } from './etcd-lock.js';

interface EtcdLock {
  /** Our key for this lock under the current lease, once put. */
  ourKey?: string;
  /** A key of ours whose delete got no answer: deleted again when etcd answers (else it would queue others). */
  leftover?: string;
  held: boolean;
  /** The open watch on our predecessor. */
  watch?: ClientRequest;
}

/** gRPC codes that say the request was wrong or its object is gone, not that the endpoint failed. */
const REFUSALS = new Set([3, 5, 9]); // InvalidArgument, NotFound (e.g. lease not found), FailedPrecondition

export class EtcdGuardClient extends LockKeyClient implements GuardClient {
  /** Bumped with each new lease: replies and watches of an older one are ignored. */
  private gen = 0;
  private lease?: string;
  /** Index of the endpoint that answered last. */
  private ep = 0;
  private connected = false;
  private beating = false;
  private closed = false;
  private heartbeat?: NodeJS.Timeout;
  private readonly locks = new Map<string, EtcdLock>();
  private readonly agent = new Agent({ keepAlive: true });
  protected readonly log: Logger;
  private readonly value = JSON.stringify({ host: hostname(), pid: process.pid });

  constructor(readonly spec: VrrpGuard, private readonly opts: GuardClientOptions) {
    super();
    this.log = opts.log.child({ guard: spec.name });
  }

  start(): void {
    // Several renewals per safe window, so one lost reply or one dead member never costs the lock.
    this.heartbeat = setInterval(() => this.beat(), Math.max(50, Math.floor(this.spec.sessionTimeoutMs / 6)));
    this.beat();
  }

  reset(): void {
    if (this.closed) return;
    // Not revoked: the service did not answer for most of the TTL; the lease expires there by itself.
    this.log.warn('dropping the lease; a new one will ask again for the wanted locks');
    this.dropLease();
    this.beat();
  }

  /** Stop: revoking the lease deletes its lock keys at once (SIGTERM releases promptly). */
  async close(timeoutMs = 2000): Promise<void> {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    const lease = this.lease;
    this.gen++;
    this.lease = undefined;
    for (const l of this.locks.values()) this.unwatch(l);
    if (lease) {
      const each = Math.max(100, Math.floor(timeoutMs / this.spec.endpoints.length));
      await this.post('/v3/lease/revoke', { ID: lease }, each).catch((e: unknown) => this.log.warn(`lease not revoked (${errText(e)}); it expires by itself`));
    }
    this.agent.destroy();
  }

  // ---- the lease ----------------------------------------------------------------------------------------------------

  private beat(): void {
    if (this.closed || this.beating) return;
    this.beating = true;
    void (this.lease ? this.keepalive() : this.grant()).finally(() => { this.beating = false; });
  }

  private async grant(): Promise<void> {
    const gen = this.gen;
    const sentAt = this.opts.now();
    let r: { ID?: string; TTL?: string };
    try {
      r = await this.post('/v3/lease/grant', { TTL: etcdLeaseTtlS(this.spec.sessionTimeoutMs) });
    } catch (e) {
      return this.unreachable(e);
    }
    if (gen !== this.gen || this.closed || !r.ID) return; // an orphan lease holds no key and expires by itself
    this.lease = r.ID;
    const timeoutMs = etcdSessionTimeoutMs(this.spec.sessionTimeoutMs, r.TTL);
    this.log.info({ lease: r.ID }, `connected to etcd at ${this.spec.endpoints[this.ep]} (lease ${BigInt(r.ID).toString(16)}, TTL ${Number(r.TTL)} s)`);
    this.confirmed(sentAt, timeoutMs);
    for (const key of this.wanted) this.onKey(key, () => this.acquire(key));
  }

  /** A reply renews the lease from when the leader handled it, which is after the request left: sentAt counts. */
  private async keepalive(): Promise<void> {
    const gen = this.gen;
    const lease = this.lease!;
    const sentAt = this.opts.now();
    let r: { result?: { TTL?: string } };
    try {
      r = await this.post('/v3/lease/keepalive', { ID: lease });
    } catch (e) {
      return this.unreachable(e);
    }
    if (gen !== this.gen) return;
    const ttl = r.result?.TTL;
    if (!ttl || Number(ttl) <= 0) {
      this.log.warn({ lease }, 'etcd expired our lease; its locks are gone');
      this.opts.input({ type: 'guard-session', guard: this.spec.name, event: 'expired' });
      this.dropLease();
      return this.grant();
    }
    this.confirmed(sentAt, etcdSessionTimeoutMs(this.spec.sessionTimeoutMs, ttl));
    // A watch lost with its connection, or a lock request that failed, is tried again while etcd answers.
    for (const [key, l] of this.locks) {
      if (this.pending(key) > 0) continue;
      if (this.wanted.has(key) && !l.held && !l.watch) this.onKey(key, () => this.acquire(key));
      else if (!this.wanted.has(key) && l.leftover) this.onKey(key, () => this.cleanup(key));
    }
  }

  private confirmed(sentAt: number, timeoutMs: number): void {
    if (!this.connected) this.connected = true;
    this.opts.input({ type: 'guard-session', guard: this.spec.name, event: 'ack', sentAt, timeoutMs });
  }

  private unreachable(e: unknown): void {
    if (this.closed) return;
    for (const l of this.locks.values()) this.unwatch(l); // their connections may be as dead
    if (!this.connected) return;
    this.connected = false;
    this.log.warn(`etcd unreachable: ${errText(e)}`);
    this.opts.input({ type: 'guard-session', guard: this.spec.name, event: 'disconnected' });
  }

  private dropLease(): void {
    this.gen++;
    this.lease = undefined;
    for (const [key, l] of this.locks) {
      this.unwatch(l);
      if (l.held) this.opts.input({ type: 'guard-lock', guard: this.spec.name, key, held: false });
      l.held = false;
      l.ourKey = undefined;
      l.leftover = undefined; // went with the lease
    }
    this.dropQueues();
  }

  // ---- the lock recipe ----------------------------------------------------------------------------------------------

  private lockOf(key: string): EtcdLock {
    let l = this.locks.get(key);
    if (!l) this.locks.set(key, (l = { held: false }));
    return l;
  }

  protected async acquire(key: string): Promise<void> {
    const lease = this.lease;
    const gen = this.gen;
    if (!this.wanted.has(key) || !lease) return;
    const l = this.lockOf(key);
    if (!l.ourKey) {
      const ourKey = etcdLockKey(this.spec.path, key, lease);
      // Put only if absent: a put whose reply was lost is not made twice (which would move its create revision).
      await this.post('/v3/kv/txn', {
        compare: [{ key: etcdB64(ourKey), target: 'CREATE', create_revision: '0' }],
        success: [{ request_put: { key: etcdB64(ourKey), value: etcdB64(this.value), lease } }],
        failure: [],
      });
      if (gen !== this.gen) return;
      l.ourKey = ourKey;
    }
    await this.check(key, gen);
  }

  /** Lowest create revision holds the lock; otherwise watch the key just before ours and look again when it goes. */
  private async check(key: string, gen: number): Promise<void> {
    const l = this.lockOf(key);
    if (gen !== this.gen || !l.ourKey || !this.wanted.has(key)) return;
    const prefix = etcdLockPrefix(this.spec.path, key);
    const r = await this.post<{ header?: { revision?: string }; kvs?: EtcdKv[] }>('/v3/kv/range',
      { key: etcdB64(prefix), range_end: etcdB64(etcdPrefixEnd(prefix)), keys_only: true });
    if (gen !== this.gen || !l.ourKey || !this.wanted.has(key)) return;
    const pos = etcdLockPosition(r.kvs ?? [], l.ourKey);
    if (pos.kind === 'missing') {
      if (l.held) { l.held = false; this.opts.input({ type: 'guard-lock', guard: this.spec.name, key, held: false }); }
      l.ourKey = undefined;
      return this.acquire(key);
    }
    if (pos.kind === 'held') {
      this.unwatch(l);
      if (!l.held) {
        l.held = true;
        this.log.info({ key, token: pos.token }, `lock ${key} acquired (token ${pos.token})`);
        this.opts.input({ type: 'guard-lock', guard: this.spec.name, key, held: true, token: pos.token });
      }
      return;
    }
    this.watchDelete(key, gen, pos.predecessor, BigInt(r.header?.revision ?? '0') + 1n);
  }

  /** Watches `pred` from the revision after our range read, so a delete in between is not missed. */
  private watchDelete(key: string, gen: number, pred: string, fromRev: bigint): void {
    const l = this.lockOf(key);
    this.unwatch(l);
    const url = `${this.spec.endpoints[this.ep]!.replace(/\/$/, '')}/v3/watch`;
    // Its own connection (no agent): it stays open as long as we wait.
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } });
    l.watch = req;
    let fired = false;
    const again = (): void => {
      if (fired) return;
      fired = true;
      if (l.watch === req) this.unwatch(l);
      if (gen === this.gen) this.onKey(key, () => this.check(key, gen));
    };
    req.on('response', (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          try {
            const m = JSON.parse(line) as { result?: { canceled?: boolean; events?: Array<{ type?: string }> }; error?: unknown };
            if (m.error || m.result?.canceled || m.result?.events?.some((ev) => ev.type === 'DELETE')) again();
          } catch { again(); }
        }
      });
      res.on('end', again);
      res.on('error', () => { if (l.watch === req) l.watch = undefined; });
    });
    // A broken watch is looked at again by the next keepalive that gets an answer.
    req.on('error', () => { if (l.watch === req) l.watch = undefined; });
    req.end(JSON.stringify({ create_request: { key: etcdB64(pred), start_revision: fromRev.toString() } }));
  }

  private unwatch(l: EtcdLock): void {
    const w = l.watch;
    l.watch = undefined;
    w?.destroy();
  }

  protected async release(key: string): Promise<void> {
    const l = this.lockOf(key);
    const ourKey = l.ourKey;
    l.ourKey = undefined;
    this.unwatch(l);
    if (l.held) {
      l.held = false;
      this.opts.input({ type: 'guard-lock', guard: this.spec.name, key, held: false });
    }
    if (!ourKey || !this.lease) return;
    try {
      await this.post('/v3/kv/deleterange', { key: etcdB64(ourKey) });
      this.log.info({ key }, `lock ${key} released`);
    } catch (e) {
      l.leftover = ourKey;
      throw e;
    }
  }

  private async cleanup(key: string): Promise<void> {
    const l = this.lockOf(key);
    const k = l.leftover;
    if (!k || this.wanted.has(key)) return;
    await this.post('/v3/kv/deleterange', { key: etcdB64(k) });
    if (l.leftover === k) l.leftover = undefined;
  }

  // ---- requests -----------------------------------------------------------------------------------------------------

  /** Per-request timeout: a quarter of the session timeout (250 ms to 2 s), so a dead member costs little of it. */
  private requestTimeoutMs(): number {
    return Math.min(2000, Math.max(250, Math.floor(this.spec.sessionTimeoutMs / 4)));
  }

  /** Tries the endpoints in turn from the one that answered last; throws when none answered. */
  private async post<T>(path: string, body: unknown, timeoutMs = this.requestTimeoutMs()): Promise<T> {
    const n = this.spec.endpoints.length;
    let last: unknown;
    for (let i = 0; i < n; i++) {
      const at = this.ep;
      try {
        return await this.once<T>(this.spec.endpoints[at]!, path, body, timeoutMs);
      } catch (e) {
        if (e instanceof KtError && e.code === 'KT_GUARD_ETCD_REFUSED') throw e;
        last = e;
        if (this.ep === at) this.ep = (at + 1) % n;
      }
    }
    throw new KtError('KT_GUARD_UNREACHABLE', `no etcd endpoint answered: ${errText(last)}`);
  }

  private once<T>(endpoint: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
    const data = JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(`${endpoint.replace(/\/$/, '')}${path}`, {
        method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      });
      const timer = setTimeout(() => req.destroy(new KtError('KT_GUARD_TIMEOUT', `${endpoint}: no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (e) => { clearTimeout(timer); reject(e); });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { text += d; });
        res.on('error', (e) => { clearTimeout(timer); reject(e); });
        res.on('end', () => {
          clearTimeout(timer);
          let j: { error?: unknown; code?: number; message?: string };
          try { j = JSON.parse(text) as typeof j; } catch { return reject(new KtError('KT_GUARD_ETCD_FAILED', `${endpoint}${path}: HTTP ${res.statusCode}, not JSON`)); }
          // Unary errors: {error, code, message}; a stream's: {error: {grpc_code, message}} with status 200.
          const se = typeof j.error === 'object' && j.error !== null ? j.error as { grpc_code?: number; message?: string } : undefined;
          const code = se?.grpc_code ?? j.code;
          if (res.statusCode !== 200 || j.error !== undefined) {
            const msg = `${endpoint}${path}: ${se?.message ?? j.message ?? `HTTP ${res.statusCode}`}`;
            return reject(new KtError(code !== undefined && REFUSALS.has(code) ? 'KT_GUARD_ETCD_REFUSED' : 'KT_GUARD_ETCD_FAILED', msg));
          }
          resolve(j as T);
        });
      });
      req.end(data);
    });
  }
}
