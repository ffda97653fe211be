import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialState, type Input } from '../../src/vrrp/machine.js';
import { initialSyncGroup, nextGroupDeadline, stepGroup, type SyncGroupState, type TaggedEffect } from '../../src/vrrp/sync-group.js';
import { instanceSpec } from '../../src/vrrp/spec.js';

function group(prioA = 100, prioB = 100) {
  const a = initialState(instanceSpec({ name: 'VI_A', vrid: 1, primaryAddress: '10.0.0.2', priority: prioA, vips: ['10.0.0.101'] }));
  const b = initialState(instanceSpec({ name: 'VI_B', vrid: 2, primaryAddress: '10.0.1.2', priority: prioB, vips: ['10.0.1.101'], advertIntMs: 2000 }));
  return initialSyncGroup({ name: 'G1', members: ['VI_A', 'VI_B'] }, [a, b]);
}
class G {
  g: SyncGroupState; now = 0; out: TaggedEffect[] = [];
  constructor(g: SyncGroupState) { this.g = g; }
  feed(member: string | undefined, input: Input, at = this.now) {
    this.now = at;
    const r = stepGroup(this.g, member, input, at);
    this.g = r.state; this.out.push(...r.effects);
    return r.effects;
  }
  runUntil(t: number) {
    const all: TaggedEffect[] = [];
    for (let d = nextGroupDeadline(this.g); d !== undefined && d <= t; d = nextGroupDeadline(this.g)) all.push(...this.feed(undefined, { type: 'timer' }, d));
    this.now = t;
    return all;
  }
  st(n: string) { return this.g.members[n]!.state; }
}
const notes = (es: TaggedEffect[]) => es.filter((e) => e.effect.type === 'notify').map((e) => e.effect.type === 'notify' ? `${e.effect.scope}:${e.effect.name}:${e.effect.state}:${e.effect.priority}` : '');
const adv = (vrid: number, priority: number, advertIntMs = 1000) => ({ version: 2 as const, type: 1, vrid, priority, advertIntMs, addresses: [] });

test('members start BACKUP; the group goes MASTER only when every member wants it, then all together', () => {
  const g = new G(group());
  g.feed('VI_A', { type: 'start' }, 0);
  const st = g.feed('VI_B', { type: 'start' }, 0);
  assert.deepEqual(notes(g.out), ['INSTANCE:VI_A:BACKUP:100', 'INSTANCE:VI_B:BACKUP:100', 'GROUP:G1:BACKUP:0']);
  void st;
  // VI_A's master-down (3.609 s) fires first but VI_B (adv 2 s → 7.218 s) does not want MASTER yet: A is held.
  g.runUntil(3609.375);
  assert.equal(g.st('VI_A'), 'BACKUP');
  assert.equal(g.g.members['VI_A']!.wantState, 'MASTER');
  const eff = g.runUntil(7218.75);
  assert.equal(g.st('VI_A'), 'MASTER');
  assert.equal(g.st('VI_B'), 'MASTER');
  assert.deepEqual(notes(eff), ['INSTANCE:VI_B:MASTER:100', 'INSTANCE:VI_A:MASTER:100', 'GROUP:G1:MASTER:0']);
});

test('one member seeing a higher priority takes the whole group to BACKUP', () => {
  const g = new G(group());
  g.feed('VI_A', { type: 'start' }, 0); g.feed('VI_B', { type: 'start' }, 0);
  g.runUntil(8000);
  const eff = g.feed('VI_A', { type: 'advert-received', advert: adv(1, 200), src: '10.0.0.1' }, 8100);
  assert.equal(g.st('VI_A'), 'BACKUP'); assert.equal(g.st('VI_B'), 'BACKUP');
  assert.deepEqual(notes(eff), ['INSTANCE:VI_A:BACKUP:100', 'INSTANCE:VI_B:BACKUP:100', 'GROUP:G1:BACKUP:0']);
  // No priority-0 adverts on a BACKUP sync.
  assert.ok(!eff.some((e) => e.effect.type === 'send-advert'));
});

test('one member FAULT puts all in FAULT (masters send priority 0); all recover to BACKUP together', () => {
  const g = new G(group());
  g.feed('VI_A', { type: 'start' }, 0); g.feed('VI_B', { type: 'start' }, 0);
  g.runUntil(8000);
  const eff = g.feed('VI_B', { type: 'interface-down' }, 8100);
  assert.equal(g.st('VI_A'), 'FAULT'); assert.equal(g.st('VI_B'), 'FAULT');
  assert.deepEqual(eff.filter((e) => e.effect.type === 'send-advert').map((e) => `${e.instance}:${(e.effect as { priority: number }).priority}`), ['VI_B:0', 'VI_A:0']);
  assert.deepEqual(notes(eff).at(-1), 'GROUP:G1:FAULT:0');
  // A cannot leave FAULT while B still has its own fault.
  g.feed('VI_A', { type: 'interface-up' }, 8200);
  assert.equal(g.st('VI_A'), 'FAULT');
  const up = g.feed('VI_B', { type: 'interface-up' }, 9000);
  assert.equal(g.st('VI_A'), 'BACKUP'); assert.equal(g.st('VI_B'), 'BACKUP');
  assert.deepEqual(notes(up).at(-1), 'GROUP:G1:BACKUP:0');
});

test('a MASTER member hearing a lower priority makes the other members re-send their GARPs', () => {
  const g = new G(group());
  g.feed('VI_A', { type: 'start' }, 0); g.feed('VI_B', { type: 'start' }, 0);
  g.runUntil(8000);
  const eff = g.feed('VI_A', { type: 'advert-received', advert: adv(1, 50), src: '10.0.0.1' }, 8100);
  assert.deepEqual(eff.filter((e) => e.effect.type === 'send-garp').map((e) => e.instance), ['VI_A', 'VI_B']);
  assert.equal(g.st('VI_A'), 'MASTER');
});

test('shutdown of every member ends in group STOP', () => {
  const g = new G(group());
  g.feed('VI_A', { type: 'start' }, 0); g.feed('VI_B', { type: 'start' }, 0);
  g.runUntil(8000);
  g.feed('VI_A', { type: 'shutdown' }, 9000);
  const last = g.feed('VI_B', { type: 'shutdown' }, 9000);
  assert.deepEqual(notes(last), ['INSTANCE:VI_B:STOP:100', 'GROUP:G1:STOP:0']);
});

test('a VIP deleted externally on one member: the whole group goes BACKUP and retakes after the skew time', () => {
  const g = new G(group());
  g.feed('VI_A', { type: 'start' }, 0); g.feed('VI_B', { type: 'start' }, 0);
  g.runUntil(8000);
  g.feed('VI_A', { type: 'vip-removed-externally', address: '10.0.0.101' }, 9000);
  assert.equal(g.st('VI_A'), 'BACKUP'); assert.equal(g.st('VI_B'), 'BACKUP');
  assert.equal(g.g.members['VI_B']!.downAt, 9000 + 609.375); // v2 skew does not depend on the interval
  g.runUntil(9000 + 609.375);
  assert.equal(g.st('VI_A'), 'MASTER'); assert.equal(g.st('VI_B'), 'MASTER');
});
