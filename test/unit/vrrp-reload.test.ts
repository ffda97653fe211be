import { test } from 'node:test';
import assert from 'node:assert/strict';
import { carryOverState, diffVips, instanceIdentity, matchInstances, vipKey } from '../../src/vrrp/reload.js';
import { initialState, step } from '../../src/vrrp/machine.js';
import { instanceSpec } from '../../src/vrrp/spec.js';
import type { InstancePlan } from '../../src/vrrp/plan.js';
import { instancePlan, modelVip as vip } from '../helpers/vrrp-plan.js';

/** What an instance's reload identity is made of, each settable. */
interface Over { vrid?: number; interface?: string; family?: 4 | 6; unicast?: boolean; configuredSrc?: string; group?: string }

function plan(name: string, o: Over = {}): InstancePlan {
  const spec = instanceSpec({ name, vrid: o.vrid ?? 51, primaryAddress: '10.0.0.1', vips: ['10.0.0.100'], ...(o.group ? { mcastGroup: o.group } : {}) });
  const config = { ...(o.family ? { family: o.family } : {}), ...(o.unicast !== undefined ? { unicast: o.unicast } : {}) };
  return instancePlan(spec, { dev: o.interface, configuredSrc: o.configuredSrc, config });
}

test('identity: vrid, family, interface, unicast flag and source, multicast group; not the name', () => {
  assert.equal(instanceIdentity(plan('A')), instanceIdentity(plan('B')));
  assert.notEqual(instanceIdentity(plan('A')), instanceIdentity(plan('A', { vrid: 52 })));
  assert.notEqual(instanceIdentity(plan('A')), instanceIdentity(plan('A', { interface: 'eth1' })));
  assert.notEqual(instanceIdentity(plan('A')), instanceIdentity(plan('A', { family: 6 })));
  assert.notEqual(instanceIdentity(plan('A')), instanceIdentity(plan('A', { unicast: true })));
  assert.notEqual(instanceIdentity(plan('A', { unicast: true, configuredSrc: '10.0.0.1' })), instanceIdentity(plan('A', { unicast: true, configuredSrc: '10.0.0.2' })));
  assert.notEqual(instanceIdentity(plan('A')), instanceIdentity(plan('A', { group: '224.0.0.19' })));
  // In unicast mode the multicast group is irrelevant.
  assert.equal(instanceIdentity(plan('A', { unicast: true, group: 'x' })), instanceIdentity(plan('A', { unicast: true, group: 'y' })));
});

test('match: renamed instance is kept, others removed and added', () => {
  const oldP = [plan('VI_1'), plan('VI_2', { vrid: 52 })];
  const newP = [plan('RENAMED', { vrid: 51 }), plan('VI_3', { vrid: 53 })];
  const m = matchInstances(oldP, newP);
  assert.deepEqual(m.kept.map((k) => [k.old.config.name, k.next.config.name]), [['VI_1', 'RENAMED']]);
  assert.deepEqual(m.removed.map((p) => p.config.name), ['VI_2']);
  assert.deepEqual(m.added.map((p) => p.config.name), ['VI_3']);
});

test('match: a duplicated identity in the new config matches once', () => {
  const m = matchInstances([plan('A')], [plan('A'), plan('B')]);
  assert.equal(m.kept.length, 1);
  assert.deepEqual(m.added.map((p) => p.config.name), ['B']);
});

test('VIP diff: unchanged addresses are kept, changed prefix or device means remove + add', () => {
  const d = diffVips([vip('10.0.0.100'), vip('10.0.0.101'), vip('10.0.0.102')], [vip('10.0.0.100'), vip('10.0.0.101', { prefix: 24 }), vip('10.0.0.103', { dev: 'eth1' })]);
  assert.deepEqual(d.keep.map(vipKey), ['10.0.0.100/32@eth0']);
  assert.deepEqual(d.remove.map(vipKey), ['10.0.0.101/32@eth0', '10.0.0.102/32@eth0']);
  assert.deepEqual(d.add.map(vipKey), ['10.0.0.101/24@eth0', '10.0.0.103/32@eth1']);
  const same = diffVips([vip('10.0.0.100')], [vip('10.0.0.100')]);
  assert.equal(same.add.length + same.remove.length, 0);
});

test('carry-over: a MASTER stays MASTER, takes the new spec, and advertises at once without a notify', () => {
  const spec = instanceSpec({ name: 'VI_1', vrid: 51, primaryAddress: '10.0.0.1', priority: 150, vips: ['10.0.0.100'] });
  let st = step(initialState(spec), { type: 'start' }, 0).state;
  st = step(st, { type: 'timer' }, 10_000).state;
  assert.equal(st.state, 'MASTER');
  const { primaryAddress: _p, ...nextSpec } = { ...spec, vips: ['10.0.0.100', '10.0.0.101'] };
  const carried = carryOverState(st, nextSpec, 20_000);
  assert.equal(carried.state, 'MASTER');
  assert.equal(carried.spec.primaryAddress, '10.0.0.1');
  assert.deepEqual(carried.spec.vips, ['10.0.0.100', '10.0.0.101']);
  const r = step(carried, { type: 'timer' }, 20_000);
  assert.equal(r.state.state, 'MASTER');
  assert.ok(r.effects.some((e) => e.type === 'send-advert' && e.priority === 150));
  assert.ok(!r.effects.some((e) => e.type === 'notify' || e.type === 'state-changed' || e.type === 'add-vips' || e.type === 'remove-vips'));
});

test('carry-over: a BACKUP restarts its timers from the new configuration (keepalived resets both)', () => {
  const spec = instanceSpec({ name: 'VI_1', vrid: 51, primaryAddress: '10.0.0.1', priority: 100, version: 3, advertIntMs: 1000 });
  let st = step(initialState(spec), { type: 'start' }, 0).state;
  // A v3 backup adopted its master's 2 s interval before the reload.
  st = step(st, { type: 'advert-received', advert: { version: 3, type: 1, vrid: 51, priority: 150, advertIntMs: 2000, addresses: [] }, src: '10.0.0.2' }, 100).state;
  assert.equal(st.masterAdverIntMs, 2000);
  const { primaryAddress: _p, ...nextSpec } = { ...spec, advertIntMs: 500 };
  const carried = carryOverState(st, nextSpec, 5000);
  assert.equal(carried.state, 'BACKUP');
  assert.equal(carried.masterAdverIntMs, 500);
  assert.equal(carried.downAt, 5000 + 3 * 500 + 304.687); // skew (256 - 100) × 500 / 256 in µs
  // A reload that makes it the address owner takes over at once, as an owner does at start.
  const owner = carryOverState(st, { ...nextSpec, priority: 255 }, 5000);
  assert.equal(owner.effectivePriority, 255);
  assert.equal(owner.downAt, 5000.001);
  assert.equal(carryOverState(st, nextSpec, 5, '10.0.0.9').spec.primaryAddress, '10.0.0.9');
});
