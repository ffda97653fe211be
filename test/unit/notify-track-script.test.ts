// vrrp_script counter semantics (pure) and the runner with a real script flipping exit codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  initialTrackScriptState, nextScriptState, trackScriptStatus, TrackScriptRunner, type TrackScriptState, type TrackScriptChange,
} from '../../src/notify/track-script.js';
import { memoryLog } from '../helpers/memory-log.js';

/** Feed a sequence of results ('+' success, '-' failure); return the status after each and where it changed. */
function run(start: TrackScriptState, seq: string): { statuses: string; changes: string } {
  let s = start;
  let statuses = '';
  let changes = '';
  for (const c of seq) {
    const n = nextScriptState(s, c === '+');
    s = n.state;
    statuses += n.status === 'ok' ? 'O' : 'F';
    changes += n.changed ? '^' : '.';
  }
  return { statuses, changes };
}

test('rise 1 / fall 1: every flip changes', () => {
  const s = initialTrackScriptState({ rise: 1, fall: 1, initFail: false });
  assert.equal(trackScriptStatus(s), 'init');
  assert.deepEqual(run(s, '++-+--+'), { statuses: 'OOFOFFO', changes: '^.^^^.^' });
});

test('from init one success is enough, whatever rise is; the first failure reports failed', () => {
  assert.deepEqual(run(initialTrackScriptState({ rise: 3, fall: 2, initFail: false }), '+'), { statuses: 'O', changes: '^' });
  assert.deepEqual(run(initialTrackScriptState({ rise: 3, fall: 2, initFail: false }), '-'), { statuses: 'F', changes: '^' });
});

test('rise 3 / fall 2: needs 3 consecutive successes to come up, 2 consecutive failures to go down', () => {
  const s = initialTrackScriptState({ rise: 3, fall: 2, initFail: false });
  // first failure: down (init); then + + - resets; + + + up; - (still up) + (back to top) - - down
  assert.deepEqual(run(s, '-++-+++-+--'), { statuses: 'FFFFFFOOOOF', changes: '^.....^...^' });
});

test('result counter stays within 0..rise+fall-1', () => {
  let s = initialTrackScriptState({ rise: 2, fall: 3, initFail: false });
  for (const c of '+++++-----+-+-++--+') {
    s = nextScriptState(s, c === '+').state;
    assert.ok(s.result >= 0 && s.result <= 4, `result ${s.result}`);
  }
});

test('init_fail: starts failed, needs rise successes, first failure is not a change', () => {
  const s = initialTrackScriptState({ rise: 2, fall: 1, initFail: true });
  assert.equal(trackScriptStatus(s), 'failed');
  assert.deepEqual(run(s, '-++'), { statuses: 'FFO', changes: '..^' });
});

// Moved from vrrp-track.test.ts when vrrp/track.ts's duplicate counter (newScriptCounter/scriptResult) went away.
test('vrrp_script rise/fall: one success leaves INIT; fall consecutive failures to fail; rise successes to recover', () => {
  let c = initialTrackScriptState({ rise: 3, fall: 2, initFail: false });
  let r = nextScriptState(c, true);
  assert.ok(r.changed); assert.equal(r.status, 'ok'); c = r.state;
  r = nextScriptState(c, false); assert.ok(!r.changed); c = r.state;
  r = nextScriptState(c, true); assert.ok(!r.changed); c = r.state; // failure streak broken
  r = nextScriptState(c, false); assert.ok(!r.changed); c = r.state;
  r = nextScriptState(c, false); assert.ok(r.changed); assert.equal(r.status, 'failed'); c = r.state;
  for (let k = 0; k < 2; k++) { r = nextScriptState(c, true); assert.ok(!r.changed); c = r.state; }
  r = nextScriptState(c, false); assert.ok(!r.changed); c = r.state; // streak reset to 0
  for (let k = 0; k < 2; k++) { r = nextScriptState(c, true); assert.ok(!r.changed); c = r.state; }
  r = nextScriptState(c, true); assert.ok(r.changed); assert.equal(r.status, 'ok');
});

