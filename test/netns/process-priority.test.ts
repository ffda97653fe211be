// global_defs vrrp_rt_priority / vrrp_rlimit_rttime / vrrp_no_swap, read back from the running VRRP process of
// keepalived-ts and of Debian's keepalived with the same config: SCHED_RR at the configured priority with
// SCHED_RESET_ON_FORK, RLIMIT_RTTIME soft = half of the limit, memory locked (VmLck), the parent left at normal
// scheduling; after a SIGHUP reload (which both run at normal scheduling) the settings are back (keepalived's
// RLIMIT_RTTIME excepted: see below).
// keepalived-ts makes only the VRRP child's main thread real-time (src/daemon/process-priority.ts says why).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { vrrpConfig, waitFor, sleep, run, type Lan, type Director, type DaemonKind } from '../helpers/lab.js';
import { labFor } from '../helpers/scenario.js';

const skip = needsRoot() || needsCommand('tcpdump');
const WAIT = { timeoutMs: 15_000, intervalMs: 20 };
const SCHED_RR = 2;

/** Policy and real-time priority of one thread, from /proc/<pid>/task/<tid>/stat (fields 41 and 40). */
function sched(pid: number, tid = pid): { policy: number; rtPriority: number } {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3
  return { policy: Number(f[38]), rtPriority: Number(f[37]) };
}
const vmLckKb = (pid: number): number => Number(/VmLck:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const rttime = (pid: number): string => /Max realtime timeout\s+(\S+)\s+(\S+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))!.slice(1, 3).join('/');

for (const kind of ['keepalived-ts', 'keepalived'] as DaemonKind[]) {
  describe(`vrrp_rt_priority, vrrp_rlimit_rttime, vrrp_no_swap (${kind})`, { skip: kind === 'keepalived' ? skip || needsCommand('keepalived') : skip }, () => {
    let lan: Lan;
    let teardown: () => Promise<void> = async () => {};
    let d1: Director;
    before(async () => {
      ({ lan, teardown } = await labFor({ directors: 1, clients: 0 }));
      [d1] = lan.directors;
    });
    after(() => teardown());

    it('the VRRP process runs SCHED_RR 10 with RLIMIT_RTTIME and locked memory; the parent does not; a reload keeps them', async () => {
      const configText = vrrpConfig({
        vrid: 62, priority: 150, state: 'MASTER', advertInt: 0.1, version: 3, vip: lan.vipCidr(), iface: 'eth0', notify: d1!.notifyScript,
        extraGlobal: ['vrrp_rt_priority 10', 'vrrp_rlimit_rttime 200000', 'vrrp_no_swap'],
      });
      await d1!.start({ kind, configText });
      await waitFor(() => d1!.notifyEvents().some((e) => e.state === 'MASTER'), { ...WAIT, what: 'MASTER' });
      const parent = d1!.daemon!.pid;
      const vrrpPid = () => Number(readFileSync(join(d1!.dir, 'vrrp.pid'), 'utf8').trim());
      let child = vrrpPid();
      assert.ok(child > 0 && child !== parent);
      const check = (when: string) => {
        assert.deepEqual(sched(child), { policy: SCHED_RR, rtPriority: 10 }, `${when}: VRRP process SCHED_RR 10`);
        // keepalived 2.2.7 comes back from a reload with RLIMIT_RTTIME 0/0 (its reset restores a limit it never
        // saved): its real-time VRRP process is then SIGKILLed by the kernel the first time it runs a full tick
        // without blocking, and its parent starts a new one. So the limit is compared after a reload for
        // keepalived-ts only, and keepalived's VRRP pid is read again.
        if (kind === 'keepalived-ts' || when === 'start') assert.equal(rttime(child), '100000/200000', `${when}: RLIMIT_RTTIME soft/hard`);
        assert.ok(vmLckKb(child) > 0, `${when}: VmLck ${vmLckKb(child)} kB`);
        assert.equal(sched(parent).policy, 0, `${when}: the parent stays SCHED_OTHER`);
      };
      check('start');
      assert.match((await run('chrt', ['-p', String(child)])).stdout, /policy: SCHED_RR\|SCHED_RESET_ON_FORK/, 'scripts it forks start SCHED_OTHER');
      const threads = readdirSync(`/proc/${child}/task`).map(Number).filter((t) => t !== child);
      if (kind === 'keepalived-ts') {
        assert.ok(threads.length > 0 && threads.every((t) => sched(child, t).policy === 0), 'only the main thread is real-time');
        assert.match(d1!.daemon!.log(), /vrrp_rt_priority 10: main thread scheduled SCHED_RR/);
        assert.ok(readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').includes('--single-threaded-gc'), 'GC without helper threads');
        assert.ok(!readFileSync(`/proc/${parent}/cmdline`, 'utf8').includes('--single-threaded-gc'), 'the parent as started');
      }
      d1!.daemon!.signal('SIGHUP');
      await sleep(1500);
      if (kind === 'keepalived-ts') assert.equal(vrrpPid(), child, 'the VRRP process survives the reload');
      else await waitFor(() => { try { child = vrrpPid(); return sched(child).policy === SCHED_RR; } catch { return false; } }, { ...WAIT, what: 'a real-time VRRP process' });
      check('after a reload');
      assert.ok(d1!.daemon!.running);
    });

    it('with the default vrrp_rlimit_rttime (10 ms) at advert_int 0.01 the real-time VRRP process survives its start-up', async () => {
      await d1!.stop();
      await d1!.start({
        kind,
        configText: vrrpConfig({
          vrid: 63, priority: 150, state: 'MASTER', advertInt: 0.01, version: 3, vip: lan.vipCidr(), iface: 'eth0', notify: d1!.notifyScript,
          extraGlobal: ['vrrp_rt_priority 10'],
        }),
      });
      const vrrpPid = () => Number(readFileSync(join(d1!.dir, 'vrrp.pid'), 'utf8').trim());
      await waitFor(() => { try { return sched(vrrpPid()).policy === SCHED_RR; } catch { return false; } }, { ...WAIT, what: 'a real-time VRRP process' });
      const child = vrrpPid();
      // Past start-up, which under SCHED_RR used to exceed RLIMIT_RTTIME and get the child SIGKILLed at every start
      // (the parent then forks another). Not longer: in steady state an old-space GC of keepalived-ts's child can
      // still exceed the default 10 ms now and then (README, "10 ms adverts"), which a longer window would catch
      // at random rather than prove.
      await sleep(2_000);
      assert.equal(vrrpPid(), child, 'the same VRRP process');
      assert.equal(sched(child).policy, SCHED_RR);
      if (kind === 'keepalived-ts') assert.doesNotMatch(d1!.daemon!.log(), /died with signal SIGKILL/);
    });
  });
}
