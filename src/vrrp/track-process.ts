// vrrp_track_process, the pure part (keepalived core/track_process.c): which processes match a tracker, how many
// run, and when a tracker gains or loses its quorum, with keepalived's debouncing (fork_delay on gains by fork,
// terminate_delay on losses by exit). Process facts and the time come in; status changes and the next deadline
// come out. The shell (src/notify/process-monitor.ts) reads /proc and the kernel's process connector.
import type { VrrpTrackProcess } from '../config/model/index.js';

export type ProcessTrackerSpec = Pick<VrrpTrackProcess,
  'name' | 'process' | 'params' | 'paramMatch' | 'fullCommand' | 'quorum' | 'quorumMax' | 'terminateDelayMs' | 'forkDelayMs'>;

/** What the shell read about one process. */
export interface ProcessFacts {
  pid: number;
  /** /proc/PID/comm (or stat's second field): at most 15 characters. */
  comm?: string;
  /** /proc/PID/cmdline split at NULs; empty for kernel threads and zombies. */
  argv?: string[];
}

/** Which facts the trackers need: reading cmdline touches the process's memory, so it is read only when needed. */
export function factsNeeded(specs: readonly ProcessTrackerSpec[]): { comm: boolean; cmdline: boolean } {
  return { comm: specs.some((s) => !s.fullCommand), cmdline: specs.some((s) => s.fullCommand) };
}

/** keepalived's check_params over argv[1..] (it compares NUL-separated bytes; whole words here are the same). */
function paramsMatch(spec: ProcessTrackerSpec, params: readonly string[]): boolean {
  const want = spec.params;
  switch (spec.paramMatch) {
    case 'none': return true;
    case 'exact': return params.length === want.length && want.every((p, i) => params[i] === p);
    case 'partial': return params.length >= want.length && want.every((p, i) => params[i] === p);
    case 'initial': {
      if (params.length < want.length) return false;
      const last = want.length - 1;
      return want.every((p, i) => (i === last ? params[i]!.startsWith(p) : params[i] === p));
    }
  }
}

/**
 * Whether a process counts for a tracker: its comm name equals `process`, or with full_command its argv[0] does
 * (a path is compared as written: `/usr/bin/sleep` does not match a `sleep` started through $PATH), then the
 * parameters as param_match says.
 */
export function processMatches(spec: ProcessTrackerSpec, facts: ProcessFacts): boolean {
  if (!spec.fullCommand) return facts.comm !== undefined && facts.comm === spec.process;
  const argv = facts.argv;
  if (!argv?.length || argv[0] !== spec.process) return false;
  return paramsMatch(spec, argv.slice(1));
}

/** A tracker's quorum changed: `up` is keepalived's have_quorum. */
export interface QuorumChange {
  name: string;
  up: boolean;
}

interface Counter {
  spec: ProcessTrackerSpec;
  count: number;
  up: boolean;
  /** Deadline of a pending gain (fork_delay). */
  forkDue?: number;
  /** Deadline of a pending loss (terminate_delay). */
  terminateDue?: number;
}

const inRange = (c: Counter): boolean => c.count >= c.spec.quorum && c.count <= c.spec.quorumMax;

/**
 * Counts matching processes per tracker from a /proc scan and then from process events. Each process is counted
 * at most once per tracker (keepalived counts a forked child that execs the same program twice until it exits;
 * here it counts once).
 */
export class ProcessTracking {
  private readonly counters = new Map<string, Counter>();
  /** pid → the trackers it counts for. */
  private readonly pids = new Map<number, Set<string>>();

  constructor(specs: readonly ProcessTrackerSpec[]) {
    for (const spec of specs) this.counters.set(spec.name, { spec, count: 0, up: false });
  }

  get specs(): ProcessTrackerSpec[] {
    return [...this.counters.values()].map((c) => c.spec);
  }

  /** Current status: count and whether in quorum, per tracker. */
  status(): Array<{ name: string; count: number; up: boolean }> {
    return [...this.counters.values()].map((c) => ({ name: c.spec.name, count: c.count, up: c.up }));
  }

  /** The start-up scan: counts set, quorum decided at once (no delays), every tracker reported. */
  scan(procs: readonly ProcessFacts[]): QuorumChange[] {
    this.recount(procs);
    for (const c of this.counters.values()) c.up = inRange(c);
    return [...this.counters.values()].map((c) => ({ name: c.spec.name, up: c.up }));
  }

  /**
   * A rescan after the connector lost messages (keepalived waits 1 s, then re-reads /proc): a tracker whose quorum
   * differs from the new count changes through its delay as a fork or an exit would.
   */
  rescan(procs: readonly ProcessFacts[], now: number): QuorumChange[] {
    this.recount(procs);
    const out: QuorumChange[] = [];
    for (const c of this.counters.values()) {
      c.forkDue = c.terminateDue = undefined;
      const want = inRange(c);
      if (want === c.up) continue;
      if (want && c.spec.forkDelayMs) c.forkDue = now + c.spec.forkDelayMs;
      else if (!want && c.spec.terminateDelayMs) c.terminateDue = now + c.spec.terminateDelayMs;
      else this.set(c, want, out);
    }
    return out;
  }

