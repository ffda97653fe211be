import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulator, type SimRouterConfig } from '../sim/simulator.js';
import { masterDownMs, skewTimeMs } from '../../src/vrrp/timers.js';
import type { VrrpInstanceSpec } from '../../src/vrrp/spec.js';

const VIP = '10.0.0.100';
function router(id: string, ip: string, priority: number, extra: Partial<VrrpInstanceSpec> = {}, cfg: Partial<SimRouterConfig> = {}): SimRouterConfig {
  return { id, instances: [{ name: 'VI_1', vrid: 51, primaryAddress: ip, priority, vips: [VIP], ...extra }], ...cfg };
}
const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) <= eps, `${a} ≠ ${b}`);
/** Assert exactly one master and that it is the only VIP holder. */
function oneMaster(sim: Simulator, expected?: string) {
  const m = sim.masters(51);
  assert.equal(m.length, 1, `masters: ${m.join(',')}`);
  if (expected) assert.equal(m[0], expected);
  assert.deepEqual(sim.holders(VIP), m);
}
const masterChanges = (sim: Simulator, from = 0) => sim.transitions.filter((t) => t.at >= from && (t.to === 'MASTER' || t.from === 'MASTER')).length;

test('3 routers with different priorities elect the highest exactly master_down(prio) after start', () => {
  const sim = new Simulator({ seed: 1, link: { delayMs: 0 }, routers: [router('a', '10.0.0.1', 100), router('b', '10.0.0.2', 200), router('c', '10.0.0.3', 150)] });
  for (const id of ['a', 'b', 'c']) sim.start(id);
  sim.runUntil(20_000);
  oneMaster(sim, 'b');
  const first = sim.transitionsTo('MASTER');
  assert.equal(first.length, 1);
  close(first[0]!.at, masterDownMs(2, 200, 1000));
  // Every router ran notify BACKUP at start, exactly once.
  assert.equal(sim.notifies.filter((n) => n.state === 'BACKUP').length, 3);
});

test('failover: a backup takes over exactly master_down after the crashed master’s last advert', () => {
  const sim = new Simulator({ seed: 2, link: { delayMs: 0 }, routers: [router('a', '10.0.0.1', 150), router('b', '10.0.0.2', 100), router('c', '10.0.0.3', 50)] });
  ['a', 'b', 'c'].forEach((id) => sim.start(id));
  sim.runUntil(10_000);
  oneMaster(sim, 'a');
  sim.at(10_500, () => sim.crash('a'));
  sim.runUntil(30_000);
  const lastAdvert = sim.adverts.filter((x) => x.router === 'a').at(-1)!.at;
  const takeover = sim.transitionsTo('MASTER').filter((t) => t.router === 'b')[0]!;
  close(takeover.at - lastAdvert, masterDownMs(2, 100, 1000));
  const m = sim.masters(51);
  assert.deepEqual(m, ['b']);
});

test('SIGTERM: exactly one priority-0 advert, the backup takes over after its skew time only (v2 and v3)', () => {
  for (const [version, adv] of [[2, 1000], [3, 100]] as const) {
    const sim = new Simulator({ seed: 3, link: { delayMs: 0 }, routers: [router('a', '10.0.0.1', 150, { version, advertIntMs: adv }), router('b', '10.0.0.2', 100, { version, advertIntMs: adv })] });
    sim.start('a'); sim.start('b');
    sim.runUntil(10_000);
    oneMaster(sim, 'a');
    sim.at(10_250, () => sim.sigterm('a'));
    sim.runUntil(20_000);
    const zeros = sim.adverts.filter((x) => x.priority === 0);
    assert.equal(zeros.length, 1);
    const t = sim.transitionsTo('MASTER').find((x) => x.router === 'b')!;
    close(t.at - zeros[0]!.at, skewTimeMs(version, 100, adv)); // 609.375 ms / 60.937 ms
    assert.ok(sim.notifies.some((n) => n.router === 'a' && n.state === 'STOP'));
    oneMaster(sim, 'b');
  }
});

test('steady state: no flapping over an hour of virtual time with jitter', () => {
  const sim = new Simulator({ seed: 4, link: { delayMs: 0.2, jitterMs: 2 }, routers: [router('a', '10.0.0.1', 200), router('b', '10.0.0.2', 150), router('c', '10.0.0.3', 100)] });
  ['a', 'b', 'c'].forEach((id) => sim.start(id));
  sim.runUntil(3_600_000);
  oneMaster(sim, 'a');
  assert.equal(masterChanges(sim), 1);
  // ~3600 adverts from the master, none from the backups.
  const sent = sim.adverts.filter((a) => a.router === 'a').length;
  assert.equal(sent, Math.floor((3_600_000 - masterDownMs(2, 200, 1000)) / 1000) + 1, `sent ${sent}`);
  assert.equal(sim.adverts.filter((a) => a.router !== 'a').length, 0);
});

