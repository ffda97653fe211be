// vrrp_track_process: the config model (keepalived's vrrp_parser.c handlers), the matcher (comm vs argv[0],
// param_match), the counter (quorum / quorum_max, fork_delay / terminate_delay on a fake clock) and the process
// connector codec on bytes captured from this machine's kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build, VI } from '../helpers/model.js';
import { exitCodeFor } from '../../src/config/diagnostics.js';
import { ProcessTracking, processMatches, factsNeeded, type ProcessTrackerSpec } from '../../src/vrrp/track-process.js';
import {
  decodeProcEvent, encodeProcListen, PROC_CN_MCAST_LISTEN, PROC_CN_MCAST_IGNORE,
} from '../../src/net/proc-connector-codec.js';
import { vrrpPlan } from '../../src/vrrp/plan.js';

const TP = (body: string, name = 'p') => `vrrp_track_process ${name} {\n${body}\n}\n`;

// ---- config model ----------------------------------------------------------------------------------------------

test('vrrp_track_process: keepalived defaults (comm match, quorum 1..4294967295, weight 0, no delays)', () => {
  const b = build(TP('  process nginx') + VI('  track_process {\n    p\n  }'));
  assert.deepEqual(b.golden, []);
  const { loc: _loc, ...t } = b.model.trackProcesses[0]!;
  assert.deepEqual(t, {
    name: 'p', process: 'nginx', params: [], paramMatch: 'none', fullCommand: false, quorum: 1, quorumMax: 4294967295,
    weight: 0, weightReverse: false, terminateDelayMs: 0, forkDelayMs: 0,
  });
  assert.deepEqual(b.model.vrrpInstances[0]!.trackProcesses.map((r) => r.name), ['p']);
});

test('vrrp_track_process: parameters imply full_command and exact matching; param_match, delays, weight', () => {
  const b = build(TP('  process /usr/sbin/haproxy -f /etc/haproxy.cfg\n  param_match partial\n  quorum 2\n  quorum_max 4\n  weight -30 reverse\n  delay 1.5\n  fork_delay 0.25'));
  assert.deepEqual(b.golden.filter((g) => !g.includes('unused')), []);
  const t = b.model.trackProcesses[0]!;
  assert.deepEqual([t.process, t.params, t.paramMatch, t.fullCommand], ['/usr/sbin/haproxy', ['-f', '/etc/haproxy.cfg'], 'partial', true]);
  assert.deepEqual([t.quorum, t.quorumMax, t.weight, t.weightReverse, t.terminateDelayMs, t.forkDelayMs], [2, 4, -30, true, 1500, 250]);
  // param_match with no word: exact; parameters after param_match keep it.
  const e = build(TP('  param_match\n  process sleep 1000')).model.trackProcesses[0]!;
  assert.deepEqual([e.paramMatch, e.fullCommand], ['exact', true]);
  assert.equal(build(TP('  process sleep\n  full_command')).model.trackProcesses[0]!.paramMatch, 'none');
});

test('vrrp_track_process: quorum_max 0 alone tracks absence (quorum 0); the order checks keepalived makes', () => {
  const z = build(TP('  process x\n  quorum_max 0')).model.trackProcesses[0]!;
  assert.deepEqual([z.quorum, z.quorumMax], [0, 0]);
  const b = build(TP('  process x\n  quorum 3\n  quorum_max 2\n  quorum 70000\n  delay 0\n  weight 300\n  param_match exact'));
  assert.deepEqual(b.golden, ['error conflict @4', 'error out-of-range @5', 'error out-of-range @6', 'error out-of-range @7', 'error invalid-value @8']);
  const t = b.model.trackProcesses[0]!;
  assert.deepEqual([t.quorum, t.quorumMax, t.weight, t.terminateDelayMs, t.paramMatch], [3, 4294967295, 0, 0, 'none']);
  const q = build(TP('  process x\n  quorum_max 5\n  quorum 6'));
  assert.deepEqual(q.golden, ['error conflict @4']);
});

