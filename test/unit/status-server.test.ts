// The status endpoint is bounded (issue 9): slow clients that never finish their headers do not block a /metrics
// scrape (even when they fill every slot) and are cut off, connections beyond the limit are closed at once, and the
// children are asked for one snapshot per cache period however many requests arrive. A real HTTP server on a unix
// socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { admit, cachedCollector, startStatusServer, stopStatusServer, type StatusDocument } from '../../src/daemon/status.js';
import { parsePrometheusText } from '../helpers/prom-parse.js';
import { getOverUnixSocket } from '../helpers/unix-http.js';

test('cachedCollector: concurrent callers share one collection, the result is reused for the period, failures are not cached', async () => {
  let calls = 0;
  let t = 0;
  let fail = false;
  const c = cachedCollector(async () => {
    calls++;
    if (fail) throw new Error('child did not answer');
    return calls;
  }, 1000, () => t);
  assert.deepEqual(await Promise.all([c(), c(), c()]), [1, 1, 1]);
  t = 999;
  assert.equal(await c(), 1);
  t = 1000;
  assert.equal(await c(), 2);
  t = 5000;
  fail = true;
  await assert.rejects(c(), /did not answer/);
  fail = false;
  assert.equal(await c(), 4, 'the failure was not cached');
  assert.equal(calls, 4);
});

test('admit (pure): below the limit admit; at it evict the oldest connection without a whole request; all busy: refuse', () => {
  const e = (key: string, acceptedAt: number, busy: boolean) => ({ key, acceptedAt, busy });
  assert.deepEqual(admit([e('a', 1, false)], 2), { admit: true });
  assert.deepEqual(admit([e('a', 1, true), e('b', 3, false), e('c', 2, false)], 3), { admit: true, evict: 'c' });
  assert.deepEqual(admit([e('a', 1, true), e('b', 2, true)], 2), { admit: false });
});

const doc = (): StatusDocument => ({
  version: 'test', node: 'v20', pid: process.pid, startedAt: new Date(0).toISOString(), children: [], reloads: { ok: 0, refused: 0 },
  vrrp: [], scripts: [], checkers: [], keepalivedJson: [],
});

const get = getOverUnixSocket;

/** Connects and reports when the server closes the connection (ms after connect), never sending anything itself
 *  unless `drip` is set: then a partial request, one more header byte every 100 ms, never finished. */
