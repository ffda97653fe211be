// keepalived's VRRP notify conventions (keepalived/vrrp/vrrp_notify.c) as pure functions, and a
// dispatcher that runs them in order per instance.
//
// Differences from keepalived, on purpose:
// - keepalived launches notify scripts fire-and-forget, so two notifies of one instance can overlap and finish out
//   of order (issue #996). Here every instance/group has its own queue: per-state script, then generic `notify`,
//   then the FIFO line, each finished before the next starts; independent instances run in parallel.
// - keepalived has no timeout on notify scripts. Here each notify script gets `timeoutMs` (default 30 s, 0 = none):
//   a hung script would otherwise hold every later notify of its instance forever. At the timeout the script's
//   process group gets SIGTERM, then SIGKILL 2 s later. Stop-time scripts keep keepalived's rule: SIGKILL to the
//   group after 1 s.
// - A script that cannot be run is logged as a failure with the reason (keepalived reports nothing).
import { runScript, describeResult, scriptSucceeded, type ScriptResult, type RunOptions } from './run.js';
import type { NotifyEventState, NotifyState } from '../vrrp/spec.js';
import type { Logger } from 'pino';
import type { LogFields } from '../util/log-effect.js';

/** A command ready to exec: the configured script (the model's ScriptSpec) with its user resolved to ids. */
export interface ScriptCommand {
  /** argv[0] is a path or a bare name (resolved through PATH); the rest are passed as-is, without a shell. */
  argv: string[];
  /** The text handed to `/bin/sh -c` when argv[0] is not an executable file. Defaults to argv joined with
   * keepalived's quoting (each argument single-quoted, a leading `<`/`>` redirection left bare). */
  shellCommand?: string;
  uid?: number;
  gid?: number;
}

/** The notify scripts of one vrrp_instance or vrrp_sync_group, resolved (user decided; a script keepalived would
 * remove is absent), ready to run. The configured ones are the model's NotifyScripts. */
export interface NotifyCommands {
  master?: ScriptCommand;
  backup?: ScriptCommand;
  fault?: ScriptCommand;
  stop?: ScriptCommand;
  /** `notify_deleted [script]`: instances only. */
  deleted?: ScriptCommand;
  /** `notify_master_rx_lower_pri`: instances only. */
  masterRxLowerPri?: ScriptCommand;
  /** Generic `notify`: gets `INSTANCE|GROUP name state priority` appended. */
  generic?: ScriptCommand;
  /** `notify_deleted` given (with or without a script): report DELETED instead of FAULT for a deleted instance. */
  notifyDeleted?: boolean;
}

/** What the VRRP engine reports: an instance or sync group entered a state (or a FIFO-only event happened). */
export interface NotifyEvent {
  kind: 'instance' | 'group';
  name: string;
  state: NotifyEventState;
  /** The instance's effective priority (ignored for groups: they report 0). */
  priority: number;
  scripts: NotifyCommands;
  /** keepalived-ts additions to the scripts' environment (KEEPALIVED_GUARD_TOKEN: the guard lock's fencing token). */
  env?: Record<string, string>;
}

/** From the VRRP engine's notify effect (`{ type: 'notify', scope: 'INSTANCE' | 'GROUP', name, state, priority }`,
 * src/vrrp/machine.ts) plus the scripts configured for that instance or group. */
export function notifyEventFromEngine(
  effect: { scope: 'INSTANCE' | 'GROUP'; name: string; state: NotifyEventState; priority: number; guardToken?: string },
  scripts: NotifyCommands,
): NotifyEvent {
  const ev: NotifyEvent = { kind: effect.scope === 'GROUP' ? 'group' : 'instance', name: effect.name, state: effect.state, priority: effect.priority, scripts };
  if (effect.guardToken !== undefined) ev.env = { KEEPALIVED_GUARD_TOKEN: effect.guardToken };
  return ev;
}

export interface PlannedScript {
  role: 'state' | 'generic';
  argv: string[];
  shellCommand?: string;
  uid?: number;
  gid?: number;
  /** Stop-time script: SIGKILL to its group after 1 s, as keepalived. */
  stopTime: boolean;
}

