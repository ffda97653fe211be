import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckVerdict, type CheckEvent } from '../../src/check/verdict.js';
import type { RealServer, SorryServer, TcpCheck, VirtualServer } from '../../src/config/model/index.js';
import { httpCheck, miscCheck, realServer, script, tcpCheck, url, virtualServer } from '../helpers/check-model.js';

const ok = { ok: true, reason: 'ok' };
const fail = { ok: false, reason: 'connection refused' };

function tcp(over: Partial<TcpCheck> = {}): TcpCheck {
  return tcpCheck({ delayLoopMs: 6000, delayBeforeRetryMs: 1000, retry: 2, warmupMs: 6000, alpha: false, connectTimeoutMs: 5000, ...over });
}
function rs(addr: string, over: Partial<RealServer> = {}): RealServer {
  return realServer(addr, { port: 80, weight: 1, checkers: [tcp()], ...over });
}
function vs(over: Partial<VirtualServer> = {}): VirtualServer {
  return virtualServer({
    key: 'vs1', protocol: 'TCP', address: '10.0.0.1', port: 80, quorum: 1, hysteresis: 0,
    realServers: [rs('192.168.1.1'), rs('192.168.1.2')],
    ...over,
  });
}
const sorry = (address: string, port: number, inhibit = false): SorryServer => ({ address, family: 4, port, inhibit });

/** Fake clock driving the core like the engine does. */
class Sim {
  now = 0;
  events: CheckEvent[] = [];
  constructor(readonly core: CheckVerdict) {
    this.events.push(...core.takeInitialEvents());
  }
  run(id: number, r: { ok: boolean; reason: string; exitStatus?: number; timedOut?: boolean; signal?: number }, duration = 0) {
    const start = this.now;
    this.now += duration;
    const out = this.core.onResult(id, r, start, this.now);
    this.events.push(...out.events);
    this.now += out.nextDelayMs;
    return out;
  }
  dests(key = 'vs1') {
    return this.core.desiredOf(key)!.dests.map((d) => `${d.addr}:${d.weight}${d.inhibited ? 'i' : ''}`);
  }
  kinds() {
    return this.events.filter((e) => e.kind !== 'weight' && e.kind !== 'pool' && e.kind !== 'checker-failure' && !e.kind.startsWith('checker')).map((e) => e.kind);
  }
}

test('first run after bootstrap delay + random share of warmup', () => {
  const core = new CheckVerdict([vs()]);
  assert.equal(core.firstDelayMs(0, 0), 1000);
  assert.equal(core.firstDelayMs(0, 0.5), 4000);
  assert.equal(core.firstDelayMs(0, 1), 7000);
});

test('without alpha: RS start in the pool and the first failure removes at once', () => {
  const s = new Sim(new CheckVerdict([vs()]));
  assert.deepEqual(s.dests(), ['192.168.1.1:1', '192.168.1.2:1']);
  const out = s.run(0, fail);
  assert.deepEqual(s.dests(), ['192.168.1.2:1']);
  assert.equal(out.nextDelayMs, 6000, 'down: checked every delay_loop');
  assert.deepEqual(out.changed, [{ vsKey: 'vs1', dests: [{ addr: '192.168.1.2', port: 80, weight: 1, inhibited: false }] }]);
  const rsDown = out.events.find((e) => e.kind === 'rs-down');
  assert.ok(rsDown && 'fifoLine' in rsDown);
  assert.equal(rsDown.fifoLine, 'RS [192.168.1.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN\n\0');
});

test('while UP: retry failures at delay_before_retry, DOWN after retry+1 consecutive failures', () => {
  const s = new Sim(new CheckVerdict([vs()]));
  assert.equal(s.run(0, ok).nextDelayMs, 6000);
  assert.equal(s.run(0, fail).nextDelayMs, 1000);
  assert.equal(s.run(0, fail).nextDelayMs, 1000);
  assert.deepEqual(s.dests(), ['192.168.1.1:1', '192.168.1.2:1'], 'still up after 2 failures (retry 2)');
  const out = s.run(0, fail);
  assert.equal(out.nextDelayMs, 6000);
  assert.deepEqual(s.dests(), ['192.168.1.2:1']);
  // a success in the middle resets the count
  const s2 = new Sim(new CheckVerdict([vs()]));
  s2.run(0, ok); s2.run(0, fail); s2.run(0, fail); s2.run(0, ok); s2.run(0, fail); s2.run(0, fail);
  assert.equal(s2.dests().length, 2);
});