test('equal priority is broken by the highest primary IP (numeric, not textual)', () => {
  const sim = new Simulator({ seed: 5, link: { delayMs: 0.5, jitterMs: 0.5 }, routers: [router('a', '10.0.0.9', 100), router('b', '10.0.0.10', 100), router('c', '10.0.0.2', 100)] });
  ['a', 'b', 'c'].forEach((id) => sim.start(id));
  sim.runUntil(30_000);
  oneMaster(sim, 'b');
  const ch = masterChanges(sim, 5000);
  assert.equal(ch, 0);
});

test('preempt (default): a recovered higher-priority router takes back MASTER after its master_down', () => {
  const sim = new Simulator({ seed: 6, link: { delayMs: 0 }, routers: [router('a', '10.0.0.1', 150), router('b', '10.0.0.2', 100)] });
  sim.start('a'); sim.start('b');
  sim.runUntil(10_000);
  sim.at(10_000, () => sim.interfaceDown('a'));
  sim.runUntil(20_000);
  oneMaster(sim, 'b');
  assert.equal(sim.state('a', 'VI_1'), 'FAULT');
  sim.at(20_000, () => sim.interfaceUp('a'));
  sim.runUntil(40_000);
  oneMaster(sim, 'a');
  const back = sim.transitionsTo('MASTER').filter((t) => t.router === 'a').at(-1)!;
  close(back.at - 20_000, masterDownMs(2, 150, 1000)); // baseline failback ≈ 3.41 s after link-up
});

test('nopreempt: a restarted higher-priority router stays BACKUP while the current master lives', () => {
  const sim = new Simulator({ seed: 7, link: { delayMs: 0.1 }, routers: [router('a', '10.0.0.1', 150, { preempt: false }), router('b', '10.0.0.2', 100, { preempt: false })] });
  sim.start('a'); sim.start('b');
  sim.runUntil(10_000);
  oneMaster(sim, 'a');
  sim.crash('a');
  sim.runUntil(20_000);
  oneMaster(sim, 'b');
  sim.start('a');
  sim.runUntil(120_000);
  oneMaster(sim, 'b');
});

test('preempt_delay: the higher-priority router waits preempt_delay before preempting', () => {
  const sim = new Simulator({ seed: 8, link: { delayMs: 0 }, routers: [router('a', '10.0.0.1', 150, { preemptDelayMs: 30_000 }), router('b', '10.0.0.2', 100)] });
  sim.start('b');
  sim.runUntil(10_000);
  oneMaster(sim, 'b');
  sim.start('a');
  sim.runUntil(10_000 + 30_000);
  oneMaster(sim, 'b');
  sim.runUntil(60_000);
  oneMaster(sim, 'a');
  const t = sim.transitionsTo('MASTER').find((x) => x.router === 'a')!.at;
  // First lower advert heard within 1 s of start; delay 30 s; then master_down from the last accepted advert.
  assert.ok(t > 10_000 + 30_000 && t <= 10_000 + 1000 + 30_000 + masterDownMs(2, 150, 1000), `took over at ${t}`);
});

test('sync groups: a fault on one instance moves both instances to the other router together', () => {
  const inst = (prio: number, ip4: string) => [
    { name: 'VI_1', vrid: 51, primaryAddress: `10.0.0.${ip4}`, priority: prio, vips: [VIP] },
    { name: 'VI_2', vrid: 52, primaryAddress: `10.0.1.${ip4}`, priority: prio, vips: ['10.0.1.100'] },
  ];
  const sim = new Simulator({ seed: 9, link: { delayMs: 0.1 }, routers: [
    { id: 'a', instances: inst(150, '1'), syncGroup: 'G' }, { id: 'b', instances: inst(100, '2'), syncGroup: 'G' }] });
  sim.start('a'); sim.start('b');
  sim.runUntil(10_000);
  assert.deepEqual(sim.masters(51), ['a']); assert.deepEqual(sim.masters(52), ['a']);
  sim.at(10_000, () => sim.input('a', 'VI_2', { type: 'tracker-changed', effectivePriority: 150, faults: ['chk'] }));
  sim.runUntil(20_000);
  assert.equal(sim.state('a', 'VI_1'), 'FAULT');
  assert.deepEqual(sim.masters(51), ['b']); assert.deepEqual(sim.masters(52), ['b']);
  // Both instances of 'a' sent priority 0 (FAULT), so 'b' took over after its skew time.
  assert.equal(sim.adverts.filter((x) => x.router === 'a' && x.priority === 0).length, 2);
  assert.ok(sim.notifies.some((n) => n.router === 'b' && n.scope === 'GROUP' && n.state === 'MASTER'));
  sim.at(20_000, () => sim.input('a', 'VI_2', { type: 'tracker-changed', effectivePriority: 150, faults: [] }));
  sim.runUntil(40_000);
  assert.deepEqual(sim.masters(51), ['a']); assert.deepEqual(sim.masters(52), ['a']);
});

