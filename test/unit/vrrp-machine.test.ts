import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialState, nextDeadline, step, type Effect, type Input, type InstanceState } from '../../src/vrrp/machine.js';
import { instanceSpec, type VrrpInstanceSpec } from '../../src/vrrp/spec.js';
import { masterDownMs, roundAdvertInt, skewTimeMs } from '../../src/vrrp/timers.js';
import type { Advert } from '../../src/vrrp/packet.js';

/** A fake-clock driver around the pure machine. */
class Inst {
  st: InstanceState;
  now = 0;
  log: { at: number; e: Effect }[] = [];
  constructor(spec: Partial<VrrpInstanceSpec> & { primaryAddress?: string } = {}) {
    this.st = initialState(instanceSpec({ name: 'VI_1', vrid: 51, primaryAddress: '10.0.0.2', vips: ['10.0.0.100'], ...spec }));
  }
  feed(input: Input, at = this.now): Effect[] {
    this.now = at;
    const r = step(this.st, input, at);
    this.st = r.state;
    for (const e of r.effects) this.log.push({ at, e });
    return r.effects;
  }
  /** Fire timers up to `until` (inclusive), returning effects. */
  runUntil(until: number): Effect[] {
    const out: Effect[] = [];
    for (let d = nextDeadline(this.st); d !== undefined && d <= until; d = nextDeadline(this.st)) out.push(...this.feed({ type: 'timer' }, d));
    this.now = until;
    return out;
  }
  advert(priority: number, src: string, extra: Partial<Advert> = {}, at = this.now): Effect[] {
    const advert: Advert = { version: this.st.spec.version, type: 1, vrid: 51, priority, advertIntMs: this.st.spec.advertIntMs, addresses: ['10.0.0.100'], ...extra };
    return this.feed({ type: 'advert-received', advert, src }, at);
  }
}
const kinds = (es: Effect[]) => es.filter((e) => e.type !== 'log' && e.type !== 'state-changed').map((e) =>
  e.type === 'send-advert' ? `advert:${e.priority}` : e.type === 'notify' ? `notify:${e.state}` : e.type === 'send-garp' ? `garp:${e.count}:${e.reason}` : e.type);

test('timer formulas match keepalived (µs truncation) and the baseline', () => {
  assert.equal(skewTimeMs(2, 150, 1000), 414.062);
  assert.equal(masterDownMs(2, 150, 1000), 3414.062);
  assert.equal(masterDownMs(2, 100, 1000), 3609.375); // baseline: 3609.4
  assert.equal(skewTimeMs(2, 100, 1000), 609.375); // baseline SIGTERM takeover 609.5
  assert.equal(masterDownMs(3, 100, 100), 360.937); // baseline 360.9
  assert.equal(skewTimeMs(3, 100, 100), 60.937);
  assert.equal(masterDownMs(3, 200, 500), 1609.375); // §2.3 ≈1.61 s
  assert.equal(masterDownMs(3, 100, 1000, 5), 5609.375);
  assert.deepEqual(roundAdvertInt(2, 1500), { ms: 2000, changed: true });
  assert.deepEqual(roundAdvertInt(3, 123), { ms: 120, changed: true });
  assert.deepEqual(roundAdvertInt(3, 100_000), { ms: 40950, changed: true });
});

test('startup: INIT → BACKUP (notify BACKUP), MASTER exactly master_down later: advert first, then VIPs, GARPs, notify', () => {
  const i = new Inst({ priority: 150 });
  assert.deepEqual(kinds(i.feed({ type: 'start' }, 1000)), ['notify:BACKUP']);
  assert.equal(i.st.state, 'BACKUP');
  assert.equal(nextDeadline(i.st), 1000 + 3414.062);
  const eff = i.runUntil(1000 + 3414.062);
  assert.deepEqual(kinds(eff), ['advert:150', 'add-vips', 'garp:5:master', 'notify:MASTER']);
  assert.equal(i.st.state, 'MASTER');
  // Adverts every advert_int; second GARP burst after garp_master_delay; no refresh by default.
  const later = i.runUntil(1000 + 3414.062 + 5000);
  assert.deepEqual(kinds(later).filter((k) => k.startsWith('advert')).length, 5);
  assert.ok(kinds(later).includes('garp:5:master-delay'));
  assert.equal(kinds(i.runUntil(30000)).filter((k) => k.startsWith('garp')).length, 0);
});

