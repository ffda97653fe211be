// The VRRP child (keepalived's Keepalived_vrrp process): runs the VRRP engine on the configuration the parent read
// and validated, writes the -r pid file, reloads on the parent's word with the parent's new configuration (or
// re-reads the file on a SIGHUP sent to it directly), writes the signal dumps
// and answers status requests. It starts on the VRRP sockets its parent handed it, where there are (vrrp-handoff.ts).
// On SIGTERM it leaves nothing behind (priority-0 adverts, VIPs removed, notify_stop).
import { onDumpSignals } from './rt-signals.js';
import { writeFileSafe } from './safe-file.js';
import type { KeepalivedConfig } from '../config/model/index.js';
import { NotifyDispatcher, type FifoSink } from '../notify/notify.js';
import { NotifyFifoWriter } from '../notify/fifo.js';
import { killAll } from '../notify/run.js';
import { scriptUserResolver as userResolver } from '../notify/script-user.js';
import { vrrpPlan, type UserResolver } from '../vrrp/plan.js';
import { VrrpShell } from '../vrrp/shell.js';
import { addRealtimeCompanion, applyProcessPriorities, disableHugePages, leaveRealtime, realtimeDemotions, realtimeGuarded } from './process-priority.js';
import { scheduleTrim } from './memory-trim.js';
import { createLogger, errorFields, type Logger } from './log.js';
import { removePidFile, writePidFile } from './pidfile.js';
import { dumpPath, formatData, formatJson, formatStats, type DumpKind } from './dumps.js';
import type { ChildContext } from './children.js';
import { instanceStatusJson, type ChildStatus, type DumpRequest } from './ipc.js';
import { childLogFile, logTargets, maintenanceFileOf } from './options.js';
import { existsSync, unlinkSync } from 'node:fs';
import type { VrrpControlInput } from '../vrrp/shell.js';
import { badRequest, type ControlArgs, type ControlReply } from './control.js';
import { reloadInChild, startConfig } from './child-config.js';
import { handedToThisProcess } from './vrrp-handoff.js';
import { vrrpPlanJson } from './reload-plan.js';
import { EXIT_CONFIG, EXIT_FATAL, EXIT_OK } from '../util/exit-codes.js';