test('while DOWN: every delay_loop, one success brings it UP', () => {
  const s = new Sim(new CheckVerdict([vs()]));
  s.run(0, fail);
  assert.equal(s.run(0, fail).nextDelayMs, 6000);
  const out = s.run(0, ok);
  assert.ok(out.events.some((e) => e.kind === 'rs-up'));
  assert.deepEqual(s.dests(), ['192.168.1.1:1', '192.168.1.2:1']);
});

test('alpha: starts failed, out of the pool until the first success; first failure notifies down', () => {
  const v = vs({ realServers: [rs('192.168.1.1', { checkers: [tcp({ alpha: true })] }), rs('192.168.1.2')] });
  const s = new Sim(new CheckVerdict([v]));
  assert.deepEqual(s.dests(), ['192.168.1.2:1']);
  s.run(0, fail);
  assert.deepEqual(s.kinds(), ['rs-down']);
  s.run(0, ok);
  assert.deepEqual(s.dests(), ['192.168.1.1:1', '192.168.1.2:1']);
});

test('RS alive only when all its checkers are up', () => {
  const v = vs({ realServers: [rs('192.168.1.1', { checkers: [tcp({ retry: 0 }), tcp({ retry: 0 })] })] });
  const s = new Sim(new CheckVerdict([v]));
  s.run(0, ok); s.run(1, ok);
  s.run(0, fail);
  assert.deepEqual(s.dests(), []);
  s.run(1, fail);
  s.run(0, ok);
  assert.deepEqual(s.dests(), [], 'second checker still down');
  s.run(1, ok);
  assert.deepEqual(s.dests(), ['192.168.1.1:1']);
  assert.deepEqual(s.kinds().filter((k) => k.startsWith('rs')), ['rs-down', 'rs-up']);
});

test('inhibit_on_failure keeps the RS at weight 0', () => {
  const v = vs({ realServers: [rs('192.168.1.1', { inhibitOnFailure: true, weight: 5 }), rs('192.168.1.2')] });
  const s = new Sim(new CheckVerdict([v]));
  s.run(0, fail);
  assert.deepEqual(s.dests(), ['192.168.1.1:0i', '192.168.1.2:1']);
  s.run(0, ok);
  assert.deepEqual(s.dests(), ['192.168.1.1:5', '192.168.1.2:1']);
});

test('quorum with hysteresis, quorum events and FIFO lines', () => {
  const v = vs({
    quorum: 3, hysteresis: 1,
    quorumUp: script('/bin/up'), quorumDown: script('/bin/down'),
    realServers: [rs('a', { weight: 2 }), rs('b', { weight: 2 }), rs('c', { weight: 1 })],
  });
  const s = new Sim(new CheckVerdict([v]));
  assert.deepEqual(s.kinds(), [], 'initial 5 >= 3+1: up, no event');
  s.run(0, fail); // sum 3: not < 3-1
  assert.ok(!s.kinds().includes('quorum-down'));
  s.run(2, fail); // sum 2: not < 2
  assert.ok(!s.kinds().includes('quorum-down'));
  s.run(1, fail); // sum 0
  const down = s.events.find((e) => e.kind === 'quorum-down')!;
  assert.ok('fifoLine' in down && down.fifoLine === 'VS [10.0.0.1]:tcp:80 DOWN\n\0');
  assert.deepEqual('script' in down && down.script, { spec: v.quorumDown });
  s.run(0, ok); // sum 2 < 4
  s.run(2, ok); // sum 3 < 4
  assert.ok(!s.kinds().includes('quorum-up'));
  s.run(1, ok); // sum 5 >= 4
  assert.deepEqual(s.kinds().filter((k) => k.startsWith('quorum')), ['quorum-down', 'quorum-up']);
});

