// Pure verdict core of the health checkers: per-checker retry state machines (keepalived's tcp_epilog, which
// PING's and UDP's epilogs repeat, HTTP epilog, misc_check_child_thread, dns_final, smtp_final), FILE_CHECK's
// value-to-weight rule (track_file.c), real-server liveness, MISC and FILE dynamic weights, per-VS quorum
// with hysteresis and sorry server, and the desired IPVS destinations that follow from all that.
// No clock, no I/O, no randomness of its own: time and random numbers are passed in. The state holds the config
// model's objects (VirtualServer, RealServer, Checker) as they are, plus who runs each script (decided once here).
import type { Checker, FileCheck, HttpCheck, MiscCheck, RealServer, ScriptSpec, SslConfig, VirtualServer } from '../config/model/types.js';
import type { CheckScriptUsers, DesiredDest, DesiredVs, ProbeResult, DecidedScript, DroppedReplies } from './checker-types.js';
import { KtError } from '../util/errors.js';

/** keepalived's BOOTSTRAP_DELAY before the first check (check_api.c). */
export const BOOTSTRAP_DELAY_MS = 1000;
const INT32_MAX = 2147483647;
/** keepalived's IPVS_WEIGHT_FAULT (INT32_MIN): a FILE_CHECK result at or below it puts the checker down. */
export const FILE_CHECK_FAULT = -INT32_MAX - 1;

/** track_file.c weight_range: an int64 product clamped to int. */
function weightRange(v: number): number {
  return v < FILE_CHECK_FAULT ? FILE_CHECK_FAULT : v > INT32_MAX ? INT32_MAX : v;
}

/**
 * The number in a track file as keepalived's process_track_file reads it: strtol base 0 on at most 127 bytes
 * (leading space, sign, 0x hex, 0 octal; trailing garbage ignored; no digits → 0). Empty → 0. A value outside
 * INT32_MIN..INT32_MAX+1 is "ignored" by keepalived (the previous value stays): undefined here.
 */
export function parseTrackFileValue(text: string): number | undefined {
  const m = /^[\t\n\v\f\r ]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)?/.exec(text.slice(0, 127));
  const sign = m?.[1] === '-' ? -1n : 1n;
  const digits = m?.[2];
  if (!digits) return 0;
  const n = sign * (/^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits[0] === '0' ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits));
  // strtol saturates at LONG_MIN/MAX with ERANGE; either way keepalived ignores it.
  if (n < BigInt(FILE_CHECK_FAULT) || n > BigInt(INT32_MAX) + 1n) return undefined;
  return Number(n);
}

/**
 * FILE_CHECK's status for a file value (update_track_file_status): with weight 0 a non-zero value is FAULT (with
 * reverse, a zero value is); otherwise value × weight (× -1 with reverse), clamped to int. FAULT is FILE_CHECK_FAULT;
 * any other status is the checker's contribution to the real server's weight.
 */
export function fileCheckStatus(value: number, weight: number, reverse: boolean): number {
  if (!weight) return (value === 0) !== !reverse ? FILE_CHECK_FAULT : 0;
  // The product can exceed 2^53: BigInt keeps the clamp exact.
  return weightRange(Number(BigInt(value) * BigInt(weight) * (reverse ? -1n : 1n)));
}

export type CheckEvent =
  | { kind: 'checker-up' | 'checker-down'; vsKey: string; rs: string; checker: number; reason: string; message: string }
  | { kind: 'checker-failure'; vsKey: string; rs: string; checker: number; reason: string; message: string }
  | {
      kind: 'rs-up' | 'rs-down';
      vsKey: string;
      rs: string;
      addr: string;
      port: number;
      script?: DecidedScript;
      /** Exact bytes keepalived writes to notify_fifo / lvs_notify_fifo (including the trailing NUL). */
      fifoLine: string;
      message: string;
    }
  | {
      kind: 'quorum-up' | 'quorum-down';
      vsKey: string;
      script?: DecidedScript;
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
  readonly cfg: Checker;
  /** Its identity across a reload (checkerKey), computed once: a reload of 50,000 checkers compares both sides. */
  readonly key: string;
  /** MISC_CHECK: misc_path with its runner decided. */
  readonly run?: DecidedScript;
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
  /** FILE_CHECK: the last value read from its file (keepalived's last_status). */
  fileValue: number;
  /** Replies its probes read and dropped, by reason (ProbeResult.dropped), since start; kept across reloads. */
  droppedReplies: DroppedReplies;
}