async function openFifos(cfg: KeepalivedConfig, users: UserResolver, log: Logger): Promise<NotifyFifoWriter[]> {
  const out: NotifyFifoWriter[] = [];
  for (const [label, f] of [['vrrp', cfg.globalDefs.vrrpNotifyFifo], ['global', cfg.globalDefs.notifyFifo]] as const) {
    if (!f) continue;
    try {
      const who = f.script && users(f.script, 'fifo');
      const script = f.script && who ? { argv: f.script.argv, ...who } : undefined;
      out.push(await NotifyFifoWriter.open(f.path, { script, label, log: log.child({ fifo: f.path }) }));
    } catch (e) {
      log.error({ ...errorFields(e), fifo: f.path }, `notify FIFO ${f.path}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** The VRRP child's main (child.ts runs it): resolves with the exit code. */
export async function runVrrpChild(ctx: ChildContext): Promise<number> {
  const o = ctx.options;
  const log = createLogger({
    ...logTargets(o), detail: o.logDetail, json: o.logJson, role: 'Keepalived_vrrp', file: o.logFile && childLogFile(o.logFile, 'vrrp'),
  });
  disableHugePages(log);
  const cfg = await startConfig(ctx.config, o, log);
  if (!cfg) {
    log.error('configuration cannot run (see the errors above); exiting');
    return EXIT_CONFIG;
  }
  try {
    writePidFile(o.vrrpPidFile);
  } catch (e) {
    log.error(errorFields(e), (e as Error).message);
    return EXIT_FATAL;
  }
  const users = userResolver(cfg, log);
  const fifos = await openFifos(cfg, users, log);
  const notify = new NotifyDispatcher({ fifos: fifos as FifoSink[], log });
  const plan = vrrpPlan(cfg, users);
  // `ctl maintenance on` outlives a restart through its state file (a crash respawn reads it too).
  const maintenanceFile = maintenanceFileOf(o);
  let maintenance = existsSync(maintenanceFile);
  if (maintenance) log.warn({ file: maintenanceFile }, `Maintenance is on (${maintenanceFile}): every instance stays BACKUP until \`keepalived-ts ctl maintenance off\``);
  // Sockets opened before this process ran (vrrp-handoff.ts): the wait for a master counts from their opening.
  const engine = new VrrpShell(plan, {
    log, notify, dontReleaseVips: o.dontReleaseVrrp, maintenance, handedSockets: handedToThisProcess(),
    onAdvertSender: (tid) => addRealtimeCompanion(tid, log),
  });
  let globalDefs = cfg.globalDefs;
  let started = false; // priorities apply once the engine has started (below), and again after each reload
  let routerId = cfg.globalDefs.routerId;
  // Node's file pages given back after start-up and reloads (memory-trim.ts); not for a real-time or locked child.
  const trimSoon = scheduleTrim(log, () => globalDefs.vrrpRtPriority === undefined && !globalDefs.vrrpNoSwap);
  log.info(`Starting keepalived-ts VRRP with ${plan.instances.length} instance(s) from ${o.configFile}`);

  // A crash (child.ts) first releases the VIPs: masters send priority 0 and remove them, so the peer takes over
  // within its skew time instead of a master-down interval while both hold the VIP. A crash during a stop waits for
  // that stop (engine.stop() would return at once, the release still under way), within the same deadline.
  ctx.onCrash(() => stopping ?? engine.stop());

  let stopping: Promise<number> | undefined;
  const stop = (why: string): Promise<number> => {
    stopping ??= (async () => {
      log.info(`${why}, stopping`);
      try {
        await engine.stop();
        await notify.shutdown();
      } catch (e) {
        log.error(errorFields(e), `stop: ${(e as Error).message}`);
      }
      await Promise.all(fifos.map((f) => f.close()));
      await killAll(1000);
      removePidFile(o.vrrpPidFile);
      log.info('Stopped');
      return EXIT_OK;
    })();
    return stopping;
  };

  // Reloads run one after another; each applies the configuration the parent validated, or re-reads the file for
  // a SIGHUP sent to this process directly.
  let reloading = Promise.resolve();
  const reload = (given?: KeepalivedConfig) => {
    reloading = reloading.then(async () => {
      if (stopping) return;
      log.info('Reloading configuration');
      // A run past RLIMIT_RTTIME during the reload is demoted, not killed: stay real-time for the adverts due meanwhile.
      if (!realtimeGuarded()) leaveRealtime(log);
      // Nothing escapes reloadInChild: an error here would reject the chain and crash the process out of the handler.
      await reloadInChild(given, o, log, (m) => ctx.send(m), async (next) => {
        await engine.reload(vrrpPlan(next, userResolver(next, log)));
        routerId = next.globalDefs.routerId;
        globalDefs = next.globalDefs;
      });
      if (started) applyProcessPriorities('vrrp', globalDefs, log, true);
      trimSoon();
    });
  };

  const dump = (kind: DumpRequest) => {
    const file: DumpKind = kind === 'stats-clear' ? 'stats' : kind;
    try {
      // Formatting is inside the try too: dumps also come from signal handlers, where a throw would crash the child.
      const snap = engine.snapshot();
      const text = file === 'data' ? formatData(snap, { routerId }) : file === 'stats' ? formatStats(snap) : formatJson(snap);
      writeFileSafe(dumpPath(file), text); // never through a link planted in $TMPDIR
      log.info({ file: dumpPath(file) }, `Wrote ${dumpPath(file)}`);
    } catch (e) {
      log.error({ ...errorFields(e), file: dumpPath(file) }, `cannot write ${dumpPath(file)}: ${(e as Error).message}`);
    }
    if (kind === 'stats-clear') engine.clearStats();
  };

  const status = (): ChildStatus => {
    const snap = engine.snapshot();
    return { vrrp: snap.map(instanceStatusJson), maintenance, scripts: engine.scriptStats(), keepalivedJson: JSON.parse(formatJson(snap)), rtDemotions: realtimeDemotions() };
  };

  /** Control commands the parent forwards (control-vrrp.ts validated and normalised the args). */
  const control = async (command: string, args: ControlArgs): Promise<ControlReply> => {
    let input: VrrpControlInput;
    if (command === 'switchover')
      input = { type: 'switchover', target: String(args['target']), holdMs: typeof args['holdMs'] === 'number' ? args['holdMs'] : undefined, force: args['force'] === true };
    else if (command === 'resume') input = { type: 'resume', target: String(args['target']) };
    else if (command === 'maintenance') input = { type: 'maintenance', on: args['on'] === true };
    else return badRequest(`the VRRP process has no command '${command}'`);
    const r: ControlReply = { ...(await engine.control(input)) };
    if (input.type !== 'maintenance' || !r.ok) return r;
    maintenance = input.on;
    // Kept over a restart; a failure to keep it does not undo the command, it is said.
    try {
      if (input.on) writeFileSafe(maintenanceFile, `maintenance on since ${new Date().toISOString()}\n`);
      else if (existsSync(maintenanceFile)) unlinkSync(maintenanceFile);
    } catch (e) {
      log.error({ ...errorFields(e), file: maintenanceFile }, `cannot ${input.on ? 'write' : 'remove'} ${maintenanceFile}: ${(e as Error).message}`);
      return { ...r, message: `${r.message} (but ${maintenanceFile} could not be ${input.on ? 'written: a restart would end maintenance' : 'removed: a restart would resume maintenance'}: ${(e as Error).message})` };
    }
    return r;
  };

  ctx.onMessage((m) => {
    if (m.t === 'reload') reload(m.config);
    else if (m.t === 'dump') dump(m.kind);
    else if (m.t === 'status') ctx.send({ t: 'status', id: m.id, status: status() });
    else if (m.t === 'ctl' && m.command === 'plan') {
      // After any reload still running, so the plan starts from the state that reload leaves.
      const { id } = m;
      const configFile = String(m.args.configFile);
      reloading = reloading.then(() => import('./load-config.js')).then(({ planInChild }) => planInChild(o, configFile, id, log, (r) => ctx.send(r), async (next, quiet) => (
        { vrrp: vrrpPlanJson(engine.planReload(vrrpPlan(next, userResolver(next, quiet)))) })));
    } else if (m.t === 'ctl')
      void control(m.command, m.args).then(
        (reply) => ctx.send({ t: 'ctl', id: m.id, reply }),
        (e: Error) => ctx.send({ t: 'ctl', id: m.id, reply: { ok: false, refusal: 'refused', message: `${m.command} failed: ${e.message}` } }),
      );
  });

  return new Promise<number>((resolve) => {
    const onStop = (sig: NodeJS.Signals) => void stop(`Received ${sig}`).then(resolve);
    process.on('SIGTERM', onStop);
    // With --ignore-sigint a terminal's Ctrl-C (sent to the whole process group) must not stop the child either.
    process.on('SIGINT', o.ignoreSigint ? () => undefined : onStop);
    // Signals sent to the child directly act as they do on keepalived's VRRP process.
    process.on('SIGHUP', () => reload());
    onDumpSignals(dump);
    engine
      .start()
      .then(() => {
        ctx.send({ t: 'ready' });
        // Real-time only once started: start-up runs tens of ms of JS without a blocking call, and under
        // SCHED_RR that hits RLIMIT_RTTIME's 10 ms hard limit (the child was SIGKILLed at every start).
        started = true;
        applyProcessPriorities('vrrp', globalDefs, log);
        trimSoon();
      })
      .catch((e: Error) => {
        log.error(errorFields(e), `VRRP engine failed to start: ${e.stack ?? e.message}`);
        void stop('start failure').then(() => resolve(EXIT_FATAL));
      });
  });
}