test('vrrp_script: first failure from INIT fails at once; init_fail starts failed and needs rise successes', () => {
  const r = nextScriptState(initialTrackScriptState({ rise: 2, fall: 5, initFail: false }), false);
  assert.ok(r.changed); assert.equal(r.status, 'failed');
  let c = initialTrackScriptState({ rise: 2, fall: 2, initFail: true });
  assert.equal(trackScriptStatus(c), 'failed');
  let x = nextScriptState(c, true); assert.ok(!x.changed); c = x.state;
  x = nextScriptState(c, true); assert.ok(x.changed); assert.equal(x.status, 'ok');
  // rise 1 fall 1 toggles on every result.
  let d = initialTrackScriptState({ rise: 1, fall: 1, initFail: false });
  for (const ok of [true, false, true, false]) { const y = nextScriptState(d, ok); assert.ok(y.changed); assert.equal(y.status, ok ? 'ok' : 'failed'); d = y.state; }
});

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kt-track-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('runner: a real script flipping its exit code drives ok/failed changes with rise/fall', async () => {
  // exit codes come from a file the test rewrites
  const codeFile = join(dir, 'code');
  writeFileSync(codeFile, '0');
  const s = join(dir, 'chk.sh');
  writeFileSync(s, `#!/bin/bash\nexit $(cat ${codeFile})\n`);
  chmodSync(s, 0o755);
  // An explicit timeout: without one a run may take the interval (keepalived's default), and on a loaded machine a
  // bash start alone can take longer than 50 ms, which reads as a failure the script never returned.
  const runner = new TrackScriptRunner({ name: 'chk', command: { argv: [s] }, intervalMs: 50, timeoutMs: 20_000, rise: 2, fall: 2, weight: 0, initFail: false });
  const changes: TrackScriptChange[] = [];
  runner.on('change', (c) => changes.push(c));
  // A deadline, not a count of 10 ms sleeps: on a loaded machine each bash run can take far longer than 50 ms.
  const waitFor = async (pred: () => boolean, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!pred() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(pred(), what);
  };
  try {
    runner.start();
    await waitFor(() => changes.length === 1, 'first success reported');
    assert.equal(changes[0]!.status, 'ok', JSON.stringify(changes[0]!.result));
    writeFileSync(codeFile, '3');
    await waitFor(() => changes.length === 2, 'failure after fall results');
    assert.equal(changes[1]!.status, 'failed');
    assert.equal(changes[1]!.result.exitCode, 3);
    writeFileSync(codeFile, '0');
    await waitFor(() => changes.length === 3, 'recovery after rise results');
    assert.equal(changes[2]!.status, 'ok');
    assert.equal(runner.status, 'ok');
  } finally {
    await runner.stop();
  }
});

test('runner: timeout is a failure, and a still-running script skips runs', async () => {
  const s = join(dir, 'slow.sh');
  writeFileSync(s, '#!/bin/bash\nsleep 100\n');
  chmodSync(s, 0o755);
  const { log, lines: logs } = memoryLog();
  const runner = new TrackScriptRunner(
    { name: 'slow', command: { argv: [s] }, intervalMs: 50, timeoutMs: 300, rise: 1, fall: 1, weight: -10, initFail: false },
    { log },
  );
  const change = new Promise<TrackScriptChange>((resolve) => runner.once('change', resolve));
  try {
    runner.start();
    const c = await change;
    assert.equal(c.status, 'failed');
    assert.equal(c.result.timedOut, true);
    assert.ok(runner.skipped > 0, 'ticks during the run were skipped');
    assert.ok(logs.some((m) => m.includes('already running, expect idle - skipping run')));
    assert.ok(logs.some((m) => m === 'VRRP_Script(slow) timed_out (timed out)'));
  } finally {
    await runner.stop();
  }
});

test('runner: a missing script is a failure, not a success (keepalived #2126)', async () => {
  const runner = new TrackScriptRunner({ name: 'gone', command: { argv: [join(dir, 'nope.sh')] }, intervalMs: 1000, rise: 1, fall: 1, weight: 0, initFail: false });
  const change = new Promise<TrackScriptChange>((resolve) => runner.once('change', resolve));
  try {
    runner.start();
    const c = await change;
    assert.equal(c.status, 'failed');
    assert.match(c.result.spawnError ?? '', /no such file/);
  } finally {
    await runner.stop();
  }
});

test('runner: stop() kills a running script', async () => {
  const s = join(dir, 'forever.sh');
  writeFileSync(s, '#!/bin/bash\nsleep 100\n');
  chmodSync(s, 0o755);
  const runner = new TrackScriptRunner({ name: 'f', command: { argv: [s] }, intervalMs: 10_000, rise: 1, fall: 1, weight: 0, initFail: false });
  let results = 0;
  runner.on('result', () => results++);
  runner.start();
  await new Promise((r) => setTimeout(r, 100));
  await runner.stop();
  assert.equal(runner.running, false);
  assert.equal(results, 0, 'a stopped run reports nothing');
  assert.equal(runner.status, 'init');
});
