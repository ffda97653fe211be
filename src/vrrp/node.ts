// The VRRP node: every instance and sync group of one director, pure. In the spirit of etcd raft's RawNode, it takes
// every input (start, received packets with their metadata, timer expiry, interface and address facts, tracker
// results, a reload's new plan, shutdown) with the time, and returns the effects in keepalived's order; deadline()
// says when to call it next. The daemon's shell (shell.ts) only turns inputs into calls and effects into I/O; the
// simulator and the unit tests drive this same object, with the same demux and the same advert encoding.
//
// What lives here and not in machine.ts / sync-group.ts: which instance a packet is for (VRID, then unicast peer), the
// source address (an instance without one is in FAULT, keepalived's "no usable source address"), tracker
// bookkeeping (group-level trackers on every member; owners wait for unweighted scripts' first result), reload
// (atomic: no input reaches an old instance after it), GARP/NA pacing (a per-interface queue of timed sends that
// never delays an advert or a VIP removal, cancelled when the instance leaves MASTER), counters, and sockets.
import { IpIdCounter } from '../net/ipv4-header.js';
import type { NotifyCommands } from '../notify/notify.js';
import { compareAddr, type Family } from '../net/address.js';
import type { VirtualIp, VirtualRoute, VirtualRule } from '../config/model/index.js';
import type { InstancePlan, VmacPlan, VrrpPlan } from './plan.js';
import { CONFIG_FAULT, initialState, nextDeadline, step, type Effect, type Input, type InstanceState, type StepOptions } from './machine.js';
import { advertFor, encodeAdvert } from './packet.js';
import { carryOverState, masterReloadDiff, matchInstances, planVrrpReload, type StaticKeys, type VrrpReloadPlan } from './reload.js';
import { initialSyncGroup, nextGroupDeadline, stepGroup, stepGroupMany, type SyncGroupState, type TaggedEffect } from './sync-group.js';
import { trackVerdict, type TrackerStatus } from './track.js';
import type { VrrpInstanceSpec, VrrpState } from './spec.js';
import { peekVrid, rxPolicyFor, validateAdvert, type DropReason, type ValidateResult } from './validate.js';
import type { LogEffect, LogFields, LogLevel } from '../util/log-effect.js';
import { instanceSocketSpec, type SocketSpec } from './socket-spec.js';
import { guardStateOf, lockOpen, safeDeadline, type GuardLock, type GuardSession, type GuardState } from './guard.js';

// ---- inputs -----------------------------------------------------------------------------------------------------

/** What the node knows of one interface (the shell reads it from rtnetlink). */
export interface InterfaceFacts {
  name: string;
  ifindex: number;
  /** keepalived's "up": IFF_UP && IFF_RUNNING. */
  up: boolean;
  /** IPv4 addresses, the primary first (the shell orders them: non-secondary first). */
  ipv4: string[];
  /** Usable IPv6 link-local addresses (not tentative, not DAD-failed). */
  ipv6LinkLocal: string[];
}

export type NodeInput =
  /**
   * Daemon start (after vrrp_startup_delay). Interface facts should have been fed before. `listening`: sockets (by
   * key) the shell already holds open, with the time each has been receiving since; an instance on one of them
   * counts its wait for a master from then (the shell feeds the adverts they queued right after this input).
   */
  | { type: 'start'; listening?: Readonly<Record<string, number>> }
  /** The facts of one interface changed (link state, addresses); the node recomputes faults and sources. */
  | { type: 'interface'; facts: InterfaceFacts }
  /** An interface disappeared. */
  | { type: 'interface-gone'; name: string }
  /** An address was removed from an interface (someone else may have deleted one of our VIPs). */
  | { type: 'address-removed'; ifname: string; address: string; prefix: number }
  /** A packet read from socket `socket` (see the open-socket effect). IPv4: the whole IP packet. */
  | { type: 'packet'; socket: string; bytes: Uint8Array; family: Family; src: string; dst: string; ttl?: number }
  /** Time passed (call at or after deadline()). */
  | { type: 'timer' }
  /** A tracker reported: `script:NAME` or `process:NAME` (ok), or `file:NAME` (value). */
  | { type: 'tracker'; key: string; ok?: boolean; value?: number }
  /** SIGHUP: switch to a new plan. */
  | { type: 'reload'; plan: VrrpPlan }
  /** SIGTERM. */
  | { type: 'shutdown' }
  /**
   * Split-brain guard session news from its client (src/guard/zookeeper.ts): a reply to a request sent at `sentAt`
   * (monotonic ms) with the session timeout the server granted; the connection dropped; the server expired the
   * session (its locks are gone).
   */
  | { type: 'guard-session'; guard: string; event: 'ack'; sentAt: number; timeoutMs: number }
  | { type: 'guard-session'; guard: string; event: 'disconnected' | 'expired' }
  /** The service says a lock is ours (with its fencing token) or no longer ours. */
  | { type: 'guard-lock'; guard: string; key: string; held: boolean; token?: string }
  /**
   * `ctl switchover TARGET` (an instance, or a sync group: its members together), `id` names the request in the
   * control-result effect that answers it (at once when refused, else when another router took over or nobody did).
   * Refused when no other router was ever heard on a member (a VRRP backup is silent: a master only knows its
   * peer from the time the peer was master), or the last one heard left (priority 0); `force` hands over anyway.
   */
  | { type: 'switchover'; id?: number; target: string; holdMs?: number; force?: boolean }
  /** `ctl resume TARGET`: the switchover hold ends. */
  | { type: 'resume'; id?: number; target: string }
  /** `ctl maintenance on|off`: every instance (kept across reloads; the shell feeds it before `start` after a restart). */
  | { type: 'maintenance'; id?: number; on: boolean }
  /** A raw core input for one instance: simulations of events the node does not model itself. */
  | { type: 'core'; instance: string; input: Input };

// ---- effects ----------------------------------------------------------------------------------------------------

/** An instance as effects name it: `uid` stays the same across reloads (renames included), so ownership follows. */
interface Who { uid: number; instance: string }

export type NodeEffect =
  | ({ type: 'open-socket' } & SocketSpec)
  | { type: 'close-socket'; key: string }
  /**
   * One advert, encoded, to one destination. IPv4: the VRRP message; the socket adds keepalived's IP header.
   * `bytes` is shared by every send of the same advert (the node encodes it once): read it, never write it.
   */
  | (Who & { type: 'send-advert'; socket: string; dst: string; src: string; ttl: number; ipId: number; priority: number; bytes: Uint8Array })
  /**
   * use_vmac at start (keepalived's vrrp_complete_instance): the macvlan, mode private, with the sysctls keepalived
   * sets, up. `ipv6`: keep IPv6 on it (an IPv6 instance, or eVIPs of the other family); else disable_ipv6.
   * `linkLocal`: an IPv6 instance sending from the VMAC sends from this address, added to it (set_link_local_address).
   */
  | (Who & { type: 'create-vmac'; vmac: VmacPlan; family: Family; ipv6: boolean; linkLocal?: string })
  /** use_vmac at stop or when the instance is removed by a reload: the macvlan goes, base sysctls are restored. */
  | (Who & { type: 'delete-vmac'; vmac: VmacPlan; family: Family })
  | (Who & { type: 'add-vips'; vips: VirtualIp[] })
  | (Who & { type: 'remove-vips'; vips: VirtualIp[] })
  | (Who & { type: 'add-routes'; routes: VirtualRoute[] })
  /** Remove the routes we added (all, or those whose description is in `keys`), newest first. */
  | (Who & { type: 'remove-routes'; keys?: string[] })
  | (Who & { type: 'add-rules'; rules: VirtualRule[] })
  /** `keys` (rule config lines): only these; otherwise every rule the instance added. */
  | (Who & { type: 'remove-rules'; keys?: string[] })
  /** One gratuitous ARP (IPv4) / unsolicited NA (IPv6) for one address, now. */
  | (Who & { type: 'send-garp'; vip: VirtualIp })
  | { type: 'notify'; scope: 'INSTANCE' | 'GROUP'; name: string; state: Extract<Effect, { type: 'notify' }>['state']; priority: number; scripts: NotifyCommands; uid?: number; guardToken?: string }
  /**
   * Ask for a guard lock or give it back. A release comes after the remove-vips of the members `uids`: the shell
   * lets their address work finish before it deletes the lock node.
   */
  | { type: 'guard-want'; guard: string; key: string; want: boolean; uids: number[] }
  /** The session's safe deadline passed: drop it (its lock nodes expire) and start a new one. */
  | { type: 'guard-reset'; guard: string }
  | (Who & { type: 'state-changed'; from: VrrpState; to: VrrpState; reason: string })
  /** The answer to a control input (switchover, resume, maintenance) with an id. */
  | { type: 'control-result'; id: number; ok: boolean; refusal?: 'bad-request' | 'refused'; message: string }
  | LogEffect;

