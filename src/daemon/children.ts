// The parent's children, keepalived's way (core/main.c start_vrrp_child/start_check_child, lib/scheduler.c
// report_child_status / thread_child_handler): one process per subsystem, started only when the config has work
// for it, respawned with a back-off when it dies, and everything stopped when a child reports a config or fatal
// error. The child kinds are a table: a new kind (the checker) is one entry with an entry-point module.
import type { ChildProcess } from 'node:child_process';
import type { KeepalivedConfig } from '../config/model/index.js';
import { errorFields, type Logger } from './log.js';
import { removePidFile } from './pidfile.js';
import type { ChildStatus, FromChild, ToChild } from './ipc.js';
import { refused, type ControlArgs, type ControlReply } from './control.js';
import type { DaemonOptions } from './options.js';
import { forkChild, vrrpPart } from './fork-child.js';
import { EXIT_CONFIG, EXIT_FATAL, STOP_ALL_EXIT_CODES } from '../util/exit-codes.js';

/** A child kind's main function (vrrp-child.ts runVrrpChild, checker-child.ts runCheckerChild). Resolves with the
 *  exit code (util/exit-codes.ts). */
export type ChildMain = (ctx: ChildContext) => Promise<number>;

export interface ChildContext {
  options: DaemonOptions;
  /** The configuration the parent read and validated; undefined when this process must read the file itself. */
  config?: KeepalivedConfig;
  /** Sends a message to the parent (no-op when the channel is gone). */
  send(m: FromChild): void;
  /** Registers the handler for parent messages. */
  onMessage(handler: (m: ToChild) => void): void;
  /**
   * Registers what to release when this process crashes (uncaught exception, unhandled rejection): run once, with
   * a hard deadline (CRASH_RELEASE_MS), before the process exits non-zero and the parent respawns it.
   */
  onCrash(release: () => Promise<unknown>): void;
}

/** How long a crashing child may spend releasing what it owns (VIPs, priority 0) before it exits anyway. */
export const CRASH_RELEASE_MS = 1500;
/**
 * A crashing child's last steps: run `release` (once), then `exit`, at the latest `deadlineMs` after the start
 * whether the release finished, failed or hangs. `exit` is called exactly once. I/O passed in, so it can be tested.
 */
export function releaseThenExit(
  release: (() => Promise<unknown>) | undefined,
  deadlineMs: number,
  io: { write(line: string): void; exit(): void },
): void {
  if (!release) return io.exit();
  let done = false;
  const exit = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    io.exit();
  };
  io.write(`releasing what this process holds (at most ${deadlineMs} ms), then exiting`);
  const timer = setTimeout(() => {
    io.write(`release did not finish within ${deadlineMs} ms; exiting`);
    exit();
  }, deadlineMs);
  Promise.resolve()
    .then(release)
    .then(
      () => exit(),
      (err: unknown) => {
        io.write(`release failed: ${(err as Error)?.message ?? String(err)}`);
        exit();
      },
    );
}

/** Test-only fault injection (child.ts): a file path; never set outside tests. */
export const TEST_FAULT_ENV = 'KEEPALIVED_TS_TEST_FAULT';

export interface ChildKind {
  /** Short name used in logs, metrics and IPC (`vrrp`, `checker`). */
  kind: string;
  /** Log role, keepalived's process name (Keepalived_vrrp, Keepalived_healthcheckers). */
  role: string;
  /** The parent's "Starting X child process, pid=N" names it as keepalived 2.2.7 does (VRRP, Healthcheck). */
  startName: string;
  /** The child's pid file option (-r, -c). */
  pidFile(o: DaemonOptions): string;
  /** Whether this config (and -P/-C) asks for the child. */
  wanted(cfg: KeepalivedConfig, o: DaemonOptions): boolean;
  /** Loads the kind's main function (a dynamic import, so tsx and the compiled dist both resolve it). */
  load(): Promise<ChildMain>;
  /** The part of the configuration the child is handed (the channel copies it: V8 serialization on both sides). */
  part(cfg: KeepalivedConfig): KeepalivedConfig;
}

/** The child kinds: VRRP, and the checkers (health checks + IPVS). */
export const CHILD_KINDS: ChildKind[] = [
  {
    kind: 'vrrp',
    role: 'Keepalived_vrrp',
    startName: 'VRRP',
    pidFile: (o) => o.vrrpPidFile,
    // keepalived runs its VRRP process for static_* entries too (they set have_vrrp_config).
    wanted: (cfg, o) => !o.checkOnly && (cfg.vrrpInstances.length > 0 || cfg.staticAddresses.length + cfg.staticRoutes.length + cfg.staticRules.length > 0),
    load: () => import('./vrrp-child.js').then((m) => m.runVrrpChild),
    part: vrrpPart,
  },
  {
    kind: 'checker',
    role: 'Keepalived_healthcheckers',
    startName: 'Healthcheck',
    pidFile: (o) => o.checkersPidFile,
    wanted: (cfg, o) => !o.vrrpOnly && cfg.virtualServers.length > 0,
    load: () => import('./checker-child.js').then((m) => m.runCheckerChild),
    part: (cfg) => cfg,
  },
];