export interface NotifyPlan {
  /** In the order they must run. */
  scripts: PlannedScript[];
  /** The line for the vrrp / global notify FIFO. */
  fifoLine: string;
  /** The state actually reported (DELETED becomes FAULT without notify_deleted). */
  reportedState: NotifyEventState;
}

/** `INSTANCE "VI_1" MASTER 100\n` / `GROUP "G1" BACKUP 0\n` (vrrp_notify.c notify_fifo). */
export function vrrpFifoLine(kind: 'instance' | 'group', name: string, state: NotifyEventState, priority: number): string {
  return `${kind === 'group' ? 'GROUP' : 'INSTANCE'} "${name}" ${state} ${kind === 'group' ? 0 : priority}\n`;
}

/** argv of the generic `notify` script: configured args + TYPE NAME STATE PRIO (vrrp_notify.c notify_script_exec). */
export function genericNotifyArgv(configured: readonly string[], kind: 'instance' | 'group', name: string, state: NotifyState, priority: number): string[] {
  return [...configured, kind === 'group' ? 'GROUP' : 'INSTANCE', name, state, String(kind === 'group' ? 0 : priority)];
}

function withArgv(c: ScriptCommand, argv: string[], role: PlannedScript['role'], stopTime: boolean): PlannedScript {
  const p: PlannedScript = { role, argv, stopTime };
  if (c.uid !== undefined) p.uid = c.uid;
  if (c.gid !== undefined) p.gid = c.gid;
  // The shell text was written for the configured args only; the generic notify's extra args must reach it too.
  if (c.shellCommand !== undefined && role === 'state') p.shellCommand = c.shellCommand;
  return p;
}

/** What keepalived does for one event, as data (vrrp_notify.c send_instance_notifies / send_group_notifies /
 * send_event_notify / send_instance_priority_notifies). Pure. */
export function planNotify(ev: NotifyEvent): NotifyPlan {
  const s = ev.scripts;
  const scripts: PlannedScript[] = [];
  if (ev.state === 'MASTER_RX_LOWER_PRI') {
    if (s.masterRxLowerPri) scripts.push(withArgv(s.masterRxLowerPri, [...s.masterRxLowerPri.argv], 'state', false));
    return { scripts, fifoLine: vrrpFifoLine(ev.kind, ev.name, ev.state, ev.priority), reportedState: ev.state };
  }
  if (ev.state === 'MASTER_PRIORITY' || ev.state === 'BACKUP_PRIORITY') {
    return { scripts, fifoLine: vrrpFifoLine(ev.kind, ev.name, ev.state, ev.priority), reportedState: ev.state };
  }
  // The per-state script is chosen before DELETED is downgraded, so a deleted instance without notify_deleted
  // runs no per-state script (not notify_fault) but reports FAULT to `notify` and the FIFO (vrrp_notify.c:281).
  const stateScript =
    ev.state === 'MASTER' ? s.master
    : ev.state === 'BACKUP' ? s.backup
    : ev.state === 'FAULT' ? s.fault
    : ev.state === 'STOP' ? s.stop
    : ev.kind === 'instance' ? s.deleted : undefined;
  const reported: NotifyState = ev.state === 'DELETED' && !(ev.kind === 'instance' && s.notifyDeleted) ? 'FAULT' : ev.state;
  const stopTime = ev.state === 'STOP';
  if (stateScript) scripts.push(withArgv(stateScript, [...stateScript.argv], 'state', stopTime && ev.kind === 'instance'));
  if (s.generic) scripts.push(withArgv(s.generic, genericNotifyArgv(s.generic.argv, ev.kind, ev.name, reported, ev.priority), 'generic', stopTime));
  return { scripts, fifoLine: vrrpFifoLine(ev.kind, ev.name, reported, ev.priority), reportedState: reported };
}

// ---------------------------------------------------------------------------------------------------------------
// Dispatcher (imperative shell).

/** Anything that takes FIFO lines; fifo.ts NotifyFifoWriter is one. */
export interface FifoSink {
  write(line: string | Buffer): boolean;
}


export interface NotifyDispatcherOptions {
  /** vrrp_notify_fifo and/or the global notify_fifo. */
  fifos?: FifoSink[];
  /** Per notify script; default 30 000 ms; 0 = no timeout (keepalived's behaviour). */
  timeoutMs?: number;
  /** Stop-time scripts: SIGKILL to the group after this long (keepalived: 1 s). */
  stopKillMs?: number;
  /** The daemon's logger (pino); each line gets the instance or group and the script as fields. */
  log?: Logger;
  /** Capture this many bytes of each script's output into the log (0: discard, as keepalived). */
  captureBytes?: number;
}

