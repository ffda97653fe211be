// What the VRRP shell needs of a split-brain guard's lock client, and the one place that picks the client for a
// vrrp_guard's service (ZooKeeper or etcd). The clients make no decision: the node (vrrp/guard.ts rules) says which
// locks it wants and when a session must go; the clients report what the service said, with the monotonic time
// their confirmed requests were sent.
import type { Logger } from 'pino';
import type { VrrpGuard } from '../config/model/index.js';
import type { NodeInput } from '../vrrp/node.js';
import { EtcdGuardClient } from './etcd.js';
import { ZookeeperGuardClient } from './zookeeper.js';

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

export function openGuardClient(spec: VrrpGuard, opts: GuardClientOptions): GuardClient {
  return spec.backend === 'etcd' ? new EtcdGuardClient(spec, opts) : new ZookeeperGuardClient(spec, opts);
}
