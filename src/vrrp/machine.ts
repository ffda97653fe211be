// Per-instance VRRP state machine (keepalived vrrp.c / vrrp_scheduler.c semantics), pure:
//   step(state, input, now) → { state, effects }
// The shell feeds inputs (start, validated adverts, timer expiry, link/tracker changes, shutdown) with the current
// time in ms, executes the effects in order, and arms one timer for nextDeadline(state).
import { compareAddr } from '../net/address.js';
import type { Advert } from './packet.js';
import { masterDownMs, skewPriority, skewTimeMs } from './timers.js';
import type { NotifyEventState, VrrpInstanceSpec, VrrpState } from './spec.js';
import type { LogEffect, LogFields } from '../util/log-effect.js';

// ---- inputs ---------------------------------------------------------------------------------------------------

/** What can happen to an instance. */
export type Input =
  /**
   * Daemon start (after vrrp_startup_delay): INIT → BACKUP (or FAULT), arms the master-down timer. `listeningSince`:
   * the instance's socket has been receiving since then (opened before this process ran, its queued adverts read
   * right after this input), so the wait for a master counts from then, never from earlier.
   */
  | { type: 'start'; listeningSince?: number }
  /** A validated advert (see validate.ts) for this VRID from `src`. Ignored in INIT/FAULT/STOP/DELETED. */
  | { type: 'advert-received'; advert: Advert; src: string }
  /** Time passed: processes every deadline ≤ now (master-down, advert, GARP bursts). */
  | { type: 'timer' }
  /** The instance's interface went down/up (FAULT reason "interface"). */
  | { type: 'interface-down' }
  | { type: 'interface-up' }
  /**
   * Trackers recomputed (see track.ts trackVerdict): new effective priority and the names of trackers that force
   * FAULT (empty = none).
   */
  | { type: 'tracker-changed'; effectivePriority: number; faults: string[] }
  /** Set or clear a named FAULT reason from elsewhere (sync group, no source address, config fault…). */
  | { type: 'fault'; reason: string; active: boolean }
  /** A VIP was deleted by someone else while we are MASTER (netlink): go BACKUP, retake after the skew time. */
  | { type: 'vip-removed-externally'; address: string }
  /** A MASTER in our sync group heard a lower priority: send our lower-priority GARPs too. */
  | { type: 'lower-prio-garp' }
  /**
   * Sync group forces a state (MASTER: goto master now; BACKUP: leave master without prio-0 advert; `quick`
   * re-arms master-down to the skew time, as when a member lost a VIP externally).
   */
  | { type: 'force-state'; to: 'MASTER' | 'BACKUP'; quick?: boolean }
  /**
   * Every unweighted track_script has reported its first result (keepalived's num_script_init reached 0): an owner
   * that started as BACKUP because of them takes over now (try_up_instance).
   */
  | { type: 'scripts-ready' }
  /**
   * Split-brain guard (guard.ts): the lock came to a BACKUP that VRRP elected (wantState MASTER), which becomes
   * MASTER now; or a MASTER's lock stopped counting, so it sends priority 0, drops its VIPs and goes BACKUP.
   */
  | { type: 'guard-granted' }
  | { type: 'guard-lost'; why: string }
  /**
   * `ctl switchover` (issue 12): a MASTER hands over as on shutdown (priority 0, VIPs removed) but goes BACKUP and
   * stays there, not preempting, until `holdUntil` (undefined: until `resume`). Until an advert from another router
   * confirms the hand-over, its master-down is the take-over window (SWITCHOVER_WINDOW_INTERVALS intervals): nobody
   * taking over in that time, it takes MASTER back at once (reason switchover-failed). Ignored unless MASTER.
   */
  | { type: 'switchover'; holdUntil?: number }
  /** `ctl resume`: the switchover hold ends; preemption works again (the next lower-priority advert is discarded). */
  | { type: 'resume' }
  /**
   * `ctl maintenance on|off`: on, a MASTER hands over (priority 0, VIPs removed) and the instance stays BACKUP,
   * listening and following the master but never taking over, whatever its priority or the master-down timer say.
   */
  | { type: 'maintenance'; on: boolean }
  /** SIGTERM: a MASTER sends priority 0 and drops its VIPs; → STOP. */
  | { type: 'shutdown' }
  /** Removed by reload: like shutdown but → DELETED. */
  | { type: 'delete' };

