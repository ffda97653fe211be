// FILE_CHECK through the pure verdict core: keepalived's value → status rule (track_file.c update_track_file_status,
// process_update_checker_track_file_status), its start state (check_file.c set_track_file_weights /
// set_track_file_checkers_down), the strtol reading of the file, and the config reader's FILE_CHECK block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckVerdict, FILE_CHECK_FAULT, fileCheckStatus, parseTrackFileValue, type CheckEvent } from '../../src/check/verdict.js';
import type { FileCheck, RealServer } from '../../src/config/model/index.js';
import { fileCheck, realServer, script, virtualServer } from '../helpers/check-model.js';
import { build } from '../helpers/model.js';

const F = '/run/kt/rs1';
const INT_MAX = 2147483647;

function core(ck: Partial<FileCheck> = {}, values: Record<string, number> = {}, rs: Partial<RealServer> = {}) {
  const v = virtualServer({
    key: 'vs1',
    realServers: [realServer('192.168.1.1', { weight: 10, checkers: [fileCheck(F, ck)], notifyUp: script('/up'), notifyDown: script('/down'), ...rs })],
  });
  const c = new CheckVerdict([v], { fileValues: new Map(Object.entries(values)) });
  const events: CheckEvent[] = [...c.takeInitialEvents()];
  const set = (value: number) => {
    const out = c.onFileValue(F, value);
    events.push(...out.events);
    return out;
  };
  const dests = () => c.desiredOf('vs1')!.dests.map((d) => `${d.addr}:${d.weight}`);
  const rsEvents = () => events.filter((e) => e.kind === 'rs-up' || e.kind === 'rs-down').map((e) => e.kind);
  return { c, set, dests, rsEvents };
}

test('status: value × weight, negated with reverse, clamped to int; weight 0 is a plain on/off', () => {
  assert.equal(fileCheckStatus(3, 5, false), 15);
  assert.equal(fileCheckStatus(3, 5, true), -15);
  assert.equal(fileCheckStatus(-3, 5, true), 15);
  assert.equal(fileCheckStatus(0, 7, false), 0);
  assert.equal(fileCheckStatus(2, INT_MAX, false), INT_MAX, 'clamped high');
  assert.equal(fileCheckStatus(-2, INT_MAX, false), FILE_CHECK_FAULT, 'clamped low: FAULT');
  assert.equal(fileCheckStatus(-1, INT_MAX, false), -INT_MAX, 'one above FAULT');
  // weight 0: any non-zero value is FAULT; with reverse, 0 is.
  assert.equal(fileCheckStatus(0, 0, false), 0);
  assert.equal(fileCheckStatus(9, 0, false), FILE_CHECK_FAULT);
  assert.equal(fileCheckStatus(0, 0, true), FILE_CHECK_FAULT);
  assert.equal(fileCheckStatus(9, 0, true), 0);
});

test('file text as strtol(base 0) reads it; out-of-range values are ignored', () => {
  assert.equal(parseTrackFileValue('42\n'), 42);
  assert.equal(parseTrackFileValue('  -7 junk'), -7);
  assert.equal(parseTrackFileValue('+5'), 5);
  assert.equal(parseTrackFileValue('0x1f'), 31);
  assert.equal(parseTrackFileValue('010'), 8, 'leading 0 is octal');
  assert.equal(parseTrackFileValue('09'), 0, 'octal stops at 9');
  assert.equal(parseTrackFileValue('garbage'), 0);
  assert.equal(parseTrackFileValue(''), 0);
  assert.equal(parseTrackFileValue('-2147483648'), -2147483648);
  assert.equal(parseTrackFileValue('2147483648'), 2147483648, 'INT32_MAX + 1 is accepted');
  assert.equal(parseTrackFileValue('2147483649'), undefined);
  assert.equal(parseTrackFileValue('-2147483649'), undefined);
  assert.equal(parseTrackFileValue('99999999999999999999999'), undefined);
});

test('weight 1: a value adds to the real server weight; -254 is not a fault for a checker, INT32_MIN is', () => {
  const s = core({}, { [F]: 0 });
  assert.deepEqual(s.dests(), ['192.168.1.1:10']);
  s.set(5);
  assert.deepEqual(s.dests(), ['192.168.1.1:15']);
  s.set(-254);
  assert.deepEqual(s.dests(), ['192.168.1.1:0'], 'weight 10 - 254 is clamped to 0 in IPVS but stays in the pool');
  assert.deepEqual(s.rsEvents(), []);
  s.set(-2147483648);
  assert.deepEqual(s.dests(), [], 'FAULT: out of the pool');
  assert.deepEqual(s.rsEvents(), ['rs-down']);
  s.set(2);
  assert.deepEqual(s.dests(), ['192.168.1.1:12'], 'back with value × weight');
  assert.deepEqual(s.rsEvents(), ['rs-down', 'rs-up']);
});

test('weight 0 (track_file weight 0): non-zero is down, 0 is up; with reverse the other way round', () => {
  const s = core({ weight: 0 }, { [F]: 0 });
  assert.deepEqual(s.dests(), ['192.168.1.1:10']);
  s.set(1);
  assert.deepEqual([s.dests(), s.rsEvents()], [[], ['rs-down']]);
  s.set(3);
  assert.deepEqual(s.rsEvents(), ['rs-down'], 'still FAULT: nothing new');
  s.set(0);
  assert.deepEqual([s.dests(), s.rsEvents()], [['192.168.1.1:10'], ['rs-down', 'rs-up']]);

  const r = core({ weight: 0, weightReverse: true }, { [F]: 2 });
  r.set(0);
  r.set(4);
  assert.deepEqual([r.dests(), r.rsEvents()], [['192.168.1.1:10'], ['rs-up']], 'reverse: non-zero is up');
  r.set(0);
  assert.deepEqual([r.dests(), r.rsEvents()], [[], ['rs-up', 'rs-down']], 'reverse: 0 is FAULT');
});

