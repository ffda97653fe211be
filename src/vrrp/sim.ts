// Deterministic discrete-event simulator: N routers on one simulated LAN, each running the real VRRP core
// (machine/sync) and exchanging adverts encoded and validated by the real codec. Virtual clock, seeded PRNG,
// per-link loss and delay, partitions, per-router clock offset and drift, crash/restart, interface down/up and
// SIGTERM. Usable from tests and benchmarks; no I/O, no real timers.
import { advertPackets } from './packet.js';
import { initialState, nextDeadline, step, type Effect, type Input, type InstanceState } from './machine.js';
import { Prng } from './prng.js';
import { initialSyncGroup, nextGroupDeadline, stepGroup, type SyncGroupState, type TaggedEffect } from './sync.js';
import { instanceSpec, type VrrpInstanceSpec, type VrrpState } from './types.js';
import { rxPolicyFor, validateAdvert } from './validate.js';

export interface SimRouterConfig {
  id: string;
  /** Instances on this router (name/vrid/primaryAddress required; the rest defaults like keepalived). */
  instances: (Pick<VrrpInstanceSpec, 'name' | 'vrid' | 'primaryAddress'> & Partial<VrrpInstanceSpec>)[];
  /** Put all instances of this router in one vrrp_sync_group. */
  syncGroup?: string;
  /** Local clock = offsetMs + (1 + driftPpm·1e-6) × true time. */
  clockOffsetMs?: number;
  driftPpm?: number;
  /** v2 PASS password for all instances (both sides must match). */
  authPass?: string;
}

export interface SimLinkModel {
  /** Probability a frame is lost on a link (0..1). */
  loss: number;
  /** Fixed one-way delay (ms). */
  delayMs: number;
  /** Extra uniform random delay 0..jitterMs. */
  jitterMs: number;
}

export interface SimOptions {
  seed: number;
  routers: SimRouterConfig[];
  link?: Partial<SimLinkModel>;
}

export interface SimTransition { at: number; router: string; instance: string; from: VrrpState; to: VrrpState; reason: string }
export interface SimAdvert { at: number; router: string; instance: string; vrid: number; priority: number }
export interface SimNotify { at: number; router: string; scope: 'INSTANCE' | 'GROUP'; name: string; state: string; priority: number }
export interface SimDrop { at: number; router: string; instance: string; reason: string }

type Unit =
  | { kind: 'single'; st: InstanceState }
  | { kind: 'group'; g: SyncGroupState };

interface Router {
  cfg: SimRouterConfig;
  specs: VrrpInstanceSpec[];
  alive: boolean;
  ifUp: boolean;
  units: Unit[];
  /** Bumped on every reschedule and on crash, so stale timer events are ignored. */
  gen: number[];
  ipId: number;
  /** Addresses currently held (from add-vips/remove-vips effects). */
  vips: Set<string>;
}

interface Ev { at: number; seq: number; run: () => void }

export class Simulator {
  /** True (simulation) time in ms. */
  now = 0;
  readonly rng: Prng;
  readonly link: SimLinkModel;
  readonly transitions: SimTransition[] = [];
  readonly adverts: SimAdvert[] = [];
  readonly notifies: SimNotify[] = [];
  readonly drops: SimDrop[] = [];
  readonly effects: { at: number; router: string; instance?: string; effect: Effect }[] = [];
  private readonly routers = new Map<string, Router>();
  private readonly queue: Ev[] = [];
  private seq = 0;
  private blocked = new Set<string>();
  private linkLoss = new Map<string, number>();

  constructor(opts: SimOptions) {
    this.rng = new Prng(opts.seed);
    this.link = { loss: 0, delayMs: 0.1, jitterMs: 0, ...opts.link };
    for (const cfg of opts.routers) {
      const specs = cfg.instances.map((i) =>
        instanceSpec(cfg.authPass !== undefined ? { authType: 1, authPass: cfg.authPass, ...i } : i));
      this.routers.set(cfg.id, { cfg, specs, alive: false, ifUp: true, units: [], gen: [], ipId: 0, vips: new Set() });
    }
  }

  // ---- clock ----------------------------------------------------------------------------------------------------
  private local(r: Router, t = this.now): number {
    return (r.cfg.clockOffsetMs ?? 0) + (1 + (r.cfg.driftPpm ?? 0) * 1e-6) * t;
  }
  private trueTime(r: Router, local: number): number {
    return (local - (r.cfg.clockOffsetMs ?? 0)) / (1 + (r.cfg.driftPpm ?? 0) * 1e-6);
  }

