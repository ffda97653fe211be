// Deterministic discrete-event simulator: N directors on one simulated LAN, each running the production VrrpNode
// (src/vrrp/node.ts) — the same demux, validation, advert encoding, GARP pacing and reload the daemon runs.
// Virtual clock, seeded PRNG, per-link loss and delay, partitions, per-router clock offset and drift, crash/restart,
// interface down/up, SIGTERM and reload. No I/O, no real timers.
import { vrrpIpv4Datagram } from '../../src/net/vrrp-socket.js';
import type { InstancePlan, VrrpPlan } from '../../src/vrrp/plan.js';
import type { Input, InstanceState } from '../../src/vrrp/machine.js';
import { VrrpNode, type NodeEffect, type NodeInput, type SendAdvertEffect } from '../../src/vrrp/node.js';
import type { SocketSpec } from '../../src/vrrp/socket-spec.js';
import { instanceSpec, type VrrpInstanceSpec, type VrrpState } from '../../src/vrrp/spec.js';
import { Prng } from './prng.js';
import type { Family } from '../../src/net/address.js';
import { isDeepStrictEqual } from 'node:util';
import { groupPlan, instancePlan } from '../helpers/vrrp-plan.js';

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
  /** vrrp_garp_interval / vrrp_gna_interval (ms). */
  garpIntervalMs?: number;
  gnaIntervalMs?: number;
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
export interface SimGarp { at: number; router: string; instance: string; address: string }

interface Router {
  cfg: SimRouterConfig;
  plan: VrrpPlan;
  node?: VrrpNode;
  ifUp: boolean;
  /** Bumped on every reschedule and on crash, so stale timer events are ignored. */
  gen: number;
  sockets: Map<string, SocketSpec>;
  /** Addresses currently held (from add-vips/remove-vips effects). */
  vips: Set<string>;
  /** What the node said after its last input that its next timer would send (what the shell arms the sender with). */
  upcoming?: ReturnType<VrrpNode['upcomingAdverts']>;
}

interface Ev { at: number; seq: number; run: () => void }

const IFNAME = 'eth0';

/** The plan a router's daemon would build from its config (what vrrpPlan makes of a keepalived.conf). */
export function simPlan(cfg: SimRouterConfig): VrrpPlan {
  const instances: InstancePlan[] = cfg.instances.map((i) => {
    const spec = instanceSpec(cfg.authPass !== undefined ? { authType: 1, authPass: cfg.authPass, ...i } : i);
    return instancePlan(spec, { dev: IFNAME, configuredSrc: spec.primaryAddress, config: { syncGroup: cfg.syncGroup } });
  });
  return {
    instances,
    groups: cfg.syncGroup ? [groupPlan(cfg.syncGroup, instances.map((i) => i.config.name))] : [],
    garpIntervalMs: cfg.garpIntervalMs ?? 0, gnaIntervalMs: cfg.gnaIntervalMs ?? 0, startupDelayMs: 0, skipped: [],
    statics: { addresses: [], routes: [], rules: [] }, guards: [],
  };
}

export class Simulator {
  /** True (simulation) time in ms. */
  now = 0;
  readonly rng: Prng;
  readonly link: SimLinkModel;
  readonly transitions: SimTransition[] = [];
  readonly adverts: SimAdvert[] = [];
  readonly notifies: SimNotify[] = [];
  readonly garps: SimGarp[] = [];
  readonly effects: { at: number; router: string; effect: NodeEffect }[] = [];
  /** Keep every effect (tests that read `effects`); off for long chaos runs. */
  recordEffects = true;
  /**
   * Timer inputs, right after another input, whose adverts were not the ones upcomingAdverts() gave after that input:
   * the advert sender would have put the wrong adverts on the wire (invariant checked by the chaos run).
   */
  readonly brokenPromises: string[] = [];
  /** Sees every node call: the input and the effects it returned (invariant checks). */
  observer?: (router: string, input: NodeInput, effects: NodeEffect[], localNow: number) => void;
  private readonly routers = new Map<string, Router>();
  private readonly queue: Ev[] = [];
  private seq = 0;
  private blocked = new Set<string>();
  private linkLoss = new Map<string, number>();

  constructor(opts: SimOptions) {
    this.rng = new Prng(opts.seed);
    this.link = { loss: 0, delayMs: 0.1, jitterMs: 0, ...opts.link };
    for (const cfg of opts.routers) {
      this.routers.set(cfg.id, { cfg, plan: simPlan(cfg), ifUp: true, gen: 0, sockets: new Map(), vips: new Set() });
    }
  }

  // ---- clock ------------------------------------------------------------------------------------------------------
  private local(r: Router, t = this.now): number {
    return (r.cfg.clockOffsetMs ?? 0) + (1 + (r.cfg.driftPpm ?? 0) * 1e-6) * t;
  }
  private trueTime(r: Router, local: number): number {
    return (local - (r.cfg.clockOffsetMs ?? 0)) / (1 + (r.cfg.driftPpm ?? 0) * 1e-6);
  }

