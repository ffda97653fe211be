// A vrrp_script with weight -60 on the master (priority 150): when it fails the master's effective priority is 90,
// below the backup's 100, and the backup takes the VIP over; when the script recovers (150 again) the first
// director preempts. The script's exit code comes from a file the test writes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { vrrpConfig, waitFor, type Lan } from '../helpers/lab.js';
import { labFor, pollHolders, checkScript } from '../helpers/scenario.js';

const WAIT = { timeoutMs: 20_000, intervalMs: 20 };

describe('track_script weight -60 (keepalived-ts ×2, VRRPv3 advert_int 0.1)', { skip: needsRoot() || needsCommand('tcpdump') }, () => {
  let lan: Lan;
  let teardown: () => Promise<void> = async () => {};
  let vip: string;
  let chk: ReturnType<typeof checkScript>;

  before(async () => {
    ({ lan, teardown } = await labFor({ directors: 2, clients: 1 }));
    vip = lan.vip();
  });
  after(() => teardown());

  it('starts with d1 (150) as the holder', async () => {
    const [d1, d2] = lan.directors;
    chk = checkScript(d1);
    const script = `vrrp_script chk {\n    script "${chk.path}"\n    interval 1\n    weight -60\n    fall 1\n    rise 1\n}\n`;
    const c1 = vrrpConfig({ vrid: 91, priority: 150, advertInt: 0.1, version: 3, vip: lan.vipCidr(), iface: 'eth0', notify: d1.notifyScript, extraInstance: ['track_script {', 'chk', '}'] });
    await d1.start({ kind: 'keepalived-ts', configText: `${script}\n${c1}` });
    await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd1', { ...WAIT, what: 'd1 to hold the VIP' });
    const c2 = vrrpConfig({ vrid: 91, priority: 100, advertInt: 0.1, version: 3, vip: lan.vipCidr(), iface: 'eth0', notify: d2.notifyScript });
    await d2.start({ kind: 'keepalived-ts', configText: c2 });
    await waitFor(() => d2.notifyEvents().some((e) => e.state === 'BACKUP'), { ...WAIT, what: 'd2 BACKUP' });
    assert.deepEqual(await pollHolders(lan, vip, 1500), [['d1']]);
  });

  it('the script fails: d1 advertises 90, d2 (100) takes over', async () => {
    const [d1, d2] = lan.directors;
    const cap = await lan.capture('bridge', 'vrrp');
    chk.set(1);
    await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd2', { ...WAIT, what: 'd2 to hold the VIP' });
    assert.deepEqual(await pollHolders(lan, vip, 1500), [['d2']]);
    const fs = cap.frames().filter((f) => f.vrrp);
    assert.ok(fs.some((f) => f.ethSrc === d1.mac && f.vrrp!.priority === 90), 'd1 advertised its lowered priority 90');
    assert.ok(fs.some((f) => f.ethSrc === d2.mac && f.vrrp!.priority === 100), 'd2 advertises as master');
    assert.ok(!d1.notifyEvents().some((e) => e.state === 'FAULT'), 'a weighted script lowers the priority, no FAULT');
    assert.equal(d1.notifyEvents().filter((e) => e.state !== 'NOTIFY').at(-1)?.state, 'BACKUP');
    await cap.stop();
  });

  it('the script recovers: d1 is back at 150 and preempts', async () => {
    const [, d2] = lan.directors;
    chk.set(0);
    await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd1', { ...WAIT, what: 'd1 to hold the VIP again' });
    assert.deepEqual(await pollHolders(lan, vip, 1500), [['d1']]);
    assert.equal(d2.notifyEvents().filter((e) => e.state !== 'NOTIFY').at(-1)?.state, 'BACKUP');
    assert.ok(await lan.ping('c1', vip, { timeoutS: 2 }));
  });
});
