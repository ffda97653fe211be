// SIGKILL, with keepalived-ts's two processes shaped like keepalived's (a parent supervising a VRRP child):
// - SIGKILL of the VRRP process (no priority-0 advert, no clean-up): the backup takes over after the master-down
//   interval; the killed child's VIP stays on d1's interface until the parent respawns the child, whose start-up
//   removes it (keepalived: vrrp_restore_interfaces_startup); the respawned child preempts as priority 150.
// - SIGKILL of the parent: the VRRP child notices (keepalived's children get SIGTERM through PR_SET_PDEATHSIG; ours
//   see their IPC channel close) and hands over cleanly — one priority-0 advert, VIP removed, notify_stop.
// And `nopreempt`: a recovered higher-priority router stays BACKUP. The same assertions run against Debian's
// keepalived, which behaves identically in all three.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { vrrpConfig, waitFor, sleep, nowMs, type Lan, type Director, type DaemonKind } from '../helpers/lab.js';
import { labFor, pollHolders } from '../helpers/scenario.js';

const skip = needsRoot() || needsCommand('tcpdump');
const ADV = 0.1;
const WAIT = { timeoutMs: 15_000, intervalMs: 20 };

for (const kind of ['keepalived-ts', 'keepalived'] as DaemonKind[]) {
  describe(`SIGKILL of the master (${kind} ×2, VRRPv3 advert_int ${ADV})`, { skip: kind === 'keepalived' ? skip || needsCommand('keepalived') : skip }, () => {
    let lan: Lan;
    let teardown: () => Promise<void> = async () => {};
    let d1: Director;
    let d2: Director;
    let vip: string;
    const config = (d: Director, priority: number, extra: { nopreempt?: boolean } = {}) =>
      vrrpConfig({ vrid: 61, priority, state: 'BACKUP', advertInt: ADV, version: 3, vip: lan.vipCidr(), iface: 'eth0', notify: d.notifyScript, ...extra });

    before(async () => {
      ({ lan, teardown } = await labFor({ directors: 2, clients: 1 }));
      [d1, d2] = lan.directors;
      vip = lan.vip();
    });
    after(() => teardown());

    it('SIGKILL of the VRRP process: the backup takes over; the respawned process removes the leftover VIP and preempts', async () => {
      await d1.start({ kind, configText: config(d1, 150) });
      await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd1', { ...WAIT, what: 'd1 MASTER' });
      await d2.start({ kind, configText: config(d2, 100) });
      await waitFor(() => d2.notifyEvents().some((e) => e.state === 'BACKUP'), { ...WAIT, what: 'd2 BACKUP' });
      assert.ok(await lan.ping('c1', vip, { timeoutS: 2 }), 'c1 reaches the VIP on d1');
      assert.equal((await lan.neighbour('c1', vip))?.mac, d1.mac);
      const vrrpPid = Number(readFileSync(join(d1.dir, 'vrrp.pid'), 'utf8').trim());
      assert.ok(vrrpPid > 0 && vrrpPid !== d1.daemon!.pid, 'a separate VRRP process');
      // How long d2 holds the VIP depends on how soon the parent respawns the child (keepalived may do it at once,
      // and the respawned child preempts ~341 ms later), so d2's VIP is read from its address events, not polled.
      const mon = await lan.watchAddresses(d2);
      const t = nowMs();
      process.kill(vrrpPid, 'SIGKILL');
      // keepalived's parent respawns its C child within milliseconds, and the new child (priority 150, master-down
      // 341 ms) can preempt before d2's own master-down (361 ms) expires: then d2 never takes over, correctly. Our
      // child takes ~0.5 s to start, so with keepalived-ts d2 must take over.
      const d2Took = () => d2.notifyEvents().some((e) => e.state === 'MASTER' && e.tMs > t);
      const d1Back = () => d1.notifyEvents().some((e) => e.state === 'MASTER' && e.tMs > t);
      await waitFor(() => d2Took() || (kind === 'keepalived' && d1Back()), { ...WAIT, what: 'd2 notify MASTER' });
      if (d2Took()) await waitFor(() => mon.first(vip, true, t), { ...WAIT, what: 'd2 to add the VIP' });
      mon.stop();
      assert.ok(!d1.notifyEvents().some((e) => e.state === 'STOP'), 'no notify_stop from a killed process');
      // The parent respawns the VRRP process; it starts as BACKUP without the leftover VIP, then preempts.
      await waitFor(() => d1.notifyEvents().some((e) => e.state === 'BACKUP' && e.tMs > t), { ...WAIT, what: 'respawned d1 BACKUP' });
      await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd1', { ...WAIT, what: 'd1 to hold the VIP alone again' });
      assert.ok(d1.daemon!.running, 'the parent kept running');
      await waitFor(async () => (await lan.neighbour('c1', vip))?.mac === d1.mac, { ...WAIT, what: "c1's neighbour entry back on d1" });
    });

    it('SIGKILL of the parent: the VRRP process hands over cleanly (priority 0, VIP removed, notify_stop)', async () => {
      const t = nowMs();
      const r = await d1.stop('SIGKILL');
      assert.equal(r?.signal, 'SIGKILL');
      await waitFor(() => d1.notifyEvents().some((e) => e.state === 'STOP' && e.tMs > t), { ...WAIT, what: 'd1 notify_stop' });
      await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd2', { ...WAIT, what: 'only d2 to hold the VIP' });
      await waitFor(async () => (await lan.neighbour('c1', vip))?.mac === d2.mac, { ...WAIT, what: "c1's neighbour entry on d2" });
    });

    it('a restarted nopreempt router with the higher priority stays BACKUP', async () => {
      // Restart both with nopreempt: d2 (currently MASTER) first, then d1 with the higher priority.
      await d2.stop('SIGTERM');
      await d2.start({ kind, configText: config(d2, 100, { nopreempt: true }) });
      await waitFor(async () => (await lan.vipHolders(vip)).includes('d2'), { ...WAIT, what: 'd2 to hold the VIP again' });
      const before = d1.notifyEvents().length;
      const mastersBefore = d1.notifyEvents().filter((e) => e.state === 'MASTER').length;
      await d1.start({ kind, configText: config(d1, 150, { nopreempt: true }) });
      await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd2', { ...WAIT, what: 'only d2 to hold the VIP' });
      await waitFor(() => d1.notifyEvents().slice(before).some((e) => e.state === 'BACKUP'), { ...WAIT, what: 'd1 BACKUP' });
      // Many master-down intervals later, d2 still holds it and d1 never became MASTER.
      const seen = await pollHolders(lan, vip, 30 * ADV * 1000);
      assert.deepEqual(seen, [['d2']]);
      assert.equal(d1.notifyEvents().filter((e) => e.state === 'MASTER').length, mastersBefore, 'the restarted d1 never became MASTER');
      // Only when d2 goes away does d1 take over.
      await d2.stop('SIGTERM');
      await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd1', { ...WAIT, what: 'd1 to take over from the stopped d2' });
      await sleep(3 * ADV * 1000);
      assert.deepEqual(await lan.vipHolders(vip), ['d1']);
    });
  });
}
