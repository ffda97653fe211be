// runScript with real scripts in a temp dir: argv without a shell, shell fallback, exec failures, process-group
// kill at the timeout, uid switching. Plus the pure user/group resolver.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  runScript, scriptSucceeded, describeResult, killAll, runningScriptCount, resolveScriptUser,
  shellQuoteArgv, resolveExecutable,
} from '../../src/notify/run.js';
import { needsRoot } from '../helpers/root.js';
import { waitFor } from '../helpers/lab.js';
import { isKtError } from '../../src/util/errors.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kt-run-'));
  chmodSync(dir, 0o755);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string, mode = 0o755): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/bash\n${body}\n`);
  chmodSync(p, mode);
  return p;
}

// Alive = exists and is not a zombie waiting for init to reap it.
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

test('argv reaches the script intact, without a shell', async () => {
  const out = join(dir, 'args.out');
  const s = script('args.sh', `for a in "$@"; do printf '[%s]\\n' "$a" >> ${out}; done; exit 3`);
  const r = await runScript({ argv: [s, 'two words', `it's "quoted"`, '$HOME', '*', ''] });
  assert.equal(r.mode, 'exec');
  assert.equal(r.exitCode, 3);
  assert.equal(r.spawnError, undefined);
  assert.equal(scriptSucceeded(r), false);
  assert.equal(describeResult(r), 'exited with status 3');
  assert.equal(readFileSync(out, 'utf8'), `[two words]\n[it's "quoted"]\n[$HOME]\n[*]\n[]\n`);
});

test('bare names are resolved through PATH and run without a shell', async () => {
  const r = await runScript({ argv: ['true'] });
  assert.equal(r.mode, 'exec');
  assert.ok(scriptSucceeded(r));
  assert.equal(resolveExecutable('true', '/nonexistent:/usr/bin:/bin')?.endsWith('/true'), true);
  assert.equal(resolveExecutable('no-such-command-kt', '/usr/bin:/bin'), null);
});

test('a non-executable file falls back to /bin/sh -c with keepalived quoting', async () => {
  const out = join(dir, 'sh.out');
  const r = await runScript({ argv: ['<', '/dev/null'], shellCommand: `echo fallback > ${out}` });
  assert.equal(r.mode, 'shell');
  assert.ok(scriptSucceeded(r), describeResult(r));
  assert.equal(readFileSync(out, 'utf8'), 'fallback\n');
  assert.equal(shellQuoteArgv(['/x/y', "it's", 'a b']), `'/x/y' 'it'\\''s' 'a b'`);
  assert.equal(shellQuoteArgv(['</dev/tcp/127.0.0.1/80']), `</dev/tcp/127.0.0.1/80`);
  // keepalived's `</dev/tcp/...` idiom: redirection-only command, run by sh
  const r2 = await runScript({ argv: ['</dev/null'] });
  assert.equal(r2.mode, 'shell');
  assert.ok(scriptSucceeded(r2), describeResult(r2));
});

test('a script that cannot be run is a failure with a reason (unlike keepalived #2126)', async () => {
  const missing = await runScript({ argv: [join(dir, 'missing.sh'), 'x'] });
  assert.equal(scriptSucceeded(missing), false);
  assert.match(missing.spawnError ?? '', /missing\.sh: no such file/);

  const noexec = script('noexec.sh', 'exit 0', 0o644);
  const r = await runScript({ argv: [noexec] });
  assert.equal(r.mode, 'shell');
  assert.equal(scriptSucceeded(r), false);
  assert.match(r.spawnError ?? '', /not executable \(sh exit 126\)/);

  const notFound = await runScript({ argv: ['no-such-command-kt', 'arg'] });
  assert.equal(scriptSucceeded(notFound), false);
  assert.match(notFound.spawnError ?? '', /command not found \(sh exit 127\)/);

  const empty = await runScript({ argv: [] });
  assert.equal(empty.spawnError, 'empty command');
});

