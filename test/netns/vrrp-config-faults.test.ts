// keepalived 2.2.7's configuration faults at run time, beside Debian's keepalived on the same config:
// - `unicast_fault_no_peer` without unicast peers: "(VI_1) Cannot use unicast without any peers - going to fault
//   state"; the instance stays in FAULT (no advert, so the lower-priority peer holds the VIP) instead of falling back
//   to multicast, which it does without the keyword (then it holds the VIP);
// - `use_vmac` on a non-Ethernet interface (a tun): "(VI_1): vmacs are only supported on Ethernet type interfaces";
//   FAULT, no VMAC made, no VIP;
// - a `use_vmac` name held by an interface that is not a private macvlan (a veth): "(VI_1) interface X already exists
//   and is not a private macvlan; ignoring vmac if_name"; the VMAC gets the default name vrrp.<vrid> and the instance
//   runs; the veth is left alone.
// A config-faulted instance logs no "Entering FAULT STATE" line (keepalived's vrrp_init_state logs none), but its
// notify_fault and the generic notify run, and the dump (SIGUSR1, keepalived.data) says State = FAULT and one config
// fault.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { createLan, repoRoot, vrrpConfig, waitFor, type Lan, type Director, type DaemonKind } from '../helpers/lab.js';

const skip = needsRoot() || needsCommand('keepalived');
const KINDS: DaemonKind[] = ['keepalived-ts', 'keepalived'];

