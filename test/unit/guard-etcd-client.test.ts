// Split-brain guard on etcd (issue 10): the client shell (src/guard/etcd.ts) against a small stand-in for etcd's JSON
// gateway on loopback, for what a real cluster makes hard to force: which endpoint answers. What the node is told is
// asserted: a dead member among live ones is not an outage (no `disconnected`), no member answering is one (once), a
// keepalive that finds the lease gone is the session expiring, and the lock goes to the key created first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EtcdGuardClient } from '../../src/guard/etcd.js';
import { openGuardClient, type GuardInput } from '../../src/guard/guard-client.js';
import type { VrrpGuard } from '../../src/config/model/index.js';
import { memoryLog } from '../helpers/memory-log.js';
import { waitFor } from '../helpers/lab.js';

/** Just enough of etcd's gateway: leases, put-if-absent, prefix range, delete, revoke (no watch: the client's
 * keepalive re-checks a waiting lock when its watch is gone). */
class FakeEtcd {
  rev = 1;
  readonly leases = new Map<string, number>();
  readonly kv = new Map<string, { create: number; lease: string }>();
  /** false: answer nothing (a partitioned member); the connection stays open. */
  answering = true;
  /** The next keepalive reports the lease gone. */
  expireNext = false;
  private nextLease = 100;
  readonly server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => {
      if (!this.answering) return;
      const j = JSON.parse(body || '{}') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const dec = (b: string): string => Buffer.from(b, 'base64').toString();
      const reply = (o: unknown): void => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(o)); };
      switch (req.url) {
        case '/v3/lease/grant': { const id = String(this.nextLease++); this.leases.set(id, j.TTL); return reply({ ID: id, TTL: String(j.TTL) }); }
        case '/v3/lease/keepalive':
          if (this.expireNext || !this.leases.has(j.ID)) { this.expireNext = false; this.revoke(j.ID); return reply({ result: { ID: j.ID } }); }
          return reply({ result: { ID: j.ID, TTL: String(this.leases.get(j.ID)) } });
        case '/v3/lease/revoke': this.revoke(j.ID); return reply({});
        case '/v3/kv/txn': {
          const put = j.success[0].request_put;
          const k = dec(put.key);
          if (!this.kv.has(k)) this.kv.set(k, { create: ++this.rev, lease: put.lease });
          return reply({ succeeded: true });
        }
        case '/v3/kv/range': {
          const from = dec(j.key);
          const to = dec(j.range_end);
          const kvs = [...this.kv].filter(([k]) => k >= from && k < to).map(([k, v]) => ({ key: Buffer.from(k).toString('base64'), create_revision: String(v.create) }));
          return reply({ header: { revision: String(this.rev) }, kvs });
        }
        case '/v3/kv/deleterange': this.kv.delete(dec(j.key)); this.rev++; return reply({});
        default: res.statusCode = 404; return reply({ error: 'not here', code: 12 });
      }
    });
  });
  revoke(id: string): void {
    this.leases.delete(id);
    for (const [k, v] of this.kv) if (v.lease === id) this.kv.delete(k);
  }
  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** A port nothing listens on: connections are refused at once (a stopped member). */