// ---- effects --------------------------------------------------------------------------------------------------

/** What the shell must do, in order. */
export type Effect =
  /** Send one advert with this priority (our vrid/version/interval/VIPs from the spec; 0 = we are leaving). */
  | { type: 'send-advert'; priority: number }
  /** Add these addresses (VIPs then excluded VIPs) to the interface. */
  | { type: 'add-vips'; addresses: string[] }
  /** Remove these addresses. */
  | { type: 'remove-vips'; addresses: string[] }
  /**
   * Send `count` gratuitous ARPs (IPv4) / unsolicited NAs (IPv6) per VIP, paced by garp_interval.
   * reason: master = first burst on becoming MASTER; master-delay = second burst; refresh = periodic;
   * lower-prio / lower-prio-delay = after hearing a lower-priority advert while MASTER.
   */
  | { type: 'send-garp'; count: number; reason: 'master' | 'master-delay' | 'refresh' | 'lower-prio' | 'lower-prio-delay'; addresses: string[] }
  /**
   * Run notifications: per-state script, then generic `notify` (TYPE NAME STATE PRIO), then FIFO…
   * scope INSTANCE here; sync-group.ts adds GROUP notifies with priority 0.
   */
  | { type: 'notify'; scope: 'INSTANCE' | 'GROUP'; name: string; state: NotifyEventState; priority: number }
  /** A state transition happened (for logs, counters, JSON/state dumps). Emitted before the notify. */
  | { type: 'state-changed'; from: VrrpState; to: VrrpState; reason: string }
  /** A log line; the instance name is in the message and in `fields.instance`. */
  | LogEffect;

// ---- state ----------------------------------------------------------------------------------------------------

interface GarpTimer { at: number; count: number; reason: 'master-delay' | 'refresh' | 'lower-prio-delay' }

export interface InstanceState {
  readonly spec: VrrpInstanceSpec;
  readonly state: VrrpState;
  /** What the instance would like to be (sync groups may hold a MASTER-wanting member in BACKUP). */
  readonly wantState: VrrpState;
  readonly effectivePriority: number;
  /** Master_Adver_Interval: ours, or the current master's (v3 backups adopt it). */
  readonly masterAdverIntMs: number;
  /** Last accepted master (address/priority), for logs and skip_check_adv_addr. */
  readonly masterAddress?: string;
  readonly masterPriority?: number;
  /** BACKUP: absolute time at which master-down fires. */
  readonly downAt?: number;
  /** MASTER: absolute time of the next advert. */
  readonly advertAt?: number;
  /** MASTER: pending GARP bursts. */
  readonly garpTimers: readonly GarpTimer[];
  /** preempt_delay running until this time (undefined = not started). */
  readonly preemptUntil?: number;
  /** Active FAULT reasons: "interface", "tracker:<name>", "sync-group", … */
  readonly faults: readonly string[];
  /** Time of the last state change (for dumps). */
  readonly lastTransition?: number;
  /**
   * Two address owners (both 255) on one VRID: the one with the higher address waits for 2 of its own adverts
   * plus 1.2 × max(intervals); if the other still advertises 255 within that window, it lowers itself to 254.
   */
  readonly rogue?: { readonly counter: number; readonly adverIntMs: number; readonly until?: number };
  /**
   * Handed over by `ctl switchover`: no preemption until `until` (undefined: until `resume`). `confirmed` once an
   * advert from another router arrived after the hand-over (until then the down timer is the take-over window).
   */
  readonly hold?: { readonly until?: number; readonly confirmed: boolean };
  /** `ctl maintenance on`: BACKUP and held there (never MASTER) until `maintenance off`. */
  readonly maintenance?: boolean;
}