test('address owner (255) becomes MASTER immediately after start', () => {
  const i = new Inst({ priority: 255 });
  assert.deepEqual(kinds(i.feed({ type: 'start' }, 0)), []); // no BACKUP notify for the owner (vrrp_init_state)
  assert.ok(nextDeadline(i.st)! < 0.01);
  assert.deepEqual(kinds(i.runUntil(1)), ['advert:255', 'add-vips', 'garp:5:master', 'notify:MASTER']);
  assert.equal(i.st.state, 'MASTER');
  // Held by a sync group, an instance wanting MASTER waits one interval + minimal skew.
  const h = new Inst({ priority: 100, initialState: 'MASTER' });
  h.st = step(h.st, { type: 'start' }, 0, { mayBecomeMaster: false }).state;
  assert.equal(nextDeadline(h.st), 1000 + 3.906);
});

test('two address owners: the lower address yields; the higher lowers itself to 254 if the rogue keeps advertising', () => {
  const lo = new Inst({ priority: 255, primaryAddress: '10.0.0.1' });
  lo.feed({ type: 'start' }, 0); lo.runUntil(1);
  lo.advert(255, '10.0.0.9', {}, 100);
  assert.equal(lo.st.state, 'BACKUP');
  const hi = new Inst({ priority: 255, primaryAddress: '10.0.0.9' });
  hi.feed({ type: 'start' }, 0); hi.runUntil(1);
  hi.advert(255, '10.0.0.1', {}, 100); // first: start counting 2 of our adverts
  assert.equal(hi.st.state, 'MASTER');
  assert.equal(hi.st.rogue?.counter, 2);
  // Answering the rogue's advert at 100 ms was this interval's advert (RFC 5798 6.4.3): the cadence restarts there.
  hi.runUntil(2101); // two adverts sent (1100, 2100) → window of 1.2 s opens
  assert.equal(hi.st.rogue?.until, 2100 + 1200);
  hi.advert(255, '10.0.0.1', {}, 2500);
  assert.equal(hi.st.effectivePriority, 254);
  assert.equal(hi.st.state, 'BACKUP');
  // Trackers cannot move an owner; a later advert from someone else restores 255.
  hi.feed({ type: 'tracker-changed', effectivePriority: 100, faults: [] }, 2600);
  assert.equal(hi.st.effectivePriority, 254);
  hi.advert(100, '10.0.0.5', {}, 2700);
  assert.equal(hi.st.effectivePriority, 255);
});

test('backup resets master-down on each accepted advert and takes over master_down after the last one', () => {
  const i = new Inst({ priority: 100 });
  i.feed({ type: 'start' }, 0);
  for (let t = 500; t <= 5500; t += 1000) { i.runUntil(t); i.advert(150, '10.0.0.1', {}, t); }
  assert.equal(i.st.state, 'BACKUP');
  assert.equal(i.st.masterAddress, '10.0.0.1');
  i.runUntil(5500 + 3609.374);
  assert.equal(i.st.state, 'BACKUP');
  i.runUntil(5500 + 3609.375);
  assert.equal(i.st.state, 'MASTER');
});

test('priority 0 from the master makes a backup take over after the skew time only', () => {
  const i = new Inst({ priority: 100 });
  i.feed({ type: 'start' }, 0);
  i.advert(150, '10.0.0.1', {}, 100);
  i.advert(0, '10.0.0.1', {}, 800);
  assert.equal(nextDeadline(i.st), 800 + 609.375);
  i.runUntil(800 + 609.375);
  assert.equal(i.st.state, 'MASTER');
});

test('master receiving priority 0 re-advertises at once and stays MASTER', () => {
  const i = new Inst({ priority: 255 });
  i.feed({ type: 'start' }, 0); i.runUntil(1);
  assert.deepEqual(kinds(i.advert(0, '10.0.0.9')), ['advert:255']);
  assert.equal(i.st.state, 'MASTER');
});

test('equal priority is broken by the primary IP (higher address wins), compared as unsigned bytes', () => {
  const m = new Inst({ priority: 100, primaryAddress: '10.0.0.20' });
  m.feed({ type: 'start' }, 0); m.runUntil(4000);
  assert.equal(m.st.state, 'MASTER');
  // Equal priority from 10.0.0.3 (lower): stay MASTER and force a new election.
  assert.deepEqual(kinds(m.advert(100, '10.0.0.3')), ['advert:100', 'garp:5:lower-prio', 'notify:MASTER_RX_LOWER_PRI']);
  assert.equal(m.st.state, 'MASTER');
  // Equal priority from 10.0.0.100 (higher; string compare would say lower): yield.
  assert.deepEqual(kinds(m.advert(100, '10.0.0.100')), ['remove-vips', 'notify:BACKUP']);
  assert.equal(m.st.state, 'BACKUP');
});