/** One advert to one destination, as the node emits it. */
export type SendAdvertEffect = Extract<NodeEffect, { type: 'send-advert' }>;

/** Per-instance counters, for logs, dumps and metrics. */
export interface InstanceStats {
  advertsSent: number;
  advertsReceived: number;
  dropped: Partial<Record<DropReason, number>>;
  garpsSent: number;
  becameMaster: number;
  releasedMaster: number;
  transitions: number;
  /** keepalived's pri_zero_rcvd / pri_zero_sent. */
  priZeroReceived: number;
  priZeroSent: number;
  /** keepalived's addr_list_err: accepted adverts whose address list differs from ours. */
  addrListErr: number;
}

export const newStats = (): InstanceStats => ({
  advertsSent: 0, advertsReceived: 0, dropped: {}, garpsSent: 0, becameMaster: 0, releasedMaster: 0, transitions: 0,
  priZeroReceived: 0, priZeroSent: 0, addrListErr: 0,
});

/**
 * One instance as it looks from outside, the one shape for it: node.view() returns it, VrrpShell.snapshot() returns
 * it for the dumps, the JSON state, IPC and /status (daemon/ipc.ts flattens it to JSON).
 */
export interface InstanceStatus {
  uid: number;
  plan: InstancePlan;
  state: VrrpState;
  wantState: VrrpState;
  effectivePriority: number;
  masterAddress?: string;
  masterPriority?: number;
  /**
   * Time of the last transition (undefined = none yet): on the node's clock from node.view(), wall-clock ms from
   * VrrpShell.snapshot().
   */
  lastTransitionMs?: number;
  /** Source address in use (undefined = none usable: the instance is in FAULT). */
  src?: string;
  /** The VIPs are set (we are MASTER and asked for them). */
  vipset: boolean;
  faults: readonly string[];
  trackers: Array<{ name: string; ok?: boolean; value?: number; weight: number }>;
  stats: InstanceStats;
  /** Split-brain guard (undefined: the instance has none). */
  guard?: { name: string; state: GuardState; token?: string };
  /** A switchover hold (`ctl switchover`): until when (same clock as lastTransitionMs; undefined: until resume). */
  hold?: { untilMs?: number; confirmed: boolean };
  /** `ctl maintenance on`. */
  maintenance?: boolean;
  /** The last other router heard on this instance (address, priority). */
  lastPeer?: { address: string; priority: number };
}

// ---- internals --------------------------------------------------------------------------------------------------

/** FAULT reason of an instance without a usable source address. */
export const NO_SOURCE_FAULT = 'no-source-address';

interface Inst {
  uid: number;
  plan: InstancePlan;
  /** Trackers keyed by the instance's tracker names; group-level trackers of its sync group included. */
  trackers: Map<string, TrackerStatus>;
  src?: string;
  socket?: string;
  ipId: IpIdCounter;
  stats: InstanceStats;
  vipset: boolean;
  unit: Unit;
  /** The last other router heard (a valid advert not ours): switchover refuses when there is none. */
  lastPeer?: { address: string; priority: number; at: number };
  /** The adverts this instance sent, encoded (see AdvertCache). */
  adverts?: AdvertCache;
  /** The last advert accepted and its verdict (see RxMemo). */
  lastRx?: RxMemo;
}

/**
 * The last advert an instance accepted, with what its verdict depended on. A master sends the same advert ten times
 * a second: one that matches it byte for byte (the IPv4 id and header checksum aside: validation reads neither)
 * under the same policy gets the same verdict without decoding and checksumming it again.
 */
interface RxMemo {
  bytes: Uint8Array; family: Family; src: string; dst: string; ttl?: number;
  spec: VrrpInstanceSpec; ownSrc: string; effectivePriority: number; masterAddress?: string;
  res: Extract<ValidateResult, { ok: true }>;
}

/** Same received bytes, except an IPv4 header's id (4-5) and header checksum (10-11), which change per packet. */
function sameRxBytes(a: Uint8Array, b: Uint8Array, family: Family): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(family === 4 && (i === 4 || i === 5 || i === 10 || i === 11))) return false;
  }
  return true;
}

/**
 * An instance's encoded adverts by priority, one per destination. An advert's bytes depend only on the state's spec,
 * the plan (destinations), the source and the priority, so a steady master encodes once, not ten times a second.
 */
interface AdvertCache { spec: VrrpInstanceSpec; plan: InstancePlan; src: string; dsts: string[]; byPriority: Map<number, Uint8Array[]> }
/** Priorities kept per instance (a tracker moving the priority back and forth reuses them; more start over). */
const ADVERT_CACHE_PRIORITIES = 8;

/** A switchover waiting for another router to take over. */
interface PendingSwitchover { id: number; target: string; members: string[]; at: number }

type Unit =
  | { kind: 'single'; name: string; st: InstanceState }
  | { kind: 'group'; name: string; g: SyncGroupState; notify: NotifyCommands };

const unitMembers = (u: Unit): string[] => (u.kind === 'single' ? [u.name] : u.g.spec.members);

interface GarpSend { uid: number; vip: VirtualIp }
/** `first`: the address that opened the queue, by which a reload finds the queue's new pacing. */
interface GarpQueue { intervalMs: number; lastAt: number; pending: GarpSend[]; first: VirtualIp }

const PLACEHOLDER = { 4: '0.0.0.0', 6: '::' } as const;

export class VrrpNode {
  private plan: VrrpPlan;
  private instances = new Map<string, Inst>();
  private units: Unit[] = [];
  /** Receive demux: socket → VRID → the instances there (rebuilt with the sockets: no key built per packet). */
  private demux = new Map<string, Map<number, Inst[]>>();
  private byUid = new Map<number, Inst>();
  private readonly ifaces = new Map<string, InterfaceFacts>();
  /** Open sockets by key, with the number of instances using each. */
  private readonly sockets = new Map<string, SocketSpec>();
  private readonly garp = new Map<string, GarpQueue>();
  /** Latest tracker reports by key (script:NAME / file:NAME), kept across reloads like keepalived's scripts. */
  private readonly reports = new Map<string, { ok?: boolean; value?: number }>();
  /** Guard sessions by vrrp_guard name, locks by `guard|key`; both kept across reloads. */
  private readonly sessions = new Map<string, GuardSession>();
  private readonly locks = new Map<string, GuardLock>();
  /** Last guard state logged per unit name (logged once per change, never per tick). */
  private readonly guardShown = new Map<string, GuardState>();
  /** The member uids of the unit each lock was last asked for (a removed unit's release waits for their VIPs). */
  private readonly lockUids = new Map<string, number[]>();
  private nextUid = 1;
  /** `ctl maintenance on`: every instance held BACKUP, new ones (reload) too. */
  private maintenance = false;
  /** Some unit has a vrrp_guard (set by build). */
  private guarded = false;
  private readonly pendingSwitchovers: PendingSwitchover[] = [];
  private started = false;
  private stopped = false;
  private out: NodeEffect[] = [];
  private now = 0;

  constructor(plan: VrrpPlan) {
    this.plan = plan;
    this.build(plan.instances.map((p) => [p, undefined]), new Map());
    this.syncGuardSessions();
  }

  // ---- the one entry point ----------------------------------------------------------------------------------------

  handle(input: NodeInput, now: number): NodeEffect[] {
    this.now = now;
    this.out = [];
    if (this.stopped && input.type !== 'shutdown') return [];
    switch (input.type) {
      case 'guard-session': this.onGuardSession(input); break;
      case 'guard-lock': this.onGuardLock(input.guard, input.key, input.held, input.token); break;
      case 'start': this.start(input.listening ?? {}); break;
      case 'interface': this.onInterface(input.facts); break;
      case 'interface-gone': this.onInterfaceGone(input.name); break;
      case 'address-removed': this.onAddressRemoved(input.ifname, input.address, input.prefix); break;
      case 'packet': this.onPacket(input); break;
      case 'timer': this.onTimer(); break;
      case 'tracker': this.onTracker(input.key, input.ok, input.value); break;
      case 'reload': this.reload(input.plan); break;
      case 'shutdown': this.shutdown(); break;
      case 'switchover': this.onSwitchover(input); break;
      case 'resume': this.onResume(input); break;
      case 'maintenance': this.onMaintenance(input); break;
      case 'core': {
        const inst = this.instances.get(input.instance);
        if (!inst) throw new Error(`no instance ${input.instance}`);
        this.feed(inst, input.input);
        break;
      }
    }
    if (this.started) this.reconcileGuards();
    if (this.pendingSwitchovers.length) this.settleSwitchovers();
    return this.out;
  }