/**
 * How long a switched-over instance waits for another router to take over, in its advert intervals: the backup
 * that hears priority 0 takes over after its skew time (less than one interval) and advertises at once.
 */
export const SWITCHOVER_WINDOW_INTERVALS = 2;

/** Whether the switchover hold still stops preemption at `now`. */
export function holdActive(s: InstanceState, now: number): boolean {
  return s.hold !== undefined && (s.hold.until === undefined || now < s.hold.until);
}

export interface StepResult {
  state: InstanceState;
  effects: Effect[];
}

export interface StepOptions {
  /**
   * Sync groups: whether this member may become MASTER now. When false and the master-down timer fires, the
   * member only records wantState MASTER and re-arms its timer (keepalived vrrp_sync_can_goto_master).
   */
  mayBecomeMaster?: boolean;
  /**
   * Unweighted track_scripts have not reported yet (keepalived num_script_init > 0): an owner does not take the
   * 1 µs shortcut to MASTER at start; it waits as BACKUP for the scripts (or its master-down timer).
   */
  scriptsPending?: boolean;
}

/** FAULT reason of an instance its configuration keeps in FAULT (keepalived's num_config_faults; config configFault). */
export const CONFIG_FAULT = 'config';

/** Fresh INIT state for a spec. */
export function initialState(spec: VrrpInstanceSpec): InstanceState {
  return {
    spec,
    state: 'INIT',
    wantState: spec.priority === 255 || spec.initialState === 'MASTER' ? 'MASTER' : 'BACKUP',
    effectivePriority: spec.priority,
    masterAdverIntMs: spec.advertIntMs,
    garpTimers: [],
    faults: [],
  };
}

/** The earliest absolute time the shell must feed a `timer` input, or undefined when nothing is pending. */
export function nextDeadline(s: InstanceState): number | undefined {
  if (s.state === 'BACKUP') return s.downAt;
  if (s.state !== 'MASTER') return undefined;
  let t = s.advertAt ?? Infinity;
  for (const g of s.garpTimers) t = Math.min(t, g.at);
  return t === Infinity ? undefined : t;
}

/** Skew time for this instance at its current Master_Adver_Interval. */
export function skewOf(s: InstanceState): number {
  return skewTimeMs(s.spec.version, skewPriority(s.spec.priority, s.effectivePriority), s.masterAdverIntMs);
}

/** Master_Down_Interval for this instance. */
export function masterDownOf(s: InstanceState): number {
  return masterDownMs(s.spec.version, skewPriority(s.spec.priority, s.effectivePriority), s.masterAdverIntMs, s.spec.downTimerAdverts);
}

const allVips = (spec: VrrpInstanceSpec) => [...spec.vips, ...spec.excludedVips];

/** Mutable builder used inside one step; the outside world only sees the frozen result. */
class Tx {
  s: { -readonly [K in keyof InstanceState]: InstanceState[K] };
  effects: Effect[] = [];
  constructor(st: InstanceState, readonly now: number) {
    // The arrays are shared with the state stepped from: every change assigns a new array, none edits one in place.
    this.s = { ...st };
  }
  get spec() { return this.s.spec; }
  emit(e: Effect) { this.effects.push(e); }
  log(level: 'info' | 'warning' | 'error', msg: string, fields?: LogFields) {
    this.emit({ type: 'log', level, msg: `(${this.spec.name}) ${msg}`, fields: { instance: this.spec.name, vrid: this.spec.vrid, ...fields } });
  }
  notify(state: NotifyEventState) {
    this.emit({ type: 'notify', scope: 'INSTANCE', name: this.spec.name, state, priority: this.s.effectivePriority });
  }
  transition(to: VrrpState, reason: string, notify = true, logLine = true) {
    const from = this.s.state;
    this.s.state = to;
    this.s.lastTransition = this.now;
    this.emit({ type: 'state-changed', from, to, reason });
    if (!notify) return;
    if (logLine) this.log('info', `Entering ${to} STATE${reason === 'init' ? ' (init)' : ''}`, { state: to });
    if (to === 'MASTER' || to === 'BACKUP' || to === 'FAULT' || to === 'STOP' || to === 'DELETED') this.notify(to);
  }
  armDown(ms: number) { this.s.downAt = this.now + ms; }
  result(): StepResult { return { state: this.s, effects: this.effects }; }
}

