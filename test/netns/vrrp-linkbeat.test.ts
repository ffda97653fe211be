// linkbeat_interfaces on a real LAN, beside Debian's keepalived 2.2.7 on the same config: the MASTER polls its
// eth0 (a veth: no MII, so ETHTOOL_GLINK, then SIOCGIFFLAGS) instead of taking rtnetlink's word. Its bridge port going
// down takes the carrier away: the poll reports it ("Linkbeat reports eth0 down"), the instance goes to FAULT and
// the VIP moves to the other director (keepalived); the port coming back up brings it back. Both daemons log the
// same linkbeat lines and do the same. The time from the port going down to the VIP leaving is printed, not asserted.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { createLan, nowMs, run, vrrpConfig, waitFor, type Lan, type Director, type DaemonKind } from '../helpers/lab.js';

const skip = needsRoot() || needsCommand('keepalived');

describe('linkbeat_interfaces: a polled carrier loss faults the MASTER and moves the VIP, as keepalived does', { skip }, () => {
  let lan: Lan;
  let d1: Director;
  let d2: Director;

  before(async () => {
    lan = await createLan({ prefix: 'ktlb', directors: 2, clients: 0 });
    [d1, d2] = lan.directors as [Director, Director];
  });
  after(async () => {
    await lan?.teardown();
  });

  const config = (priority: number, linkbeat: boolean) =>
    `${vrrpConfig({ vrid: 93, priority, advertInt: 0.1, version: 3, vip: lan.vipCidr(0), iface: 'eth0' })}\n` +
    (linkbeat ? 'linkbeat_interfaces {\n    eth0\n}\n' : '');

  const port = (d: Director, state: 'up' | 'down') => run('ip', ['-n', lan.bridgeNs, 'link', 'set', d.bridgePort, state]);
  const holders = () => lan.vipHolders(lan.vip(0));
  const only = async (name: string) => (await holders()).join(',') === name;

  /** d1 runs `kind` with linkbeat on eth0, d2 keepalived without; returns d1's linkbeat and state lines. */
  async function scenario(kind: DaemonKind): Promise<{ lines: string[]; downMs: number }> {
    const backup = await lan.startDaemon(d2, { kind: 'keepalived', configText: config(100, false) });
    const master = await lan.startDaemon(d1, { kind, configText: config(150, true) });
    const say = (what: string) => `${kind}: ${what}\n--- d1 log ---\n${master.log().slice(-3000)}`;
    try {
      await waitFor(() => only('d1'), { timeoutMs: 20_000, intervalMs: 50, what: say('d1 holds the VIP') });
      const t0 = nowMs();
      await port(d1, 'down');
      await waitFor(() => only('d2'), { timeoutMs: 15_000, intervalMs: 20, what: say('the VIP moves to d2 after the carrier loss') });
      const downMs = nowMs() - t0;
      await waitFor(() => /Linkbeat reports eth0 down/.test(master.log()) && /\(VI_1\) Entering FAULT STATE/.test(master.log()),
        { timeoutMs: 10_000, intervalMs: 50, what: say('linkbeat reports eth0 down and VI_1 enters FAULT') });
      await port(d1, 'up');
      await waitFor(() => only('d1'), { timeoutMs: 15_000, intervalMs: 50, what: say('the VIP comes back to d1 with the carrier') });
      await waitFor(() => /Linkbeat reports eth0 up/.test(master.log()), { timeoutMs: 10_000, intervalMs: 50, what: say('linkbeat reports eth0 up') });
      const lines = master.log().split('\n')
        .map((l) => /(Linkbeat reports eth0 \w+|Using MII-BMSR\/ETHTOOL NIC polling thread\(s\)\.\.\.|Configured linkbeat type.*|\(VI_1\) Entering (?:FAULT|MASTER) STATE)/.exec(l)?.[1])
        .filter((l): l is string => l !== undefined);
      return { lines, downMs };
    } finally {
      await master.stop('SIGTERM');
      await backup.stop('SIGTERM');
      await waitFor(async () => (await holders()).length === 0, { timeoutMs: 10_000, intervalMs: 50, what: 'no VIP left' });
    }
  }

  it('carrier down → FAULT, VIP to the peer; carrier up → MASTER again; the same lines as keepalived', async () => {
    const ts = await scenario('keepalived-ts');
    const ka = await scenario('keepalived');
    console.log(`# carrier loss to VIP on the peer: keepalived-ts ${ts.downMs.toFixed(0)} ms, keepalived ${ka.downMs.toFixed(0)} ms (1 s linkbeat poll)`);
    const expected = ['Using MII-BMSR/ETHTOOL NIC polling thread(s)...', '(VI_1) Entering MASTER STATE', 'Linkbeat reports eth0 down',
      '(VI_1) Entering FAULT STATE', 'Linkbeat reports eth0 up', '(VI_1) Entering MASTER STATE'];
    assert.deepEqual(ts.lines, expected);
    assert.deepEqual(ka.lines, expected);
  });

  it('an unknown interface in linkbeat_interfaces is logged and the daemon runs without it, as keepalived does', async () => {
    for (const kind of ['keepalived-ts', 'keepalived'] as const) {
      const d = await lan.startDaemon(d1, { kind, configText: `${config(150, false)}\nlinkbeat_interfaces {\n    eth9\n}\n` });
      try {
        await waitFor(() => only('d1'), { timeoutMs: 20_000, intervalMs: 50, what: `${kind} on d1 holds the VIP\n${d.log().slice(-3000)}` });
        assert.match(d.log(), /unknown interface eth9 specified for linkbeat interface/);
      } finally {
        await d.stop('SIGTERM');
      }
      await waitFor(async () => (await holders()).length === 0, { timeoutMs: 10_000, intervalMs: 50, what: 'no VIP left' });
    }
  });
});