/** notify_up / notify_down (RS), quorum_up / quorum_down (VS), each with its runner decided; a removed one absent. */
export interface UpDownScripts {
  readonly up?: DecidedScript;
  readonly down?: DecidedScript;
}

export interface RsState {
  readonly cfg: RealServer;
  readonly label: string;
  readonly scripts: UpDownScripts;
  alive: boolean;
  numFailed: number;
  effectiveWeight: number;
}

export interface VsState {
  readonly cfg: VirtualServer;
  readonly label: string;
  readonly scripts: UpDownScripts;
  readonly rs: RsState[];
  quorumUp: boolean;
  sorryAlive: boolean;
}

/** `[addr]:proto:port` like keepalived's inet_sockaddrtotrio: `[10.0.0.1]:tcp:80`, `[2001:db8::1]:udp:53`. */
export function formatTrio(addr: string, proto: string, port: number): string {
  return `[${addr}]:${proto}:${port}`;
}

/**
 * The line keepalived logs when a checker goes up or down, the one operators grep: check_tcp.c tcp_epilog ("TCP
 * connection to [rs]:tcp:80 success." / "TCP_CHECK on service … failed[ after N retries]."), check_misc.c
 * misc_check_child_thread ("Misc check for [rs VS vs] by [path] succeeded." / "failed after N retries (exited with
 * status 1)."), check_http.c for HTTP_GET / SSL_GET going down. Other cases keep our wording with the reason.
 */
function checkerLine(ck: CheckerState, alive: boolean, reason: string, r: ProbeResult | undefined, hadRun: boolean): string {
  const rs = ck.rs.label;
  const retry = ck.cfg.retry;
  const c = ck.cfg;
  if (c.type === 'TCP_CHECK') {
    if (alive) return `TCP connection to ${rs} success.`;
    return retry && hadRun ? `TCP_CHECK on service ${rs} failed after ${retry} retries.` : `TCP_CHECK on service ${rs} failed.`;
  }
  if (c.type === 'MISC_CHECK' && (alive || r)) {
    const head = `Misc check for [${rs} VS ${ck.vs.label}] by [${c.script.argv[0]}]`;
    if (alive) return `${head} succeeded.`;
    const tries = retry ? ` after ${retry} ${retry === 1 ? 'retry' : 'retries'}` : ' with retry disabled';
    const why = r!.exitStatus !== undefined ? ` (exited with status ${r!.exitStatus})` : !r!.timedOut && r!.signal !== undefined ? ` (due to signal ${r!.signal})` : '';
    return `${head} ${r!.timedOut ? 'timed out' : 'failed'}${tries}${why}.`;
  }
  if ((c.type === 'HTTP_GET' || c.type === 'SSL_GET') && !alive) {
    return retry && hadRun ? `HTTP_CHECK on service ${rs} failed after ${retry} retries.` : `HTTP_CHECK on service ${rs} failed.`;
  }
  return `${c.type} on service ${rs} of VS ${ck.vs.label} ${alive ? 'succeeded' : 'failed'}: ${reason}`;
}

// LVS FIFO lines (check/ipwrapper.c notify_fifo_vs / notify_fifo_rs); keepalived writes the terminating NUL too.

/** `VS [10.0.0.1]:tcp:80 UP\n\0` */
export function lvsVsFifoLine(vsLabel: string, up: boolean): string {
  return `VS ${vsLabel} ${up ? 'UP' : 'DOWN'}\n\0`;
}

/** `RS [192.168.1.2]:tcp:80 [10.0.0.1]:tcp:80 UP\n\0`; the real server is formatted with the VS's protocol. */
export function lvsRsFifoLine(rsLabel: string, vsLabel: string, up: boolean): string {
  return `RS ${rsLabel} ${vsLabel} ${up ? 'UP' : 'DOWN'}\n\0`;
}

/** keepalived's FMT_VS: `[addr]:proto:port`, `FWM n`, or `[group]:port`. */
export function formatVs(vs: Pick<VirtualServer, 'address' | 'port' | 'fwmark' | 'group' | 'protocol'>): string {
  if (vs.group !== undefined) return `[${vs.group}]:${vs.port ?? 0}`;
  if (vs.fwmark !== undefined) return `FWM ${vs.fwmark}`;
  return formatTrio(vs.address ?? '0.0.0.0', vs.protocol.toLowerCase(), vs.port ?? 0);
}

/** Where a setting was written is not part of it: a reload that only moved lines keeps every checker's state. */
const withoutLoc = (k: string, v: unknown): unknown => (k === 'loc' ? undefined : v);