function gotoMaster(tx: Tx, reason: string) {
  const { spec } = tx;
  // Send the advert first so the old master drops the VIPs before our GARPs (vrrp_state_master_tx).
  tx.emit({ type: 'send-advert', priority: tx.s.effectivePriority });
  tx.s.masterAdverIntMs = spec.advertIntMs;
  const addrs = allVips(spec);
  if (addrs.length) tx.emit({ type: 'add-vips', addresses: addrs });
  tx.s.garpTimers = [];
  if (addrs.length && spec.garp.masterRepeat > 0) {
    tx.emit({ type: 'send-garp', count: spec.garp.masterRepeat, reason: 'master', addresses: addrs });
    if (spec.garp.masterDelayMs > 0) tx.s.garpTimers = [...tx.s.garpTimers, { at: tx.now + spec.garp.masterDelayMs, count: spec.garp.masterRepeat, reason: 'master-delay' }];
  }
  // The first refresh follows the second burst (vrrp.c: garp_refresh starts after garp_delay), not the first.
  if (addrs.length && spec.garp.masterRefreshMs > 0)
    tx.s.garpTimers = [...tx.s.garpTimers, { at: tx.now + spec.garp.masterDelayMs + spec.garp.masterRefreshMs, count: spec.garp.masterRefreshRepeat, reason: 'refresh' }];
  tx.s.wantState = 'MASTER';
  tx.s.downAt = undefined;
  tx.s.preemptUntil = undefined;
  tx.s.hold = undefined;
  tx.s.masterAddress = spec.primaryAddress;
  tx.s.masterPriority = tx.s.effectivePriority;
  tx.transition('MASTER', reason);
  tx.s.advertAt = tx.now + spec.advertIntMs;
}

/**
 * MASTER → BACKUP/FAULT (vrrp_state_leave_master). FAULT sends priority 0 first, and so does a hand-over
 * (`priorityZero`: switchover, maintenance), so the backup takes over after its skew time.
 */
function leaveMaster(tx: Tx, to: 'BACKUP' | 'FAULT', reason: string, downMs?: number, priorityZero = false) {
  if (to === 'FAULT' || priorityZero) tx.emit({ type: 'send-advert', priority: 0 });
  const addrs = allVips(tx.spec);
  if (addrs.length) tx.emit({ type: 'remove-vips', addresses: addrs });
  tx.s.advertAt = undefined;
  tx.s.garpTimers = [];
  tx.s.wantState = to;
  tx.s.preemptUntil = undefined;
  tx.s.rogue = undefined;
  tx.transition(to, reason);
  if (to === 'BACKUP') tx.armDown(downMs ?? masterDownOf(tx.s));
  else tx.s.downAt = undefined;
}

function enterFault(tx: Tx, reason: string) {
  if (tx.s.state === 'MASTER') return leaveMaster(tx, 'FAULT', reason);
  tx.s.wantState = 'FAULT';
  tx.s.downAt = undefined;
  tx.transition('FAULT', reason);
}

/**
 * FAULT → BACKUP (vrrp_state_leave_fault). An owner goes through BACKUP too and takes over when its master-down
 * timer fires, which damps a bouncing link instead of flapping MASTER on every bounce.
 */
function leaveFault(tx: Tx, reason: string) {
  tx.s.masterAdverIntMs = tx.spec.advertIntMs;
  tx.s.wantState = tx.spec.priority === 255 ? 'MASTER' : 'BACKUP';
  tx.s.preemptUntil = undefined;
  tx.transition('BACKUP', reason);
  tx.armDown(masterDownOf(tx.s));
}

function setFault(tx: Tx, reason: string, active: boolean) {
  const had = tx.s.faults.includes(reason);
  if (active && !had) tx.s.faults = [...tx.s.faults, reason];
  if (!active && had) tx.s.faults = tx.s.faults.filter((f) => f !== reason);
}

