// Split-brain guard on etcd (issue 10): the lock recipe's pure part (src/guard/etcd-lock.ts), i.e. etcd's concurrency
// Mutex read from the JSON gateway's replies: keys under PATH/KEY/ named by lease, lowest create revision holds the
// lock (its revision is the fencing token), the others wait on the key created just before theirs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdB64, etcdLeaseTtlS, etcdLockKey, etcdLockPosition, etcdLockPrefix, etcdPrefixEnd, etcdSessionTimeoutMs } from '../../src/guard/etcd-lock.js';

const kv = (key: string, rev: number): { key: string; create_revision: string } => ({ key: etcdB64(key), create_revision: String(rev) });

test('keys: one prefix per lock, our key named by the lease id in hex, the prefix range ends one byte past', () => {
  assert.equal(etcdLockPrefix('/kt/lab', 'vrid-51-eth0'), '/kt/lab/vrid-51-eth0/');
  assert.equal(etcdLockKey('/kt/lab', 'group-G1', '824055701711211786'), '/kt/lab/group-G1/b6fa24b6fa1cd0a');
  assert.equal(etcdPrefixEnd('/kt/a/').toString(), '/kt/a0');
  assert.equal(etcdPrefixEnd('/kt/z').toString(), '/kt/{');
});

test('lowest create revision holds the lock; the token is its revision; the others watch their predecessor', () => {
  const p = '/kt/l/vrid-1-eth0/';
  const kvs = [kv(`${p}c`, 30), kv(`${p}a`, 12), kv(`${p}b`, 17)];
  assert.deepEqual(etcdLockPosition(kvs, `${p}a`), { kind: 'held', token: '12' });
  assert.deepEqual(etcdLockPosition(kvs, `${p}b`), { kind: 'waiting', predecessor: `${p}a` });
  assert.deepEqual(etcdLockPosition(kvs, `${p}c`), { kind: 'waiting', predecessor: `${p}b` });
  assert.deepEqual(etcdLockPosition(kvs, `${p}d`), { kind: 'missing' });
  // Revisions compare as numbers, not text (int64 arrives as a decimal string).
  assert.deepEqual(etcdLockPosition([kv(`${p}x`, 100), kv(`${p}y`, 99)], `${p}y`), { kind: 'held', token: '99' });
});

test('lease TTL: whole seconds asked (at least the session timeout); the deadline counts with the smaller of asked and granted', () => {
  assert.equal(etcdLeaseTtlS(3000), 3);
  assert.equal(etcdLeaseTtlS(2500), 3);
  assert.equal(etcdLeaseTtlS(500), 1);
  assert.equal(etcdSessionTimeoutMs(3000, '3'), 3000);
  assert.equal(etcdSessionTimeoutMs(2500, '3'), 2500);
  // etcd raises a TTL below its minimum (2 s by default): the server expires later, our deadline stays.
  assert.equal(etcdSessionTimeoutMs(1000, '2'), 1000);
  // A server that granted less than asked shortens the deadline.
  assert.equal(etcdSessionTimeoutMs(6000, '4'), 4000);
  assert.equal(etcdSessionTimeoutMs(6000, undefined), 6000);
});
