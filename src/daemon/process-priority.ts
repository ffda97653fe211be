// keepalived's per-child process settings from global_defs, each child applying its own once it has started (logged once;
// start-up under SCHED_RR would run past RLIMIT_RTTIME): vrrp_/checker_rt_priority (SCHED_RR with SCHED_RESET_ON_FORK, so scripts the child runs start as normal
// processes; RLIMIT_RTTIME from *_rlimit_rttime, soft = half, SIGXCPU logged), else vrrp_/checker_priority (nice),
// and vrrp_/checker_no_swap (mapped files and the stack locked; see applyNoSwap for why not mlockall). Like
// keepalived, a reload runs at normal scheduling (leaveRealtime) and the settings are applied again after it.
// A real-time child runs with --single-threaded-gc (childExecArgv, which the parent passes when it forks it).
//
// Only the main thread goes real-time: sched_setscheduler(0) changes the calling thread, and the main thread is the
// one that runs the event loop, the timers and every advert. V8's helper threads (concurrent GC, compilation) and
// libuv's pool stay SCHED_OTHER: as real-time threads they would fall under RLIMIT_RTTIME (a long concurrent mark
// would get the process SIGKILLed) and could take the CPU from the main thread on a 2-core machine.
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { ksock, MLOCK_ONFAULT, RLIMIT_RTTIME, SCHED_OTHER, SCHED_RESET_ON_FORK, SCHED_RR } from '../net/ksock.js';
import type { GlobalDefs } from '../config/model/index.js';
import { errorFields, type Logger } from './log.js';

export type ProcessRole = 'vrrp' | 'checker';

interface RoleSettings { rtPriority?: number; rlimitRttimeUs: number; nice?: number; noSwap: boolean }

function settingsOf(role: ProcessRole, g: GlobalDefs): RoleSettings {
  return role === 'vrrp'
    ? { rtPriority: g.vrrpRtPriority, rlimitRttimeUs: g.vrrpRlimitRttimeUs, nice: g.vrrpProcessNice, noSwap: g.vrrpNoSwap }
    : { rtPriority: g.checkerRtPriority, rlimitRttimeUs: g.checkerRlimitRttimeUs, nice: g.checkerProcessNice, noSwap: g.checkerNoSwap };
}

let realtime = false;
let sigxcpuRole: ProcessRole | undefined;

/** Applies the child's global_defs process settings; `quiet` (after a reload) logs only failures. */
export function applyProcessPriorities(role: ProcessRole, g: GlobalDefs, log: Logger, quiet = false): void {
  const s = settingsOf(role, g);
  if (s.rtPriority !== undefined) applyRealtime(role, s.rtPriority, s.rlimitRttimeUs, log, quiet);
  else applyNice(role, s.nice, log, quiet);
  if (s.noSwap && !quiet) applyNoSwap(role, log);
}

function applyRealtime(role: ProcessRole, prio: number, rttimeUs: number, log: Logger, quiet: boolean): void {
  const k = ksock();
  try {
    k.schedSetScheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, prio);
  } catch (e) {
    log.warn({ ...errorFields(e), rtPriority: prio }, `${role}_rt_priority ${prio}: cannot set real-time scheduling: ${(e as Error).message}`);
    return;
  }
  realtime = true;
  if (!quiet) log.info({ rtPriority: prio }, `${role}_rt_priority ${prio}: main thread scheduled SCHED_RR`);
  if (!rttimeUs) return;
  if (sigxcpuRole === undefined) {
    // Without a handler SIGXCPU at the soft limit would kill the process; keepalived logs it and carries on.
    sigxcpuRole = role;
    process.on('SIGXCPU', () => log.warn({ signal: 'SIGXCPU' }, `${role} process has used too much CPU time, ${role}_rlimit_rttime may need to be increased`));
  }
  try {
    k.setrlimit(RLIMIT_RTTIME, Math.floor(rttimeUs / 2), rttimeUs);
    if (!quiet) log.info({ rlimitRttimeUs: rttimeUs }, `${role}_rlimit_rttime ${rttimeUs}: RLIMIT_RTTIME soft ${Math.floor(rttimeUs / 2)} µs, hard ${rttimeUs} µs`);
  } catch (e) {
    log.warn({ ...errorFields(e), rlimitRttimeUs: rttimeUs }, `${role}_rlimit_rttime ${rttimeUs}: cannot set RLIMIT_RTTIME: ${(e as Error).message}`);
  }
}

function applyNice(role: ProcessRole, nice: number | undefined, log: Logger, quiet: boolean): void {
  if (nice === undefined) return;
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
 * V8 flags for a child that will run real-time: --single-threaded-gc and --no-memory-reducer. V8's GC hands work to helper threads and
 * the main thread waits for them; those threads are SCHED_OTHER, so under CPU contention a real-time main thread
 * waits behind every busy process (priority inversion). Measured (bench/advert-jitter.ts --part states, advert_int
 * 0.01, 6 busy loops on 2 cores, 30 s): vrrp_rt_priority 50 alone gave 1 and 10 false state changes with the
 * master silent for up to 650 ms; with --single-threaded-gc 0, longest gap 25 ms. Read at each (re)start of the
 * child: a reload that adds *_rt_priority takes effect on the running child without it until it is restarted.
 */
export function childExecArgv(role: ProcessRole, g: GlobalDefs): string[] {
  const rt = role === 'vrrp' ? g.vrrpRtPriority : g.checkerRtPriority;
  // --no-memory-reducer: V8's memory reducer runs a full mark-compact a few seconds after start-up and whenever the
  // process idles, as incremental steps queued back to back on the loop plus a final pause (measured: 8 ms of steps
  // + 6 ms), longer together than RLIMIT_RTTIME's 10 ms without a blocking call: the child was SIGKILLed ~8 s after
  // every start at advert_int 0.01. Without it, old-space GCs happen only when the heap grows, which an idle
  // VRRP child's hardly does.
  return rt === undefined ? [] : ['--single-threaded-gc', '--no-memory-reducer'];
}

/** Back to SCHED_OTHER (keepalived reloads at normal scheduling: a config read must not hit RLIMIT_RTTIME). */
export function leaveRealtime(log: Logger): void {
  if (!realtime) return;
  try {
    ksock().schedSetScheduler(0, SCHED_OTHER, 0);
    realtime = false;
  } catch (e) {
    log.warn(errorFields(e), `cannot leave real-time scheduling for the reload: ${(e as Error).message}`);
  }
}