/** After the fault set changed: move into/out of FAULT when running. */
function reconcileFault(tx: Tx, why: string) {
  const st = tx.s.state;
  if (st === 'INIT' || st === 'STOP' || st === 'DELETED') return;
  if (tx.s.faults.length && st !== 'FAULT') enterFault(tx, why);
  else if (!tx.s.faults.length && st === 'FAULT') leaveFault(tx, why);
}

function setPriority(tx: Tx, prio: number) {
  if (tx.spec.priority === 255) return; // owner never changes (vrrp_set_effective_priority)
  const p = Math.min(254, Math.max(1, Math.round(prio)));
  if (p === tx.s.effectivePriority) return;
  const oldDown = masterDownOf(tx.s);
  tx.log('info', `Changing effective priority from ${tx.s.effectivePriority} to ${p}`, { priority: p });
  tx.s.effectivePriority = p;
  // A running down timer moves by the skew difference (vrrp_set_effective_priority).
  if (tx.s.state === 'BACKUP' && tx.s.downAt !== undefined) tx.s.downAt += masterDownOf(tx.s) - oldDown;
  if (tx.spec.notifyPriorityChanges && (tx.s.state === 'MASTER' || tx.s.state === 'BACKUP'))
    tx.notify(tx.s.state === 'MASTER' ? 'MASTER_PRIORITY' : 'BACKUP_PRIORITY');
}

function backupRx(tx: Tx, adv: Advert, src: string) {
  const { spec } = tx;
  const s = tx.s;
  // An owner that lowered itself to 254 because of a rogue owner restores 255 once adverts change.
  if (spec.priority === 255 && s.effectivePriority === 254 && (src !== s.masterAddress || adv.priority !== 255)) {
    tx.log('info', 'Restoring our priority to 255 since received advert with lower priority');
    s.effectivePriority = 255;
  }
  if (adv.priority === 0) {
    tx.log('info', `Backup received priority 0 advertisement from ${src}`, { src });
    tx.armDown(skewOf(s));
    return;
  }
  if (s.hold && !s.hold.confirmed) {
    tx.log('info', `${src} took over after the switchover (priority ${adv.priority})`, { src, priority: adv.priority });
    s.hold = { ...s.hold, confirmed: true };
  }
  const preemptDelayRunning = spec.preemptDelayMs > 0 && (s.preemptUntil === undefined || s.preemptUntil > tx.now);
  // A switchover hold or maintenance: follow the master whatever its priority (no preemption).
  const nopreempt = (!spec.preempt && spec.priority !== 255) || s.maintenance === true || holdActive(s, tx.now);
  if (nopreempt || adv.priority >= s.effectivePriority || preemptDelayRunning) {
    if (spec.version === 3 && adv.advertIntMs !== s.masterAdverIntMs) {
      tx.log('info', `Master ${src} advert interval ${adv.advertIntMs} ms, adopting it`, { src });
      s.masterAdverIntMs = adv.advertIntMs;
    }
    tx.armDown(masterDownOf(s));
    s.masterAddress = src;
    s.masterPriority = adv.priority;
    if (spec.preemptDelayMs > 0) {
      if (adv.priority >= s.effectivePriority) s.preemptUntil = undefined;
      else if (s.preemptUntil === undefined) {
        s.preemptUntil = tx.now + spec.preemptDelayMs;
        tx.log('info', `start preempt delay (${spec.preemptDelayMs / 1000}s)`);
      }
    }
    s.wantState = 'BACKUP';
    return;
  }
  // Lower priority, preempting: discard; the down timer keeps running and we take over when it fires.
  tx.log('info', `received lower priority (${adv.priority}) advert from ${src} - discarding`, { src, priority: adv.priority });
  s.masterAddress = src;
}

