// The Node (V8) flags a child is forked with, from global_defs. Its own module, free of the addon and the logger,
// so the launcher's early VRRP fork and the parent's fork (which compares the two) ask the same rules.
import type { GlobalDefs } from '../config/model/index.js';
// Type only: erased at run time, so this module still loads neither the addon nor the logger.
import type { ProcessRole } from './process-priority.js';

/**
 * --no-memory-reducer for every VRRP child. V8's memory reducer runs a full mark-compact a few seconds after start-up
 * (and again whenever the process idles), as incremental steps queued back to back on the loop plus a final pause:
 * 2 and 4.6 ms at 8.3 and 8.9 s after start on a quiet machine, 17–30 ms under 6 busy loops on 2 cores, when the
 * master's advert waits behind it. Measured (bench/advert-jitter.ts --part states --state-load busy, advert_int 0.01,
 * 60 s; GCs logged by a PerformanceObserver in the VRRP child): each master gap past the 36.1 ms master-down interval,
 * and so each false state change, ended within 4 ms of one of those mark-compacts. Without the reducer, old-space
 * collections happen only when the heap grows, which a running VRRP child's hardly does (+0.1 MB in 120 s at
 * advert_int 0.01; its scavenges take 0.3 ms). The checker keeps V8's defaults: nothing in it waits on a 10 ms clock.
 *
 * A real-time child also runs with --single-threaded-gc. V8's GC hands work to helper threads and the main thread
 * waits for them; those threads are SCHED_OTHER, so under CPU contention a real-time main thread waits behind every
 * busy process (priority inversion). Measured (same bench, 30 s): vrrp_rt_priority 50 alone gave 1 and 10 false state
 * changes with the master silent for up to 650 ms; with --single-threaded-gc 0, longest gap 25 ms. A real-time checker
 * gets --no-memory-reducer too: the reducer's steps and pause, longer together than RLIMIT_RTTIME's 10 ms without a
 * blocking call, had the child SIGKILLed ~8 s after every start.
 *
 * Read at each (re)start of a child: a reload that adds *_rt_priority takes effect on the running child without them
 * until it is restarted. V8 accepts the bundles' code caches under these flags (they are not in its cache check).
 */
export function childExecArgv(role: ProcessRole, g: GlobalDefs): string[] {
  const rt = role === 'vrrp' ? g.vrrpRtPriority : g.checkerRtPriority;
  if (rt !== undefined) return ['--single-threaded-gc', '--no-memory-reducer'];
  return role === 'vrrp' ? ['--no-memory-reducer'] : [];
}
