// A vrrp_sync_group of two instances (VRIDs 71 and 72, one VIP each, same LAN): a weight-0 track_script on one
// member fails on the master → that member goes FAULT, the group follows, and the peer takes both VIPs; recovery
// brings both back (preempt). The group's notify scripts run with keepalived's GROUP arguments.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from '../helpers/root.js';
import { waitFor, type Lan, type Director } from '../helpers/lab.js';
import { labFor, checkScript } from '../helpers/scenario.js';

const WAIT = { timeoutMs: 20_000, intervalMs: 20 };

function syncGroupConfig(lan: Lan, d: Director, priority: number, chkPath: string): string {
  const n = d.notifyScript;
  const inst = (name: string, vrid: number, vip: string, extra: string[]) => [
    `vrrp_instance ${name} {`,
    '    state BACKUP',
    '    interface eth0',
    `    virtual_router_id ${vrid}`,
    `    priority ${priority}`,
    '    advert_int 0.1',
    `    virtual_ipaddress {\n        ${vip} dev eth0\n    }`,
    ...extra.map((l) => `    ${l}`),
    '}',
  ];
  return [
    'global_defs {\n    vrrp_version 3\n    enable_script_security\n    script_user root\n}',
    `vrrp_script chk {\n    script "${chkPath}"\n    interval 1\n    fall 1\n    rise 1\n}`,
    'vrrp_sync_group G1 {',
    '    group {\n        VI_1\n        VI_2\n    }',
    `    notify_master "${n} GMASTER"`,
    `    notify_backup "${n} GBACKUP"`,
    `    notify_fault "${n} GFAULT"`,
    `    notify "${n} GNOTIFY"`,
    '}',
    ...inst('VI_1', 71, lan.vipCidr(0), ['track_script {', '    chk', '}']),
    ...inst('VI_2', 72, lan.vipCidr(1), []),
    '',
  ].join('\n');
}

describe('vrrp_sync_group of two instances (keepalived-ts ×2, VRRPv3 advert_int 0.1)', { skip: needsRoot() }, () => {
  let lan: Lan;
  let teardown: () => Promise<void> = async () => {};
  let chk: ReturnType<typeof checkScript>;
  const holders = async () => [(await lan.vipHolders(lan.vip(0))).join(), (await lan.vipHolders(lan.vip(1))).join()];
  const bothOn = async (name: string) => (await holders()).every((h) => h === name);
  const groupNotifies = (d: Director) => d.notifyEvents().filter((e) => e.state === 'GNOTIFY').map((e) => e.args.join(' '));

  before(async () => {
    ({ lan, teardown } = await labFor({ directors: 2, clients: 1 }));
  });
  after(() => teardown());

  it('both VIPs live on the higher priority director', async () => {
    const [d1, d2] = lan.directors;
    chk = checkScript(d1);
    const chk2 = checkScript(d2);
    await d1.start({ kind: 'keepalived-ts', configText: syncGroupConfig(lan, d1, 150, chk.path) });
    await waitFor(() => bothOn('d1'), { ...WAIT, what: 'd1 to hold both VIPs' });
    await d2.start({ kind: 'keepalived-ts', configText: syncGroupConfig(lan, d2, 100, chk2.path) });
    await waitFor(() => d2.notifyEvents().some((e) => e.state === 'GBACKUP'), { ...WAIT, what: 'd2 group BACKUP' });
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(await bothOn('d1'));
    await waitFor(() => groupNotifies(d1).includes('GROUP G1 MASTER 0'), { ...WAIT, what: "d1's group notify MASTER" });
  });

  it("one member's tracked script fails: both VIPs move to d2 together", async () => {
    const [d1, d2] = lan.directors;
    chk.set(1);
    await waitFor(() => bothOn('d2'), { ...WAIT, what: 'd2 to hold both VIPs' });
    await waitFor(() => d1.notifyEvents().some((e) => e.state === 'GFAULT'), { ...WAIT, what: 'd1 group FAULT notify' });
    await waitFor(() => groupNotifies(d1).includes('GROUP G1 FAULT 0'), { ...WAIT, what: "d1's generic group notify FAULT" });
    await waitFor(() => groupNotifies(d2).includes('GROUP G1 MASTER 0'), { ...WAIT, what: "d2's generic group notify MASTER" });
    assert.ok(d2.notifyEvents().some((e) => e.state === 'GMASTER'));
    assert.deepEqual(await lan.vipHolders(lan.vip(0)), ['d2']);
    assert.deepEqual(await lan.vipHolders(lan.vip(1)), ['d2'], "the untracked member's VIP moved too");
  });

  it('the script recovers: both VIPs come back to d1', async () => {
    const [d1, d2] = lan.directors;
    chk.set(0);
    await waitFor(() => bothOn('d1'), { ...WAIT, what: 'd1 to hold both VIPs again' });
    await waitFor(() => d2.notifyEvents().filter((e) => e.state.startsWith('G') && e.state !== 'GNOTIFY').at(-1)?.state === 'GBACKUP', { ...WAIT, what: 'd2 group BACKUP' });
    const seq = d1.notifyEvents().filter((e) => e.state.startsWith('G') && e.state !== 'GNOTIFY').map((e) => e.state);
    assert.deepEqual(seq, ['GBACKUP', 'GMASTER', 'GFAULT', 'GBACKUP', 'GMASTER'], 'd1 group notifies in order');
  });
});
