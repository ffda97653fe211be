// The checker service: the health-check engine, the kernel's IPVS table and the LVS notifications, together in the
// checker process (keepalived's "healthcheckers" child, daemon/checker-child.ts), apart from VRRP.
// Start: lvs_flush and lvs_timeouts if configured, then the engine on the config model. Every change of the
// checkers' verdict, and of the operator's real-server overrides (ipvs/overrides.ts: drain, disable, weight), goes
// through one path, one reconcile at a time: desired state (config + verdict + overrides) → read the
// kernel's table → minimal diff against what we own → apply (ipvs/apply.ts). Start, reload and a failed reconcile
// take the whole table; a checker's or an override's change takes only the services of the virtual servers it
// changed (their desired state built, those services read from the kernel and diffed).
// Stop: the engine stops (omega notifications run; its timers, disarmed, are cleared last), then the table is left as keepalived leaves it
// (ipvs/apply.ts stop): by default every destination and service we own is removed, computed from the state the
// last reconcile programmed, without reading the table first (a dump of 10,000s of entries outlasted
// child_wait_time); the table is read only when ownership is not covered by that state. lvs_flush_on_stop VS
// deletes our services directly, lvs_flush_on_stop flushes the whole table, -I keeps everything; the timeouts found
// before lvs_timeouts changed them are put back.
import type { Logger } from 'pino';
import type { KeepalivedConfig, RealServer, VirtualServer } from '../config/model/index.js';
import { IpvsClient, IpvsUnavailableError, type IpvsServiceWithDests } from '../ipvs/client.js';
import { IpvsApplier, type StopMode } from '../ipvs/apply.js';
import { describeOp } from '../ipvs/describe.js';
import { buildDesired, type IpvsState } from '../ipvs/desired.js';
import type { Op } from '../ipvs/reconcile.js';
import type { VirtualServerSpec } from '../ipvs/virtual-server-spec.js';
import { KtError } from '../util/errors.js';
import { ipvsSpecFor } from '../ipvs/virtual-server-spec.js';
import { applyRsCommand, describeOverride, overrideDests, overridesAfterReload, type RsCommandRequest, type RsOverride } from '../ipvs/overrides.js';
import { runScript, readAccountFiles, resolveScriptUser, describeResult, scriptSucceeded, type AccountFiles } from '../notify/run.js';
import { nodeScriptFs, scriptUserResolver, type ScriptFs } from '../notify/script-user.js';
import type { FifoSink } from '../notify/notify.js';
import { CheckEngine, readFileCheckValues } from './engine.js';
import { PingGroupRange } from './probe-ping.js';
import { checkerReloadDiff, type CheckEvent } from './verdict.js';
import { ipvsOpJson, type CheckerPlanJson } from '../daemon/reload-plan.js';
import type { CheckScriptUsers, DesiredDest, DesiredVs, DecidedScript } from './checker-types.js';
import { errorFields } from '../daemon/log.js';
import type { CheckerStatus } from '../daemon/ipc.js';
import { canonicalAddr } from '../net/address.js';

export interface CheckerServiceOptions {
  log: Logger;
  /** -I/--dont-release-ipvs: leave our IPVS entries in place on stop. */
  dontReleaseIpvs?: boolean;
  /** lvs_notify_fifo / notify_fifo sinks for the LVS lines. */
  fifos?: FifoSink[];
  /** Opens the IPVS client (injectable for tests); default IpvsClient.open(). */
  openIpvs?: () => Promise<IpvsClient>;
  /** Host facts for the script decision (injectable for tests); default the real file system and accounts. */
  scriptFs?: () => ScriptFs;
  /** Real-server overrides to start with (kept by the parent across a restart of this process). */
  overrides?: readonly RsOverride[];
  /** --reset-overrides: a reload clears the overrides. */
  resetOverrides?: boolean;
  /** Told the overrides after every change (the checker child hands them to the parent). */
  onOverrides?: (overrides: readonly RsOverride[]) => void;
}

