// The VRRP engine: the imperative shell around the pure state machine (machine.ts, sync.ts). It owns the sockets,
// timers, addresses, GARPs, trackers and notifies of every configured instance, feeds inputs to the core with the
// current monotonic time, and executes the effects the core returns, in order.
import { IpIdCounter } from '../net/ipv4-header.js';
import { performance } from 'node:perf_hooks';
import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import type { Logger } from 'pino';
import { InterfaceWatcher, ipv6Forwarding, type InterfaceChange } from '../net/interfaces.js';
import { type RouteSpec, type RuleSpec, Rtnetlink, IFA_F_NODAD, IFA_F_NOPREFIXROUTE, IFA_F_HOMEADDRESS, type AddressSpec } from '../net/rtnetlink.js';
import { openVrrpSocket, type VrrpReceived, type VrrpSocket } from '../net/vrrp-socket.js';
import { PacketSender } from '../net/packet-socket.js';
import { buildGratuitousArp } from '../net/arp.js';
import { buildUnsolicitedNa } from '../net/ndisc.js';
import { NotifyDispatcher, notifyEventFromEngine, type NotifyScripts, type ScriptCommand } from '../notify/notify.js';
import { TrackScriptRunner } from '../notify/track-script.js';
import { scriptSucceeded, type ScriptResult } from '../notify/run.js';
import { initialState, nextDeadline, step, type Effect, type Input, type InstanceState } from './machine.js';
import { initialSyncGroup, nextGroupDeadline, stepGroup, type SyncGroupState, type TaggedEffect } from './sync.js';
import { advertFor, encodeAdvert } from './packet.js';
import { peekVrid, rxPolicyFor, validateAdvert, type DropReason } from './validate.js';
import { trackVerdict, type TrackerStatus } from './track.js';
import type { InstancePlan, VrrpPlan, VipPlan } from './from-config.js';
import { describeRoute, parseRtTables, routeSpec, ruleSpec } from './routes.js';
import { carryOverState, diffVips, matchInstances } from './reload.js';
import type { VrrpState } from './types.js';

export interface EngineOptions {
  log: Logger;
  notify: NotifyDispatcher;
  /** -V/--dont-release-vrrp: leave VIPs in place on stop. */
  dontReleaseVips?: boolean;
  /** Monotonic clock in ms (injectable for tests). */
  now?: () => number;
}

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

/** One instance as dumps, the JSON state and metrics see it (engine.snapshot()). */
export interface InstanceSnapshot {
  plan: InstancePlan;
  state: VrrpState;
  wantState: VrrpState;
  effectivePriority: number;
  masterAddress?: string;
  masterPriority?: number;
  /** Wall-clock ms of the last transition (undefined = none yet). */
  lastTransitionMs?: number;
  /** Source address in use. */
  src?: string;
  /** The VIPs are currently set (we are MASTER and added them). */
  vipset: boolean;
  faults: readonly string[];
  trackers: Array<{ name: string; ok?: boolean; value?: number; weight: number }>;
  stats: InstanceStats;
}

interface InstanceRt {
  plan: InstancePlan;
  unit: Unit;
  ifindex: number;
  socket?: VrrpSocket;
  src?: string;
  /** keepalived's per-instance IP id sequence (1, 2, …, skipping 0). */
  ipId: IpIdCounter;
  trackers: Map<string, TrackerStatus>;
  stats: InstanceStats;
  /** VIPs we added and still own (address → where), so stop removes exactly these. */
  owned: Map<string, { ifindex: number; prefix: number; peer?: string }>;
  /** virtual_routes we added and still own, keyed by their config text. */
  ownedRoutes: Array<{ key: string; spec: RouteSpec }>;
  /** virtual_rules we added and still own. */
  ownedRules: RuleSpec[];
  /** The last advert handed to the socket (raw-socket writes on its next poll turn); GARPs wait for it. */
  advertOut?: Promise<void>;
  state(): InstanceState;
}

/** A scheduling unit: one instance, or a sync group moving its members together. */
interface Unit {
  name: string;
  members: string[];
  feed(member: string | undefined, input: Input, now: number): TaggedEffect[];
  deadline(): number | undefined;
  stateOf(member: string): InstanceState;
  groupNotify?: NotifyScripts;
  timer?: NodeJS.Timeout;
  /** Effects of this unit run one after another. */
  chain: Promise<void>;
}

class SingleUnit implements Unit {
  chain = Promise.resolve();
  timer?: NodeJS.Timeout;
  readonly members: string[];
  constructor(public st: InstanceState) {
    this.members = [st.spec.name];
  }
  get name() {
    return this.st.spec.name;
  }
  feed(_m: string | undefined, input: Input, now: number): TaggedEffect[] {
    const r = step(this.st, input, now);
    this.st = r.state;
    return r.effects.map((effect) => ({ instance: this.st.spec.name, effect }));
  }
  deadline() {
    return nextDeadline(this.st);
  }
  stateOf() {
    return this.st;
  }
}