  /**
   * PROC_EVENT_EXEC (facts read from /proc after the event), or a comm change (facts with only `comm`): the process
   * is counted for the trackers it now matches and no longer for those it stopped matching. A comm change only
   * concerns trackers that compare comm. `facts` undefined = the process was gone before it could be read.
   */
  exec(facts: ProcessFacts | undefined, _now: number): QuorumChange[] {
    if (!facts) return [];
    const out: QuorumChange[] = [];
    const commOnly = facts.argv === undefined;
    for (const c of this.counters.values()) {
      if (commOnly && c.spec.fullCommand) continue;
      if (processMatches(c.spec, facts)) this.add(facts.pid, c, false, 0, out);
      else this.remove(facts.pid, c, false, 0, out);
    }
    this.forgetIfUntracked(facts.pid);
    return out;
  }

  /** PROC_EVENT_COMM: keepalived first drops the process from comm trackers whose name no longer matches. */
  comm(pid: number, comm: string, now: number): QuorumChange[] {
    return this.exec({ pid, comm }, now);
  }

  /** PROC_EVENT_FORK of a process (not a thread): the child counts wherever the parent does. */
  fork(parentPid: number, childPid: number, now: number): QuorumChange[] {
    const names = this.pids.get(parentPid);
    if (!names) return [];
    const out: QuorumChange[] = [];
    for (const n of names) this.add(childPid, this.counters.get(n)!, true, now, out);
    return out;
  }

  /** PROC_EVENT_EXIT of a process (not a thread). */
  exit(pid: number, now: number): QuorumChange[] {
    const names = this.pids.get(pid);
    if (!names) return [];
    const out: QuorumChange[] = [];
    for (const n of [...names]) this.remove(pid, this.counters.get(n)!, true, now, out);
    this.pids.delete(pid);
    return out;
  }

  /** Pending delays that have run out: the quorum is decided from the count at that moment. */
  tick(now: number): QuorumChange[] {
    const out: QuorumChange[] = [];
    for (const c of this.counters.values()) {
      if (c.forkDue !== undefined && c.forkDue <= now) { c.forkDue = undefined; this.set(c, inRange(c), out); }
      if (c.terminateDue !== undefined && c.terminateDue <= now) { c.terminateDue = undefined; this.set(c, inRange(c), out); }
    }
    return out;
  }

  nextDeadline(): number | undefined {
    let d: number | undefined;
    for (const c of this.counters.values()) for (const t of [c.forkDue, c.terminateDue]) if (t !== undefined && (d === undefined || t < d)) d = t;
    return d;
  }

  /** Number of processes followed (for logs and tests). */
  get trackedPids(): number {
    return this.pids.size;
  }

  private recount(procs: readonly ProcessFacts[]): void {
    this.pids.clear();
    for (const c of this.counters.values()) c.count = 0;
    for (const p of procs) {
      for (const c of this.counters.values()) {
        if (!processMatches(c.spec, p)) continue;
        c.count++;
        this.ref(p.pid).add(c.spec.name);
      }
    }
  }

  private ref(pid: number): Set<string> {
    let s = this.pids.get(pid);
    if (!s) this.pids.set(pid, (s = new Set()));
    return s;
  }

  private forgetIfUntracked(pid: number): void {
    if (this.pids.get(pid)?.size === 0) this.pids.delete(pid);
  }

  private set(c: Counter, up: boolean, out: QuorumChange[]): void {
    if (c.up === up) return;
    c.up = up;
    out.push({ name: c.spec.name, up });
  }

  /** One more process: crossing into [quorum, quorum_max] or above quorum_max (check_process / check_process_fork). */
  private add(pid: number, c: Counter, byFork: boolean, now: number, out: QuorumChange[]): void {
    const names = this.ref(pid);
    if (names.has(c.spec.name)) return;
    names.add(c.spec.name);
    c.count++;
    if (c.count !== c.spec.quorum && c.count !== c.spec.quorumMax + 1) return;
    if (c.terminateDue !== undefined) c.terminateDue = undefined; // a loss still pending is called off
    else if (byFork && c.spec.forkDelayMs) {
      c.forkDue ??= now + c.spec.forkDelayMs;
      return;
    }
    this.set(c, c.count === c.spec.quorum, out);
  }

  /** One process fewer: crossing below quorum or back into range from above (check_process_termination etc.). */
  private remove(pid: number, c: Counter, byExit: boolean, now: number, out: QuorumChange[]): void {
    const names = this.pids.get(pid);
    if (!names?.delete(c.spec.name)) return;
    const before = c.count--;
    if (before !== c.spec.quorum && c.count !== c.spec.quorumMax) return;
    if (c.forkDue !== undefined) c.forkDue = undefined; // a gain still pending is called off
    else if (byExit && c.spec.terminateDelayMs) {
      c.terminateDue ??= now + c.spec.terminateDelayMs;
      return;
    }
    this.set(c, c.count === c.spec.quorumMax, out);
  }
}
