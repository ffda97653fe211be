// Daemon side of the checker child: fork child.ts/child.js and talk to it.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { FromChild, ToChild } from './ipc.js';
import type { CheckEvent } from './verdict.js';
import type { CheckConfig, DesiredVs } from './types.js';

export interface CheckerHandlers {
  /** First the full desired state (initial = true), then per-VS changes. */
  onDesired(changes: DesiredVs[], initial: boolean): void;
  onEvents(events: CheckEvent[]): void;
  onError?(code: string, message: string): void;
  onExit?(code: number | null, signal: NodeJS.Signals | null): void;
}

export interface CheckerStats {
  checksDone: number;
  inFlight: number;
  queued: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  rssBytes: number;
}

export class CheckerProcess {
  private stopping?: Promise<CheckEvent[]>;
  private statsWaiters: ((s: CheckerStats) => void)[] = [];
  private stoppedResolve?: (e: CheckEvent[]) => void;

  constructor(readonly child: ChildProcess, private readonly handlers: CheckerHandlers) {
    child.on('message', (m: FromChild) => this.onMessage(m));
    child.on('exit', (code, signal) => {
      this.stoppedResolve?.([]);
      handlers.onExit?.(code, signal);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private onMessage(m: FromChild): void {
    switch (m.type) {
      case 'ready':
        return this.handlers.onDesired(m.desired, true);
      case 'desired':
        return this.handlers.onDesired(m.changes, false);
      case 'events':
        return this.handlers.onEvents(m.events);
      case 'stats': {
        const { type: _t, ...s } = m;
        for (const w of this.statsWaiters.splice(0)) w(s);
        return;
      }
      case 'stopped':
        this.stoppedResolve?.(m.events);
        return;
      case 'error':
        return this.handlers.onError?.(m.code, m.message);
    }
  }

  private send(msg: ToChild): void {
    if (this.child.connected) this.child.send(msg);
  }

  start(config: CheckConfig): void {
    this.send({ type: 'start', config });
  }

  /** Replace the configuration; checkers that did not change keep their state. onDesired(…, true) follows. */
  reload(config: CheckConfig): void {
    this.send({ type: 'reload', config });
  }

  /** ha_suspend: the complete list of local addresses (send again whenever it changes). */
  setLocalAddresses(present: string[]): void {
    this.send({ type: 'addresses', present });
  }

  stats(): Promise<CheckerStats> {
    return new Promise((resolve) => {
      this.statsWaiters.push(resolve);
      this.send({ type: 'stats' });
    });
  }

  /** Stop checking; resolves with the shutdown events (omega) once the child has exited. */
  stop(): Promise<CheckEvent[]> {
    this.stopping ??= new Promise<CheckEvent[]>((resolve) => {
      let events: CheckEvent[] = [];
      this.stoppedResolve = (e) => {
        if (e.length) events = e;
      };
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve([]);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve(events);
      });
      if (this.child.connected) this.send({ type: 'stop' });
      else this.child.kill('SIGTERM');
    });
    return this.stopping;
  }
}

export interface SpawnOptions {
  /** Nice value for the checker process (e.g. 5), so a flood of checks yields CPU to the VRRP process. */
  nice?: number;
}

/** Fork the checker child and send it its configuration. */
export function startCheckerProcess(config: CheckConfig, handlers: CheckerHandlers, opts: SpawnOptions = {}): CheckerProcess {
  const js = fileURLToPath(new URL('./child.js', import.meta.url));
  const ts = fileURLToPath(new URL('./child.ts', import.meta.url));
  // Built tree: child.js. Source tree run through tsx: child.ts with the tsx loader.
  const [entry, execArgv] = existsSync(js) ? [js, []] : [ts, ['--import', 'tsx']];
  const child = fork(entry, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
  if (opts.nice !== undefined && child.pid !== undefined) {
    try {
      os.setPriority(child.pid, opts.nice);
    } catch {
      // Not permitted: run at the default priority.
    }
  }
  const proc = new CheckerProcess(child, handlers);
  proc.start(config);
  return proc;
}