  // ---- event queue ----------------------------------------------------------------------------------------------
  /** Run `fn` at true time `at` (ms). */
  at(at: number, fn: () => void): void {
    const ev = { at: Math.max(at, this.now), seq: this.seq++, run: fn };
    // Binary insertion keeps (at, seq) order.
    let lo = 0, hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.queue[mid]!;
      if (q.at < ev.at || (q.at === ev.at && q.seq < ev.seq)) lo = mid + 1; else hi = mid;
    }
    this.queue.splice(lo, 0, ev);
  }

  /** Process events up to and including true time `until`. */
  runUntil(until: number): void {
    while (this.queue.length && this.queue[0]!.at <= until) {
      const ev = this.queue.shift()!;
      this.now = ev.at;
      ev.run();
    }
    this.now = Math.max(this.now, until);
  }

  // ---- operator actions -----------------------------------------------------------------------------------------
  /** Start (or restart after a crash/stop) a router's daemon. */
  start(id: string): void {
    const r = this.router(id);
    if (r.alive) return;
    r.alive = true;
    const states = r.specs.map((s) => initialState(s));
    r.units = r.cfg.syncGroup
      ? [{ kind: 'group', g: initialSyncGroup({ name: r.cfg.syncGroup, members: r.specs.map((s) => s.name) }, states) }]
      : states.map((st) => ({ kind: 'single' as const, st }));
    r.gen = r.units.map((_, i) => (r.gen[i] ?? 0) + 1);
    r.units.forEach((_, ui) => {
      if (!r.ifUp) for (const name of this.unitMembers(r, ui)) this.feed(r, ui, name, { type: 'interface-down' });
      for (const name of this.unitMembers(r, ui)) this.feed(r, ui, name, { type: 'start' });
    });
  }
  /** Host crash / power loss: no priority-0 advert, no notify, state and addresses gone. */
  crash(id: string): void {
    const r = this.router(id);
    r.alive = false;
    r.vips.clear();
    r.gen = r.gen.map((g) => g + 1);
  }
  /** SIGTERM: masters send priority 0 and remove VIPs, then the daemon exits. */
  sigterm(id: string): void {
    const r = this.router(id);
    if (!r.alive) return;
    r.units.forEach((_, ui) => { for (const n of this.unitMembers(r, ui)) this.feed(r, ui, n, { type: 'shutdown' }); });
    r.alive = false;
    r.gen = r.gen.map((g) => g + 1);
  }
  interfaceDown(id: string): void { this.setIf(id, false); }
  interfaceUp(id: string): void { this.setIf(id, true); }
  /** Feed any input to one instance of a router (trackers, VIP removal…). */
  input(id: string, instance: string, input: Input): void {
    const r = this.router(id);
    if (!r.alive) return;
    const ui = r.units.findIndex((_, i) => this.unitMembers(r, i).includes(instance));
    if (ui < 0) throw new Error(`router ${id} has no instance ${instance}`);
    this.feed(r, ui, instance, input);
  }
  /** Split the LAN: frames only flow within a group. Routers not listed form their own group. */
  partition(groups: string[][]): void {
    this.blocked.clear();
    const groupOf = new Map<string, number>();
    groups.forEach((g, i) => g.forEach((id) => groupOf.set(id, i)));
    const ids = [...this.routers.keys()];
    for (const a of ids) for (const b of ids)
      if (a !== b && (groupOf.get(a) ?? `solo-${a}`) !== (groupOf.get(b) ?? `solo-${b}`)) this.blocked.add(`${a}>${b}`);
  }
  heal(): void { this.blocked.clear(); }
  /** Loss probability for frames from `a` to `b` (directional), overriding the LAN-wide loss. */
  setLinkLoss(a: string, b: string, loss: number): void { this.linkLoss.set(`${a}>${b}`, loss); }
  setLoss(loss: number): void { this.link.loss = loss; }

  // ---- observation ----------------------------------------------------------------------------------------------
  state(id: string, instance: string): VrrpState {
    const r = this.router(id);
    if (!r.alive) return 'STOP';
    return this.instanceState(r, instance).state;
  }
  instance(id: string, instance: string): InstanceState { return this.instanceState(this.router(id), instance); }
  /** Routers whose instance for `vrid` is MASTER right now. */
  masters(vrid: number): string[] {
    const out: string[] = [];
    for (const [id, r] of this.routers) {
      if (!r.alive) continue;
      for (const s of r.specs) if (s.vrid === vrid && this.instanceState(r, s.name).state === 'MASTER') out.push(id);
    }
    return out;
  }
  /** Routers that currently hold address `vip`. */
  holders(vip: string): string[] {
    return [...this.routers].filter(([, r]) => r.vips.has(vip)).map(([id]) => id);
  }
  transitionsTo(to: VrrpState, instance?: string): SimTransition[] {
    return this.transitions.filter((t) => t.to === to && (instance === undefined || t.instance === instance));
  }

  // ---- internals ------------------------------------------------------------------------------------------------
  private router(id: string): Router {
    const r = this.routers.get(id);
    if (!r) throw new Error(`no router ${id}`);
    return r;
  }
  private unitMembers(r: Router, ui: number): string[] {
    const u = r.units[ui]!;
    return u.kind === 'single' ? [u.st.spec.name] : u.g.spec.members;
  }
  private instanceState(r: Router, name: string): InstanceState {
    for (const u of r.units) {
      if (u.kind === 'single' && u.st.spec.name === name) return u.st;
      if (u.kind === 'group' && u.g.members[name]) return u.g.members[name]!;
    }
    throw new Error(`router ${r.cfg.id} has no running instance ${name}`);
  }
  private setIf(id: string, up: boolean) {
    const r = this.router(id);
    r.ifUp = up;
    if (!r.alive) return;
    r.units.forEach((_, ui) => { for (const n of this.unitMembers(r, ui)) this.feed(r, ui, n, { type: up ? 'interface-up' : 'interface-down' }); });
  }

  private feed(r: Router, ui: number, name: string | undefined, input: Input) {
    if (!r.alive && input.type !== 'shutdown') return;
    const u = r.units[ui]!;
    const local = this.local(r);
    let tagged: TaggedEffect[];
    if (u.kind === 'single') {
      const res = step(u.st, input, local);
      r.units[ui] = { kind: 'single', st: res.state };
      tagged = res.effects.map((effect) => ({ instance: u.st.spec.name, effect }));
    } else {
      const res = stepGroup(u.g, name, input, local);
      r.units[ui] = { kind: 'group', g: res.state };
      tagged = res.effects;
    }
    for (const t of tagged) this.apply(r, t.instance, t.effect);
    this.reschedule(r, ui);
  }

  private reschedule(r: Router, ui: number) {
    const gen = ++r.gen[ui]!;
    const u = r.units[ui]!;
    const d = u.kind === 'single' ? nextDeadline(u.st) : nextGroupDeadline(u.g);
    if (d === undefined) return;
    // Convert the local deadline to true time; never schedule in the past.
    const at = Math.max(this.now, this.trueTime(r, d));
    this.at(at, () => {
      if (!r.alive || r.gen[ui] !== gen) return;
      // Ensure the local clock has reached the deadline despite float rounding.
      this.feedTimer(r, ui, d);
    });
  }

  private feedTimer(r: Router, ui: number, localDeadline: number) {
    const u = r.units[ui]!;
    const local = Math.max(this.local(r), localDeadline);
    let tagged: TaggedEffect[];
    if (u.kind === 'single') {
      const res = step(u.st, { type: 'timer' }, local);
      r.units[ui] = { kind: 'single', st: res.state };
      tagged = res.effects.map((effect) => ({ instance: u.st.spec.name, effect }));
    } else {
      const res = stepGroup(u.g, undefined, { type: 'timer' }, local);
      r.units[ui] = { kind: 'group', g: res.state };
      tagged = res.effects;
    }
    for (const t of tagged) this.apply(r, t.instance, t.effect);
    this.reschedule(r, ui);
  }

  private apply(r: Router, instance: string | undefined, e: Effect) {
    const id = r.cfg.id;
    this.effects.push({ at: this.now, router: id, instance, effect: e });
    switch (e.type) {
      case 'state-changed':
        this.transitions.push({ at: this.now, router: id, instance: instance!, from: e.from, to: e.to, reason: e.reason });
        break;
      case 'notify':
        this.notifies.push({ at: this.now, router: id, scope: e.scope, name: e.name, state: e.state, priority: e.priority });
        break;
      case 'add-vips':
        for (const a of e.addresses) r.vips.add(a);
        break;
      case 'remove-vips':
        for (const a of e.addresses) r.vips.delete(a);
        break;
      case 'send-advert':
        this.sendAdvert(r, instance!, e.priority);
        break;
      default:
        break;
    }
  }

  private sendAdvert(r: Router, instance: string, priority: number) {
    if (!r.ifUp) return; // link down: the frame never reaches the wire
    const spec = r.specs.find((s) => s.name === instance)!;
    r.ipId = (r.ipId + 1) & 0xffff;
    const bytes = advertPackets(spec, priority, r.ipId)[0]!.bytes;
    this.adverts.push({ at: this.now, router: r.cfg.id, instance, vrid: spec.vrid, priority });
    for (const [oid, o] of this.routers) {
      if (oid === r.cfg.id || this.blocked.has(`${r.cfg.id}>${oid}`)) continue;
      const loss = this.linkLoss.get(`${r.cfg.id}>${oid}`) ?? this.link.loss;
      // Draw for every frame so one link's loss does not shift the others' random stream.
      const lost = this.rng.next() < loss;
      const delay = this.link.delayMs + this.rng.next() * this.link.jitterMs;
      if (lost) continue;
      this.at(this.now + delay, () => this.receive(o, bytes));
    }
  }

  private receive(r: Router, bytes: Uint8Array) {
    if (!r.alive || !r.ifUp) return;
    const vrid = bytes[21];
    r.units.forEach((_, ui) => {
      for (const name of this.unitMembers(r, ui)) {
        const st = this.instanceState(r, name);
        if (st.spec.vrid !== vrid || st.spec.family !== 'inet') continue;
        if (st.state !== 'BACKUP' && st.state !== 'MASTER') continue; // ignored in INIT/FAULT
        const v = validateAdvert({ bytes, family: 'inet' }, rxPolicyFor(st));
        if (!v.ok) { this.drops.push({ at: this.now, router: r.cfg.id, instance: name, reason: v.reason }); continue; }
        this.feed(r, ui, name, { type: 'advert-received', advert: v.advert, src: v.src });
      }
    });
  }
}
