// The checker child (keepalived's Keepalived_healthcheckers process): health checks, the IPVS table and the LVS
// notifications, apart from VRRP so that checks can never delay an advert. Reloads on the parent's word; holds the
// operator's real-server overrides (control-rs.ts), which the parent keeps across a respawn of this process.
import { NotifyFifoWriter } from '../notify/fifo.js';
import { killAll } from '../notify/run.js';
import { scriptUserResolver } from '../notify/script-user.js';
import { CheckerService } from '../check/service.js';
import { applyProcessPriorities, leaveRealtime, realtimeDemotions } from './process-priority.js';
import { scheduleTrim } from './memory-trim.js';
import { InterfaceWatcher } from '../net/interfaces.js';
import type { KeepalivedConfig } from '../config/model/index.js';
import { createLogger, errorFields } from './log.js';
import { removePidFile, writePidFile } from './pidfile.js';
import type { ChildContext } from './children.js';
import { childLogFile, logTargets } from './options.js';
import { reloadInChild, startConfig } from './child-config.js';
import { badRequest, refused, type ControlReply } from './control.js';
import { rsControlInChecker } from './control-rs.js';
import { EXIT_CONFIG, EXIT_FATAL, EXIT_OK } from '../util/exit-codes.js';
import { ipvsTrafficJson, type IpvsTraffic, type ToChild } from './ipc.js';
import { cachedCollector } from './status.js';
import type { RsOverride } from '../ipvs/overrides.js';

/** How long a starting checker waits for the parent's handover (sent right after the fork). */
const HANDOVER_WAIT_MS = 3000;
/** How long a status request waits for the IPVS counters before answering without them. */
const IPVS_READ_BUDGET_MS = 1000;

