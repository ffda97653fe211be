// use_ipvlan beside Debian's keepalived on the same config, in the guest (this host's kernel has no ipvlan): a
// keepalived-ts master and a keepalived backup, each with `use_ipvlan <own address>/24 private`. Both make vrrp.51,
// an l2 ipvlan on eth0 with the same link attributes, its address, IPv6 off; the master holds the VIP (on the
// interface keepalived puts it on) and a client reaches it (its neighbour entry: the master's own MAC, which an ipvlan shares). The master killed with
// SIGKILL: keepalived takes the VIP; the master restarted adopts the ipvlan left behind and takes the VIP back; no
// vrrp.* interface is left once both stopped.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { vrrpConfig, waitFor, run, type Lan, type Director } from '../../helpers/lab.js';
import { labFor } from '../../helpers/scenario.js';

// Node runs ~12x slower under TCG: generous waits, each a condition.
const WAIT = { timeoutMs: 90_000, intervalMs: 200 };

interface LinkJson { ifname: string; address?: string; link?: string; linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> } }

async function ipvlanLinks(d: Director): Promise<LinkJson[]> {
  const { stdout } = await run('ip', ['-n', d.ns, '-d', '-j', 'link', 'show']);
  return (JSON.parse(stdout || '[]') as LinkJson[]).filter((l) => l.ifname.startsWith('vrrp'));
}

async function addressesOn(d: Director, dev: string): Promise<string[]> {
  const { stdout } = await run('ip', ['-n', d.ns, '-j', 'addr', 'show', 'dev', dev]);
  return ((JSON.parse(stdout || '[]') as { addr_info?: { local: string; prefixlen: number }[] }[])[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
}

/** The interface a director has `ip` on, or undefined. */
async function devOf(d: Director, ip: string): Promise<string | undefined> {
  const { stdout } = await run('ip', ['-n', d.ns, '-j', 'addr', 'show']);
  return (JSON.parse(stdout || '[]') as { ifname: string; addr_info?: { local: string }[] }[]).find((l) => l.addr_info?.some((a) => a.local === ip))?.ifname;
}

describe('use_ipvlan: keepalived-ts master (prio 150) + keepalived backup (prio 100)', () => {
  let lan: Lan;
  let teardown: () => Promise<void> = async () => {};
  let d1: Director;
  let d2: Director;
  let vip: string;
  const own = (d: Director) => (d === d1 ? '10.99.0.61' : '10.99.0.62');
  const config = (d: Director, priority: number, state: 'MASTER' | 'BACKUP') =>
    vrrpConfig({ vrid: 51, priority, state, advertInt: 1, version: 2, vip: lan.vipCidr(), iface: 'eth0', extraInstance: [`use_ipvlan ${own(d)}/24 private`] });
  const holders = () => lan.vipHolders(vip);
  let tsVipDev: string | undefined;

  before(async () => {
    ({ lan, teardown } = await labFor({ directors: 2, clients: 1, prefix: 'kipvl' }));
    [d1, d2] = lan.directors as [Director, Director];
    vip = lan.vip();
  });
  after(() => teardown());

  it('both make vrrp.51 (l2 ipvlan, private, same attributes), with their address; the master holds the VIP', async () => {
    await d1.start({ kind: 'keepalived-ts', configText: config(d1, 150, 'MASTER') });
    await waitFor(async () => (await holders()).join() === 'd1', { ...WAIT, what: 'd1 to hold the VIP' });
    await d2.start({ kind: 'keepalived', configText: config(d2, 100, 'BACKUP') });
    await waitFor(async () => (await ipvlanLinks(d2)).length === 1 && (await addressesOn(d2, 'vrrp.51')).length > 0, { ...WAIT, what: 'd2 to make its ipvlan' });
    const [l1, l2] = [(await ipvlanLinks(d1))[0]!, (await ipvlanLinks(d2))[0]!];
    assert.equal(l1.ifname, 'vrrp.51');
    assert.equal(l1.linkinfo?.info_kind, 'ipvlan');
    assert.deepEqual(l1.linkinfo?.info_data, l2.linkinfo?.info_data, "keepalived-ts's ipvlan has keepalived's mode and flags");
    assert.equal(l1.address, await lan.macOf(d1), "an ipvlan has its parent's MAC");
    for (const d of [d1, d2]) {
      const { stdout } = await run('ip', ['netns', 'exec', d.ns, 'cat', '/proc/sys/net/ipv6/conf/vrrp.51/disable_ipv6']);
      assert.equal(stdout.trim(), '1', `${d.name}: IPv6 off on an IPv4 ipvlan`);
    }
    assert.deepEqual((await addressesOn(d1, 'vrrp.51')).filter((a) => a !== lan.vipCidr()), ['10.99.0.61/24']);
    assert.deepEqual(await addressesOn(d2, 'vrrp.51'), ['10.99.0.62/24']);
    tsVipDev = await devOf(d1, vip);
    await waitFor(() => lan.ping('c1', vip), { ...WAIT, what: 'c1 to reach the VIP on d1' });
    assert.equal((await lan.neighbour('c1', vip))?.mac, await lan.macOf(d1));
    assert.deepEqual(await holders(), ['d1'], 'one VIP holder with both running (each hears the other through its ipvlan)');
  });

  it('the master killed: keepalived takes the VIP; restarted, keepalived-ts adopts its leftover ipvlan and takes the VIP back', async () => {
    const child = Number(readFileSync(join(d1.dir, 'vrrp.pid'), 'utf8').trim());
    process.kill(d1.daemon!.pid, 'SIGSTOP');
    process.kill(child, 'SIGKILL');
    await d1.daemon!.stop('SIGKILL');
    // The killed run's VIP stays on its ipvlan, as keepalived's would: d2 holds it too.
    await waitFor(async () => (await holders()).includes('d2'), { ...WAIT, what: 'd2 to take over from the killed master' });
    assert.equal(await devOf(d2, vip), tsVipDev, 'keepalived puts the VIP where keepalived-ts put it');
    assert.deepEqual((await addressesOn(d1, 'vrrp.51')).filter((a) => a !== lan.vipCidr()), ['10.99.0.61/24'], 'the killed run left its ipvlan');
    await d1.start({ kind: 'keepalived-ts', configText: config(d1, 150, 'MASTER') });
    await waitFor(async () => (await holders()).join() === 'd1', { ...WAIT, what: 'd1 to hold the VIP again, alone' });
    assert.match(d1.daemon!.log(), /\(VI_1\) Found matching interface vrrp\.51/);
    assert.deepEqual((await ipvlanLinks(d1)).map((l) => l.ifname), ['vrrp.51'], 'one ipvlan on d1');
    await waitFor(async () => (await lan.ping('c1', vip)) && (await lan.neighbour('c1', vip))?.mac === (await lan.macOf(d1)), { ...WAIT, what: 'c1 to reach the VIP on d1' });
  });

  it('no vrrp.* interface on either director once both stopped', async () => {
    for (const d of [d1, d2]) {
      const r = await d.stop('SIGTERM');
      assert.equal(r?.code, 0, `${d.name} exits cleanly`);
      assert.deepEqual(await ipvlanLinks(d), [], `no vrrp.* left on ${d.name}`);
    }
    assert.deepEqual(await holders(), []);
  });
});