class GroupUnit implements Unit {
  chain = Promise.resolve();
  timer?: NodeJS.Timeout;
  constructor(public g: SyncGroupState, readonly groupNotify: NotifyScripts) {}
  get name() {
    return this.g.spec.name;
  }
  get members() {
    return this.g.spec.members;
  }
  feed(member: string | undefined, input: Input, now: number): TaggedEffect[] {
    const r = stepGroup(this.g, member, input, now);
    this.g = r.state;
    return r.effects;
  }
  deadline() {
    return nextGroupDeadline(this.g);
  }
  stateOf(member: string) {
    return this.g.members[member]!;
  }
}

/** Named routing tables (`table NAME` in virtual_routes), read when a route needs one. */
function rtTables(): Map<string, number> {
  try {
    return parseRtTables(readFileSync('/etc/iproute2/rt_tables', 'utf8'));
  } catch {
    return new Map();
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class VrrpEngine {
  private instances = new Map<string, InstanceRt>();
  private units: Unit[] = [];
  private readonly sockets = new Map<string, VrrpSocket>();
  private readonly senders = new Map<number, PacketSender>();
  private scriptRunners: TrackScriptRunner[] = [];
  private watchedFiles: string[] = [];
  /** Script runs and failures by `track:<vrrp_script>` / `notify:<instance or group>`, for metrics; kept across reloads. */
  private readonly scriptCounts = new Map<string, { kind: 'track' | 'notify'; name: string; runs: number; failures: number }>();
  /** Monotonic ms at start, for dumps. */
  private startedAt = 0;
  private ifw?: InterfaceWatcher;
  private rt?: Rtnetlink;
  private readonly now: () => number;
  private stopping = false;

  // Not readonly: reload() replaces the plan.
  constructor(private plan: VrrpPlan, private readonly opts: EngineOptions) {
    this.now = opts.now ?? (() => performance.now());
  }

  get log(): Logger {
    return this.opts.log;
  }

  /** Opens everything, then starts the instances (after vrrp_startup_delay). */
  async start(): Promise<void> {
    for (const s of this.plan.skipped) this.log.error(`(${s.name}) not started: ${s.reason}`);
    this.rt = new Rtnetlink();
    this.ifw = await InterfaceWatcher.open();
    this.ifw.on('change', (c) => this.onInterfaceChange(c));
    this.ifw.on('error', (e) => this.log.error(`interface monitor: ${e.message}`));

    this.startedAt = this.now();
    const states = new Map<string, InstanceState>();
    for (const p of this.plan.instances) states.set(p.name, this.newInstance(p));
    this.buildUnits(states);

    await this.removeLeftoverVips();
    for (const inst of this.instances.values()) this.openSocket(inst);
    this.startTrackers();
    if (this.plan.startupDelayMs > 0) await sleep(this.plan.startupDelayMs);

    // Faults known before start (interface down, failing weight-0 trackers) put the instance straight into FAULT.
    for (const inst of this.instances.values()) {
      if (!this.ifw.table.isUp(inst.plan.interface)) this.feed(inst, { type: 'interface-down' });
      this.feedTrackers(inst);
    }
    for (const unit of this.units) for (const m of unit.members) this.feedUnit(unit, m, { type: 'start' });
  }

  /** Creates the runtime record of a planned instance (sockets opened later) and returns its fresh INIT state. */
  private newInstance(p: InstancePlan): InstanceState {
    const iface = this.ifw!.table.get(p.interface);
    const src = this.sourceAddress(p);
    if (!src) this.log.warn(`(${p.name}) no usable source address on ${p.interface} yet`);
    const st = initialState({ ...p.spec, primaryAddress: src ?? (p.family === 6 ? '::' : '0.0.0.0') });
    const rtInst: InstanceRt = {
      plan: p,
      unit: undefined as unknown as Unit,
      ifindex: iface?.link.ifindex ?? 0,
      src,
      ipId: new IpIdCounter(),
      trackers: new Map(p.spec.trackers.map((t) => [t.name, { spec: t }])),
      stats: {
        advertsSent: 0, advertsReceived: 0, dropped: {}, garpsSent: 0, becameMaster: 0, releasedMaster: 0, transitions: 0,
        priZeroReceived: 0, priZeroSent: 0, addrListErr: 0,
      },
      owned: new Map(),
      ownedRoutes: [],
      ownedRules: [],
      state: () => rtInst.unit.stateOf(p.name),
    };
    this.instances.set(p.name, rtInst);
    return st;
  }

  /** Groups instances into scheduling units: sync groups, then every other instance on its own. */
  private buildUnits(states: Map<string, InstanceState>, oldGroups?: Map<string, SyncGroupState>): void {
    this.units = [];
    const grouped = new Set<string>();
    for (const g of this.plan.groups) {
      let gs = initialSyncGroup({ name: g.name, members: g.members }, g.members.map((m) => states.get(m)!));
      // A group that survives a reload keeps its group-level state (members carry theirs already).
      const before = oldGroups?.get(g.name);
      if (before && g.members.every((m) => states.get(m)!.state !== 'INIT')) gs = { ...gs, state: before.state };
      const unit = new GroupUnit(gs, g.notify);
      this.units.push(unit);
      for (const m of g.members) {
        grouped.add(m);
        this.instances.get(m)!.unit = unit;
      }
    }
    for (const p of this.plan.instances) {
      if (grouped.has(p.name)) continue;
      const unit = new SingleUnit(states.get(p.name)!);
      this.units.push(unit);
      this.instances.get(p.name)!.unit = unit;
    }
  }

  /**
   * SIGHUP: switch to a new plan without disturbing what stays (keepalived vrrp_daemon.c reload_vrrp_thread,
   * vrrp.c vrrp_complete_init/restore). Instances are matched by identity (reload.ts), not by name:
   *  - kept instances carry their state, master, counters and tracker results; a MASTER stays MASTER with no
   *    notify, sends an advert at once, and only the VIPs the diff names are added/removed (the rest never flap);
   *  - removed instances go DELETED (a MASTER sends priority 0 and drops its VIPs; notify DELETED or FAULT);
   *  - new instances start from INIT like at daemon start;
   *  - track scripts and files are re-read and restarted (results of same-named trackers carry over).
   */
  async reload(next: VrrpPlan): Promise<{ kept: string[]; removed: string[]; added: string[] }> {
    if (this.stopping) throw new Error('engine is stopping');
    const match = matchInstances(this.plan.instances, next.instances);
    for (const s of next.skipped) this.log.error(`(${s.name}) not started: ${s.reason}`);

    // 1. Removed instances leave the way a shut-down one does, but into DELETED.
    const oldByName = this.instances;
    for (const o of match.removed) {
      const inst = oldByName.get(o.name)!;
      this.feedUnit(inst.unit, o.name, { type: 'delete' }, false);
    }
    for (const u of this.units) if (u.timer) clearTimeout(u.timer);
    await Promise.all(this.units.map((u) => u.chain));
    for (const o of match.removed) await this.releaseOwned(oldByName.get(o.name)!);
    if (this.stopping) throw new Error('engine is stopping');

    // 2. New runtime records: kept instances move over with their state, added ones start fresh.
    const oldGroups = new Map<string, SyncGroupState>();
    for (const u of this.units) if (u instanceof GroupUnit) oldGroups.set(u.name, u.g);
    const now = this.now();
    this.plan = next;
    this.instances = new Map();
    const states = new Map<string, InstanceState>();
    const vipWork: Array<{ inst: InstanceRt; oldVips: VipPlan[]; oldRoutes: InstancePlan['routes'] }> = [];
    for (const { old, next: p } of match.kept) {
      const prev = oldByName.get(old.name)!;
      const prevState = prev.state();
      // mcast_src_ip is not part of the identity, so the source may change; the socket stays (same key).
      const src = this.sourceAddress(p) ?? prev.src;
      const inst: InstanceRt = { ...prev, plan: p, src, unit: undefined as unknown as Unit, trackers: new Map(), state: () => inst.unit.stateOf(p.name) };
      for (const t of p.spec.trackers) inst.trackers.set(t.name, { ...prev.trackers.get(t.name), spec: t });
      this.instances.set(p.name, inst);
      states.set(p.name, carryOverState(prevState, p.spec, now, src ?? prevState.spec.primaryAddress));
      if (prevState.state === 'MASTER') vipWork.push({ inst, oldVips: old.vips, oldRoutes: old.routes });
      if (old.name !== p.name) this.log.info(`(${p.name}) was ${old.name} before the reload`);
    }
    for (const p of match.added) states.set(p.name, this.newInstance(p));
    this.buildUnits(states, oldGroups);

    // 3. Sockets: new instances open theirs; sockets nobody uses any more are closed.
    for (const inst of this.instances.values()) if (!inst.socket) this.openSocket(inst);
    const used = new Set([...this.instances.values()].map((i) => i.socket));
    for (const [key, sock] of this.sockets) if (!used.has(sock)) { sock.close(); this.sockets.delete(key); }

    // 4. Trackers restart with the new definitions.
    for (const r of this.scriptRunners) r.stop();
    for (const f of this.watchedFiles) unwatchFile(f);
    this.scriptRunners = [];
    this.watchedFiles = [];
    this.startTrackers();

    // 5. Masters apply their VIP diff in order with their other effects.
    for (const { inst, oldVips, oldRoutes } of vipWork) {
      const diff = diffVips(oldVips, inst.plan.vips);
      const newRouteKeys = new Set(inst.plan.routes.map(describeRoute));
      const oldRouteKeys = new Set(oldRoutes.map(describeRoute));
      const goneRoutes = new Set([...oldRouteKeys].filter((k) => !newRouteKeys.has(k)));
      const addedRoutes = inst.plan.routes.filter((r) => !oldRouteKeys.has(describeRoute(r)));
      if (!diff.add.length && !diff.remove.length && !goneRoutes.size && !addedRoutes.length) continue;
      const unit = inst.unit;
      unit.chain = unit.chain
        .then(async () => {
          await this.removeRoutes(inst, goneRoutes);
          await this.removeVipPlans(inst, diff.remove);
          await this.addVipPlans(inst, diff.add);
          await this.addRoutes(inst, addedRoutes);
          await this.sendGarps(inst, diff.add.map((v) => v.address), inst.plan.spec.garp.masterRepeat);
          this.log.info(`(${inst.plan.name}) reload: +${diff.add.length} -${diff.remove.length} addresses`);
        })
        .catch((e: Error) => this.log.error(`${unit.name}: ${e.message}`));
    }

    // 6. Priorities and faults are recomputed (a changed priority takes effect now); new instances start.
    const added = new Set(match.added.map((p) => p.name));
    for (const inst of this.instances.values()) {
      if (added.has(inst.plan.name)) {
        if (!this.ifw!.table.isUp(inst.plan.interface)) this.feed(inst, { type: 'interface-down' });
        this.feedTrackers(inst);
      } else {
        const v = trackVerdict(inst.plan.spec.priority, [...inst.trackers.values()]);
        this.feed(inst, { type: 'tracker-changed', effectivePriority: v.effectivePriority, faults: v.faults });
      }
    }
    for (const unit of this.units)
      for (const m of unit.members) if (added.has(m)) this.feedUnit(unit, m, { type: 'start' });
    for (const unit of this.units) this.arm(unit);
    const summary = { kept: match.kept.map((k) => k.next.name), removed: match.removed.map((o) => o.name), added: [...added] };
    this.log.info(`Reload: kept ${summary.kept.length}, removed ${summary.removed.length}, added ${summary.added.length} instance(s)`);
    return summary;
  }

  /** Instance states for status output. */
  status(): Array<{ name: string; state: VrrpState; priority: number; effectivePriority: number; master?: string; stats: InstanceStats; vips: string[]; interface: string }> {
    return [...this.instances.values()].map((i) => {
      const s = i.state();
      return {
        name: i.plan.name, state: s.state, priority: i.plan.spec.priority, effectivePriority: s.effectivePriority,
        master: s.masterAddress, stats: i.stats, vips: i.plan.vips.map((v) => v.address), interface: i.plan.interface,
      };
    });
  }

  /**
   * Everything dumps, the JSON state and metrics need (SIGUSR1/SIGUSR2/JSON, status endpoint). `wallNow` maps the
   * monotonic transition times onto the wall clock.
   */
  snapshot(wallNow = Date.now()): InstanceSnapshot[] {
    const mono = this.now();
    return [...this.instances.values()].map((i) => {
      const s = i.state();
      return {
        plan: i.plan, state: s.state, wantState: s.wantState, effectivePriority: s.effectivePriority,
        masterAddress: s.masterAddress, masterPriority: s.masterPriority,
        lastTransitionMs: s.lastTransition === undefined ? undefined : wallNow - (mono - s.lastTransition),
        src: i.src, vipset: i.owned.size > 0, faults: s.faults,
        trackers: [...i.trackers.values()].map((t) => ({ name: t.spec.name, ok: t.ok, value: t.value, weight: t.spec.weight })),
        stats: { ...i.stats, dropped: { ...i.stats.dropped } },
      };
    });
  }

  /** Script runs and failures (track scripts and notify scripts) for metrics. */
  scriptStats(): Array<{ kind: 'track' | 'notify'; name: string; runs: number; failures: number }> {
    return [...this.scriptCounts.values()].map((c) => ({ ...c }));
  }

  private countScript(kind: 'track' | 'notify', name: string, r: ScriptResult): void {
    const key = `${kind}:${name}`;
    let c = this.scriptCounts.get(key);
    if (!c) this.scriptCounts.set(key, (c = { kind, name, runs: 0, failures: 0 }));
    c.runs++;
    if (!scriptSucceeded(r)) c.failures++;
  }

  /** STATS_CLEAR: counters back to zero (keepalived's SIGRTMAX-1 after writing the stats). */
  clearStats(): void {
    for (const i of this.instances.values()) {
      const s = i.stats;
      s.advertsSent = s.advertsReceived = s.garpsSent = s.becameMaster = s.releasedMaster = s.transitions = 0;
      s.priZeroReceived = s.priZeroSent = s.addrListErr = 0;
      s.dropped = {};
    }
  }

  /** SIGTERM: masters send priority 0 and drop their VIPs; notify_stop runs; everything we opened is closed. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const unit of this.units) {
      if (unit.timer) clearTimeout(unit.timer);
      for (const m of unit.members) this.feedUnit(unit, m, { type: 'shutdown' }, false);
    }
    await Promise.all(this.units.map((u) => u.chain));
    // The priority-0 adverts must be on the wire before the sockets close.
    await Promise.all([...this.instances.values()].map((i) => i.advertOut));
    // Anything still owned (e.g. a VIP add that raced the shutdown) is removed too, unless -V.
    if (!this.opts.dontReleaseVips) for (const inst of this.instances.values()) await this.releaseOwned(inst);
    for (const r of this.scriptRunners) r.stop();
    for (const f of this.watchedFiles) unwatchFile(f);
    for (const s of this.sockets.values()) s.close();
    for (const s of this.senders.values()) s.close();
    this.ifw?.close();
    this.rt?.close();
  }

  // ---- feeding the core ---------------------------------------------------------------------------------------

  private feed(inst: InstanceRt, input: Input): void {
    this.feedUnit(inst.unit, inst.plan.name, input);
  }

  private feedUnit(unit: Unit, member: string | undefined, input: Input, rearm = true): void {
    const effects = unit.feed(member, input, this.now());
    if (effects.length) this.execute(unit, effects);
    if (rearm && !this.stopping) this.arm(unit);
  }

  private arm(unit: Unit): void {
    if (unit.timer) clearTimeout(unit.timer);
    unit.timer = undefined;
    const at = unit.deadline();
    if (at === undefined) return;
    // Node's timers have 1 ms granularity and fire up to about a millisecond either side of the deadline. Wake 1 ms
    // early and finish the wait in the event loop's check phase, so deadlines (the skew time is 60.9 ms at 0.1 s)
    // are met to a fraction of a millisecond, as keepalived's µs timers meet them. The spin is at most ~1 ms.
    const token = setTimeout(() => {
      const fire = (): void => {
        if (unit.timer !== token || this.stopping) return;
        if (this.now() < at) {
          setImmediate(fire);
          return;
        }
        unit.timer = undefined;
        this.feedUnit(unit, undefined, { type: 'timer' });
      };
      fire();
    }, Math.max(0, at - this.now() - 1));
    unit.timer = token;
  }

  // ---- effects --------------------------------------------------------------------------------------------------

  private execute(unit: Unit, effects: TaggedEffect[]): void {
    // Adverts go out synchronously, in order with the rest: the chain only holds back what follows them.
    for (const { instance, effect } of effects) {
      const inst = instance ? this.instances.get(instance) : undefined;
      unit.chain = unit.chain.then(() => this.run(unit, inst, effect)).catch((e: Error) => this.log.error(`${unit.name}: ${e.message}`));
    }
  }

  private async run(unit: Unit, inst: InstanceRt | undefined, e: Effect): Promise<void> {
    // Only adding VIPs overlaps with a pending advert (that is what shortens advert → GARP); everything else — GARPs,
    // VIP removal after a priority-0 advert, notify spawns (a fork costs milliseconds) — waits until it is sent.
    if (inst?.advertOut && e.type !== 'add-vips') await inst.advertOut;
    switch (e.type) {
      case 'send-advert':
        // Not awaited: the VIPs are added while the advert waits for its poll turn; GARPs still follow it.
        if (inst) inst.advertOut = this.sendAdvert(inst, e.priority);
        return;
      case 'add-vips':
        // keepalived's order: addresses, then the routes that may depend on them.
        if (inst) {
          await this.addVips(inst, e.addresses);
          await this.addRoutes(inst);
          await this.addRules(inst);
        }
        return;
      case 'remove-vips':
        if (inst && !(this.stopping && this.opts.dontReleaseVips)) {
          await this.removeRules(inst);
          await this.removeRoutes(inst);
          await this.removeVips(inst, e.addresses);
        }
        return;
      case 'send-garp':
        // After the advert (awaited above): the old master drops the VIPs before our GARPs (vrrp_state_master_tx).
        if (inst) await this.sendGarps(inst, e.addresses, e.count);
        return;
      case 'notify': {
        const scripts = e.scope === 'GROUP' ? unit.groupNotify ?? {} : inst?.plan.notify ?? {};
        void this.opts.notify
          .dispatch(notifyEventFromEngine(e, scripts))
          .then((o) => { for (const r of o.results) this.countScript('notify', e.name, r.result); })
          .catch(() => undefined);
        return;
      }
      case 'state-changed':
        if (inst) {
          inst.stats.transitions++;
          if (e.to === 'MASTER') inst.stats.becameMaster++;
          if (e.from === 'MASTER') inst.stats.releasedMaster++;
        }
        return;
      case 'log':
        if (e.level === 'error') this.log.error(e.msg);
        else if (e.level === 'warning') this.log.warn(e.msg);
        else this.log.info(e.msg);
        return;
    }
  }

  private async sendAdvert(inst: InstanceRt, priority: number): Promise<void> {
    const sock = inst.socket;
    const src = inst.src;
    if (!sock || !src) return;
    const sends: Promise<void>[] = [];
    const p = inst.plan;
    const dsts = p.unicast ? p.peers.map((x) => x.address) : [p.group];
    const advert = advertFor(inst.state().spec, priority);
    for (const dst of dsts) {
      // One encoding per destination: the v3 checksum covers the pseudo-header, which names the destination.
      const msg = encodeAdvert(advert, { family: p.spec.family, src, dst, v3ChecksumAsV2: p.spec.v3ChecksumAsV2 });
      const id = inst.ipId.next();
      sends.push(
        sock
          .send(Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength), { dst, src, id, ttl: p.ttl })
          .then(() => {
            inst.stats.advertsSent++;
            if (priority === 0) inst.stats.priZeroSent++;
          })
          .catch((err: Error) => this.log.warn(`(${p.name}) advert send failed: ${err.message}`)),
      );
    }
    await Promise.all(sends);
  }

  private vipPlans(inst: InstanceRt, addresses: string[]): VipPlan[] {
    const want = new Set(addresses);
    return inst.plan.vips.filter((v) => want.has(v.address));
  }

  private async addVips(inst: InstanceRt, addresses: string[]): Promise<void> {
    await this.addVipPlans(inst, this.vipPlans(inst, addresses));
  }

  private async addVipPlans(inst: InstanceRt, plans: VipPlan[]): Promise<void> {
    for (const v of plans) {
      const ifindex = this.ifw?.table.get(v.dev)?.link.ifindex;
      if (!ifindex) {
        this.log.error(`(${inst.plan.name}) cannot add ${v.address}: no interface ${v.dev}`);
        continue;
      }
      const spec: AddressSpec = {
        ifindex, address: v.address, prefixlen: v.prefix, broadcast: v.brd, label: v.label, scope: v.scope, peer: v.peer,
        flags: (v.noDad ? IFA_F_NODAD : 0) | (v.noprefixroute ? IFA_F_NOPREFIXROUTE : 0) | (v.home ? IFA_F_HOMEADDRESS : 0),
      };
      try {
        await this.rt!.addAddress(spec);
        inst.owned.set(v.address, { ifindex, prefix: v.prefix, peer: v.peer });
      } catch (e) {
        this.log.error(`(${inst.plan.name}) cannot add VIP ${v.address}/${v.prefix} on ${v.dev}: ${(e as Error).message}`);
      }
    }
  }

  private async removeVips(inst: InstanceRt, addresses: string[]): Promise<void> {
    await this.removeVipPlans(inst, this.vipPlans(inst, addresses));
  }

  private async removeVipPlans(inst: InstanceRt, plans: VipPlan[]): Promise<void> {
    for (const v of plans) {
      const ifindex = inst.owned.get(v.address)?.ifindex ?? this.ifw?.table.get(v.dev)?.link.ifindex;
      inst.owned.delete(v.address);
      if (!ifindex) continue;
      try {
        await this.rt!.deleteAddress({ ifindex, address: v.address, prefixlen: v.prefix, peer: v.peer });
      } catch (e) {
        this.log.error(`(${inst.plan.name}) cannot remove VIP ${v.address}: ${(e as Error).message}`);
      }
    }
  }

  private async addRoutes(inst: InstanceRt, routes = inst.plan.routes): Promise<void> {
    for (const r of routes) {
      try {
        const spec = routeSpec(r, (dev) => this.ifw?.table.get(dev)?.link.ifindex, rtTables());
        await this.rt!.addRoute(spec);
        inst.ownedRoutes.push({ key: describeRoute(r), spec });
      } catch (e) {
        this.log.error(`(${inst.plan.name}) cannot add route ${describeRoute(r)}: ${(e as Error).message}`);
      }
    }
  }

  /** Removes the routes we own (only those whose config text is in `keys`, when given), newest first. */
  private async removeRoutes(inst: InstanceRt, keys?: ReadonlySet<string>): Promise<void> {
    const gone = inst.ownedRoutes.filter((o) => !keys || keys.has(o.key));
    inst.ownedRoutes = inst.ownedRoutes.filter((o) => !gone.includes(o));
    for (const { key, spec } of gone.reverse()) {
      try {
        await this.rt!.deleteRoute(spec);
      } catch (e) {
        this.log.error(`(${inst.plan.name}) cannot remove route ${key}: ${(e as Error).message}`);
      }
    }
  }

  private async addRules(inst: InstanceRt): Promise<void> {
    for (const r of inst.plan.rules) {
      try {
        const spec = ruleSpec(r, rtTables());
        await this.rt!.addRule(spec);
        inst.ownedRules.push(spec);
      } catch (e) {
        this.log.error(`(${inst.plan.name}) cannot add rule ${r.words.join(' ')}: ${(e as Error).message}`);
      }
    }
  }

  private async removeRules(inst: InstanceRt): Promise<void> {
    for (const spec of inst.ownedRules.splice(0).reverse()) {
      try {
        await this.rt!.deleteRule(spec);
      } catch (e) {
        this.log.error(`(${inst.plan.name}) cannot remove rule: ${(e as Error).message}`);
      }
    }
  }

  /**
   * Before anything runs, removes the VIPs (and excluded VIPs) of every instance from their interfaces: whatever a
   * previous run left there (killed with SIGKILL, -V) is not ours to keep until the protocol says MASTER.
   * keepalived does the same at start-up (vrrp_restore_interfaces_startup, forced, not on reload).
   */
  private async removeLeftoverVips(): Promise<void> {
    for (const inst of this.instances.values()) {
      for (const v of inst.plan.vips) {
        const ifindex = this.ifw?.table.get(v.dev)?.link.ifindex;
        if (!ifindex) continue;
        try {
          if ((await this.rt!.deleteAddress({ ifindex, address: v.address, prefixlen: v.prefix, peer: v.peer })) === 'deleted') {
            this.log.info(`(${inst.plan.name}) removed ${v.address}/${v.prefix} left on ${v.dev} by an earlier run`);
          }
        } catch (e) {
          this.log.warn(`(${inst.plan.name}) cannot remove a leftover ${v.address}: ${(e as Error).message}`);
        }
      }
    }
  }

  private async releaseOwned(inst: InstanceRt): Promise<void> {
    await this.removeRules(inst);
    await this.removeRoutes(inst);
    for (const [address, o] of inst.owned) {
      try {
        await this.rt!.deleteAddress({ ifindex: o.ifindex, address, prefixlen: o.prefix, peer: o.peer });
      } catch {
        /* gone already */
      }
    }
    inst.owned.clear();
  }

  private sender(ifindex: number): PacketSender {
    let s = this.senders.get(ifindex);
    if (!s) {
      s = new PacketSender(ifindex);
      this.senders.set(ifindex, s);
    }
    return s;
  }

  /** `count` GARPs / NAs per address, back to back unless vrrp_garp_interval / vrrp_gna_interval pace them. */
  private async sendGarps(inst: InstanceRt, addresses: string[], count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      for (const v of this.vipPlans(inst, addresses)) {
        const st = this.ifw?.table.get(v.dev);
        if (!st?.link.mac || st.link.noarp) continue;
        const frame =
          v.family === 4
            ? buildGratuitousArp(st.link.mac, v.address)
            : buildUnsolicitedNa(st.link.mac, v.address, { router: ipv6Forwarding(v.dev) });
        try {
          this.sender(st.link.ifindex).send(frame);
          inst.stats.garpsSent++;
        } catch (e) {
          this.log.warn(`(${inst.plan.name}) GARP for ${v.address} failed: ${(e as Error).message}`);
        }
        const pace = v.family === 4 ? this.plan.garpIntervalMs : this.plan.gnaIntervalMs;
        if (pace > 0) await sleep(pace);
      }
    }
  }

  // ---- receiving ------------------------------------------------------------------------------------------------

  private sourceAddress(p: InstancePlan): string | undefined {
    if (p.configuredSrc) return p.configuredSrc;
    const own = p.vips.map((v) => v.address);
    return p.family === 6 ? this.ifw!.table.linkLocal6(p.interface, own) : this.ifw!.table.primaryIpv4(p.interface, own);
  }

  private openSocket(inst: InstanceRt): void {
    const p = inst.plan;
    const mode = p.unicast ? 'unicast' : 'multicast';
    const key = `${p.interface}|${p.family}|${mode}|${p.unicast ? inst.src : p.group}`;
    let sock = this.sockets.get(key);
    if (!sock) {
      try {
        sock = openVrrpSocket(p.family, { ifname: p.interface, mode, group: p.group, ttl: p.ttl, src: inst.src });
      } catch (e) {
        this.log.error(`(${p.name}) cannot open VRRP socket on ${p.interface}: ${(e as Error).message}`);
        return;
      }
      const s = sock;
      s.on('message', (r) => this.onPacket(s, r));
      s.on('error', (e) => this.log.error(`VRRP socket ${p.interface}: ${e.message}`));
      this.sockets.set(key, s);
    }
    inst.socket = sock;
  }

  private onPacket(sock: VrrpSocket, r: VrrpReceived): void {
    if (this.stopping) return;
    const family = r.family === 6 ? 'inet6' : 'inet';
    const vrid = peekVrid(r.packet, family);
    const inst = [...this.instances.values()].find((i) => i.socket === sock && i.plan.spec.vrid === vrid);
    if (!inst) return; // unknown VRID: keepalived only logs these with log_unknown_vrids
    if (inst.src && r.src === inst.src) return; // our own advert looped back
    const s = inst.state();
    const res = validateAdvert({ bytes: r.packet, family, src: r.src, dst: r.dst, ttl: r.ttl }, rxPolicyFor(s));
    if (!res.ok) {
      inst.stats.dropped[res.reason] = (inst.stats.dropped[res.reason] ?? 0) + 1;
      this.log.debug(`(${inst.plan.name}) dropped advert from ${res.src ?? r.src}: ${res.reason} (${res.detail})`);
      return;
    }
    inst.stats.advertsReceived++;
    if (res.notes.includes('priority-zero')) inst.stats.priZeroReceived++;
    if (res.notes.includes('naddr-mismatch') || res.notes.includes('vip-mismatch')) inst.stats.addrListErr++;
    this.feed(inst, { type: 'advert-received', advert: res.advert, src: res.src });
  }

  // ---- interfaces and trackers ----------------------------------------------------------------------------------

  private onInterfaceChange(c: InterfaceChange): void {
    if (this.stopping) return;
    for (const inst of this.instances.values()) {
      const p = inst.plan;
      if (c.kind === 'link-up' || c.kind === 'link-down') {
        if (c.name === p.interface) {
          this.log.info(`(${p.name}) interface ${c.name} ${c.kind === 'link-up' ? 'up' : 'down'}`);
          if (c.kind === 'link-up') this.refreshSource(inst);
          this.feed(inst, { type: c.kind === 'link-up' ? 'interface-up' : 'interface-down' });
        }
        const t = inst.trackers.get(`interface:${c.name}`);
        if (t) {
          t.ok = c.kind === 'link-up';
          this.feedTrackers(inst);
        }
      } else if (c.kind === 'address-removed') {
        const vip = p.vips.find((v) => v.address === c.address.address);
        if (vip && inst.owned.has(vip.address) && !vip.noTrack && inst.state().state === 'MASTER') {
          inst.owned.delete(vip.address);
          this.feed(inst, { type: 'vip-removed-externally', address: vip.address });
        }
      } else if (c.kind === 'address-added' && c.name === p.interface && !inst.src) {
        this.refreshSource(inst);
      }
    }
  }

  /** The interface's address may only appear after start (DHCP, late configuration). */
  private refreshSource(inst: InstanceRt): void {
    const src = this.sourceAddress(inst.plan);
    if (src && src !== inst.src) {
      inst.src = src;
      if (!inst.socket) this.openSocket(inst);
    }
  }

  private feedTrackers(inst: InstanceRt): void {
    if (!inst.trackers.size) return;
    const v = trackVerdict(inst.plan.spec.priority, [...inst.trackers.values()]);
    this.feed(inst, { type: 'tracker-changed', effectivePriority: v.effectivePriority, faults: v.faults });
  }

  private startTrackers(): void {
    const table = this.ifw!.table;
    for (const inst of this.instances.values())
      for (const t of inst.plan.trackers) if (t.interface) inst.trackers.get(t.spec.name)!.ok = table.isUp(t.interface);

    const scripts = new Map<string, { script: NonNullable<InstancePlan['trackers'][number]['script']>; command: ScriptCommand }>();
    const files = new Map<string, NonNullable<InstancePlan['trackers'][number]['file']>>();
    for (const inst of this.instances.values())
      for (const t of inst.plan.trackers) {
        if (t.script && t.command) scripts.set(t.script.name, { script: t.script, command: t.command });
        if (t.file) files.set(t.file.name, t.file);
      }
    for (const { script: s, command } of scripts.values()) {
      const runner = new TrackScriptRunner(
        {
          name: s.name, command, intervalMs: s.intervalMs,
          timeoutMs: s.timeoutMs, rise: s.rise, fall: s.fall, weight: s.weight, reverse: s.weightReverse, initFail: s.initFail,
        },
        { log: (level, msg) => this.log[level](msg) },
      );
      runner.on('result', (r) => this.countScript('track', s.name, r));
      runner.on('change', (ch) => {
        this.log.info(`VRRP_Script(${s.name}) ${ch.status === 'ok' ? 'succeeded' : 'failed'}`);
        for (const inst of this.instances.values()) {
          const t = inst.trackers.get(`script:${s.name}`);
          if (!t) continue;
          t.ok = ch.status === 'ok';
          this.feedTrackers(inst);
        }
      });
      this.scriptRunners.push(runner);
      runner.start();
    }
    for (const f of files.values()) {
      const read = () => {
        let value = 0;
        try {
          value = Number.parseInt(readFileSync(f.file, 'utf8').trim(), 10) || 0;
        } catch {
          value = 0;
        }
        for (const inst of this.instances.values()) {
          const t = inst.trackers.get(`file:${f.name}`);
          if (!t || t.value === value) continue;
          t.value = value;
          this.feedTrackers(inst);
        }
      };
      read();
      watchFile(f.file, { interval: 200 }, read);
      this.watchedFiles.push(f.file);
    }
  }
}
