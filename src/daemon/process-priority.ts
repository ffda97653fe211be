// keepalived's per-child process settings from global_defs, each child applying its own once it has started (logged once;
// start-up under SCHED_RR would run past RLIMIT_RTTIME): vrrp_/checker_rt_priority (SCHED_RR with SCHED_RESET_ON_FORK, so scripts the child runs start as normal
// processes; RLIMIT_RTTIME from *_rlimit_rttime), else vrrp_/checker_priority (nice),
// and vrrp_/checker_no_swap (mapped files and the stack locked; see applyNoSwap for why not mlockall). Like
// keepalived, a reload runs at normal scheduling (leaveRealtime) and the settings are applied again after it; a VRRP
// child whose long runs are demoted rather than killed (realtimeGuarded) stays real-time through it.
// A real-time child runs with --single-threaded-gc (child-flags.ts, which the parent passes when it forks it).
//
// Beyond keepalived: a main thread that runs past RLIMIT_RTTIME's soft limit without sleeping is demoted, not killed.
// The limit exists to stop a runaway real-time process taking the CPU; demoting it does that too, and a killed VRRP
// child is a false state change. The addon's native SIGXCPU handler switches the thread to SCHED_OTHER at once (JS
// cannot run while V8 collects garbage, the usual long run), the warning is logged on the event loop, and once the
// thread has slept it goes real-time again. The soft limit is keepalived's half, so the demotion comes at the tick
// at which keepalived's process would be killed, or before it; the kernel's hard limit, the backstop should the
// handler not run, is raised where needed to leave the handler 100 ms past the kernel's first check (rt-demotion.ts:
// one tick, then three, were not enough in a TCG guest).
//
// Only the main thread goes real-time, with its one companion: the VRRP engine's advert sender (shell.ts), a thread
// that wakes only to put the next adverts on the wire at their deadline and takes one priority above the main thread,
// so that it runs at once even while the main thread runs on its CPU. sched_setscheduler(0) changes the calling
// thread, and the main thread is the one that runs the event loop and the timers. V8's helper threads (concurrent
// GC, compilation) and libuv's pool stay SCHED_OTHER: as real-time threads they would fall under RLIMIT_RTTIME (a long concurrent mark
// would get the process SIGKILLed) and could take the CPU from the main thread on a 2-core machine.
import { readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { ksock, MLOCK_ONFAULT, RLIMIT_RTTIME, SCHED_OTHER, SCHED_RESET_ON_FORK, SCHED_RR } from '../net/ksock.js';
import type { GlobalDefs } from '../config/model/index.js';
import { errorFields, type Logger } from './log.js';
import { demotionLogDecision, demotionMessage, ranAtLeastMs, rttimeKernelHardLimitUs, rttimeSoftLimitUs, type DemotionLogState } from './rt-demotion.js';

export type ProcessRole = 'vrrp' | 'checker';

interface RoleSettings { rtPriority?: number; rlimitRttimeUs: number; nice?: number; noSwap: boolean }

function settingsOf(role: ProcessRole, g: GlobalDefs): RoleSettings {
  return role === 'vrrp'
    ? { rtPriority: g.vrrpRtPriority, rlimitRttimeUs: g.vrrpRlimitRttimeUs, nice: g.vrrpProcessNice, noSwap: g.vrrpNoSwap }
    : { rtPriority: g.checkerRtPriority, rlimitRttimeUs: g.checkerRlimitRttimeUs, nice: g.checkerProcessNice, noSwap: g.checkerNoSwap };
}

/** The real-time state of this process's main thread: what to restore after a demotion. */
interface Realtime {
  role: ProcessRole;
  priority: number;
  rttimeUs: number;
  softUs: number;
  /** The hard limit the kernel is given (≥ rttimeUs: rt-demotion.ts). */
  kernelHardUs: number;
  tickUs: number;
  tid: number;
  /** The thread's nice value before it went real-time: a demotion runs it at DEMOTED_NICE, promotion restores this. */
  nice: number;
  log: Logger;
  /** Set while demoted: waiting for the thread to have slept before it goes real-time again. */
  repromote?: NodeJS.Timeout;
}

/**
 * The nice value of a demoted thread until it sleeps: the highest of normal scheduling, so it still runs ahead of
 * ordinary load but, unlike at SCHED_RR, cannot take a CPU from it. At nice 0 a demoted VRRP child under 6 busy loops on
 * 2 cores waited its turn among them (bench/advert-jitter.ts: 7 false state changes in 60 s, master silent 113 ms).
 */
const DEMOTED_NICE = -20;

/** The longest wait between checks that a demoted thread has slept (it stays at DEMOTED_NICE meanwhile). */
const REPROMOTE_MAX_WAIT_MS = 32;

let realtime: Realtime | undefined;
/** Threads that follow the main thread's scheduling (the advert sender): real-time one priority above it, else its nice. */
const companions: number[] = [];
let companionNice: number | undefined;
let demotionLog: DemotionLogState = { loggedTotal: 0 };
/** The SIGXCPU guard was armed once: the demotion count is reported from then on. */
let guardArmed = false;

/** Applies the child's global_defs process settings; `quiet` (after a reload) logs only failures. */
export function applyProcessPriorities(role: ProcessRole, g: GlobalDefs, log: Logger, quiet = false): void {
  const s = settingsOf(role, g);
  if (s.rtPriority !== undefined) applyRealtime(role, s.rtPriority, s.rlimitRttimeUs, log, quiet);
  else {
    leaveRealtime(log); // a reload that kept the thread real-time (realtimeGuarded) and dropped *_rt_priority
    applyNice(role, s.nice, log, quiet);
  }
  if (s.noSwap && !quiet) applyNoSwap(role, log);
}

/**
 * The VRRP child runs without transparent huge pages (prctl PR_SET_THP_DISABLE), whatever the system's setting
 * (Debian 12's kernel: `always`). khugepaged collapses a process's pages into a huge page with the process's mmap
 * lock held for writing, and every page fault of every one of its threads waits meanwhile: in a guest of Debian's
 * kernel under TCG a collapse blocked the VRRP child's event loop and its advert sender for ~450 ms, the one advert
 * late in a 50,000-server reload (bench/scale-50k.ts --trace-vrrp). The child's heap is tens of MB: huge pages buy it
 * nothing measurable. What it forks (notify and track scripts) inherits the setting.
 */
export function disableHugePages(log: Logger): void {
  try {
    ksock().thpDisable?.();
  } catch (e) {
    log.warn(errorFields(e), `cannot turn transparent huge pages off for this process: ${(e as Error).message}`);
  }
}

/** Demotions at RLIMIT_RTTIME's soft limit so far (absent when the process never ran real-time with a limit). */
export function realtimeDemotions(): number | undefined {
  return guardArmed ? ksock().rtDemotions?.() ?? 0 : undefined;
}

function applyRealtime(role: ProcessRole, prio: number, rttimeUs: number, log: Logger, quiet: boolean): void {
  const k = ksock();
  const guarded = rttimeUs > 0 && k.rtGuard !== undefined && k.schedSetRealtime !== undefined;
  const tickUs = k.clockTickUs?.() ?? 0;
  const softUs = rttimeSoftLimitUs(rttimeUs);
  const kernelHardUs = guarded ? rttimeKernelHardLimitUs(rttimeUs, softUs, tickUs) : rttimeUs;
  const tid = k.gettid();
  const nice = realtime?.tid === tid ? realtime.nice : getPriority(tid);
  if (guarded) {
    // Armed before the switch: from the first tick at SCHED_RR a long burst must find the handler in place.
    k.rtGuard!([tid], onDemoted, DEMOTED_NICE);
    guardArmed = true;
    realtime = { role, priority: prio, rttimeUs, softUs, kernelHardUs, tickUs, tid, nice, log };
  }
  try {
    if (guarded) k.schedSetRealtime!(SCHED_RR | SCHED_RESET_ON_FORK, prio, softUs, kernelHardUs);
    else k.schedSetScheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, prio);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    realtime = undefined;
    if (err.syscall !== 'setrlimit') {
      log.warn({ ...errorFields(e), rtPriority: prio }, `${role}_rt_priority ${prio}: cannot set real-time scheduling: ${err.message}`);
      return;
    }
    log.warn({ ...errorFields(e), rlimitRttimeUs: rttimeUs }, `${role}_rlimit_rttime ${rttimeUs}: cannot set RLIMIT_RTTIME: ${err.message}`);
    return applyRealtime(role, prio, 0, log, quiet);
  }
  realtime ??= { role, priority: prio, rttimeUs: 0, softUs: 0, kernelHardUs: 0, tickUs, tid, nice, log };
  for (const c of companions) companionRealtime(c, prio, log);
  if (!quiet) log.info({ rtPriority: prio }, `${role}_rt_priority ${prio}: main thread scheduled SCHED_RR${companions.length ? `, the advert sender at ${companionPriority(prio)}` : ''}`);
  if (!rttimeUs || guarded) {
    if (rttimeUs && !quiet) {
      log.info({ rlimitRttimeUs: rttimeUs, softUs, hardUs: kernelHardUs, tickUs }, `${role}_rlimit_rttime ${rttimeUs}: RLIMIT_RTTIME soft ${softUs} µs, hard ${kernelHardUs} µs ` +
        `(a run past the soft limit without sleeping demotes the process to normal scheduling until it sleeps, instead of the kernel's SIGKILL at the hard limit` +
        `${kernelHardUs > rttimeUs ? `, raised from ${rttimeUs} µs so that a thread late back from the kernel still gets the demotion first` : ''})`);
    }
    return;
  }
  // An addon built before the guard: keepalived's limits (the kernel may SIGKILL the child without a SIGXCPU first).
  try {
    k.setrlimit(RLIMIT_RTTIME, softUs, rttimeUs);
    if (!quiet) log.warn({ rlimitRttimeUs: rttimeUs }, `${role}_rlimit_rttime ${rttimeUs}: RLIMIT_RTTIME soft ${softUs} µs, hard ${rttimeUs} µs; the socket addon predates the SIGXCPU demotion (rebuild it): a long run is SIGKILLed`);
  } catch (e) {
    log.warn({ ...errorFields(e), rlimitRttimeUs: rttimeUs }, `${role}_rlimit_rttime ${rttimeUs}: cannot set RLIMIT_RTTIME: ${(e as Error).message}`);
  }
}

