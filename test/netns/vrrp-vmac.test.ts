// use_vmac beside Debian's keepalived on the same config, both ways round (keepalived-ts master + keepalived backup,
// and the reverse), as a client on the LAN sees it: the VIP's neighbour entry is the virtual router MAC
// 00:00:5e:00:01:<vrid> and stays so across a failover; adverts and GARPs carry that MAC; both directors have the
// VMAC (a private macvlan vrrp.<vrid>) while they run and none once stopped; a VMAC left by a run killed with
// SIGKILL is taken over by the next start and removed at its stop.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { checkConfig } from '../../src/config/check-config.js';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { vrrpConfig, waitFor, run, sleep, type Lan, type Director, type DaemonKind, type Capture } from '../helpers/lab.js';
import { labFor } from '../helpers/scenario.js';

const skip = needsRoot() || needsCommand('tcpdump') || needsCommand('keepalived');
const VRID = 51;
const VMAC = '00:00:5e:00:01:33';
const WAIT = { timeoutMs: 20_000, intervalMs: 50 };

interface LinkJson { ifname: string; address?: string; linkinfo?: { info_kind?: string; info_data?: { mode?: string } } }

/** The director's vrrp.* links as `ip -d -j link` shows them. */
async function vmacLinks(lan: Lan, d: Director): Promise<LinkJson[]> {
  const { stdout } = await run('ip', ['-n', d.ns, '-d', '-j', 'link', 'show']);
  return (JSON.parse(stdout || '[]') as LinkJson[]).filter((l) => l.ifname.startsWith('vrrp'));
}

/** A sysctl of the director's namespace, by its /proc/sys path (interface names keep their dots there). */
async function sysctl(d: Director, path: string): Promise<string> {
  const { stdout } = await run('ip', ['netns', 'exec', d.ns, 'cat', `/proc/sys/${path}`]);
  return stdout.trim();
}