describe('configuration faults at run time, as keepalived 2.2.7', { skip }, () => {
  let lan: Lan;
  let d1: Director;
  let d2: Director;

  before(async () => {
    lan = await createLan({ prefix: 'ktcfault', directors: 2, clients: 0 });
    [d1, d2] = lan.directors as [Director, Director];
  });
  after(async () => {
    await lan?.teardown();
  });

  /** Where the next run of `kind` on d starts writing in its log (each kind's log is appended to). */
  const logEnd = (d: Director, kind: DaemonKind): number => {
    const f = join(d.dir, `${kind}.log`);
    return existsSync(f) ? readFileSync(f, 'utf8').length : 0;
  };
  const dumpFile = (d: Director) => join(d.dir, 'tmp', 'keepalived.data');
  /** keepalived.data after SIGUSR1 (both daemons write it into $TMPDIR): the VI_1 section. */
  async function dump(d: Director): Promise<string> {
    rmSync(dumpFile(d), { force: true });
    d.daemon!.signal('SIGUSR1');
    const text = await waitFor(() => {
      const t = existsSync(dumpFile(d)) ? readFileSync(dumpFile(d), 'utf8') : '';
      return /Number of interface and track script faults/.test(t) ? t : undefined;
    }, { timeoutMs: 10_000, intervalMs: 50, what: `${d.name}'s keepalived.data` });
    return text.slice(text.indexOf('VRRP Instance = VI_1'));
  }
  /** The notify calls d made since `from` (its notify log is shared by both kinds' runs). */
  const notifiesSince = (d: Director, from: number) => d.notifyEvents().slice(from).map((e) => [e.state, ...e.args].join(' '));

  /** Starts `kind` on d1 with `configText`, waits for `line` in its log, runs `check`, stops it. */
  async function faulted(kind: DaemonKind, configText: string, line: string, check: (log: () => string) => Promise<void>): Promise<void> {
    const from = logEnd(d1, kind);
    const notified = d1.notifyEvents().length;
    const daemon = await lan.startDaemon(d1, { kind, configText });
    const log = () => daemon.log().slice(from);
    const say = (what: string) => `${kind}: ${what}\n--- d1 log ---\n${log().slice(-3000)}`;
    try {
      await waitFor(() => log().includes(line), { timeoutMs: 20_000, intervalMs: 50, what: say('the configuration fault line') });
      // notify_fault and the generic notify run, as for any FAULT.
      await waitFor(() => notifiesSince(d1, notified).length >= 2, { timeoutMs: 10_000, intervalMs: 50, what: say('the FAULT notifies') });
      assert.deepEqual(notifiesSince(d1, notified).sort(), ['FAULT', 'NOTIFY INSTANCE VI_1 FAULT 150'], say('notifies'));
      const data = await dump(d1);
      assert.match(data, /\n {3}State = FAULT\n/, say(`dump:\n${data.slice(0, 600)}`));
      assert.match(data, /\n {3}Number of config faults = 1\n/, say(`dump:\n${data.slice(0, 600)}`));
      await check(log);
    } finally {
      await daemon.stop('SIGTERM');
    }
    assert.doesNotMatch(log(), /Entering (FAULT|BACKUP|MASTER) STATE/i, `${kind}: no state line for a config-faulted instance`);
  }

  it('unicast_fault_no_peer without peers: FAULT, the peer holds the VIP; without the keyword it runs multicast', async () => {
    // Only d1 runs the notify script (it writes d1's notify log).
    const config = (priority: number, extra: string[] = []) => vrrpConfig({
      vrid: 71, priority, advertInt: 0.1, version: 3, vip: lan.vipCidr(0), iface: 'eth0', extraInstance: extra,
      ...(priority === 150 ? { notify: d1.notifyScript } : {}),
    });
    for (const kind of KINDS) {
      const peer = await lan.startDaemon(d2, { kind: 'keepalived', configText: config(100) });
      try {
        await faulted(kind, config(150, ['unicast_fault_no_peer']), '(VI_1) Cannot use unicast without any peers - going to fault state', async () => {
          // d1 (priority 150) would preempt: d2 holding the VIP means d1 is silent.
          await waitFor(async () => (await lan.vipHolders(lan.vip(0))).join(',') === 'd2', { timeoutMs: 20_000, intervalMs: 50, what: `${kind}: d2 holds the VIP` });
        });
        // Without the keyword, a unicast keyword and no peers falls back to multicast (deprecated) and runs.
        const from = logEnd(d1, kind);
        const daemon = await lan.startDaemon(d1, { kind, configText: config(150, [`unicast_src_ip ${d1.ip}`]) });
        try {
          await waitFor(async () => (await lan.vipHolders(lan.vip(0))).join(',') === 'd1', { timeoutMs: 20_000, intervalMs: 50, what: `${kind}: d1 holds the VIP over multicast\n${daemon.log().slice(from).slice(-2000)}` });
          assert.match(daemon.log().slice(from), /without any unicast peers. Defaulting to multicast/i);
        } finally {
          await daemon.stop('SIGTERM');
        }
      } finally {
        await peer.stop('SIGTERM');
      }
      await waitFor(async () => (await lan.vipHolders(lan.vip(0))).length === 0, { timeoutMs: 10_000, intervalMs: 50, what: 'no VIP left' });
    }
  });

  it('use_vmac on a tun (not Ethernet): FAULT, no VMAC, no VIP', async () => {
    await lan.exec(d1, 'ip', ['tuntap', 'add', 'mode', 'tun', 'name', 'kttun0']);
    await lan.exec(d1, 'ip', ['addr', 'add', '10.98.0.1/24', 'dev', 'kttun0']);
    await lan.exec(d1, 'ip', ['link', 'set', 'kttun0', 'up']);
    // Someone must hold the tun open for its carrier, else the instance faults for the link instead.
    const carrier = lan.spawnIn(d1, process.execPath, ['--import', 'tsx', join(repoRoot(), 'test', 'helpers', 'tun-carrier.ts'), 'kttun0']);
    try {
      await waitFor(async () => (await lan.exec(d1, 'ip', ['-br', 'link', 'show', 'kttun0'])).stdout.includes('LOWER_UP'), { timeoutMs: 20_000, intervalMs: 50, what: 'the tun has a carrier' });
      const config = vrrpConfig({ vrid: 72, priority: 150, advertInt: 0.1, version: 3, vip: '10.98.0.100/24', iface: 'kttun0', notify: d1.notifyScript, extraInstance: ['use_vmac'] });
      for (const kind of KINDS) {
        await faulted(kind, config, '(VI_1): vmacs are only supported on Ethernet type interfaces', async () => {
          const links = (await lan.exec(d1, 'ip', ['-br', 'link'])).stdout;
          assert.doesNotMatch(links, /vrrp\.72/, `${kind}: no VMAC made`);
          assert.doesNotMatch((await lan.exec(d1, 'ip', ['-br', 'addr'])).stdout, /10\.98\.0\.100/, `${kind}: no VIP`);
        });
      }
    } finally {
      carrier.child.kill('SIGTERM');
      await carrier.exited;
      await lan.exec(d1, 'ip', ['link', 'del', 'kttun0'], { allowFail: true });
    }
  });

  it('a use_vmac name held by a veth: the name is ignored, the VMAC is vrrp.<vrid> and holds the VIP; the veth is left alone', async () => {
    await lan.exec(d1, 'ip', ['link', 'add', 'ktvm73', 'type', 'veth', 'peer', 'name', 'ktvm73p']);
    try {
      const config = vrrpConfig({ vrid: 73, priority: 150, advertInt: 0.1, version: 3, vip: lan.vipCidr(1), iface: 'eth0', extraInstance: ['use_vmac ktvm73'] });
      for (const kind of KINDS) {
        const from = logEnd(d1, kind);
        const daemon = await lan.startDaemon(d1, { kind, configText: config });
        const log = () => daemon.log().slice(from);
        try {
          await waitFor(() => log().includes('(VI_1) interface ktvm73 already exists and is not a private macvlan; ignoring vmac if_name'), { timeoutMs: 20_000, intervalMs: 50, what: `${kind}: the line\n${log().slice(-2000)}` });
          const onVmac = new RegExp(`^vrrp\\.73@eth0\\s.*\\b${lan.vip(1).replaceAll('.', '\\.')}/`, 'm');
          await waitFor(async () => onVmac.test((await lan.exec(d1, 'ip', ['-br', 'addr'])).stdout),
            { timeoutMs: 20_000, intervalMs: 50, what: `${kind}: the VIP on vrrp.73\n${log().slice(-2000)}` });
          const veth = (await lan.exec(d1, 'ip', ['-br', 'addr', 'show', 'dev', 'ktvm73'])).stdout;
          assert.equal(veth.includes(lan.vip(1)), false, `${kind}: nothing on the veth`);
        } finally {
          await daemon.stop('SIGTERM');
        }
        assert.match((await lan.exec(d1, 'ip', ['-br', 'link', 'show', 'dev', 'ktvm73'])).stdout, /^ktvm73@ktvm73p/, `${kind}: the veth is still there`);
        await waitFor(async () => !(await lan.exec(d1, 'ip', ['-br', 'link'])).stdout.includes('vrrp.73'), { timeoutMs: 10_000, intervalMs: 50, what: `${kind}: the VMAC removed at stop` });
      }
    } finally {
      await lan.exec(d1, 'ip', ['link', 'del', 'ktvm73'], { allowFail: true });
    }
  });
});
