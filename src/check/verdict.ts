// Pure verdict core of the health checkers: per-checker retry state machines (keepalived's tcp_epilog,
// HTTP epilog and misc_check_child_thread), real-server liveness, MISC dynamic weights, per-VS quorum
// with hysteresis and sorry server, and the desired IPVS destinations that follow from all that.
// No clock, no I/O, no randomness of its own: time and random numbers are passed in.
import {
  type CheckedRealServer,
  type CheckedVirtualServer,
  type CheckerConfig,
  type DesiredDest,
  type DesiredVs,
  type ProbeResult,
  type ScriptRef,
} from './types.js';
import { KtError } from '../util/errors.js';

/** keepalived's BOOTSTRAP_DELAY before the first check (check_api.c). */
export const BOOTSTRAP_DELAY_MS = 1000;
const INT32_MAX = 2147483647;

export type CheckEvent =
  | { kind: 'checker-up' | 'checker-down'; vsKey: string; rs: string; checker: number; reason: string; message: string }
  | { kind: 'checker-failure'; vsKey: string; rs: string; checker: number; reason: string; message: string }
  | {
      kind: 'rs-up' | 'rs-down';
      vsKey: string;
      rs: string;
      addr: string;
      port: number;
      script?: ScriptRef;
      /** Exact bytes keepalived writes to notify_fifo / lvs_notify_fifo (including the trailing NUL). */
      fifoLine: string;
      message: string;
    }
  | {
      kind: 'quorum-up' | 'quorum-down';
      vsKey: string;
      script?: ScriptRef;
      fifoLine: string;
      weightSum: number;
      threshold: number;
      init: boolean;
      message: string;
    }
  /** Log lines: a real server enters/leaves the pool ('pool'), a MISC dynamic weight change ('weight'),
   * the sorry server is swapped in/out. */
  | { kind: 'sorry-server-in' | 'sorry-server-out' | 'weight' | 'pool'; vsKey: string; message: string };

export interface CheckerState {
  readonly id: number;
  readonly vs: VsState;
  readonly rs: RsState;
  readonly cfg: CheckerConfig;
  isUp: boolean;
  hasRun: boolean;
  retryIt: number;
  /** HTTP: index of the URL to fetch next; null after the last one (keepalived's url_it). */
  urlIt: number | null;
  /** HTTP: index of the URL that failed (keepalived's failed_url). */
  failedUrl: number | null;
  /** MISC dynamic: this checker's contribution to the RS effective weight. */
  curWeight: number;
  lastExitCode: number;
}

export interface RsState {
  readonly cfg: CheckedRealServer;
  readonly label: string;
  alive: boolean;
  numFailed: number;
  effectiveWeight: number;
}

export interface VsState {
  readonly cfg: CheckedVirtualServer;
  readonly label: string;
  readonly rs: RsState[];
  quorumUp: boolean;
  sorryAlive: boolean;
}

/** `[addr]:proto:port` like keepalived's inet_sockaddrtotrio. */
export function formatTrio(addr: string, proto: string, port: number): string {
  return `[${addr}]:${proto}:${port}`;
}

/** keepalived's FMT_VS: `[addr]:proto:port`, `FWM n`, or `[group]:port`. */
export function formatVs(vs: CheckedVirtualServer): string {
  if (vs.group !== undefined) return `[${vs.group}]:${vs.port ?? 0}`;
  if (vs.fwmark !== undefined) return `FWM ${vs.fwmark}`;
  return formatTrio(vs.addr ?? '0.0.0.0', vs.protocol, vs.port ?? 0);
}

function checkerKey(vsKey: string, rs: CheckedRealServer, ck: CheckerConfig): string {
  return `${vsKey}|${rs.addr}|${rs.port}|${JSON.stringify(ck)}`;
}

function realWeight(w: number): number {
  return w < 0 ? 0 : w > INT32_MAX ? INT32_MAX : w;
}

