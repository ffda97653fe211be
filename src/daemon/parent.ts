// The parent process (keepalived's "Keepalived" process, core/main.c): validates the config, writes the -p pid
// file, starts the children the config needs, respawns them, relays signals, serves the status endpoint, and on
// SIGTERM stops the children (SIGKILL after child_wait_time) and removes its pid file.
import { onDumpSignals } from './rt-signals.js';
import { writeFileSafe } from './safe-file.js';
import type { Server } from 'node:http';
import { VERSION } from '../version.js';
import { CHILD_KINDS, dropSignal, Supervised, type EarlyChild } from './children.js';
import { CHILD_WAIT_ENV } from './fork-child.js';
import type { DumpRequest } from './ipc.js';
import { loadConfig } from './load-config.js';
import { childExecArgv } from './child-flags.js';
import { scheduleTrim } from './memory-trim.js';
import { createLogger, errorFields } from './log.js';
import { logTargets, type DaemonOptions } from './options.js';
import { removePidFile, writePidFile } from './pidfile.js';
import { parseListen, startStatusServer, stopStatusServer, type ListenTarget, type StatusDocument } from './status.js';
import { dumpPath } from './dumps.js';
import { configuredVips, releaseVips } from './vrrp-release.js';
import { ControlCounters, dispatchControl, refused, type ControlEnv } from './control.js';
import './control-vrrp.js';
import './control-plan.js';
import './control-rs.js';
import { EXIT_CONFIG, EXIT_FATAL, EXIT_OK } from '../util/exit-codes.js';
import { checkConfig, type CheckConfigResult } from '../config/check-config.js';
import { formatDiagnostic, refusesToRun } from '../config/diagnostics.js';
import type { ReloadPlanDocument, CheckerPlanJson, VrrpPlanJson } from './reload-plan.js';

/** How long `ctl plan` waits for a child's part: it reads the file, and a checker child dumps the kernel's IPVS table. */
const PLAN_TIMEOUT_MS = 45_000;

/**
 * Runs until SIGTERM/SIGINT or a fatal child exit; resolves with the exit code. `early`: the VRRP child launch.ts
 * forked before this module was loaded (usually already sent its configuration); adopted if the configuration wants
 * it as it was forked, dropped otherwise. `checked`: the configuration launch.ts already read (else it is read here).
 */