test('master → BACKUP on higher priority: no priority-0 advert, VIPs removed, master-down re-armed', () => {
  const i = new Inst({ priority: 100 });
  i.feed({ type: 'start' }, 0); i.runUntil(4000);
  const eff = i.advert(150, '10.0.0.1', {}, 4100);
  assert.deepEqual(kinds(eff), ['remove-vips', 'notify:BACKUP']);
  assert.equal(nextDeadline(i.st), 4100 + 3609.375);
});

test('higher_prio_send_advert: master sends one advert before yielding', () => {
  const i = new Inst({ priority: 100, higherPrioSendAdvert: true });
  i.feed({ type: 'start' }, 0); i.runUntil(4000);
  assert.deepEqual(kinds(i.advert(150, '10.0.0.1')), ['advert:100', 'remove-vips', 'notify:BACKUP']);
});

test('lower_prio_no_advert: master hearing lower priority only re-sends GARPs; lower-prio delay burst follows', () => {
  const i = new Inst({ priority: 150, lowerPrioNoAdvert: true, garp: { masterDelayMs: 0, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1, lowerPrioDelayMs: 2000, lowerPrioRepeat: 3 } });
  i.feed({ type: 'start' }, 0); i.runUntil(3500);
  assert.deepEqual(kinds(i.advert(100, '10.0.0.9', {}, 3600)), ['garp:3:lower-prio', 'notify:MASTER_RX_LOWER_PRI']);
  assert.ok(kinds(i.runUntil(5600)).includes('garp:3:lower-prio-delay'));
});

test('preempt: a higher-priority backup discards lower adverts and takes over when master-down expires', () => {
  const i = new Inst({ priority: 150 });
  i.feed({ type: 'start' }, 0);
  i.advert(100, '10.0.0.1', {}, 200);
  assert.equal(nextDeadline(i.st), 3414.062); // unchanged by the discarded advert
  i.advert(100, '10.0.0.1', {}, 1200); i.advert(100, '10.0.0.1', {}, 2200); i.advert(100, '10.0.0.1', {}, 3200);
  i.runUntil(3414.062);
  assert.equal(i.st.state, 'MASTER');
});

test('nopreempt: a higher-priority backup stays BACKUP while the lower master advertises', () => {
  const i = new Inst({ priority: 150, preempt: false });
  i.feed({ type: 'start' }, 0);
  for (let t = 200; t < 20000; t += 1000) { i.runUntil(t); i.advert(100, '10.0.0.1', {}, t); }
  assert.equal(i.st.state, 'BACKUP');
  i.runUntil(19200 + 3414.062);
  assert.equal(i.st.state, 'MASTER'); // master gone → takes over normally
});

test('preempt_delay: lower adverts are accepted until the delay has passed, then the backup preempts', () => {
  const i = new Inst({ priority: 150, preemptDelayMs: 10000 });
  i.feed({ type: 'start' }, 0);
  let t = 200;
  for (; t < 30000 && i.st.state === 'BACKUP'; t += 1000) { i.runUntil(t); if (i.st.state === 'BACKUP') i.advert(100, '10.0.0.1', {}, t); }
  // Delay starts at the first lower advert (200), adverts accepted until 10200; last accepted at 10200 (not >),
  // so master-down runs from 9200 (the last one accepted while preemptUntil > now).
  assert.equal(i.st.state, 'MASTER');
  const became = i.log.find((l) => l.e.type === 'notify' && l.e.state === 'MASTER')!.at;
  assert.equal(became, 9200 + 3414.062);
  // A ≥ advert clears a running preempt delay.
  const j = new Inst({ priority: 150, preemptDelayMs: 10000 });
  j.feed({ type: 'start' }, 0); j.advert(100, '10.0.0.1', {}, 100);
  assert.equal(j.st.preemptUntil, 10100);
  j.advert(200, '10.0.0.1', {}, 200);
  assert.equal(j.st.preemptUntil, undefined);
});

test('v3 backups adopt the master advert interval for master-down', () => {
  const i = new Inst({ priority: 100, version: 3, advertIntMs: 1000 });
  i.feed({ type: 'start' }, 0);
  i.advert(200, '10.0.0.1', { advertIntMs: 100 }, 50);
  assert.equal(i.st.masterAdverIntMs, 100);
  assert.equal(nextDeadline(i.st), 50 + 360.937);
  // v2 keeps its own (mismatches are dropped by validation anyway).
  const j = new Inst({ priority: 100 });
  j.feed({ type: 'start' }, 0); j.advert(200, '10.0.0.1', { advertIntMs: 2000 }, 50);
  assert.equal(j.st.masterAdverIntMs, 1000);
});