export interface ResultOutput {
  /** Delay until this checker runs next, measured from `finishedAt`. */
  nextDelayMs: number;
  events: CheckEvent[];
  /** Desired state of the VSes this result changed (none if nothing changed). */
  changed: DesiredVs[];
}

/**
 * The whole checker state. Methods mutate in place (10,000 real servers must not be copied per check)
 * but are deterministic: the same calls with the same times give the same outputs.
 */
export class CheckVerdict {
  readonly checkers: CheckerState[] = [];
  readonly vss: VsState[] = [];
  private dirty = new Set<VsState>();
  private events: CheckEvent[] = [];

  /**
   * `previous`: the state before a reload. Like keepalived's migrate_checkers(), a checker whose VS key,
   * real server and configuration are unchanged keeps its state (up/down, retries, dynamic weight), so a
   * reload does not flap real servers; a VS keeps its quorum and sorry-server state.
   */
  constructor(virtualServers: CheckedVirtualServer[], previous?: CheckVerdict) {
    const old = new Map<string, CheckerState>();
    const oldVs = new Map<string, VsState>();
    if (previous) {
      for (const ck of previous.checkers) old.set(checkerKey(ck.vs.cfg.key, ck.rs.cfg, ck.cfg), ck);
      for (const vs of previous.vss) oldVs.set(vs.cfg.key, vs);
    }
    const keys = new Set<string>();
    for (const vsCfg of virtualServers) {
      if (keys.has(vsCfg.key)) throw new KtError('KT_CHECK_CONFIG', `duplicate virtual server key ${vsCfg.key}`);
      keys.add(vsCfg.key);
      const rsList: RsState[] = [];
      const vs: VsState = { cfg: vsCfg, label: formatVs(vsCfg), rs: rsList, quorumUp: true, sorryAlive: false };
      for (const rsCfg of vsCfg.realServers) {
        const rs: RsState = {
          cfg: rsCfg,
          label: formatTrio(rsCfg.addr, vsCfg.protocol, rsCfg.port),
          alive: true,
          numFailed: 0,
          effectiveWeight: rsCfg.weight,
        };
        rsList.push(rs);
        for (const ck of rsCfg.checkers) {
          if ((ck.kind === 'HTTP_GET' || ck.kind === 'SSL_GET') && ck.urls.length === 0)
            throw new KtError('KT_CHECK_CONFIG', `${ck.kind} for ${rs.label} has no url`);
          const st: CheckerState = {
            id: this.checkers.length,
            vs,
            rs,
            cfg: ck,
            isUp: true,
            hasRun: false,
            // "For non alpha mode, one failure is enough initially" (check_data.c)
            retryIt: ck.retry,
            urlIt: 0,
            failedUrl: null,
            curWeight: 0,
            lastExitCode: 0,
          };
          const prev = old.get(checkerKey(vsCfg.key, rsCfg, ck));
          if (prev) {
            st.isUp = prev.isUp;
            st.hasRun = prev.hasRun;
            st.retryIt = prev.retryIt;
            st.urlIt = prev.urlIt;
            st.failedUrl = prev.failedUrl;
            st.curWeight = prev.curWeight;
            st.lastExitCode = prev.lastExitCode;
            rs.effectiveWeight += prev.curWeight;
            if (!st.isUp) rs.numFailed++;
          } else if (ck.alpha) {
            st.isUp = false;
            rs.numFailed++;
          }
          this.checkers.push(st);
        }
        // init_service_rs: an RS is in the pool only if no checker starts failed.
        rs.alive = rs.numFailed === 0;
      }
      this.vss.push(vs);
    }
    // set_quorum_states() then update_quorum_state(vs, init=true) from init_service_vs(); a reloaded VS
    // keeps its quorum state (ipwrapper.c: new_vs->quorum_state_up = vs->quorum_state_up).
    for (const vs of this.vss) {
      const prevVs = oldVs.get(vs.cfg.key);
      if (prevVs) {
        vs.quorumUp = prevVs.quorumUp;
        const a = prevVs.cfg.sorryServer;
        const b = vs.cfg.sorryServer;
        vs.sorryAlive = prevVs.sorryAlive && a !== undefined && b !== undefined && a.addr === b.addr && a.port === b.port;
        this.updateQuorum(vs, false);
      } else {
        vs.quorumUp = this.weightSum(vs) >= vs.cfg.quorum + vs.cfg.hysteresis;
        this.updateQuorum(vs, true);
      }
    }
  }

