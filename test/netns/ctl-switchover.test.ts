// The control interface on a real LAN (issue 12): keepalived-ts (d1, priority 150) beside Debian's keepalived (d2,
// priority 100), VRRPv2 at advert_int 1, driven by the `keepalived-ts ctl` CLI over d1's --status-listen socket.
// - `switchover VI_1` moves the VIP to keepalived: at most one holder at every poll (20 ms apart), the peer becomes
//   master, one notify each side, and d1 stays BACKUP beyond a master-down interval (no preemption while held).
//   The gap with no holder (d1's removal to d2's addition, from `ip monitor` timestamps) is printed, not asserted.
// - `resume VI_1`: d1 takes the VIP back by preemption.
// - With keepalived stopped, `switchover` is refused with the reason (nobody took over: d1 is MASTER again).
// - `maintenance on`: d1 hands over and stays BACKUP through a SIGHUP and a restart of the daemon (state file);
//   `maintenance off`: d1 preempts again. /metrics shows keepalived_ts_maintenance.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { daemonCommand, nowMs, run, sleep, vrrpConfig, waitFor, type Director, type Lan } from '../helpers/lab.js';
import { labFor } from '../helpers/scenario.js';
import { getOverUnixSocket } from '../helpers/unix-http.js';

const skip = needsRoot() || needsCommand('keepalived');
const WAIT = { timeoutMs: 20_000, intervalMs: 50 };
const STATES = new Set(['MASTER', 'BACKUP', 'FAULT', 'STOP']);

/** Polls who holds `vip` until stopped: every answer with its time. */
function pollHolders(lan: Lan, vip: string, intervalMs = 20) {
  let stopped = false;
  const seen: Array<{ tMs: number; holders: string[] }> = [];
  const done = (async () => {
    while (!stopped) {
      seen.push({ tMs: nowMs(), holders: await lan.vipHolders(vip) });
      await sleep(intervalMs);
    }
  })();
  return { stop: async () => { stopped = true; await done; return seen; } };
}