function masterRx(tx: Tx, adv: Advert, src: string) {
  const { spec } = tx;
  const s = tx.s;
  const cmp = compareAddr(src, spec.primaryAddress);
  const higher = adv.priority > s.effectivePriority || (adv.priority === s.effectivePriority && cmp > 0);
  if (adv.priority === 0 || (spec.higherPrioSendAdvert && higher)) {
    tx.emit({ type: 'send-advert', priority: s.effectivePriority });
    if (adv.priority === 0) {
      s.advertAt = tx.now + spec.advertIntMs; // RFC 5798 6.4.3: send an advert and reset the Adver_Timer
      tx.log('info', `Master received priority 0 message from ${src}`, { src });
      return;
    }
  }
  if (adv.priority === s.effectivePriority && cmp === 0)
    tx.log('warning', 'WARNING - equal priority advert received from remote host with our IP address.');
  else if (adv.priority === s.effectivePriority && s.effectivePriority === 255) {
    if (cmp > 0) tx.log('warning', `CONFIGURATION ERROR: local instance and ${src} are both configured as address owner, please resolve`, { src });
    else if (s.rogue?.until !== undefined && tx.now < s.rogue.until) {
      tx.log('warning', `${src} is still advertising as address owner, please resolve - reducing our priority`, { src });
      s.rogue = undefined;
      s.effectivePriority = 254;
    } else {
      if (!s.rogue || s.rogue.counter === 0) {
        tx.log('warning', `CONFIGURATION ERROR: local instance and ${src} are both configured as address owner, please resolve`, { src });
        s.rogue = { counter: 2, adverIntMs: adv.advertIntMs };
      } else s.rogue = { ...s.rogue, adverIntMs: adv.advertIntMs };
    }
  }
  if (adv.priority < s.effectivePriority || (adv.priority === s.effectivePriority && cmp < 0)) {
    tx.log('info', `Received advert from ${src} with lower priority ${adv.priority}, ours ${s.effectivePriority}${spec.lowerPrioNoAdvert ? '' : ', forcing new election'}`, { src, priority: adv.priority });
    if (!spec.lowerPrioNoAdvert) {
      tx.emit({ type: 'send-advert', priority: s.effectivePriority });
      s.advertAt = tx.now + spec.advertIntMs; // the answer is this interval's advert (RFC 5798 6.4.3)
    }
    lowerPrioGarp(tx);
    tx.notify('MASTER_RX_LOWER_PRI');
    return;
  }
  // Re-evaluated: the rogue-owner rule above may have lowered us to 254.
  if (adv.priority > s.effectivePriority || (adv.priority === s.effectivePriority && cmp > 0)) {
    if (adv.priority > s.effectivePriority)
      tx.log('info', `Master received advert from ${src} with higher priority ${adv.priority}, ours ${s.effectivePriority}`, { src, priority: adv.priority });
    else tx.log('info', `Master received advert from ${src} with same priority ${adv.priority} but higher IP address than ours`, { src, priority: adv.priority });
    if (spec.version === 3) s.masterAdverIntMs = adv.advertIntMs;
    s.masterAddress = src;
    s.masterPriority = adv.priority;
    leaveMaster(tx, 'BACKUP', 'higher-priority');
  }
}

function lowerPrioGarp(tx: Tx) {
  const { garp } = tx.spec;
  const addrs = allVips(tx.spec);
  if (!addrs.length || garp.lowerPrioRepeat <= 0) return;
  tx.emit({ type: 'send-garp', count: garp.lowerPrioRepeat, reason: 'lower-prio', addresses: addrs });
  if (garp.lowerPrioDelayMs > 0) tx.s.garpTimers = [...tx.s.garpTimers, { at: tx.now + garp.lowerPrioDelayMs, count: garp.lowerPrioRepeat, reason: 'lower-prio-delay' }];
}