/**
 * A thread that follows the main thread's scheduling from now on (the VRRP engine's advert sender): made real-time
 * at once when the main thread is, else given the process's nice value.
 */
export function addRealtimeCompanion(tid: number, log: Logger): void {
  companions.push(tid);
  if (realtime) companionRealtime(tid, realtime.priority, log);
  else if (companionNice !== undefined) companionSetNice(tid, companionNice, log);
}

/** One above the main thread: the sender's wake-up preempts the main thread rather than queueing behind it. */
const companionPriority = (prio: number): number => Math.min(prio + 1, 99);

function companionRealtime(tid: number, prio: number, log: Logger): void {
  try {
    ksock().schedSetScheduler(tid, SCHED_RR | SCHED_RESET_ON_FORK, companionPriority(prio));
  } catch (e) {
    log.warn({ ...errorFields(e), tid }, `advert sender thread ${tid}: cannot set real-time scheduling: ${(e as Error).message}`);
  }
}

function companionSetNice(tid: number, nice: number, log: Logger): void {
  try {
    setPriority(tid, nice);
  } catch (e) {
    log.warn({ ...errorFields(e), tid, nice }, `advert sender thread ${tid}: cannot set the nice value ${nice}: ${(e as Error).message}`);
  }
}

/**
 * On the event loop after the native SIGXCPU handler demoted the main thread: warn (rate-limited), then wait until
 * the thread has slept once (the burst that ran past the limit is over) and make it real-time again.
 */