test('FAULT on interface down: a master sends priority 0, drops VIPs; adverts ignored; leaving FAULT → BACKUP', () => {
  const i = new Inst({ priority: 150 });
  i.feed({ type: 'start' }, 0); i.runUntil(3500);
  assert.deepEqual(kinds(i.feed({ type: 'interface-down' }, 4000)), ['advert:0', 'remove-vips', 'notify:FAULT']);
  assert.equal(nextDeadline(i.st), undefined);
  assert.deepEqual(kinds(i.advert(100, '10.0.0.1')), []);
  assert.deepEqual(kinds(i.feed({ type: 'interface-up' }, 5000)), ['notify:BACKUP']);
  assert.equal(nextDeadline(i.st), 5000 + 3414.062);
});

test('weight-0 tracker failure → FAULT (backup: no advert); weighted change moves the down timer by the skew delta', () => {
  const i = new Inst({ priority: 100 });
  i.feed({ type: 'start' }, 0);
  assert.deepEqual(kinds(i.feed({ type: 'tracker-changed', effectivePriority: 100, faults: ['chk'] }, 10)), ['notify:FAULT']);
  assert.deepEqual(i.st.faults, ['tracker:chk']);
  assert.deepEqual(kinds(i.feed({ type: 'tracker-changed', effectivePriority: 100, faults: [] }, 20)), ['notify:BACKUP']);
  const before = nextDeadline(i.st)!;
  i.feed({ type: 'tracker-changed', effectivePriority: 150, faults: [] }, 30);
  assert.equal(i.st.effectivePriority, 150);
  assert.ok(Math.abs(nextDeadline(i.st)! - (before - (609.375 - 414.062))) < 1e-9);
  // Two faults: both must clear.
  i.feed({ type: 'interface-down' }, 40);
  i.feed({ type: 'tracker-changed', effectivePriority: 150, faults: ['x'] }, 41);
  i.feed({ type: 'interface-up' }, 42);
  assert.equal(i.st.state, 'FAULT');
  i.feed({ type: 'tracker-changed', effectivePriority: 150, faults: [] }, 43);
  assert.equal(i.st.state, 'BACKUP');
});

test('owner priority never changes; notify_priority_changes emits BACKUP_PRIORITY/MASTER_PRIORITY', () => {
  const o = new Inst({ priority: 255 });
  o.feed({ type: 'tracker-changed', effectivePriority: 100, faults: [] });
  assert.equal(o.st.effectivePriority, 255);
  const i = new Inst({ priority: 100, notifyPriorityChanges: true });
  i.feed({ type: 'start' }, 0);
  assert.deepEqual(kinds(i.feed({ type: 'tracker-changed', effectivePriority: 90, faults: [] }, 1)), ['notify:BACKUP_PRIORITY']);
  assert.deepEqual(kinds(i.feed({ type: 'tracker-changed', effectivePriority: 90, faults: [] }, 2)), []);
});

test('shutdown: MASTER sends exactly one priority-0 advert, removes VIPs, notifies STOP; BACKUP only notifies', () => {
  const m = new Inst({ priority: 150 });
  m.feed({ type: 'start' }, 0); m.runUntil(3500);
  assert.deepEqual(kinds(m.feed({ type: 'shutdown' }, 4000)), ['advert:0', 'remove-vips', 'notify:STOP']);
  assert.equal(nextDeadline(m.st), undefined);
  assert.deepEqual(kinds(m.feed({ type: 'shutdown' }, 4001)), []);
  const b = new Inst({ priority: 100 });
  b.feed({ type: 'start' }, 0);
  assert.deepEqual(kinds(b.feed({ type: 'delete' }, 1)), ['notify:DELETED']);
});

test('VIP removed externally: MASTER → BACKUP and retakes after the skew time if nobody else does', () => {
  const i = new Inst({ priority: 100 });
  i.feed({ type: 'start' }, 0); i.runUntil(4000);
  assert.deepEqual(kinds(i.feed({ type: 'vip-removed-externally', address: '10.0.0.100' }, 5000)), ['remove-vips', 'notify:BACKUP']);
  assert.equal(nextDeadline(i.st), 5000 + 609.375);
  i.runUntil(5610);
  assert.equal(i.st.state, 'MASTER');
});