  /** Events produced while building the initial state (e.g. "Starting with quorum down"). */
  takeInitialEvents(): CheckEvent[] {
    const ev = this.events;
    this.events = [];
    this.dirty.clear();
    return ev;
  }

  /** Delay before the first run: BOOTSTRAP_DELAY + warmup × random (random in [0,1]). */
  firstDelayMs(checkerId: number, random: number): number {
    const warmup = this.checkers[checkerId]!.cfg.warmupMs;
    return BOOTSTRAP_DELAY_MS + (warmup > 0 ? Math.floor(warmup * random) : 0);
  }

  /** HTTP/SSL: which URL the next probe of this checker must fetch. */
  urlIndex(checkerId: number): number {
    return this.checkers[checkerId]!.urlIt ?? 0;
  }

  desiredAll(): DesiredVs[] {
    return this.vss.map((vs) => this.desired(vs));
  }

  desiredOf(vsKey: string): DesiredVs | undefined {
    const vs = this.vss.find((v) => v.cfg.key === vsKey);
    return vs ? this.desired(vs) : undefined;
  }

  /**
   * Feed one probe result. `startedAt`/`finishedAt` are the probe's start and end times (ms, any epoch);
   * MISC_CHECK schedules from the start like keepalived (last_ran), the others from the end.
   */
  onResult(checkerId: number, result: ProbeResult, startedAt: number, finishedAt: number): ResultOutput {
    const ck = this.checkers[checkerId];
    if (!ck) throw new KtError('KT_CHECK_CONFIG', `unknown checker ${checkerId}`);
    let delay: number;
    switch (ck.cfg.kind) {
      case 'TCP_CHECK':
        delay = this.tcpEpilog(ck, result);
        break;
      case 'MISC_CHECK':
        delay = this.miscEpilog(ck, result);
        delay = Math.max(1, startedAt + delay - finishedAt);
        break;
      default:
        delay = this.httpEpilog(ck, result);
    }
    const events = this.events;
    this.events = [];
    const changed: DesiredVs[] = [];
    for (const vs of this.dirty) changed.push(this.desired(vs));
    this.dirty.clear();
    return { nextDelayMs: delay, events, changed };
  }

  /** Events keepalived produces on shutdown: with omega, notify_down of alive RS and quorum_down. */
  shutdownEvents(): CheckEvent[] {
    for (const vs of this.vss) {
      if (!vs.cfg.omega) continue;
      for (const rs of vs.rs) {
        if (!rs.alive) continue;
        rs.alive = false;
        this.rsNotify(vs, rs);
      }
      if (vs.quorumUp) {
        vs.quorumUp = false;
        this.vsNotify(vs, false, vs.cfg.quorum - vs.cfg.hysteresis, 0);
      }
    }
    const ev = this.events;
    this.events = [];
    return ev;
  }

  // ---- checker state machines -------------------------------------------------------------------

  /** check_tcp.c tcp_epilog. */
  private tcpEpilog(ck: CheckerState, r: ProbeResult): number {
    const c = ck.cfg;
    let delay = c.delayLoopMs;
    if (r.ok || ((ck.isUp || !ck.hasRun) && ck.retryIt >= c.retry)) {
      ck.retryIt = 0;
      if (r.ok && (!ck.isUp || !ck.hasRun)) this.checkerState(ck, true, r.reason);
      else if (!r.ok && (ck.isUp || !ck.hasRun)) this.checkerState(ck, false, r.reason);
    } else if (ck.isUp) {
      delay = c.delayBeforeRetryMs;
      ck.retryIt++;
      this.failure(ck, r.reason);
    }
    ck.hasRun = true;
    return delay;
  }

