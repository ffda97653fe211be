// NODE_EXTRA_CA_CERTS (issue 11, start-up): Node reads the file it names while it starts, before any JavaScript runs
// (80-110 ms instead of 30 with the system bundle), and keepalived-ts verifies no certificate. bin/keepalived-ts, the
// launcher an operator runs, moves the value aside for Node's start; every keepalived-ts process starts without it
// (/proc/PID/environ, the environment it was exec'd with) and none warns about it, while the scripts it runs see the
// variable exactly as the operator set it, as keepalived's scripts do. A file that does not exist makes Node print
// "Ignoring extra certs from …" whenever it loads it: the control (node bin/keepalived-ts.js) shows the warning.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from '../helpers/root.js';
import { createLan, descendants, miscCheckServer, repoRoot, run, vrrpConfig, waitFor, type Director, type Lan } from '../helpers/lab.js';

const skip = needsRoot();
const WAIT = { timeoutMs: 30_000, intervalMs: 50 };
const CA = '/nonexistent/keepalived-ts-test/extra-ca.pem';
const WARNING = /Ignoring extra certs/;
const launcher = () => join(repoRoot(), 'bin', 'keepalived-ts');

/** NODE_EXTRA_CA_CERTS in the environment `pid` was exec'd with, or undefined. */
function environVar(pid: number, name: string): string | undefined {
  const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  return env.find((e) => e.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** Every live node process among pids (a script may end meanwhile). */
function nodePids(pids: number[]): number[] {
  return pids.filter((p) => {
    try {
      return /(^|\/)node$/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0]!);
    } catch {
      return false;
    }
  });
}

describe('NODE_EXTRA_CA_CERTS: kept out of keepalived-ts processes, kept for its scripts', { skip }, () => {
  let lan: Lan;
  let d1: Director;
  let namespaces: readonly string[] = [];
  const seen = (what: string) => join(d1.dir, `ca-${what}.txt`);
  const script = () => join(d1.dir, 'env.sh');

  before(async () => {
    lan = await createLan({ directors: 1, clients: 0 });
    namespaces = lan.namespaceNames.slice();
    d1 = lan.directors[0]!;
    // What the script saw, written under a temp name then renamed: the test never reads half a file.
    writeFileSync(script(), `#!/bin/sh
case "$1" in MASTER|CHECK) ;; *) exit 0 ;; esac
printf '%s' "\${NODE_EXTRA_CA_CERTS-unset}" > '${d1.dir}/ca-'"$1"'.txt.tmp'
mv '${d1.dir}/ca-'"$1"'.txt.tmp' '${d1.dir}/ca-'"$1"'.txt'
`, { mode: 0o755 });
  });

  after(async () => {
    await lan?.teardown();
    const left = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => namespaces.includes(n)) : [];
    assert.deepEqual(left, [], 'no namespace of this test is left');
  });

  const config = () => `${vrrpConfig({ vrid: 73, priority: 150, state: 'MASTER', advertInt: 1, version: 2, vip: [lan.vipCidr(0)], iface: 'eth0', notify: script() })}${miscCheckServer(`${script()} CHECK`)}`;

  it('-t through the launcher: no warning; the control (node bin/keepalived-ts.js) loads the file and warns', async () => {
    const conf = join(d1.dir, 't.conf');
    writeFileSync(conf, config());
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: CA };
    const ours = await run(launcher(), ['-t', '-f', conf], { env, allowFail: true });
    assert.equal(ours.code, 0, ours.stderr);
    assert.doesNotMatch(ours.stderr, WARNING);
    const control = await run(process.execPath, [join(repoRoot(), 'bin', 'keepalived-ts.js'), '-t', '-f', conf], { env, allowFail: true });
    assert.match(control.stderr, WARNING, 'node started directly reads the file');
  });

  it('daemon (-n): the parent, VRRP and checker processes start without it and print no warning; notify and MISC_CHECK scripts see it', async () => {
    const d = await lan.startDaemon(d1, { kind: 'keepalived-ts', configText: config(), env: { NODE_EXTRA_CA_CERTS: CA } });
    try {
      await waitFor(() => existsSync(seen('MASTER')) && existsSync(seen('CHECK')), { ...WAIT, what: 'the notify_master and MISC_CHECK records' });
      const ours = nodePids([d.pid, ...descendants(d.pid)]);
      assert.equal(ours.length, 3, `parent, VRRP child, checker child: ${ours.join(' ')}`);
      for (const pid of ours) assert.equal(environVar(pid, 'NODE_EXTRA_CA_CERTS'), undefined, `pid ${pid} started without it`);
      assert.equal(readFileSync(seen('MASTER'), 'utf8'), CA, 'notify_master sees the value');
      assert.equal(readFileSync(seen('CHECK'), 'utf8'), CA, 'MISC_CHECK sees the value');
      assert.doesNotMatch(d.log(), WARNING);
    } finally {
      await d.stop('SIGTERM');
    }
  });

  it('daemonizing: the detached parent and its children start without it; notify_master sees it', async () => {
    const dir = d1.dir;
    const conf = join(dir, 'daemonize.conf');
    writeFileSync(conf, config());
    for (const w of ['MASTER', 'CHECK']) if (existsSync(seen(w))) writeFileSync(seen(w), '');
    const pidFile = join(dir, 'daemonize.pid');
    const args = ['-f', conf, '-p', pidFile, '-r', join(dir, 'daemonize-vrrp.pid'), '-c', join(dir, 'daemonize-checkers.pid'), '-G'];
    const r = await lan.exec(d1, launcher(), args, { env: { ...process.env, NODE_EXTRA_CA_CERTS: CA, TMPDIR: dir } });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, WARNING);
    await waitFor(() => existsSync(pidFile), { ...WAIT, what: 'the parent pid file' });
    const parent = Number(readFileSync(pidFile, 'utf8').trim());
    try {
      await waitFor(() => readFileSync(seen('MASTER'), 'utf8') === CA, { ...WAIT, what: 'notify_master with the value' });
      const ours = nodePids([parent, ...descendants(parent)]);
      assert.equal(ours.length, 3, `parent, VRRP child, checker child: ${ours.join(' ')}`);
      for (const pid of ours) assert.equal(environVar(pid, 'NODE_EXTRA_CA_CERTS'), undefined, `pid ${pid} started without it`);
    } finally {
      process.kill(parent, 'SIGTERM');
      await waitFor(() => !existsSync(`/proc/${parent}`), { ...WAIT, what: 'the daemon to exit' });
    }
  });
});