test('garp_master_refresh repeats while MASTER and stops on leaving', () => {
  const i = new Inst({ priority: 150, garp: { masterDelayMs: 0, masterRepeat: 1, masterRefreshMs: 2000, masterRefreshRepeat: 2, lowerPrioDelayMs: 0, lowerPrioRepeat: 0 } });
  i.feed({ type: 'start' }, 0); i.runUntil(3414.062);
  assert.equal(kinds(i.runUntil(3414.062 + 6000)).filter((k) => k === 'garp:2:refresh').length, 3);
  i.advert(200, '10.0.0.1');
  assert.equal(kinds(i.runUntil(i.now + 3000)).filter((k) => k.startsWith('garp')).length, 0);
});

test('step is pure: the input state is not modified', () => {
  const i = new Inst({ priority: 150 });
  const s0 = i.st;
  const snap = JSON.stringify(s0);
  step(s0, { type: 'start' }, 0);
  assert.equal(JSON.stringify(s0), snap);
});

import { checkInstanceSpec } from '../../src/vrrp/spec.js';
import { Prng } from '../sim/prng.js';

test('checkInstanceSpec reports unusable specs', () => {
  assert.deepEqual(checkInstanceSpec(instanceSpec({ name: 'x', vrid: 1, primaryAddress: '10.0.0.1', vips: ['10.0.0.2'] })), []);
  const bad = checkInstanceSpec(instanceSpec({ name: 'x', vrid: 0, primaryAddress: '10.0.0.1', vips: ['fe80::1'], advertIntMs: 1500, priority: 300 }));
  assert.equal(bad.length, 4);
});

test('property: random input sequences never throw and keep the state invariants', () => {
  const r = new Prng(2024);
  for (let run = 0; run < 300; run++) {
    const i = new Inst({ priority: r.pick([1, 50, 100, 200, 254, 255]), version: r.pick([2, 3] as const), preempt: r.next() < 0.7,
      preemptDelayMs: r.pick([0, 0, 5000]), advertIntMs: r.pick([1000, 2000]), lowerPrioNoAdvert: r.next() < 0.3, higherPrioSendAdvert: r.next() < 0.3 });
    let t = 0;
    for (let k = 0; k < 200; k++) {
      t += r.next() * 1500;
      const pick = r.int(0, 12);
      if (pick <= 4) i.runUntil(t);
      else if (pick <= 8) i.advert(r.pick([0, 1, 100, 150, 254, 255]), r.pick(['10.0.0.1', '10.0.0.2', '10.0.0.3']), { advertIntMs: r.pick([100, 1000]) }, t);
      else {
        const inputs: Input[] = [{ type: 'start' }, { type: 'interface-down' }, { type: 'interface-up' },
          { type: 'tracker-changed', effectivePriority: r.int(-10, 300), faults: r.next() < 0.2 ? ['s'] : [] },
          { type: 'vip-removed-externally', address: '10.0.0.100' }, { type: 'lower-prio-garp' }, { type: 'force-state', to: r.pick(['MASTER', 'BACKUP'] as const) }];
        i.feed(r.pick(inputs), t);
      }
      const s = i.st;
      if (s.state === 'MASTER') assert.ok(s.advertAt !== undefined && s.downAt === undefined);
      if (s.state === 'BACKUP') assert.ok(s.downAt !== undefined && s.advertAt === undefined);
      if (s.state === 'FAULT') assert.ok(s.faults.length > 0 && nextDeadline(s) === undefined);
      assert.ok(s.effectivePriority >= 1 && s.effectivePriority <= 255);
      const d = nextDeadline(s);
      if (d !== undefined) assert.ok(Number.isFinite(d));
    }
    i.feed({ type: 'shutdown' }, t + 1);
    assert.equal(nextDeadline(i.st), undefined);
    assert.ok(i.st.state === 'STOP' || i.st.state === 'INIT');
  }
});

test('master adverts keep their cadence when the timer fires late; a missed interval restarts it from now', () => {
  const i = new Inst({ priority: 150, version: 3, advertIntMs: 100 });
  i.feed({ type: 'start' }, 0);
  i.runUntil(341.406);
  assert.equal(i.st.state, 'MASTER');
  const first = nextDeadline(i.st)!;
  // Each timer fires 1.3 ms late: the deadlines stay on the 100 ms grid.
  let due = first;
  for (let n = 0; n < 5; n++) {
    assert.deepEqual(kinds(i.feed({ type: 'timer' }, due + 1.3)).filter((k) => k.startsWith('advert')), ['advert:150']);
    due += 100;
    assert.equal(nextDeadline(i.st), due);
  }
  // A stall of more than one interval: the next advert is one interval after the late one, no burst to catch up.
  i.feed({ type: 'timer' }, due + 250);
  assert.equal(nextDeadline(i.st), due + 250 + 100);
});