  /** check_misc.c misc_check_child_thread (exit status path; a kill/timeout is a plain failure). */
  private miscEpilog(ck: CheckerState, r: ProbeResult): number {
    const c = ck.cfg as Extract<CheckerConfig, { kind: 'MISC_CHECK' }>;
    const status = r.exitStatus;
    const success = status === 0 || (c.dynamic === true && status !== undefined && status >= 2 && status <= 255);
    if (success) {
      if (status !== ck.lastExitCode) {
        let eff = ck.rs.effectiveWeight - ck.curWeight;
        ck.curWeight = status ? status - 2 - ck.rs.cfg.weight : 0;
        eff += ck.curWeight;
        this.updateWeight(ck.vs, ck.rs, eff);
        ck.lastExitCode = status!;
      }
      if (!ck.isUp || !ck.hasRun) this.checkerState(ck, true, r.reason);
      ck.retryIt = 0;
    } else if (ck.isUp || !ck.hasRun) {
      if (ck.retryIt < c.retry) {
        ck.retryIt++;
        this.failure(ck, r.reason);
      } else {
        ck.retryIt = 0;
        if (status !== undefined) {
          ck.rs.effectiveWeight -= ck.curWeight;
          ck.curWeight = 0;
          ck.lastExitCode = status;
        }
        this.checkerState(ck, false, r.reason);
        ck.curWeight = 0;
      }
    } else if (status !== undefined) {
      ck.lastExitCode = status;
    }
    ck.hasRun = true;
    return ck.retryIt ? c.delayBeforeRetryMs : c.delayLoopMs;
  }

  /** check_http.c epilog: one URL per run, all must pass; REGISTER_CHECKER_NEW on success, RETRY on failure. */
  private httpEpilog(ck: CheckerState, r: ProbeResult): number {
    const c = ck.cfg as Extract<CheckerConfig, { kind: 'HTTP_GET' | 'SSL_GET' }>;
    const last = c.urls.length - 1;
    if (r.ok) {
      ck.urlIt = ck.urlIt === null || ck.urlIt >= last ? null : ck.urlIt + 1;
      ck.retryIt = 0;
    } else {
      ck.retryIt++;
    }
    if (r.ok && ck.urlIt === null && ck.failedUrl === null) {
      if (!ck.isUp || !ck.hasRun) {
        this.checkerState(ck, true, r.reason);
        ck.hasRun = true;
      }
      ck.urlIt = 0;
      ck.retryIt = 0;
    } else if (!r.ok && ck.retryIt > c.retry) {
      if (ck.isUp || !ck.hasRun) this.checkerState(ck, false, r.reason);
      ck.failedUrl = ck.urlIt ?? 0;
    } else if (r.ok && ck.failedUrl !== null) {
      // The failed URL answers again: re-validate all URLs from the first.
      ck.failedUrl = null;
      ck.urlIt = 0;
      ck.retryIt = 0;
    } else if (!r.ok) {
      this.failure(ck, r.reason);
    }
    let delay: number;
    if (r.ok) {
      delay = c.delayLoopMs;
      if (!ck.hasRun) ck.retryIt = c.retry;
    } else if (ck.failedUrl !== null) delay = Math.max(c.delayBeforeRetryMs, c.delayLoopMs);
    else delay = c.delayBeforeRetryMs;
    if (c.fastRecovery && (!ck.hasRun || (!ck.isUp && ck.failedUrl === null))) delay = 0;
    return delay;
  }

