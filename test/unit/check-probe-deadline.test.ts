// Checker probes under event-loop stalls (issue 11): a probe's timeout yields to pending I/O once before it fires
// (src/check/probe-deadline.ts), so a reply that arrived in time but sat in the socket while the loop was held (a
// big reconcile, a GC) is read, not reported as a timeout. The rule on a fake clock, then UDP_CHECK, DNS_CHECK and
// SMTP_CHECK against loopback servers with the event loop held past the timeout while their answer is queued.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ProbeDeadline, probeDeadline, type DeadlineTimers } from '../../src/check/probe-deadline.js';
import { probeDns, probeUdp } from '../../src/check/probe-udp.js';
import { probeSmtp } from '../../src/check/probe-smtp.js';

/** A fake clock with the event loop's order: expired timers, then I/O (the test's `io`), then immediates. */
class FakeLoop implements DeadlineTimers {
  now = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private immediates = new Map<number, () => void>();
  setTimeout(fn: () => void, ms: number): unknown { const id = ++this.seq; this.timers.set(id, { at: this.now + ms, fn }); return id; }
  clearTimeout(h: unknown): void { this.timers.delete(h as number); }
  setImmediate(fn: () => void): unknown { const id = ++this.seq; this.immediates.set(id, fn); return id; }
  clearImmediate(h: unknown): void { this.immediates.delete(h as number); }
  /** The loop was held `ms`, then runs one turn: timers due, the I/O that was queued meanwhile, immediates. */
  turnAfter(ms: number, io: () => void = () => {}): void {
    this.now += ms;
    for (const [id, t] of [...this.timers].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at > this.now || !this.timers.has(id)) continue;
      this.timers.delete(id);
      t.fn();
    }
    io();
    for (const [id, fn] of [...this.immediates]) {
      if (!this.immediates.has(id)) continue;
      this.immediates.delete(id);
      fn();
    }
  }
}

/** A probe reduced to its decision: the first of reply / timeout wins, as each probe's finish() does. */
function fakeProbe(loop: FakeLoop, timeoutMs: number) {
  const results: string[] = [];
  let expiries = 0;
  let done = false;
  const finish = (r: string) => {
    if (done) return;
    done = true;
    deadline.clear();
    results.push(r);
  };
  const deadline = probeDeadline(timeoutMs, () => { expiries++; finish('timeout'); }, loop);
  return { results, expiries: () => expiries, reply: () => finish('reply') };
}

test('deadline on a fake clock: a stall past the timeout with the reply queued is a success', () => {
  const loop = new FakeLoop();
  const p = fakeProbe(loop, 1000);
  loop.turnAfter(5000, p.reply);
  assert.deepEqual(p.results, ['reply']);
  loop.turnAfter(5000);
  assert.deepEqual([p.results, p.expiries()], [['reply'], 0], 'the deferred expiry was cancelled');
});

test('deadline on a fake clock: no reply is a timeout, once', () => {
  const loop = new FakeLoop();
  const p = fakeProbe(loop, 1000);
  loop.turnAfter(999);
  assert.deepEqual(p.results, [], 'not before the timeout');
  loop.turnAfter(5000);
  loop.turnAfter(5000);
  assert.deepEqual([p.results, p.expiries()], [['timeout'], 1]);
});

test('deadline on a fake clock: re-arming restarts it (SMTP per reply), clearing cancels a pending expiry', () => {
  const loop = new FakeLoop();
  let fired = 0;
  const d = new ProbeDeadline(() => fired++, loop);
  d.arm(1000);
  loop.turnAfter(900);
  d.arm(1000);
  loop.turnAfter(900);
  assert.equal(fired, 0, 'restarted at the second arm');
  // Expired during a stall, then the reply read in the same turn's I/O clears the deferred expiry.
  loop.turnAfter(5000, () => d.clear());
  assert.equal(fired, 0);
  d.arm(10);
  loop.turnAfter(20);
  assert.equal(fired, 1);
});