test('initial quorum needs quorum + hysteresis; sorry server at start', () => {
  const v = vs({ quorum: 2, hysteresis: 1, sorryServer: sorry('s', 80) });
  const s = new Sim(new CheckVerdict([v]));
  assert.deepEqual(s.kinds(), ['sorry-server-in', 'quorum-down']);
  const qd = s.events.find((e) => e.kind === 'quorum-down')!;
  assert.ok('init' in qd && qd.init);
  assert.deepEqual(s.dests(), ['s:1']);
});

test('sorry server swap: quorum lost → RS out, sorry in; RS changes remembered; regain reverses', () => {
  // The sorry server has no weight of its own in the model: IPVS gets weight 1 while it stands in.
  const v = vs({ quorum: 2, sorryServer: sorry('s', 8080, true),
    realServers: [rs('a'), rs('b', { inhibitOnFailure: true })] });
  const s = new Sim(new CheckVerdict([v]));
  assert.deepEqual(s.dests(), ['a:1', 'b:1', 's:0i']);
  s.run(0, fail);
  assert.deepEqual(s.dests(), ['b:0i', 's:1'], 'alive b out (inhibited at 0), sorry in');
  s.run(1, fail);
  assert.deepEqual(s.dests(), ['b:0i', 's:1']);
  s.run(1, ok);
  assert.deepEqual(s.dests(), ['b:0i', 's:1'], 'b up is remembered, not pushed');
  s.run(0, ok);
  assert.deepEqual(s.dests(), ['a:1', 'b:1', 's:0i']);
});

test('MISC dynamic weights: exit 2..255 → weight status-2; 1 fails; 0 keeps weight', () => {
  const misc = miscCheck('/x', { timeoutMs: 1000, dynamic: true, delayLoopMs: 1000, delayBeforeRetryMs: 1000, retry: 0, warmupMs: 0, alpha: false });
  const v = vs({ realServers: [rs('a', { weight: 10, checkers: [misc] })] });
  const s = new Sim(new CheckVerdict([v]));
  s.run(0, { ok: true, reason: 'exit 7', exitStatus: 7 });
  assert.deepEqual(s.dests(), ['a:5']);
  s.run(0, { ok: true, reason: 'exit 0', exitStatus: 0 });
  assert.deepEqual(s.dests(), ['a:10'], 'exit 0 resets the dynamic part');
  s.run(0, { ok: true, reason: 'exit 2', exitStatus: 2 });
  assert.deepEqual(s.dests(), ['a:0']);
  s.run(0, { ok: false, reason: 'exit 1', exitStatus: 1 });
  assert.deepEqual(s.dests(), []);
  s.run(0, { ok: true, reason: 'exit 0', exitStatus: 0 });
  assert.deepEqual(s.dests(), ['a:10']);
});

test('MISC schedules from the script start (last_ran), retry 0 fails at once', () => {
  const misc = miscCheck('/x', { timeoutMs: 1000, delayLoopMs: 5000, delayBeforeRetryMs: 1000, retry: 1, warmupMs: 0, alpha: false });
  const s = new Sim(new CheckVerdict([vs({ realServers: [rs('a', { checkers: [misc] })] })]));
  assert.equal(s.run(0, { ok: true, reason: '', exitStatus: 0 }, 300).nextDelayMs, 4700);
  assert.equal(s.run(0, { ok: false, reason: '', exitStatus: 1 }, 300).nextDelayMs, 700, 'retry after delay_before_retry');
  s.run(0, { ok: false, reason: '', exitStatus: 1 });
  assert.deepEqual(s.dests(), []);
});

