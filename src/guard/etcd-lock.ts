// The split-brain guard's etcd lock recipe as pure functions over what etcd's JSON gateway answers (etcd's
// concurrency Mutex): each director puts PATH/KEY/<lease id in hex> with its lease; the key with the lowest create
// revision holds the lock and its create revision is the fencing token; every other director watches the key just
// before its own. src/guard/etcd.ts does the requests; this only names keys and reads replies.

/** The etcd key prefix of one lock: every director's key for it lies below. */
export function etcdLockPrefix(path: string, key: string): string {
  return `${path}/${key}/`;
}

/** Our key in a lock: the lease id, so a put whose reply was lost is the same key when tried again. */
export function etcdLockKey(path: string, key: string, leaseId: string): string {
  return `${etcdLockPrefix(path, key)}${BigInt(leaseId).toString(16)}`;
}

/** etcd's range_end for "every key with this prefix": the prefix with its last byte plus one. */
export function etcdPrefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  let i = b.length - 1;
  while (i >= 0 && b[i] === 0xff) i--;
  if (i < 0) return Buffer.from([0]); // all 0xff: to the end of the keyspace
  const end = Buffer.from(b.subarray(0, i + 1));
  end[i]! += 1;
  return end;
}

export const etcdB64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

/** One key of a range reply (the gateway's JSON: bytes in base64, int64 as decimal strings). */
export interface EtcdKv {
  key: string;
  create_revision?: string;
}

/** Where our key stands among a lock's keys. */
export type EtcdLockPosition =
  /** Our key has the lowest create revision: the lock is ours; the token is that revision. */
  | { kind: 'held'; token: string }
  /** Another key was created before ours: watch the one just before (`predecessor`, decoded). */
  | { kind: 'waiting'; predecessor: string }
  /** Our key is not there (deleted, or its lease expired): put it again. */
  | { kind: 'missing' };

/** Lowest create revision wins; the others queue behind the key created just before theirs. */
export function etcdLockPosition(kvs: readonly EtcdKv[], ourKey: string): EtcdLockPosition {
  const keys = kvs
    .map((kv) => ({ key: Buffer.from(kv.key, 'base64').toString(), rev: BigInt(kv.create_revision ?? '0') }))
    .sort((a, b) => (a.rev < b.rev ? -1 : a.rev > b.rev ? 1 : 0));
  const at = keys.findIndex((k) => k.key === ourKey);
  if (at < 0) return { kind: 'missing' };
  if (at === 0) return { kind: 'held', token: keys[0]!.rev.toString() };
  return { kind: 'waiting', predecessor: keys[at - 1]!.key };
}

/** The lease TTL to ask for: whole seconds, at least the session timeout (etcd may grant more, never less). */
export function etcdLeaseTtlS(sessionTimeoutMs: number): number {
  return Math.max(1, Math.ceil(sessionTimeoutMs / 1000));
}

/**
 * The timeout the node's deadline counts with: what we asked for, or less if the server granted less. etcd raises a
 * TTL below its minimum (1.5 election timeouts, 2 s by default) and never lowers one; either way the server cannot
 * expire the lease sooner than the granted TTL after a renewal, so the smaller of the two is safe.
 */
export function etcdSessionTimeoutMs(sessionTimeoutMs: number, grantedTtl: string | undefined): number {
  const granted = Number(grantedTtl ?? 0) * 1000;
  return granted > 0 ? Math.min(sessionTimeoutMs, granted) : sessionTimeoutMs;
}
