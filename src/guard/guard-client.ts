// What the VRRP shell needs of a split-brain guard's lock client, what both clients share (the wanted lock keys and a
// serial queue per key), and the one place that picks the client for a vrrp_guard's service (ZooKeeper or etcd). The
// clients make no decision: the node (vrrp/guard.ts rules) says which locks it wants and when a session must go; the
// clients report what the service said, with the monotonic time their confirmed requests were sent.
import type { Logger } from 'pino';
import type { VrrpGuard } from '../config/model/index.js';
import type { NodeInput } from '../vrrp/node.js';

export type GuardInput = Extract<NodeInput, { type: 'guard-session' | 'guard-lock' }>;

export interface GuardClientOptions {
  log: Logger;
  /** Monotonic ms, the node's clock. */
  now: () => number;
  /** Hands what the service said to the node. */
  input: (i: GuardInput) => void;
}

export interface GuardClient {
  readonly spec: VrrpGuard;
  start(): void;
  /** The node asks for a lock or gives it back. */
  want(key: string, want: boolean): void;
  /** The safe deadline passed: this session's locks no longer count; start a fresh session. */
  reset(): void;
  /** Stop: the session ends and its locks go at once (SIGTERM releases promptly). */
  close(timeoutMs?: number): Promise<void>;
}

export const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * The wanted lock keys, and per key a serial queue: the operations on one key (take, give back, look again) run one
 * after another, so a give-back never overtakes the take it undoes.
 */
export abstract class LockKeyClient {
  protected readonly wanted = new Set<string>();
  private queues = new Map<string, { chain: Promise<void>; pending: number }>();
  protected abstract readonly log: Logger;

  want(key: string, want: boolean): void {
    if (want) this.wanted.add(key);
    else this.wanted.delete(key);
    this.onKey(key, () => (want ? this.acquire(key) : this.release(key)));
  }

  protected abstract acquire(key: string): Promise<void>;
  protected abstract release(key: string): Promise<void>;

  /** Queues work on a key; a failure is logged and the queue goes on. */
  protected onKey(key: string, work: () => Promise<void>): void {
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = { chain: Promise.resolve(), pending: 0 }));
    const queue = q;
    queue.pending++;
    queue.chain = queue.chain
      .then(work)
      .catch((e: unknown) => this.log.warn({ key, err: errText(e) }, `lock ${key}: ${errText(e)}`))
      .finally(() => { queue.pending--; });
  }

  /** Work queued or running on a key. */
  protected pending(key: string): number {
    return this.queues.get(key)?.pending ?? 0;
  }

  /** A dropped session's work may never be answered: the next session's must not queue behind it. */
  protected dropQueues(): void {
    this.queues = new Map();
  }
}

type GuardClientClass = new (spec: VrrpGuard, opts: GuardClientOptions) => GuardClient;

/** A client's module (and node:http or the ZooKeeper package with it) loads at the first vrrp_guard of its kind. */
const loadClient = (backend: VrrpGuard['backend']): Promise<GuardClientClass> =>
  backend === 'etcd'
    ? import('./etcd.js').then((m) => m.EtcdGuardClient)
    : import('./zookeeper.js').then((m) => m.ZookeeperGuardClient);

/** Hands the calls made while the client's module loads to the client once it is there, in order. */
class LoadingGuardClient implements GuardClient {
  private client?: GuardClient;
  private waiting: Array<(c: GuardClient) => void> = [];
  private closed = false;

  constructor(readonly spec: VrrpGuard, opts: GuardClientOptions) {
    loadClient(spec.backend).then(
      (Client) => {
        if (this.closed) return; // closed before it opened: no session to end
        const c = new Client(spec, opts);
        this.client = c;
        for (const f of this.waiting) f(c);
        this.waiting = [];
      },
      (e: unknown) => opts.log.error({ guard: spec.name, err: errText(e) }, `vrrp_guard ${spec.name}: cannot load the ${spec.backend} client: ${errText(e)}`),
    );
  }

  private to(f: (c: GuardClient) => void): void {
    if (this.client) f(this.client);
    else if (!this.closed) this.waiting.push(f);
  }

  start(): void { this.to((c) => c.start()); }
  want(key: string, want: boolean): void { this.to((c) => c.want(key, want)); }
  reset(): void { this.to((c) => c.reset()); }

  async close(timeoutMs?: number): Promise<void> {
    this.closed = true;
    this.waiting = [];
    await this.client?.close(timeoutMs);
  }
}

export function openGuardClient(spec: VrrpGuard, opts: GuardClientOptions): GuardClient {
  return new LoadingGuardClient(spec, opts);
}