function onDemoted(): void {
  const rt = realtime;
  const total = ksock().rtDemotions?.() ?? 0;
  if (!rt || rt.repromote) return;
  const d = demotionLogDecision(demotionLog, performance.now(), total);
  demotionLog = d.next;
  if (d.log) {
    rt.log.warn({ signal: 'SIGXCPU', rtDemotions: total, rlimitRttimeUs: rt.rttimeUs },
      demotionMessage(rt.role, rt.rttimeUs, ranAtLeastMs(rt.softUs, rt.tickUs), total, d.unlogged));
  }
  const slept0 = voluntarySwitches(rt.tid);
  // The first check 1 ms on: the event loop's wait for that timer is the sleep, natively. Where a 1 ms wait ends
  // before the thread leaves the CPU (seen in a TCG guest: the loop read /proc every ~5 ms for 50-66 ms, demoted, never
  // having blocked), the wait doubles until one blocks, up to REPROMOTE_MAX_WAIT_MS.
  let waitMs = 1;
  const check = () => {
    rt.repromote = undefined;
    if (realtime !== rt) return;
    const slept = voluntarySwitches(rt.tid);
    if (slept !== undefined && slept === slept0) {
      waitMs = Math.min(waitMs * 2, REPROMOTE_MAX_WAIT_MS);
      rt.repromote = setTimeout(check, waitMs);
      return;
    }
    try {
      ksock().schedSetRealtime!(SCHED_RR | SCHED_RESET_ON_FORK, rt.priority, rt.softUs, rt.kernelHardUs);
      restoreNice(rt);
      rt.log.debug({ rtPriority: rt.priority }, `${rt.role}_rt_priority ${rt.priority}: back to SCHED_RR`);
    } catch (e) {
      realtime = undefined;
      rt.log.warn({ ...errorFields(e), rtPriority: rt.priority }, `${rt.role}_rt_priority ${rt.priority}: cannot set real-time scheduling again: ${(e as Error).message}`);
    }
  };
  rt.repromote = setTimeout(check, 1);
}