/**
 * A checker's identity across a reload: its VS, real server and whole configuration, with what it depends on
 * outside its own block (the SSL files of an SSL_GET, who runs a MISC_CHECK's script).
 */
function checkerKey(vsKey: string, rs: RealServer, ck: Checker, ssl: SslConfig | undefined, run: DecidedScript | undefined): string {
  const extra = ck.type === 'SSL_GET' ? ssl : ck.type === 'MISC_CHECK' ? run?.runAs : undefined;
  return `${vsKey}|${rs.address}|${rs.port}|${JSON.stringify(ck, withoutLoc)}|${JSON.stringify(extra ?? null)}`;
}

/** "HTTP_GET on 10.0.0.2:80 of 10.0.0.1:80/TCP": one checker in logs and `ctl plan`. */
export function describeChecker(ck: Pick<CheckerState, 'cfg' | 'rs' | 'vs'>): string {
  return `${ck.cfg.type} on ${ck.rs.cfg.address}:${ck.rs.cfg.port} of ${ck.vs.cfg.key}`;
}

/**
 * What a reload from `old` to `next` does to the checkers: those whose identity is unchanged keep their state
 * (keepalived migrate_checkers), the others start afresh or stop.
 */
export function checkerReloadDiff(old: CheckVerdict | undefined, next: CheckVerdict): { kept: number; added: string[]; removed: string[] } {
  const oldIds = old?.identities() ?? [];
  const newIds = next.identities();
  const before = new Set(oldIds);
  const after = new Set(newIds);
  return {
    kept: newIds.filter((k) => before.has(k)).length,
    added: next.checkers.filter((_, i) => !before.has(newIds[i]!)).map(describeChecker),
    removed: old ? old.checkers.filter((_, i) => !after.has(oldIds[i]!)).map(describeChecker) : [],
  };
}

/** The runner of a configured script: undefined when there is none or keepalived would remove it. */
function decide(spec: ScriptSpec | undefined, users: CheckScriptUsers | undefined, role: 'notify' | 'misc'): DecidedScript | undefined {
  if (!spec) return undefined;
  if (!users) return { spec };
  const runAs = users(spec, role);
  return runAs ? { spec, runAs } : undefined;
}

export interface CheckVerdictOptions {
  /** The state before a reload (see the constructor). */
  previous?: CheckVerdict;
  /** Decides who runs each script; a script it removes is left out (a MISC_CHECK with it). Default: as written. */
  users?: CheckScriptUsers;
  /** The SSL block SSL_GET checkers use (part of their identity across a reload). */
  ssl?: SslConfig;
  /** FILE_CHECK: each watched file's value at start, by path (absent: no file, 0). */
  fileValues?: ReadonlyMap<string, number>;
}