// ---- respawn policy (pure) -------------------------------------------------------------------------------------

export const RESPAWN_MAX_DELAY_MS = 60_000;
/** A child that ran longer than this is respawned at once. */
export const RESPAWN_STABLE_MS = 60_000;

/** Where a child is in its series of deaths: consecutive quick deaths and the last delay used. */
export interface RespawnState {
  deaths: number;
  delayMs: number;
}

export const RESPAWN_INITIAL: RespawnState = { deaths: 0, delayMs: 0 };

/**
 * The respawn delay after a death. The first death of a series is respawned at once: a crashed VRRP child holds
 * no VIP any more, and every second without it is a second the peer must carry alone (or both directors flap).
 * From the second quick death on, keepalived's back-off (lib/scheduler.c report_child_status): 1 s, doubling,
 * at most 60 s. A child that ran longer than 60 s starts a new series.
 */
export function nextRespawn(ranMs: number, prev: RespawnState): RespawnState {
  if (ranMs > RESPAWN_STABLE_MS || prev.deaths === 0) return { deaths: 1, delayMs: 0 };
  return { deaths: prev.deaths + 1, delayMs: prev.delayMs <= 0 ? 1000 : Math.min(prev.delayMs * 2, RESPAWN_MAX_DELAY_MS) };
}

export type ChildExitVerdict = 'respawn' | 'stop-all' | 'stopped';

/** What the parent does when a child exits. `stopping`: the parent asked it to. */
export function childExitVerdict(code: number | null, signal: string | null, o: { stopping: boolean; noRespawn: boolean }): ChildExitVerdict {
  if (o.stopping) return 'stopped';
  if (signal === null && code !== null && STOP_ALL_EXIT_CODES.has(code)) return 'stop-all';
  if (o.noRespawn) return 'stop-all';
  return 'respawn';
}

// ---- the parent's side -----------------------------------------------------------------------------------------

const sameFlags = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** A child forked before the parent loaded its modules (launch.ts), with the Node flags it was forked with. */
export interface EarlyChild {
  proc: ChildProcess;
  execArgv: readonly string[];
  /**
   * launch.ts already sent it its configuration (after the parent's pre-start checks), so it may be running VRRP:
   * it is not sent again, and one the parent does not keep is stopped with SIGTERM (it releases what it holds).
   */
  configSent: boolean;
}

/** How a parent drops an early child it does not keep. */
export const dropSignal = (early: EarlyChild): NodeJS.Signals => (early.configSent ? 'SIGTERM' : 'SIGKILL');

/** One supervised child process. */
export class Supervised {
  proc?: ChildProcess;
  startedAt = 0;
  respawn: RespawnState = RESPAWN_INITIAL;
  restarts = 0;
  private respawnTimer?: NodeJS.Timeout;
  private nextId = 1;
  private readonly waiting = new Map<number, (s: ChildStatus | undefined) => void>();
  private readonly waitingCtl = new Map<number, (r: ControlReply | undefined) => void>();
  /** What the child last handed over for its next incarnation (ipc.ts `handover`). */
  private handover: unknown = null;
  stopping = false;

  constructor(
    readonly spec: ChildKind,
    private readonly options: DaemonOptions,
    private readonly log: Logger,
    private readonly noRespawn: boolean,
    /** Called when the whole daemon must stop (config error in a child, or -R and a child died). */
    private readonly onStopAll: (why: string, code: number) => void,
    /** What the parent releases for a child that died on its own (before any respawn). */
    private readonly onDeath?: () => Promise<unknown>,
    /** Node/V8 flags for this child beyond the parent's own, read at each (re)start. */
    private readonly extraExecArgv: () => string[] = () => [],
    /** The configuration the parent runs now, handed to the child after every fork (never re-read there). */
    private readonly currentConfig?: () => KeepalivedConfig,
  ) {}

  get pid(): number | undefined {
    return this.proc?.exitCode === null && this.proc.signalCode === null ? this.proc.pid : undefined;
  }

  /**
   * Forks the child, or adopts `early` (forked before the configuration was read) when it runs with the flags this
   * configuration asks for; an early child that does not fit is killed (it has done nothing yet: it waits for its
   * configuration). Returns whether `early` was adopted.
   */
  start(early?: EarlyChild): boolean {
    this.startedAt = Date.now();
    const execArgv = this.extraExecArgv();
    const adopt = early !== undefined && early.proc.connected && sameFlags(early.execArgv, execArgv);
    if (early && !adopt) early.proc.kill(dropSignal(early));
    const proc = adopt ? early.proc : forkChild(this.spec.kind, this.options, execArgv, this.currentConfig !== undefined);
    this.proc = proc;
    // The parent logs it under its own pid, as keepalived does (the child's is in the text and in childPid).
    this.log.info({ childPid: proc.pid }, `Starting ${this.spec.startName} child process, pid=${proc.pid}`);
    // First messages, so a respawned checker starts with the overrides its predecessor held, and every child with
    // the configuration the parent validated (child.ts keeps messages that arrive before the child's handler is in
    // place).
    proc.send({ t: 'handover', state: this.handover } satisfies ToChild);
    if (this.currentConfig && !(adopt && early.configSent)) proc.send({ t: 'config', config: this.spec.part(this.currentConfig()) } satisfies ToChild);
    proc.on('message', (m: FromChild) => this.onMessage(m));
    proc.on('error', (e) => this.log.error(errorFields(e), `${this.spec.role}: ${e.message}`));
    proc.on('exit', (code, signal) => this.onExit(proc, code, signal));
    // An adopted child that died before this handler was in place is respawned as one that dies now would be.
    if (adopt && (proc.exitCode !== null || proc.signalCode !== null)) setImmediate(() => this.onExit(proc, proc.exitCode, proc.signalCode));
    return adopt;
  }