test('IFS, LD_PRELOAD and LD_LIBRARY_PATH are removed; configured env is passed', async () => {
  const out = join(dir, 'env.out');
  const s = script('env.sh', `echo "IFS=\${IFS-unset} P=\${LD_PRELOAD-unset} L=\${LD_LIBRARY_PATH-unset} X=$X" > ${out}`);
  const r = await runScript({ argv: [s], env: { LD_PRELOAD: '/evil.so', LD_LIBRARY_PATH: '/evil', X: 'yes' } });
  assert.ok(scriptSucceeded(r));
  // bash sets its own default IFS when unset in the environment; what matters is that ours was not inherited
  assert.match(readFileSync(out, 'utf8'), /P=unset L=unset X=yes/);
});

test('output can be captured, bounded', async () => {
  const s = script('loud.sh', 'echo out; echo err >&2; head -c 10000 /dev/zero | tr "\\0" x');
  const r = await runScript({ argv: [s] }, { captureBytes: 64 });
  assert.ok(scriptSucceeded(r));
  assert.equal(r.output?.length, 64);
  assert.match(r.output ?? '', /out/);
});

test('a timeout kills the whole process group, children included', async () => {
  const pids = join(dir, 'pids');
  const s = script('spawner.sh', `sleep 100 & echo $! >> ${pids}; sleep 100 & echo $! >> ${pids}; echo $$ >> ${pids}; wait`);
  const r = await runScript({ argv: [s], timeoutMs: 300 }, { killGraceMs: 500 });
  assert.equal(r.timedOut, true);
  assert.equal(scriptSucceeded(r), false);
  assert.equal(describeResult(r), 'timed out');
  const list = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
  assert.equal(list.length, 3);
  // reaped children vanish at once; give the kernel a moment for orphans reparented to init
  await waitFor(() => !list.some(alive), { timeoutMs: 30_000, what: 'the killed scripts gone' }).catch(() => undefined);
  assert.deepEqual(list.filter(alive), [], 'no sleep 100 survives');
  const ps = execFileSync('ps', ['-eo', 'pid=,stat=']).toString();
  for (const pid of list) assert.equal(new RegExp(`^\\s*${pid}\\s+[^Z]`, 'm').test(ps), false);
});

test('a script ignoring SIGTERM is SIGKILLed after the grace period', async () => {
  const s = script('stubborn.sh', `trap '' TERM; sleep 100 & wait; sleep 100`);
  const r = await runScript({ argv: [s], timeoutMs: 200 }, { killGraceMs: 300 });
  assert.equal(r.timedOut, true);
  assert.equal(r.signal, 'SIGKILL');
});

test('killAll takes every running script group down', async () => {
  const pids = join(dir, 'killall-pids');
  const s = script('long.sh', `sleep 100 & echo $! >> ${pids}; wait`);
  const runs = [runScript({ argv: [s] }), runScript({ argv: [s] })];
  await waitFor(() => existsSync(pids) && readFileSync(pids, 'utf8').trim().split('\n').length >= 2, { timeoutMs: 30_000, what: 'both scripts started' });
  assert.equal(runningScriptCount(), 2);
  await killAll(500);
  const results = await Promise.all(runs);
  for (const r of results) assert.equal(scriptSucceeded(r), false);
  assert.equal(runningScriptCount(), 0);
  const list = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
  await waitFor(() => !list.some(alive), { timeoutMs: 30_000, what: 'the killed scripts gone' }).catch(() => undefined);
  assert.deepEqual(list.filter(alive), []);
});

test('an abort signal stops a run', async () => {
  const s = script('abortable.sh', 'sleep 100');
  const ac = new AbortController();
  const p = runScript({ argv: [s] }, { signal: ac.signal, killGraceMs: 200 });
  setTimeout(() => ac.abort(), 100);
  const r = await p;
  assert.equal(r.signal, 'SIGTERM');
});