  /** The earliest time handle({type:'timer'}) must be called, or undefined. */
  deadline(): number | undefined {
    if (!this.started || this.stopped) return undefined;
    let t = Infinity;
    for (const u of this.units) t = Math.min(t, (u.kind === 'single' ? nextDeadline(u.st) : nextGroupDeadline(u.g)) ?? Infinity);
    for (const q of this.garp.values()) if (q.pending.length) t = Math.min(t, q.lastAt + q.intervalMs);
    for (const [name, s] of this.sessions) if (s.safeUntil !== undefined && this.guardHeld(name)) t = Math.min(t, s.safeUntil);
    return t === Infinity ? undefined : t;
  }

  // ---- views ------------------------------------------------------------------------------------------------------

  get currentPlan(): VrrpPlan { return this.plan; }

  state(name: string): InstanceState {
    const inst = this.instances.get(name);
    if (!inst) throw new Error(`no instance ${name}`);
    return this.stateOf(inst);
  }

  view(): InstanceStatus[] {
    return [...this.instances.values()].map((i) => {
      const s = this.stateOf(i);
      return {
        uid: i.uid, plan: i.plan, state: s.state, wantState: s.wantState, effectivePriority: s.effectivePriority,
        masterAddress: s.masterAddress, masterPriority: s.masterPriority, lastTransitionMs: s.lastTransition, src: i.src,
        vipset: i.vipset, faults: s.faults,
        trackers: [...i.trackers.values()].map((t) => ({ name: t.spec.name, ok: t.ok, value: t.value, weight: t.spec.weight })),
        stats: i.stats,
        ...this.guardView(i.unit),
        hold: s.hold && { untilMs: s.hold.until, confirmed: s.hold.confirmed },
        maintenance: s.maintenance === true,
        lastPeer: i.lastPeer && { address: i.lastPeer.address, priority: i.lastPeer.priority },
      };
    });
  }

  /** What handle({type:'reload', plan: next}) would change (reload.ts planVrrpReload), without changing anything. */
  planReload(next: VrrpPlan, heldStatics: StaticKeys): VrrpReloadPlan {
    return planVrrpReload(this.plan, (name) => this.state(name).state, next, heldStatics);
  }

  clearStats(): void {
    for (const i of this.instances.values()) i.stats = newStats();
  }

  // ---- building ---------------------------------------------------------------------------------------------------

  /**
   * (Re)builds instances and units. `carried` pairs each plan with the state it continues (kept by a reload) or
   * undefined (fresh INIT). Tracker results, counters and uids of kept instances carry over.
   */
  private build(entries: Array<[InstancePlan, { inst: Inst; st: InstanceState } | undefined]>, oldGroups: Map<string, SyncGroupState>): void {
    const instances = new Map<string, Inst>();
    const states = new Map<string, InstanceState>();
    const groupOf = new Map<string, VrrpPlan['groups'][number]>();
    for (const g of this.plan.groups) for (const m of g.members) groupOf.set(m, g);
    for (const [p, prev] of entries) {
      const trackers = new Map<string, TrackerStatus>();
      const specs = [...p.spec.trackers];
      // Group-level track_* apply to every member (keepalived vrrp_sync.c), unless the member tracks it itself.
      for (const t of groupOf.get(p.config.name)?.trackers ?? []) if (!specs.some((s) => s.name === t.spec.name)) specs.push(t.spec);
      for (const spec of specs) {
        const r = this.reports.get(spec.name);
        const iface = spec.kind === 'interface' ? this.ifaces.get(spec.name.slice('interface:'.length)) : undefined;
        trackers.set(spec.name, { spec, ok: spec.kind === 'interface' ? iface?.up ?? false : r?.ok, value: r?.value });
      }
      const inst: Inst = {
        uid: prev?.inst.uid ?? this.nextUid++, plan: p, trackers, src: prev?.inst.src, socket: prev?.inst.socket,
        ipId: prev?.inst.ipId ?? new IpIdCounter(), stats: prev?.inst.stats ?? newStats(), vipset: prev?.inst.vipset ?? false,
        unit: undefined as unknown as Unit, lastPeer: prev?.inst.lastPeer,
      };
      instances.set(p.config.name, inst);
      const spec = { ...p.spec, trackers: specs, primaryAddress: inst.src ?? PLACEHOLDER[p.spec.family] };
      const fresh = this.maintenance ? { ...initialState(spec), maintenance: true } : initialState(spec);
      states.set(p.config.name, prev ? { ...prev.st, spec: { ...prev.st.spec, trackers: specs } } : fresh);
    }
    this.instances = instances;
    this.byUid = new Map([...instances.values()].map((i) => [i.uid, i]));
    this.units = [];
    const grouped = new Set<string>();
    for (const g of this.plan.groups) {
      const members = g.members.filter((m) => instances.has(m));
      if (!members.length) continue;
      let gs = initialSyncGroup({ name: g.config.name, members }, members.map((m) => states.get(m)!));
      const before = oldGroups.get(g.config.name);
      if (before && members.every((m) => states.get(m)!.state !== 'INIT')) gs = { ...gs, state: before.state };
      const unit: Unit = { kind: 'group', name: g.config.name, g: gs, notify: g.notify };
      this.units.push(unit);
      for (const m of members) { grouped.add(m); instances.get(m)!.unit = unit; }
    }
    for (const [name, inst] of instances) {
      if (grouped.has(name)) continue;
      const unit: Unit = { kind: 'single', name, st: states.get(name)! };
      this.units.push(unit);
      inst.unit = unit;
    }
    this.guarded = this.units.some((u) => this.guardOf(u) !== undefined);
  }

  private stateOf(inst: Inst): InstanceState {
    const u = inst.unit;
    return u.kind === 'single' ? u.st : u.g.members[inst.plan.config.name]!;
  }

  // ---- lifecycle --------------------------------------------------------------------------------------------------

  private start(listening: Readonly<Record<string, number>>): void {
    if (this.started) return;
    this.started = true;
    for (const s of this.plan.skipped) this.log('error', `(${s.name}) not started: ${s.reason}`, { instance: s.name });
    for (const inst of this.instances.values()) this.refreshSource(inst, true);
    for (const inst of this.instances.values()) this.createVmac(inst);
    this.syncSockets();
    for (const inst of this.instances.values()) this.prepareFaults(inst);
    for (const u of this.units) {
      for (const m of unitMembers(u)) {
        const since = listening[this.instances.get(m)?.socket ?? ''];
        this.feedUnit(u, m, since === undefined ? { type: 'start' } : { type: 'start', listeningSince: since });
      }
    }
  }

  /**
   * Faults known before an instance starts: its configuration (the config check logged why), interface down, no
   * source address, failing unweighted trackers.
   */
  private prepareFaults(inst: Inst): void {
    if (inst.plan.config.configFault) this.feed(inst, { type: 'fault', reason: CONFIG_FAULT, active: true });
    const up = this.ifaces.get(inst.plan.interface)?.up ?? false;
    if (!up) this.feed(inst, { type: 'interface-down' });
    if (!inst.src) this.feed(inst, { type: 'fault', reason: NO_SOURCE_FAULT, active: true });
    this.feedTrackers(inst);
  }

