// Ordinary configurations that once gave two masters (or a master that never advertises), each run twice on the
// same namespace LAN and the same config: once with keepalived-ts as the director under test and once, as the
// control, with Debian's keepalived in its place. The peer is always Debian's keepalived. Every scenario asserts
// what an operator sees: who holds the VIPs, polled every 50 ms, and the notify log.
import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { vrrpConfig, waitFor, sleep, type Lan, type Director, type DaemonKind } from '../helpers/lab.js';
import { labFor } from '../helpers/scenario.js';

const skip = needsRoot() || needsCommand('keepalived');
const WAIT = { timeoutMs: 20_000, intervalMs: 20 };
const SUBJECTS: DaemonKind[] = ['keepalived-ts', 'keepalived'];

/** Every distinct set of holders of each VIP seen while polling every 50 ms for `ms`. */
async function watchHolders(lan: Lan, vips: string[], ms: number): Promise<Map<string, Set<string>>> {
  const seen = new Map(vips.map((v) => [v, new Set<string>()]));
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const answers = await Promise.all(vips.map((v) => lan.vipHolders(v)));
    vips.forEach((v, i) => seen.get(v)!.add(answers[i]!.join(',')));
    await sleep(50);
  }
  return seen;
}

const holdersOf = async (lan: Lan, vip: string) => (await lan.vipHolders(vip)).join(',');
const states = (d: Director) => d.notifyEvents().filter((e) => e.state !== 'NOTIFY').map((e) => e.state);
const script = (d: Director, name: string, body: string): string => {
  const p = join(d.dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  chmodSync(p, 0o755);
  return p;
};

for (const subject of SUBJECTS) {
  describe(`split-brain paths closed (director under test: ${subject}; peer: keepalived)`, { skip }, () => {
    let lan: Lan;
    let teardown: () => Promise<void> = async () => {};
    let d1: Director;
    let d2: Director;
    let d3: Director;

    before(async () => {
      if (skip) return;
      ({ lan, teardown } = await labFor({ directors: 3, clients: 1 }));
      [d1, d2, d3] = lan.directors as [Director, Director, Director];
    });
    after(() => teardown());
    // Each scenario starts from quiet directors with empty notify logs, and stops them even when it fails.
    beforeEach(() => {
      if (skip) return;
      for (const d of lan.directors) rmSync(d.notifyLog, { force: true });
    });
    afterEach(async () => {
      if (skip) return;
      for (const d of lan.directors) await d.stop();
    });

    it('vrrp_garp_interval 0.5 with three VIPs: the adverts keep their cadence through the paced GARPs; one holder at every poll', async () => {
      const vips = [lan.vipCidr(0), lan.vipCidr(1), lan.vipCidr(2)];
      const cfg = (prio: number, notify: string) => vrrpConfig({
        vrid: 61, priority: prio, advertInt: 1, vip: vips, iface: 'eth0', notify,
        extraGlobal: ['vrrp_garp_interval 0.5'], extraInstance: ['garp_master_refresh 4', 'garp_master_refresh_repeat 2'],
      });
      await d2.start({ kind: 'keepalived', configText: cfg(100, d2.notifyScript) });
      await waitFor(async () => (await holdersOf(lan, lan.vip(0))) === 'd2', { ...WAIT, what: 'the peer to hold the VIPs' });
      // The subject preempts: 15 GARPs paced 0.5 s apart take 7 s, longer than the peer's 3.6 s master-down.
      await d1.start({ kind: subject, configText: cfg(150, d1.notifyScript) });
      const seen = await watchHolders(lan, [lan.vip(0), lan.vip(2)], 16_000);
      for (const [vip, sets] of seen) {
        for (const s of sets) assert.ok(!s.includes(','), `${vip} held by ${s} at once (all seen: ${[...sets].join(' | ')})`);
        assert.ok(sets.has('d1'), `${vip} moved to the subject`);
      }
      assert.equal(await holdersOf(lan, lan.vip(0)), 'd1');
      assert.equal(states(d2).filter((s) => s === 'MASTER').length, 1, `the peer became MASTER once, at its start (${states(d2).join(',')})`);
      await d1.stop();
      await d2.stop();
    });

    it('an interface without a usable source address: FAULT, no VIP, until the address comes back', async () => {
      const cfg = (prio: number, notify: string) => vrrpConfig({ vrid: 62, priority: prio, advertInt: 1, vip: lan.vipCidr(3), iface: 'eth0', notify });
      await d2.start({ kind: 'keepalived', configText: cfg(100, d2.notifyScript) });
      await waitFor(async () => (await holdersOf(lan, lan.vip(3))) === 'd2', { ...WAIT, what: 'the peer to hold the VIP' });
      execFileSync('ip', ['-n', d1.ns, 'addr', 'flush', 'dev', 'eth0', 'scope', 'global']);
      try {
        await d1.start({ kind: subject, configText: cfg(150, d1.notifyScript) });
        const seen = await watchHolders(lan, [lan.vip(3)], 6000);
        assert.deepEqual([...seen.get(lan.vip(3))!], ['d2'], 'only the peer holds the VIP');
        assert.ok(!states(d1).includes('MASTER'), `the subject never became MASTER (${states(d1).join(',')})`);
        assert.ok(states(d1).includes('FAULT'), `the subject is in FAULT (${states(d1).join(',')})`);
      } finally {
        execFileSync('ip', ['-n', d1.ns, 'addr', 'add', `${d1.ip}/${d1.prefixLen}`, 'dev', 'eth0']);
      }
      await waitFor(async () => (await holdersOf(lan, lan.vip(3))) === 'd1', { ...WAIT, what: 'the subject to take over once it has an address' });
      await d1.stop();
      await d2.stop();
    });

    it('a track_file swapped for a FIFO does not stop the adverts: the subject stays the only holder', async () => {
      const dir = join(d1.dir, 'track');
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { mode: 0o755 });
      const file = join(dir, 'weight');
      writeFileSync(file, '0\n');
      const track = `vrrp_track_file tf {\n    file "${file}"\n    weight 1\n}\n`;
      const c1 = vrrpConfig({ vrid: 63, priority: 150, advertInt: 1, vip: lan.vipCidr(4), iface: 'eth0', notify: d1.notifyScript, extraInstance: ['track_file {', 'tf', '}'] });
      const c2 = vrrpConfig({ vrid: 63, priority: 100, advertInt: 1, vip: lan.vipCidr(4), iface: 'eth0', notify: d2.notifyScript });
      await d1.start({ kind: subject, configText: `${track}\n${c1}` });
      await waitFor(async () => (await holdersOf(lan, lan.vip(4))) === 'd1', { ...WAIT, what: 'the subject to hold the VIP' });
      await d2.start({ kind: 'keepalived', configText: c2 });
      await waitFor(() => states(d2).includes('BACKUP'), { ...WAIT, what: 'the peer BACKUP' });
      rmSync(file);
      execFileSync('mkfifo', ['-m', '0644', file]);
      const seen = await watchHolders(lan, [lan.vip(4)], 6000);
      assert.deepEqual([...seen.get(lan.vip(4))!], ['d1'], 'the subject keeps the VIP and the peer never takes it');
      assert.ok(!states(d2).includes('MASTER'), `the peer never became MASTER (${states(d2).join(',')})`);
      await d2.stop();
      await d1.stop('SIGTERM', 8000);
      rmSync(dir, { recursive: true, force: true });
    });

    it('five reloads that remove and re-add a second instance while the peer masters both at 50 ms: the subject never holds a VIP', async () => {
      const one = (d: Director, vrid: number, prio: number, n: number, name: string) => vrrpConfig({
        vrid, priority: prio, advertInt: 0.05, version: 3, vip: lan.vipCidr(n), iface: 'eth0', notify: d.notifyScript, instanceName: name,
      }).replace(/^global_defs \{[\s\S]*?\n\}\n/m, '');
      const g = 'global_defs {\n    vrrp_version 3\n    enable_script_security\n    script_user root\n}\n';
      await d2.start({ kind: 'keepalived', configText: `${g}${one(d2, 64, 200, 5, 'VI_1')}${one(d2, 65, 200, 6, 'VI_2')}` });
      await waitFor(async () => (await holdersOf(lan, lan.vip(6))) === 'd2', { ...WAIT, what: 'the peer to hold both VIPs' });
      const both = `${g}${one(d1, 64, 100, 5, 'VI_1')}${one(d1, 65, 100, 6, 'VI_2')}`;
      const single = `${g}${one(d1, 64, 100, 5, 'VI_1')}`;
      const daemon = await d1.start({ kind: subject, configText: both });
      await waitFor(() => states(d1).filter((s) => s === 'BACKUP').length >= 2, { ...WAIT, what: 'the subject BACKUP for both' });
      const watching = watchHolders(lan, [lan.vip(5), lan.vip(6)], 9000);
      for (let i = 0; i < 5; i++) {
        writeFileSync(daemon.configFile, single);
        daemon.signal('SIGHUP');
        await sleep(700);
        writeFileSync(daemon.configFile, both);
        daemon.signal('SIGHUP');
        await sleep(900);
      }
      const seen = await watching;
      for (const [vip, sets] of seen) assert.deepEqual([...sets], ['d2'], `${vip}: only the peer holds it`);
      assert.ok(!states(d1).includes('MASTER'), `the subject never became MASTER (${states(d1).join(',')})`);
      await d1.stop();
      await d2.stop();
    });

    it('an address owner with a failing track_script at start never becomes MASTER', async () => {
      const fail = script(d1, 'owner-chk.sh', 'exit 1');
      const s = `vrrp_script chk {\n    script "${fail}"\n    interval 1\n    weight 0\n}\n`;
      const c1 = vrrpConfig({ vrid: 66, priority: 255, state: 'MASTER', advertInt: 1, vip: lan.vipCidr(7), iface: 'eth0', notify: d1.notifyScript, extraInstance: ['track_script {', 'chk', '}'] });
      const c2 = vrrpConfig({ vrid: 66, priority: 100, advertInt: 1, vip: lan.vipCidr(7), iface: 'eth0', notify: d2.notifyScript });
      await d2.start({ kind: 'keepalived', configText: c2 });
      await waitFor(async () => (await holdersOf(lan, lan.vip(7))) === 'd2', { ...WAIT, what: 'the peer to hold the VIP' });
      await d1.start({ kind: subject, configText: `${s}\n${c1}` });
      const seen = await watchHolders(lan, [lan.vip(7)], 5000);
      assert.deepEqual([...seen.get(lan.vip(7))!], ['d2'], 'only the peer holds the VIP');
      assert.ok(!states(d1).includes('MASTER'), `the owner never became MASTER (${states(d1).join(',')})`);
      assert.ok(states(d1).includes('FAULT'), `the owner is in FAULT (${states(d1).join(',')})`);
      await d1.stop();
      await d2.stop();
    });

    it('a track_script in vrrp_sync_group applies to every member: both in FAULT, the peer holds both VIPs', async () => {
      const fail = script(d1, 'group-chk.sh', 'exit 1');
      const inst = (d: Director, vrid: number, prio: number, n: number, name: string) => vrrpConfig({
        vrid, priority: prio, advertInt: 1, vip: lan.vipCidr(n), iface: 'eth0', notify: d.notifyScript, instanceName: name,
      }).replace(/^global_defs \{[\s\S]*?\n\}\n/m, '');
      const g = 'global_defs {\n    enable_script_security\n    script_user root\n}\n';
      const group = `vrrp_script chk {\n    script "${fail}"\n    interval 1\n    weight 0\n}\nvrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_2\n    }\n    track_script {\n        chk\n    }\n}\n`;
      await d2.start({ kind: 'keepalived', configText: `${g}${inst(d2, 67, 100, 8, 'VI_1')}${inst(d2, 68, 100, 9, 'VI_2')}` });
      await waitFor(async () => (await holdersOf(lan, lan.vip(9))) === 'd2', { ...WAIT, what: 'the peer to hold both VIPs' });
      await d1.start({ kind: subject, configText: `${g}${group}${inst(d1, 67, 150, 8, 'VI_1')}${inst(d1, 68, 150, 9, 'VI_2')}` });
      const seen = await watchHolders(lan, [lan.vip(8), lan.vip(9)], 6000);
      for (const [vip, sets] of seen) assert.deepEqual([...sets], ['d2'], `${vip}: only the peer holds it`);
      const faults = d1.notifyEvents().filter((e) => e.state === 'NOTIFY' && e.args[0] === 'INSTANCE' && e.args[2] === 'FAULT').map((e) => e.args[1]);
      assert.deepEqual([...new Set(faults)].sort(), ['VI_1', 'VI_2'], 'both members went to FAULT');
      await d1.stop();
      await d2.stop();
    });

    it('two unicast instances sharing a VRID with different peers: each hears only its own peer', async () => {
      const uni = (d: Director, prio: number, peer: Director, n: number, name: string) => vrrpConfig({
        vrid: 69, priority: prio, advertInt: 1, vip: lan.vipCidr(n), iface: 'eth0', notify: d.notifyScript, instanceName: name,
        unicastSrcIp: d.ip, unicastPeers: [peer.ip],
      }).replace(/^global_defs \{[\s\S]*?\n\}\n/m, '');
      const g = 'global_defs {\n    enable_script_security\n    script_user root\n}\n';
      // d1 runs both: VI_A (150) with d2 (100) and VI_B (50) with d3 (100).
      await d2.start({ kind: 'keepalived', configText: `${g}${uni(d2, 100, d1, 10, 'VI_A')}` });
      await d3.start({ kind: 'keepalived', configText: `${g}${uni(d3, 100, d1, 11, 'VI_B')}` });
      await d1.start({ kind: subject, configText: `${g}${uni(d1, 150, d2, 10, 'VI_A')}${uni(d1, 50, d3, 11, 'VI_B')}` });
      await waitFor(async () => (await holdersOf(lan, lan.vip(10))) === 'd1' && (await holdersOf(lan, lan.vip(11))) === 'd3', { ...WAIT, what: 'd1 holding A and d3 holding B' });
      const seen = await watchHolders(lan, [lan.vip(10), lan.vip(11)], 5000);
      assert.deepEqual([...seen.get(lan.vip(10))!], ['d1']);
      assert.deepEqual([...seen.get(lan.vip(11))!], ['d3']);
      await d1.stop();
      await d2.stop();
      await d3.stop();
    });
  });
}