describe('ctl switchover / resume / maintenance (keepalived-ts d1 beside keepalived d2, VRRPv2 advert_int 1)', { skip }, () => {
  let lan: Lan;
  let teardown: () => Promise<void> = async () => {};
  let d1: Director;
  let d2: Director;
  let vip: string;
  let sock: string;
  const config = (d: Director, priority: number) =>
    vrrpConfig({ vrid: 71, priority, state: 'BACKUP', advertInt: 1, vip: lan.vipCidr(), iface: 'eth0', notify: d.notifyScript });
  const startD1 = () => d1.start({ kind: 'keepalived-ts', configText: config(d1, 150), extraArgs: ['--status-listen', sock] });
  const ctl = (...words: string[]) => {
    const [cmd, ...pre] = daemonCommand('keepalived-ts');
    return run(cmd!, [...pre, 'ctl', '--socket', sock, ...words], { allowFail: true, timeoutMs: 60_000 });
  };
  const holders = async () => (await lan.vipHolders(vip)).join();
  const stateEvents = (d: Director, afterMs: number) => d.notifyEvents().filter((e) => e.tMs > afterMs && STATES.has(e.state)).map((e) => e.state);

  before(async () => {
    ({ lan, teardown } = await labFor({ prefix: 'ktctl', directors: 2, clients: 1 }));
    [d1, d2] = lan.directors;
    vip = lan.vip();
    sock = join(d1.dir, 'ctl.sock');
    // keepalived first: d1 then hears it (a master knows its peer only from the peer's own adverts) and preempts.
    await d2.start({ kind: 'keepalived', configText: config(d2, 100) });
    await waitFor(async () => (await holders()) === 'd2', { ...WAIT, what: 'keepalived d2 MASTER' });
    await startD1();
    await waitFor(async () => (await holders()) === 'd1', { ...WAIT, what: 'd1 to preempt' });
    await waitFor(() => stateEvents(d2, 0).at(-1) === 'BACKUP', { ...WAIT, what: 'd2 BACKUP' });
  });
  after(() => teardown());

  it('switchover VI_1: keepalived takes the VIP, never two holders, one notify each side, d1 stays BACKUP while held', async () => {
    const st = await ctl('status');
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /^VI_1 MASTER prio 150 eth0 vrid 71/m);
    const [m1, m2] = [await lan.watchAddresses(d1), await lan.watchAddresses(d2)];
    const t0 = nowMs();
    const poll = pollHolders(lan, vip);
    const r = await ctl('switchover', 'VI_1');
    await waitFor(async () => (await holders()) === 'd2', { ...WAIT, what: 'd2 to hold the VIP' });
    await sleep(1500);
    const seen = await poll.stop();
    m1.stop();
    m2.stop();
    assert.equal(r.code, 0, `ctl switchover: ${r.stderr}`);
    assert.match(r.stdout, /^VI_1: 10\.99\.0\.12 \(priority 100\) took over \d+ ms after the hand-over; staying BACKUP until resume$/m);
    const doubles = seen.filter((s) => s.holders.length > 1);
    assert.deepEqual(doubles, [], 'at most one holder at every poll');
    assert.ok(seen.some((s) => s.holders.join() === 'd2'), 'keepalived became master');
    const removed = m1.first(vip, false, t0);
    const added = m2.first(vip, true, t0);
    assert.ok(removed && added, 'the VIP left d1 and came to d2');
    const skewMs = ((256 - 100) / 256) * 1000;
    console.log(`# switchover gap: d1 removed the VIP, d2 added it ${Math.round(added.tMs - removed.tMs)} ms later (keepalived's skew time at priority 100: ${Math.round(skewMs)} ms); ${seen.length} polls, none with two holders; ctl said: ${r.stdout.trim()}`);
    assert.deepEqual(stateEvents(d1, t0), ['BACKUP'], 'one notify on d1');
    assert.deepEqual(stateEvents(d2, t0), ['MASTER'], 'one notify on d2');
    // Held: beyond d1's master-down interval (3.4 s) keepalived's lower-priority adverts do not make d1 preempt.
    await sleep(4500);
    assert.equal(await holders(), 'd2');
    assert.deepEqual(stateEvents(d1, t0), ['BACKUP']);
    const held = await ctl('status');
    assert.match(held.stdout, /^VI_1 BACKUP prio 150 eth0 vrid 71 master 10\.99\.0\.12 hold until resume$/m);
  });

  it('resume VI_1: d1 takes the VIP back by preemption', async () => {
    const t0 = nowMs();
    const r = await ctl('resume', 'VI_1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hold ended; priority 150 over the master's 100: it takes MASTER back by preemption/);
    await waitFor(async () => (await holders()) === 'd1', { ...WAIT, what: 'd1 to take the VIP back' });
    await waitFor(() => stateEvents(d2, t0).includes('BACKUP'), { ...WAIT, what: 'd2 BACKUP' });
    await waitFor(() => stateEvents(d1, t0).length > 0, { ...WAIT, what: 'd1 notify MASTER' });
    assert.deepEqual(stateEvents(d1, t0), ['MASTER']);
    const again = await ctl('resume', 'VI_1');
    assert.equal(again.code, 1, 'nothing to resume: refused');
    assert.match(again.stderr, /VI_1 has no switchover hold/);
  });

  it('switchover with keepalived stopped: refused with the reason, d1 keeps (takes back) the VIP', async () => {
    await d2.stop('SIGTERM');
    const t0 = nowMs();
    const poll = pollHolders(lan, vip);
    const r = await ctl('switchover', 'VI_1');
    const seen = await poll.stop();
    assert.equal(r.code, 1, `refused: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^VI_1: no router took over within \d+ ms of the hand-over: MASTER again$/m);
    assert.deepEqual(seen.filter((s) => s.holders.length > 1), []);
    await waitFor(async () => (await holders()) === 'd1', { ...WAIT, what: 'd1 to hold the VIP again' });
    await waitFor(() => stateEvents(d1, t0).length >= 2, { ...WAIT, what: 'd1 notify BACKUP then MASTER' });
    const gap = seen.filter((s) => s.holders.length === 0);
    console.log(`# switchover to nobody: the VIP was gone for about ${gap.length ? Math.round(gap.at(-1)!.tMs - gap[0]!.tMs) : 0} ms (polls); ctl said: ${r.stderr.trim()}`);
    assert.deepEqual(stateEvents(d1, t0), ['BACKUP', 'MASTER']);
    const bad = await ctl('switchover', 'VI_9');
    assert.equal(bad.code, 2, 'unknown instance: bad request');
  });

  it('maintenance on: d1 hands over and stays BACKUP through SIGHUP and a restart; maintenance off: d1 preempts', async () => {
    await d2.start({ kind: 'keepalived', configText: config(d2, 100) });
    await waitFor(() => d2.notifyEvents().filter((e) => e.state === 'BACKUP').length >= 2, { ...WAIT, what: 'd2 BACKUP again' });
    const on = await ctl('maintenance', 'on');
    assert.equal(on.code, 0, on.stderr);
    assert.match(on.stdout, /maintenance on: every instance stays BACKUP; handed over VI_1/);
    await waitFor(async () => (await holders()) === 'd2', { ...WAIT, what: 'd2 to take over' });
    const metrics = async () => (await getOverUnixSocket(sock, '/metrics')).body;
    assert.match(await metrics(), /^keepalived_ts_maintenance 1$/m);

    d1.daemon!.signal('SIGHUP');
    await waitFor(() => /Reload: kept 1/.test(d1.daemon!.log()), { ...WAIT, what: 'd1 reloaded' });
    await sleep(4500);
    assert.equal(await holders(), 'd2', 'still BACKUP after the reload');
    assert.match((await ctl('status')).stdout, /^maintenance on/m);

    await d1.stop('SIGTERM');
    await startD1();
    await waitFor(async () => (await ctl('status')).code === 0, { ...WAIT, what: 'd1 to answer after the restart' });
    await sleep(4500);
    assert.equal(await holders(), 'd2', 'still BACKUP after a restart');
    const st = await ctl('status');
    assert.match(st.stdout, /^maintenance on/m);
    assert.match(st.stdout, /^VI_1 BACKUP .* maintenance$/m);

    const t0 = nowMs();
    const off = await ctl('maintenance', 'off');
    assert.equal(off.code, 0, off.stderr);
    await waitFor(async () => (await holders()) === 'd1', { ...WAIT, what: 'd1 to preempt after maintenance off' });
    // The notify script runs after the address is added: wait for its line.
    await waitFor(() => stateEvents(d1, t0).length > 0, { ...WAIT, what: 'd1 notify MASTER' });
    assert.deepEqual(stateEvents(d1, t0), ['MASTER']);
    assert.match(await metrics(), /^keepalived_ts_maintenance 0$/m);
    assert.match(d1.daemon!.log(), /control: maintenance .* from pid \d+ uid 0 gid 0: ok/);
  });
});
