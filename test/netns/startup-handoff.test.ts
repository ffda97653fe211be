// Start-up with handed-over VRRP sockets (issue 11): the first process opens the VRRP socket and the wait for a
// master counts from then, while the VRRP child is still starting. Debian's keepalived is the master already
// (priority 200); keepalived-ts starts beside it with state MASTER and priority 100, in the foreground and
// daemonizing (the daemonizing start hands the socket through two processes, so the child starts after the wait
// has run out and must read the adverts queued meanwhile before it decides). keepalived-ts must never take the VIP
// nor notify MASTER; the socket is the VRRP child's alone (the parent closed its copy); and the master-down wait
// is honoured once a master goes quiet (keepalived-ts takes over after keepalived stops).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { createLan, processAlive as alive, vrrpConfig, waitFor, repoRoot, type Lan, type Director, type Daemon, type TrackedProcess } from '../helpers/lab.js';
import { getOverUnixSocket } from '../helpers/unix-http.js';

const skip = needsRoot() || needsCommand('keepalived');
const WAIT = { timeoutMs: 30_000, intervalMs: 50 };
const IPPROTO_VRRP = 112;

/** Inodes of the raw VRRP sockets in a process's network namespace (/proc/PID/net/raw: the port is the protocol). */
function vrrpSocketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync(`/proc/${pid}/net/raw`, 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && Number.parseInt(f[1]!.split(':')[1]!, 16) === IPPROTO_VRRP) out.add(f[9]!);
  }
  return out;
}

/** How many of those sockets the process holds a descriptor of. */
function heldVrrpSockets(pid: number): number {
  const inodes = vrrpSocketInodes(pid);
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m && inodes.has(m[1]!)) n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}

const readPid = (file: string): number => (existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) || 0 : 0);

interface Instance { state: string; stats: { advertsReceived: number; becameMaster: number } }

describe('start-up on VRRP sockets opened before the VRRP child runs (beside a keepalived master)', { skip }, () => {
  let lan: Lan;
  let d1: Director;
  let d2: Director;
  let ka: Daemon;
  let namespaces: readonly string[] = [];
  const sock = () => join(d2.dir, 'status.sock');
  const cli = () => [process.execPath, join(repoRoot(), 'bin', 'keepalived-ts.js')];
  const config = (priority: number) => vrrpConfig({ vrid: 61, priority, state: 'MASTER', advertInt: 0.1, version: 3, vip: [lan.vipCidr(0)], iface: 'eth0', notify: d2.notifyScript });

  before(async () => {
    lan = await createLan({ directors: 2, clients: 0 });
    namespaces = lan.namespaceNames.slice();
    [d1, d2] = [lan.directors[0]!, lan.directors[1]!];
    ka = await lan.startDaemon(d1, { kind: 'keepalived', configText: vrrpConfig({ vrid: 61, priority: 200, state: 'MASTER', advertInt: 0.1, version: 3, vip: [lan.vipCidr(0)], iface: 'eth0' }) });
    await waitFor(async () => (await lan.vipHolders(lan.vip(0))).includes(d1.name), { ...WAIT, what: 'keepalived holding the VIP on d1' });
  });

  after(async () => {
    await ka?.stop('SIGTERM').catch(() => undefined);
    await lan?.teardown();
    const left = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => namespaces.includes(n)) : [];
    assert.deepEqual(left, [], 'no namespace of this test is left');
  });

  const instance = async (): Promise<Instance | undefined> => {
    try {
      const r = await getOverUnixSocket(sock(), '/status');
      return r.status === 200 ? (JSON.parse(r.body) as { vrrp: Instance[] }).vrrp[0] : undefined;
    } catch {
      return undefined; // not listening yet
    }
  };

  /** Starts keepalived-ts on d2 (foreground or daemonizing); resolves with its parent's and VRRP child's pids. */
  async function start(daemonize: boolean): Promise<{ parent: number; child: number; proc: TrackedProcess }> {
    const conf = join(d2.dir, 'keepalived.conf');
    writeFileSync(conf, config(100));
    for (const f of ['keepalived.pid', 'vrrp.pid', 'notify.log']) writeFileSync(join(d2.dir, f), '');
    rmSync(sock(), { force: true });
    const [cmd, ...pre] = cli();
    const proc = lan.spawnIn(d2, cmd!, [
      ...pre, ...(daemonize ? [] : ['-n']), '-l', '-D', '-G', '-f', conf, '-p', join(d2.dir, 'keepalived.pid'), '-r', join(d2.dir, 'vrrp.pid'),
      '-c', join(d2.dir, 'checkers.pid'), '--status-listen', sock(),
    ], { env: { ...process.env, TMPDIR: d2.dir }, logFile: join(d2.dir, `ts-${daemonize ? 'daemon' : 'fg'}.log`) });
    const parent = await waitFor(() => readPid(join(d2.dir, 'keepalived.pid')), { ...WAIT, what: 'the parent pid file' });
    const child = await waitFor(() => readPid(join(d2.dir, 'vrrp.pid')), { ...WAIT, what: 'the VRRP child pid file' });
    return { parent, child, proc };
  }

  async function stop(p: { parent: number; proc: TrackedProcess }): Promise<void> {
    process.kill(p.parent, 'SIGTERM');
    await waitFor(() => !alive(p.parent) && !p.proc.running, { ...WAIT, what: 'keepalived-ts to stop' });
  }

  for (const daemonize of [false, true]) {
    it(`${daemonize ? 'daemonizing' : 'foreground (-n)'}: stays BACKUP behind the running master, never holds the VIP; the VRRP socket is the child's alone`, async () => {
      const addr = await lan.watchAddresses(d2);
      const p = await start(daemonize);
      try {
        // Listening for a second at least (10 adverts at 0.1 s): well past the master-down interval (0.36 s).
        const inst = await waitFor(async () => {
          const i = await instance();
          return i && i.stats.advertsReceived >= 10 ? i : undefined;
        }, { ...WAIT, what: 'keepalived-ts to hear 10 adverts' });
        assert.equal(inst.state, 'BACKUP');
        assert.equal(inst.stats.becameMaster, 0, 'never MASTER');
        assert.deepEqual(d2.notifyEvents().filter((e) => e.state === 'MASTER'), [], 'no notify_master');
        assert.equal(addr.first(lan.vip(0), true), undefined, 'the VIP was never added on d2');
        assert.deepEqual(await lan.vipHolders(lan.vip(0)), [d1.name]);
        assert.equal(heldVrrpSockets(p.parent), 0, 'the parent holds no VRRP socket');
        assert.ok(heldVrrpSockets(p.child) >= 1, 'the VRRP child holds the VRRP socket');
      } finally {
        addr.stop();
        await stop(p);
      }
    });
  }

  it('foreground (-n): once the master stops, keepalived-ts takes over (the handed socket hears and sends)', async () => {
    const p = await start(false);
    try {
      await waitFor(async () => ((await instance())?.stats.advertsReceived ?? 0) >= 3 || undefined, { ...WAIT, what: 'keepalived-ts to hear the master' });
      await ka.stop('SIGTERM');
      await waitFor(async () => (await lan.vipHolders(lan.vip(0))).includes(d2.name), { ...WAIT, what: 'keepalived-ts holding the VIP on d2' });
      assert.deepEqual(await lan.vipHolders(lan.vip(0)), [d2.name]);
    } finally {
      await stop(p);
    }
  });
});
