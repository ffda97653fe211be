// garp_group blocks: keepalived 2.2.7's verdicts (vrrp_parser.c garp_group_*_handler, checked with keepalived -t) and
// the groups the VRRP plan gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build, VI } from '../helpers/model.js';

const gg = (body: string, pre = '') => build(`${pre}garp_group {\n${body}\n}\n${VI()}`);

test('a group: intervals in µs steps, interfaces from `interface` and `interfaces {}`', () => {
  const b = gg('  garp_interval 0.25\n  gna_interval 1.5\n  interface eth0\n  interfaces {\n    eth1 lo\n  }');
  assert.deepEqual(b.golden, []);
  assert.deepEqual(b.model.garpGroups.map(({ loc: _l, ...g }) => g), [{ garpIntervalMs: 250, gnaIntervalMs: 1500, interfaces: ['eth0', 'eth1', 'lo'] }]);
  assert.deepEqual(gg('  gna_interval 0.000001\n  interface eth0').model.garpGroups[0]!.gnaIntervalMs, 0.001);
});

test('keepalived -t verdicts: every one of these is an error (exit 5)', () => {
  const cases: Array<[string, string[], number]> = [
    ['  interface eth0', ['error no-delay @1'], 0],
    ['  garp_interval x\n  interface eth0', ['error invalid-number @2'], 1],
    ['  garp_interval -1\n  interface eth0', ['error out-of-range @2', 'error no-delay @1'], 0],
    ['  garp_interval 0.0000001\n  interface eth0', ['error invalid-number @2'], 1],
    ['  garp_interval 2147.483648', ['error out-of-range @2', 'error no-delay @1'], 0],
    ['  garp_interval 0.01\n  interface nosuch', ['error bad-interface @3'], 1],
    ['  garp_interval 0.01\n  interfaces {\n  }', ['error empty-block @3'], 1],
    ['  garp_interval 0.01\n  interface eth0\n  interface eth0', ['error duplicate @4'], 1],
    ['  bogus 1\n  garp_interval 1', ['error unknown-keyword @2'], 1],
  ];
  for (const [body, golden, groups] of cases) {
    const b = gg(body);
    assert.deepEqual(b.golden, golden, body);
    assert.equal(b.model.garpGroups.length, groups, body);
  }
  assert.deepEqual(gg('  garp_interval 3\n  interface eth0').golden, [], 'a large interval is only logged');
});

test('an interface belongs to the first group naming it; dynamic_interfaces lets a missing one through', () => {
  const b = build(`garp_group {\n  garp_interval 1\n  interface eth0\n}\ngarp_group {\n  gna_interval 1\n  interfaces {\n    eth0 eth1\n  }\n}\n${VI()}`);
  assert.deepEqual(b.golden, ['error duplicate @8']);
  assert.deepEqual(b.model.garpGroups.map((g) => g.interfaces), [['eth0'], ['eth1']]);
  const d = gg('  garp_interval 1\n  interface ghost', 'global_defs {\n  dynamic_interfaces\n}\n');
  assert.deepEqual(d.golden, []);
  assert.deepEqual(d.model.garpGroups[0]!.interfaces, ['ghost']);
});
