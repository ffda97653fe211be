// An interface without multicast (`ip link set dev eth0 multicast off`), beside Debian's keepalived 2.2.7 on the
// same config: a multicast instance on it is refused at start ("(VI_1) interface eth0 does not support multicast,
// specify unicast peers - disabling") and stays in FAULT: it sends no advert and never holds the VIP, so the other
// director (keepalived, lower priority, multicast on) becomes MASTER. With unicast peers the same interface runs:
// the higher priority director holds the VIP.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { createLan, vrrpConfig, waitFor, type Lan, type Director, type DaemonKind } from '../helpers/lab.js';

const skip = needsRoot() || needsCommand('keepalived') || needsCommand('tcpdump');
const LINE = '(VI_1) interface eth0 does not support multicast, specify unicast peers - disabling';

describe('an interface without IFF_MULTICAST: multicast instances are disabled, unicast ones run, as keepalived does', { skip }, () => {
  let lan: Lan;
  let d1: Director;
  let d2: Director;

  before(async () => {
    lan = await createLan({ prefix: 'ktnomc', directors: 2, clients: 0 });
    [d1, d2] = lan.directors as [Director, Director];
    await lan.exec(d1, 'ip', ['link', 'set', 'dev', 'eth0', 'multicast', 'off']);
  });
  after(async () => {
    await lan?.teardown();
  });

  const holders = () => lan.vipHolders(lan.vip(0));
  /** Where the next run of `kind` on d1 starts writing in its log (each kind's log is appended to). */
  const logEnd = (kind: DaemonKind): number => {
    const f = join(d1.dir, `${kind}.log`);
    return existsSync(f) ? readFileSync(f, 'utf8').length : 0;
  };
  const config = (priority: number, unicast?: { src: string; peer: string }) => vrrpConfig({
    vrid: 61, priority, advertInt: 0.1, version: 3, vip: lan.vipCidr(0), iface: 'eth0',
    ...(unicast ? { unicastSrcIp: unicast.src, unicastPeers: [unicast.peer] } : {}),
  });

  async function multicast(kind: DaemonKind): Promise<void> {
    const cap = await lan.capture('bridge', 'ip proto 112');
    const mac1 = await lan.macOf(d1);
    const from = logEnd(kind);
    const first = await lan.startDaemon(d1, { kind, configText: config(150) });
    const log = () => first.log().slice(from);
    const say = (what: string) => `${kind}: ${what}\n--- d1 log ---\n${log().slice(-3000)}`;
    try {
      await waitFor(() => log().includes(LINE), { timeoutMs: 20_000, intervalMs: 50, what: say('the refusal') });
      const second = await lan.startDaemon(d2, { kind: 'keepalived', configText: config(100) });
      try {
        // d2 becomes MASTER only because d1 (priority 150) is silent; d1 would take the VIP back otherwise.
        await waitFor(async () => (await holders()).join(',') === 'd2', { timeoutMs: 20_000, intervalMs: 50, what: say('d2 holds the VIP') });
        await cap.waitForFrame((f) => f.ethSrc !== mac1, { timeoutMs: 10_000, what: "d2's adverts on the bridge (the capture works)" });
        assert.deepEqual(cap.frames().filter((f) => f.ethSrc === mac1).length, 0, `${kind}: no advert from d1`);
        assert.deepEqual(await holders(), ['d2']);
      } finally {
        await second.stop('SIGTERM');
      }
    } finally {
      await first.stop('SIGTERM');
      await cap.stop();
    }
    assert.doesNotMatch(log(), /Entering MASTER STATE/, `${kind}: d1 never became MASTER`);
  }

  async function unicast(kind: DaemonKind): Promise<void> {
    const a = lan.host(11);
    const b = lan.host(12);
    const second = await lan.startDaemon(d2, { kind: 'keepalived', configText: config(100, { src: b, peer: a }) });
    const from = logEnd(kind);
    const first = await lan.startDaemon(d1, { kind, configText: config(150, { src: a, peer: b }) });
    const log = () => first.log().slice(from);
    const say = (what: string) => `${kind}: ${what}\n--- d1 log ---\n${log().slice(-3000)}`;
    try {
      await waitFor(async () => (await holders()).join(',') === 'd1', { timeoutMs: 20_000, intervalMs: 50, what: say('d1 holds the VIP over unicast') });
      assert.doesNotMatch(log(), /does not support multicast/);
    } finally {
      await first.stop('SIGTERM');
      await second.stop('SIGTERM');
    }
    await waitFor(async () => (await holders()).length === 0, { timeoutMs: 10_000, intervalMs: 50, what: 'no VIP left' });
  }

  it('multicast instance: the refusal line, FAULT, no advert from it; the peer takes the VIP (keepalived-ts, then keepalived)', async () => {
    await multicast('keepalived-ts');
    await multicast('keepalived');
  });

  it('unicast peers on the same interface: it runs and holds the VIP (keepalived-ts, then keepalived)', async () => {
    await unicast('keepalived-ts');
    await unicast('keepalived');
  });
});