  // ---- event queue ------------------------------------------------------------------------------------------------
  /** Run `fn` at true time `at` (ms). */
  at(at: number, fn: () => void): void {
    const ev = { at: Math.max(at, this.now), seq: this.seq++, run: fn };
    let lo = 0, hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.queue[mid]!;
      if (q.at < ev.at || (q.at === ev.at && q.seq < ev.seq)) lo = mid + 1; else hi = mid;
    }
    this.queue.splice(lo, 0, ev);
  }

  /** Process events up to and including true time `until`; `each` runs after every event (invariant checks). */
  runUntil(until: number, each?: () => void): void {
    while (this.queue.length && this.queue[0]!.at <= until) {
      const ev = this.queue.shift()!;
      this.now = ev.at;
      ev.run();
      each?.();
    }
    this.now = Math.max(this.now, until);
  }

  // ---- operator actions -------------------------------------------------------------------------------------------
  /** Start (or restart after a crash/stop) a router's daemon. */
  start(id: string): void {
    const r = this.router(id);
    if (r.node) return;
    r.node = new VrrpNode(r.plan);
    r.sockets.clear();
    this.feed(r, { type: 'interface', facts: this.facts(r) });
    this.feed(r, { type: 'start' });
  }
  /** Host crash / power loss: no priority-0 advert, no notify, state and addresses gone. */
  crash(id: string): void {
    const r = this.router(id);
    r.node = undefined;
    r.upcoming = undefined;
    r.vips.clear();
    r.gen++;
  }
  /** SIGTERM: masters send priority 0 and remove VIPs, then the daemon exits. */
  sigterm(id: string): void {
    const r = this.router(id);
    if (!r.node) return;
    this.feed(r, { type: 'shutdown' });
    r.node = undefined;
    r.upcoming = undefined;
    r.gen++;
  }
  /** SIGHUP with a new configuration for this router. */
  reload(id: string, cfg: Omit<SimRouterConfig, 'id'>): void {
    const r = this.router(id);
    r.cfg = { ...cfg, id };
    r.plan = simPlan(r.cfg);
    if (r.node) this.feed(r, { type: 'reload', plan: r.plan });
  }
  interfaceDown(id: string): void { this.setIf(id, false); }
  interfaceUp(id: string): void { this.setIf(id, true); }
  /** A router's own clock now (it drifts from the simulation's): for inputs that carry a time. */
  localNow(id: string): number {
    return this.local(this.router(id));
  }
  /** Feed a core input to one instance of a router (trackers, VIP removal…). */
  input(id: string, instance: string, input: Input): void {
    const r = this.router(id);
    if (r.node) this.feed(r, { type: 'core', instance, input });
  }
  /** A tracker of a router reports (script:NAME ok / file:NAME value). */
  tracker(id: string, key: string, report: { ok?: boolean; value?: number }): void {
    const r = this.router(id);
    if (r.node) this.feed(r, { type: 'tracker', key, ...report });
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
  get partitioned(): boolean { return this.blocked.size > 0; }
  /** Loss probability for frames from `a` to `b` (directional), overriding the LAN-wide loss. */
  setLinkLoss(a: string, b: string, loss: number): void { this.linkLoss.set(`${a}>${b}`, loss); }
  clearLinkLoss(): void { this.linkLoss.clear(); }
  setLoss(loss: number): void { this.link.loss = loss; }

  // ---- observation ------------------------------------------------------------------------------------------------
  ids(): string[] { return [...this.routers.keys()]; }
  alive(id: string): boolean { return !!this.router(id).node; }
  ifUp(id: string): boolean { return this.router(id).ifUp; }
  config(id: string): SimRouterConfig { return this.router(id).cfg; }
  state(id: string, instance: string): VrrpState {
    const r = this.router(id);
    return r.node ? r.node.state(instance).state : 'STOP';
  }
  instance(id: string, instance: string): InstanceState {
    const r = this.router(id);
    if (!r.node) throw new Error(`router ${id} is not running`);
    return r.node.state(instance);
  }
  /** Received adverts an instance dropped, by reason (the node's counters). */
  dropped(id: string, instance: string): Partial<Record<string, number>> {
    const v = this.router(id).node?.view().find((x) => x.plan.config.name === instance);
    return v?.stats.dropped ?? {};
  }
  /** Routers whose instance for `vrid` is MASTER right now. */
  masters(vrid: number): string[] {
    const out: string[] = [];
    for (const [id, r] of this.routers) {
      if (!r.node) continue;
      for (const v of r.node.view()) if (v.plan.spec.vrid === vrid && v.state === 'MASTER') out.push(id);
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

  // ---- internals --------------------------------------------------------------------------------------------------
  private router(id: string): Router {
    const r = this.routers.get(id);
    if (!r) throw new Error(`no router ${id}`);
    return r;
  }

  private facts(r: Router) {
    const v4 = r.cfg.instances.map((i) => i.primaryAddress).filter((a) => !a.includes(':'));
    const v6 = r.cfg.instances.map((i) => i.primaryAddress).filter((a) => a.includes(':'));
    return { name: IFNAME, ifindex: 2, up: r.ifUp, ipv4: [...new Set(v4)], ipv6LinkLocal: [...new Set(v6)] };
  }

  private setIf(id: string, up: boolean) {
    const r = this.router(id);
    r.ifUp = up;
    if (r.node) this.feed(r, { type: 'interface', facts: this.facts(r) });
  }

  private feed(r: Router, input: NodeInput, localNow = this.local(r)) {
    const node = r.node;
    if (!node) return;
    const promised = input.type === 'timer' ? r.upcoming : undefined;
    const effects = node.handle(input, localNow);
    r.upcoming = node.upcomingAdverts();
    if (promised && localNow >= promised.at) {
      const sent = effects.filter((e): e is SendAdvertEffect => e.type === 'send-advert');
      if (!isDeepStrictEqual(sent, promised.sends)) {
        const show = (l: SendAdvertEffect[]) => JSON.stringify(l.map((e) => [e.instance, e.priority, e.ipId]));
        this.brokenPromises.push(`${r.cfg.id} at ${localNow}: promised ${show(promised.sends)}, sent ${show(sent)}`);
      }
    }
    this.observer?.(r.cfg.id, input, effects, localNow);
    for (const e of effects) this.apply(r, e);
    this.reschedule(r);
  }

  private reschedule(r: Router) {
    const gen = ++r.gen;
    const d = r.node?.deadline();
    if (d === undefined) return;
    // Convert the local deadline to true time; never schedule in the past.
    this.at(Math.max(this.now, this.trueTime(r, d)), () => {
      if (!r.node || r.gen !== gen) return;
      // The local clock reaches the deadline despite float rounding.
      this.feed(r, { type: 'timer' }, Math.max(this.local(r), d));
    });
  }

  private apply(r: Router, e: NodeEffect) {
    const id = r.cfg.id;
    if (this.recordEffects) this.effects.push({ at: this.now, router: id, effect: e });
    switch (e.type) {
      case 'open-socket': r.sockets.set(e.key, e); break;
      case 'close-socket': r.sockets.delete(e.key); break;
      case 'state-changed':
        this.transitions.push({ at: this.now, router: id, instance: e.instance, from: e.from, to: e.to, reason: e.reason });
        break;
      case 'notify':
        this.notifies.push({ at: this.now, router: id, scope: e.scope, name: e.name, state: e.state, priority: e.priority });
        break;
      case 'add-vips': for (const v of e.vips) r.vips.add(v.address); break;
      case 'remove-vips': for (const v of e.vips) r.vips.delete(v.address); break;
      case 'send-garp': this.garps.push({ at: this.now, router: id, instance: e.instance, address: e.vip.address }); break;
      case 'send-advert': this.transmit(r, e); break;
      default: break;
    }
  }

  private transmit(r: Router, e: Extract<NodeEffect, { type: 'send-advert' }>) {
    if (!r.ifUp) return; // link down: the frame never reaches the wire
    const sock = r.sockets.get(e.socket);
    if (!sock) return;
    const vrid = e.bytes[1]!;
    this.adverts.push({ at: this.now, router: r.cfg.id, instance: e.instance, vrid, priority: e.priority });
    // What the receiver's raw socket reads: IPv4 with keepalived's header; IPv6 the message (the kernel strips it).
    const bytes = sock.family === 4 ? vrrpIpv4Datagram(e.bytes, { src: e.src, dst: e.dst, id: e.ipId, ttl: e.ttl }) : e.bytes;
    for (const [oid, o] of this.routers) {
      if (oid === r.cfg.id || this.blocked.has(`${r.cfg.id}>${oid}`)) continue;
      const loss = this.linkLoss.get(`${r.cfg.id}>${oid}`) ?? this.link.loss;
      // Draw for every frame so one link's loss does not shift the others' random stream.
      const lost = this.rng.next() < loss;
      const delay = this.link.delayMs + this.rng.next() * this.link.jitterMs;
      if (lost) continue;
      this.at(this.now + delay, () => this.receive(o, sock.family, e.src, e.dst, e.ttl, bytes));
    }
  }

  private receive(r: Router, family: Family, src: string, dst: string, ttl: number, bytes: Uint8Array) {
    if (!r.node || !r.ifUp) return;
    for (const s of r.sockets.values()) {
      if (s.family !== family) continue;
      if (s.mode === 'multicast' ? s.group !== dst : s.src !== dst) continue;
      this.feed(r, { type: 'packet', socket: s.key, bytes, family, src, dst, ttl });
    }
  }
}