/** A reconcile with more operations than this logs one summary line at info and its operations at debug. */
const LOGGED_OPS = 100;
/** At most this many of a big reconcile's operations are listed at debug, then one line says how many more: with -D,
 *  the 55,000 lines of a start at 50,000 real servers took the checker ~6 ms each in the TCG guest, more than 5 minutes
 *  of its CPU, and a reload that came meanwhile waited behind them. */
const DEBUG_LISTED_OPS = 1000;
/** Lines logged (or virtual servers built) per event-loop turn: the checker's probes share the loop. */
const LOG_CHUNK = 500;

/** The desired state of `vss`, built a slice per event-loop turn (5,000 virtual servers took 0.2-0.5 s natively,
 *  ~30 x that in the TCG guest, during which probes timed out). */
async function desiredInTurns(vss: readonly VirtualServer[], spec: (vs: VirtualServer) => VirtualServerSpec): Promise<IpvsState> {
  const state: IpvsState = new Map();
  for (let i = 0; i < vss.length; i += LOG_CHUNK) {
    if (i) await new Promise((r) => setImmediate(r));
    for (const [id, svc] of buildDesired(vss.slice(i, i + LOG_CHUNK).map(spec))) {
      if (state.has(id)) throw new KtError('KT_IPVS_BAD_SPEC', `virtual service ${id} is defined twice`);
      state.set(id, svc);
    }
  }
  return state;
}

const OP_NAMES: Record<Op['op'], string> = {
  'add-service': 'service(s) added', 'edit-service': 'service(s) edited', 'del-service': 'service(s) deleted',
  'add-dest': 'destination(s) added', 'edit-dest': 'destination(s) edited', 'del-dest': 'destination(s) deleted',
};
const opCounts = (ops: readonly Op[]): Partial<Record<Op['op'], number>> => {
  const n: Partial<Record<Op['op'], number>> = {};
  for (const o of ops) n[o.op] = (n[o.op] ?? 0) + 1;
  return n;
};
/** "1000 service(s) added, 10000 destination(s) added". */
const describeCounts = (n: Partial<Record<Op['op'], number>>): string =>
  (Object.keys(OP_NAMES) as Op['op'][]).filter((k) => n[k]).map((k) => `${n[k]} ${OP_NAMES[k]}`).join(', ');

export class CheckerService {
  private engine?: CheckEngine;
  private ipvs?: IpvsApplier;
  private readonly wanted = new Map<string, DesiredDest[]>();
  /** Virtual servers (keys) whose desired state changed since the last reconcile; `fullSync`: reconcile them all
   *  (start, reload, after a failed reconcile). */
  private dirty = new Set<string>();
  private fullSync = true;
  private vsByKey: Map<string, KeepalivedConfig['virtualServers'][number]>;
  private syncing: Promise<void> = Promise.resolve();
  private syncQueued = false;
  private accounts?: AccountFiles;
  private stopped = false;
  private overrides: RsOverride[];
  /** Counters for status and metrics. */
  readonly stats = { reconciles: 0, ipvsOps: 0, ipvsFailures: 0, scriptsRun: 0, scriptFailures: 0 };

  constructor(private cfg: KeepalivedConfig, private readonly opts: CheckerServiceOptions) {
    // Overrides handed over from a previous incarnation apply to the real servers this configuration still has.
    this.overrides = overridesAfterReload(opts.overrides ?? [], cfg, false).kept;
    this.vsByKey = new Map(cfg.virtualServers.map((vs) => [vs.key, vs]));
  }

  private get log(): Logger {
    return this.opts.log;
  }

  /** Decides every script once (who runs it, or removed with keepalived's message), from fresh account and file
   * facts at each start and reload. */
  private scriptUsers(cfg: KeepalivedConfig, log = this.log): CheckScriptUsers {
    const users = scriptUserResolver(cfg, log, (this.opts.scriptFs ?? (() => nodeScriptFs()))());
    return (s, role) => users(s, role);
  }