test('vrrp_track_process: no process, duplicate process/weight, unknown keyword and references are errors', () => {
  const b = build(TP('  weight 10') + TP('  process a\n  process b\n  weight 5\n  weight 6\n  procss c', 'q') + VI('  track_process {\n    p\n    q weight 20 reverse\n    nope\n  }'));
  assert.deepEqual(b.golden, [
    'error missing-parameter @1', 'error duplicate @6', 'error duplicate @8', 'error unknown-keyword @9',
    'error unknown-reference @18', 'error unknown-reference @20',
  ]);
  assert.match(b.diags[0]!.message, /track process 'p' process name not specified/);
  assert.deepEqual(b.model.trackProcesses.map((t) => [t.name, t.process, t.weight]), [['q', 'a', 5]]);
  assert.deepEqual(b.model.vrrpInstances[0]!.trackProcesses.map((r) => [r.name, r.weight, r.reverse]), [['q', 20, true]]);
  assert.notEqual(exitCodeFor(b.diags), 0);
});

test('track_process in a sync group with an address owner: the weight is set to 0 with an error', () => {
  const text = TP('  process x\n  weight 10') + VI('  priority 255', 'A', 1) + VI('  priority 255', 'B', 2) +
    'vrrp_sync_group G {\n  group {\n    A\n    B\n  }\n  track_process {\n    p\n  }\n}\n';
  const b = build(text);
  assert.deepEqual(b.golden, ['error ignored-weight @27']);
  assert.equal(b.model.syncGroups[0]!.trackProcesses[0]!.weight, 0);
});

test('a reference with a weight keeps the process\'s own reverse unless it says reverse or noreverse (keepalived)', () => {
  const b = build(TP('  process x\n  weight -20 reverse') + VI('  track_process {\n    p weight 5\n  }', 'A', 1) +
    VI('  track_process {\n    p weight 5 noreverse\n  }', 'B', 2) + VI('  track_process {\n    p\n  }', 'C', 3));
  assert.deepEqual(b.golden, []);
  const plan = vrrpPlan(b.model, () => ({ uid: 0, gid: 0 }));
  assert.deepEqual(plan.instances.map((i) => [i.spec.trackers[0]!.weight, i.spec.trackers[0]!.reverse]), [[5, true], [5, false], [-20, true]]);
});

test('the plan gives instances and sync groups process trackers with the resolved weight', () => {
  const b = build(TP('  process x\n  weight -20') + VI('  track_process {\n    p\n  }', 'A', 1) + VI('  track_process {\n    p weight 7 reverse\n  }', 'B', 2));
  const plan = vrrpPlan(b.model, () => ({ uid: 0, gid: 0 }));
  assert.deepEqual(plan.instances.map((i) => i.spec.trackers), [
    [{ name: 'process:p', kind: 'process', weight: -20, reverse: false }],
    [{ name: 'process:p', kind: 'process', weight: 7, reverse: true }],
  ]);
  assert.equal(plan.instances[0]!.trackers[0]!.process?.process, 'x');
});

// ---- matcher ---------------------------------------------------------------------------------------------------

const spec = (o: Partial<ProcessTrackerSpec>): ProcessTrackerSpec => ({
  name: 't', process: 'sleep', params: [], paramMatch: 'none', fullCommand: false, quorum: 1, quorumMax: 4294967295,
  terminateDelayMs: 0, forkDelayMs: 0, ...o,
});

test('matcher: without full_command the comm name is compared, never a path', () => {
  assert.ok(processMatches(spec({}), { pid: 1, comm: 'sleep', argv: ['/bin/sleep', '10'] }));
  assert.ok(!processMatches(spec({}), { pid: 1, comm: 'sleepy' }));
  assert.ok(!processMatches(spec({ process: '/bin/sleep' }), { pid: 1, comm: 'sleep', argv: ['/bin/sleep'] }));
  // comm is at most 15 characters: a longer name never matches without full_command.
  assert.ok(!processMatches(spec({ process: 'a-very-long-daemon-name' }), { pid: 1, comm: 'a-very-long-dae' }));
});

