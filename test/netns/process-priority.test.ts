// global_defs vrrp_rt_priority / vrrp_rlimit_rttime / vrrp_no_swap, read back from the running VRRP process of
// keepalived-ts and of Debian's keepalived with the same config: SCHED_RR at the configured priority with
// SCHED_RESET_ON_FORK, RLIMIT_RTTIME soft = half of the limit, memory locked (VmLck), the parent left at normal
// scheduling; after a SIGHUP reload the settings are back (keepalived's RLIMIT_RTTIME excepted: see below), and after
// one that drops vrrp_rt_priority the VRRP process is at normal scheduling. keepalived reloads at normal scheduling;
// keepalived-ts's VRRP child stays real-time through a reload where a long run is demoted rather than killed.
// keepalived-ts makes only the VRRP child's main thread real-time (src/daemon/process-priority.ts says why).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { vrrpConfig, waitFor, sleep, run, type Lan, type Director, type DaemonKind } from '../helpers/lab.js';
import { getOverUnixSocket } from '../helpers/unix-http.js';
import { parsePrometheusText } from '../helpers/prom-parse.js';
import { labFor } from '../helpers/scenario.js';
import { ksock, SCHED_RESET_ON_FORK, SCHED_RR } from '../../src/net/ksock.js';
import { rttimeKernelHardLimitUs, rttimeSoftLimitUs } from '../../src/daemon/rt-demotion.js';
import { fileURLToPath } from 'node:url';

const skip = needsRoot() || needsCommand('tcpdump');
const WAIT = { timeoutMs: 15_000, intervalMs: 20 };
/** The scheduler tick (µs), and the RLIMIT_RTTIME soft / hard keepalived-ts gives the kernel for the default
 *  vrrp_rlimit_rttime of 10 ms (rt-demotion.ts): 5000 / 112000 at HZ=250. */
const TICK_US = ksock().clockTickUs?.() ?? 4000;
const DEFAULT_SOFT_US = rttimeSoftLimitUs(10_000);
const DEFAULT_HARD_US = rttimeKernelHardLimitUs(10_000, DEFAULT_SOFT_US, TICK_US);
/** The same for the first case's vrrp_rlimit_rttime 200000 (the hard limit raised past the first check). */
const LIMITS_200MS = `${rttimeSoftLimitUs(200_000)}/${rttimeKernelHardLimitUs(200_000, rttimeSoftLimitUs(200_000), TICK_US)}`;

/** Policy and real-time priority of one thread, from /proc/<pid>/task/<tid>/stat (fields 41 and 40). */
function sched(pid: number, tid = pid): { policy: number; rtPriority: number } {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3
  return { policy: Number(f[38]), rtPriority: Number(f[37]) };
}
/** A thread's name (what `ps -L` shows). */
const threadName = (pid: number, tid: number): string => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
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
        if (kind === 'keepalived-ts' || when === 'start') assert.equal(rttime(child), kind === 'keepalived-ts' ? LIMITS_200MS : '100000/200000', `${when}: RLIMIT_RTTIME soft/hard`);
        assert.ok(vmLckKb(child) > 0, `${when}: VmLck ${vmLckKb(child)} kB`);
        assert.equal(sched(parent).policy, 0, `${when}: the parent stays SCHED_OTHER`);
      };
      check('start');
      assert.match((await run('chrt', ['-p', String(child)])).stdout, /policy: SCHED_RR\|SCHED_RESET_ON_FORK/, 'scripts it forks start SCHED_OTHER');
      const threads = readdirSync(`/proc/${child}/task`).map(Number).filter((t) => t !== child);
      const sender = () => threads.filter((t) => threadName(child, t) === 'kt-advert');
      if (kind === 'keepalived-ts') {
        // The advert sender (the thread that puts the adverts on the wire at their deadline) runs one above it.
        assert.equal(sender().length, 1, 'one advert sender thread');
        assert.deepEqual(sched(child, sender()[0]), { policy: SCHED_RR, rtPriority: 11 }, 'the advert sender SCHED_RR 11');
        const helpers = threads.filter((t) => !sender().includes(t));
        assert.ok(helpers.length > 0 && helpers.every((t) => sched(child, t).policy === 0), 'no other thread is real-time');
        assert.match(d1!.daemon!.log(), /vrrp_rt_priority 10: main thread scheduled SCHED_RR, the advert sender at 11/);
        assert.ok(readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').includes('--single-threaded-gc'), 'GC without helper threads');
        assert.ok(!readFileSync(`/proc/${parent}/cmdline`, 'utf8').includes('--single-threaded-gc'), 'the parent as started');
      }
      d1!.daemon!.signal('SIGHUP');
      await sleep(1500);
      if (kind === 'keepalived-ts') assert.equal(vrrpPid(), child, 'the VRRP process survives the reload');
      else await waitFor(() => { try { child = vrrpPid(); return sched(child).policy === SCHED_RR; } catch { return false; } }, { ...WAIT, what: 'a real-time VRRP process' });
      check('after a reload');
      // A reload that drops vrrp_rt_priority: the VRRP process back at normal scheduling (keepalived-ts keeps a guarded
      // real-time thread real-time through a reload, so it must leave it after one that no longer asks for it).
      writeFileSync(d1!.daemon!.configFile, configText.replace('vrrp_rt_priority 10', ''));
      d1!.daemon!.signal('SIGHUP');
      if (kind === 'keepalived-ts') await waitFor(() => sched(child).policy === 0, { ...WAIT, what: 'the VRRP process at normal scheduling' });
      else await waitFor(() => { try { child = vrrpPid(); return sched(child).policy === 0; } catch { return false; } }, { ...WAIT, what: 'the VRRP process at normal scheduling' });
      if (kind === 'keepalived-ts') {
        assert.equal(vrrpPid(), child, 'the VRRP process survives the reload');
        assert.equal(sched(child, sender()[0]).policy, 0, 'the advert sender back at normal scheduling too');
      }
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
      // (the parent then forks another). Long runs in steady state (a GC now and then) are proven deterministically
      // by the case below, which makes one every second.
      await sleep(2_000);
      assert.equal(vrrpPid(), child, 'the same VRRP process');
      assert.equal(sched(child).policy, SCHED_RR);
      if (kind === 'keepalived-ts') {
        assert.doesNotMatch(d1!.daemon!.log(), /died with signal SIGKILL/);
        // The kernel's hard limit leaves the SIGXCPU handler time past the first check (rt-demotion.ts).
        assert.equal(rttime(child), `${DEFAULT_SOFT_US}/${DEFAULT_HARD_US}`, 'RLIMIT_RTTIME soft/hard of the default');
      } else assert.equal(rttime(child), '5000/10000', 'keepalived: half of the limit, and the limit');
    });
  });
}