/** The checker child's main (child.ts runs it): resolves with the exit code. */
export async function runCheckerChild(ctx: ChildContext): Promise<number> {
  const o = ctx.options;
  const log = createLogger({
    ...logTargets(o), detail: o.logDetail, json: o.logJson, role: 'Keepalived_healthcheckers', file: o.logFile && childLogFile(o.logFile, 'checkers'),
  });
  // The parent's first message: the real-server overrides a previous checker process held (ipc.ts handover).
  // Awaited before the first reconcile, so a respawn never puts a drained server back at its weight meanwhile.
  let takeHandover: (m: ToChild) => void = () => undefined;
  const handedOver = new Promise<RsOverride[]>((resolve) => {
    takeHandover = (m) => {
      if (m.t === 'ctl') ctx.send({ t: 'ctl', id: m.id, reply: refused('the checker process is starting: try again') });
      if (m.t === 'handover') resolve(Array.isArray(m.state) ? (m.state as RsOverride[]) : []);
    };
  });
  // The wait is bounded from when the start-up work is done, and a timeout yields to pending I/O once
  // (setImmediate) before giving up: after a long synchronous config load the timer and the message already in the
  // pipe are due together, and the timers phase runs before the one that reads the pipe.
  const overridesHandedOver = (): Promise<RsOverride[]> => new Promise((resolve) => {
    let done = false;
    const timer = setTimeout(() => setImmediate(() => {
      if (done) return;
      done = true;
      log.warn(`no real-server overrides from the parent within ${HANDOVER_WAIT_MS} ms; starting without`);
      resolve([]);
    }), HANDOVER_WAIT_MS);
    void handedOver.then((v) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(v);
    });
  });
  ctx.onMessage((m) => takeHandover(m));
  const cfg = await startConfig(ctx.config, o, log);
  if (!cfg) return EXIT_CONFIG;
  try {
    writePidFile(o.checkersPidFile);
  } catch (e) {
    log.error(errorFields(e), (e as Error).message);
    return EXIT_FATAL;
  }
  const fifos: NotifyFifoWriter[] = [];
  const users = scriptUserResolver(cfg, log);
  // lvs_notify_fifo_script is ours; the global notify_fifo_script is the VRRP child's unless there is none.
  const fifoScripts = [true, cfg.vrrpInstances.length === 0];
  for (const [i, f] of [cfg.globalDefs.lvsNotifyFifo, cfg.globalDefs.notifyFifo].entries()) {
    if (!f) continue;
    try {
      const who = f.script && fifoScripts[i] ? users(f.script, 'fifo') : null;
      const script = f.script && who ? { argv: f.script.argv, ...who } : undefined;
      fifos.push(await NotifyFifoWriter.open(f.path, { script, label: 'lvs', log: log.child({ fifo: f.path }) }));
    } catch (e) {
      log.error({ ...errorFields(e), fifo: f.path }, `notify FIFO ${f.path}: ${(e as Error).message}`);
    }
  }
  const service = new CheckerService(cfg, {
    log, fifos, dontReleaseIpvs: o.dontReleaseIpvs, resetOverrides: o.resetOverrides,
    overrides: await overridesHandedOver(),
    // The parent keeps them for the next checker process if this one dies.
    onOverrides: (overrides) => ctx.send({ t: 'handover', state: overrides }),
  });
  // ha_suspend: like keepalived's checker process, follow the host's addresses over rtnetlink; checkers of such a
  // virtual server run only while its address is local. Watched only once a configuration asks for it.
  let watcher: InterfaceWatcher | undefined;
  let watching: Promise<void> | undefined;
  const followAddresses = (c: KeepalivedConfig): Promise<void> | undefined => {
    if (watching || !c.virtualServers.some((vs) => vs.haSuspend)) return watching;
    watching = (async () => {
      try {
        const w = (watcher = await InterfaceWatcher.open());
        const report = (): void => service.setLocalAddresses(w.table.list().flatMap((i) => i.addresses.map((a) => a.address)));
        w.on('change', (ch) => { if (ch.kind === 'address-added' || ch.kind === 'address-removed') report(); });
        w.on('error', (e) => log.error(errorFields(e), `ha_suspend: address monitor: ${e.message}`));
        report();
      } catch (e) {
        log.error(errorFields(e), `ha_suspend: cannot follow the host's addresses: ${(e as Error).message}; those checkers stay suspended`);
      }
    })();
    return watching;
  };
  let stopping: Promise<number> | undefined;
  const stop = (why: string): Promise<number> => {
    stopping ??= (async () => {
      log.info(`${why}, stopping`);
      await service.stop();
      watcher?.close();
      await Promise.all(fifos.map((f) => f.close()));
      await killAll(1000);
      removePidFile(o.checkersPidFile);
      return EXIT_OK;
    })();
    return stopping;
  };
  // A reload error must never leave the message handler: keep running and say what failed.
  // Reloads run at normal scheduling, as keepalived's (reading a config must not run into RLIMIT_RTTIME).
  let globalDefs = cfg.globalDefs;
  let started = false;
  // Node's file pages given back after start-up and reloads (memory-trim.ts); not for a real-time or locked child.
  const trimSoon = scheduleTrim(log, () => globalDefs.checkerRtPriority === undefined && !globalDefs.checkerNoSwap);
  const reload = (given?: KeepalivedConfig) => {
    leaveRealtime(log);
    void reloadInChild(given, o, log, (m) => ctx.send(m), async (next) => {
      await service.reload(next);
      globalDefs = next.globalDefs;
      void followAddresses(next);
    }).finally(() => {
      if (started) applyProcessPriorities('checker', globalDefs, log, true);
      trimSoon();
    });
  };
  // The IPVS counters for /metrics: one table dump shared by the scrapes of a second, and a scrape never waits
  // longer than the budget for it (the parent gives a child 2 s to answer): a slow dump leaves them out this time.
  const ipvsSnapshot = cachedCollector(async () => {
    const t = await service.ipvsTable();
    return t && ipvsTrafficJson(t);
  }, 1000);
  const ipvsWithin = (ms: number): Promise<IpvsTraffic[] | undefined> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
    return Promise.race([ipvsSnapshot().catch(() => undefined), late]).finally(() => clearTimeout(timer));
  };
  ctx.onMessage((m) => {
    if (m.t === 'reload') reload(m.config);
    else if (m.t === 'status') {
      void ipvsWithin(IPVS_READ_BUDGET_MS).then((ipvs) => ctx.send({ t: 'status', id: m.id, status: { checkers: service.realServerStatus(), ipvs, rtDemotions: realtimeDemotions() } }));
    }
    else if (m.t === 'ctl' && m.command === 'plan') {
      void import('./load-config.js').then(({ planInChild }) => planInChild(o, String(m.args.configFile), m.id, log, (r) => ctx.send(r), async (next, quiet) => ({ checker: await service.planReload(next, quiet) })));
    } else if (m.t === 'ctl') {
      let reply: ControlReply;
      try {
        reply = rsControlInChecker(service, m.command, m.args, new Date()) ?? badRequest(`the checker process has no command '${m.command}'`);
      } catch (e) {
        reply = refused(`${m.command} failed: ${(e as Error)?.message ?? String(e)}`);
      }
      ctx.send({ t: 'ctl', id: m.id, reply });
    }
  });
  return new Promise<number>((resolve) => {
    const onStop = (sig: NodeJS.Signals) => void stop(`Received ${sig}`).then(resolve);
    process.on('SIGTERM', onStop);
    process.on('SIGINT', o.ignoreSigint ? () => undefined : onStop);
    process.on('SIGHUP', () => reload());
    Promise.resolve(followAddresses(cfg))
      .then(() => service.start())
      .then(() => {
        ctx.send({ t: 'ready' });
        // Real-time only once started (see vrrp-child.ts: start-up under SCHED_RR hits RLIMIT_RTTIME).
        started = true;
        applyProcessPriorities('checker', globalDefs, log);
        trimSoon();
      })
      .catch((e: Error) => {
        log.error(errorFields(e), `checker failed to start: ${e.stack ?? e.message}`);
        void stop('start failure').then(() => resolve(EXIT_FATAL));
      });
  });
}
