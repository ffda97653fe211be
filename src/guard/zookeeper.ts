// The split-brain guard's ZooKeeper client (a shell; src/guard/ holds the lock clients): one session per vrrp_guard,
// the standard lock recipe per lock key (an ephemeral sequential node under PATH/KEY, the lowest holds it, the others
// watch their predecessor), and a heartbeat whose replies tell the node when the server last renewed the session
// (vrrp/guard.ts safeDeadline). It makes no decision: the node says which locks it wants and when to drop the
// session; this reports what the server says.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createRequire } from 'node:module';
import type * as Zk from 'node-zookeeper-client';
import type { Logger } from 'pino';
import type { VrrpGuard } from '../config/model/index.js';
import { LockKeyClient, type GuardClient, type GuardClientOptions } from './guard-client.js';

/** The ZooKeeper client package (this module loads at the first ZooKeeper guard: guard-client.ts). */
let zkLib: typeof Zk | undefined;
const zk = (): typeof Zk => (zkLib ??= createRequire(import.meta.url)('node-zookeeper-client') as typeof Zk);

interface LockNode {
  /** Our node's full path, once created in this session. */
  path?: string;
  held: boolean;
}

const seqOf = (name: string): number => Number(name.slice(-10));

export class ZookeeperGuardClient extends LockKeyClient implements GuardClient {
  private client?: Zk.Client;
  /** Bumped with each new session: replies and watches of an older client are ignored. */
  private gen = 0;
  private readonly nodes = new Map<string, LockNode>();
  /** In our node names, so a create whose reply was lost is found again instead of left behind. */
  private readonly tag = randomBytes(6).toString('hex');
  private heartbeat?: NodeJS.Timeout;
  private closed = false;
  protected readonly log: Logger;

  constructor(readonly spec: VrrpGuard, private readonly opts: GuardClientOptions) {
    super();
    this.log = opts.log.child({ guard: spec.name });
  }

  start(): void {
    this.open();
  }

  /** The safe deadline passed: this session's locks no longer count; start a fresh session. */
  reset(): void {
    if (this.closed) return;
    this.log.warn('dropping the session; a new one will ask again for the wanted locks');
    this.dropClient();
    this.open();
  }

