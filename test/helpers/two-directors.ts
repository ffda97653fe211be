// One scenario, any pair of daemons: what an operator observes on a two-director LAN — election, failover on link
// loss (VIP moves, GARP, clients follow), failback with preempt, hand-over on SIGTERM (one priority-0 advert),
// notify scripts in order. Instantiated for keepalived-ts on both directors, for keepalived-ts beside Debian's
// keepalived in both roles (interop), and by lab.test.ts for keepalived itself (the reference, which also proves
// the lab: see `reference`).
import { describe, it as nodeIt, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createLan, vrrpConfig, waitFor, nowMs, run, type Lan, type Capture, type Director, type DaemonKind, type Frame } from './lab.js';

export interface TwoDirectorOptions {
  /** Daemon on d1 (priority 150, the first master) and on d2 (priority 100). */
  d1: DaemonKind;
  d2: DaemonKind;
  version: 2 | 3;
  /** Seconds (v2: whole seconds). */
  advertInt: number;
  skip: string | false;
  /** unicast_src_ip + unicast_peer on both directors instead of multicast. */
  unicast?: boolean;
  /** IPv6: the VIP is the lab's ULA VIP (fd00:99::50/64), adverts go to ff02::12, unsolicited NA instead of GARP. */
  ipv6?: boolean;
  /** The lab's own proof (lab.test.ts): keepalived -t accepts the generated configs, the MAC the lab set is the
   * one on the link, notify events are recorded per director. */
  reference?: boolean;
}