export interface NotifyOutcome {
  event: NotifyEvent;
  plan: NotifyPlan;
  results: { script: PlannedScript; result: ScriptResult }[];
  fifoWritten: boolean;
}

export const DEFAULT_NOTIFY_TIMEOUT_MS = 30_000;
export const STOP_SCRIPT_KILL_MS = 1000;

export class NotifyDispatcher {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly running = new Set<AbortController>();
  private shuttingDown = false;
  private readonly timeoutMs: number;
  private readonly stopKillMs: number;

  constructor(private readonly opts: NotifyDispatcherOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_NOTIFY_TIMEOUT_MS;
    this.stopKillMs = opts.stopKillMs ?? STOP_SCRIPT_KILL_MS;
  }

  /** Queue an event behind earlier events of the same instance/group. Resolves when its scripts have finished
   * and its FIFO line was written. Never rejects. */
  dispatch(event: NotifyEvent): Promise<NotifyOutcome> {
    const key = `${event.kind}\0${event.name}`;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const done = previous.then(() => this.runEvent(event));
    this.queues.set(key, done);
    this.pending.add(done);
    void done.finally(() => {
      this.pending.delete(done);
      if (this.queues.get(key) === done) this.queues.delete(key);
    });
    return done;
  }

  /** Resolves when every queued notify has finished. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** For daemon shutdown, after queueing the STOP events: scripts still running get 1 s more, then SIGTERM to
   * their group (SIGKILL 2 s later); scripts still queued run under the stop-time limit (SIGKILL after 1 s).
   * Resolves when all are done. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const ac of this.running) setTimeout(() => ac.abort(), this.stopKillMs).unref();
    await this.idle();
  }

  private log(level: 'info' | 'warn' | 'error', fields: LogFields, message: string): void {
    this.opts.log?.[level](fields, message);
  }

  private async runEvent(event: NotifyEvent): Promise<NotifyOutcome> {
    const plan = planNotify(event);
    const results: NotifyOutcome['results'] = [];
    const what = `${event.kind === 'group' ? 'VRRP_Group' : 'VRRP_Instance'}(${event.name}) ${plan.reportedState}`;
    for (const script of plan.scripts) {
      const stopLimit = script.stopTime || this.shuttingDown;
      const ac = new AbortController();
      this.running.add(ac);
      const runOpts: RunOptions = { signal: ac.signal, killGraceMs: stopLimit ? 0 : 2000 };
      if (this.opts.captureBytes) runOpts.captureBytes = this.opts.captureBytes;
      const spec = {
        argv: script.argv,
        timeoutMs: stopLimit ? this.stopKillMs : this.timeoutMs,
        ...(script.shellCommand !== undefined ? { shellCommand: script.shellCommand } : {}),
        ...(script.uid !== undefined ? { uid: script.uid } : {}),
        ...(script.gid !== undefined ? { gid: script.gid } : {}),
        ...(event.env ? { env: event.env } : {}),
      };
      let result: ScriptResult;
      try {
        result = await runScript(spec, runOpts);
      } finally {
        this.running.delete(ac);
      }
      results.push({ script, result });
      const name = script.role === 'generic' ? 'notify' : 'notify script';
      const fields = { [event.kind === 'group' ? 'group' : 'instance']: event.name, state: plan.reportedState, script: script.argv[0] };
      if (scriptSucceeded(result)) {
        this.log('info', fields, `${what}: ${name} ${script.argv[0]} succeeded`);
      } else {
        const out = result.output ? ` output: ${result.output.trim()}` : '';
        this.log(result.spawnError !== undefined || result.timedOut ? 'error' : 'warn', fields, `${what}: ${name} ${script.argv.join(' ')} ${describeResult(result)}${out}`);
      }
    }
    let fifoWritten = false;
    for (const fifo of this.opts.fifos ?? []) fifoWritten = fifo.write(plan.fifoLine) || fifoWritten;
    return { event, plan, results, fifoWritten };
  }
}