  /** Stop: closing the session deletes its lock nodes at once (SIGTERM releases promptly). */
  async close(timeoutMs = 2000): Promise<void> {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    const c = this.client;
    this.client = undefined;
    this.gen++;
    if (!c) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      c.once('disconnected', () => { clearTimeout(t); resolve(); });
      c.close();
    });
  }

  // ---- session ----------------------------------------------------------------------------------------------------

  private open(): void {
    const gen = ++this.gen;
    const c = zk().createClient(this.spec.endpoints.join(','), { sessionTimeout: this.spec.sessionTimeoutMs, spinDelay: 200, retries: 0 });
    this.client = c;
    for (const n of this.nodes.values()) { n.path = undefined; n.held = false; }
    this.dropQueues();
    c.on('state', (st: Zk.State) => {
      if (gen !== this.gen) return;
      if (st === zk().State.SYNC_CONNECTED) {
        this.log.info({ sessionTimeoutMs: c.getSessionTimeout() }, 'connected to ZooKeeper');
        this.beat();
        // The wanted keys, and those given back whose node a dropped connection may have left behind.
        for (const key of new Set([...this.wanted, ...this.nodes.keys()])) this.onKey(key, () => (this.wanted.has(key) ? this.acquire(key) : this.cleanup(key)));
      } else if (st === zk().State.DISCONNECTED) {
        this.opts.input({ type: 'guard-session', guard: this.spec.name, event: 'disconnected' });
      } else if (st === zk().State.EXPIRED) {
        this.opts.input({ type: 'guard-session', guard: this.spec.name, event: 'expired' });
        this.dropClient();
        if (!this.closed) this.open();
      }
    });
    c.connect();
    if (this.heartbeat) clearInterval(this.heartbeat);
    // Several renewals per safe window, so one lost reply never costs the lock.
    this.heartbeat = setInterval(() => this.beat(), Math.max(50, Math.floor(this.spec.sessionTimeoutMs / 6)));
  }

  private dropClient(): void {
    const c = this.client;
    this.client = undefined;
    this.gen++;
    for (const [key, n] of this.nodes) {
      if (n.held) this.opts.input({ type: 'guard-lock', guard: this.spec.name, key, held: false });
      n.path = undefined;
      n.held = false;
    }
    if (c) { c.removeAllListeners('state'); c.close(); }
  }

  /** Any reply renews what the server granted; the time the request left is what counts (guard.ts). */
  private beat(): void {
    const c = this.client;
    if (!c || c.getState() !== zk().State.SYNC_CONNECTED) return;
    const gen = this.gen;
    const sentAt = this.opts.now();
    c.exists('/', (err) => {
      if (err || gen !== this.gen) return;
      const timeoutMs = Math.min(this.spec.sessionTimeoutMs, c.getSessionTimeout() || this.spec.sessionTimeoutMs);
      this.opts.input({ type: 'guard-session', guard: this.spec.name, event: 'ack', sentAt, timeoutMs });
    });
  }

  // ---- the lock recipe --------------------------------------------------------------------------------------------

  private nodeOf(key: string): LockNode {
    let n = this.nodes.get(key);
    if (!n) this.nodes.set(key, (n = { held: false }));
    return n;
  }

  private dir(key: string): string {
    return `${this.spec.path}/${key}`;
  }

  private call<T>(fn: (c: Zk.Client, cb: (err: Error | Zk.Exception | null, v: T) => void) => void): Promise<T> {
    const c = this.client;
    if (!c) return Promise.reject(new Error('no session'));
    // A request of a client that is dropped or never reconnects gets no callback: give up after the session timeout.
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no reply within the session timeout')), this.spec.sessionTimeoutMs);
      fn(c, (err, v) => { clearTimeout(t); if (err) reject(err instanceof Error ? err : new Error(String(err))); else resolve(v); });
    });
  }

  protected async acquire(key: string): Promise<void> {
    if (!this.wanted.has(key) || !this.client || this.client.getState() !== zk().State.SYNC_CONNECTED) return;
    const n = this.nodeOf(key);
    const gen = this.gen;
    if (!n.path) {
      const dir = this.dir(key);
      await this.call<string>((c, cb) => c.mkdirp(dir, cb));
      const children = await this.call<string[]>((c, cb) => c.getChildren(dir, cb));
      const mine = children.find((ch) => ch.startsWith(`${this.tag}-`));
      if (gen !== this.gen) return;
      const data = Buffer.from(JSON.stringify({ host: hostname(), pid: process.pid }));
      n.path = mine ? `${dir}/${mine}` : await this.call<string>((c, cb) => c.create(`${dir}/${this.tag}-`, data, zk().CreateMode.EPHEMERAL_SEQUENTIAL, cb));
      if (gen !== this.gen) return;
    }
    await this.check(key, gen);
  }

  /** Lowest sequence holds the lock; otherwise watch the one just before ours and look again when it goes. */
  private async check(key: string, gen: number): Promise<void> {
    const n = this.nodeOf(key);
    if (gen !== this.gen || !n.path || !this.wanted.has(key)) return;
    const dir = this.dir(key);
    const children = (await this.call<string[]>((c, cb) => c.getChildren(dir, cb))).sort((a, b) => seqOf(a) - seqOf(b));
    if (gen !== this.gen) return;
    const mine = n.path.slice(dir.length + 1);
    const at = children.indexOf(mine);
    if (at < 0) { n.path = undefined; return this.acquire(key); } // our node is gone: ask again
    if (at === 0) {
      const stat = await this.call<Zk.Stat>((c, cb) => c.exists(n.path!, cb));
      if (gen !== this.gen || !stat) return;
      const token = stat.czxid.readBigUInt64BE(0).toString();
      if (!n.held) {
        n.held = true;
        this.log.info({ key, token }, `lock ${key} acquired`);
        this.opts.input({ type: 'guard-lock', guard: this.spec.name, key, held: true, token });
      }
      return;
    }
    const pred = `${dir}/${children[at - 1]!}`;
    const stat = await this.call<Zk.Stat | null>((c, cb) => c.exists(pred, () => this.onKey(key, () => this.check(key, gen)), cb));
    if (!stat) return this.check(key, gen);
  }

  /** A release that failed on a dropped connection left our node behind in a session that lived on: remove it. */
  private async cleanup(key: string): Promise<void> {
    if (this.wanted.has(key) || !this.client) return;
    const dir = this.dir(key);
    const children = await this.call<string[]>((c, cb) => c.getChildren(dir, cb)).catch(() => [] as string[]);
    for (const ch of children.filter((x) => x.startsWith(`${this.tag}-`)))
      await this.call<void>((c, cb) => c.remove(`${dir}/${ch}`, -1, cb as (e: Error | Zk.Exception | null) => void)).catch(() => undefined);
  }

  protected async release(key: string): Promise<void> {
    const n = this.nodeOf(key);
    const path = n.path;
    n.path = undefined;
    if (n.held) {
      n.held = false;
      this.opts.input({ type: 'guard-lock', guard: this.spec.name, key, held: false });
    }
    if (!path || !this.client) return;
    await this.call<void>((c, cb) => c.remove(path, -1, cb as (e: Error | Zk.Exception | null) => void)).catch(() => undefined);
    this.log.info({ key }, `lock ${key} released`);
  }
}