test('2% random loss on every link: no flapping over an hour', () => {
  const sim = new Simulator({ seed: 10, link: { loss: 0.02, delayMs: 0.2, jitterMs: 1 }, routers: [router('a', '10.0.0.1', 200), router('b', '10.0.0.2', 150), router('c', '10.0.0.3', 100)] });
  ['a', 'b', 'c'].forEach((id) => sim.start(id));
  sim.runUntil(3_600_000);
  oneMaster(sim, 'a');
  assert.equal(masterChanges(sim), 1);
});

test('10% loss: rare false takeovers (3 adverts lost in a row) heal at the next advert of the real master', () => {
  const sim = new Simulator({ seed: 10, link: { loss: 0.1, delayMs: 0.2, jitterMs: 1 }, routers: [router('a', '10.0.0.1', 200), router('b', '10.0.0.2', 150), router('c', '10.0.0.3', 100)] });
  ['a', 'b', 'c'].forEach((id) => sim.start(id));
  sim.runUntil(3_600_000);
  oneMaster(sim, 'a');
  const falseMasters = sim.transitions.filter((t) => t.router !== 'a' && t.to === 'MASTER');
  assert.ok(falseMasters.length > 0, 'expected some false takeovers at 10% loss');
  assert.ok(!sim.transitions.some((t) => t.router === 'a' && t.from === 'MASTER'), 'the real master never yields');
  for (const f of falseMasters) {
    const back = sim.transitions.find((t) => t.router === f.router && t.from === 'MASTER' && t.at >= f.at)!;
    // Healed by the next advert of a that gets through (a also re-advertises on hearing the lower priority).
    assert.ok(back.at - f.at < 5000, `split lasted ${back.at - f.at} ms`);
  }
});

test('partition → two masters; heal → exactly one master again, the higher priority', () => {
  const sim = new Simulator({ seed: 11, link: { delayMs: 0.2 }, routers: [router('a', '10.0.0.1', 200), router('b', '10.0.0.2', 150), router('c', '10.0.0.3', 100)] });
  ['a', 'b', 'c'].forEach((id) => sim.start(id));
  sim.runUntil(10_000);
  sim.partition([['a'], ['b', 'c']]);
  sim.runUntil(20_000);
  assert.deepEqual(sim.masters(51).sort(), ['a', 'b']);
  sim.heal();
  sim.runUntil(22_000);
  oneMaster(sim, 'a');
  // The split master b yielded on a's first advert after the heal.
  const yielded = sim.transitions.filter((t) => t.router === 'b' && t.from === 'MASTER' && t.to === 'BACKUP');
  assert.equal(yielded.length, 1);
  assert.ok(yielded[0]!.at - 20_000 <= 1000.5);
});

test('asymmetric loss: the master cannot hear the backup, the backup hears the master — still one master', () => {
  const sim = new Simulator({ seed: 12, link: { delayMs: 0.2 }, routers: [router('a', '10.0.0.1', 200), router('b', '10.0.0.2', 100)] });
  sim.setLinkLoss('b', 'a', 1);
  sim.start('a'); sim.start('b');
  sim.runUntil(600_000);
  oneMaster(sim, 'a');
});

test('clock offset and ±200 ppm drift do not change the election or cause flaps', () => {
  const sim = new Simulator({ seed: 13, link: { delayMs: 0.3, jitterMs: 1 }, routers: [
    router('a', '10.0.0.1', 200, {}, { clockOffsetMs: 123_456, driftPpm: 200 }),
    router('b', '10.0.0.2', 150, {}, { clockOffsetMs: -5_000, driftPpm: -200 }),
    router('c', '10.0.0.3', 100, {}, { driftPpm: 50 })] });
  ['a', 'b', 'c'].forEach((id) => sim.start(id));
  sim.runUntil(3_600_000);
  oneMaster(sim, 'a');
  assert.equal(masterChanges(sim), 1);
  sim.crash('a');
  sim.runUntil(3_700_000);
  oneMaster(sim, 'b');
});