for (const [k1, k2] of [['keepalived-ts', 'keepalived'], ['keepalived', 'keepalived-ts']] as Array<[DaemonKind, DaemonKind]>) {
  describe(`use_vmac: ${k1} master (prio 150) + ${k2} backup (prio 100), VRRPv2 advert_int 1`, { skip }, () => {
    let lan: Lan;
    let teardown: () => Promise<void> = async () => {};
    let d1: Director;
    let d2: Director;
    let vip: string;
    let cap: Capture;
    const config = (priority: number, state: 'MASTER' | 'BACKUP') =>
      vrrpConfig({ vrid: VRID, priority, state, advertInt: 1, version: 2, vip: lan.vipCidr(), iface: 'eth0', extraInstance: ['use_vmac'] });
    const holders = () => lan.vipHolders(vip);
    const neighbourMac = async () => {
      await lan.ping('c1', vip, { timeoutS: 1 });
      return (await lan.neighbour('c1', vip))?.mac;
    };

    before(async () => {
      ({ lan, teardown } = await labFor({ directors: 2, clients: 1, prefix: 'kvmac' }));
      [d1, d2] = lan.directors;
      vip = lan.vip();
      // keepalived leaves arp_announce alone; at 0 a director answering the client from the VIP first resolves the
      // client with an ARP request whose sender is the VIP and the parent's own MAC, which overwrites the client's
      // entry for the VIP (seen with Debian's keepalived exactly as with keepalived-ts). Operators running VMACs set
      // arp_announce=2 for that reason; so does the lab, on both directors, before either daemon runs.
      for (const d of [d1, d2]) await run('ip', ['netns', 'exec', d.ns, 'sysctl', '-q', '-w', 'net.ipv4.conf.eth0.arp_announce=2']);
      cap = await lan.capture('bridge', 'vrrp or arp');
    });
    after(() => teardown());

    it('both directors make vrrp.51 (private macvlan, the virtual MAC); the master holds the VIP on it', async () => {
      const before = { ignore: await sysctl(d1, 'net/ipv4/conf/eth0/arp_ignore'), filter: await sysctl(d1, 'net/ipv4/conf/eth0/arp_filter') };
      assert.deepEqual(before, { ignore: '0', filter: '0' }, 'the lab starts from the kernel defaults');
      await d1.start({ kind: k1, configText: config(150, 'MASTER') });
      await waitFor(async () => (await holders()).join() === 'd1', { ...WAIT, what: 'd1 to hold the VIP' });
      await d2.start({ kind: k2, configText: config(100, 'BACKUP') });
      await waitFor(async () => (await vmacLinks(lan, d2)).length === 1, { ...WAIT, what: 'd2 to make its VMAC' });
      // d2 hears d1 through its own VMAC: several advert intervals later d1 is still the only holder.
      await sleep(4000);
      assert.deepEqual(await holders(), ['d1'], 'one VIP holder with both running');
      for (const d of [d1, d2]) {
        const links = await vmacLinks(lan, d);
        assert.deepEqual(links.map((l) => [l.ifname, l.address, l.linkinfo?.info_kind, l.linkinfo?.info_data?.mode]), [['vrrp.51', VMAC, 'macvlan', 'private']], `${d.name}'s VMAC`);
        // keepalived's sysctls (vrrp_if_config.c): on the VMAC, and arp_ignore/arp_filter on its parent.
        assert.equal(await sysctl(d, 'net/ipv4/conf/vrrp.51/arp_ignore'), '1');
        assert.equal(await sysctl(d, 'net/ipv4/conf/vrrp.51/accept_local'), '1');
        assert.equal(await sysctl(d, 'net/ipv4/conf/vrrp.51/rp_filter'), '0');
        assert.equal(await sysctl(d, 'net/ipv4/conf/eth0/arp_ignore'), '1');
        assert.equal(await sysctl(d, 'net/ipv4/conf/eth0/arp_filter'), '1');
        assert.equal(await sysctl(d, 'net/ipv6/conf/vrrp.51/disable_ipv6'), '1');
      }
      const { stdout } = await run('ip', ['-n', d1.ns, '-j', 'addr', 'show', 'dev', 'vrrp.51']);
      assert.ok(stdout.includes(`"${vip}"`), 'the VIP is on vrrp.51');
      assert.equal(await neighbourMac(), VMAC, "c1's neighbour entry for the VIP is the virtual MAC");
      const adverts = cap.frames().filter((f) => f.vrrp && f.vrrp.vrid === VRID);
      assert.ok(adverts.length > 0 && adverts.every((f) => f.ethSrc === VMAC && f.vrrp!.priority === 150 && f.ipv4!.src === d1.ip), 'adverts: virtual MAC, from d1 address');
      const garps = cap.frames().filter((f) => f.arp && f.arp.senderIp === vip && f.arp.targetIp === vip);
      assert.ok(garps.length > 0 && garps.every((f) => f.ethSrc === VMAC && f.arp!.senderMac === VMAC), 'GARPs carry the virtual MAC');
    });

    it('fails over on SIGTERM of the master: d2 takes the VIP, the neighbour entry stays the virtual MAC, d1 has no VMAC left', async () => {
      const { code } = await d1.daemon!.stop('SIGTERM');
      assert.equal(code, 0);
      await waitFor(async () => (await holders()).join() === 'd2', { ...WAIT, what: 'd2 to hold the VIP' });
      await waitFor(() => lan.ping('c1', vip), { ...WAIT, what: 'c1 to reach the VIP on d2' });
      assert.equal((await lan.neighbour('c1', vip))?.mac, VMAC, 'the neighbour entry did not change');
      assert.deepEqual(await vmacLinks(lan, d1), [], 'no vrrp.* left on d1');
      // vrrp_if_config.c means to put the parent's arp_ignore/arp_filter back when its last VMAC goes; keepalived-ts
      // does. Debian's 2.2.7 leaves them at 1 (its netlink monitor has already recorded the 1 it set as the value
      // to restore).
      const restored = k1 === 'keepalived-ts' ? '0' : '1';
      assert.equal(await sysctl(d1, 'net/ipv4/conf/eth0/arp_ignore'), restored, "d1's parent arp_ignore after stop");
      assert.equal(await sysctl(d1, 'net/ipv4/conf/eth0/arp_filter'), restored, "d1's parent arp_filter after stop");
    });

    it('a VMAC left by a SIGKILLed run is taken over at the next start and removed at its stop', async () => {
      await d1.start({ kind: k1, configText: config(150, 'MASTER') });
      await waitFor(async () => (await holders()).join() === 'd1', { ...WAIT, what: 'd1 to take the VIP back (preempt)' });
      assert.equal(await neighbourMac(), VMAC);
      // The whole run dies: parent stopped first so it cannot respawn its VRRP child, then both killed.
      const child = Number(readFileSync(join(d1.dir, 'vrrp.pid'), 'utf8').trim());
      process.kill(d1.daemon!.pid, 'SIGSTOP');
      process.kill(child, 'SIGKILL');
      await d1.daemon!.stop('SIGKILL');
      await waitFor(async () => (await holders()).includes('d2'), { ...WAIT, what: 'd2 to take over from the killed master' });
      assert.equal((await vmacLinks(lan, d1)).length, 1, 'the killed run left its VMAC');
      await d1.start({ kind: k1, configText: config(150, 'MASTER') });
      await waitFor(async () => (await holders()).join() === 'd1', { ...WAIT, what: 'd1 to hold the VIP again, alone' });
      const links = await vmacLinks(lan, d1);
      assert.deepEqual(links.map((l) => [l.ifname, l.address]), [['vrrp.51', VMAC]], 'one VMAC on d1');
      assert.equal(await neighbourMac(), VMAC);
      await waitFor(() => lan.ping('c1', vip), { ...WAIT, what: 'c1 to reach the VIP on d1' });
    });

    it('no vrrp.* interface on either director once both stopped', async () => {
      for (const d of [d1, d2]) {
        const r = await d.stop('SIGTERM');
        assert.equal(r?.code, 0, `${d.name} exits cleanly`);
        assert.deepEqual(await vmacLinks(lan, d), [], `no vrrp.* left on ${d.name}`);
      }
      assert.deepEqual(await holders(), []);
    });
  });
}

