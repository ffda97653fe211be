// Running the daemon: read and validate the config, start the VRRP engine, handle signals, and on SIGTERM leave
// nothing behind (priority-0 adverts, VIPs removed, notify_stop run, pid file removed).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic } from '../config/diagnostics.js';
import { checkConfig } from '../config/check-config.js';
import type { KeepalivedConfig, ScriptSpec } from '../config/model/index.js';
import { NotifyDispatcher, type FifoSink } from '../notify/notify.js';
import { NotifyFifo } from '../notify/fifo.js';
import { defaultScriptUser, readAccountFiles, resolveScriptUser, killAll } from '../notify/run.js';
import { vrrpPlan, type UserResolver } from '../vrrp/from-config.js';
import { VrrpEngine } from '../vrrp/engine.js';
import { createLogger, type Logger } from './log.js';
import { removePidFile, writePidFile, PidFileBusyError } from './pidfile.js';

export interface DaemonOptions {
  configFile: string;
  configId?: string;
  allConfig?: boolean;
  /** -n: stay in the foreground (otherwise the daemon detaches itself). */
  foreground: boolean;
  /** -l: log to the console (stderr) in text form. */
  logConsole: boolean;
  /** -D: detailed (debug) logging. */
  logDetail: boolean;
  logJson: boolean;
  pidFile: string;
  vrrpPidFile: string;
  /** -V: leave VIPs in place on stop. */
  dontReleaseVrrp: boolean;
  /** -I: leave IPVS entries in place on stop. */
  dontReleaseIpvs?: boolean;
  /** -c: pid file of the checker process. */
  checkersPidFile?: string;
  /** argv to re-run in the foreground when detaching. */
  argv: string[];
}

/** Exit codes as keepalived's (lib/scheduler.h). */
export const EXIT_OK = 0;
export const EXIT_FATAL = 1;
export const EXIT_CONFIG = 2;

/** Without -n keepalived forks into the background; we start a detached copy of ourselves with -n and return. */
export function detach(argv: string[]): number {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv, '--dont-fork'], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return EXIT_OK;
}

function userResolver(cfg: KeepalivedConfig, log: Logger): UserResolver {
  const files = readAccountFiles();
  const self = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const global = cfg.globalDefs.scriptUser;
  let def: { uid: number; gid: number };
  try {
    def = global ? resolveScriptUser(global.user, global.group, files) : defaultScriptUser(files, self);
  } catch (e) {
    log.error(`script_user: ${(e as Error).message}; scripts run as uid ${self.uid}`);
    def = self;
  }
  return (s: ScriptSpec) => {
    if (!s.user) return { uid: def.uid, gid: def.gid };
    try {
      const u = resolveScriptUser(s.user, s.group, files);
      return { uid: u.uid, gid: u.gid };
    } catch (e) {
      log.error(`${s.loc.file}:${s.loc.line}: ${(e as Error).message}`);
      return { uid: def.uid, gid: def.gid };
    }
  };
}

async function openFifos(cfg: KeepalivedConfig, users: UserResolver, log: Logger): Promise<NotifyFifo[]> {
  const out: NotifyFifo[] = [];
  for (const [label, f] of [['vrrp', cfg.globalDefs.vrrpNotifyFifo], ['global', cfg.globalDefs.notifyFifo]] as const) {
    if (!f) continue;
    try {
      const script = f.script && { argv: f.script.argv, ...users(f.script) };
      out.push(await NotifyFifo.open(f.path, { script, label, log: (lvl, m) => log[lvl](m) }));
    } catch (e) {
      log.error(`notify FIFO ${f.path}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** Forks the checker process (checks and IPVS live apart from VRRP, so checks never delay an advert). */
function startCheckers(o: DaemonOptions, log: Logger): ChildProcess {
  // Same extension as this module: .js when built, .ts under tsx (fork inherits the tsx loader via execArgv).
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const entry = fileURLToPath(new URL(`../check/main${ext}`, import.meta.url));
  const args = ['-f', o.configFile];
  if (o.configId) args.push('-i', o.configId);
  if (o.logDetail) args.push('-D');
  if (o.logJson) args.push('--log-json');
  if (o.dontReleaseIpvs) args.push('-I');
  const child = fork(entry, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  if (o.checkersPidFile && child.pid) writePidFile(o.checkersPidFile, child.pid);
  child.on('exit', (code, sig) => log.info(`Healthcheck child exited (${sig ?? code})`));
  return child;
}

/** Runs until SIGTERM/SIGINT; resolves with the exit code. */
export async function runDaemon(o: DaemonOptions): Promise<number> {
  const log = createLogger({ detail: o.logDetail, json: o.logJson, role: 'Keepalived_vrrp' });
  const checked = checkConfig(o.configFile, { configId: o.configId, allConfig: o.allConfig });
  for (const d of checked.diags) {
    const line = formatDiagnostic(d);
    if (d.severity === 'fatal') log.error(line);
    else log.warn(line);
  }
  if (checked.exitCode === 4) {
    log.error('configuration cannot run (see the errors above); exiting');
    return EXIT_CONFIG;
  }
  try {
    writePidFile(o.pidFile);
    writePidFile(o.vrrpPidFile);
  } catch (e) {
    log.error((e as Error).message);
    return e instanceof PidFileBusyError ? EXIT_FATAL : EXIT_FATAL;
  }
  const cfg = checked.model;
  const users = userResolver(cfg, log);
  const fifos = await openFifos(cfg, users, log);
  const notify = new NotifyDispatcher({ fifos: fifos as FifoSink[], log: (lvl, m) => log[lvl](m) });
  const plan = vrrpPlan(cfg, users);
  const checkers = cfg.virtualServers.length ? startCheckers(o, log) : undefined;
  const engine = new VrrpEngine(plan, { log, notify, dontReleaseVips: o.dontReleaseVrrp });
  log.info(`Starting keepalived-ts VRRP with ${plan.instances.length} instance(s) from ${o.configFile}`);

  let stopping: Promise<number> | undefined;
  const stop = (signal: string): Promise<number> => {
    stopping ??= (async () => {
      log.info(`Received ${signal}, stopping`);
      try {
        const checkersDone = checkers && checkers.exitCode === null
          ? new Promise<void>((r) => checkers.once('exit', () => r()))
          : Promise.resolve();
        checkers?.kill('SIGTERM');
        await engine.stop();
        await notify.shutdown();
        await checkersDone;
        if (o.checkersPidFile) removePidFile(o.checkersPidFile, checkers?.pid);
      } catch (e) {
        log.error(`stop: ${(e as Error).message}`);
      }
      await Promise.all(fifos.map((f) => f.close()));
      await killAll(1000);
      removePidFile(o.vrrpPidFile);
      removePidFile(o.pidFile);
      log.info('Stopped');
      return EXIT_OK;
    })();
    return stopping;
  };

  return new Promise<number>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => void stop(sig).then(resolve);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', () => log.warn('SIGHUP: reload is not implemented yet; configuration unchanged'));
    engine.start().catch((e: Error) => {
      log.error(`VRRP engine failed to start: ${e.stack ?? e.message}`);
      void stop('start failure').then(() => resolve(EXIT_FATAL));
    });
  });
}
