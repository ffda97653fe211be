// The namespace LAN laboratory, proven with Debian's keepalived 2.2.7 as both directors. This is also the
// reference check: what an operator observes on a two-director LAN (election, failover on link loss, failback
// with preempt, hand-over on SIGTERM, notify scripts), which keepalived-ts must reproduce.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { createLan, vrrpConfig, waitFor, nowMs, run, type Lan, type Capture, type Director } from '../helpers/lab.js';

const skip = needsRoot() || needsCommand('keepalived') || needsCommand('tcpdump');
const WAIT = { timeoutMs: 15_000, intervalMs: 20 };

describe('namespace LAN lab with keepalived on both directors (VRRPv3, advert_int 0.1)', { skip }, () => {
  let lan: Lan;
  let cap: Capture;
  let d1: Director;
  let d2: Director;
  let vip: string;
  let namespaces: readonly string[] = [];

  const config = (d: Director, priority: number, state: 'MASTER' | 'BACKUP') =>
    vrrpConfig({ vrid: 51, priority, state, advertInt: 0.1, version: 3, vip: lan.vipCidr(), iface: 'eth0', notify: d.notifyScript });
  const holders = () => lan.vipHolders(vip);
  const holdersAre = async (want: string[]) => JSON.stringify(await holders()) === JSON.stringify(want);

  before(async () => {
    lan = await createLan({ directors: 2, clients: 2 });
    namespaces = lan.namespaceNames.slice();
    [d1, d2] = lan.directors;
    vip = lan.vip();
    cap = await lan.capture('bridge', 'vrrp or arp');
  });

  after(async () => {
    await lan?.teardown();
    const left = readdirSync('/run/netns').filter((n) => namespaces.includes(n));
    assert.deepEqual(left, [], 'no namespace of this lab is left');
    const { stdout } = await run('ip', ['netns', 'list']);
    for (const ns of namespaces) assert.ok(!stdout.split('\n').some((l) => l.split(' ')[0] === ns), `${ns} still listed`);
  });

  it('accepts the generated configs (keepalived -t, notify scripts with script security)', async () => {
    for (const [d, prio] of [[d1, 150], [d2, 100]] as const) {
      const conf = `${d.dir}/check.conf`;
      (await import('node:fs')).writeFileSync(conf, config(d, prio, 'BACKUP'));
      const r = await lan.exec(d, 'keepalived', ['-t', '-f', conf], { allowFail: true });
      assert.equal(r.code, 0, `keepalived -t on ${d.name}: ${r.stderr}`);
    }
  });

  it('elects the higher priority: exactly one VIP holder, d1, reachable from the clients', async () => {
    await lan.startDaemon(d1, { kind: 'keepalived', configText: config(d1, 150, 'MASTER') });
    await d2.start({ kind: 'keepalived', configText: config(d2, 100, 'BACKUP') });
    await waitFor(() => holdersAre(['d1']), { ...WAIT, what: 'd1 to hold the VIP' });
    await waitFor(() => d2.notifyEvents().some((e) => e.state === 'BACKUP'), { ...WAIT, what: 'd2 BACKUP' });
    // Several advert intervals later there is still exactly one holder.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await holders(), ['d1']);
    assert.ok(await lan.ping('c1', vip, { timeoutS: 2 }), 'c1 reaches the VIP');
    assert.equal((await lan.neighbour('c1', vip))?.mac, d1.mac);
    assert.equal(await lan.macOf(d1), d1.mac);
    const adverts = cap.frames().filter((f) => f.vrrp);
    assert.ok(adverts.length >= 3, 'adverts on the wire');
    assert.ok(adverts.every((f) => f.ethSrc === d1.mac && f.vrrp!.priority === 150 && f.vrrp!.vrid === 51 && f.vrrp!.version === 3));
    assert.ok(adverts.every((f) => f.ipv4!.dst === '224.0.0.18' && f.ipv4!.ttl === 255));
    assert.deepEqual(adverts[0].vrrp!.addresses, [vip]);
  });

  it('fails over when the master loses its link: d2 takes the VIP, sends GARPs, clients follow', async () => {
    const t = await lan.linkDown(d1);
    await waitFor(() => holdersAre(['d2']), { ...WAIT, what: 'd2 to hold the VIP' });
    const garp = await cap.waitForFrame((f) => !!f.arp && f.arp.senderIp === vip && f.arp.targetIp === vip && f.ethSrc === d2.mac, { ...WAIT, afterMs: t, what: 'a GARP from d2' });
    assert.equal(garp.ethDst, 'ff:ff:ff:ff:ff:ff');
    assert.equal(garp.arp!.op, 1);
    assert.equal(garp.arp!.senderMac, d2.mac);
    assert.equal(garp.arp!.targetMac, 'ff:ff:ff:ff:ff:ff');
    // c1 learnt the VIP's old MAC before; the GARP moves it without an ARP request of its own.
    await waitFor(async () => (await lan.neighbour('c1', vip))?.mac === d2.mac, { ...WAIT, what: "c1's neighbour entry to move to d2" });
    await waitFor(() => lan.ping('c1', vip), { ...WAIT, what: 'c1 ping to the VIP to resume' });
    await waitFor(() => lan.ping('c2', vip), { ...WAIT, what: 'c2 ping to the VIP' });
    assert.equal((await lan.neighbour('c2', vip))?.mac, d2.mac);
    assert.ok(cap.frames().some((f) => f.vrrp && f.ethSrc === d2.mac && f.vrrp.priority === 100 && f.tMs > t), 'd2 advertises');
  });

  it('fails back with preempt when the link returns', async () => {
    const t = await lan.linkUp(d1);
    await waitFor(() => holdersAre(['d1']), { ...WAIT, what: 'd1 to hold the VIP again' });
    await cap.waitForFrame((f) => !!f.arp && f.arp.senderIp === vip && f.ethSrc === d1.mac, { ...WAIT, afterMs: t, what: 'a GARP from d1' });
    await waitFor(async () => (await lan.neighbour('c1', vip))?.mac === d1.mac, { ...WAIT, what: "c1's neighbour entry back on d1" });
    assert.ok(await lan.ping('c1', vip, { timeoutS: 2 }));
    assert.deepEqual(await holders(), ['d1']);
  });

  it('hands over on SIGTERM: one priority-0 advert, then d2 takes the VIP', async () => {
    await new Promise((r) => setTimeout(r, 300));
    const { sentAtMs, code } = await d1.daemon!.stop('SIGTERM');
    assert.equal(code, 0, 'keepalived exits cleanly');
    await waitFor(() => holdersAre(['d2']), { ...WAIT, what: 'd2 to take over' });
    await cap.waitForFrame((f) => !!f.arp && f.arp.senderIp === vip && f.ethSrc === d2.mac, { ...WAIT, afterMs: sentAtMs, what: 'a GARP from d2' });
    const prio0 = cap.frames().filter((f) => f.vrrp && f.tMs > sentAtMs - 1 && f.ethSrc === d1.mac && f.vrrp.priority === 0);
    assert.equal(prio0.length, 1, 'exactly one priority-0 advert from d1');
    const decoded = await cap.decode('vrrp.prio == 0');
    assert.match(decoded, /Virtual Router Redundancy Protocol/);
    assert.match(decoded, /Priority: 0/);
    assert.ok(await lan.ping('c1', vip, { timeoutS: 2 }));
  });

  it('ran the notify scripts with the right arguments, in order', async () => {
    const tStop = nowMs();
    await d2.stop('SIGTERM');
    await waitFor(() => d2.notifyEvents().some((e) => e.state === 'STOP' && e.tMs > tStop - 1), { ...WAIT, what: 'd2 notify_stop' });
    const seq = (d: Director, kind: 'specific' | 'generic') =>
      d.notifyEvents().filter((e) => (kind === 'generic') === (e.state === 'NOTIFY')).map((e) => (kind === 'generic' ? e.args.join(' ') : e.state));
    assert.deepEqual(seq(d1, 'specific'), ['BACKUP', 'MASTER', 'FAULT', 'BACKUP', 'MASTER', 'STOP']);
    assert.deepEqual(seq(d2, 'specific'), ['BACKUP', 'MASTER', 'BACKUP', 'MASTER', 'STOP']);
    assert.deepEqual(seq(d1, 'generic'), ['BACKUP', 'MASTER', 'FAULT', 'BACKUP', 'MASTER', 'STOP'].map((s) => `INSTANCE VI_1 ${s} 150`));
    assert.deepEqual(seq(d2, 'generic'), ['BACKUP', 'MASTER', 'BACKUP', 'MASTER', 'STOP'].map((s) => `INSTANCE VI_1 ${s} 100`));
    assert.ok(d1.notifyEvents().every((e) => e.node === 'd1') && d2.notifyEvents().every((e) => e.node === 'd2'));
    assert.deepEqual(await holders(), [], 'nobody holds the VIP once both stopped');
  });
});
