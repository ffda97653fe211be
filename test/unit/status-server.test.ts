// The status endpoint is bounded (issue 9): slow clients that never finish their headers do not block a /metrics
// scrape (even when they fill every slot) and are cut off, connections beyond the limit are closed at once, and the
// children are asked for one snapshot per cache period however many requests arrive. A real HTTP server on a unix
// socket; the tests assert which connections were closed and what was answered, not how fast (issue 11).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { admit, cachedCollector, startStatusServer, stopStatusServer, type StatusDocument } from '../../src/daemon/status.js';
import { parsePrometheusText } from '../helpers/prom-parse.js';
import { getOverUnixSocket } from '../helpers/unix-http.js';
import { waitFor } from '../helpers/lab.js';

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

/** Connects and records when the server closes the connection, never sending anything itself unless `drip` is
 *  set: then a partial request, one more header byte every 100 ms, never finished. */
function client(socketPath: string, drip: boolean): { sock: Socket; connected: Promise<void>; closed: Promise<void>; isClosed: () => boolean } {
  const sock = connect(socketPath);
  let timer: NodeJS.Timeout | undefined;
  let gone = false;
  sock.on('error', () => {});
  const connected = new Promise<void>((r) => sock.once('connect', () => r()));
  if (drip) {
    sock.on('connect', () => {
      sock.write('GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      timer = setInterval(() => sock.writable && sock.write('a'), 100);
    });
  }
  const closed = new Promise<void>((r) => sock.on('close', () => {
    clearInterval(timer);
    gone = true;
    r();
  }));
  return { sock, connected, closed, isClosed: () => gone };
}

const connections = (server: Server): Promise<number> => new Promise((r, j) => server.getConnections((e, n) => (e ? j(e) : r(n))));

/** Limits that never fire during a test, however slow the machine: only the connection limit acts. */
const NO_TIMEOUTS = { headersTimeoutMs: 600_000, requestTimeoutMs: 600_000, idleTimeoutMs: 600_000 };

test('slow clients do not block a /metrics scrape; beyond the limit the oldest without a request is evicted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-status-'));
  const path = join(dir, 'status.sock');
  let collects = 0;
  const server = await startStatusServer({ kind: 'unix', path }, async () => {
    collects++;
    return doc();
  }, { maxConnections: 8, ...NO_TIMEOUTS, cacheMs: 600_000 });
  const clients: Socket[] = [];
  try {
    // One after the other, so the server accepts them in this order (oldest first).
    const slow: ReturnType<typeof client>[] = [];
    for (let i = 0; i < 6; i++) {
      const c = client(path, true);
      slow.push(c);
      clients.push(c.sock);
      await c.connected;
    }
    await waitFor(async () => (await connections(server)) === 6, { timeoutMs: 30_000, what: '6 slow clients accepted' });

    // 6 slow clients hold 6 of 8 slots: scrapes are answered, and 20 scrapes cost one snapshot (one cache period).
    // One after the other, so that each scrape needs exactly one free slot.
    const scrapes: Awaited<ReturnType<typeof get>>[] = [];
    for (let i = 0; i < 20; i++) scrapes.push(await get(path, '/metrics'));
    for (const s of scrapes) assert.equal(s.status, 200);
    assert.ok(parsePrometheusText(scrapes[0]!.body), 'a valid Prometheus text');
    assert.equal(collects, 1, 'one snapshot for 20 scrapes within the cache period');
    assert.deepEqual(slow.map((c) => c.isClosed()), [false, false, false, false, false, false], 'the slow clients are still connected');

    // 6 more silent connections: 2 fit (8 in all); each of the other 4 takes the place of the oldest connection
    // without a request, i.e. the 4 oldest slow clients are closed.
    const extra: ReturnType<typeof client>[] = [];
    for (let i = 0; i < 6; i++) {
      const c = client(path, false);
      extra.push(c);
      clients.push(c.sock);
      await c.connected;
    }
    await waitFor(async () => [...slow, ...extra].filter((c) => c.isClosed()).length >= 4 && (await connections(server)) === 8,
      { timeoutMs: 30_000, what: '4 evictions' });
    assert.deepEqual([...slow, ...extra].map((c) => c.isClosed()), [true, true, true, true, false, false, false, false, false, false, false, false],
      'closed (6 slow, then 6 silent)');

    // Every slot is now held by a client without a request: a scrape still gets in (the oldest, slow client 5, goes).
    const full = await get(path, '/metrics');
    assert.equal(full.status, 200);
    await slow[4]!.closed;
    assert.equal(slow[5]!.isClosed(), false);
  } finally {
    for (const c of clients) c.destroy();
    await stopStatusServer(server, { kind: 'unix', path });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a client that never finishes its headers is cut off by the header timeout; the endpoint goes on answering', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-status-'));
  const path = join(dir, 'status.sock');
  const server = await startStatusServer({ kind: 'unix', path }, async () => doc(),
    { maxConnections: 8, headersTimeoutMs: 300, requestTimeoutMs: 600_000, idleTimeoutMs: 600_000, cacheMs: 0 });
  const slow = client(path, true);
  try {
    await slow.connected;
    // Still dripping header bytes: only the server's header timeout can close it.
    await slow.closed;
    assert.equal((await get(path, '/status')).status, 200);
  } finally {
    slow.sock.destroy();
    await stopStatusServer(server, { kind: 'unix', path });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('when every connection is answering a request, a new connection is closed at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-status-'));
  const path = join(dir, 'status.sock');
  // Children that do not answer until the test lets them: 4 requests keep all 4 slots busy as long as needed.
  let answer!: () => void;
  const answered = new Promise<void>((r) => (answer = r));
  const server = await startStatusServer({ kind: 'unix', path }, async () => {
    await answered;
    return doc();
  }, { maxConnections: 4, ...NO_TIMEOUTS, cacheMs: 0 });
  let requests = 0;
  server.on('request', () => requests++);
  try {
    const busy = Array.from({ length: 4 }, () => get(path, '/status'));
    await waitFor(() => requests === 4, { timeoutMs: 30_000, what: '4 requests in progress' });
    const refused = client(path, false);
    // Closed while all 4 requests are still waiting: refused at accept (no timeout can fire here).
    await refused.closed;
    answer();
    for (const r of await Promise.all(busy)) assert.equal(r.status, 200, 'the requests in progress were answered');
  } finally {
    answer();
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