function onTimer(tx: Tx, opts: StepOptions) {
  const s = tx.s;
  if (s.state === 'BACKUP' && s.downAt !== undefined && s.downAt <= tx.now) {
    if (s.maintenance) {
      // Maintenance: no master heard, and still not ours to take; keep listening.
      tx.armDown(masterDownOf(s));
      return;
    }
    if (s.hold && !s.hold.confirmed) {
      tx.log('warning', `no router took over within ${Math.round(SWITCHOVER_WINDOW_INTERVALS * s.masterAdverIntMs)} ms of the switchover: taking MASTER back`);
      s.hold = undefined;
      if (opts.mayBecomeMaster !== false) return gotoMaster(tx, 'switchover-failed');
    }
    if (opts.mayBecomeMaster === false) {
      // Held by the sync group: remember we want MASTER and keep waiting.
      s.wantState = 'MASTER';
      tx.armDown(masterDownOf(s));
      return;
    }
    gotoMaster(tx, 'master-down');
    return;
  }
  if (s.state !== 'MASTER') return;
  if (s.advertAt !== undefined && s.advertAt <= tx.now) {
    tx.emit({ type: 'send-advert', priority: s.effectivePriority });
    // Keep the cadence: a timer that fires a little late (event-loop timers run ~1 ms behind) does not push every
    // later advert back with it. Only a deadline missed by a whole interval restarts the cadence from now.
    const late = tx.now - s.advertAt;
    s.advertAt = late < tx.spec.advertIntMs ? s.advertAt + tx.spec.advertIntMs : tx.now + tx.spec.advertIntMs;
    if (tx.spec.priority === 255 && s.rogue && s.rogue.counter > 0) {
      const counter = s.rogue.counter - 1;
      // After our 2nd advert, a rogue owner that still advertises within 1.2 × max(intervals) makes us yield.
      const until = counter === 0 ? tx.now + 1.2 * Math.max(s.rogue.adverIntMs, tx.spec.advertIntMs) : s.rogue.until;
      s.rogue = { ...s.rogue, counter, until };
    }
  }
  const due = s.garpTimers.length ? s.garpTimers.filter((g) => g.at <= tx.now) : s.garpTimers;
  if (due.length) {
    s.garpTimers = s.garpTimers.filter((g) => g.at > tx.now);
    const addrs = allVips(tx.spec);
    for (const g of due) {
      tx.emit({ type: 'send-garp', count: g.count, reason: g.reason, addresses: addrs });
      if (g.reason === 'refresh') s.garpTimers = [...s.garpTimers, { at: tx.now + tx.spec.garp.masterRefreshMs, count: g.count, reason: 'refresh' }];
    }
  }
}