/** The thread's own nice value again (a demotion set DEMOTED_NICE; at SCHED_RR it does not count, at SCHED_OTHER it does). */
function restoreNice(rt: Realtime): void {
  try {
    setPriority(rt.tid, rt.nice);
  } catch (e) {
    rt.log.warn({ ...errorFields(e), nice: rt.nice }, `${rt.role}_rt_priority: cannot restore the nice value ${rt.nice}: ${(e as Error).message}`);
  }
}

/** The thread's voluntary context switches (it blocked that many times), from /proc. */
function voluntarySwitches(tid: number): number | undefined {
  try {
    const m = /^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`/proc/self/task/${tid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function applyNice(role: ProcessRole, nice: number | undefined, log: Logger, quiet: boolean): void {
  if (nice === undefined) return;
  companionNice = nice;
  for (const c of companions) companionSetNice(c, nice, log);
  try {
    setPriority(0, nice);
    if (!quiet) log.info({ nice }, `${role}_priority ${nice}: process nice value set`);
  } catch (e) {
    log.warn({ ...errorFields(e), nice }, `${role}_priority ${nice}: cannot set the process nice value: ${(e as Error).message}`);
  }
}

// keepalived calls mlockall(MCL_CURRENT|MCL_FUTURE). In a Node process that aborts V8: V8 gives pages back with
// madvise(MADV_DONTNEED), which fails with EINVAL on locked memory, and V8 treats the failure as fatal (measured on
// Node 20: at exit, and at run time once code space shrinks after a GC). So the child locks what V8 never hands
// back: every file-backed mapping (node itself, the shared libraries, the addon: the code the advert path runs) and
// the main thread's stack. Anonymous memory (V8's heap) stays unlocked; without swap, as here, it cannot be paged out
// anyway, while file-backed pages can always be evicted and read back on the next fault. MLOCK_ONFAULT, as
// keepalived's MCL_ONFAULT: a page is locked once used, so locking does not read all of node's 90 MB into memory.
function applyNoSwap(role: ProcessRole, log: Logger): void {
  const k = ksock();
  let bytes = 0;
  const failed: string[] = [];
  for (const m of lockableMappings(readFileSync('/proc/self/maps', 'utf8'))) {
    try {
      k.mlock2(m.start, m.end - m.start, MLOCK_ONFAULT);
      bytes += m.end - m.start;
    } catch (e) {
      failed.push(`${m.name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (failed.length) log.warn({ failed: failed.length }, `${role}_no_swap: cannot lock ${failed.length} mapping(s): ${failed.slice(0, 3).join(', ')}`);
  log.info({ lockedKb: Math.round(bytes / 1024) }, `${role}_no_swap: ${Math.round(bytes / 1024)} kB of mapped files and stack locked in memory (pages locked as they are used)`);
}

export interface Mapping { start: number; end: number; name: string }

/** The /proc/<pid>/maps lines applyNoSwap locks: mapped files (not deleted ones) and [stack]. Pure. */
export function lockableMappings(maps: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of maps.split('\n')) {
    const f = line.trim().split(/\s+/);
    const name = f.slice(5).join(' ');
    if (f.length < 6 || !(name === '[stack]' || (name.startsWith('/') && !name.endsWith(' (deleted)')))) continue;
    if (f[1]!.startsWith('---')) continue; // guard pages and unmapped holes of a library: nothing to lock
    const [a, b] = f[0]!.split('-');
    out.push({ start: parseInt(a!, 16), end: parseInt(b!, 16), name });
  }
  return out;
}

/**
 * Whether a long run of the main thread is demoted rather than killed: real-time with a limit and the addon's SIGXCPU
 * handler armed. keepalived reloads at normal scheduling, since a long run at SCHED_RR would get it killed; where
 * this holds, the VRRP child stays real-time through a reload instead (vrrp-child.ts), so adverts due meanwhile are
 * not sent behind ordinary load (a 1,000 × 10 guest bench: one advert 74 ms late as the reload ran at nice 0).
 */
export function realtimeGuarded(): boolean {
  return guardArmed && realtime !== undefined && realtime.rttimeUs > 0;
}

/** Back to SCHED_OTHER (keepalived reloads at normal scheduling: a config read must not hit RLIMIT_RTTIME). */
export function leaveRealtime(log: Logger): void {
  const rt = realtime;
  if (!rt) return;
  if (rt.repromote) clearTimeout(rt.repromote);
  rt.repromote = undefined;
  try {
    ksock().schedSetScheduler(0, SCHED_OTHER, 0);
    restoreNice(rt);
    realtime = undefined;
    for (const c of companions) {
      ksock().schedSetScheduler(c, SCHED_OTHER, 0);
      companionSetNice(c, companionNice ?? rt.nice, log);
    }
  } catch (e) {
    log.warn(errorFields(e), `cannot leave real-time scheduling for the reload: ${(e as Error).message}`);
  }
}
