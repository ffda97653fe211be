// Pure rules of a real-time child's RLIMIT_RTTIME guard (process-priority.ts is the shell): which soft and hard limits make
// the kernel send SIGXCPU before its SIGKILL, and when a demotion is worth a warning.
//
// How the kernel counts (kernel/sched/rt.c watchdog(), kernel/time/posix-cpu-timers.c check_thread_timers()): a
// real-time thread's count is the number of scheduler ticks that found it running since it last woke from a sleep.
// Once the count exceeds ceil(min(soft, hard) / tick) the limits are checked against count × tick: at or past the
// hard limit SIGKILL, else at or past the soft limit SIGXCPU (and the kernel raises the soft limit by 1 s).
// keepalived's soft = hard / 2 at HZ=250 (4 ms ticks) with the default 10 ms: checked at 3 ticks = 12 ms ≥ 10 ms,
// so SIGKILL comes with no SIGXCPU before it (measured: 10 of 10).
//
// The soft limit here is keepalived's own half, so the SIGXCPU that demotes the thread comes at the tick count at
// which keepalived's process would be killed, or before it: the same run budget, a demotion instead of a death.
// (A lower soft limit, the largest that got SIGXCPU one tick before the configured hard limit, demoted at two
// ticks: 4 ms of running. In a TCG guest one advert's work took ~5 ms of wall time, so a quarter of the adverts
// were demoted midway and sent late behind normal processes.)
//
// The kernel checks in task work, on the thread's next return to user mode after the tick that armed the check,
// and the SIGXCPU handler runs on that same return. A thread inside the kernel (a page fault, a syscall, a late
// tick followed by the next aligned one) can see further ticks counted before it gets there. With one tick between
// the first check and the hard limit, a real-time VRRP child in a TCG guest was SIGKILLed with no SIGXCPU at all,
// 13.7 ms after it went real-time (kernel trace: SIGKILL from posix_cpu_timers_work on return from a timer
// interrupt). So the kernel's hard limit is raised to leave the handler HANDLER_MARGIN_US past the first check:
// the SIGKILL stays the backstop for a handler that cannot run. 12 ms (three ticks) was not enough either: in the
// 50,000-server bench a real-time VRRP child was SIGKILLed once more (a 39 s gap in its adverts while the parent
// respawned it), with every demotion before it at the third tick. Only a thread back from the kernel late gets the
// SIGKILL verdict (in user mode every tick returns to it and the check runs), and TCG stretches kernel sections tens
// of times (zeroing a huge page, tearing down mappings); so the margin is 100 ms. The cost is only that a thread
// whose handler cannot demote it runs 100 ms real-time before the kernel kills it, not 12.

/** The RLIMIT_RTTIME soft limit (µs) for a configured limit of `hardUs`: keepalived's half. */
export function rttimeSoftLimitUs(hardUs: number): number {
  return Math.floor(hardUs / 2);
}

/** The tick count past which the kernel checks the limits: ceil(min(soft, hard) / tick) (rt.c watchdog()). */
function checkAfterTicks(softUs: number, hardUs: number, tickUs: number): number {
  return Math.ceil(Math.min(softUs, hardUs) / tickUs);
}

/** How long past the kernel's first check the SIGXCPU handler may take to run before the SIGKILL (µs). */
export const HANDLER_MARGIN_US = 100_000;

/**
 * The hard limit given to the kernel for a configured `hardUs`: at least `HANDLER_MARGIN_US` (and three ticks)
 * past the tick of the first check for the soft limit `softUs`, so a thread that reaches user mode late still gets
 * SIGXCPU first. The configured value when it is already that far.
 */
export function rttimeKernelHardLimitUs(hardUs: number, softUs: number, tickUs: number): number {
  if (!(tickUs > 0) || hardUs <= 0) return hardUs;
  const firstCheckUs = (checkAfterTicks(softUs, hardUs, tickUs) + 1) * tickUs;
  return Math.max(hardUs, firstCheckUs + Math.max(HANDLER_MARGIN_US, 3 * tickUs));
}

/**
 * What the kernel does to a thread that has run `ticks` ticks without sleeping (count as above), when each check
 * runs `lateTicks` ticks after the tick that armed it (the thread still in the kernel meanwhile). For tests.
 */
export function kernelRttimeVerdict(softUs: number, hardUs: number, tickUs: number, ticks: number, lateTicks = 0): 'none' | 'SIGXCPU' | 'SIGKILL' {
  for (let armed = 1; armed <= ticks; armed++) {
    if (armed <= checkAfterTicks(softUs, hardUs, tickUs)) continue;
    const count = armed + lateTicks; // the check sees the count of the tick before the thread's return to user mode
    if (count > ticks) return 'none';
    const ran = count * tickUs;
    if (ran >= hardUs) return 'SIGKILL';
    if (ran >= softUs) return 'SIGXCPU'; // the guard demotes the thread here: it counts no further
  }
  return 'none';
}

/** The least the thread ran without sleeping when SIGXCPU came (ms): ceil(soft/tick) whole ticks. */
export function ranAtLeastMs(softUs: number, tickUs: number): number {
  return tickUs > 0 ? (Math.max(1, Math.ceil(softUs / tickUs)) * tickUs) / 1000 : softUs / 1000;
}

export interface DemotionLogState {
  /** When the last warning was logged (ms, the shell's clock). */
  lastLoggedMs?: number;
  /** The demotion total at the last warning. */
  loggedTotal: number;
}

export interface DemotionLogDecision {
  log: boolean;
  /** Demotions since the last warning that were not logged (rate limit). */
  unlogged: number;
  next: DemotionLogState;
}

/** One warning per demotion, at most one per `intervalMs`; the next one says how many were not logged. */
export function demotionLogDecision(state: DemotionLogState, nowMs: number, total: number, intervalMs = 10_000): DemotionLogDecision {
  const unlogged = Math.max(0, total - state.loggedTotal - 1);
  if (state.lastLoggedMs !== undefined && nowMs - state.lastLoggedMs < intervalMs) return { log: false, unlogged, next: state };
  return { log: true, unlogged, next: { lastLoggedMs: nowMs, loggedTotal: total } };
}

/** The warning; starts with keepalived's SIGXCPU line so operators who grep for it find it. */
export function demotionMessage(role: 'vrrp' | 'checker', rttimeUs: number, ranMs: number, total: number, unlogged: number): string {
  const who = role === 'vrrp' ? 'VRRP' : 'Checker';
  return `${who} process has used too much CPU time, ${role}_rlimit_rttime may need to be increased: it ran more than ${ranMs} ms ` +
    `without sleeping at real-time priority (${role}_rlimit_rttime ${rttimeUs}): demoted to normal scheduling until it sleeps ` +
    `(${total} time${total === 1 ? '' : 's'} so far${unlogged ? `, ${unlogged} not logged` : ''})`;
}
