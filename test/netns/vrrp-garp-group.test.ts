// garp_group on a real LAN, beside Debian's keepalived: the group's garp_interval (0.3 s, the global one being 0)
// spaces the new MASTER's gratuitous ARPs on its interface, so adverts (every 0.1 s) fall between consecutive GARPs,
// and the GARPs come in keepalived's order and number (repeats of a waiting address collapse, as keepalived's do).
// Asserted on the captured sequence, not on times.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { checkConfig } from '../../src/config/check-config.js';
import { createLan, vrrpConfig, waitFor, type Lan, type Director, type DaemonKind } from '../helpers/lab.js';

const skip = needsRoot() || needsCommand('keepalived') || needsCommand('tcpdump');

describe('garp_group paces the GARPs of its interfaces as keepalived does', { skip }, () => {
  let lan: Lan;
  let d1: Director;

  before(async () => {
    lan = await createLan({ prefix: 'ktgg', directors: 1, clients: 0 });
    [d1] = lan.directors as [Director];
  });
  after(async () => {
    await lan?.teardown();
  });

  const config = () => `${vrrpConfig({
    vrid: 91, priority: 150, advertInt: 0.1, version: 3, vip: [lan.vipCidr(0), lan.vipCidr(1), lan.vipCidr(2)], iface: 'eth0',
    extraGlobal: ['vrrp_garp_master_delay 0'], extraInstance: ['garp_master_repeat 2'],
  })}\ngarp_group {\n    garp_interval 0.3\n    interface eth0\n}\n`;

  /** The director's frames from its first GARP on: `G <vip>` per gratuitous ARP, `A` per advert. */
  async function sequence(kind: DaemonKind): Promise<string[]> {
    const cap = await lan.capture('bridge', 'arp or ip proto 112');
    await lan.startDaemon(d1, { kind, configText: config() });
    const garps = () => cap.frames().filter((f) => f.arp && f.arp.senderIp === f.arp.targetIp && f.arp.senderIp.startsWith(lan.vip(0).slice(0, -2)));
    await waitFor(() => garps().length >= 4, { timeoutMs: 15_000, intervalMs: 50, what: `${kind}: 4 GARPs` });
    // Two more spacings, so a fifth GARP (there must be none) would be seen.
    await new Promise((r) => setTimeout(r, 800));
    await d1.stop('SIGTERM');
    const frames = await cap.stop();
    const first = frames.findIndex((f) => f.arp && f.arp.senderIp === f.arp.targetIp);
    return frames.slice(first)
      .filter((f) => (f.arp && f.arp.senderIp === f.arp.targetIp) || (f.vrrp && f.ipv4?.src === d1.ip && f.vrrp.priority > 0))
      .map((f) => (f.arp ? `G ${f.arp.senderIp}` : 'A'));
  }

  /** GARPs in order, and whether at least one advert lies between every two consecutive ones. */
  const shape = (seq: string[]) => {
    const garps = seq.filter((s) => s !== 'A');
    const gaps = seq.join(' ').split(/G \S+/).slice(1, -1);
    return { garps, spaced: gaps.length === garps.length - 1 && gaps.every((g) => g.includes('A')) };
  };

  it('2 rounds over 3 VIPs: the first GARP at once, then each VIP once in order, adverts between them; as keepalived', async () => {
    const ts = shape(await sequence('keepalived-ts'));
    // A repeat for an address still waiting adds nothing (keepalived's garp_gna_pending): 4 GARPs, not 6.
    assert.deepEqual(ts.garps, [lan.vip(0), lan.vip(0), lan.vip(1), lan.vip(2)].map((x) => `G ${x}`));
    assert.ok(ts.spaced, 'keepalived-ts spaced its GARPs');
    const ka = shape(await sequence('keepalived'));
    assert.deepEqual(ts, ka);
  });

  it('-t verdicts of garp_group blocks are keepalived\'s', async () => {
    const bodies = ['garp_interval 0.01\n interface eth0', 'garp_interval 0.01\n interfaces {\n eth0\n }', 'gna_interval 0.5', 'interface eth0',
      'garp_interval x\n interface eth0', 'garp_interval 0.01\n interface nosuch', 'garp_interval 0.01\n interfaces {\n nosuch\n }',
      'garp_interval 0.01\n interfaces {\n }', 'garp_interval 3\n interface eth0', 'garp_interval -1\n interface eth0',
      'garp_interval 0.0000001\n interface eth0', 'garp_interval 0.01\n interface eth0\n interface eth0', 'garp_interval 0.01 extra\n interface eth0',
      'garp_interval 2147.483647', 'garp_interval 2147.483648', 'bogus 1\n garp_interval 1'];
    const differ: string[] = [];
    for (const body of bodies) {
      const file = `${d1.dir}/t.conf`;
      writeFileSync(file, `garp_group {\n ${body}\n}\n${vrrpConfig({ vrid: 9, priority: 100, advertInt: 1, vip: lan.vip(5), iface: 'eth0' })}`);
      const k = await lan.exec(d1, 'keepalived', ['-t', '-f', file], { allowFail: true });
      const ours = checkConfig(file, { interfaces: new Set(['lo', 'eth0']) });
      if (k.code !== ours.exitCode) differ.push(`${JSON.stringify(body)}: keepalived ${k.code}, ours ${ours.exitCode}`);
    }
    assert.deepEqual(differ, []);
  });
});