test('matcher: full_command compares argv[0] as written', () => {
  const s = spec({ process: '/bin/sleep', fullCommand: true });
  assert.ok(processMatches(s, { pid: 1, argv: ['/bin/sleep', '100'] }));
  assert.ok(!processMatches(s, { pid: 1, argv: ['sleep', '100'] }));
  assert.ok(!processMatches(s, { pid: 1, argv: [] }), 'kernel threads and zombies have no command line');
  assert.ok(!processMatches(s, { pid: 1, comm: 'sleep' }));
});

test('matcher: param_match exact, partial and initial', () => {
  const argv = ['/usr/sbin/haproxy', '-f', '/etc/haproxy.cfg', '-D'];
  const m = (paramMatch: ProcessTrackerSpec['paramMatch'], params: string[]) =>
    processMatches(spec({ process: '/usr/sbin/haproxy', fullCommand: true, paramMatch, params }), { pid: 1, argv });
  assert.ok(m('exact', ['-f', '/etc/haproxy.cfg', '-D']));
  assert.ok(!m('exact', ['-f', '/etc/haproxy.cfg']));
  assert.ok(!m('exact', []), 'exact with no parameters: the command has none');
  assert.ok(processMatches(spec({ process: 'x', fullCommand: true, paramMatch: 'exact' }), { pid: 1, argv: ['x'] }));
  assert.ok(m('partial', ['-f', '/etc/haproxy.cfg']));
  assert.ok(!m('partial', ['-f', '/etc/hap']));
  assert.ok(!m('partial', ['/etc/haproxy.cfg']), 'partial: the configured parameters come first');
  assert.ok(m('partial', []));
  assert.ok(m('initial', ['-f', '/etc/hap']), 'initial: the last parameter may be a prefix');
  assert.ok(!m('initial', ['-x', '/etc/hap']));
  assert.ok(!m('initial', ['-f', '/etc/haproxy.cfg', '-D', '-x']));
});

test('factsNeeded: comm for plain names, cmdline only when a tracker compares it', () => {
  assert.deepEqual(factsNeeded([spec({})]), { comm: true, cmdline: false });
  assert.deepEqual(factsNeeded([spec({ fullCommand: true })]), { comm: false, cmdline: true });
});

// ---- counter ---------------------------------------------------------------------------------------------------

const p = (pid: number, comm = 'sleep') => ({ pid, comm });

test('counter: scan decides the quorum at once; exec and exit move it without delays', () => {
  const t = new ProcessTracking([spec({ quorum: 2 })]);
  assert.deepEqual(t.scan([p(10), p(11, 'bash')]), [{ name: 't', up: false }]);
  assert.deepEqual(t.exec(p(12), 0), [{ name: 't', up: true }]);
  assert.deepEqual(t.exec(p(12), 0), [], 'an exec of a process already counted counts nothing more');
  assert.deepEqual(t.exit(11, 0), [], 'an unrelated process');
  assert.deepEqual(t.exit(10, 0), [{ name: 't', up: false }]);
  assert.deepEqual(t.status(), [{ name: 't', count: 1, up: false }]);
});

test('counter: a process that execs something else stops counting; a comm change moves it too', () => {
  const t = new ProcessTracking([spec({})]);
  t.scan([p(10)]);
  assert.deepEqual(t.exec({ pid: 10, comm: 'cat' }, 0), [{ name: 't', up: false }]);
  assert.deepEqual(t.comm(10, 'sleep', 0), [{ name: 't', up: true }]);
  assert.deepEqual(t.comm(10, 'other', 0), [{ name: 't', up: false }]);
  assert.equal(t.trackedPids, 0);
});