test('HTTP: one URL per run, all must pass; failure of any URL after retries → down; recovery rechecks all', () => {
  const http = httpCheck({ urls: [url({ path: '/a' }), url({ path: '/b' })], delayLoopMs: 5000, delayBeforeRetryMs: 3000, retry: 1, warmupMs: 0, alpha: true, connectTimeoutMs: 1000 });
  const core = new CheckVerdict([vs({ realServers: [rs('a', { checkers: [http] })] })]);
  const s = new Sim(core);
  assert.equal(core.urlIndex(0), 0);
  assert.equal(s.run(0, ok).nextDelayMs, 5000);
  assert.equal(core.urlIndex(0), 1);
  assert.deepEqual(s.dests(), [], 'not up before every URL passed');
  s.run(0, ok);
  assert.deepEqual(s.dests(), ['a:1']);
  assert.equal(core.urlIndex(0), 0);
  s.run(0, ok); // /a
  assert.equal(s.run(0, fail).nextDelayMs, 3000); // /b fails once: retry
  assert.equal(core.urlIndex(0), 1, 'retry the same URL');
  assert.equal(s.run(0, fail).nextDelayMs, 5000, 'failed URL: max(delay_before_retry, delay_loop)');
  assert.deepEqual(s.dests(), []);
  s.run(0, ok); // /b back: restart from /a
  assert.equal(core.urlIndex(0), 0);
  assert.deepEqual(s.dests(), []);
  s.run(0, ok); s.run(0, ok);
  assert.deepEqual(s.dests(), ['a:1']);
});

test('HTTP without alpha: first failure marks down at once; fast_recovery removes delay_loop gaps', () => {
  const http = httpCheck({ urls: [url({ path: '/a' }), url({ path: '/b' })], delayLoopMs: 5000, delayBeforeRetryMs: 3000, retry: 3, warmupMs: 0, alpha: false, connectTimeoutMs: 1000, fastRecovery: true });
  const s = new Sim(new CheckVerdict([vs({ realServers: [rs('a', { checkers: [http] })] })]));
  s.run(0, fail);
  assert.deepEqual(s.dests(), []);
  assert.equal(s.run(0, ok).nextDelayMs, 0, 'failed URL answers: revalidate all without a gap');
  assert.equal(s.run(0, ok).nextDelayMs, 0);
  s.run(0, ok);
  assert.deepEqual(s.dests(), ['a:1']);
});

test('omega: shutdown runs notify_down and quorum_down', () => {
  const s = new Sim(new CheckVerdict([vs({ omega: true, quorumDown: script('/q') })]));
  assert.deepEqual(s.core.shutdownEvents().map((e) => e.kind), ['rs-down', 'rs-down', 'quorum-down']);
  const s2 = new Sim(new CheckVerdict([vs()]));
  assert.deepEqual(s2.core.shutdownEvents(), []);
});

test('fwmark and group VS labels', async () => {
  const { formatVs } = await import('../../src/check/verdict.js');
  assert.equal(formatVs(vs({ address: undefined, fwmark: 5 })), 'FWM 5');
  assert.equal(formatVs(vs({ group: 'G1', port: 443 })), '[G1]:443');
});

test('reload keeps the state of unchanged checkers, quorum and sorry server; new ones start fresh', () => {
  const cfg = vs({ quorum: 2, sorryServer: sorry('s', 80), realServers: [rs('a', { checkers: [tcp({ retry: 0 })] }), rs('b', { checkers: [tcp({ retry: 0 })] })] });
  const s = new Sim(new CheckVerdict([cfg]));
  s.run(0, ok); s.run(1, ok);
  s.run(0, fail);
  assert.deepEqual(s.dests(), ['s:1']);
  // Same config plus a new RS c: a stays down, the sorry server stays, c starts alive (not alpha).
  const cfg2 = { ...cfg, realServers: [...cfg.realServers, rs('c')] };
  const reloaded = new CheckVerdict([cfg2], { previous: s.core });
  const s2 = new Sim(reloaded);
  assert.equal(s2.kinds().includes('quorum-down'), false, 'no new quorum-down on reload');
  // b + c alive = 2 ≥ quorum 2: quorum regained, sorry server out.
  assert.deepEqual(s2.dests(), ['b:1', 'c:1']);
  assert.equal(reloaded.checkers[0]!.isUp, false);
  assert.equal(reloaded.checkers[1]!.hasRun, true);
  // A changed checker config (retry) starts fresh.
  const cfg3 = { ...cfg, realServers: [rs('a', { checkers: [tcp({ retry: 5 })] }), cfg.realServers[1]!] };
  const s3 = new Sim(new CheckVerdict([cfg3], { previous: s.core }));
  assert.equal(s3.core.checkers[0]!.isUp, true);
  assert.equal(s3.core.checkers[0]!.hasRun, false);
  // Where the checker is written is not part of it: a reload that only moved its lines keeps its state.
  const moved = (r: RealServer): RealServer => ({ ...r, loc: { ...r.loc, line: r.loc.line + 10 }, checkers: r.checkers.map((c) => ({ ...c, loc: { ...c.loc, line: c.loc.line + 10 } })) });
  const s4 = new Sim(new CheckVerdict([{ ...cfg, realServers: cfg.realServers.map(moved) }], { previous: s.core }));
  assert.equal(s4.core.checkers[0]!.isUp, false);
  assert.equal(s4.core.checkers[0]!.hasRun, true);
});

