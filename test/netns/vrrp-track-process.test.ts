// vrrp_track_process beside Debian's keepalived. The kernel's process connector exists only in the initial network
// namespace (a socket opened in any other one cannot subscribe: ECONNREFUSED), so the tracking master runs there,
// on a veth whose peer is a port of the lab's bridge; the backup runs in its namespace as usual. The master
// (priority 150) tracks a uniquely named copy of `sleep`, with weight -60 (killing it makes the master advertise 90
// and the backup, 100, takes the VIP) or weight 0 (killing it puts the master in FAULT); starting it again moves the
// VIP back. Each runs once with keepalived-ts as the tracking master (Debian keepalived as backup) and once the
// other way round, on the same master config. Inside a namespace (`ip netns exec`) both daemons cannot follow
// processes and put a weight-0 tracker's instance in FAULT. Also: `-t` verdicts of track_process configs equal
// keepalived's.
import { describe, it, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { vrrpConfig, waitFor, run, daemonCommand, type Lan, type DaemonKind } from '../helpers/lab.js';
import { labFor } from '../helpers/scenario.js';
import { checkConfig } from '../../src/config/check-config.js';

const WAIT = { timeoutMs: 20_000, intervalMs: 50 };
const skip = needsRoot() || needsCommand('keepalived');

/** A daemon in the initial network namespace, with the lab's arguments (own pid files, log to a file). */
function startInInitNs(kind: DaemonKind, dir: string, configText: string): { child: ChildProcess; exited: Promise<unknown>; log: () => string } {
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(conf, configText);
  const logFile = join(dir, `${kind}.log`);
  const [cmd, ...pre] = daemonCommand(kind);
  const fd = openSync(logFile, 'a', 0o644);
  const child = spawn(cmd!, [...pre, '-n', '-l', '-D', '-G', '-f', conf, '-p', join(dir, 'k.pid'), '-r', join(dir, 'v.pid'),
    '-c', join(dir, 'c.pid'), '-b', join(dir, 'b.pid')], { stdio: ['ignore', fd, fd], env: { ...process.env, TMPDIR: dir } });
  closeSync(fd);
  const exited = new Promise((r) => child.once('exit', r));
  return { child, exited, log: () => readFileSync(logFile, 'utf8') };
}

async function holdsVip(ifname: string, vip: string): Promise<boolean> {
  const r = await run('ip', ['-o', '-4', 'addr', 'show', 'dev', ifname], { allowFail: true });
  return r.stdout.split('\n').some((l) => l.includes(` ${vip}/`));
}

const SCENARIOS = (['keepalived-ts', 'keepalived'] as const).flatMap((masterKind) => ([-60, 0] as const).map((weight) => ({ masterKind, weight })));
for (const { masterKind, weight } of SCENARIOS) {
  const backupKind: DaemonKind = masterKind === 'keepalived' ? 'keepalived-ts' : 'keepalived';
  describe(`track_process weight ${weight}: ${masterKind} tracks, ${backupKind} is the backup`, { skip }, () => {
    let lan: Lan;
    let teardown: () => Promise<void> = async () => {};
    const id = Math.random().toString(36).slice(2, 8);
    const ifname = `ktp${id}`;
    const procName = `kttp${id}`; // the comm name of the tracked copy of sleep (<= 15 characters)
    let dir = '';
    let binary = '';
    let tracked: ChildProcess | undefined;
    let master: ReturnType<typeof startInInitNs> | undefined;
    let vip = '';

    const startTracked = (): void => {
      tracked = spawn(binary, ['3600'], { stdio: 'ignore' });
    };
    const killTracked = async (): Promise<void> => {
      const t = tracked!;
      const gone = new Promise((r) => t.once('exit', r));
      t.kill('SIGKILL');
      await gone;
      tracked = undefined;
    };

    before(async () => {
      ({ lan, teardown } = await labFor({ prefix: 'kttp', directors: 1, clients: 1 }));
      vip = lan.vip();
      dir = mkdtempSync(join(tmpdir(), 'kt-tp-'));
      binary = join(dir, procName);
      copyFileSync('/bin/sleep', binary);
      spawnSync('chmod', ['0755', binary]);
      // The master's port: a veth in the initial namespace, its peer on the lab bridge.
      await run('ip', ['link', 'add', ifname, 'type', 'veth', 'peer', 'name', `p${ifname}`, 'netns', lan.bridgeNs]);
      await run('sysctl', ['-q', '-w', `net.ipv6.conf.${ifname}.disable_ipv6=1`]);
      await run('ip', ['link', 'set', ifname, 'address', '02:00:00:99:00:77']);
      await run('ip', ['addr', 'add', `${lan.host(20)}/${lan.prefixLen}`, 'dev', ifname]);
      await run('ip', ['-n', lan.bridgeNs, 'link', 'set', `p${ifname}`, 'master', lan.bridge]);
      await run('ip', ['-n', lan.bridgeNs, 'link', 'set', `p${ifname}`, 'up']);
      await run('ip', ['link', 'set', ifname, 'up']);
    });
    after(async () => {
      if (master && master.child.exitCode === null && master.child.signalCode === null) {
        master.child.kill('SIGTERM');
        await Promise.race([master.exited, new Promise((r) => setTimeout(r, 8000))]);
        if (master.child.exitCode === null && master.child.signalCode === null) master.child.kill('SIGKILL');
      }
      tracked?.kill('SIGKILL');
      await run('ip', ['link', 'del', ifname], { allowFail: true });
      await teardown();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('the master holds the VIP while the tracked process runs', async () => {
      const [d1] = lan.directors;
      startTracked();
      const track = `vrrp_track_process tp {\n    process ${procName}\n    weight ${weight}\n}\n`;
      const mc = vrrpConfig({ vrid: 93, priority: 150, advertInt: 0.1, version: 3, vip: lan.vipCidr(), iface: ifname, extraInstance: ['track_process {', 'tp', '}'] });
      master = startInInitNs(masterKind, dir, `${track}\n${mc}`);
      await waitFor(() => holdsVip(ifname, vip), { ...WAIT, what: `${masterKind} master to hold the VIP` });
      const bc = vrrpConfig({ vrid: 93, priority: 100, advertInt: 0.1, version: 3, vip: lan.vipCidr(), iface: 'eth0', notify: d1!.notifyScript });
      await d1!.start({ kind: backupKind, configText: bc });
      await waitFor(() => d1!.notifyEvents().some((e) => e.state === 'BACKUP'), { ...WAIT, what: 'the backup in BACKUP' });
      assert.deepEqual(await lan.vipHolders(vip), []);
      assert.ok(await holdsVip(ifname, vip));
    });

    it('killing the tracked process moves the VIP to the backup', async () => {
      const [d1] = lan.directors;
      await killTracked();
      await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd1', { ...WAIT, what: 'the backup to take the VIP' });
      await waitFor(async () => !(await holdsVip(ifname, vip)), { ...WAIT, what: 'the master to drop the VIP' });
      // The notify script runs after the address change: its line may come after the poll saw the VIP move.
      await waitFor(() => d1!.notifyEvents().filter((e) => e.state !== 'NOTIFY').at(-1)?.state === 'MASTER', { ...WAIT, what: 'the backup\'s MASTER notify' });
      assert.ok(await lan.ping('c1', vip, { timeoutS: 2 }), 'the client reaches the VIP on the backup');
      // Weight 0: the master is in FAULT; weight -60 only lowers its priority.
      await waitFor(() => /Entering FAULT STATE/i.test(master!.log()) === (weight === 0), { ...WAIT, what: `the master ${weight === 0 ? 'in' : 'not in'} FAULT` });
    });

    it('starting it again moves the VIP back to the master', async () => {
      const [d1] = lan.directors;
      startTracked();
      await waitFor(() => holdsVip(ifname, vip), { ...WAIT, what: 'the master to take the VIP back' });
      await waitFor(async () => (await lan.vipHolders(vip)).length === 0, { ...WAIT, what: 'the backup to drop the VIP' });
      await waitFor(() => d1!.notifyEvents().filter((e) => e.state !== 'NOTIFY').at(-1)?.state === 'BACKUP', { ...WAIT, what: 'the backup\'s BACKUP notify' });
      assert.ok(await lan.ping('c1', vip, { timeoutS: 2 }));
    });

    it('the master stops cleanly and releases the VIP', async () => {
      master!.child.kill('SIGTERM');
      await master!.exited;
      assert.ok(!(await holdsVip(ifname, vip)));
      if (masterKind === 'keepalived-ts') assert.match(master!.log(), /Quorum lost for tracked process tp/);
    });
  });
}

// ---- -t verdicts ---------------------------------------------------------------------------------------------------

const INSTANCE = (extra: string, name = 'VI_1', prio = 100, vrid = 51) =>
  `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id ${vrid}\n  priority ${prio}\n  virtual_ipaddress {\n    10.0.0.1\n  }\n${extra}\n}\n`;
const TRACK = '  track_process {\n    p\n  }';
const VERDICTS: Record<string, string> = {
  clean: `vrrp_track_process p {\n  process nginx\n  weight -20\n  quorum 2\n  quorum_max 5\n  delay 2\n}\n${INSTANCE(TRACK)}`,
  full_command_params: `vrrp_track_process p {\n  process /usr/sbin/haproxy -f /etc/h.cfg\n  param_match initial\n  fork_delay 0.5\n  terminate_delay 1\n}\n${INSTANCE(TRACK)}`,
  quorum_max_zero: `vrrp_track_process p {\n  process x\n  quorum_max 0\n}\n${INSTANCE(TRACK)}`,
  no_process: `vrrp_track_process p {\n  weight 10\n}\n${INSTANCE('')}`,
  unknown_reference: `vrrp_track_process p {\n  process x\n}\n${INSTANCE('  track_process {\n    q\n  }')}`,
  quorum_above_max: `vrrp_track_process p {\n  process x\n  quorum_max 2\n  quorum 3\n}\n${INSTANCE(TRACK)}`,
  param_match_exact_word: `vrrp_track_process p {\n  process x\n  param_match exact\n}\n${INSTANCE(TRACK)}`,
  weight_out_of_range: `vrrp_track_process p {\n  process x\n  weight 255\n}\n${INSTANCE(TRACK)}`,
  delay_zero: `vrrp_track_process p {\n  process x\n  delay 0\n}\n${INSTANCE(TRACK)}`,
  duplicate_process: `vrrp_track_process p {\n  process x\n  process y\n}\n${INSTANCE(TRACK)}`,
  reference_unknown_option: `vrrp_track_process p {\n  process x\n}\n${INSTANCE('  track_process {\n    p frob\n  }')}`,
  reference_weight: `vrrp_track_process p {\n  process x\n}\n${INSTANCE('  track_process {\n    p weight -30 reverse\n  }')}`,
  rcv_bufs: `global_defs {\n  process_monitor_rcv_bufs 4194304\n  process_monitor_rcv_bufs_force\n}\nvrrp_track_process p {\n  process x\n}\n${INSTANCE(TRACK)}`,
  rcv_bufs_bad: `global_defs {\n  process_monitor_rcv_bufs lots\n}\nvrrp_track_process p {\n  process x\n}\n${INSTANCE(TRACK)}`,
  rcv_bufs_missing: `global_defs {\n  process_monitor_rcv_bufs\n}\nvrrp_track_process p {\n  process x\n}\n${INSTANCE(TRACK)}`,
  rcv_bufs_force_bad: `global_defs {\n  process_monitor_rcv_bufs_force maybe\n}\nvrrp_track_process p {\n  process x\n}\n${INSTANCE(TRACK)}`,
  owner_sync_group_weight: `vrrp_track_process p {\n  process x\n  weight 10\n}\n${INSTANCE('', 'A', 255, 1)}${INSTANCE('', 'B', 255, 2)}` +
    'vrrp_sync_group G {\n  group {\n    A\n    B\n  }\n  track_process {\n    p\n  }\n}\n',
};

describe('-t verdicts of track_process configs equal keepalived\'s', { skip }, () => {
  const ns = `kttpv${Math.random().toString(36).slice(2, 8)}`;
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kt-tpv-'));
    spawnSync('ip', ['netns', 'add', ns]);
    spawnSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'ktpeer0']);
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });
  for (const [name, text] of Object.entries(VERDICTS)) {
    test(`-t: ${name}`, () => {
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${name}.conf`);
      writeFileSync(file, text);
      const k = spawnSync('ip', ['netns', 'exec', ns, 'keepalived', '-t', '-f', file, '-n', '-l'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
      const ours = checkConfig(file, { interfaces: new Set(['lo', 'eth0', 'ktpeer0']) });
      assert.equal(ours.exitCode, k.status, `keepalived said:\n${k.stderr}${k.stdout}\nwe said:\n${ours.diags.map((d) => `  ${d.severity} ${d.code}: ${d.message}`).join('\n')}`);
    });
  }
});

// ---- inside a network namespace --------------------------------------------------------------------------------

for (const kind of ['keepalived-ts', 'keepalived'] as const) {
  describe(`${kind} inside a network namespace cannot follow processes: a weight-0 tracker means FAULT`, { skip }, () => {
    let lan: Lan;
    let teardown: () => Promise<void> = async () => {};
    before(async () => {
      ({ lan, teardown } = await labFor({ prefix: 'kttn', directors: 1, clients: 0 }));
    });
    after(() => teardown());

    it('enters FAULT and never holds the VIP, though the tracked process runs', async () => {
      const [d1] = lan.directors;
      // `sleep` copies of other tests, or the node running this test: something named `node` always runs.
      const track = 'vrrp_track_process tp {\n    process node\n}\n';
      const c = vrrpConfig({ vrid: 94, priority: 150, advertInt: 0.1, version: 3, vip: lan.vipCidr(), iface: 'eth0', notify: d1!.notifyScript, extraInstance: ['track_process {', 'tp', '}'] });
      await d1!.start({ kind, configText: `${track}\n${c}` });
      await waitFor(() => d1!.notifyEvents().some((e) => e.state === 'FAULT'), { ...WAIT, what: `${kind} in FAULT` });
      assert.deepEqual(await lan.vipHolders(lan.vip()), []);
      assert.ok(!d1!.notifyEvents().some((e) => e.state === 'MASTER'));
    });
  });
}