test('counter: quorum_max — above the range is down, back into it is up; quorum_max 0 tracks absence', () => {
  const t = new ProcessTracking([spec({ quorum: 1, quorumMax: 2 })]);
  t.scan([p(1), p(2)]);
  assert.deepEqual(t.exec(p(3), 0), [{ name: 't', up: false }]);
  assert.deepEqual(t.exit(1, 0), [{ name: 't', up: true }]);
  const z = new ProcessTracking([spec({ quorum: 0, quorumMax: 0 })]);
  assert.deepEqual(z.scan([]), [{ name: 't', up: true }]);
  assert.deepEqual(z.exec(p(5), 0), [{ name: 't', up: false }]);
  assert.deepEqual(z.exit(5, 0), [{ name: 't', up: true }]);
});

test('counter: forks count where the parent counts', () => {
  const t = new ProcessTracking([spec({ quorum: 2 })]);
  t.scan([p(1)]);
  assert.deepEqual(t.fork(99, 100, 0), [], 'parent not tracked');
  assert.deepEqual(t.fork(1, 2, 0), [{ name: 't', up: true }]);
  assert.deepEqual(t.exit(2, 0), [{ name: 't', up: false }]);
});

test('delays on a fake clock: terminate_delay holds a loss by exit, a return within it calls the loss off', () => {
  const t = new ProcessTracking([spec({ terminateDelayMs: 2000, forkDelayMs: 2000 })]);
  t.scan([p(1)]);
  assert.deepEqual(t.exit(1, 1000), []);
  assert.equal(t.nextDeadline(), 3000);
  assert.deepEqual(t.tick(2999), []);
  assert.deepEqual(t.exec(p(2), 2500), [], 'back before the deadline: no change at all');
  assert.equal(t.nextDeadline(), undefined);
  assert.deepEqual(t.exit(2, 4000), []);
  assert.deepEqual(t.tick(6000), [{ name: 't', up: false }]);
  // A gain by exec is not delayed (keepalived applies fork_delay to forks only).
  assert.deepEqual(t.exec(p(3), 7000), [{ name: 't', up: true }]);
});

test('delays on a fake clock: fork_delay holds a gain by fork; an exit within it cancels the gain', () => {
  const t = new ProcessTracking([spec({ quorum: 2, forkDelayMs: 500 })]);
  t.scan([p(1)]);
  assert.deepEqual(t.fork(1, 2, 100), []);
  assert.equal(t.nextDeadline(), 600);
  assert.deepEqual(t.tick(600), [{ name: 't', up: true }]);
  assert.deepEqual(t.exit(2, 700), [{ name: 't', up: false }], 'no terminate_delay: the loss is at once');
  assert.deepEqual(t.fork(1, 3, 800), []);
  assert.deepEqual(t.exit(3, 900), []);
  assert.equal(t.nextDeadline(), undefined);
  assert.deepEqual(t.tick(2000), []);
});

test('rescan after lost events: the new count decides, through the delays', () => {
  const t = new ProcessTracking([spec({ terminateDelayMs: 1000 }), spec({ name: 'u' })]);
  t.scan([p(1)]);
  assert.deepEqual(t.rescan([], 5000), [{ name: 'u', up: false }]);
  assert.deepEqual(t.tick(6000), [{ name: 't', up: false }]);
  assert.deepEqual(t.rescan([p(7)], 7000), [{ name: 't', up: true }, { name: 'u', up: true }]);
  assert.deepEqual(t.exit(7, 8000), [{ name: 'u', up: false }]);
});

// ---- connector codec -------------------------------------------------------------------------------------------

// Captured on this machine (kernel 6.18) with a NETLINK_CONNECTOR socket bound to CN_IDX_PROC after LISTEN.
const CAPTURED = {
  listen: '28000000030000000000000088690000010000000100000000000000000000000400000001000000',
  ack: '4c00000003000000d02a0000000000000100000001000000d02a000001000000280000000000000001000000136ad16d06140000000000000000000000000000000000000000000000000000',
  fork: '4c00000003000000d12a0000000000000100000001000000d12a00000000000028000000010000000100000096bad26d061400008869000088690000c9690000c96900000000000000000000',
  exec: '4c00000003000000d22a0000000000000100000001000000d22a000000000000280000000200000001000000103bd86d06140000c6690000c669000000000000000000000000000000000000',
  comm: '4c00000003000000d42a0000000000000100000001000000d42a00000000000028000000000200000100000079c70a6e06140000c9690000c96900006b7470636f6d6d0a0000000000000000',
  exit: '4c00000003000000dd2a0000000000000100000001000000dd2a00000000000028000000000000800100000035f0757006140000c7690000c76900000000000011000000c0690000c0690000',
  sid: '4c00000003000000a7330000000000000100000001000000a7330000000000002800000080000000000000003ee5ae7408140000f16c0000f16c000000000000000000000000000000000000',
};
const hex = (h: string) => Buffer.from(h, 'hex');

