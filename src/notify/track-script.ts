// vrrp_script: a periodic check script whose ok/failed status the VRRP engine tracks (weight ⇒ priority, weight 0
// ⇒ FAULT). Counter semantics from keepalived/vrrp/vrrp_scheduler.c (vrrp_script_child_thread, vrrp_init_script):
// `result` runs 0..rise+fall-1; the script is OK while result >= rise.
//   success: result < rise-1 → result++ (still failed);  otherwise result jumps to rise+fall-1, and it becomes OK
//            if it was at rise-1 (i.e. failed before).
//   failure: result > rise → result-- (still OK);  otherwise result = 0, and it becomes FAILED if it was at rise
//            (OK before) or this is the first result after start.
// At start (no init_fail) result = rise-1 and the status is 'init': the first result decides either way. With
// init_fail result = 0: it starts failed and needs `rise` successes.
// Unlike keepalived (#2126), a script that cannot be run counts as a failure (see run.ts).
import { EventEmitter } from 'node:events';
import { runScript, describeResult, scriptSucceeded, type ScriptResult } from './run.js';
import type { Logger } from 'pino';
import type { ScriptCommand } from './notify.js';

export type TrackScriptStatus = 'init' | 'ok' | 'failed';

export interface TrackScriptState {
  readonly rise: number;
  readonly fall: number;
  /** keepalived's vscript->result. */
  readonly result: number;
  /** No result seen yet since start (keepalived SCRIPT_INIT_STATE_INIT; init_fail starts as 'failed-init'). */
  readonly phase: 'init' | 'failed-init' | 'done';
}

export function initialTrackScriptState(cfg: { rise: number; fall: number; initFail: boolean }): TrackScriptState {
  const rise = Math.max(1, Math.trunc(cfg.rise));
  const fall = Math.max(1, Math.trunc(cfg.fall));
  return cfg.initFail ? { rise, fall, result: 0, phase: 'failed-init' } : { rise, fall, result: rise - 1, phase: 'init' };
}

export function trackScriptStatus(s: TrackScriptState): TrackScriptStatus {
  if (s.phase === 'init') return 'init';
  return s.result >= s.rise ? 'ok' : 'failed';
}

/** One script result applied to the counter. `changed` is true exactly where keepalived logs
 * "VRRP_Script(x) succeeded/failed" and updates priorities. Pure. */
export function nextScriptState(s: TrackScriptState, success: boolean): { state: TrackScriptState; changed: boolean; status: TrackScriptStatus } {
  const top = s.rise + s.fall - 1;
  let result = s.result;
  let changed = false;
  if (success) {
    if (result < s.rise - 1) result++;
    else if (result !== top) {
      if (result < s.rise) changed = true;
      result = top;
    }
  } else if (result > s.rise) {
    result--;
  } else {
    if (result === s.rise || s.phase === 'init') changed = true;
    result = 0;
  }
  const state: TrackScriptState = { rise: s.rise, fall: s.fall, result, phase: 'done' };
  return { state, changed, status: trackScriptStatus(state) };
}

export interface TrackScriptConfig {
  name: string;
  command: ScriptCommand;
  /** keepalived `interval` (default 1 s). */
  intervalMs: number;
  /** keepalived `timeout`; 0/absent = interval. */
  timeoutMs?: number;
  rise: number;
  fall: number;
  /** Carried for the engine (priority adjustment); the runner itself does not use it. */
  weight: number;
  reverse?: boolean;
  initFail: boolean;
}

export interface TrackScriptChange {
  name: string;
  status: 'ok' | 'failed';
  /** The run that caused it. */
  result: ScriptResult;
}

export interface TrackScriptRunnerEvents {
  change: [TrackScriptChange];
  result: [ScriptResult, TrackScriptState];
}

/** Runs the script every interval (first run at start(), like keepalived's initial event); skips a tick while the
 * previous run is still going; a timeout is a failure. Emits 'change' on ok/failed transitions and 'result' on
 * every completed run. */
export class TrackScriptRunner extends EventEmitter<TrackScriptRunnerEvents> {
  private state: TrackScriptState;
  private timer: NodeJS.Timeout | null = null;
  private current: { abort: AbortController; done: Promise<void> } | null = null;
  private lastExit: number | null | undefined = undefined;
  /** Runs skipped because the previous one was still running. */
  skipped = 0;

  constructor(readonly config: TrackScriptConfig, private readonly opts: { log?: Logger; captureBytes?: number } = {}) {
    super();
    this.state = initialTrackScriptState(config);
  }

  get status(): TrackScriptStatus {
    return trackScriptStatus(this.state);
  }

  get counter(): TrackScriptState {
    return this.state;
  }

  get running(): boolean {
    return this.timer !== null;
  }

  /** A run of the script is in progress (keepalived.data's `State = running`). */
  get executing(): boolean {
    return this.current !== null;
  }

  start(): void {
    if (this.timer !== null) return;
    const interval = Math.max(1, this.config.intervalMs);
    // Fixed rate from start, as keepalived re-arms the timer before launching the script.
    this.timer = setInterval(() => this.tick(), interval);
    this.tick();
  }

  /** Stop scheduling; a run in progress gets SIGTERM to its group (SIGKILL 2 s later) and is awaited. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const cur = this.current;
    if (cur) {
      cur.abort.abort();
      await cur.done;
    }
  }

  private tick(): void {
    if (this.current) {
      this.skipped++;
      this.opts.log?.info(`Track script ${this.config.name} is already running, expect idle - skipping run`);
      return;
    }
    const abort = new AbortController();
    const cmd = this.config.command;
    const spec = {
      argv: cmd.argv,
      timeoutMs: this.config.timeoutMs && this.config.timeoutMs > 0 ? this.config.timeoutMs : this.config.intervalMs,
      ...(cmd.shellCommand !== undefined ? { shellCommand: cmd.shellCommand } : {}),
      ...(cmd.uid !== undefined ? { uid: cmd.uid } : {}),
      ...(cmd.gid !== undefined ? { gid: cmd.gid } : {}),
    };
    const opts = { signal: abort.signal, killGraceMs: 2000, ...(this.opts.captureBytes ? { captureBytes: this.opts.captureBytes } : {}) };
    const done = runScript(spec, opts).then((r) => {
      this.current = null;
      // Results of a run we stopped are not news.
      if (abort.signal.aborted) return;
      this.apply(r);
    });
    this.current = { abort, done };
  }

  private apply(r: ScriptResult): void {
    if (r.exitCode !== this.lastExit && r.exitCode !== null) {
      this.opts.log?.info(`Script \`${this.config.name}\` now returning ${r.exitCode}`);
    }
    this.lastExit = r.exitCode;
    const next = nextScriptState(this.state, scriptSucceeded(r));
    this.state = next.state;
    this.emit('result', r, next.state);
    if (next.changed && next.status !== 'init') {
      const why = scriptSucceeded(r) ? '' : ` (${describeResult(r)})`;
      this.opts.log?.info(`VRRP_Script(${this.config.name}) ${next.status === 'ok' ? 'succeeded' : r.timedOut ? 'timed_out' : 'failed'}${why}`);
      this.emit('change', { name: this.config.name, status: next.status, result: r });
    }
  }
}