test('reverse: a positive value lowers the weight; a large one faults', () => {
  const s = core({ weight: 1000000, weightReverse: true }, { [F]: 0 });
  s.set(1);
  assert.deepEqual(s.dests(), ['192.168.1.1:0'], '10 - 1000000 → 0, still in the pool');
  s.set(-1);
  assert.deepEqual(s.dests(), ['192.168.1.1:1000010']);
  s.set(3000);
  assert.deepEqual([s.dests(), s.rsEvents()], [[], ['rs-down']]);
});

test('start state: the value at start sets the weight, and a FAULT value starts the real server down', () => {
  assert.deepEqual(core({ weight: 3 }, { [F]: 4 }).dests(), ['192.168.1.1:22']);
  const down = core({ weight: 0 }, { [F]: 1 });
  assert.deepEqual(down.dests(), []);
  down.set(0);
  assert.deepEqual([down.dests(), down.rsEvents()], [['192.168.1.1:10'], ['rs-up']]);
  assert.deepEqual(core({}, { [F]: -2147483648 }).dests(), []);
  // keepalived stores value × weight into an int at start (wrapping) and never takes it out after a FAULT start:
  // -1431655766 × 3 = -2^32 - 2 wraps to -2, so the real server comes back at 10 - 2.
  const wrap = core({ weight: 3 }, { [F]: -1431655766 });
  assert.deepEqual(wrap.dests(), []);
  wrap.set(0);
  assert.deepEqual(wrap.dests(), ['192.168.1.1:8']);
  assert.deepEqual(core({}, {}).dests(), ['192.168.1.1:10'], 'no file: 0');
  // keepalived tests only "non-zero" at start: weight 0 + reverse starts down on a non-zero value (kept as keepalived).
  assert.deepEqual(core({ weight: 0, weightReverse: true }, { [F]: 5 }).dests(), []);
});

test('missing or unreadable file reads as 0; an ignored value changes nothing (the engine does not pass it)', () => {
  const s = core({ weight: 2 }, { [F]: 5 });
  assert.deepEqual(s.dests(), ['192.168.1.1:20']);
  const out = s.set(0);
  assert.deepEqual(s.dests(), ['192.168.1.1:10']);
  assert.equal(out.changed.length, 1);
  assert.equal(s.set(0).changed.length, 0, 'same value: no change');
});

test('two FILE_CHECKs on one real server: either FAULT takes it down, both weights add up', () => {
  const G = '/run/kt/rs2';
  const v = virtualServer({ key: 'vs1', realServers: [realServer('192.168.1.1', { weight: 10, checkers: [fileCheck(F), fileCheck(G, { weight: 10 })] })] });
  const c = new CheckVerdict([v], { fileValues: new Map([[F, 1], [G, 1]]) });
  const dests = () => c.desiredOf('vs1')!.dests.map((d) => `${d.addr}:${d.weight}`);
  assert.deepEqual(dests(), ['192.168.1.1:21']);
  c.onFileValue(G, -2147483648);
  assert.deepEqual(dests(), []);
  c.onFileValue(F, 2);
  c.onFileValue(G, 3);
  assert.deepEqual(dests(), ['192.168.1.1:42']);
});

test('a FILE_CHECK has no probe results', () => {
  const s = core();
  assert.throws(() => s.c.onResult(0, { ok: true, reason: 'x' }, 0, 0), /FILE_CHECK/);
});

const CONF = (check: string, tf = 'track_file tf {\n  file /run/kt/v\n  weight 3 reverse\n}\n') =>
  `${tf}virtual_server 10.0.0.100 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  real_server 192.168.1.10 80 {\n${check}\n  }\n}\n`;

test('config: FILE_CHECK takes the track_file path and, without its own weight, the track_file weight', () => {
  const b = build(CONF('    FILE_CHECK {\n      track_file tf\n    }'));
  assert.deepEqual(b.golden, []);
  const ck = b.model.virtualServers[0]!.realServers[0]!.checkers[0]!;
  assert.equal(ck.type, 'FILE_CHECK');
  if (ck.type !== 'FILE_CHECK') return;
  assert.deepEqual([ck.trackFile, ck.file, ck.weight, ck.weightReverse], ['tf', '/run/kt/v', 3, true]);

  const own = build(CONF('    FILE_CHECK {\n      track_file tf\n      weight -2147483647 noreverse\n    }')).model.virtualServers[0]!.realServers[0]!.checkers[0]!;
  assert.deepEqual(own.type === 'FILE_CHECK' ? [own.weight, own.weightReverse] : [], [-2147483647, false]);
});

test('config: FILE_CHECK errors as keepalived reports them', () => {
  const none = build(CONF('    FILE_CHECK {\n      weight 2\n    }'));
  assert.deepEqual(none.golden, ['error missing-parameter @10']);
  assert.equal(none.model.virtualServers[0]!.realServers[0]!.checkers.length, 0);
  const unknown = build(CONF('    FILE_CHECK {\n      track_file nope\n    }'));
  assert.deepEqual(unknown.golden, ['error unknown-reference @10']);
  assert.equal(unknown.model.virtualServers[0]!.realServers[0]!.checkers.length, 0);
  const bad = build(CONF('    FILE_CHECK {\n      track_file tf\n      weight 2147483648\n      dynamic\n    }'));
  // `dynamic` is in keepalived's man page but check_file.c never installed it: an unknown keyword there too.
  assert.deepEqual(bad.golden, ['error out-of-range @12', 'error unknown-keyword @13']);
});