test('codec: the LISTEN request is byte for byte what a client sends; IGNORE differs only in the op', () => {
  assert.equal(encodeProcListen(0x6988, PROC_CN_MCAST_LISTEN).toString('hex'), CAPTURED.listen);
  const ign = encodeProcListen(0x6988, PROC_CN_MCAST_IGNORE);
  assert.equal(ign.readUInt32LE(36), 2);
});

test('codec: decodes the kernel\'s ack, fork, exec, comm, exit and other events', () => {
  assert.deepEqual(decodeProcEvent(hex(CAPTURED.ack)), { what: 'ack', cpu: 1, seq: 0x2ad0, err: 0 });
  assert.deepEqual(decodeProcEvent(hex(CAPTURED.fork)), { what: 'fork', cpu: 1, seq: 0x2ad1, parentPid: 0x6988, parentTgid: 0x6988, childPid: 0x69c9, childTgid: 0x69c9 });
  assert.deepEqual(decodeProcEvent(hex(CAPTURED.exec)), { what: 'exec', cpu: 1, seq: 0x2ad2, pid: 0x69c6, tgid: 0x69c6 });
  assert.deepEqual(decodeProcEvent(hex(CAPTURED.comm)), { what: 'comm', cpu: 1, seq: 0x2ad4, pid: 0x69c9, tgid: 0x69c9, comm: 'ktpcomm\n' });
  assert.deepEqual(decodeProcEvent(hex(CAPTURED.exit)), { what: 'exit', cpu: 1, seq: 0x2add, pid: 0x69c7, tgid: 0x69c7, exitCode: 0, exitSignal: 17 });
  assert.deepEqual(decodeProcEvent(hex(CAPTURED.sid)), { what: 'other', cpu: 0, seq: 0x33a7, code: 0x80 });
});

test('codec: short messages, other connector indexes and a mismatched ack flag are not events', () => {
  assert.equal(decodeProcEvent(hex(CAPTURED.fork).subarray(0, 40)), undefined);
  const other = hex(CAPTURED.fork);
  other.writeUInt32LE(2, 16);
  assert.equal(decodeProcEvent(other), undefined);
  const badAck = hex(CAPTURED.fork);
  badAck.writeUInt32LE(1, 28);
  assert.equal(decodeProcEvent(badAck), undefined);
});

test('process_monitor_rcv_bufs(_force): the connector socket\'s buffer in the plan; 0 or a bad value leaves it unset', () => {
  const text = (g: string) => `global_defs {\n${g}\n}\n${TP('  process x')}${VI('  track_process {\n    p\n  }')}`;
  const b = build(text('  process_monitor_rcv_bufs 4194304\n  process_monitor_rcv_bufs_force'));
  assert.deepEqual(b.golden, []);
  assert.deepEqual(vrrpPlan(b.model, () => ({ uid: 0, gid: 0 })).processMonitorRcvBufs, { bytes: 4194304, force: true });
  const z = build(text('  process_monitor_rcv_bufs 0'));
  assert.deepEqual(z.golden, []);
  assert.equal(vrrpPlan(z.model, () => ({ uid: 0, gid: 0 })).processMonitorRcvBufs, undefined);
  assert.deepEqual(build(text('  process_monitor_rcv_bufs big\n  process_monitor_rcv_bufs_force maybe')).golden, ['error invalid-number @2', 'error invalid-value @3']);
});