// Beyond keepalived: a real-time VRRP process that runs past RLIMIT_RTTIME's soft limit without sleeping is demoted to
// normal scheduling until it sleeps, not SIGKILLed by the kernel at the hard limit (a killed VRRP process is a false
// state change on the peers). At the default limit (10 ms: soft 5 ms, so the kernel checks at the third tick) a
// demotion needs a run of 8-12 ms at HZ=250, which no VRRP work makes on a quiet machine; so the test's fault hook
// (child-main.ts) has the VRRP process spin SPIN_MS without a blocking call once a second, as a long garbage
// collection would. The signal, the demotion and the re-promotion are the kernel's and the daemon's own. Around the
// spins, BURST instances at advert_int 1 become MASTER together and advertise in the same event-loop turn every
// second, beside one at advert_int 0.01. Debian's keepalived runs the advert_int 1 instances as the BACKUP peer (not
// the 0.01 one: the spin itself delays its adverts past a peer's 36 ms master-down, demoted or not), with its own
// default limit.
const BURST = 100;
const SPIN_MS = 30;
function burstConfig(lan: Lan, priority: number, state: 'MASTER' | 'BACKUP', with10ms: boolean): string {
  const extraGlobal = ['vrrp_rt_priority 10'];
  let text = vrrpConfig({ vrid: 100, instanceName: 'B0', priority, state, advertInt: 1, version: 3, vip: '10.98.0.0/32', iface: 'eth0', extraGlobal });
  for (let i = 1; i < BURST; i++) {
    text += `\nvrrp_instance B${i} {\n  state ${state}\n  interface eth0\n  virtual_router_id ${100 + i}\n  priority ${priority}\n  advert_int 1\n` +
      `  virtual_ipaddress {\n    10.98.${i >> 8}.${i & 255}/32 dev eth0\n  }\n}\n`;
  }
  if (with10ms) {
    text += `\nvrrp_instance VI_1 {\n  state ${state}\n  interface eth0\n  virtual_router_id 64\n  priority ${priority}\n  advert_int 0.01\n` +
      `  virtual_ipaddress {\n    ${lan.vipCidr()} dev eth0\n  }\n}\n`;
  }
  return text;
}

