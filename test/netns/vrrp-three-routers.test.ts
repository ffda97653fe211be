// Three routers with priorities 150, 100 and 50 on one LAN: the highest holds the VIP; when it loses its link the
// middle one takes over, never the lowest; after every convergence exactly one router holds the VIP at every poll.
// VRRPv2 with advert_int 1 so the two backups' master-down timers (3.39 s and 3.80 s) are far enough apart for the
// ordering to be the protocol's, not the scheduler's.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from '../helpers/root.js';
import { vrrpConfig, waitFor, type Lan, type Director, type AddressMonitor } from '../helpers/lab.js';
import { labFor, pollHolders } from '../helpers/scenario.js';

const WAIT = { timeoutMs: 20_000, intervalMs: 50 };

describe('three keepalived-ts routers (prio 150 / 100 / 50), VRRPv2 advert_int 1', { skip: needsRoot() }, () => {
  let lan: Lan;
  let teardown: () => Promise<void> = async () => {};
  let vip: string;
  let d3Addrs: AddressMonitor;
  const prio: Record<string, number> = { d1: 150, d2: 100, d3: 50 };
  const config = (d: Director) =>
    vrrpConfig({ vrid: 81, priority: prio[d.name], state: 'BACKUP', advertInt: 1, version: 2, vip: lan.vipCidr(), iface: 'eth0', notify: d.notifyScript });

  before(async () => {
    ({ lan, teardown } = await labFor({ directors: 3, clients: 1 }));
    vip = lan.vip();
  });
  after(() => teardown());

  it('the highest priority wins and stays the only holder', async () => {
    const [d1, d2, d3] = lan.directors;
    await d1.start({ kind: 'keepalived-ts', configText: config(d1) });
    await waitFor(() => d1.notifyEvents().some((e) => e.state === 'BACKUP'), { ...WAIT, what: 'd1 running' });
    await d2.start({ kind: 'keepalived-ts', configText: config(d2) });
    await d3.start({ kind: 'keepalived-ts', configText: config(d3) });
    await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd1', { ...WAIT, what: 'd1 to hold the VIP' });
    await waitFor(() => d2.notifyEvents().some((e) => e.state === 'BACKUP') && d3.notifyEvents().some((e) => e.state === 'BACKUP'), { ...WAIT, what: 'd2 and d3 BACKUP' });
    d3Addrs = await lan.watchAddresses(d3);
    assert.deepEqual(await pollHolders(lan, vip, 4000), [['d1']], 'exactly d1 at every poll');
    assert.ok(await lan.ping('c1', vip, { timeoutS: 2 }));
  });

  it('the master loses its link: the middle priority takes over, not the lowest', async () => {
    const [d1, d2, d3] = lan.directors;
    const t = await lan.linkDown(d1);
    await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd2', { ...WAIT, what: 'd2 to hold the VIP' });
    assert.deepEqual(await pollHolders(lan, vip, 5000), [['d2']], 'exactly d2 at every poll');
    assert.equal(d3Addrs.first(vip, true, t), undefined, 'd3 never added the VIP');
    assert.ok(!d3.notifyEvents().some((e) => e.state === 'MASTER'), 'd3 never became MASTER');
    assert.ok(d2.notifyEvents().some((e) => e.state === 'MASTER' && e.tMs > t));
    await waitFor(async () => (await lan.neighbour('c1', vip))?.mac === d2.mac, { ...WAIT, what: "c1's neighbour entry on d2" });
    assert.equal(d1.notifyEvents().at(-1)?.state === 'FAULT' || d1.notifyEvents().some((e) => e.state === 'FAULT' && e.tMs > t), true);
  });

  it('the highest comes back and preempts; then the middle one stops and the lowest is left alone', async () => {
    const [d1, d2, d3] = lan.directors;
    await lan.linkUp(d1);
    await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd1', { ...WAIT, what: 'd1 to hold the VIP again' });
    assert.deepEqual(await pollHolders(lan, vip, 3000), [['d1']]);
    // With d1 and d2 gone, the lowest is the only router left and takes over.
    await d1.stop('SIGTERM');
    await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd2', { ...WAIT, what: 'd2 after d1 stopped' });
    await d2.stop('SIGTERM');
    await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd3', { ...WAIT, what: 'd3 after d2 stopped' });
    assert.deepEqual(await pollHolders(lan, vip, 2000), [['d3']]);
    await d3.stop('SIGTERM');
    assert.deepEqual(await lan.vipHolders(vip), []);
  });
});
