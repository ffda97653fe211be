// Reload identity and process lifetime in a namespace: instances are matched as keepalived matches them (by
// vrid/family/interface/mode, not by name) — a renamed master keeps its state silently, a removed one leaves with
// priority 0 and a FAULT notify (no notify_deleted), a new one starts — and the VRRP child does not outlive a
// parent killed with SIGKILL (Node has no PDEATHSIG: the child watches its IPC channel).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { createLan, waitFor, nowMs, repoRoot, sleep, type Lan, type Director, type Daemon, type AddressMonitor, type Capture } from '../helpers/lab.js';

const skip = needsRoot() || needsCommand('tcpdump');
const WAIT = { timeoutMs: 20_000, intervalMs: 20 };

describe('keepalived-ts reload identity and child lifetime', { skip }, () => {
  let lan: Lan;
  let d1: Director;
  let ts: Daemon;
  let mon: AddressMonitor;
  let cap: Capture;
  let namespaces: readonly string[] = [];

  const instance = (name: string, vrid: number, vip: string) => `
vrrp_instance ${name} {
    state MASTER
    interface eth0
    virtual_router_id ${vrid}
    priority 150
    advert_int 1
    virtual_ipaddress {
        ${vip} dev eth0
    }
    notify "${d1.notifyScript} NOTIFY"
}`;
  const config = (instances: string[]) => `global_defs {
    enable_script_security
    script_user root
    vrrp_version 3
}
${instances.join('\n')}
`;
  /** Generic notify calls for an instance: `NOTIFY INSTANCE <name> <state> <prio>`. */
  const notifies = (name: string, after = -Infinity) =>
    d1.notifyEvents().filter((e) => e.state === 'NOTIFY' && e.args[1] === name && e.tMs > after).map((e) => e.args[2]);
  const has = async (ip: string) => (await lan.addresses(d1)).includes(ip);

  before(async () => {
    lan = await createLan({ directors: 1, clients: 0 });
    namespaces = lan.namespaceNames.slice();
    d1 = lan.directors[0]!;
    mon = await lan.watchAddresses(d1);
    cap = await lan.capture('bridge', 'vrrp');
  });

  after(async () => {
    await lan?.teardown();
    const left = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => namespaces.includes(n)) : [];
    assert.deepEqual(left, [], 'no namespace of this test is left');
  });

  it('two masters start', async () => {
    ts = await lan.startDaemon(d1, {
      kind: 'keepalived-ts',
      configText: config([instance('VI_1', 71, lan.vipCidr(0)), instance('VI_2', 72, lan.vipCidr(1))]),
      command: [process.execPath, '--import', 'tsx', join(repoRoot(), 'src', 'cli.ts')],
    });
    await waitFor(async () => (await has(lan.vip(0))) && (await has(lan.vip(1))), { ...WAIT, what: 'both VIPs' });
    await waitFor(() => notifies('VI_1').includes('MASTER') && notifies('VI_2').includes('MASTER'), { ...WAIT, what: 'MASTER notifies' });
  });

  it('reload: renamed instance kept silently, removed one sends priority 0 and FAULT, new one starts', async () => {
    await sleep(200);
    const t0 = nowMs();
    writeFileSync(ts.configFile, config([instance('RENAMED', 71, lan.vipCidr(0)), instance('VI_3', 73, lan.vipCidr(2))]));
    ts.signal('SIGHUP');
    await cap.waitForFrame((f) => f.vrrp?.vrid === 72 && f.vrrp.priority === 0, { ...WAIT, afterMs: t0, what: 'priority 0 from VRID 72' });
    await waitFor(async () => !(await has(lan.vip(1))) && (await has(lan.vip(2))), { ...WAIT, what: 'VI_2 VIP gone, VI_3 VIP added' });
    await waitFor(() => notifies('VI_2', t0).includes('FAULT'), { ...WAIT, what: 'VI_2 FAULT notify (no notify_deleted)' });
    await waitFor(() => notifies('VI_3', t0).includes('MASTER'), { ...WAIT, what: 'VI_3 MASTER' });
    await sleep(1500);
    assert.deepEqual(notifies('RENAMED', t0), [], 'the kept instance ran no notify under its new name');
    assert.deepEqual(notifies('VI_1', t0), []);
    assert.equal(mon.first(lan.vip(0), false, t0), undefined, 'the kept VIP was never deleted');
    assert.ok(await has(lan.vip(0)));
    // The kept master keeps advertising VRID 71 at priority 150.
    const adverts71 = cap.frames().filter((f) => f.vrrp?.vrid === 71 && f.tMs > t0);
    assert.ok(adverts71.length >= 1 && adverts71.every((f) => f.vrrp!.priority === 150));
    assert.match(ts.log(), /\(RENAMED\) was VI_1 before the reload/);
    assert.match(ts.log(), /Reload: kept 1, removed 1, added 1/);
  });

  it('SIGKILL of the parent: the VRRP child notices, leaves (priority 0, VIPs removed) and exits', async () => {
    const child = Number.parseInt(readFileSync(join(d1.dir, 'vrrp.pid'), 'utf8'), 10);
    assert.ok(child > 0 && child !== ts.pid);
    const t0 = nowMs();
    process.kill(ts.pid, 'SIGKILL');
    await cap.waitForFrame((f) => f.vrrp?.vrid === 71 && f.vrrp.priority === 0, { ...WAIT, afterMs: t0, what: 'priority 0 from the orphaned child' });
    await waitFor(() => !existsSync(`/proc/${child}`), { ...WAIT, what: 'the child to exit' });
    assert.ok(!(await has(lan.vip(0))) && !(await has(lan.vip(2))), 'VIPs removed');
    assert.ok(!existsSync(join(d1.dir, 'vrrp.pid')), 'the child removed its pid file');
  });
});