describe('vrrp_rt_priority at the default vrrp_rlimit_rttime: each run past the limit demotes the VRRP process instead of getting it killed (keepalived the BACKUP peer)', { skip: skip || needsCommand('keepalived') }, () => {
  let lan: Lan;
  let teardown: () => Promise<void> = async () => {};
  before(async () => {
    ({ lan, teardown } = await labFor({ directors: 2, clients: 0 }));
  });
  after(() => teardown());

  it('the same VRRP process keeps every instance MASTER, says it was demoted and counts it; the peer never takes over', async () => {
    const [d1, d2] = lan.directors as [Director, Director];
    const sock = join(d1.dir, 'status.sock');
    const cap = await lan.capture('bridge', 'vrrp', { name: 'rt-demotion' });
    const fault = join(d1.dir, 'fault');
    await d1.start({ kind: 'keepalived-ts', configText: burstConfig(lan, 150, 'MASTER', true), extraArgs: ['--status-listen', sock], env: { KEEPALIVED_TS_TEST_FAULT: fault } });
    const vrrpPid = () => Number(readFileSync(join(d1.dir, 'vrrp.pid'), 'utf8').trim());
    await waitFor(() => { try { return sched(vrrpPid()).policy === SCHED_RR; } catch { return false; } }, { ...WAIT, what: 'a real-time VRRP process' });
    const child = vrrpPid();
    await waitFor(() => new Set(cap.frames().filter((f) => f.ipv4?.src === d1.ip).map((f) => f.vrrp!.vrid)).size === BURST + 1, { ...WAIT, what: 'adverts of every instance from keepalived-ts' });
    const demotions = async () => {
      const m = parsePrometheusText((await getOverUnixSocket(sock, '/metrics')).body);
      return m.get('keepalived_ts_process_rt_demotions_total')?.samples.find((x) => x.labels.process === 'vrrp')?.value ?? -1;
    };
    writeFileSync(fault, `vrrp spin ${SPIN_MS}`);
    // The peer starts BACKUP and stays so while it hears every instance (its master-down: 36 ms at 0.01, 3.6 s at 1).
    const peerFrom = cap.frames().length;
    await d2.start({ kind: 'keepalived', configText: burstConfig(lan, 100, 'BACKUP', false) });
    const before = await demotions();
    await waitFor(async () => (await demotions()) >= before + 3, { timeoutMs: 20_000, intervalMs: 250, what: 'three demotions in steady state' });
    await sleep(4_000); // past the peer's master-down of the advert_int 1 instances, had the VRRP process died
    const log = d1.daemon!.log();
    const frames = cap.frames();
    const peerAdverts = frames.slice(peerFrom).filter((f) => f.vrrp && f.ipv4?.src === d2.ip);
    const ours = frames.filter((f) => f.vrrp?.vrid === 64 && f.ipv4?.src === d1.ip).map((f) => f.tMs);
    const gaps = ours.slice(1).map((t, i) => t - ours[i]!).sort((a, b) => b - a);
    console.log(`demotions ${await demotions()} (${before} when the peer started); vrid 64 longest gaps ${gaps.slice(0, 5).map((g) => g.toFixed(1)).join(' ')} ms; peer adverts ${peerAdverts.length} (vrids ${[...new Set(peerAdverts.map((f) => f.vrrp!.vrid))].slice(0, 10).join(',')})`);
    assert.equal(vrrpPid(), child, 'the same VRRP process');
    assert.doesNotMatch(log, /died with signal SIGKILL/);
    assert.match(log, new RegExp(`VRRP process has used too much CPU time, vrrp_rlimit_rttime may need to be increased: it ran more than \\d+ ms without sleeping at real-time priority \\(vrrp_rlimit_rttime 10000\\): demoted to normal scheduling until it sleeps`));
    await waitFor(() => sched(child).policy === SCHED_RR, { ...WAIT, what: 'real-time again after it slept' });
    assert.deepEqual(peerAdverts.map((f) => f.vrrp!.vrid), [], 'the BACKUP peer never advertised: no false state change');
    await cap.stop();
  });
});

// The addon's guard alone, without a daemon: a thread made real-time again at once after each demotion (so it comes
// back with the kernel's tick count of the run that was demoted) and run 30 ms without sleeping, 50 times. Before
// promotions reset the count for certain, that got the process SIGKILLed; and a demotion's wake-up still pending
// when the process ended aborted it (exit status 134).
describe('the RLIMIT_RTTIME guard of the socket addon, without a daemon', { skip: needsRoot() }, () => {
  it('50 promotions each followed by 30 ms without sleeping: 50 demotions, never SIGKILLed, a clean exit', async () => {
    const addon = fileURLToPath(new URL('../../build/Release/ksock.node', import.meta.url));
    const script = `
      const k = require(${JSON.stringify(addon)});
      k.rtGuard([k.gettid()], () => {}, -20);
      const spin = (ms) => { const t0 = process.hrtime.bigint(); while (Number(process.hrtime.bigint() - t0) < ms * 1e6) {} };
      for (let i = 0; i < 50; i++) { k.schedSetRealtime(${SCHED_RR | SCHED_RESET_ON_FORK}, 10, ${DEFAULT_SOFT_US}, ${DEFAULT_HARD_US}); spin(30); }
      console.log(String(k.rtDemotions()));`;
    // A SIGKILL or an abort is a non-zero status here (run() reports a signal as 1).
    const r = await run(process.execPath, ['-e', script], { allowFail: true, timeoutMs: 60_000 });
    assert.equal(r.code, 0, `exit status, not killed (stderr: ${r.stderr})`);
    assert.equal(r.stdout.trim(), '50', 'one demotion per run');
  });
});