  async start(): Promise<void> {
    const g = this.cfg.globalDefs;
    try {
      const client = await (this.opts.openIpvs ?? (() => IpvsClient.open({ modprobe: true })))();
      this.ipvs = new IpvsApplier(client);
      if (g.lvsFlush) await this.ipvs.flushAtStart();
      if (g.lvsTimeouts.tcpS || g.lvsTimeouts.tcpFinS || g.lvsTimeouts.udpS)
        await this.ipvs.setTimeouts({ tcp: g.lvsTimeouts.tcpS, tcpFin: g.lvsTimeouts.tcpFinS, udp: g.lvsTimeouts.udpS });
    } catch (e) {
      // Said once, clearly; the checks still run (their scripts and FIFO lines still matter) and VRRP is unaffected.
      if (e instanceof IpvsUnavailableError) this.log.error(errorFields(e), `IPVS: ${e.message}; health checks run, but no IPVS table is programmed`);
      else this.log.error(errorFields(e), `IPVS: cannot open the generic-netlink family: ${(e as Error).message}; no IPVS table is programmed`);
      this.ipvs = undefined;
    }
    this.widenPingGroups(this.cfg);
    try {
      const fileValues = await readFileCheckValues(this.cfg, this.log);
      this.engine = new CheckEngine(this.cfg, this.sink(), { users: this.scriptUsers(this.cfg), log: this.log, fileValues });
      if (this.localAddresses) this.engine.setLocalAddresses(this.localAddresses);
      this.engine.start();
    } catch (e) {
      // Only a bug gets here (a bad checker disables itself inside the engine): say it, and leave VRRP running,
      // which an exception out of start() would stop with the whole daemon.
      this.engine = undefined;
      this.log.error(errorFields(e), `Healthcheck: cannot start the checkers: ${(e as Error)?.stack ?? String(e)}; no health checks run`);
      return;
    }
    this.log.info(`Healthcheck: ${this.cfg.virtualServers.length} virtual server(s), ${this.cfg.virtualServers.reduce((n, v) => n + v.realServers.length, 0)} real server(s)`);
  }

  /**
   * Reload (keepalived migrate_checkers): a new engine takes over, checkers whose configuration did not change keep
   * their state; the IPVS table follows the new desired state through the same reconcile path.
   */
  reload(next: KeepalivedConfig): void {
    const previous = this.engine;
    this.widenPingGroups(next);
    // Built before the running engine is halted: if the new one cannot be built, the old one keeps checking.
    const engine = new CheckEngine(next, this.sink(), { previous, users: this.scriptUsers(next), log: this.log });
    if (this.localAddresses) engine.setLocalAddresses(this.localAddresses);
    previous?.halt();
    this.cfg = next;
    this.vsByKey = new Map(next.virtualServers.map((vs) => [vs.key, vs]));
    this.wanted.clear();
    this.fullSync = true;
    const { kept, dropped } = overridesAfterReload(this.overrides, next, this.opts.resetOverrides === true);
    for (const o of dropped) {
      this.log.info({ vs: o.vsKey, rs: `${o.addr}:${o.port}`, override: o.kind }, `Healthcheck: override cleared by the reload${this.opts.resetOverrides ? ' (--reset-overrides)' : ' (real server no longer configured)'}: ${describeOverride(o)}`);
    }
    this.overrides = kept;
    if (dropped.length) this.opts.onOverrides?.(this.overrides);
    this.engine = engine;
    this.engine.start();
    this.log.info(`Healthcheck: reloaded, ${next.virtualServers.length} virtual server(s)`);
  }