// `-t` verdicts of use_vmac configs: keepalived 2.2.7 and keepalived-ts give the same exit code, in a namespace with
// the eth0 the configs name.
const VERDICTS: Record<string, string> = {
  plain: 'use_vmac',
  named_with_mac: 'use_vmac vrrp51 02:11:22:33:44:55',
  five_octet_mac: 'use_vmac 02:11:22:33:44',
  xmit_base: 'use_vmac\n vmac_xmit_base',
  xmit_base_alone: 'vmac_xmit_base',
  multicast_mac: 'use_vmac 01:00:5e:00:00:01',
  rfc_mac: 'use_vmac 00:00:5e:00:01:33',
  bad_mac: 'use_vmac 02:11:22:33',
  unicast_without_xmit_base: 'use_vmac\n unicast_src_ip 10.99.0.11\n unicast_peer {\n  10.99.0.12\n }',
  strict_xmit_base: 'use_vmac\n vmac_xmit_base\n strict_mode on',
  promote_secondaries: 'use_vmac\n promote_secondaries',
};
describe('use_vmac: -t verdicts equal keepalived\'s', { skip }, () => {
  let lan: Lan;
  let teardown: () => Promise<void> = async () => {};
  let dir = '';
  before(async () => {
    ({ lan, teardown } = await labFor({ directors: 1, clients: 0, prefix: 'kvmact' }));
    dir = mkdtempSync(join(tmpdir(), 'kt-vmac-t-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await teardown();
  });
  for (const [name, lines] of Object.entries(VERDICTS)) {
    it(name, () => {
      const file = join(dir, `${name}.conf`);
      writeFileSync(file, `vrrp_instance VI_1 {\n interface eth0\n virtual_router_id ${VRID}\n priority 100\n ${lines}\n virtual_ipaddress {\n  10.99.0.50/24\n }\n}\n`);
      const r = spawnSync('ip', ['netns', 'exec', lan.directors[0]!.ns, 'keepalived', '-t', '-f', file, '-n', '-l'], { encoding: 'utf8', timeout: 30_000 });
      const ours = checkConfig(file, { interfaces: new Set(['lo', 'eth0']) });
      assert.equal(ours.exitCode, r.status, `keepalived said:\n${r.stderr}${r.stdout}\nwe said:\n${ours.diags.map((d) => d.message).join('\n')}`);
    });
  }
});

// use_vmac_addr (keepalived 2.2.7 vrrp.c): VIPs on another interface, and eVIPs of the other family, each get a VMAC
// on their own interface; so does an address with use_vmac. The same config under keepalived and keepalived-ts on one director: the same vrrp.*
// links (name, MAC, mode, parent) with the same addresses while MASTER, none after stop.
describe('use_vmac_addr and use_vmac on an address: the VMACs keepalived makes for addresses, beside keepalived', { skip }, () => {
  let lan: Lan;
  let teardown: () => Promise<void> = async () => {};
  let d1: Director;
  before(async () => {
    ({ lan, teardown } = await labFor({ directors: 1, clients: 0, prefix: 'kvmaca', ipv6: true }));
    d1 = lan.directors[0]!;
    // A second interface (this host's kernel has no dummy links: a veth pair).
    await run('ip', ['-n', d1.ns, 'link', 'add', 'sec0', 'type', 'veth', 'peer', 'name', 'sec0p']);
    for (const l of ['sec0', 'sec0p']) await run('ip', ['-n', d1.ns, 'link', 'set', l, 'up']);
  });
  after(() => teardown());

  /** vrrp.* links with their MAC, kind/mode, parent and addresses, as `ip -d -j addr` shows them. */
  async function vmacView(): Promise<string[]> {
    const { stdout } = await run('ip', ['-n', d1.ns, '-d', '-j', 'addr', 'show']);
    type L = LinkJson & { link?: string; addr_info?: { local: string; prefixlen: number; scope: string }[] };
    return (JSON.parse(stdout || '[]') as L[]).filter((l) => l.ifname.startsWith('vrrp')).map((l) =>
      `${l.ifname}@${l.link} ${l.address} ${l.linkinfo?.info_kind}/${l.linkinfo?.info_data?.mode} ${(l.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`).sort().join(',')}`).sort();
  }

  it('an IPv4 eVIP on another interface and an IPv6 eVIP: vrrp.51 on sec0, vrrp6.51 on eth0, as keepalived', async () => {
    const conf = vrrpConfig({ vrid: VRID, priority: 150, state: 'MASTER', advertInt: 1, vip: lan.vipCidr(0), iface: 'eth0',
      extraInstance: ['use_vmac_addr', 'virtual_ipaddress_excluded {', '10.77.0.1/24 dev sec0', `${lan.vip6(0)}/64`, '}'] });
    const seen: Record<string, string[]> = {};
    for (const kind of ['keepalived-ts', 'keepalived'] as DaemonKind[]) {
      await d1.start({ kind, configText: conf });
      seen[kind] = await waitFor(async () => {
        const v = await vmacView();
        return v.length === 2 && v.every((l) => !l.endsWith(' ')) && (await lan.vipHolders(lan.vip(0))).length === 1 ? v : undefined;
      }, { ...WAIT, what: `${kind}: both address VMACs with their addresses` });
      const r = await d1.stop('SIGTERM');
      assert.equal(r?.code, 0, `${kind} exits cleanly`);
      assert.deepEqual(await vmacView(), [], `${kind}: no vrrp.* left`);
    }
    assert.deepEqual(seen['keepalived-ts'], [
      `vrrp.51@sec0 00:00:5e:00:01:33 macvlan/private 10.77.0.1/24`,
      `vrrp6.51@eth0 00:00:5e:00:02:33 macvlan/private ${lan.vip6(0)}/64`,
    ]);
    assert.deepEqual(seen['keepalived-ts'], seen['keepalived']);
  });

  it('use_vmac on single addresses (no use_vmac_addr): one on the instance\'s interface, one on sec0, as keepalived', async () => {
    const conf = vrrpConfig({ vrid: VRID, priority: 150, state: 'MASTER', advertInt: 1, vip: lan.vipCidr(0), iface: 'eth0',
      extraInstance: ['virtual_ipaddress_excluded {', `${lan.vipCidr(1)} use_vmac`, '10.77.0.1/24 dev sec0 use_vmac', '}'] });
    const seen: Record<string, string[]> = {};
    for (const kind of ['keepalived-ts', 'keepalived'] as DaemonKind[]) {
      await d1.start({ kind, configText: conf });
      seen[kind] = await waitFor(async () => {
        const v = await vmacView();
        return v.length === 2 && v.every((l) => !l.endsWith(' ')) && (await lan.vipHolders(lan.vip(0))).length === 1 ? v : undefined;
      }, { ...WAIT, what: `${kind}: both address VMACs with their addresses` });
      const r = await d1.stop('SIGTERM');
      assert.equal(r?.code, 0, `${kind} exits cleanly`);
      assert.deepEqual(await vmacView(), [], `${kind}: no vrrp.* left`);
    }
    assert.deepEqual(seen['keepalived-ts'], [`vrrp.51@eth0 00:00:5e:00:01:33 macvlan/private ${lan.vipCidr(1)}`, `vrrp1.51@sec0 00:00:5e:00:01:33 macvlan/private 10.77.0.1/24`]);
    assert.deepEqual(seen['keepalived-ts'], seen['keepalived']);
  });
});