export async function runParent(o: DaemonOptions, early?: EarlyChild, checked?: CheckConfigResult): Promise<number> {
  const log = createLogger({ ...logTargets(o), detail: o.logDetail, json: o.logJson, role: 'Keepalived', file: o.logFile });
  log.info(`Starting keepalived-ts ${VERSION}`);
  // Every return before the children start drops the early child (SIGKILL while it waits for its configuration).
  const dropEarly = () => {
    if (early) early.proc.kill(dropSignal(early));
  };
  const cfg = loadConfig(o, log, checked);
  if (!cfg) {
    log.error('configuration cannot run (see the errors above); exiting');
    dropEarly();
    return EXIT_CONFIG;
  }
  let target: ListenTarget | undefined;
  try {
    if (o.statusListen) target = parseListen(o.statusListen, o.statusListenForce);
  } catch (e) {
    log.error(errorFields(e), (e as Error).message);
    dropEarly();
    return EXIT_CONFIG;
  }
  try {
    writePidFile(o.pidFile);
  } catch (e) {
    log.error(errorFields(e), (e as Error).message);
    dropEarly();
    return EXIT_FATAL;
  }

  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  let stopping: Promise<void> | undefined;
  const children: Supervised[] = [];
  const reloads = { ok: 0, refused: 0 };
  let server: Server | undefined;

  const stop = (why: string, code: number): void => {
    stopping ??= (async () => {
      log.info(`${why}, stopping`);
      await Promise.all(children.map((c) => c.stop(current.globalDefs.childWaitTimeMs)));
      if (server && target) await stopStatusServer(server, target);
      removePidFile(o.pidFile);
      log.info('Stopped keepalived-ts');
      resolveExit(code);
    })();
  };

  // The configuration the children run now (a reload replaces it): what the parent releases for a killed VRRP child.
  let current = cfg;
  process.env[CHILD_WAIT_ENV] = String(cfg.globalDefs.childWaitTimeMs);
  const supervise = (kind: (typeof CHILD_KINDS)[number]) =>
    new Supervised(kind, o, log.child({ child: kind.kind }), o.noRespawn, (why, code) => stop(why, code),
      kind.kind === 'vrrp' && !o.dontReleaseVrrp ? () => releaseVips(configuredVips(current), log) : undefined,
      () => childExecArgv(kind.kind === 'vrrp' ? 'vrrp' : 'checker', current.globalDefs), () => current);
  for (const kind of CHILD_KINDS) {
    if (!kind.wanted(cfg, o)) continue;
    children.push(supervise(kind));
  }
  if (!children.length) log.warn('nothing to run: the configuration has no vrrp_instance (or -P/-C exclude it); waiting for a reload');

  const reload = () => {
    if (stopping) return;
    log.info('Reloading');
    // Validate first: a broken new config is refused and the running one keeps going (keepalived config_test on reload).
    const next = loadConfig(o, log);
    if (!next) {
      reloads.refused++;
      log.error('new configuration is invalid: reload refused, still running the previous one');
      return;
    }
    reloads.ok++;
    current = next;
    trimSoon();
    process.env[CHILD_WAIT_ENV] = String(next.globalDefs.childWaitTimeMs);
    for (const kind of CHILD_KINDS) {
      const running = children.find((c) => c.spec.kind === kind.kind);
      const wanted = kind.wanted(next, o);
      if (running && wanted) running.send({ t: 'reload', config: kind.part(next) });
      else if (!running && wanted) {
        const c = supervise(kind);
        children.push(c);
        c.start();
      } else if (running && !wanted) {
        children.splice(children.indexOf(running), 1);
        void running.stop(current.globalDefs.childWaitTimeMs);
      }
    }
  };

  /** `ctl plan -f FILE`: what a SIGHUP with FILE would change, computed by the code each step of the reload runs. */
  const planReload = async (file: string): Promise<ReloadPlanDocument> => {
    const checked = checkConfig(file, { configId: o.configId, allConfig: o.allConfig });
    const doc: ReloadPlanDocument = {
      file, valid: !refusesToRun(checked.diags), diagnostics: checked.diags.map(formatDiagnostic),
      processes: { start: [], stop: [] }, errors: [],
    };
    if (!doc.valid || stopping) return doc;
    const asks: Array<Promise<void>> = [];
    for (const kind of CHILD_KINDS) {
      const running = children.find((c) => c.spec.kind === kind.kind);
      const wanted = kind.wanted(checked.model, o);
      if (!running && wanted) doc.processes.start.push(kind.role);
      else if (running && !wanted) doc.processes.stop.push(kind.role);
      else if (running) {
        asks.push(running.control('plan', { configFile: file }, PLAN_TIMEOUT_MS).then((r) => {
          if (!r.ok) doc.errors.push(`${kind.role}: ${r.message}`);
          if (r.vrrp) doc.vrrp = r.vrrp as VrrpPlanJson;
          if (r.checker) doc.checker = r.checker as CheckerPlanJson;
        }));
      }
    }
    await Promise.all(asks);
    return doc;
  };

  const dump = (kind: DumpRequest) => {
    if (kind === 'data') {
      // keepalived's parent writes keepalived_parent.data; ours lists the processes.
      const file = dumpPath('data').replace(/keepalived\.data$/, 'keepalived_parent.data');
      const lines = ['------< Parent process >------', ` keepalived-ts ${VERSION}, pid ${process.pid}`, ` Config file = ${o.configFile}`];
      for (const c of children) lines.push(` ${c.spec.role} pid = ${c.pid ?? 'not running'}, restarts = ${c.restarts}`);
      try {
        writeFileSafe(file, lines.join('\n') + '\n');
      } catch (e) {
        log.error({ ...errorFields(e), file }, `cannot write ${file}: ${(e as Error).message}`);
      }
    }
    for (const c of children) c.send({ t: 'dump', kind });
  };

  const collect = async (): Promise<StatusDocument> => {
    const doc: StatusDocument = {
      version: VERSION, node: process.version, pid: process.pid, startedAt: new Date(startedAt).toISOString(),
      children: children.map((c) => ({ kind: c.spec.kind, pid: c.pid, restarts: c.restarts })),
      reloads: { ...reloads }, vrrp: [], scripts: [], checkers: [], keepalivedJson: [],
      ctl: { commands: ctlCounters.list() },
    };
    const statuses = await Promise.all(children.map((c) => c.status()));
    statuses.forEach((s, i) => {
      if (s?.rtDemotions !== undefined) doc.children[i]!.rtDemotions = s.rtDemotions;
    });
    for (const s of statuses) {
      if (!s) continue;
      doc.vrrp.push(...(s.vrrp ?? []));
      if (s.maintenance !== undefined) doc.maintenance = s.maintenance;
      doc.scripts.push(...(s.scripts ?? []));
      doc.checkers.push(...(s.checkers ?? []));
      if (s.ipvs) (doc.ipvs ??= []).push(...s.ipvs);
      if (Array.isArray(s.keepalivedJson)) doc.keepalivedJson.push(...s.keepalivedJson);
    }
    return doc;
  };

  // The control interface (POST /ctl): commands run here or in the child that owns the state.
  const ctlCounters = new ControlCounters();
  const ctlEnv: ControlEnv = {
    forward: (kind, command, args, timeoutMs) => {
      const c = children.find((x) => x.spec.kind === kind);
      return c ? c.control(command, args, timeoutMs) : Promise.resolve(refused(`this daemon runs no ${kind} process`));
    },
    // Fresh, not the scrape cache: a command's answer must show the state after the command.
    status: () => collect(),
    planReload,
  };
  const ctlPolicy = { allowUids: o.ctlAllowUids ?? [], allowGids: o.ctlAllowGids ?? [], allowTcp: Boolean(o.ctlAllowTcp) };
  const ctlLog = log.child({ component: 'ctl' });
  const control = (body: string, caller: Parameters<typeof dispatchControl>[1]) =>
    dispatchControl(body, caller, { policy: ctlPolicy, env: ctlEnv, log: ctlLog, counters: ctlCounters });

  // Node's file pages given back once start-up (or a reload's config read) is past (memory-trim.ts).
  const trimSoon = scheduleTrim(log, () => !stopping);

  const startedAt = Date.now();
  process.on('SIGTERM', () => stop('Received SIGTERM', EXIT_OK));
  if (!o.ignoreSigint) process.on('SIGINT', () => stop('Received SIGINT', EXIT_OK));
  process.on('SIGHUP', reload);
  onDumpSignals(dump);

  if (target) {
    try {
      server = await startStatusServer(target, collect, {}, control);
      log.info(`Status endpoint on ${target.kind === 'unix' ? target.path : `${target.host}:${target.port}`}`);
    } catch (e) {
      log.error(errorFields(e), `--status-listen: ${(e as Error).message}`);
      removePidFile(o.pidFile);
      dropEarly();
      return EXIT_FATAL;
    }
  }
  for (const c of children) if (c.start(c.spec.kind === 'vrrp' ? early : undefined)) early = undefined;
  dropEarly();
  trimSoon();
  return exited;
}