  /**
   * What reload(next) would change, without changing anything: the engine built as the reload builds it (so the same
   * checkers keep their state), its desired table diffed against the kernel's by the reconcile the reload runs.
   * Script decisions and disabled checkers are not logged (`quiet`): the plan is not the reload.
   */
  async planReload(next: KeepalivedConfig, quiet: Logger): Promise<CheckerPlanJson> {
    const engine = new CheckEngine(next, { desired: () => undefined, events: () => undefined }, { previous: this.engine, users: this.scriptUsers(next, quiet), log: quiet });
    const checkers = checkerReloadDiff(this.engine?.core, engine.core);
    if (!this.ipvs) return { checkers, ipvsUnavailable: 'this host\'s IPVS cannot be used' };
    const wanted = new Map(engine.core.desiredAll().map((c) => [c.vsKey, c.dests]));
    // The overrides the reload would keep (ctl drain / disable / weight), so the plan is what the SIGHUP does.
    const overrides = overridesAfterReload(this.overrides, next, this.opts.resetOverrides === true).kept;
    const specs = next.virtualServers.map((vs) => ipvsSpecFor(vs, wanted.get(vs.key) ?? [], next, overrides));
    const ops = await this.ipvs.plan(buildDesired(specs));
    return { checkers, ipvs: ops.map(ipvsOpJson) };
  }

  /**
   * An operator's drain / disable / weight / enable (control interface): the overrides change, and the next
   * reconcile programs them with the checkers' verdict. Throws KtError (KT_CTL_*) for a bad or unknown target.
   */
  rsCommand(req: RsCommandRequest, by: string, now: Date): { message: string; overrides: RsOverride[] } {
    const r = applyRsCommand(this.overrides, req, this.cfg, now.toISOString(), by);
    this.overrides = r.overrides;
    for (const t of r.touched) this.log.info({ vs: t.vsKey, rs: `${t.addr}:${t.port}`, override: req.command, by }, `Healthcheck: ${req.command} by ${by}: ${r.message}`);
    this.opts.onOverrides?.(this.overrides);
    for (const t of r.touched) this.dirty.add(t.vsKey);
    this.scheduleSync();
    return { message: r.message, overrides: this.overrides };
  }

  /** The overrides in force. */
  overrideList(): readonly RsOverride[] {
    return this.overrides;
  }

  private sink() {
    return {
      desired: (changes: DesiredVs[]) => this.onDesired(changes),
      events: (events: CheckEvent[]) => this.onEvents(events),
    };
  }

  /** The kernel's IPVS table with its counters (for metrics), or undefined when IPVS is not usable. */
  async ipvsTable(): Promise<IpvsServiceWithDests[] | undefined> {
    return this.ipvs?.client.dump();
  }

  /**
   * Per real server: is it healthy (the checkers' verdict: alive and not kept at weight 0 by inhibit_on_failure),
   * the weight it has in the table after any override (absent: not in the table), and its override.
   */
  realServerStatus(): CheckerStatus[] {
    const out: CheckerStatus[] = [];
    const dropped = new Map<RealServer, Record<string, number>>();
    for (const ck of this.engine?.core.checkers ?? []) {
      for (const [why, n] of Object.entries(ck.droppedReplies)) {
        let d = dropped.get(ck.rs.cfg);
        if (!d) dropped.set(ck.rs.cfg, (d = {}));
        d[why] = (d[why] ?? 0) + n;
      }
    }
    for (const vs of this.cfg.virtualServers) {
      const verdict = this.wanted.get(vs.key) ?? [];
      const dests = overrideDests(vs, verdict, this.overrides);
      for (const rs of vs.realServers) {
        const v = verdict.find((x) => x.addr === rs.address && x.port === rs.port);
        const d = dests.find((x) => x.addr === rs.address && x.port === rs.port);
        const addr = canonicalAddr(rs.address);
        const o = this.overrides.find((x) => x.vsKey === vs.key && x.addr === addr && x.port === rs.port);
        out.push({
          virtualServer: vs.key, realServer: `${rs.address.includes(':') ? `[${rs.address}]` : rs.address}:${rs.port}`, up: !!v && !v.inhibited, weight: d?.weight,
          ...(o ? { override: { kind: o.kind, ...(o.weight !== undefined ? { weight: o.weight } : {}), since: o.since, by: o.by } } : {}),
          ...(dropped.has(rs) ? { droppedReplies: dropped.get(rs) } : {}),
        });
      }
    }
    return out;
  }