  private failure(ck: CheckerState, reason: string): void {
    this.events.push({
      kind: 'checker-failure',
      vsKey: ck.vs.cfg.key,
      rs: ck.rs.label,
      checker: ck.id,
      reason,
      message: `${ck.cfg.kind} on service ${ck.rs.label} of VS ${ck.vs.label} failed (${reason}), retry ${ck.retryIt}/${ck.cfg.retry}`,
    });
  }

  // ---- ipwrapper.c ------------------------------------------------------------------------------

  /** update_svr_checker_state + set_checker_state. */
  private checkerState(ck: CheckerState, alive: boolean, reason: string): void {
    const { vs, rs } = ck;
    if (ck.isUp === alive) {
      if (!ck.hasRun) {
        if (ck.cfg.alpha || !alive) this.rsNotify(vs, rs);
        ck.hasRun = true;
      }
      return;
    }
    ck.hasRun = true;
    this.events.push({
      kind: alive ? 'checker-up' : 'checker-down',
      vsKey: vs.cfg.key,
      rs: rs.label,
      checker: ck.id,
      reason,
      message: `${ck.cfg.kind} on service ${rs.label} of VS ${vs.label} ${alive ? 'succeeded' : 'failed'}: ${reason}`,
    });
    if (alive ? rs.numFailed <= 1 : rs.numFailed === 0) this.performSvrState(vs, rs, alive);
    ck.isUp = alive;
    if (!alive) rs.numFailed++;
    else if (rs.numFailed) rs.numFailed--;
  }

  /** perform_svr_state: the RS enters or leaves the pool (the pool itself is derived in desired()). */
  private performSvrState(vs: VsState, rs: RsState, alive: boolean): void {
    if (rs.alive === alive) return;
    const inhibit = rs.cfg.inhibitOnFailure === true;
    this.events.push({
      kind: 'pool',
      vsKey: vs.cfg.key,
      message: `${alive ? (inhibit ? 'Enabl' : 'Add') : inhibit ? 'Disabl' : 'Remov'}ing service ${rs.label} ${
        inhibit ? 'of' : alive ? 'to' : 'from'
      } VS ${vs.label}`,
    });
    rs.alive = alive;
    this.dirty.add(vs);
    this.rsNotify(vs, rs);
    this.updateQuorum(vs, false);
  }

  /** update_svr_wgt (update_quorum = true, as MISC_CHECK calls it). */
  private updateWeight(vs: VsState, rs: RsState, weight: number): void {
    const oldW = realWeight(rs.effectiveWeight);
    const newW = realWeight(weight);
    rs.effectiveWeight = weight;
    if (newW === oldW) return;
    this.events.push({
      kind: 'weight',
      vsKey: vs.cfg.key,
      message: `Changing weight from ${oldW} to ${newW} for ${rs.alive ? '' : 'in'}active service ${rs.label} of VS ${vs.label}`,
    });
    this.dirty.add(vs);
    this.updateQuorum(vs, false);
  }

  private weightSum(vs: VsState): number {
    let sum = 0;
    for (const rs of vs.rs) if (rs.alive) sum += realWeight(rs.effectiveWeight);
    return sum;
  }

  /** update_quorum_state. */
  private updateQuorum(vs: VsState, init: boolean): void {
    const sum = this.weightSum(vs);
    const { quorum, hysteresis } = vs.cfg;
    const threshold = quorum + (vs.quorumUp ? -1 : 1) * hysteresis;
    const sorry = vs.cfg.sorryServer;
    if (!vs.quorumUp && sum >= threshold) {
      vs.quorumUp = true;
      if (sorry && vs.sorryAlive) {
        vs.sorryAlive = false;
        this.dirty.add(vs);
        this.events.push({
          kind: 'sorry-server-out',
          vsKey: vs.cfg.key,
          message: `${sorry.inhibit ? 'Disabling' : 'Removing'} sorry server ${formatTrio(sorry.addr, vs.cfg.protocol, sorry.port)} from VS ${vs.label}`,
        });
      }
      this.vsNotify(vs, init, threshold, sum);
    } else if ((vs.quorumUp && (!sum || sum < threshold)) || (init && !vs.quorumUp && sorry && !vs.sorryAlive)) {
      vs.quorumUp = false;
      if (sorry && !vs.sorryAlive) {
        vs.sorryAlive = true;
        this.dirty.add(vs);
        this.events.push({
          kind: 'sorry-server-in',
          vsKey: vs.cfg.key,
          message: `${sorry.inhibit ? 'Enabling' : 'Adding'} sorry server ${formatTrio(sorry.addr, vs.cfg.protocol, sorry.port)} to VS ${vs.label}`,
        });
      }
      this.vsNotify(vs, init, threshold, sum);
    }
  }