async function deadEndpoint(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

const spec = (endpoints: string[]): VrrpGuard => ({ name: 'E', backend: 'etcd', endpoints, path: '/kt/u', sessionTimeoutMs: 1200, mode: 'required', unreachable: 'release', loc: { file: 'x', line: 1, col: 1 } });

function client(endpoints: string[]): { c: EtcdGuardClient; inputs: GuardInput[]; events: () => string[] } {
  const inputs: GuardInput[] = [];
  const c = new EtcdGuardClient(spec(endpoints), { log: memoryLog().log, now: () => performance.now(), input: (i) => inputs.push(i) });
  const events = (): string[] => inputs.map((i) => (i.type === 'guard-session' ? i.event : `lock ${i.held ? `held ${i.token}` : 'lost'}`)).filter((e, k, a) => e !== 'ack' || a[k - 1] !== 'ack');
  return { c, inputs, events };
}

test('a dead member among live ones is no outage; the lock goes to the first key; no member answering is one outage, told once', async () => {
  const etcd = new FakeEtcd();
  const live = await etcd.listen();
  const { c, inputs, events } = client([await deadEndpoint(), live]);
  const other = client([live]);
  try {
    c.start();
    c.want('vrid-1-eth0', true);
    await waitFor(() => inputs.some((i) => i.type === 'guard-lock' && i.held), { timeoutMs: 10_000, what: 'the lock' });
    other.c.start();
    other.c.want('vrid-1-eth0', true);
    await waitFor(() => etcd.kv.size === 2, { timeoutMs: 10_000, what: 'the second key' });
    // Several keepalives, each past the dead endpoint or straight to the live one that answered last.
    const acks = inputs.filter((i) => i.type === 'guard-session' && i.event === 'ack').length;
    await waitFor(() => inputs.filter((i) => i.type === 'guard-session' && i.event === 'ack').length >= acks + 3, { timeoutMs: 10_000, what: 'three more keepalives' });
    assert.deepEqual(events().filter((e) => e !== 'ack'), ['lock held 2']);
    assert.deepEqual(other.events().filter((e) => e !== 'ack'), [], 'the second director waits');
    etcd.answering = false;
    await waitFor(() => events().includes('disconnected'), { timeoutMs: 10_000, what: 'the outage' });
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(events().filter((e) => e === 'disconnected').length, 1, 'told once, not per keepalive');
    etcd.answering = true;
    // Its lease was not expired by the stand-in: the next keepalive confirms the session again, the lock still ours.
    await waitFor(() => events().at(-1) === 'ack', { timeoutMs: 10_000, what: 'the session back' });
    // The first director releases: the second gets the lock (its keepalive looks again; the stand-in has no watch).
    c.want('vrid-1-eth0', false);
    await waitFor(() => other.events().some((e) => e.startsWith('lock held')), { timeoutMs: 10_000, what: 'the lock to pass on' });
    assert.deepEqual(other.events().filter((e) => e.startsWith('lock')), ['lock held 3']);
  } finally {
    await c.close();
    await other.c.close();
    await etcd.close();
  }
  assert.equal(etcd.leases.size, 0, 'close() revoked both leases');
});

test('a keepalive that finds the lease gone is the session expiring: the lock is lost, a new lease takes it again', async () => {
  const etcd = new FakeEtcd();
  const { c, inputs, events } = client([await etcd.listen()]);
  try {
    c.start();
    c.want('k', true);
    await waitFor(() => inputs.some((i) => i.type === 'guard-lock' && i.held), { timeoutMs: 10_000, what: 'the lock' });
    etcd.expireNext = true;
    await waitFor(() => events().filter((e) => e.startsWith('lock held')).length === 2, { timeoutMs: 10_000, what: 'the lock again' });
    assert.deepEqual(events().filter((e) => e !== 'ack'), ['lock held 2', 'expired', 'lock lost', 'lock held 3']);
  } finally {
    await c.close();
    await etcd.close();
  }
});

test('openGuardClient: calls made while the etcd client loads reach it in order; one closed before it loaded asks for no lease', async () => {
  const etcd = new FakeEtcd();
  const url = await etcd.listen();
  const inputs: GuardInput[] = [];
  const gone = openGuardClient(spec([url]), { log: memoryLog().log, now: () => performance.now(), input: () => undefined });
  gone.start();
  gone.want('k', true);
  await gone.close();
  const c = openGuardClient(spec([url]), { log: memoryLog().log, now: () => performance.now(), input: (i) => inputs.push(i) });
  try {
    c.start();
    c.want('k', true);
    c.want('k', false);
    c.want('k', true);
    await waitFor(() => inputs.some((i) => i.type === 'guard-lock' && i.held), { timeoutMs: 10_000, what: 'the lock' });
    assert.equal(etcd.leases.size, 1, 'one lease: the client closed while loading asked for none');
    assert.equal(etcd.kv.size, 1);
  } finally {
    await c.close();
    await etcd.close();
  }
  assert.equal(etcd.leases.size, 0);
});