/** Advance one instance by one input at time `now` (ms). Never throws for well-typed inputs. */
export function step(state: InstanceState, input: Input, now: number, opts: StepOptions = {}): StepResult {
  const tx = new Tx(state, now);
  const s = tx.s;
  const alive = s.state !== 'STOP' && s.state !== 'DELETED';
  switch (input.type) {
    case 'start': {
      if (s.state !== 'INIT') break;
      // A configuration fault gets no state line (keepalived 2.2.7's vrrp_init_state logs none; the config error
      // said why), but its notify_fault runs.
      if (s.faults.length) { s.wantState = 'FAULT'; tx.transition('FAULT', 'init', true, !s.faults.includes(CONFIG_FAULT)); break; }
      const held = opts.mayBecomeMaster === false;
      if (s.maintenance) s.wantState = 'BACKUP';
      if (!held && !opts.scriptsPending && !s.maintenance && tx.spec.priority === 255 && s.wantState === 'MASTER') {
        // Owner: become MASTER through a 1 µs master-down, without a BACKUP notify (vrrp_init_state).
        tx.transition('BACKUP', 'init', false);
        tx.armDown(0.001);
        break;
      }
      tx.transition('BACKUP', 'init');
      // Time the socket has already listened (never negative: a time after now counts from now).
      const heard = input.listeningSince === undefined ? 0 : Math.max(0, now - input.listeningSince);
      // A sync member wanting MASTER while its group is BACKUP waits one interval (+ minimal skew) for a master.
      if (held && s.wantState === 'MASTER') tx.armDown(tx.spec.advertIntMs + skewTimeMs(tx.spec.version, 255, tx.spec.advertIntMs) - heard);
      else tx.armDown(masterDownOf(s) - heard);
      break;
    }
    case 'advert-received':
      if (s.state === 'BACKUP') backupRx(tx, input.advert, input.src);
      else if (s.state === 'MASTER') masterRx(tx, input.advert, input.src);
      break;
    case 'timer':
      onTimer(tx, opts);
      break;
    case 'interface-down':
      setFault(tx, 'interface', true);
      reconcileFault(tx, 'interface-down');
      break;
    case 'interface-up':
      setFault(tx, 'interface', false);
      reconcileFault(tx, 'interface-up');
      break;
    case 'tracker-changed': {
      const names = new Set(input.faults.map((n) => `tracker:${n}`));
      for (const f of s.faults.filter((f) => f.startsWith('tracker:') && !names.has(f))) setFault(tx, f, false);
      for (const f of names) setFault(tx, f, true);
      if (alive) setPriority(tx, input.effectivePriority);
      reconcileFault(tx, 'tracker');
      break;
    }
    case 'fault':
      setFault(tx, input.reason, input.active);
      reconcileFault(tx, input.reason);
      break;
    case 'vip-removed-externally':
      if (s.state !== 'MASTER') break;
      tx.log('warning', `VIP ${input.address} deleted externally, leaving MASTER`, { vip: input.address });
      leaveMaster(tx, 'BACKUP', 'vip-removed', skewOf(s));
      break;
    case 'scripts-ready':
      if (s.state === 'BACKUP' && tx.spec.priority === 255 && s.effectivePriority === 255 && opts.mayBecomeMaster !== false) tx.armDown(0.001);
      break;
    case 'lower-prio-garp':
      if (s.state === 'MASTER') lowerPrioGarp(tx);
      break;
    case 'force-state':
      if (input.to === 'MASTER' && s.state === 'BACKUP' && !s.maintenance) gotoMaster(tx, 'sync-group');
      else if (input.to === 'BACKUP' && s.state === 'MASTER') leaveMaster(tx, 'BACKUP', 'sync-group', input.quick ? skewOf(s) : undefined);
      break;
    case 'guard-granted':
      if (s.state === 'BACKUP' && s.wantState === 'MASTER') gotoMaster(tx, 'guard-lock');
      break;
    case 'guard-lost':
      if (s.state !== 'MASTER') break;
      tx.log('warning', `guard: ${input.why}, leaving MASTER`);
      tx.emit({ type: 'send-advert', priority: 0 });
      leaveMaster(tx, 'BACKUP', 'guard-lost');
      break;
    case 'switchover':
      if (s.state !== 'MASTER') break;
      leaveMaster(tx, 'BACKUP', 'switchover', SWITCHOVER_WINDOW_INTERVALS * s.masterAdverIntMs, true);
      s.hold = { until: input.holdUntil, confirmed: false };
      break;
    case 'resume':
      s.hold = undefined;
      break;
    case 'maintenance':
      if (!input.on) {
        s.maintenance = undefined;
        // The owner wants MASTER again; others preempt (or not) as configured from the next advert on.
        if (alive && tx.spec.priority === 255 && s.state === 'BACKUP') s.wantState = 'MASTER';
        break;
      }
      s.maintenance = true;
      s.hold = undefined;
      if (s.state === 'MASTER') leaveMaster(tx, 'BACKUP', 'maintenance', undefined, true);
      else if (alive && s.state !== 'INIT') s.wantState = s.state;
      break;
    case 'shutdown':
    case 'delete': {
      if (!alive) break;
      if (s.state === 'MASTER') {
        tx.emit({ type: 'send-advert', priority: 0 });
        const addrs = allVips(tx.spec);
        if (addrs.length) tx.emit({ type: 'remove-vips', addresses: addrs });
      }
      s.advertAt = undefined; s.downAt = undefined; s.garpTimers = []; s.preemptUntil = undefined;
      const to = input.type === 'shutdown' ? 'STOP' : 'DELETED';
      s.wantState = to;
      tx.transition(to, input.type);
      break;
    }
  }
  return tx.result();
}