  /** do_vs_notifies: quorum_up / quorum_down script and FIFO line. */
  private vsNotify(vs: VsState, init: boolean, threshold: number, sum: number): void {
    const up = vs.quorumUp;
    const { quorum, hysteresis } = vs.cfg;
    const script = up ? vs.cfg.quorumUp : vs.cfg.quorumDown;
    this.events.push({
      kind: up ? 'quorum-up' : 'quorum-down',
      vsKey: vs.cfg.key,
      ...(script ? { script } : {}),
      fifoLine: `VS ${vs.label} ${up ? 'UP' : 'DOWN'}\n\0`,
      weightSum: sum,
      threshold,
      init,
      message: up
        ? `Gained quorum ${quorum}+${hysteresis}=${threshold} <= ${sum} for VS ${vs.label}`
        : `${init ? 'Starting with quorum down' : 'Lost quorum'} ${quorum}-${hysteresis}=${threshold} > ${sum} for VS ${vs.label}`,
    });
  }

  /** do_rs_notifies: notify_up / notify_down script and FIFO line. */
  private rsNotify(vs: VsState, rs: RsState): void {
    const up = rs.alive;
    const script = up ? rs.cfg.notifyUp : rs.cfg.notifyDown;
    this.events.push({
      kind: up ? 'rs-up' : 'rs-down',
      vsKey: vs.cfg.key,
      rs: rs.label,
      addr: rs.cfg.addr,
      port: rs.cfg.port,
      ...(script ? { script } : {}),
      fifoLine: `RS ${rs.label} ${vs.label} ${up ? 'UP' : 'DOWN'}\n\0`,
      message: `RS ${rs.label} of VS ${vs.label} is ${up ? 'UP' : 'DOWN'}`,
    });
  }

  /**
   * The destinations IPVS must hold for a VS, derived from state the way keepalived's sequence of
   * ADD/DEL/EDIT_DEST commands leaves the kernel: while a sorry server stands in, alive RS are out
   * (inhibited ones at weight 0) and RS changes are remembered only; inhibit_on_failure keeps failed
   * RS at weight 0; sorry_server_inhibit keeps an idle sorry server at weight 0.
   */
  private desired(vs: VsState): DesiredVs {
    const dests: DesiredDest[] = [];
    const sorry = vs.cfg.sorryServer;
    const sorryIn = sorry !== undefined && vs.sorryAlive;
    for (const rs of vs.rs) {
      const inhibit = rs.cfg.inhibitOnFailure === true;
      if (rs.alive && !sorryIn) dests.push({ addr: rs.cfg.addr, port: rs.cfg.port, weight: realWeight(rs.effectiveWeight), inhibited: false });
      else if (inhibit) dests.push({ addr: rs.cfg.addr, port: rs.cfg.port, weight: 0, inhibited: true });
    }
    if (sorry) {
      if (sorryIn) dests.push({ addr: sorry.addr, port: sorry.port, weight: realWeight(sorry.weight), inhibited: false });
      else if (sorry.inhibit) dests.push({ addr: sorry.addr, port: sorry.port, weight: 0, inhibited: true });
    }
    return { vsKey: vs.cfg.key, dests };
  }
}