test('a master that hears a lower priority (split brain healing) re-advertises and re-sends GARPs', () => {
  const sim = new Simulator({ seed: 14, link: { delayMs: 0.2 }, routers: [router('a', '10.0.0.1', 200), router('b', '10.0.0.2', 100)] });
  sim.start('a'); sim.start('b');
  sim.runUntil(10_000);
  sim.partition([['a'], ['b']]);
  sim.runUntil(20_000);
  // Heal only b → a first, so a is sure to hear b's lower-priority adverts while b is still master.
  sim.heal();
  sim.setLinkLoss('a', 'b', 1);
  sim.runUntil(22_000);
  sim.setLinkLoss('a', 'b', 0);
  sim.runUntil(25_000);
  oneMaster(sim, 'a');
  // a has been MASTER since ~3.6 s (second burst at ~8.6 s, no refresh): GARPs after 20 s answer the lower priority.
  const lowerGarps = sim.garps.filter((g) => g.router === 'a' && g.at >= 20_000);
  assert.ok(lowerGarps.length >= 1);
  assert.ok(sim.notifies.some((n) => n.router === 'a' && n.state === 'MASTER_RX_LOWER_PRI'));
});

test('same seed → identical run (determinism)', () => {
  const run = () => {
    const sim = new Simulator({ seed: 99, link: { loss: 0.3, delayMs: 1, jitterMs: 5 }, routers: [router('a', '10.0.0.1', 120), router('b', '10.0.0.2', 110), router('c', '10.0.0.3', 100)] });
    ['a', 'b', 'c'].forEach((id) => sim.start(id));
    sim.runUntil(300_000);
    return JSON.stringify(sim.transitions);
  };
  assert.equal(run(), run());
});

test('PASS authentication mismatch: adverts are dropped with reason auth, so both become master', () => {
  const sim = new Simulator({ seed: 15, link: { delayMs: 0.1 }, routers: [
    router('a', '10.0.0.1', 200, {}, { authPass: 'secret' }), router('b', '10.0.0.2', 100, {}, { authPass: 'other' })] });
  sim.start('a'); sim.start('b');
  sim.runUntil(10_000);
  assert.deepEqual(sim.masters(51).sort(), ['a', 'b']);
  assert.ok((sim.dropped('a', 'VI_1').auth ?? 0) > 0 && (sim.dropped('b', 'VI_1').auth ?? 0) > 0);
});

test('v3: a backup configured with 1 s adopts the master’s 100 ms interval and fails over on the master’s timing', () => {
  const sim = new Simulator({ seed: 16, link: { delayMs: 0 }, routers: [
    router('a', '10.0.0.1', 150, { version: 3, advertIntMs: 100 }), router('b', '10.0.0.2', 100, { version: 3, advertIntMs: 1000 })] });
  sim.start('a');
  sim.runUntil(1000);
  sim.start('b');
  sim.runUntil(5000);
  oneMaster(sim, 'a');
  assert.equal(sim.instance('b', 'VI_1').masterAdverIntMs, 100);
  sim.at(5000.05, () => sim.crash('a'));
  sim.runUntil(10_000);
  const last = sim.adverts.filter((x) => x.router === 'a').at(-1)!.at;
  const t = sim.transitionsTo('MASTER').find((x) => x.router === 'b')!;
  close(t.at - last, masterDownMs(3, 100, 100)); // 360.937 ms, not 3.6 s
});

test('sync group members configured state MASTER start together after one interval + minimal skew', () => {
  const inst = (prio: number, n: string) => [
    { name: 'VI_1', vrid: 51, primaryAddress: `10.0.0.${n}`, priority: prio, vips: [VIP], initialState: 'MASTER' as const },
    { name: 'VI_2', vrid: 52, primaryAddress: `10.0.1.${n}`, priority: prio, vips: ['10.0.1.100'], initialState: 'MASTER' as const },
  ];
  const sim = new Simulator({ seed: 17, link: { delayMs: 0 }, routers: [{ id: 'a', instances: inst(150, '1'), syncGroup: 'G' }] });
  sim.start('a');
  sim.runUntil(5000);
  const t = sim.transitionsTo('MASTER');
  assert.equal(t.length, 2);
  close(t[0]!.at, 1000 + skewTimeMs(2, 255, 1000));
  close(t[1]!.at, t[0]!.at);
  assert.deepEqual(sim.notifies.filter((n) => n.scope === 'GROUP').map((n) => n.state), ['BACKUP', 'MASTER']);
});