/** Holds the event loop (as a long reconcile or GC does) until `ms` past `fromMs`. */
function holdLoopUntil(untilMs: number): void {
  while (performance.now() < untilMs) { /* held */ }
}

const TIMEOUT_MS = 500;

async function udpServer(answer: (m: Buffer) => Buffer, started: { at: number }): Promise<dgram.Socket> {
  const srv = dgram.createSocket('udp4');
  srv.on('message', (m, r) => {
    // The answer goes out, then the loop is held past the probe's timeout before the probe can read it.
    srv.send(answer(m), r.port, r.address, () => holdLoopUntil(started.at + TIMEOUT_MS + 150));
  });
  await new Promise<void>((res) => srv.bind(0, '127.0.0.1', res));
  return srv;
}

test('UDP_CHECK with require_reply: the reply queued during a stall past connect_timeout is a success', async () => {
  const started = { at: 0 };
  const srv = await udpServer(() => Buffer.from('pong'), started);
  try {
    started.at = performance.now();
    const r = await probeUdp({
      family: 4, host: '127.0.0.1', port: (srv.address() as AddressInfo).port, timeoutMs: TIMEOUT_MS,
      payload: Buffer.from('ping'), requireReply: true, minReplyLength: 0, maxReplyLength: 4096,
    });
    assert.ok(performance.now() - started.at > TIMEOUT_MS, 'the loop was held past the timeout');
    assert.deepEqual([r.ok, r.reason], [true, `UDP reply from [127.0.0.1]:${(srv.address() as AddressInfo).port}`]);
  } finally {
    srv.close();
  }
});

test('DNS_CHECK: the answer queued during a stall past connect_timeout is a success', async () => {
  const started = { at: 0 };
  // The query echoed back as a response (QR set, RCODE 0): our id, so it is the answer.
  const srv = await udpServer((q) => { const a = Buffer.from(q); a[2] = 0x81; a[3] = 0x80; return a; }, started);
  try {
    started.at = performance.now();
    const r = await probeDns({ family: 4, host: '127.0.0.1', port: (srv.address() as AddressInfo).port, timeoutMs: TIMEOUT_MS, name: 'kt.test', qtype: 6 });
    assert.ok(performance.now() - started.at > TIMEOUT_MS, 'the loop was held past the timeout');
    assert.deepEqual([r.ok, r.reason], [true, 'DNS answer with rcode 0']);
  } finally {
    srv.close();
  }
});

test('UDP_CHECK with require_reply and a silent server: a timeout, reported once', async () => {
  const srv = dgram.createSocket('udp4');
  await new Promise<void>((res) => srv.bind(0, '127.0.0.1', res));
  try {
    const r = await probeUdp({
      family: 4, host: '127.0.0.1', port: (srv.address() as AddressInfo).port, timeoutMs: 50,
      payload: Buffer.from('ping'), requireReply: true, minReplyLength: 0, maxReplyLength: 4096,
    });
    assert.deepEqual([r.ok, r.reason], [false, `no UDP reply from [127.0.0.1]:${(srv.address() as AddressInfo).port} within 50 ms`]);
  } finally {
    srv.close();
  }
});

test('SMTP_CHECK: each reply queued during a stall past connect_timeout is read; the dialogue succeeds', async () => {
  let held = 0;
  const srv = net.createServer((c) => {
    // Every reply is written, then the loop is held past the probe's read timeout before the probe reads it.
    const say = (line: string) => c.write(line, () => { held++; holdLoopUntil(performance.now() + TIMEOUT_MS + 100); });
    say('220 kt.test ESMTP\r\n');
    let buf = '';
    c.on('data', (d) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (/^HELO/i.test(line)) say('250 kt.test\r\n');
        else if (/^QUIT/i.test(line)) say('221 bye\r\n');
      }
    });
    c.on('error', () => {});
  });
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  try {
    const r = await probeSmtp({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, timeoutMs: TIMEOUT_MS, helo: 'director.kt.test' });
    assert.equal(r.ok, true, r.reason);
    assert.equal(held, 3, 'the loop was held after each of the three replies');
  } finally {
    srv.close();
  }
});