test('uid/gid switching runs the script as nobody', { skip: needsRoot() }, async () => {
  const out = join(dir, 'id.out');
  writeFileSync(out, '');
  chmodSync(out, 0o666);
  const s = script('id.sh', `id -u > ${out}; id -g >> ${out}; id -G >> ${out}`);
  const nobody = resolveScriptUser('nobody', undefined, { passwd: readFileSync('/etc/passwd', 'utf8'), group: readFileSync('/etc/group', 'utf8') });
  const r = await runScript({ argv: [s], uid: nobody.uid, gid: nobody.gid });
  assert.ok(scriptSucceeded(r), describeResult(r));
  const [uid, gid, groups] = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(Number(uid), nobody.uid);
  assert.equal(Number(gid), nobody.gid);
  assert.equal(groups, String(nobody.gid), 'supplementary groups of root are not inherited');
});

test('running as a user who may not read the script is a failure with a reason', { skip: needsRoot() }, async () => {
  const s = script('private.sh', 'exit 0', 0o700);
  const r = await runScript({ argv: [s], uid: 65534, gid: 65534 });
  assert.equal(scriptSucceeded(r), false);
  assert.match(r.spawnError ?? '', /EACCES|not executable/);
});

const files = {
  passwd: 'root:x:0:0:root:/root:/bin/bash\n# comment\nnobody:x:65534:65534:nobody:/:/usr/sbin/nologin\nkeepalived_script:x:990:985::/:/bin/false\n',
  group: 'root:x:0:\nnogroup:x:65534:\nkascript:x:985:\nadm:x:4:\n',
};

test('the daemon\'s supplementary groups never reach a script, root scripts included (keepalived set_script_env)', { skip: needsRoot() }, async () => {
  const saved = process.getgroups?.() ?? [];
  process.setgroups?.([0, 4, 24]);
  try {
    const run = async (uid: number, gid: number) =>
      (await runScript({ argv: ['/bin/sh', '-c', 'id -G'], uid, gid }, { captureBytes: 200 })).output?.trim();
    assert.equal(await run(0, 0), '0');
    assert.equal(await run(65534, 65534), '65534');
  } finally {
    process.setgroups?.(saved);
  }
});

test('internal variables (KEEPALIVED_TS_*, Node\'s IPC channel) never reach a script', async () => {
  process.env.KEEPALIVED_TS_CHILD = 'vrrp';
  process.env.NODE_CHANNEL_FD = '3';
  try {
    const r = await runScript({ argv: ['/bin/sh', '-c', 'env'] }, { captureBytes: 100_000 });
    assert.doesNotMatch(r.output ?? '', /^(KEEPALIVED_TS_|NODE_CHANNEL)/m);
    assert.match(r.output ?? '', /^PATH=/m);
  } finally {
    delete process.env.KEEPALIVED_TS_CHILD;
    delete process.env.NODE_CHANNEL_FD;
  }
});

test('resolveScriptUser: names, numbers, USER:GROUP, errors', () => {
  assert.deepEqual(resolveScriptUser('nobody', undefined, files), { uid: 65534, gid: 65534, user: 'nobody', group: 'nogroup' });
  assert.deepEqual(resolveScriptUser('nobody', 'adm', files), { uid: 65534, gid: 4, user: 'nobody', group: 'adm' });
  assert.deepEqual(resolveScriptUser('nobody:adm', undefined, files), { uid: 65534, gid: 4, user: 'nobody', group: 'adm' });
  assert.deepEqual(resolveScriptUser('1234', '77', files), { uid: 1234, gid: 77, user: '1234', group: '77' });
  assert.equal(resolveScriptUser('0', undefined, files).gid, 0);
  assert.throws(() => resolveScriptUser('ghost', undefined, files), (e: unknown) => isKtError(e, 'KT_NOTIFY_UNKNOWN_USER'));
  assert.throws(() => resolveScriptUser('nobody', 'ghosts', files), (e: unknown) => isKtError(e, 'KT_NOTIFY_UNKNOWN_GROUP'));
  assert.throws(() => resolveScriptUser('4321', undefined, files), (e: unknown) => isKtError(e, 'KT_NOTIFY_UNKNOWN_GROUP'));
});