  /** The host's addresses as last reported: a reload's new engine starts from them, not from none. */
  private localAddresses?: readonly string[];

  /** Local addresses (VIPs) for ha_suspend. */
  setLocalAddresses(addrs: readonly string[]): void {
    this.localAddresses = addrs;
    this.engine?.setLocalAddresses(addrs);
  }

  /** What the checkers want in the table now, per virtual server key. */
  desired(): ReadonlyMap<string, DesiredDest[]> {
    return this.wanted;
  }

  engineStats() {
    return this.engine?.stats();
  }

  private onDesired(changes: DesiredVs[]): void {
    for (const c of changes) {
      this.wanted.set(c.vsKey, c.dests);
      this.dirty.add(c.vsKey);
    }
    this.scheduleSync();
  }

  /** Reconciles run one at a time; changes that arrive meanwhile are folded into the next one. */
  private scheduleSync(): void {
    if (!this.ipvs || this.syncQueued) return;
    this.syncQueued = true;
    this.syncing = this.syncing.then(async () => {
      this.syncQueued = false;
      if (this.stopped) return;
      await this.reconcile();
    });
  }

  private async reconcile(): Promise<void> {
    if (!this.ipvs) return;
    const dirty = this.dirty;
    // Reading and diffing only the changed virtual servers' services costs two requests each; the whole table
    // costs one per service: past half of them, the whole table is the cheaper read.
    const full = this.fullSync || !this.ipvs.programmed || dirty.size * 2 > this.cfg.virtualServers.length;
    this.dirty = new Set();
    this.fullSync = false;
    // The desired state from a snapshot: the yields below let a reload replace the configuration and clear the
    // verdict meanwhile (its own reconcile follows this one).
    const cfg = this.cfg;
    const wanted = new Map(this.wanted);
    const overrides = this.overrides;
    const spec = (vs: KeepalivedConfig['virtualServers'][number]) => ipvsSpecFor(vs, wanted.get(vs.key) ?? [], cfg, overrides);
    try {
      const report = full
        ? await this.ipvs.reconcile(await desiredInTurns(cfg.virtualServers, spec))
        : await this.ipvs.reconcileScoped(buildDesired([...dirty].flatMap((k) => { const vs = this.vsByKey.get(k); return vs ? [spec(vs)] : []; })));
      this.stats.reconciles++;
      this.stats.ipvsOps += report.results.length;
      const done = report.results.filter((r) => r.status === 'ok');
      // keepalived logs nothing per real server it adds at start; a checker's change is one or a few lines. Many
      // operations (start, reload) are counted in one line and the first DEBUG_LISTED_OPS listed at debug, a few
      // lines per loop turn, apart from the reconcile chain.
      if (done.length <= LOGGED_OPS) for (const r of done) this.log.info({ op: describeOp(r.op) }, `IPVS: ${describeOp(r.op)}`);
      else {
        const counts = opCounts(done.map((r) => r.op));
        this.log.info({ ops: counts }, `IPVS: ${describeCounts(counts)}`);
        if (this.log.isLevelEnabled('debug')) void this.logOpsInTurns(done.map((r) => r.op));
      }
      for (const f of report.failed) {
        this.stats.ipvsFailures++;
        this.log.error({ ...errorFields(f.error), op: describeOp(f.op) }, `IPVS: ${describeOp(f.op)} failed: ${f.error?.message ?? f.status}`);
      }
    } catch (e) {
      this.stats.ipvsFailures++;
      this.fullSync = true;
      this.log.error(errorFields(e), `IPVS: reconcile failed: ${(e as Error).message}`);
    }
  }

  private async logOpsInTurns(ops: readonly Op[]): Promise<void> {
    const listed = Math.min(ops.length, DEBUG_LISTED_OPS);
    for (let i = 0; i < listed; i++) {
      if (i && i % LOG_CHUNK === 0) await new Promise((r) => setImmediate(r));
      this.log.debug({ op: describeOp(ops[i]) }, `IPVS: ${describeOp(ops[i])}`);
    }
    if (ops.length > listed) this.log.debug({ unlisted: ops.length - listed }, `IPVS: ${ops.length - listed} more operation(s) not listed`);
  }