export function twoDirectorSuite(o: TwoDirectorOptions): void {
  const title = `${o.d1} (prio 150) + ${o.d2} (prio 100), VRRPv${o.version}${o.ipv6 ? ' over IPv6' : ''}${o.unicast ? ', unicast' : ''}, advert_int ${o.advertInt}`;
  const adv = o.advertInt * 1000;
  const WAIT = { timeoutMs: Math.max(15_000, 8 * adv), intervalMs: 20 };

  // The skip goes on each test, not on the suite: node never announces the tests of a skipped suite, so the
  // closing line could only count it as one, and the skip list should name every scenario that did not run.
  const it = (name: string, fn: () => void | Promise<void>): void => {
    nodeIt(name, { skip: o.skip }, fn);
  };
  describe(title, () => {
    let lan: Lan;
    let cap: Capture;
    let d1: Director;
    let d2: Director;
    let vip: string;
    let namespaces: readonly string[] = [];

    const config = (d: Director, priority: number, state: 'MASTER' | 'BACKUP') =>
      vrrpConfig({
        vrid: 51, priority, state, advertInt: o.advertInt, version: o.version, vip: o.ipv6 ? `${vip}/64` : lan.vipCidr(), iface: 'eth0', notify: d.notifyScript,
        ...(o.unicast ? { unicastSrcIp: d.ip, unicastPeers: lan.directors.filter((x) => x !== d).map((x) => x.ip) } : {}),
      });
    /** A gratuitous ARP (IPv4) or unsolicited NA (IPv6) for the VIP from director d. */
    const announces = (f: Frame, d: Director): boolean =>
      o.ipv6
        ? f.icmp6?.type === 136 && f.icmp6.target === vip && f.ethSrc === d.mac && f.ethDst === '33:33:00:00:00:01'
        : !!f.arp && f.arp.senderIp === vip && f.arp.targetIp === vip && f.ethSrc === d.mac;
    const holders = () => lan.vipHolders(vip);
    const holdersAre = async (want: string[]) => JSON.stringify(await holders()) === JSON.stringify(want);
    const logOf = (d: Director) => {
      try {
        return readFileSync(d.daemon!.logFile, 'utf8');
      } catch {
        return '';
      }
    };

    before(async () => {
      if (o.skip) return;
      lan = await createLan({ directors: 2, clients: 2, ipv6: o.ipv6 });
      namespaces = lan.namespaceNames.slice();
      [d1, d2] = lan.directors;
      vip = o.ipv6 ? lan.vip6() : lan.vip();
      cap = await lan.capture('bridge', o.ipv6 ? 'ip6' : 'vrrp or arp');
    });

    after(async () => {
      if (o.skip) return;
      await lan?.teardown();
      const left = readdirSync('/run/netns').filter((n) => namespaces.includes(n));
      assert.deepEqual(left, [], 'no namespace of this test is left');
      const { stdout } = await run('ip', ['netns', 'list']);
      for (const ns of namespaces) assert.ok(!stdout.split('\n').some((l) => l.split(' ')[0] === ns), `${ns} still listed`);
    });

    if (o.reference) {
      it('accepts the generated configs (keepalived -t, notify scripts with script security)', async () => {
        for (const [d, prio] of [[d1, 150], [d2, 100]] as const) {
          const conf = `${d.dir}/check.conf`;
          writeFileSync(conf, config(d, prio, 'BACKUP'));
          const r = await lan.exec(d, 'keepalived', ['-t', '-f', conf], { allowFail: true });
          assert.equal(r.code, 0, `keepalived -t on ${d.name}: ${r.stderr}`);
        }
      });
    }

    it('elects the higher priority: exactly one VIP holder, d1, reachable from the clients', async () => {
      await lan.startDaemon(d1, { kind: o.d1, configText: config(d1, 150, 'MASTER') });
      // d2 starts once d1 runs its protocol: with advert_int 0.1 the two master-down timers differ by only 20 ms,
      // less than a process start-up, and which one starts first is not what this test is about.
      await waitFor(() => d1.notifyEvents().some((e) => e.state === 'BACKUP'), { ...WAIT, what: 'd1 BACKUP (init)' });
      await lan.startDaemon(d2, { kind: o.d2, configText: config(d2, 100, 'BACKUP') });
      await waitFor(() => holdersAre(['d1']), { ...WAIT, what: 'd1 to hold the VIP' });
      await waitFor(() => d2.notifyEvents().some((e) => e.state === 'BACKUP'), { ...WAIT, what: 'd2 BACKUP' });
      // Several advert intervals later there is still exactly one holder.
      await new Promise((r) => setTimeout(r, 3 * adv));
      assert.deepEqual(await holders(), ['d1']);
      assert.ok(await lan.ping('c1', vip, { timeoutS: 2 }), 'c1 reaches the VIP');
      assert.equal((await lan.neighbour('c1', vip))?.mac, d1.mac);
      if (o.reference) assert.equal(await lan.macOf(d1), d1.mac);
      const adverts = cap.frames().filter((f) => f.vrrp);
      assert.ok(adverts.length >= 3, 'adverts on the wire');
      assert.ok(adverts.every((f) => f.ethSrc === d1.mac && f.vrrp!.priority === 150 && f.vrrp!.vrid === 51 && f.vrrp!.version === o.version));
      if (o.ipv6) {
        // Sent from d1's link-local address to ff02::12 with hop limit 255 (RFC 5798 §5.1.2).
        assert.ok(adverts.every((f) => f.ipv6?.dst === 'ff02::12' && f.ipv6.hopLimit === 255 && f.ipv6.src.startsWith('fe80:')));
      } else if (o.unicast) {
        // One copy to the peer's address from unicast_src_ip; nothing to the multicast group.
        assert.ok(adverts.every((f) => f.ipv4!.src === d1.ip && f.ipv4!.dst === d2.ip && f.ipv4!.ttl === 255 && f.ipv4!.tos === 0xc0));
        assert.ok(adverts.every((f) => f.ethDst === d2.mac), 'unicast Ethernet destination');
      } else {
        assert.ok(adverts.every((f) => f.ipv4!.dst === '224.0.0.18' && f.ipv4!.ttl === 255 && f.ipv4!.tos === 0xc0));
      }
      assert.deepEqual(adverts[0].vrrp!.addresses, [vip]);
    });

    it('fails over when the master loses its link: d2 takes the VIP, sends GARPs, clients follow', async () => {
      const t = await lan.linkDown(d1);
      await waitFor(() => holdersAre(['d2']), { ...WAIT, what: 'd2 to hold the VIP' });
      const garp = await cap.waitForFrame((f) => announces(f, d2), { ...WAIT, afterMs: t, what: 'a GARP/NA from d2' });
      if (o.ipv6) {
        assert.equal(garp.ipv6!.dst, 'ff02::1');
        assert.equal(garp.ipv6!.hopLimit, 255);
        assert.equal(garp.icmp6!.flags!.override, true, 'unsolicited NA overrides');
        assert.equal(garp.icmp6!.flags!.solicited, false);
        assert.equal(garp.icmp6!.lladdr, d2.mac);
      } else {
        assert.equal(garp.ethDst, 'ff:ff:ff:ff:ff:ff');
        assert.equal(garp.arp!.op, 1);
        assert.equal(garp.arp!.senderMac, d2.mac);
        assert.equal(garp.arp!.targetMac, 'ff:ff:ff:ff:ff:ff');
      }
      await waitFor(async () => (await lan.neighbour('c1', vip))?.mac === d2.mac, { ...WAIT, what: "c1's neighbour entry to move to d2" });
      await waitFor(() => lan.ping('c1', vip), { ...WAIT, what: 'c1 ping to the VIP to resume' });
      await waitFor(() => lan.ping('c2', vip), { ...WAIT, what: 'c2 ping to the VIP' });
      assert.equal((await lan.neighbour('c2', vip))?.mac, d2.mac);
      assert.ok(cap.frames().some((f) => f.vrrp && f.ethSrc === d2.mac && f.vrrp.priority === 100 && f.tMs > t), 'd2 advertises');
    });

    it('fails back with preempt when the link returns', async () => {
      const t = await lan.linkUp(d1);
      await waitFor(() => holdersAre(['d1']), { ...WAIT, what: 'd1 to hold the VIP again' });
      await cap.waitForFrame((f) => announces(f, d1), { ...WAIT, afterMs: t, what: 'a GARP/NA from d1' });
      await waitFor(async () => (await lan.neighbour('c1', vip))?.mac === d1.mac, { ...WAIT, what: "c1's neighbour entry back on d1" });
      assert.ok(await lan.ping('c1', vip, { timeoutS: 2 }));
      assert.deepEqual(await holders(), ['d1']);
    });

    it('hands over on SIGTERM: one priority-0 advert, then d2 takes the VIP', async () => {
      await new Promise((r) => setTimeout(r, Math.min(adv, 500)));
      const { sentAtMs, code } = await d1.daemon!.stop('SIGTERM');
      assert.equal(code, 0, `${o.d1} exits cleanly`);
      await waitFor(() => holdersAre(['d2']), { ...WAIT, what: 'd2 to take over' });
      await cap.waitForFrame((f) => announces(f, d2), { ...WAIT, afterMs: sentAtMs, what: 'a GARP/NA from d2' });
      const prio0 = cap.frames().filter((f) => f.vrrp && f.tMs > sentAtMs - 1 && f.ethSrc === d1.mac && f.vrrp.priority === 0);
      assert.equal(prio0.length, 1, 'exactly one priority-0 advert from d1');
      const decoded = await cap.decode('vrrp.prio == 0');
      assert.match(decoded, /Virtual Router Redundancy Protocol/);
      assert.match(decoded, /Priority: 0/);
      assert.ok(await lan.ping('c1', vip, { timeoutS: 2 }));
      // The stopped director left nothing behind.
      const d1Addrs = await lan.exec(d1, 'ip', ['-o', 'addr', 'show', 'dev', 'eth0']);
      assert.ok(!d1Addrs.stdout.includes(`${vip}/`), 'd1 removed the VIP on stop');
      if (o.unicast) assert.ok(!cap.frames().some((f) => f.ipv4?.dst === '224.0.0.18'), 'no advert to 224.0.0.18 in unicast mode');
    });

    it('ran the notify scripts with the right arguments, in order', async () => {
      const tStop = nowMs();
      await d2.daemon!.stop('SIGTERM');
      await waitFor(() => d2.notifyEvents().some((e) => e.state === 'STOP' && e.tMs > tStop - 1), { ...WAIT, what: 'd2 notify_stop' });
      const seq = (d: Director, kind: 'specific' | 'generic') =>
        d.notifyEvents().filter((e) => (kind === 'generic') === (e.state === 'NOTIFY')).map((e) => (kind === 'generic' ? e.args.join(' ') : e.state));
      assert.deepEqual(seq(d1, 'specific'), ['BACKUP', 'MASTER', 'FAULT', 'BACKUP', 'MASTER', 'STOP']);
      assert.deepEqual(seq(d2, 'specific'), ['BACKUP', 'MASTER', 'BACKUP', 'MASTER', 'STOP']);
      assert.deepEqual(seq(d1, 'generic'), ['BACKUP', 'MASTER', 'FAULT', 'BACKUP', 'MASTER', 'STOP'].map((s) => `INSTANCE VI_1 ${s} 150`));
      assert.deepEqual(seq(d2, 'generic'), ['BACKUP', 'MASTER', 'BACKUP', 'MASTER', 'STOP'].map((s) => `INSTANCE VI_1 ${s} 100`));
      if (o.reference) assert.ok(d1.notifyEvents().every((e) => e.node === 'd1') && d2.notifyEvents().every((e) => e.node === 'd2'));
      assert.deepEqual(await holders(), [], 'nobody holds the VIP once both stopped');
    });

    it("keepalived's log shows no complaint about the other director's adverts", () => {
      for (const d of [d1, d2]) {
        if (d.daemon?.kind !== 'keepalived') continue;
        // keepalived's own "send advert error" (EINVAL on an IPv6 socket while its link is down) is about its sends,
        // not about what it received.
        // Paths are dropped first: the lab's random directory name (kt7bad1) is hex and may spell "bad".
        const bad = logOf(d)
          .split('\n')
          .filter((l) => /checksum|ttl|auth|invalid|bad|error/i.test(l.replace(/\S*\/\S*/g, '')) && !/send advert error/.test(l));
        assert.deepEqual(bad, [], `${d.name} keepalived log complaints`);
      }
    });
  });
}