/** A sorry server's weight in IPVS (keepalived gives it none of its own). */
const SORRY_WEIGHT = 1;

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
  private readonly ssl: SslConfig | undefined;

  /**
   * `previous`: the state before a reload. Like keepalived's migrate_checkers(), a checker whose VS key,
   * real server and configuration are unchanged keeps its state (up/down, retries, dynamic weight), so a
   * reload does not flap real servers; a VS keeps its quorum and sorry-server state.
   */
  constructor(virtualServers: readonly VirtualServer[], opts: CheckVerdictOptions = {}) {
    const { previous, users, ssl, fileValues } = opts;
    const old = new Map<string, CheckerState>();
    const oldVs = new Map<string, VsState>();
    if (previous) {
      for (const ck of previous.checkers) old.set(ck.key, ck);
      for (const vs of previous.vss) oldVs.set(vs.cfg.key, vs);
    }
    this.ssl = ssl;
    const keys = new Set<string>();
    for (const vsCfg of virtualServers) {
      if (keys.has(vsCfg.key)) throw new KtError('KT_CHECK_CONFIG', `duplicate virtual server key ${vsCfg.key}`);
      keys.add(vsCfg.key);
      const rsList: RsState[] = [];
      const scripts = { up: decide(vsCfg.quorumUp, users, 'notify'), down: decide(vsCfg.quorumDown, users, 'notify') };
      const vs: VsState = { cfg: vsCfg, label: formatVs(vsCfg), scripts, rs: rsList, quorumUp: true, sorryAlive: false };
      for (const rsCfg of vsCfg.realServers) {
        const rs: RsState = {
          cfg: rsCfg,
          label: formatTrio(rsCfg.address, vsCfg.protocol.toLowerCase(), rsCfg.port),
          scripts: { up: decide(rsCfg.notifyUp, users, 'notify'), down: decide(rsCfg.notifyDown, users, 'notify') },
          alive: true,
          numFailed: 0,
          effectiveWeight: rsCfg.weight,
        };
        rsList.push(rs);
        for (const ck of rsCfg.checkers) {
          if ((ck.type === 'HTTP_GET' || ck.type === 'SSL_GET') && ck.urls.length === 0)
            throw new KtError('KT_CHECK_CONFIG', `${ck.type} for ${rs.label} has no url`);
          // keepalived removes a MISC_CHECK whose script fails the security check (check_misc_script_security).
          const run = ck.type === 'MISC_CHECK' ? decide(ck.script, users, 'misc') : undefined;
          if (ck.type === 'MISC_CHECK' && !run) continue;
          const key = checkerKey(vsCfg.key, rsCfg, ck, ssl, run);
          const st: CheckerState = {
            id: this.checkers.length,
            vs,
            rs,
            cfg: ck,
            key,
            ...(run ? { run } : {}),
            isUp: true,
            hasRun: false,
            // "For non alpha mode, one failure is enough initially" (check_data.c)
            retryIt: ck.retry,
            urlIt: 0,
            failedUrl: null,
            curWeight: 0,
            lastExitCode: 0,
            fileValue: 0,
            droppedReplies: {},
          };
          const prev = old.get(key);
          if (prev) {
            st.isUp = prev.isUp;
            st.hasRun = prev.hasRun;
            st.retryIt = prev.retryIt;
            st.urlIt = prev.urlIt;
            st.failedUrl = prev.failedUrl;
            st.curWeight = prev.curWeight;
            st.lastExitCode = prev.lastExitCode;
            st.fileValue = prev.fileValue;
            st.droppedReplies = prev.droppedReplies;
            rs.effectiveWeight += prev.curWeight;
            if (!st.isUp) rs.numFailed++;
          } else if (ck.type === 'FILE_CHECK') {
            this.initFileCheck(st, ck, fileValues?.get(ck.file) ?? 0);
          } else if (ck.alpha) {
            st.isUp = false;
            rs.numFailed++;
          }
          // SMTP resets its retry count at the start of every round (the first one, and after a reload, included).
          if (ck.type === 'SMTP_CHECK') st.retryIt = 0;
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
        vs.sorryAlive = prevVs.sorryAlive && a !== undefined && b !== undefined && a.address === b.address && a.port === b.port;
        this.updateQuorum(vs, false);
      } else {
        vs.quorumUp = this.weightSum(vs) >= vs.cfg.quorum + vs.cfg.hysteresis;
        this.updateQuorum(vs, true);
      }
    }
  }

  /** Each checker's reload identity (what a reload compares to carry state over), in checker order. */
  identities(): string[] {
    return this.checkers.map((ck) => ck.key);
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
    if (result.dropped) for (const [why, n] of Object.entries(result.dropped)) ck.droppedReplies[why] = (ck.droppedReplies[why] ?? 0) + n;
    let delay: number;
    switch (ck.cfg.type) {
      case 'FILE_CHECK':
        throw new KtError('KT_CHECK_CONFIG', `FILE_CHECK ${checkerId} has no probe results (onFileValue)`);
      case 'TCP_CHECK':
      case 'PING_CHECK':
      case 'UDP_CHECK':
        // icmp_epilog and udp_epilog are tcp_epilog's rules word for word.
        delay = this.tcpEpilog(ck, result);
        break;
      case 'DNS_CHECK':
        delay = this.dnsFinal(ck, result);
        break;
      case 'SMTP_CHECK':
        delay = this.smtpFinal(ck, result);
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

  /**
   * FILE_CHECK: the file now holds `value` (0 for a missing or unreadable file; a value keepalived ignores is not
   * passed here). Every checker watching `path` follows it (process_update_checker_track_file_status).
   */
  onFileValue(path: string, value: number): { events: CheckEvent[]; changed: DesiredVs[] } {
    for (const ck of this.checkers) {
      if (ck.cfg.type !== 'FILE_CHECK' || ck.cfg.file !== path || ck.fileValue === value) continue;
      const { weight, weightReverse } = ck.cfg;
      const prev = fileCheckStatus(ck.fileValue, weight, weightReverse);
      const next = fileCheckStatus(value, weight, weightReverse);
      ck.fileValue = value;
      if (prev === next) continue;
      const reason = `${ck.cfg.file} holds ${value}`;
      if (next === FILE_CHECK_FAULT) {
        this.checkerState(ck, false, reason);
        ck.rs.effectiveWeight -= ck.curWeight;
        ck.curWeight = 0;
      } else if (prev === FILE_CHECK_FAULT) {
        ck.curWeight = next;
        ck.rs.effectiveWeight += next;
        this.checkerState(ck, true, reason);
      } else {
        this.updateWeight(ck.vs, ck.rs, ck.rs.effectiveWeight + next - prev);
        ck.curWeight = next;
      }
    }
    const events = this.events;
    this.events = [];
    const changed: DesiredVs[] = [];
    for (const vs of this.dirty) changed.push(this.desired(vs));
    this.dirty.clear();
    return { events, changed };
  }

  /**
   * A FILE_CHECK at start (add_rs_to_track_files, set_track_file_weights, set_track_file_checkers_down): it has run
   * and is not alpha; a non-zero value gives it value × weight, and puts it down when that is FAULT or the weight
   * is 0. keepalived tests only "non-zero" here, reverse or not, so a weight-0 reverse checker starts down on a
   * non-zero value and up on 0 until the file first changes; kept as keepalived does it.
   */
  private initFileCheck(st: CheckerState, ck: FileCheck, value: number): void {
    st.fileValue = value;
    st.hasRun = true;
    if (!value) return;
    const product = BigInt(value) * BigInt(ck.weight) * (ck.weightReverse ? -1n : 1n);
    if (ck.weight) {
      // An int64 stored into keepalived's int cur_weight: it wraps (and stays in the weight after a FAULT start).
      st.curWeight = Number(BigInt.asIntN(32, product));
      st.rs.effectiveWeight += st.curWeight;
    }
    if (!ck.weight || product <= BigInt(FILE_CHECK_FAULT)) {
      st.isUp = false;
      st.rs.numFailed++;
    }
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
      if (r.ok && (!ck.isUp || !ck.hasRun)) this.checkerState(ck, true, r.reason, r);
      else if (!r.ok && (ck.isUp || !ck.hasRun)) this.checkerState(ck, false, r.reason, r);
    } else if (ck.isUp) {
      delay = c.delayBeforeRetryMs;
      ck.retryIt++;
      this.failure(ck, r.reason);
    }
    ck.hasRun = true;
    return delay;
  }

  /** check_dns.c dns_final: retries even before the first verdict; each retry waits delay_before_retry. */
  private dnsFinal(ck: CheckerState, r: ProbeResult): number {
    const c = ck.cfg;
    if (!r.ok) {
      if (ck.isUp || !ck.hasRun) {
        if (ck.retryIt < c.retry) {
          ck.retryIt++;
          ck.hasRun = true;
          this.failure(ck, r.reason);
          return c.delayBeforeRetryMs;
        }
        this.checkerState(ck, false, r.reason);
      }
    } else if (!ck.isUp || !ck.hasRun) this.checkerState(ck, true, r.reason);
    ck.retryIt = 0;
    return c.delayLoopMs;
  }

  /**
   * check_smtp.c smtp_final: every round starts with no retry used (smtp_start_check_thread), so a failing server is
   * tried retry + 1 times per round, also while it is already down and also before its first verdict.
   */
  private smtpFinal(ck: CheckerState, r: ProbeResult): number {
    const c = ck.cfg;
    if (!r.ok) {
      if (++ck.retryIt <= c.retry) {
        this.failure(ck, r.reason);
        return c.delayBeforeRetryMs;
      }
      if (ck.isUp || !ck.hasRun) this.checkerState(ck, false, r.reason);
      ck.retryIt = 0;
      return c.delayLoopMs;
    }
    ck.retryIt = 0;
    if (!ck.isUp || !ck.hasRun) this.checkerState(ck, true, r.reason);
    ck.hasRun = true;
    return c.delayLoopMs;
  }

  /** check_misc.c misc_check_child_thread (exit status path; a kill/timeout is a plain failure). */
  private miscEpilog(ck: CheckerState, r: ProbeResult): number {
    const c = ck.cfg as MiscCheck;
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
      if (!ck.isUp || !ck.hasRun) this.checkerState(ck, true, r.reason, r);
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
        this.checkerState(ck, false, r.reason, r);
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
    const c = ck.cfg as HttpCheck;
    const last = c.urls.length - 1;
    if (r.ok) {
      ck.urlIt = ck.urlIt === null || ck.urlIt >= last ? null : ck.urlIt + 1;
      ck.retryIt = 0;
    } else {
      ck.retryIt++;
    }
    if (r.ok && ck.urlIt === null && ck.failedUrl === null) {
      if (!ck.isUp || !ck.hasRun) {
        this.checkerState(ck, true, r.reason, r);
        ck.hasRun = true;
      }
      ck.urlIt = 0;
      ck.retryIt = 0;
    } else if (!r.ok && ck.retryIt > c.retry) {
      if (ck.isUp || !ck.hasRun) this.checkerState(ck, false, r.reason, r);
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
      message: `${ck.cfg.type} on service ${ck.rs.label} of VS ${ck.vs.label} failed (${reason}), retry ${ck.retryIt}/${ck.cfg.retry}`,
    });
  }

  // ---- ipwrapper.c ------------------------------------------------------------------------------

  /** update_svr_checker_state + set_checker_state. */
  private checkerState(ck: CheckerState, alive: boolean, reason: string, r?: ProbeResult): void {
    const { vs, rs } = ck;
    const hadRun = ck.hasRun;
    if (ck.isUp === alive) {
      if (!ck.hasRun) {
        // keepalived logs the first result even when it confirms the start state (the `|| !has_run` of its epilogs).
        if (['TCP_CHECK', 'MISC_CHECK', 'HTTP_GET', 'SSL_GET'].includes(ck.cfg.type)) {
          this.events.push({ kind: alive ? 'checker-up' : 'checker-down', vsKey: vs.cfg.key, rs: rs.label, checker: ck.id, reason, message: checkerLine(ck, alive, reason, r, hadRun) });
        }
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
      message: checkerLine(ck, alive, reason, r, hadRun),
    });
    if (alive ? rs.numFailed <= 1 : rs.numFailed === 0) this.performSvrState(vs, rs, alive);
    ck.isUp = alive;
    if (!alive) rs.numFailed++;
    else if (rs.numFailed) rs.numFailed--;
  }

  /** perform_svr_state: the RS enters or leaves the pool (the pool itself is derived in desired()). */
  private performSvrState(vs: VsState, rs: RsState, alive: boolean): void {
    if (rs.alive === alive) return;
    const inhibit = rs.cfg.inhibitOnFailure;
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
          message: `${sorry.inhibit ? 'Disabling' : 'Removing'} sorry server ${formatTrio(sorry.address, vs.cfg.protocol.toLowerCase(), sorry.port)} from VS ${vs.label}`,
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
          message: `${sorry.inhibit ? 'Enabling' : 'Adding'} sorry server ${formatTrio(sorry.address, vs.cfg.protocol.toLowerCase(), sorry.port)} to VS ${vs.label}`,
        });
      }
      this.vsNotify(vs, init, threshold, sum);
    }
  }

  /** do_vs_notifies: quorum_up / quorum_down script and FIFO line. */
  private vsNotify(vs: VsState, init: boolean, threshold: number, sum: number): void {
    const up = vs.quorumUp;
    const { quorum, hysteresis } = vs.cfg;
    const script = up ? vs.scripts.up : vs.scripts.down;
    this.events.push({
      kind: up ? 'quorum-up' : 'quorum-down',
      vsKey: vs.cfg.key,
      ...(script ? { script } : {}),
      fifoLine: lvsVsFifoLine(vs.label, up),
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
    const script = up ? rs.scripts.up : rs.scripts.down;
    this.events.push({
      kind: up ? 'rs-up' : 'rs-down',
      vsKey: vs.cfg.key,
      rs: rs.label,
      addr: rs.cfg.address,
      port: rs.cfg.port,
      ...(script ? { script } : {}),
      fifoLine: lvsRsFifoLine(rs.label, vs.label, up),
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
      if (rs.alive && !sorryIn) dests.push({ addr: rs.cfg.address, port: rs.cfg.port, weight: realWeight(rs.effectiveWeight), inhibited: false });
      else if (rs.cfg.inhibitOnFailure) dests.push({ addr: rs.cfg.address, port: rs.cfg.port, weight: 0, inhibited: true });
    }
    if (sorry) {
      if (sorryIn) dests.push({ addr: sorry.address, port: sorry.port, weight: SORRY_WEIGHT, inhibited: false });
      else if (sorry.inhibit) dests.push({ addr: sorry.address, port: sorry.port, weight: 0, inhibited: true });
    }
    return { vsKey: vs.cfg.key, dests };
  }
}