  private shutdown(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const u of this.units) for (const m of unitMembers(u)) this.feedUnit(u, m, { type: 'shutdown' });
    this.garp.clear();
    // keepalived's shutdown_vrrp_instances deletes the VMACs after the instances stopped, -V or not.
    for (const inst of this.instances.values()) this.deleteVmac(inst);
  }

  private createVmac(inst: Inst): void {
    const p = inst.plan;
    // use_vmac_addr's VMACs (vrrp.c): an IPv6 one gets its parent's link-local address, as the instance's VMAC.
    for (const av of p.addrVmacs) {
      const linkLocal = av.family === 6 ? this.ifaces.get(av.base)?.ipv6LinkLocal[0] : undefined;
      this.emit({ ...this.who(inst), type: 'create-vmac', vmac: av, family: av.family!, ipv6: av.family === 6, ...(linkLocal ? { linkLocal } : {}) });
    }
    if (!p.vmac) return;
    const ipv6 = p.config.family === 6 || p.vips.some((v) => v.dev === p.vmac!.ifname && v.family !== p.config.family);
    const linkLocal = p.config.family === 6 && !p.vmac.xmitBase ? inst.src : undefined;
    this.emit({ ...this.who(inst), type: 'create-vmac', vmac: p.vmac, family: p.config.family, ipv6, ...(linkLocal ? { linkLocal } : {}) });
  }

  private deleteVmac(inst: Inst): void {
    if (inst.plan.vmac) this.emit({ ...this.who(inst), type: 'delete-vmac', vmac: inst.plan.vmac, family: inst.plan.config.family });
    for (const av of inst.plan.addrVmacs) this.emit({ ...this.who(inst), type: 'delete-vmac', vmac: av, family: av.family! });
  }

  /**
   * SIGHUP (keepalived reload_vrrp_thread / vrrp_complete_init): instances are matched by identity (reload.ts), not
   * by name. Kept instances carry their state, master, counters and tracker results (a MASTER stays MASTER with no
   * notify, advertises at once and applies only its VIP diff); removed ones go DELETED (a MASTER sends priority 0
   * and drops its VIPs); new ones start from INIT. All of it happens in this one call: no input can reach an old
   * instance afterwards.
   */
  private reload(next: VrrpPlan): void {
    const match = matchInstances(this.plan.instances, next.instances);
    for (const s of next.skipped) this.log('error', `(${s.name}) not started: ${s.reason}`, { instance: s.name });
    const old = this.instances;
    for (const o of match.removed) {
      const inst = old.get(o.config.name)!;
      this.feed(inst, { type: 'delete' });
      this.cancelGarps(inst.uid);
      this.deleteVmac(inst);
    }
    const oldGroups = new Map<string, SyncGroupState>();
    for (const u of this.units) if (u.kind === 'group') oldGroups.set(u.name, u.g);

    const entries: Array<[InstancePlan, { inst: Inst; st: InstanceState } | undefined]> = [];
    const masters: Array<{ name: string; oldPlan: InstancePlan }> = [];
    for (const { old: o, next: p } of match.kept) {
      const inst = old.get(o.config.name)!;
      const st = this.stateOf(inst);
      entries.push([p, { inst, st: carryOverState(st, p.spec, this.now, inst.src ?? st.spec.primaryAddress) }]);
      if (st.state === 'MASTER') masters.push({ name: p.config.name, oldPlan: o });
      if (o.config.name !== p.config.name) this.log('info', `(${p.config.name}) was ${o.config.name} before the reload`, { instance: p.config.name });
    }
    for (const p of match.added) entries.push([p, undefined]);
    this.plan = next;
    this.build(entries, oldGroups);
    this.repaceGarps();
    this.syncGuardSessions();

    // Sources may change (mcast_src_ip is not part of the identity); sockets follow the new plan.
    for (const inst of this.instances.values()) this.refreshSource(inst, false);
    this.syncSockets();

    // Masters apply their kernel diff (keepalived clear_diff_vrrp, restore_vrrp_state): rules, routes and addresses
    // that went, then new addresses, routes and rules, and GARPs for the new addresses.
    for (const { name, oldPlan } of masters) {
      const inst = this.instances.get(name)!;
      const d = masterReloadDiff(oldPlan, inst.plan);
      const who = this.who(inst);
      if (d.removeRules.length) this.emit({ ...who, type: 'remove-rules', keys: d.removeRules });
      if (d.removeRoutes.length) this.emit({ ...who, type: 'remove-routes', keys: d.removeRoutes });
      if (d.removeVips.length) this.emit({ ...who, type: 'remove-vips', vips: d.removeVips });
      if (d.addVips.length) this.emit({ ...who, type: 'add-vips', vips: d.addVips });
      if (d.addRoutes.length) this.emit({ ...who, type: 'add-routes', routes: d.addRoutes });
      if (d.addRules.length) this.emit({ ...who, type: 'add-rules', rules: d.addRules });
      this.queueGarps(inst, d.addVips, inst.plan.spec.garp.masterRepeat);
      if (d.addVips.length || d.removeVips.length) this.log('info', `(${name}) reload: +${d.addVips.length} -${d.removeVips.length} addresses`, { instance: name });
    }

    // Priorities and faults are recomputed now; kept masters advertise at once; new instances start.
    const added = new Set(match.added.map((p) => p.config.name));
    for (const inst of this.instances.values()) if (added.has(inst.plan.config.name)) this.createVmac(inst);
    for (const inst of this.instances.values()) {
      if (added.has(inst.plan.config.name)) this.prepareFaults(inst);
      else {
        // The reloaded configuration was checked again (vrrp_complete_instance runs on reload too).
        this.feed(inst, { type: 'fault', reason: CONFIG_FAULT, active: inst.plan.config.configFault !== undefined });
        this.feedTrackers(inst, true);
      }
    }
    for (const u of this.units) for (const m of unitMembers(u)) if (added.has(m)) this.feedUnit(u, m, { type: 'start' });
    // A kept master's advertAt is now: send it in this call rather than after a timer turn.
    this.onTimer();
    this.log('info', `Reload: kept ${match.kept.length}, removed ${match.removed.length}, added ${match.added.length} instance(s)`);
  }

  // ---- interfaces and sources -------------------------------------------------------------------------------------

  private onInterface(f: InterfaceFacts): void {
    const before = this.ifaces.get(f.name);
    this.ifaces.set(f.name, f);
    if (!this.started) {
      for (const inst of this.instances.values()) {
        const t = inst.trackers.get(`interface:${f.name}`);
        if (t) t.ok = f.up;
      }
      return;
    }
    const linkChanged = before?.up !== f.up;
    for (const inst of this.instances.values()) {
      if (inst.plan.interface === f.name) {
        if (linkChanged) {
          this.log('info', `(${inst.plan.config.name}) interface ${f.name} ${f.up ? 'up' : 'down'}`, { instance: inst.plan.config.name, interface: f.name, up: f.up });
        }
        this.refreshSource(inst, false);
        if (linkChanged) this.feed(inst, { type: f.up ? 'interface-up' : 'interface-down' });
      }
      const t = inst.trackers.get(`interface:${f.name}`);
      if (t && t.ok !== f.up) {
        t.ok = f.up;
        this.feedTrackers(inst);
      }
    }
    this.syncSockets();
  }

  private onInterfaceGone(name: string): void {
    const f = this.ifaces.get(name);
    if (!f) return;
    this.onInterface({ ...f, up: false, ipv4: [], ipv6LinkLocal: [] });
    this.ifaces.delete(name);
  }

  /** The source address keepalived would use: configured, else the interface's primary (never one of our VIPs). */
  private sourceFor(p: InstancePlan): string | undefined {
    if (p.configuredSrc) return p.configuredSrc;
    const f = this.ifaces.get(p.interface);
    if (!f) return undefined;
    const own = new Set(p.vips.map((v) => v.address));
    const list = p.config.family === 6 ? f.ipv6LinkLocal : f.ipv4;
    return list.find((a) => !own.has(a));
  }

  /** Recomputes an instance's source; none usable → FAULT (keepalived), one again → the fault clears. */
  private refreshSource(inst: Inst, initial: boolean): void {
    const src = this.sourceFor(inst.plan);
    if (src === inst.src && !initial) return;
    const had = inst.src;
    inst.src = src;
    if (src) this.setPrimary(inst, src);
    if (initial) {
      if (!src) this.log('warning', `(${inst.plan.config.name}) no usable source address on ${inst.plan.interface} yet`, { instance: inst.plan.config.name });
      return;
    }
    if (!src && had) {
      this.log('warning', `(${inst.plan.config.name}) no usable source address on ${inst.plan.interface}`, { instance: inst.plan.config.name });
      this.feed(inst, { type: 'fault', reason: NO_SOURCE_FAULT, active: true });
    } else if (src && !had) {
      this.log('info', `(${inst.plan.config.name}) source address ${src} on ${inst.plan.interface}`, { instance: inst.plan.config.name, src, interface: inst.plan.interface });
      this.feed(inst, { type: 'fault', reason: NO_SOURCE_FAULT, active: false });
    } else if (src) this.log('info', `(${inst.plan.config.name}) source address now ${src}`, { instance: inst.plan.config.name, src });
  }

  /** The core's tie-break address is the real source. */
  private setPrimary(inst: Inst, src: string): void {
    const set = (st: InstanceState): InstanceState => (st.spec.primaryAddress === src ? st : { ...st, spec: { ...st.spec, primaryAddress: src } });
    const u = inst.unit;
    if (!u) return;
    if (u.kind === 'single') u.st = set(u.st);
    else u.g = { ...u.g, members: { ...u.g.members, [inst.plan.config.name]: set(u.g.members[inst.plan.config.name]!) } };
  }

  private socketSpec(inst: Inst): SocketSpec | undefined {
    return instanceSocketSpec(inst.plan, inst.src, (name) => this.ifaces.get(name));
  }

  /** Opens the sockets instances need and closes those nobody uses any more. */
  private syncSockets(): void {
    const used = new Set<string>();
    for (const inst of this.instances.values()) {
      const s = this.socketSpec(inst);
      inst.socket = s?.key;
      if (!s) continue;
      used.add(s.key);
      if (!this.sockets.has(s.key)) {
        this.sockets.set(s.key, s);
        this.emit({ type: 'open-socket', ...s });
      }
    }
    for (const key of [...this.sockets.keys()]) {
      if (used.has(key)) continue;
      this.sockets.delete(key);
      this.emit({ type: 'close-socket', key });
    }
    this.demux = new Map();
    for (const inst of this.instances.values()) {
      if (!inst.socket) continue;
      let byVrid = this.demux.get(inst.socket);
      if (!byVrid) this.demux.set(inst.socket, (byVrid = new Map()));
      const list = byVrid.get(inst.plan.spec.vrid);
      if (list) list.push(inst);
      else byVrid.set(inst.plan.spec.vrid, [inst]);
    }
  }

  /** Someone deleted an address: if it is one of a MASTER's tracked VIPs, the instance re-elects (keepalived_netlink.c). */
  private onAddressRemoved(ifname: string, address: string, prefix: number): void {
    for (const inst of this.instances.values()) {
      const vip = inst.plan.vips.find((v) => v.address === address && v.dev === ifname && v.prefix === prefix);
      if (!vip || vip.noTrack || !inst.vipset || this.stateOf(inst).state !== 'MASTER') continue;
      this.feed(inst, { type: 'vip-removed-externally', address });
    }
  }

  // ---- control (issue 12: ctl switchover / resume / maintenance) ---------------------------------------------------

  private reply(id: number | undefined, ok: boolean, message: string, refusal?: 'bad-request' | 'refused'): void {
    if (id === undefined) return;
    this.emit(refusal ? { type: 'control-result', id, ok, refusal, message } : { type: 'control-result', id, ok, message });
  }

  /** An instance or a sync group by name; an instance of a sync group is refused (its members move together). */
  private resolveTarget(target: string): { unit: Unit; members: string[] } | { error: string } {
    const group = this.units.find((u) => u.kind === 'group' && u.name === target);
    if (group) return { unit: group, members: unitMembers(group) };
    const inst = this.instances.get(target);
    if (!inst) {
      const names = [...this.instances.keys(), ...this.units.filter((u) => u.kind === 'group').map((u) => u.name)];
      return { error: `no vrrp_instance or vrrp_sync_group named '${target}' (there are: ${names.join(', ') || 'none'})` };
    }
    if (inst.unit.kind === 'group') return { error: `${target} is in vrrp_sync_group ${inst.unit.name}, whose members move together: name the group` };
    return { unit: inst.unit, members: [target] };
  }

  /** Feeds one input to every member of a unit at once (a sync group hears it as one event). */
  private feedAll(u: Unit, members: string[], input: Input): void {
    if (u.kind === 'group' && members.length > 1) {
      const r = stepGroupMany(u.g, members.map((m) => [m, input]), this.now);
      u.g = r.state;
      for (const t of r.effects) this.apply(u, t.instance, t.effect);
    } else for (const m of members) this.feedUnit(u, m, input);
  }

  private onSwitchover(i: Extract<NodeInput, { type: 'switchover' }>): void {
    const t = this.resolveTarget(i.target);
    if ('error' in t) return this.reply(i.id, false, t.error, 'bad-request');
    if (i.holdMs !== undefined && !(i.holdMs > 0)) return this.reply(i.id, false, `hold must be a positive number of seconds`, 'bad-request');
    if (this.maintenance) return this.reply(i.id, false, `${i.target}: maintenance is on (every instance is BACKUP already)`, 'refused');
    for (const m of t.members) {
      const inst = this.instances.get(m)!;
      const st = this.stateOf(inst).state;
      if (st !== 'MASTER') return this.reply(i.id, false, `${m} is ${st}, not MASTER: nothing to hand over`, 'refused');
      const peer = inst.lastPeer;
      if (i.force) continue;
      if (!peer) return this.reply(i.id, false, `no other router has been heard on ${m} since this daemon started: handing over to nobody would drop the VIPs (a backup is silent until it is master: --force hands over anyway, and takes MASTER back if nobody takes over)`, 'refused');
      if (peer.priority === 0)
        return this.reply(i.id, false, `the last router heard on ${m} (${peer.address}) announced it was leaving (priority 0) and none has been heard since: handing over to nobody would drop the VIPs (--force hands over anyway)`, 'refused');
    }
    const holdUntil = i.holdMs === undefined ? undefined : this.now + i.holdMs;
    const holding = i.holdMs === undefined ? 'until resume' : `for ${i.holdMs / 1000} s`;
    this.log('info', `${i.target}: switchover requested: handing over (priority 0), then BACKUP ${holding}`, { target: i.target });
    this.feedAll(t.unit, t.members, { type: 'switchover', holdUntil });
    if (i.id !== undefined) this.pendingSwitchovers.push({ id: i.id, target: i.target, members: t.members, at: this.now });
  }

  /** Answers switchovers whose outcome is known: every member confirmed by another router's advert, or not. */
  private settleSwitchovers(): void {
    for (let k = this.pendingSwitchovers.length - 1; k >= 0; k--) {
      const p = this.pendingSwitchovers[k]!;
      const states = p.members.map((m) => (this.instances.has(m) ? this.stateOf(this.instances.get(m)!) : undefined));
      const ms = Math.round(this.now - p.at);
      if (states.every((s) => s?.state === 'BACKUP' && s.hold?.confirmed)) {
        const s = states[0]!;
        const holding = s.hold!.until === undefined ? 'until resume' : `until the hold ends in ${Math.round((s.hold!.until - this.now) / 1000)} s`;
        this.reply(p.id, true, `${p.target}: ${s.masterAddress ?? 'another router'} (priority ${s.masterPriority ?? '?'}) took over ${ms} ms after the hand-over; staying BACKUP ${holding}`);
      } else if (states.some((s) => !s || s.state !== 'BACKUP' || !s.hold)) {
        const back = states.some((s) => s?.state === 'MASTER');
        this.reply(p.id, false, back
          ? `${p.target}: no router took over within ${ms} ms of the hand-over: MASTER again`
          : `${p.target}: the switchover ended before another router took over (${states.map((s, n) => `${p.members[n]} ${s?.state ?? 'gone'}`).join(', ')})`, 'refused');
      } else continue;
      this.pendingSwitchovers.splice(k, 1);
    }
  }

  private onResume(i: Extract<NodeInput, { type: 'resume' }>): void {
    const t = this.resolveTarget(i.target);
    if ('error' in t) return this.reply(i.id, false, t.error, 'bad-request');
    const held = t.members.filter((m) => this.stateOf(this.instances.get(m)!).hold);
    if (!held.length) return this.reply(i.id, false, `${i.target} has no switchover hold`, 'refused');
    this.feedAll(t.unit, t.members, { type: 'resume' });
    const s = this.stateOf(this.instances.get(t.members[0]!)!);
    const preempts = s.spec.preempt && s.masterPriority !== undefined && s.effectivePriority > s.masterPriority;
    const what = preempts
      ? `priority ${s.effectivePriority} over the master's ${s.masterPriority}: it takes MASTER back by preemption`
      : s.masterPriority !== undefined ? `it stays BACKUP to ${s.masterAddress} (priority ${s.masterPriority}) unless that master goes away` : 'it becomes MASTER if no master is heard';
    this.log('info', `${i.target}: switchover hold ended`, { target: i.target });
    this.reply(i.id, true, `${i.target}: hold ended; ${what}`);
  }

  private onMaintenance(i: Extract<NodeInput, { type: 'maintenance' }>): void {
    if (this.maintenance === i.on) return this.reply(i.id, true, `maintenance is already ${i.on ? 'on' : 'off'}`);
    this.maintenance = i.on;
    const handed: string[] = [];
    for (const u of this.units) {
      const members = unitMembers(u);
      for (const m of members) if (this.stateOf(this.instances.get(m)!).state === 'MASTER') handed.push(m);
      this.feedAll(u, members, { type: 'maintenance', on: i.on });
    }
    if (i.on) {
      this.log('info', `Maintenance on: every instance BACKUP and held there${handed.length ? `; handed over ${handed.join(', ')} (priority 0)` : ''}`);
      this.reply(i.id, true, `maintenance on: every instance stays BACKUP${handed.length ? `; handed over ${handed.join(', ')}` : ''}`);
    } else {
      this.log('info', 'Maintenance off: instances elect as configured again');
      this.reply(i.id, true, 'maintenance off: instances elect as configured again (preemption, master-down)');
    }
  }

  // ---- packets ----------------------------------------------------------------------------------------------------

  /**
   * Demux as keepalived's vrrp_lookup: the socket, then the VRID; unicast instances sharing a VRID on one socket
   * are told apart by their unicast_peer lists. Then validation in keepalived's order, counted per reason.
   */
  private onPacket(pk: Extract<NodeInput, { type: 'packet' }>): void {
    const vrid = peekVrid(pk.bytes, pk.family);
    const candidates = vrid === undefined ? undefined : this.demux.get(pk.socket)?.get(vrid);
    if (!candidates) return; // unknown VRID: keepalived only logs these with log_unknown_vrids
    let inst = candidates[0]!;
    if (candidates.length > 1) {
      const byPeer = candidates.find((i) => i.plan.spec.unicastPeers.some((p) => compareAddr(p.address, pk.src) === 0));
      if (!byPeer) return; // none of the instances lists this sender
      inst = byPeer;
    }
    const s = this.stateOf(inst);
    if (s.state !== 'BACKUP' && s.state !== 'MASTER') return; // ignored in INIT/FAULT/STOP
    const m = inst.lastRx;
    let res: ValidateResult;
    if (m && m.src === pk.src && m.ownSrc === inst.src && m.dst === pk.dst && m.ttl === pk.ttl && m.family === pk.family && m.spec === s.spec
      && m.effectivePriority === s.effectivePriority && m.masterAddress === s.masterAddress && sameRxBytes(m.bytes, pk.bytes, pk.family)) {
      res = m.res;
    } else {
      if (inst.src && compareAddr(pk.src, inst.src) === 0) return; // our own advert looped back
      res = validateAdvert({ bytes: pk.bytes, family: pk.family, src: pk.src, dst: pk.dst, ttl: pk.ttl }, rxPolicyFor(s));
      if (!res.ok) {
        inst.stats.dropped[res.reason] = (inst.stats.dropped[res.reason] ?? 0) + 1;
        this.log('debug', `(${inst.plan.config.name}) dropped advert from ${res.src ?? pk.src}: ${res.reason} (${res.detail})`, { instance: inst.plan.config.name, src: res.src ?? pk.src, reason: res.reason });
        return;
      }
      inst.lastRx = {
        bytes: Uint8Array.from(pk.bytes), family: pk.family, src: pk.src, dst: pk.dst, ttl: pk.ttl, spec: s.spec, ownSrc: inst.src ?? '',
        effectivePriority: s.effectivePriority, masterAddress: s.masterAddress, res,
      };
    }
    inst.stats.advertsReceived++;
    const peer = inst.lastPeer;
    if (peer && peer.address === res.src && peer.priority === res.advert.priority) peer.at = this.now;
    else inst.lastPeer = { address: res.src, priority: res.advert.priority, at: this.now };
    if (res.notes.length) {
      if (res.notes.includes('priority-zero')) inst.stats.priZeroReceived++;
      if (res.notes.includes('naddr-mismatch') || res.notes.includes('vip-mismatch')) inst.stats.addrListErr++;
    }
    this.feed(inst, { type: 'advert-received', advert: res.advert, src: res.src });
  }

  // ---- trackers ---------------------------------------------------------------------------------------------------

  private onTracker(key: string, ok: boolean | undefined, value: number | undefined): void {
    const prev = this.reports.get(key);
    this.reports.set(key, { ok, value });
    if (!this.started) {
      for (const inst of this.instances.values()) {
        const t = inst.trackers.get(key);
        if (t) { t.ok = ok; t.value = value; }
      }
      return;
    }
    const firstReport = prev === undefined;
    // One report is one event for every instance that tracks it: a sync group hears it on all members at once.
    for (const u of this.units) {
      const inputs: Array<[string, Input]> = [];
      const ready: string[] = [];
      for (const name of unitMembers(u)) {
        const inst = this.instances.get(name)!;
        const t = inst.trackers.get(key);
        if (!t || (t.ok === ok && t.value === value && !firstReport)) continue;
        const wasPending = this.scriptsPending(inst);
        t.ok = ok;
        t.value = value;
        inputs.push([name, this.trackerInput(inst)]);
        if (wasPending && !this.scriptsPending(inst)) ready.push(name);
      }
      if (!inputs.length) continue;
      if (u.kind === 'group' && inputs.length > 1) {
        const r = stepGroupMany(u.g, inputs, this.now, this.gateOpen(u));
        u.g = r.state;
        for (const t of r.effects) this.apply(u, t.instance, t.effect);
      } else for (const [name, input] of inputs) this.feedUnit(u, name, input);
      for (const name of ready) this.feedUnit(u, name, { type: 'scripts-ready' });
    }
  }

  private trackerInput(inst: Inst): Input {
    const v = trackVerdict(inst.plan.spec.priority, [...inst.trackers.values()]);
    return { type: 'tracker-changed', effectivePriority: v.effectivePriority, faults: v.faults };
  }

  /** keepalived's num_script_init: unweighted track_scripts that have not reported a first result. */
  private scriptsPending(inst: Inst): boolean {
    for (const t of inst.trackers.values()) if (t.spec.kind === 'script' && t.spec.weight === 0 && t.ok === undefined) return true;
    return false;
  }

  private feedTrackers(inst: Inst, always = false): void {
    if (!inst.trackers.size && !always) return;
    this.feed(inst, this.trackerInput(inst));
  }

  // ---- the core ---------------------------------------------------------------------------------------------------

  private feed(inst: Inst, input: Input): void {
    this.feedUnit(inst.unit, inst.plan.config.name, input);
  }

  private feedUnit(u: Unit, member: string | undefined, input: Input): void {
    let tagged: TaggedEffect[];
    if (u.kind === 'single') {
      const r = step(u.st, input, this.now, this.stepOptions(u, this.instances.get(u.name)!));
      u.st = r.state;
      for (const effect of r.effects) this.apply(u, u.name, effect);
      return;
    } else {
      const r = stepGroup(u.g, member, input, this.now, this.gateOpen(u));
      u.g = r.state;
      tagged = r.effects;
    }
    for (const t of tagged) this.apply(u, t.instance, t.effect);
  }

  private stepOptions(u: Unit, inst: Inst, at = this.now): StepOptions {
    return this.gateOpen(u, at) ? { scriptsPending: this.scriptsPending(inst) } : { scriptsPending: this.scriptsPending(inst), mayBecomeMaster: false };
  }

  /**
   * The adverts that handle({type:'timer'}, at) would send at the next deadline `at` if no other input came first,
   * or undefined when that timer input does anything else before or instead (a state change, a notify, a guard's
   * expiry; GARPs after the adverts are left to the event loop) or sends nothing. The shell hands them to the advert
   * sender, which puts them on the wire at `at` whatever the event loop is doing then, and takes them back at its
   * next input. Changes nothing: the units are stepped on their immutable states and the IP ids peeked.
   */
  upcomingAdverts(): { at: number; sends: SendAdvertEffect[] } | undefined {
    const at = this.deadline();
    if (at === undefined) return undefined;
    for (const [name, s] of this.sessions) if (s.safeUntil !== undefined && s.safeUntil <= at && this.guardHeld(name)) return undefined;
    const sends: SendAdvertEffect[] = [];
    const taken = new Map<Inst, number>();
    for (const u of this.units) {
      const d = u.kind === 'single' ? nextDeadline(u.st) : nextGroupDeadline(u.g);
      if (d === undefined || d > at) continue;
      // Only a master's timer can send an advert and nothing else (a backup's makes it master): a quick no.
      if (this.unitStates(u).some((m) => m.state !== 'MASTER' && (nextDeadline(m) ?? Infinity) <= at)) return undefined;
      const tagged: TaggedEffect[] = u.kind === 'single'
        ? step(u.st, { type: 'timer' }, at, this.stepOptions(u, this.instances.get(u.name)!, at)).effects.map((effect) => ({ instance: u.name, effect }))
        : stepGroup(u.g, undefined, { type: 'timer' }, at, this.gateOpen(u, at)).effects;
      let garps = false;
      for (const t of tagged) {
        // A GARP due with the advert (garp_master_delay, master_refresh) follows it: the event loop sends it.
        if (t.effect.type === 'send-garp') { garps = true; continue; }
        const inst = t.instance !== undefined ? this.instances.get(t.instance) : undefined;
        if (t.effect.type !== 'send-advert' || !inst || garps) return undefined;
        const n = taken.get(inst) ?? 0;
        const more = this.advertEffects(inst, t.effect.priority, (k) => inst.ipId.peek(n + k + 1));
        taken.set(inst, n + more.length);
        sends.push(...more);
      }
    }
    return sends.length ? { at, sends } : undefined;
  }

  private onTimer(): void {
    this.expireGuardSessions();
    for (const u of this.units) {
      const d = u.kind === 'single' ? nextDeadline(u.st) : nextGroupDeadline(u.g);
      if (d !== undefined && d <= this.now) this.feedUnit(u, u.kind === 'single' ? u.name : undefined, { type: 'timer' });
    }
    this.drainGarps();
  }

  /** Core effects → node effects, in order. */
  private apply(u: Unit, name: string | undefined, e: Effect): void {
    const inst = name !== undefined ? this.instances.get(name) : undefined;
    switch (e.type) {
      case 'send-advert':
        if (inst) this.sendAdvert(inst, e.priority);
        return;
      case 'add-vips':
        if (!inst) return;
        // keepalived's order: addresses, then the routes and rules that may depend on them.
        inst.vipset = true;
        this.emit({ ...this.who(inst), type: 'add-vips', vips: this.vipPlans(inst, e.addresses) });
        if (inst.plan.config.virtualRoutes.length) this.emit({ ...this.who(inst), type: 'add-routes', routes: inst.plan.config.virtualRoutes });
        if (inst.plan.config.virtualRules.length) this.emit({ ...this.who(inst), type: 'add-rules', rules: inst.plan.config.virtualRules });
        return;
      case 'remove-vips':
        if (!inst) return;
        inst.vipset = false;
        this.cancelGarps(inst.uid);
        if (inst.plan.config.virtualRules.length) this.emit({ ...this.who(inst), type: 'remove-rules' });
        if (inst.plan.config.virtualRoutes.length) this.emit({ ...this.who(inst), type: 'remove-routes' });
        this.emit({ ...this.who(inst), type: 'remove-vips', vips: this.vipPlans(inst, e.addresses) });
        return;
      case 'send-garp':
        if (inst) this.queueGarps(inst, this.vipPlans(inst, e.addresses), e.count);
        return;
      case 'notify': {
        const scripts = e.scope === 'GROUP' ? (u.kind === 'group' ? u.notify : {}) : inst?.plan.notify ?? {};
        const lock = this.lockOf(u);
        this.emit({ type: 'notify', scope: e.scope, name: e.name, state: e.state, priority: e.priority, scripts, uid: inst?.uid, ...(lock ? { guardToken: lock.held ? lock.token ?? '' : '' } : {}) });
        return;
      }
      case 'state-changed':
        if (!inst) return;
        inst.stats.transitions++;
        if (e.to === 'MASTER') inst.stats.becameMaster++;
        if (e.from === 'MASTER') { inst.stats.releasedMaster++; this.cancelGarps(inst.uid); }
        this.emit({ ...this.who(inst), type: 'state-changed', from: e.from, to: e.to, reason: e.reason });
        return;
      case 'log':
        this.emit(e);
        return;
    }
  }

  /** One encoded advert per destination (the v3 checksum covers a pseudo-header that names it). */
  private sendAdvert(inst: Inst, priority: number): void {
    for (const e of this.advertEffects(inst, priority, () => inst.ipId.next())) {
      this.emit(e);
      inst.stats.advertsSent++;
      if (priority === 0) inst.stats.priZeroSent++;
    }
  }

  /** The send-advert effects of one advert, the k-th (from 0) carrying the IP id ipId(k); none without a source. */
  private advertEffects(inst: Inst, priority: number, ipId: (k: number) => number): SendAdvertEffect[] {
    const p = inst.plan;
    const src = inst.src, socket = inst.socket;
    if (!src || !socket) return []; // no source: the instance is in FAULT and sends nothing
    const spec = this.stateOf(inst).spec;
    let c = inst.adverts;
    if (!c || c.spec !== spec || c.plan !== p || c.src !== src) {
      const dsts = p.config.unicast ? p.spec.unicastPeers.map((x) => x.address) : [p.spec.mcastGroup];
      inst.adverts = c = { spec, plan: p, src, dsts, byPriority: new Map() };
    }
    let encoded = c.byPriority.get(priority);
    if (!encoded) {
      const advert = advertFor(spec, priority);
      encoded = c.dsts.map((dst) => encodeAdvert(advert, { family: p.spec.family, src, dst, v3ChecksumAsV2: p.spec.v3ChecksumAsV2 }));
      if (c.byPriority.size >= ADVERT_CACHE_PRIORITIES) c.byPriority.clear();
      c.byPriority.set(priority, encoded);
    }
    const instance = p.config.name;
    const out: SendAdvertEffect[] = [];
    for (let i = 0; i < encoded.length; i++) {
      out.push({ uid: inst.uid, instance, type: 'send-advert', socket, dst: c.dsts[i]!, src, ttl: p.ttl, ipId: ipId(i), priority, bytes: encoded[i]! });
    }
    return out;
  }

  // ---- GARP / NA pacing -------------------------------------------------------------------------------------------

  /**
   * `count` rounds over the addresses (keepalived's vrrp_send_link_update). Each address's interface has a pacing
   * (vrrp_garp_interval / vrrp_gna_interval per interface, a garp_group's intervals shared by all its interfaces;
   * 0 = none): a send the pacing allows goes now, else the address is marked pending, once (keepalived's
   * garp_gna_pending flag: later rounds for a pending address add nothing).
   */
  private queueGarps(inst: Inst, vips: VirtualIp[], count: number): void {
    for (let i = 0; i < count; i++) {
      for (const vip of vips) {
        const q = this.garpQueue(vip);
        if (q.lastAt + q.intervalMs <= this.now) this.sendGarp(q, inst, vip);
        else if (!q.pending.some((g) => g.uid === inst.uid && g.vip.address === vip.address)) q.pending.push({ uid: inst.uid, vip });
      }
    }
  }

  /** The pacing an address's GARPs/NAs go through (keepalived's garp_delay of its interface). */
  private garpQueue(vip: VirtualIp): GarpQueue {
    // A garp_group's interfaces share one (keepalived points them at one garp_delay), with the group's intervals;
    // an interval the group does not set is 0 there, whatever the global one.
    const gi = this.plan.garpGroups?.findIndex((g) => g.interfaces.includes(vip.dev)) ?? -1;
    const grp = gi >= 0 ? this.plan.garpGroups![gi]! : undefined;
    const key = grp ? `garp_group ${gi}|${vip.family}` : `${vip.dev}|${vip.family}`;
    let q = this.garp.get(key);
    if (!q) {
      const intervalMs = grp
        ? (vip.family === 4 ? grp.garpIntervalMs : grp.gnaIntervalMs) ?? 0
        : vip.family === 4 ? this.plan.garpIntervalMs : this.plan.gnaIntervalMs;
      this.garp.set(key, (q = { intervalMs, lastAt: -Infinity, pending: [], first: vip }));
    }
    return q;
  }

  private sendGarp(q: GarpQueue, inst: Inst, vip: VirtualIp): void {
    inst.stats.garpsSent++;
    this.emit({ ...this.who(inst), type: 'send-garp', vip });
    if (q.intervalMs > 0) q.lastAt = this.now;
  }

  /** Pending sends whose pacing allows one: the first by instance, then address, order (keepalived's vrrp_arp_thread). */
  private drainGarps(): void {
    if (!this.garpPending()) return;
    const order = (g: GarpSend): [number, number] => {
      const inst = this.byUid.get(g.uid);
      return inst ? [this.plan.instances.indexOf(inst.plan), inst.plan.vips.indexOf(g.vip)] : [-1, -1];
    };
    for (const q of this.garp.values()) {
      while (q.pending.length && q.lastAt + q.intervalMs <= this.now) {
        let best = 0;
        for (let i = 1; i < q.pending.length; i++) {
          const [a, b] = order(q.pending[i]!);
          const [c, d] = order(q.pending[best]!);
          if (a < c || (a === c && b < d)) best = i;
        }
        const g = q.pending.splice(best, 1)[0]!;
        const inst = this.byUid.get(g.uid);
        if (inst) this.sendGarp(q, inst, g.vip);
      }
    }
  }

  /**
   * After a reload every pacing is the new plan's: each queue takes the interval its interface or garp_group has now
   * (keepalived 2.2.7 rebuilds every garp_delay at a reload, so new intervals apply at once; they used to apply only
   * to queues opened after it) and keeps the time of its last send. Waiting sends whose instance and address are
   * still configured stay queued; keepalived forgets them and lets the next send go at once, which would cut the
   * GARPs of addresses still waiting for their first.
   */
  private repaceGarps(): void {
    const old = [...this.garp.values()];
    this.garp.clear();
    for (const q of old) {
      const nq = this.garpQueue(q.first);
      nq.lastAt = Math.max(nq.lastAt, q.lastAt);
    }
    for (const q of old) {
      for (const g of q.pending) {
        const vip = this.byUid.get(g.uid)?.plan.vips.find((v) => v.address === g.vip.address && v.dev === g.vip.dev);
        if (!vip) continue;
        const nq = this.garpQueue(vip);
        if (!nq.pending.some((x) => x.uid === g.uid && x.vip.address === vip.address)) nq.pending.push({ uid: g.uid, vip });
      }
    }
  }

  /** An instance leaving MASTER (or removed) drops its queued GARPs. */
  private cancelGarps(uid: number): void {
    for (const q of this.garp.values()) q.pending = q.pending.filter((g) => g.uid !== uid);
  }

  // ---- split-brain guard (guard.ts) -------------------------------------------------------------------------------
  //
  // VRRP still elects; the lock only gates MASTER. A unit (instance or sync group) asks for its lock while VRRP has it
  // MASTER or wanting MASTER, becomes MASTER only once the lock is ours (until then the core keeps it BACKUP, which
  // sends nothing), and leaves MASTER when the lock stops counting: lost, the session expired, its safe deadline
  // passed, or (unreachable release) the connection dropped. advisory mode never gates; it only logs and shows.

  private guardOf(u: Unit): { guard: string; key: string } | undefined {
    if (u.kind === 'single') return this.instances.get(u.name)?.plan.guard;
    return this.plan.groups.find((g) => g.config.name === u.name)?.guard;
  }

  private lockOf(u: Unit | undefined): GuardLock | undefined {
    const g = u && this.guardOf(u);
    if (!g) return undefined;
    const id = `${g.guard}|${g.key}`;
    let l = this.locks.get(id);
    if (!l) this.locks.set(id, (l = { guard: g.guard, key: g.key, want: false, held: false }));
    return l;
  }

  private required(lock: GuardLock): boolean {
    return this.sessions.get(lock.guard)?.spec.mode !== 'advisory';
  }

  /** Whether VRRP may make this unit MASTER now: no guard, advisory, or its lock counts. */
  private gateOpen(u: Unit, at = this.now): boolean {
    if (!this.guarded) return true; // no unit has a guard: no lock to look up
    const lock = this.lockOf(u);
    if (!lock || !this.required(lock)) return true;
    return lockOpen(this.sessions.get(lock.guard), lock, at);
  }

  private guardHeld(guard: string): boolean {
    for (const l of this.locks.values()) if (l.guard === guard && l.held) return true;
    return false;
  }

  private unitStates(u: Unit): InstanceState[] {
    return u.kind === 'single' ? [u.st] : u.g.spec.members.map((m) => u.g.members[m]!);
  }

  /** VRRP has the unit MASTER (any member), or elected it and only the lock holds it back. */
  private unitMaster(u: Unit): boolean {
    return this.unitStates(u).some((s) => s.state === 'MASTER');
  }

  private unitWants(u: Unit): boolean {
    const sts = this.unitStates(u);
    return sts.every((s) => s.state === 'BACKUP' && s.wantState === 'MASTER');
  }

  private guardView(u: Unit): Pick<InstanceStatus, 'guard'> {
    const lock = this.lockOf(u);
    if (!lock) return {};
    const state = guardStateOf(this.sessions.get(lock.guard), lock, this.now, this.unitMaster(u), this.unitWants(u));
    return { guard: { name: lock.guard, state, ...(lock.held && lock.token !== undefined ? { token: lock.token } : {}) } };
  }

  /** Sessions follow the plan's vrrp_guard blocks; a changed block starts over (the shell opens a new client). */
  private syncGuardSessions(): void {
    const names = new Set(this.plan.guards.map((g) => g.name));
    for (const g of this.plan.guards) {
      const s = this.sessions.get(g.name);
      if (!s || JSON.stringify({ ...s.spec, loc: 0 }) !== JSON.stringify({ ...g, loc: 0 })) {
        this.sessions.set(g.name, { spec: g, connected: false, everConfirmed: false });
        // A new session (the shell opens a new client): wanted locks are asked for again.
        for (const l of this.locks.values()) if (l.guard === g.name) { l.held = false; l.token = undefined; l.want = false; }
      } else s.spec = g;
    }
    for (const n of [...this.sessions.keys()]) if (!names.has(n)) this.sessions.delete(n);
  }

  private onGuardSession(i: Extract<NodeInput, { type: 'guard-session' }>): void {
    const s = this.sessions.get(i.guard);
    if (!s) return;
    if (i.event === 'ack') {
      if (!s.connected) this.log('info', `guard ${i.guard}: session confirmed (timeout ${i.timeoutMs / 1000}s)`, { guard: i.guard });
      s.connected = true;
      s.everConfirmed = true;
      s.lost = undefined;
      const until = safeDeadline(i.sentAt, i.timeoutMs);
      // A late reply to an older request must not shorten what a newer one proved.
      if (s.safeUntil === undefined || until > s.safeUntil) s.safeUntil = until;
      return;
    }
    if (i.event === 'disconnected') {
      if (s.connected) this.log('warning', `guard ${i.guard}: service unreachable; ${s.spec.unreachable === 'keep' && this.guardHeld(i.guard) ? 'locks count until the safe deadline' : 'masters give up their VIPs'}`, { guard: i.guard });
      s.connected = false;
      return;
    }
    this.log('warning', `guard ${i.guard}: the service expired our session; its locks are gone`, { guard: i.guard });
    this.dropSession(s, 'session expired');
  }

  private dropSession(s: GuardSession, why: string): void {
    s.lost = why;
    s.connected = false;
    s.safeUntil = undefined;
    for (const l of this.locks.values()) if (l.guard === s.spec.name) { l.held = false; l.token = undefined; }
  }

  /** The safe deadline passed with locks held: they stop counting now, before the server can pass them on. */
  private expireGuardSessions(): void {
    for (const [name, s] of this.sessions) {
      if (s.safeUntil === undefined || s.safeUntil > this.now || !this.guardHeld(name)) continue;
      this.log('warning', `guard ${name}: no reply from the service for the safe part of the session timeout; locks given up before the server can expire them`, { guard: name });
      this.dropSession(s, 'session past its safe deadline');
      this.emit({ type: 'guard-reset', guard: name });
    }
  }

  private onGuardLock(guard: string, key: string, held: boolean, token: string | undefined): void {
    const l = this.locks.get(`${guard}|${key}`);
    if (!l) return;
    // A grant for a lock we no longer want is stale (the release is on its way).
    l.held = held && l.want;
    l.token = l.held ? token : undefined;
  }

  /**
   * After every input: units whose lock stopped counting leave MASTER; units VRRP elected whose lock now counts
   * become MASTER; locks are asked for or given back; guard states are logged when they change.
   */
  private reconcileGuards(): void {
    // Nothing to do for a plan without vrrp_guard (and no lock left from an earlier one): most inputs are adverts.
    if (!this.locks.size && !this.guarded) return;
    // Locks of units a reload removed are given back (after those members' VIP removals).
    const live = new Set(this.units.map((u) => this.lockOf(u)));
    for (const [id, l] of this.locks) {
      if (live.has(l)) continue;
      this.locks.delete(id);
      if (l.want) this.emit({ type: 'guard-want', guard: l.guard, key: l.key, want: false, uids: this.lockUids.get(id) ?? [] });
    }
    for (let pass = 0; pass < 3; pass++) {
      let changed = false;
      for (const u of this.units) {
        const lock = this.lockOf(u);
        if (!lock) continue;
        const open = !this.required(lock) || lockOpen(this.sessions.get(lock.guard), lock, this.now);
        const members = unitMembers(u);
        if (!open && this.unitMaster(u)) {
          const s = this.sessions.get(lock.guard);
          const why = !lock.held ? s?.lost ?? 'lock lost' : 'service unreachable';
          const m = members.find((n) => this.stateOf(this.instances.get(n)!).state === 'MASTER')!;
          this.feedUnit(u, m, { type: 'guard-lost', why });
          changed = true;
        } else if (open && lock.held && this.unitWants(u) && this.required(lock)) {
          this.feedUnit(u, members[0]!, { type: 'guard-granted' });
          changed = true;
        }
        const want = this.unitMaster(u) || this.unitWants(u);
        if (want !== lock.want && !(this.stopped && want)) {
          lock.want = want;
          // Given back is no longer ours, whatever the service says until the release reaches it.
          if (!want) { lock.held = false; lock.token = undefined; }
          this.lockUids.set(`${lock.guard}|${lock.key}`, members.map((n) => this.instances.get(n)!.uid));
          this.emit({ type: 'guard-want', guard: lock.guard, key: lock.key, want, uids: members.map((n) => this.instances.get(n)!.uid) });
        }
      }
      if (!changed) break;
    }
    const blocks = (u: Unit): boolean => { const l = this.lockOf(u); return !!l && this.required(l); };
    for (const u of this.units) {
      const v = this.guardView(u).guard;
      if (!v || this.guardShown.get(u.name) === v.state) continue;
      this.guardShown.set(u.name, v.state);
      const say: Record<GuardState, string> = {
        held: `holds lock ${v.name}${v.token !== undefined ? ` (token ${v.token})` : ''}`,
        waiting: `elected by VRRP, waiting for lock ${v.name}: staying BACKUP, sending no adverts`,
        idle: `not asking for lock ${v.name}`,
        unreachable: `guard ${v.name} unreachable: ${blocks(u) ? 'no MASTER without its lock' : 'advisory mode, not blocking'}`,
        'unlocked-master': `MASTER without lock ${v.name} (advisory mode)`,
      };
      const level: LogLevel = v.state === 'unreachable' || v.state === 'unlocked-master' ? 'warning' : 'info';
      this.log(level, `(${u.name}) ${say[v.state]}`, { instance: u.name, guard: v.name, guardState: v.state });
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------------------------

  private garpPending(): boolean {
    for (const q of this.garp.values()) if (q.pending.length) return true;
    return false;
  }

  private who(inst: Inst): Who {
    return { uid: inst.uid, instance: inst.plan.config.name };
  }

  private vipPlans(inst: Inst, addresses: string[]): VirtualIp[] {
    const want = new Set(addresses);
    return inst.plan.vips.filter((v) => want.has(v.address));
  }

  private emit(e: NodeEffect): void {
    this.out.push(e);
  }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    this.emit(fields ? { type: 'log', level, msg, fields } : { type: 'log', level, msg });
  }
}