  private onEvents(events: CheckEvent[]): void {
    for (const ev of events) {
      // The verdict core's events are its log lines: the one place they become pino calls, with their fields.
      const fields = { event: ev.kind, vs: ev.vsKey, rs: 'rs' in ev ? ev.rs : undefined, checker: 'checker' in ev ? ev.checker : undefined };
      if (ev.kind === 'checker-failure') this.log.debug(fields, ev.message);
      else if (ev.kind === 'checker-down' || ev.kind === 'rs-down' || ev.kind === 'quorum-down') this.log.warn(fields, ev.message);
      else this.log.info(fields, ev.message);
      if (ev.kind === 'rs-up' || ev.kind === 'rs-down' || ev.kind === 'quorum-up' || ev.kind === 'quorum-down') {
        for (const f of this.opts.fifos ?? []) f.write(ev.fifoLine);
        if (ev.script) void this.runNotify(ev.script, ev.kind);
      }
    }
  }

  private async runNotify(s: DecidedScript, what: string): Promise<void> {
    let uid = s.runAs?.uid;
    let gid = s.runAs?.gid;
    if (!s.runAs && s.spec.user) {
      try {
        this.accounts ??= readAccountFiles();
        ({ uid, gid } = resolveScriptUser(s.spec.user, s.spec.group, this.accounts));
      } catch (e) {
        this.log.error({ ...errorFields(e), event: what }, `${what} script: ${(e as Error).message}`);
        return;
      }
    }
    const r = await runScript({ argv: s.spec.argv, uid, gid, timeoutMs: 30_000 });
    this.stats.scriptsRun++;
    if (!scriptSucceeded(r)) {
      this.stats.scriptFailures++;
      this.log.warn({ event: what, script: s.spec.argv[0] }, `${what} script ${s.spec.raw}: ${describeResult(r)}`);
    }
  }

  private readonly pingGroups = new PingGroupRange();

  /** PING_CHECK needs ping sockets for group 0: keepalived widens net.ipv4.ping_group_range (and narrows it on stop). */
  private widenPingGroups(cfg: KeepalivedConfig): void {
    if (!cfg.virtualServers.some((vs) => vs.realServers.some((rs) => rs.checkers.some((c) => c.type === 'PING_CHECK')))) return;
    const said = this.pingGroups.widen();
    if (said) this.log.info(`Healthcheck: ${said}`);
  }

  /** Stop checks, run omega notifications, leave the IPVS table as keepalived would (unless -I), then clear the
   *  checkers' timers (disarmed at once; cleared last, so that the table goes first within child_wait_time). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const events = this.engine?.stopLeavingTimers() ?? [];
    const said = this.pingGroups.restore();
    if (said) this.log.info(`Healthcheck: ${said}`);
    this.onEvents(events);
    this.stopped = true;
    await this.syncing;
    try {
      await this.releaseIpvs();
    } finally {
      this.engine?.clearTimers();
    }
  }

  private async releaseIpvs(): Promise<void> {
    if (!this.ipvs) return;
    const g = this.cfg.globalDefs;
    const mode: StopMode = this.opts.dontReleaseIpvs ? 'keep' : g.lvsFlushOnStop === 'all' ? 'flush' : g.lvsFlushOnStop === 'vs' ? 'owned-services' : 'owned';
    try {
      const report = await this.ipvs.stop(mode);
      for (const f of report.failed) this.log.error({ ...errorFields(f.error), op: describeOp(f.op) }, `IPVS: ${describeOp(f.op)} failed on stop: ${f.error?.message}`);
    } catch (e) {
      this.log.error(errorFields(e), `IPVS: cleanup failed: ${(e as Error).message}`);
    }
    this.ipvs.client.close();
  }
}