test('checker up/down lines are keepalived\'s (check_tcp.c, check_misc.c, check_http.c), with the pool line after', () => {
  const lines = (s: Sim) => s.events.filter((e) => e.kind === 'checker-up' || e.kind === 'checker-down' || e.kind === 'pool').map((e) => e.message);
  const t = new Sim(new CheckVerdict([vs({ realServers: [rs('192.168.1.1')] })]));
  t.run(0, ok); t.run(0, fail); t.run(0, fail); t.run(0, fail); t.run(0, ok);
  assert.deepEqual(lines(t), [
    'TCP connection to [192.168.1.1]:tcp:80 success.',
    'TCP_CHECK on service [192.168.1.1]:tcp:80 failed after 2 retries.',
    'Removing service [192.168.1.1]:tcp:80 from VS [10.0.0.1]:tcp:80',
    'TCP connection to [192.168.1.1]:tcp:80 success.',
    'Adding service [192.168.1.1]:tcp:80 to VS [10.0.0.1]:tcp:80',
  ]);
  const misc = miscCheck('/usr/local/bin/chk', { timeoutMs: 1000, delayLoopMs: 5000, delayBeforeRetryMs: 1000, retry: 1, warmupMs: 0, alpha: false });
  const m = new Sim(new CheckVerdict([vs({ realServers: [rs('192.168.1.2', { checkers: [misc] })] })]));
  m.run(0, { ok: true, reason: 'exit 0', exitStatus: 0 });
  m.run(0, { ok: false, reason: 'exit 1', exitStatus: 1 });
  m.run(0, { ok: false, reason: 'exit 1', exitStatus: 1 });
  m.run(0, { ok: true, reason: 'exit 0', exitStatus: 0 });
  m.run(0, { ok: false, reason: 'killed', timedOut: true, signal: 15 });
  m.run(0, { ok: false, reason: 'killed', timedOut: true, signal: 15 });
  assert.deepEqual(lines(m), [
    'Misc check for [[192.168.1.2]:tcp:80 VS [10.0.0.1]:tcp:80] by [/usr/local/bin/chk] succeeded.',
    'Misc check for [[192.168.1.2]:tcp:80 VS [10.0.0.1]:tcp:80] by [/usr/local/bin/chk] failed after 1 retry (exited with status 1).',
    'Removing service [192.168.1.2]:tcp:80 from VS [10.0.0.1]:tcp:80',
    'Misc check for [[192.168.1.2]:tcp:80 VS [10.0.0.1]:tcp:80] by [/usr/local/bin/chk] succeeded.',
    'Adding service [192.168.1.2]:tcp:80 to VS [10.0.0.1]:tcp:80',
    'Misc check for [[192.168.1.2]:tcp:80 VS [10.0.0.1]:tcp:80] by [/usr/local/bin/chk] timed out after 1 retry.',
    'Removing service [192.168.1.2]:tcp:80 from VS [10.0.0.1]:tcp:80',
  ]);
});