function client(socketPath: string, drip: boolean): { sock: Socket; closed: Promise<number> } {
  const t0 = performance.now();
  const sock = connect(socketPath);
  let timer: NodeJS.Timeout | undefined;
  sock.on('error', () => {});
  if (drip) {
    sock.on('connect', () => {
      sock.write('GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      timer = setInterval(() => sock.writable && sock.write('a'), 100);
    });
  }
  const closed = new Promise<number>((r) => sock.on('close', () => {
    clearInterval(timer);
    r(performance.now() - t0);
  }));
  return { sock, closed };
}

test('slow clients do not block a /metrics scrape; they are cut off; connections beyond the limit are closed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-status-'));
  const path = join(dir, 'status.sock');
  let collects = 0;
  const server = await startStatusServer({ kind: 'unix', path }, async () => {
    collects++;
    return doc();
  }, { maxConnections: 8, headersTimeoutMs: 1000, requestTimeoutMs: 2000, idleTimeoutMs: 1500, cacheMs: 1000 });
  const clients: Socket[] = [];
  try {
    const slow = Array.from({ length: 6 }, () => client(path, true));
    clients.push(...slow.map((c) => c.sock));
    await new Promise((r) => setTimeout(r, 300));

    // 6 slow clients hold 6 of 8 slots: a scrape still answers at once, and 20 scrapes cost one snapshot.
    // One after the other, so that each scrape needs exactly one free slot.
    const scrapes: Awaited<ReturnType<typeof get>>[] = [];
    for (let i = 0; i < 20; i++) scrapes.push(await get(path, '/metrics'));
    for (const s of scrapes) assert.equal(s.status, 200);
    assert.ok(Math.max(...scrapes.map((s) => s.ms)) < 500, `scrapes took ${Math.round(Math.max(...scrapes.map((s) => s.ms)))} ms`);
    assert.ok(parsePrometheusText(scrapes[0]!.body), 'a valid Prometheus text');
    assert.equal(collects, 1, 'one snapshot for 20 scrapes within the cache period');
    const scrapedAt = performance.now();

    // 6 more silent connections: 2 fit (8 in all); each of the other 4 takes the place of the oldest connection
    // without a request, i.e. the 4 oldest slow clients are closed at once.
    const extra = Array.from({ length: 6 }, () => client(path, false));
    clients.push(...extra.map((c) => c.sock));
    const within = (p: Promise<number>, ms: number) => Promise.race([p, new Promise<number>((r) => setTimeout(() => r(Infinity), ms))]);
    const early = await Promise.all([...slow, ...extra].map((c) => within(c.closed, 400)));
    assert.deepEqual(early.map((ms) => ms < Infinity), [true, true, true, true, false, false, false, false, false, false, false, false],
      `closed within 400 ms (6 slow, then 6 silent): ${early.map((m) => Math.round(m)).join(', ')}`);

    // Every slot is now held by a client without a request: a scrape still gets in (and is answered at once).
    const full = await get(path, '/metrics');
    assert.equal(full.status, 200);
    assert.ok(full.ms < 500, `scrape with every slot held took ${Math.round(full.ms)} ms`);

    // The slow clients never finished their headers: cut off near the 1 s header timeout (or evicted), not left open.
    const slowClosed = await Promise.all(slow.map((c) => c.closed));
    assert.ok(Math.max(...slowClosed) < 3000, `slow clients closed after ${slowClosed.map((m) => Math.round(m)).join(', ')} ms`);

    // And once they are gone and the cache period is over, the endpoint serves a fresh snapshot.
    await new Promise((r) => setTimeout(r, Math.max(0, scrapedAt + 1100 - performance.now())));
    const after = await get(path, '/status');
    assert.equal(after.status, 200);
    assert.equal(collects, 2);
  } finally {
    for (const c of clients) c.destroy();
    await stopStatusServer(server, { kind: 'unix', path });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('when every connection is answering a request, a new connection is closed at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-status-'));
  const path = join(dir, 'status.sock');
  // A snapshot that takes 600 ms (children slow to answer), not cached: 4 requests keep all 4 slots busy.
  const server = await startStatusServer({ kind: 'unix', path }, () => new Promise((r) => setTimeout(() => r(doc()), 600)),
    { maxConnections: 4, cacheMs: 0 });
  try {
    const busy = Array.from({ length: 4 }, () => get(path, '/status'));
    await new Promise((r) => setTimeout(r, 200));
    const refused = client(path, false);
    const closedAfter = await Promise.race([refused.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 300))]);
    refused.sock.destroy();
    assert.ok(closedAfter < 300, 'the fifth connection was closed at accept');
    for (const r of await Promise.all(busy)) assert.equal(r.status, 200, 'the requests in progress were answered');
  } finally {
    await stopStatusServer(server, { kind: 'unix', path });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a unix socket path that is a regular file is neither removed nor listened on; a stale socket is replaced, 0660', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-status-'));
  try {
    const path = join(dir, 'not-a-socket');
    writeFileSync(path, 'precious\n');
    await assert.rejects(startStatusServer({ kind: 'unix', path }, async () => doc()), /EADDRINUSE/);
    assert.equal(readFileSync(path, 'utf8'), 'precious\n');

    const sockPath = join(dir, 'status.sock');
    // A crashed run (SIGKILL while listening) leaves its socket file behind.
    const crashed = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sockPath)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    assert.equal(crashed.signal, 'SIGKILL');
    assert.ok(statSync(sockPath).isSocket(), 'a stale socket file is there');
    const second = await startStatusServer({ kind: 'unix', path: sockPath }, async () => doc());
    assert.equal(statSync(sockPath).mode & 0o777, 0o660);
    assert.equal((await get(sockPath, '/status')).status, 200);
    await stopStatusServer(second, { kind: 'unix', path: sockPath });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