  private onMessage(m: FromChild): void {
    if (m.t === 'status') {
      this.waiting.get(m.id)?.(m.status);
      this.waiting.delete(m.id);
    } else if (m.t === 'ctl') {
      this.waitingCtl.get(m.id)?.(m.reply);
      this.waitingCtl.delete(m.id);
    } else if (m.t === 'handover') {
      this.handover = m.state;
    } else if (m.t === 'reloaded') {
      if (m.ok) this.log.info(`${this.spec.role}: reload applied`);
      else this.log.error(`${this.spec.role}: reload failed: ${m.error ?? 'unknown error'}`);
    }
  }

  private onExit(proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (proc.pid) removePidFile(this.spec.pidFile(this.options), proc.pid);
    for (const [, r] of this.waiting) r(undefined);
    this.waiting.clear();
    for (const [, r] of this.waitingCtl) r(undefined);
    this.waitingCtl.clear();
    const verdict = childExitVerdict(code, signal, { stopping: this.stopping, noRespawn: this.noRespawn });
    const how = signal ? `signal ${signal}` : `status ${code}`;
    if (verdict === 'stopped') return;
    // The child may have died holding what it owns (SIGKILL): release it first, and respawn only after.
    const released = this.onDeath ? this.onDeath().catch(() => undefined) : Promise.resolve();
    if (verdict === 'stop-all') {
      this.log.error({ pid: proc.pid, status: code ?? undefined, signal: signal ?? undefined }, `${this.spec.role} child process(${proc.pid}) exited with ${how}${this.noRespawn ? ' (respawn disabled)' : ''} - stopping`);
      this.onStopAll(`${this.spec.kind} child exited`, code === EXIT_CONFIG ? EXIT_CONFIG : EXIT_FATAL);
      return;
    }
    this.respawn = nextRespawn(Date.now() - this.startedAt, this.respawn);
    this.restarts++;
    const delayMs = this.respawn.delayMs;
    this.log.error({ pid: proc.pid, status: code ?? undefined, signal: signal ?? undefined, respawnMs: delayMs }, `${this.spec.role} child process(${proc.pid}) died with ${how}: ${delayMs ? `respawning in ${delayMs} ms` : 'respawning now'}`);
    const started = Date.now();
    void released.then(() => {
      this.respawnTimer = setTimeout(() => {
        this.respawnTimer = undefined;
        if (!this.stopping) this.start();
      }, Math.max(0, delayMs - (Date.now() - started)));
    });
  }

  send(m: ToChild): void {
    if (this.proc?.connected) this.proc.send(m);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.pid) this.proc!.kill(sig);
  }

  /** Asks the child for its status; undefined when it does not answer within `timeoutMs`. */
  status(timeoutMs = 2000): Promise<ChildStatus | undefined> {
    if (!this.proc?.connected) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(id, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      this.send({ t: 'status', id });
    });
  }

  /**
   * Sends a control command to the child and waits for its reply, at most `timeoutMs`: a child that is not running
   * or does not answer gives a refusal saying so (the command may or may not have been applied then).
   */
  control(command: string, args: ControlArgs, timeoutMs = 5000): Promise<ControlReply> {
    if (!this.proc?.connected) return Promise.resolve(refused(`the ${this.spec.kind} process is not running`));
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waitingCtl.delete(id);
        resolve(refused(`the ${this.spec.kind} process did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waitingCtl.set(id, (r) => {
        clearTimeout(timer);
        resolve(r ?? refused(`the ${this.spec.kind} process exited before answering`));
      });
      this.send({ t: 'ctl', id, command, args });
    });
  }

  /** SIGTERM, wait up to `waitMs` (keepalived child_wait_time), then SIGKILL. */
  async stop(waitMs: number): Promise<void> {
    this.stopping = true;
    if (this.respawnTimer) clearTimeout(this.respawnTimer);
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.log.warn({ pid: proc.pid }, `${this.spec.role} child process(${proc.pid}) did not stop within ${waitMs} ms: SIGKILL`);
      proc.kill('SIGKILL');
    }, waitMs);
    await exited;
    clearTimeout(timer);
  }
}
