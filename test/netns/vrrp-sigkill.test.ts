// Failover when the master's daemon is SIGKILLed (no priority-0 advert, no clean-up): the backup takes over after the
// master-down interval, and the killed daemon's VIP stays configured on its interface until a daemon starts there
// again and removes it. keepalived: SIGKILL of its VRRP process (keepalived_vrrp) leaves the VIP the same way, and
// its start-up removes leftovers (vrrp_restore_interfaces_startup); SIGKILL of keepalived's *parent* is different —
// the VRRP child gets SIGTERM from the kernel (PR_SET_PDEATHSIG) and hands over cleanly. keepalived-ts is one
// process, so its SIGKILL is the former case. And `nopreempt`: a recovered higher-priority router stays BACKUP.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { vrrpConfig, waitFor, sleep, type Lan, type Director, type DaemonKind } from '../helpers/lab.js';
import { labFor, pollHolders } from '../helpers/scenario.js';

const skip = needsRoot() || needsCommand('tcpdump');
const ADV = 0.1;
const WAIT = { timeoutMs: 15_000, intervalMs: 20 };

for (const kind of ['keepalived-ts'] as DaemonKind[]) {
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

    it('the backup takes over; the killed master keeps its VIP configured (as keepalived does)', async () => {
      await d1.start({ kind, configText: config(d1, 150) });
      await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd1', { ...WAIT, what: 'd1 MASTER' });
      await d2.start({ kind, configText: config(d2, 100) });
      await waitFor(() => d2.notifyEvents().some((e) => e.state === 'BACKUP'), { ...WAIT, what: 'd2 BACKUP' });
      assert.ok(await lan.ping('c1', vip, { timeoutS: 2 }), 'c1 reaches the VIP on d1');
      assert.equal((await lan.neighbour('c1', vip))?.mac, d1.mac);
      const r = await d1.stop('SIGKILL');
      assert.equal(r?.signal, 'SIGKILL');
      await waitFor(() => d2.notifyEvents().some((e) => e.state === 'MASTER'), { ...WAIT, what: 'd2 notify MASTER' });
      await waitFor(async () => (await lan.vipHolders(vip)).includes('d2'), { ...WAIT, what: 'd2 to hold the VIP' });
      // Nothing ran on d1 to remove it: the address stays on d1's eth0 (keepalived: the same; it is the reason
      // keepalived removes leftover VIPs when it starts again).
      assert.deepEqual(await lan.vipHolders(vip), ['d1', 'd2']);
      assert.ok(!d1.notifyEvents().some((e) => e.state === 'STOP'), 'no notify_stop from a killed daemon');
      // The client follows d2's GARP.
      await waitFor(async () => (await lan.neighbour('c1', vip))?.mac === d2.mac, { ...WAIT, what: "c1's neighbour entry on d2" });
    });

    it('a restarted nopreempt router with the higher priority stays BACKUP', async () => {
      // Restart both with nopreempt: d2 (currently MASTER) first, then d1 with the higher priority.
      await d2.stop('SIGTERM');
      await d2.start({ kind, configText: config(d2, 100, { nopreempt: true }) });
      await waitFor(async () => (await lan.vipHolders(vip)).includes('d2'), { ...WAIT, what: 'd2 to hold the VIP again' });
      const before = d1.notifyEvents().length;
      await d1.start({ kind, configText: config(d1, 150, { nopreempt: true }) });
      // d1 starts as BACKUP and removes the VIP the killed daemon left behind.
      await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd2', { ...WAIT, what: 'only d2 to hold the VIP' });
      await waitFor(() => d1.notifyEvents().slice(before).some((e) => e.state === 'BACKUP'), { ...WAIT, what: 'd1 BACKUP' });
      // Many master-down intervals later, d2 still holds it and d1 never became MASTER.
      const seen = await pollHolders(lan, vip, 30 * ADV * 1000);
      assert.deepEqual(seen, [['d2']]);
      const afterRestart = d1.notifyEvents().filter((e) => e.state === 'MASTER');
      assert.equal(afterRestart.length, 1, 'd1 was MASTER once, before the kill, never after');
      // Only when d2 goes away does d1 take over.
      await d2.stop('SIGTERM');
      await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd1', { ...WAIT, what: 'd1 to take over from the stopped d2' });
      await sleep(3 * ADV * 1000);
      assert.deepEqual(await lan.vipHolders(vip), ['d1']);
    });
  });
}
