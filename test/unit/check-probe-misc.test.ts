import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { probeMisc } from '../../src/check/probe-misc.js';
import { splitScriptLine } from '../../src/config/script-words.js';
import { CheckVerdict } from '../../src/check/verdict.js';
import { miscCheck, realServer, virtualServer } from '../helpers/check-model.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kt-misc-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
function script(name: string, body: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

test('command line split with quotes (the config reader splits misc_path)', () => {
  assert.deepEqual(splitScriptLine(`/bin/check "a b" 'c' d`), ['/bin/check', 'a b', 'c', 'd']);
});

test('exit 0 succeeds, exit 1 fails, arguments reach the script', async () => {
  const out = path.join(dir, 'args');
  const s = script('ok.sh', `echo "$@" > ${out}; exit 0`);
  const r = await probeMisc({ argv: splitScriptLine(`${s} one "two three"`), timeoutMs: 5000 });
  assert.equal(r.ok, true);
  assert.equal(r.exitStatus, 0);
  assert.equal(fs.readFileSync(out, 'utf8'), 'one two three\n');
  const f = await probeMisc({ argv: [script('fail.sh', 'exit 1')], timeoutMs: 5000 });
  assert.equal(f.ok, false);
  assert.equal(f.exitStatus, 1);
});

test('misc_timeout kills a hanging script: failure without exit status', async () => {
  const r = await probeMisc({ argv: [script('hang.sh', 'sleep 30')], timeoutMs: 300 });
  assert.equal(r.ok, false);
  assert.equal(r.exitStatus, undefined);
  assert.match(r.reason, /timed out/);
});

test('misc_dynamic exit codes from a real script drive the RS weight', async () => {
  const core = new CheckVerdict([virtualServer({
    key: 'v', protocol: 'TCP', address: '10.0.0.1', port: 80, quorum: 1, hysteresis: 0,
    realServers: [realServer('10.0.0.2', { port: 80, weight: 1, checkers: [miscCheck('', { timeoutMs: 5000, dynamic: true, delayLoopMs: 1000, delayBeforeRetryMs: 1000, retry: 0, warmupMs: 0, alpha: false })] })],
  })]);
  core.takeInitialEvents();
  const r = await probeMisc({ argv: [script('w.sh', 'exit 12')], timeoutMs: 5000 });
  assert.equal(r.exitStatus, 12);
  core.onResult(0, r, 0, 0);
  assert.deepEqual(core.desiredOf('v')!.dests, [{ addr: '10.0.0.2', port: 80, weight: 10, inhibited: false }]);
  core.onResult(0, await probeMisc({ argv: [script('d.sh', 'exit 1')], timeoutMs: 5000 }), 0, 0);
  assert.deepEqual(core.desiredOf('v')!.dests, []);
});

test('a missing script is a failure with a reason', async () => {
  const r = await probeMisc({ argv: [path.join(dir, 'missing.sh')], timeoutMs: 1000 });
  assert.equal(r.ok, false);
  assert.match(r.reason, /could not be run/);
});
