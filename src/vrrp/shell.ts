// The VRRP shell: the imperative shell around the pure VrrpNode (node.ts). It turns sockets, timers, rtnetlink
// events and tracker results into node inputs with the current monotonic time, and node effects into I/O. It holds
// no protocol policy: which instance a packet is for, faults, sources, reload and GARP pacing are the node's.
//
// Ordering: adverts go to their socket the moment the node emits them (a synchronous sendto), never behind anything
// else, so the advert emitted before a removal is on the wire before the removal starts (the peer hears priority 0
// before the VIP goes). Address work (VIPs, routes, rules), GARPs and notify spawns of one instance run in order on
// that instance's chain. GARPs no longer sleep on the chain: the node paces them, so a paced burst never delays an
// advert or a VIP removal.
import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import { readTrackFileText } from '../util/track-file-read.js';
import { performance } from 'node:perf_hooks';
import { getSystemErrorName } from 'node:util';
import type { Logger } from 'pino';
import { InterfaceWatcher, ipv6Forwarding, linkIsUp, type InterfaceChange } from '../net/interfaces.js';
import { Rtnetlink } from '../net/rtnetlink.js';
import { type AddressSpec, type RouteSpec, type RuleSpec, IFA_F_HOMEADDRESS, IFA_F_NODAD, IFA_F_NOPREFIXROUTE } from '../net/rtnetlink-codec.js';
import { keepReceived, openVrrpSocket, type VrrpFrame, type VrrpReceived, type VrrpSocket } from '../net/vrrp-socket.js';
import { ksock, type NativeAdvertSender, type NativeTimer } from '../net/ksock.js';
import { PacketSender } from '../net/packet-socket.js';
import { buildGratuitousArp } from '../net/arp.js';
import { buildUnsolicitedNa } from '../net/ndisc.js';
import { VmacManager } from '../net/vmac.js';
import { NotifyDispatcher, notifyEventFromEngine, type ScriptCommand } from '../notify/notify.js';
import { TrackScriptRunner } from '../notify/track-script.js';
import { ProcessMonitor } from '../notify/process-monitor.js';
import { scriptSucceeded, type ScriptResult } from '../notify/run.js';
import type { VirtualIp, VirtualRoute, VirtualRule } from '../config/model/index.js';
import type { TrackerSource, VrrpPlan } from './plan.js';
import { VrrpNode, type InstanceStatus, type InterfaceFacts, type NodeEffect, type NodeInput, type SendAdvertEffect } from './node.js';
import type { SocketSpec } from './socket-spec.js';
import { matchInstances, staticKey, staticsDiff, type StaticKeys, type VrrpReloadPlan } from './reload.js';
import { describeRoute, describeRule, parseRtTables, routeSpec, ruleSpec } from './routes.js';
import { errorFields, logEffect } from '../daemon/log.js';
import { runNft } from '../net/nft.js';
import { dropsVipTraffic, elementKey, emptyFirewall, firewallTeardown, firewallUpdate, vipElements, vmacElements, type FirewallElement, type FirewallSettings, type FirewallState } from './firewall.js';
import { openGuardClient, type GuardClient } from '../guard/guard-client.js';
import { LinkbeatProbe } from '../net/linkbeat-probe.js';
import { LINKBEAT_INTERVAL_MS, linkbeatStep, readingsFor, type LinkbeatIfState, type LinkbeatTarget } from './linkbeat.js';

export interface VrrpShellOptions {
  log: Logger;
  notify: NotifyDispatcher;
  /** -V/--dont-release-vrrp: leave VIPs in place on stop. */
  dontReleaseVips?: boolean;
  /** Monotonic clock in ms (injectable for tests). */
  now?: () => number;
  /** Start in maintenance (`ctl maintenance on` kept in its state file over a restart). */
  maintenance?: boolean;
  /**
   * VRRP sockets set up before this process ran (the daemon's start-up path, daemon/vrrp-handoff.ts): the
   * descriptor, the socket it is (socket-spec.ts presetSocketSpecs) and since when it has listened, on `now`'s
   * clock. The node's wait for a master counts from then; their queued adverts are read before anything is decided.
   */
  handedSockets?: HandedSocket[];
  /**
   * The advert sender's thread is running (its Linux thread id): the daemon schedules it as it schedules the main
   * thread (vrrp_rt_priority). There is no sender where `now` is injected or the addon predates it.
   */
  onAdvertSender?: (tid: number) => void;
}

export interface HandedSocket { fd: number; spec: SocketSpec; listeningSince: number }

/** A control input for the node, without its id (the shell numbers them). */
export type VrrpControlInput =
  | { type: 'switchover'; target: string; holdMs?: number; force?: boolean }
  | { type: 'resume'; target: string }
  | { type: 'maintenance'; on: boolean };

export interface VrrpControlResult { ok: boolean; refusal?: 'bad-request' | 'refused'; message: string }

/** The longest a control request waits for the node's answer (a switchover waits for another router to take over). */
const CONTROL_WAIT_MS = 25_000;

/** What one instance (by its node uid, stable across reloads and renames) has added to the kernel. */
interface Owned {
  vips: Map<string, { ifindex: number; prefix: number; peer?: string }>;
  routes: Array<{ key: string; spec: RouteSpec }>;
  rules: Array<{ key: string; spec: RuleSpec }>;
  /** Address work, GARPs and notifies of this instance, in order. */
  chain: Promise<void>;
}

/** Named routing tables (`table NAME` in virtual_routes), read when a route needs one. */
function rtTables(): Map<string, number> {
  try {
    return parseRtTables(readFileSync('/etc/iproute2/rt_tables', 'utf8'));
  } catch {
    return new Map();
  }
}

/** A VIP or static address as rtnetlink adds it. */
function addressSpec(v: VirtualIp, ifindex: number): AddressSpec {
  return {
    ifindex, address: v.address, prefixlen: v.prefix, broadcast: v.brd, label: v.label, scope: v.scope, peer: v.peer,
    flags: (v.noDad ? IFA_F_NODAD : 0) | (v.noprefixroute ? IFA_F_NOPREFIXROUTE : 0) | (v.home ? IFA_F_HOMEADDRESS : 0),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** The word the timer's sub-millisecond sleep waits on (nobody ever notifies it: each wait runs to its timeout). */
const SLEEP_WORD = new Int32Array(new SharedArrayBuffer(4));
/** The longest the timer blocks the event loop: a Node timer waking earlier than this re-arms instead. */
const SLEEP_MAX_MS = 3;

/**
 * How long a timer input waits past the armed deadline for the advert sender's send before it takes the adverts back
 * and sends them itself (a sender thread not scheduled in that time is starved; the event loop is not).
 */
const SENDER_GRACE_MS = 2;

/** How long after the sender's deadline the event loop wakes to take its adverts back. */
const SENDER_AFTER_MS = 1;

/** CLOCK_MONOTONIC in ms minus performance.now() (both count from the same clock): what the sender's deadline adds. */
function monotonicOffsetMs(): number {
  let best = { width: Infinity, offset: 0 };
  for (let i = 0; i < 3; i++) {
    const a = performance.now();
    const h = Number(process.hrtime.bigint()) / 1e6;
    const b = performance.now();
    if (b - a < best.width) best = { width: b - a, offset: h - (a + b) / 2 };
  }
  return best.offset;
}

const sameAdvert = (a: SendAdvertEffect, b: SendAdvertEffect): boolean =>
  a.socket === b.socket && a.dst === b.dst && a.ipId === b.ipId && a.priority === b.priority && a.uid === b.uid;

/** Every tracker source of a plan: instances' and sync groups'. */
function trackerSources(plan: VrrpPlan): TrackerSource[] {
  return [...plan.instances.flatMap((i) => i.trackers), ...plan.groups.flatMap((g) => g.trackers)];
}

/**
 * The engine's deadline timer: the socket addon's libuv timer, re-armed in place; an addon built before it has none,
 * and a Node timer stands in. Node's setTimeout builds a Timeout object and keeps JavaScript lists per call, which at
 * ten adverts a second runs as cold code on every advert.
 */
class DeadlineTimer {
  private readonly native?: NativeTimer;
  private node?: NodeJS.Timeout;
  /** Re-arming costs no more than a check: the shell re-arms for each later deadline instead of waking early. */
  readonly rearmsInPlace: boolean;

  constructor(private readonly fire: () => void) {
    const T = ksock().Timer;
    this.native = T ? new T(fire) : undefined;
    this.rearmsInPlace = this.native !== undefined;
  }

  start(ms: number): void {
    if (this.native) return this.native.start(ms);
    if (this.node) clearTimeout(this.node);
    this.node = setTimeout(this.fire, ms);
  }

  stop(): void {
    this.native?.stop();
    if (this.node) clearTimeout(this.node);
    this.node = undefined;
  }

  close(): void {
    this.stop();
    this.native?.close();
  }
}

export class VrrpShell {
  private node: VrrpNode;
  private readonly sockets = new Map<string, VrrpSocket>();
  /** Handed sockets adopted at start, by key, until the node asks for them (the rest are closed after start). */
  private readonly adopted = new Map<string, VrrpSocket>();
  private readonly senders = new Map<number, PacketSender>();
  private readonly owned = new Map<number, Owned>();
  private scriptRunners: TrackScriptRunner[] = [];
  /** One process-connector subscription for every vrrp_track_process (keepalived has one per VRRP process). */
  private processMonitor?: ProcessMonitor;
  private watchedFiles: string[] = [];
  /** Script runs and failures by `track:<vrrp_script>` / `notify:<instance or group>`, for metrics; kept across reloads. */
  private readonly scriptCounts = new Map<string, { kind: 'track' | 'notify'; name: string; runs: number; failures: number }>();
  private ifw?: InterfaceWatcher;
  private rt?: Rtnetlink;
  private readonly now: () => number;
  private timer?: DeadlineTimer;
  /** A timer is armed (or its callback is running): it serves `timerAt`, the node's earliest deadline, and wakes at
   *  `timerWake`. `timerSeq` counts arms and disarms, so a running callback sees that an input re-armed it. */
  private timerArmed = false;
  private timerAt = 0;
  private timerWake = 0;
  private timerSeq = 0;
  /**
   * The advert sender (ksock.cc AdvertSender): after each input it holds the adverts the node's next timer input
   * would send (`armed`), and puts them on the wire at their deadline from a thread of its own, so a garbage
   * collection or a long run of the event loop at that moment does not make them late. The next input takes them
   * back: if they went out (`onWire`) the timer input they stood for is handled first, as of their deadline, and its
   * send effects are not sent again.
   */
  private advertSender?: NativeAdvertSender;
  private readonly monoOffsetMs = monotonicOffsetMs();
  private armed?: { at: number; sends: SendAdvertEffect[] };
  private onWire: Array<{ advert: SendAdvertEffect; errno: number }> = [];
  /** The time the node was last handed (the sender's deadline never takes it backwards). */
  private lastNow = -Infinity;
  private stopping = false;
  private readonly instanceLogs = new Map<string, Logger>();
  private nextControlId = 1;
  private readonly controlWaiting = new Map<number, (r: VrrpControlResult) => void>();
  /**
   * static_ipaddress/routes/rules this process holds (keepalived's `set` flag): only these are removed on reload
   * (when gone from the config) and on stop. Like keepalived, an address or route the kernel already had counts as
   * ours (its netlink layer takes EEXIST on RTM_NEWADDR/RTM_NEWROUTE as success); a rule does not.
   */
  private readonly staticOwned = {
    addresses: new Map<string, Pick<AddressSpec, 'ifindex' | 'address' | 'prefixlen' | 'peer'>>(),
    routes: new Map<string, RouteSpec>(),
    rules: new Map<string, RuleSpec>(),
  };
  private staticChain: Promise<void> = Promise.resolve();
  /** vrrp_strict's nftables table (firewall.ts): its settings, fixed at start as keepalived's, and what it holds. */
  private fw?: { settings: FirewallSettings; state: FirewallState };
  private fwChain: Promise<void> = Promise.resolve();
  /** The VIPs each instance (by uid) holds as far as the firewall is concerned: set before the addresses are added,
   * cleared after they are removed, as keepalived orders it. */
  private readonly fwHeld = new Map<number, { name: string; vips: VirtualIp[] }>();
  /** Per VMAC (use_vmac, not ipvlan) that exists: its vmac_map elements (firewall_add_vmac, at its creation). */
  private readonly fwVmacs = new Map<string, FirewallElement[]>();
  /** Split-brain guard clients by vrrp_guard name. */
  private readonly guards = new Map<string, GuardClient>();
  private vmacs?: VmacManager;
  /** Per VMAC name, its last create/delete: a reload that deletes and re-creates one keeps the order. */
  private readonly vmacChain = new Map<string, Promise<void>>();
  /** linkbeat: the polled interfaces' link state, which stands in for rtnetlink's in the node's interface facts. */
  private linkbeat?: { probe: LinkbeatProbe; targets: LinkbeatTarget[]; states: Map<string, LinkbeatIfState>; timer: NodeJS.Timeout; log: Logger };

  constructor(private plan: VrrpPlan, private readonly opts: VrrpShellOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.node = new VrrpNode(plan);
    const Sender = ksock().AdvertSender;
    if (!opts.now && Sender) {
      this.advertSender = new Sender();
      opts.onAdvertSender?.(this.advertSender.tid());
    }
    if (plan.firewall) this.fw = { settings: plan.firewall, state: emptyFirewall() };
  }

  get log(): Logger {
    return this.opts.log;
  }

  /** Opens everything, then starts the instances (after vrrp_startup_delay). */
  async start(): Promise<void> {
    this.rt = new Rtnetlink();
    this.vmacs = new VmacManager(this.rt, this.log);
    this.ifw = await InterfaceWatcher.open();
    this.ifw.on('change', (c) => this.onInterfaceChange(c));
    this.ifw.on('error', (e) => this.log.error(errorFields(e), `interface monitor: ${e.message}`));
    this.ifw.on('overrun', () => this.log.warn('interface monitor: the kernel dropped notifications; reloading the interface table'));
    this.startLinkbeat(this.plan, false);
    for (const st of this.ifw.table.list()) this.input({ type: 'interface', facts: this.facts(st.link.name)! });
    await this.removeLeftoverVips();
    await this.syncStatics(true);
    this.startTrackers();
    this.syncGuards();
    if (this.opts.maintenance) this.input({ type: 'maintenance', on: true });
    if (this.plan.startupDelayMs > 0) await sleep(this.plan.startupDelayMs);
    if (this.stopping) return this.closeHanded();
    // From adopting the handed sockets to feeding what they queued: synchronous, so no advert is read by a watcher
    // before the node has started, and none is left unread when the node first decides.
    const { listening, queued } = this.adoptHanded();
    this.input({ type: 'start', listening });
    for (const [key, list] of queued) for (const r of list) this.input(this.packetInput(key, r));
    for (const [key, sock] of this.adopted) {
      this.log.info({ socket: key }, `VRRP socket ${key} handed over at start is not used: closed`);
      sock.close();
    }
    this.adopted.clear();
  }

  /**
   * Adopts the handed sockets and reads what each queued. One counts as listening since it was set up unless the
   * kernel dropped a datagram for it meanwhile (receive buffer full: an advert may be lost) or vrrp_startup_delay
   * held the start: then its queue is stale or incomplete, is discarded, and the wait counts from now.
   */
  private adoptHanded(): { listening: Record<string, number>; queued: Map<string, VrrpReceived[]> } {
    const listening: Record<string, number> = {};
    const queued = new Map<string, VrrpReceived[]>();
    for (const h of this.opts.handedSockets ?? []) {
      let sock: VrrpSocket;
      try {
        sock = openVrrpSocket(h.spec.family, h.spec, h.fd);
      } catch (e) {
        this.log.warn({ ...errorFields(e), socket: h.spec.key }, `VRRP socket ${h.spec.key} handed over at start cannot be used (${(e as Error).message}): opening a new one`);
        continue;
      }
      const list: VrrpReceived[] = [];
      const take = (r: VrrpReceived) => list.push(keepReceived(r));
      sock.on('message', take);
      sock.readQueued();
      sock.off('message', take);
      const drops = sock.drops();
      if (drops === 0 && this.plan.startupDelayMs <= 0) {
        listening[h.spec.key] = h.listeningSince;
        queued.set(h.spec.key, list);
        const ms = Math.round(this.now() - h.listeningSince);
        this.log.info({ socket: h.spec.key, listeningMs: ms, queued: list.length }, `VRRP socket ${h.spec.key} handed over at start: listening for ${ms} ms, ${list.length} datagram(s) queued`);
      } else if (drops > 0) {
        this.log.warn({ socket: h.spec.key, drops }, `VRRP socket ${h.spec.key}: ${drops} datagram(s) dropped before start; waiting for a master from now`);
      }
      this.adopted.set(h.spec.key, sock);
    }
    return { listening, queued };
  }

  /** A stop before start: the handed descriptors, adopted or not, are closed. */
  private closeHanded(): void {
    for (const sock of this.adopted.values()) sock.close();
    this.adopted.clear();
  }

  private packetInput(key: string, r: VrrpReceived): NodeInput {
    return { type: 'packet', socket: key, bytes: r.packet, family: r.family, src: r.src, dst: r.dst, ttl: r.ttl };
  }

  /**
   * SIGHUP: the node switches to the new plan in one step (kept instances carry their state; removed ones leave
   * as DELETED; new ones start); trackers restart with the new definitions (results of same-named ones carry over).
   */
  async reload(next: VrrpPlan): Promise<{ kept: string[]; removed: string[]; added: string[] }> {
    if (this.stopping) throw new Error('engine is stopping');
    const match = matchInstances(this.plan.instances, next.instances);
    this.plan = next;
    this.syncGuards();
    this.startLinkbeat(next, true);
    this.input({ type: 'reload', plan: next });
    this.reloadFirewall(next.firewall);
    await this.syncStatics(false);
    for (const r of this.scriptRunners) void r.stop();
    for (const f of this.watchedFiles) unwatchFile(f);
    this.processMonitor?.stop();
    this.processMonitor = undefined;
    this.scriptRunners = [];
    this.watchedFiles = [];
    this.startTrackers();
    return { kept: match.kept.map((k) => k.next.config.name), removed: match.removed.map((o) => o.config.name), added: match.added.map((p) => p.config.name) };
  }

  /** What reload(next) would change (vrrp/reload.ts planVrrpReload), without changing anything. */
  planReload(next: VrrpPlan): VrrpReloadPlan {
    return this.node.planReload(next, this.heldStatics());
  }

  /** The static entries this process holds now, by their config-line keys. */
  private heldStatics(): StaticKeys {
    const o = this.staticOwned;
    return { addresses: new Set(o.addresses.keys()), routes: new Set(o.routes.keys()), rules: new Set(o.rules.keys()) };
  }

  /**
   * Every instance for the dumps, the JSON state, IPC and /status (SIGUSR1/SIGUSR2/JSON, status endpoint): the
   * node's view with the transition time moved onto the wall clock (`wallNow`), `vipset` from what the kernel
   * actually accepted, and counters copied so the caller holds a still picture.
   */
  snapshot(wallNow = Date.now()): InstanceStatus[] {
    const mono = this.now();
    return this.node.view().map((v) => ({
      ...v,
      lastTransitionMs: v.lastTransitionMs === undefined ? undefined : wallNow - (mono - v.lastTransitionMs),
      hold: v.hold && { ...v.hold, untilMs: v.hold.untilMs === undefined ? undefined : wallNow - (mono - v.hold.untilMs) },
      vipset: (this.owned.get(v.uid)?.vips.size ?? 0) > 0,
      stats: { ...v.stats, dropped: { ...v.stats.dropped } },
    }));
  }

  /**
   * A control command (`ctl switchover` / `resume` / `maintenance`) as a node input; resolves with the node's answer
   * (a switchover's once another router took over, or nobody did), at most CONTROL_WAIT_MS later.
   */
  control(input: VrrpControlInput): Promise<VrrpControlResult> {
    if (this.stopping) return Promise.resolve({ ok: false, refusal: 'refused', message: 'the VRRP process is stopping' });
    const id = this.nextControlId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.controlWaiting.delete(id);
        resolve({ ok: true, message: `${input.type}: under way, no outcome after ${CONTROL_WAIT_MS / 1000} s (see ctl status)` });
      }, CONTROL_WAIT_MS);
      this.controlWaiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.input({ ...input, id });
      // Refused inputs answer at once; so do inputs the node ignored (it is stopped): never leave the caller waiting.
      if (this.stopping && this.controlWaiting.has(id)) this.controlWaiting.get(id)!({ ok: false, refusal: 'refused', message: 'the VRRP process is stopping' });
    });
  }

  /**
   * Script runs and failures (track scripts and notify scripts) for metrics; every vrrp_script, run yet or not, with
   * its status and whether it is running (what keepalived.data's VRRP Scripts section says).
   */
  scriptStats(): Array<{ kind: 'track' | 'notify'; name: string; runs: number; failures: number; good?: boolean; executing?: boolean }> {
    const out = [...this.scriptCounts.values()].map((c) => ({ ...c }));
    for (const r of this.scriptRunners) {
      let c = out.find((x) => x.kind === 'track' && x.name === r.config.name);
      if (!c) out.push((c = { kind: 'track', name: r.config.name, runs: 0, failures: 0 }));
      Object.assign(c, { good: r.status === 'ok', executing: r.executing });
    }
    return out;
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
    this.node.clearStats();
  }

  /** SIGTERM: masters send priority 0 and drop their VIPs; notify_stop runs; everything we opened is closed. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.timer?.close();
    this.timerArmed = false;
    this.closeHanded();
    this.reclaimAdverts(false);
    this.advertSender?.close();
    this.advertSender = undefined;
    this.handle({ type: 'shutdown' });
    await Promise.all([...this.owned.values()].map((o) => o.chain));
    await Promise.all(this.vmacChain.values());
    this.vmacs?.restoreRpFilter();
    // Anything still owned (e.g. a VIP add that raced the shutdown) is removed too, unless -V.
    if (!this.opts.dontReleaseVips) for (const o of this.owned.values()) await this.releaseOwned(o);
    // The VIPs are gone: closing the guard sessions hands their locks on at once (a SIGKILL lets them expire).
    await Promise.all([...this.guards.values()].map((g) => g.close()));
    // keepalived's stop_vrrp clears the static entries it set, -V or not.
    await this.staticChain;
    await this.removeStatics(() => true);
    await this.stopFirewall();
    await Promise.all(this.scriptRunners.map((r) => r.stop()));
    for (const f of this.watchedFiles) unwatchFile(f);
    this.processMonitor?.stop();
    for (const s of this.sockets.values()) s.close();
    for (const s of this.senders.values()) s.close();
    this.stopLinkbeat();
    this.ifw?.close();
    this.rt?.close();
  }

  // ---- inputs -----------------------------------------------------------------------------------------------------

  private input(i: NodeInput): void {
    if (this.stopping) return;
    // A timer input finds its adverts sent by the sender; it waits a moment for the send when it came early.
    if (this.reclaimAdverts(i.type === 'timer') && i.type === 'timer') return this.settle();
    this.handle(i);
    this.settle();
  }

  private handle(i: NodeInput, at = this.now()): void {
    // Never behind the sender's deadline, which the thread met by its own reading of the clock.
    this.lastNow = Math.max(at, this.lastNow);
    this.execute(this.node.handle(i, this.lastNow));
    for (const w of this.onWire) this.log.warn({ instance: w.advert.instance, ipId: w.advert.ipId }, `(${w.advert.instance}) the advert sender sent an advert the engine did not send`);
    this.onWire = [];
  }

  /** After an input: the sender armed with what the node's next deadline will send, and the timer for it. */
  private settle(): void {
    const next = this.advertSender && !this.stopping ? this.node.upcomingAdverts() : undefined;
    if (next) this.armSender(next);
    this.arm();
  }

  private armSender(next: { at: number; sends: SendAdvertEffect[] }): void {
    const frames: VrrpFrame[] = [];
    for (const e of next.sends) {
      const sock = this.sockets.get(e.socket);
      if (!sock) return; // the node's own send reports it
      try {
        frames.push(sock.frame(e.bytes, { dst: e.dst, src: e.src, id: e.ipId, ttl: e.ttl }));
      } catch {
        return; // likewise
      }
    }
    this.advertSender!.arm(next.at + this.monoOffsetMs, frames);
    this.armed = next;
  }

  /**
   * Takes the armed adverts back from the sender before the node hears anything new. Those not yet sent are
   * withdrawn (the node decides again); those sent stand for the timer input at their deadline, which is handled
   * now, as of that deadline, without sending them again. True when they had been sent. `timer`: the input is the
   * timer for that deadline, which waits up to SENDER_GRACE_MS past it for the send.
   */
  private reclaimAdverts(timer: boolean): boolean {
    const a = this.armed;
    if (!a || !this.advertSender) return false;
    this.armed = undefined;
    const errnos = this.advertSender.take(timer ? Math.max(0, a.at - this.now()) + SENDER_GRACE_MS : 0);
    if (!Array.isArray(errnos)) return false;
    this.onWire = a.sends.map((advert, k) => ({ advert, errno: errnos[k] ?? 0 }));
    this.handle({ type: 'timer' }, a.at);
    return true;
  }

  private arm(): void {
    const at = this.node.deadline();
    if (at === undefined || this.stopping) {
      if (this.timerArmed) this.timer!.stop();
      this.timerArmed = false;
      this.timerSeq++;
      return;
    }
    const before = this.timerAt;
    this.timerAt = at;
    // A backup's master-down moves later with every advert it hears. The addon's timer is re-armed in place for the
    // new deadline (no wake-up before it); a Node timer set to wake no later is kept instead (re-setting one per
    // packet costs more), and when it wakes it waits again for `timerAt`.
    if (this.timerArmed && this.timerWake <= at && (at === before || !this.timer!.rearmsInPlace)) return;
    this.wakeAt(at);
  }

  /**
   * Node's timers have 1 ms granularity and fire up to about a millisecond either side of the deadline. Wake 1 ms
   * early and sleep the rest in a futex wait (Atomics.wait: µs resolution, no CPU), so deadlines (the skew time is
   * 60.9 ms at 0.1 s) are met to a fraction of a millisecond, as keepalived's µs timers meet them. Then the VRRP
   * sockets are read before the timer input, so adverts that arrived before the deadline are handled first. (This
   * used to spin on setImmediate for the last millisecond: ~170 loop turns and most of the VRRP child's CPU per
   * advert; then it took one setImmediate loop turn for those reads, a second wake-up of the loop per advert.)
   */
  private wakeAt(at: number): void {
    const now = this.now();
    // Where the sender sends the deadline's adverts, the event loop wakes once they are out (no early wake, no wait).
    const delay = Math.max(0, this.armed?.at === at ? at - now + SENDER_AFTER_MS : at - now - 1);
    this.timerWake = now + delay;
    this.timerArmed = true;
    this.timerSeq++;
    (this.timer ??= new DeadlineTimer(() => this.onDeadline())).start(delay);
  }

  private onDeadline(): void {
    if (!this.timerArmed || this.stopping) return;
    const seq = this.timerSeq;
    const left = this.timerAt - this.now();
    if (left > SLEEP_MAX_MS) return this.wakeAt(this.timerAt); // woke early, or the deadline moved: wait again
    // Where the sender has the deadline's adverts this wake-up comes after it (wakeAt): nothing to sleep; a timer
    // that fired early anyway does not sleep either, its timer input waits for the send (reclaimAdverts).
    const senderHasIt = this.armed !== undefined && this.armed.at <= this.timerAt;
    if (left > 0 && !senderHasIt) Atomics.wait(SLEEP_WORD, 0, 0, left);
    for (const s of this.sockets.values()) s.poll();
    if (this.timerSeq !== seq || this.stopping) return; // an advert just read re-armed or disarmed it
    const rest = this.timerAt - this.now();
    if (rest > SLEEP_MAX_MS) return this.wakeAt(this.timerAt); // an advert just read moved it
    if (rest > 0 && !senderHasIt) Atomics.wait(SLEEP_WORD, 0, 0, rest);
    this.timerArmed = false;
    this.input({ type: 'timer' });
  }

  /** What the node knows of an interface, from the rtnetlink table. */
  private facts(name: string): InterfaceFacts | undefined {
    const t = this.ifw!.table;
    const st = t.get(name);
    if (!st) return undefined;
    const polled = this.linkbeat?.states.get(name);
    const up = polled ? polled.up : linkIsUp(st.link);
    return { name, ifindex: st.link.ifindex, up, ipv4: t.ipv4Sources(name), ipv6LinkLocal: t.linkLocal6Sources(name) };
  }

  /**
   * linkbeat (keepalived's init_interface_linkbeat): the plan's interfaces are polled every second with the ioctl
   * their method needs; their first reading is taken now, before the node hears about them. On reload the
   * interfaces still polled keep their state; those no longer polled go back to rtnetlink's view.
   */
  private startLinkbeat(plan: VrrpPlan, reloading: boolean): void {
    const lb = plan.linkbeat ?? { poll: [], off: [] };
    const prev = this.linkbeat;
    this.stopLinkbeat();
    const log = prev?.log ?? this.log.child({ component: 'linkbeat' });
    for (const line of lb.off) log.info(line);
    const states = new Map<string, LinkbeatIfState>();
    const kept = new Set<string>();
    if (lb.poll.length) {
      let probe: LinkbeatProbe;
      try {
        probe = new LinkbeatProbe();
      } catch (e) {
        log.error(errorFields(e), `open linkbeat init socket failed - ${(e as Error).message}`);
        return;
      }
      for (const t of lb.poll) {
        const old = prev?.states.get(t.interface);
        if (old && prev?.targets.some((p) => p.interface === t.interface && p.configured === t.configured)) {
          states.set(t.interface, old);
          kept.add(t.interface);
        }
      }
      this.linkbeat = { probe, targets: lb.poll, states, log, timer: setInterval(() => this.pollLinkbeat(), LINKBEAT_INTERVAL_MS) };
      this.pollLinkbeat();
      log.info('Using MII-BMSR/ETHTOOL NIC polling thread(s)...');
    }
    if (!reloading || !this.ifw) return;
    // At start the node hears every interface next; on reload it hears those whose source of truth changed.
    const polled = new Set(lb.poll.map((t) => t.interface));
    const changed = new Set([...(prev?.states.keys() ?? [])].filter((n) => !polled.has(n)));
    for (const n of polled) if (!kept.has(n)) changed.add(n);
    for (const name of changed) {
      const f = this.facts(name);
      if (f) this.input({ type: 'interface', facts: f });
    }
  }

  private stopLinkbeat(): void {
    if (!this.linkbeat) return;
    clearInterval(this.linkbeat.timer);
    this.linkbeat.probe.close();
    this.linkbeat = undefined;
  }

  /** One poll of every linkbeat interface; a change reaches the node as that interface's new facts. */
  private pollLinkbeat(): void {
    const lb = this.linkbeat;
    if (!lb || this.stopping || !this.ifw) return;
    for (const t of lb.targets) {
      const prev = lb.states.get(t.interface);
      const exists = this.ifw.table.get(t.interface) !== undefined;
      const readings = exists ? lb.probe.read(t.interface, readingsFor(prev?.type)) : {};
      const step = linkbeatStep(t.interface, t.configured, prev, exists, readings);
      lb.states.set(t.interface, step.state);
      for (const line of step.logs) lb.log.info({ interface: t.interface }, line);
      if (!step.changed) continue;
      const f = this.facts(t.interface);
      if (f) this.input({ type: 'interface', facts: f });
    }
  }

  private onInterfaceChange(c: InterfaceChange): void {
    if (c.kind === 'link-removed') return this.input({ type: 'interface-gone', name: c.name });
    if (c.kind === 'address-removed') {
      // Our own removals are forgotten before they are made, so only someone else's reach the node as news.
      const ours = [...this.owned.values()].some((o) => o.vips.has(c.address.address));
      if (ours) this.input({ type: 'address-removed', ifname: c.name, address: c.address.address, prefix: c.address.prefixlen });
    }
    const f = this.facts(c.name);
    if (f) this.input({ type: 'interface', facts: f });
  }

  // ---- effects ----------------------------------------------------------------------------------------------------

  private ownedBy(uid: number): Owned {
    let o = this.owned.get(uid);
    if (!o) this.owned.set(uid, (o = { vips: new Map(), routes: [], rules: [], chain: Promise.resolve() }));
    return o;
  }

  /** The instance's logger: its name bound as `instance` (children are cached, one per instance name). */
  private instanceLog(name: string): Logger {
    let l = this.instanceLogs.get(name);
    if (!l) this.instanceLogs.set(name, (l = this.log.child({ instance: name })));
    return l;
  }

  /** Runs `work` after everything queued before it for this instance (its adverts are already on the wire). */
  private enqueue(uid: number, what: string, work: () => Promise<void> | void): void {
    const o = this.ownedBy(uid);
    o.chain = o.chain
      .then(() => work())
      .catch((e: Error) => this.log.error(errorFields(e), `${what}: ${e.message}`));
  }

  private execute(effects: NodeEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'open-socket': this.openSocket(e); break;
        case 'close-socket': this.closeSocket(e.key); break;
        case 'send-advert': this.sendAdvert(e); break;
        case 'add-vips': this.enqueue(e.uid, e.instance, () => this.addVips(e.uid, e.instance, e.vips)); break;
        case 'add-routes': this.enqueue(e.uid, e.instance, () => this.addRoutes(e.uid, e.instance, e.routes)); break;
        case 'add-rules': this.enqueue(e.uid, e.instance, () => this.addRules(e.uid, e.instance, e.rules)); break;
        case 'remove-rules':
          if (!this.keepOnStop()) this.enqueue(e.uid, e.instance, () => this.removeRules(e.uid, e.instance, e.keys && new Set(e.keys)));
          break;
        case 'remove-routes':
          if (!this.keepOnStop()) this.enqueue(e.uid, e.instance, () => this.removeRoutes(e.uid, e.instance, e.keys && new Set(e.keys)));
          break;
        case 'remove-vips':
          if (this.keepOnStop()) break;
          // Forgotten now, so the kernel's deletion event is not taken for someone else's.
          for (const v of e.vips) this.ownedBy(e.uid).vips.delete(v.address);
          this.enqueue(e.uid, e.instance, async () => {
            await this.removeVips(e.instance, e.vips);
            // keepalived drops the firewall entries after the addresses.
            const held = this.fwHeld.get(e.uid);
            if (held) held.vips = held.vips.filter((h) => !e.vips.some((v) => v.address === h.address));
            await this.syncFirewall();
          });
          break;
        case 'send-garp': this.enqueue(e.uid, e.instance, () => this.sendGarp(e.instance, e.vip)); break;
        case 'create-vmac': {
          const prev = this.vmacChain.get(e.vmac.ifname) ?? Promise.resolve();
          const made = prev
            .then(() => this.vmacs!.create(e.instance, e.vmac, e.family, e.ipv6, e.linkLocal))
            .then(async (ifindex) => {
              if (ifindex === undefined || e.vmac.ipvlan || !this.fw) return;
              // An address VMAC's firewall entry is of its own family only (keepalived's addr_vrrp has no eVIPs).
              const other = !e.vmac.family && (this.planInstance(e.instance)?.config.virtualIpaddressesExcluded.some((v) => v.family !== e.family) ?? false);
              this.fwVmacs.set(e.vmac.ifname, vmacElements(e.vmac, e.family, other));
              await this.syncFirewall();
            })
            .then(() => undefined, (err: Error) => this.instanceLog(e.instance).error(errorFields(err), `(${e.instance}) cannot create VMAC ${e.vmac.ifname}: ${err.message}`));
          this.vmacChain.set(e.vmac.ifname, made);
          // The instance's VIPs go on the VMAC: its address work waits for it.
          this.enqueue(e.uid, e.instance, () => made);
          break;
        }
        case 'delete-vmac': {
          const prev = this.vmacChain.get(e.vmac.ifname) ?? Promise.resolve();
          // After the instance's priority-0 advert and VIP removal, which are queued before it.
          this.enqueue(e.uid, e.instance, async () => {
            await prev;
            // Its vmac_map entries go first: the nft script names the VMAC, which must still exist.
            if (this.fwVmacs.delete(e.vmac.ifname)) await this.syncFirewall();
            await this.vmacs!.remove(e.instance, e.vmac, e.family);
          });
          this.vmacChain.set(e.vmac.ifname, this.ownedBy(e.uid).chain);
          break;
        }
        case 'notify': {
          const dispatch = () => {
            void this.opts.notify
              .dispatch(notifyEventFromEngine(e, e.scripts))
              .then((o) => { for (const r of o.results) this.countScript('notify', e.name, r.result); })
              .catch(() => undefined);
          };
          // After the instance's address work and its advert: a fork costs milliseconds.
          if (e.uid !== undefined) this.enqueue(e.uid, e.name, dispatch);
          else dispatch();
          break;
        }
        case 'guard-want': {
          const g = this.guards.get(e.guard);
          if (!g) break;
          if (e.want) g.want(e.key, true);
          // Given back only once the members' VIP removals are done: the next director must not add them first.
          else void Promise.all(e.uids.map((u) => this.owned.get(u)?.chain)).then(() => g.want(e.key, false));
          break;
        }
        case 'guard-reset': this.guards.get(e.guard)?.reset(); break;
        case 'state-changed': break;
        case 'control-result': {
          const r = this.controlWaiting.get(e.id);
          this.controlWaiting.delete(e.id);
          r?.({ ok: e.ok, refusal: e.refusal, message: e.message });
          break;
        }
        case 'log':
          logEffect(this.log, e);
          break;
      }
    }
  }

  /** One client per vrrp_guard of the plan; a changed block gets a new client (its old session's locks go). */
  private syncGuards(): void {
    const want = new Map(this.plan.guards.map((g) => [g.name, g]));
    for (const [name, c] of this.guards) {
      const g = want.get(name);
      if (g && JSON.stringify({ ...g, loc: 0 }) === JSON.stringify({ ...c.spec, loc: 0 })) continue;
      void c.close();
      this.guards.delete(name);
    }
    for (const g of this.plan.guards) {
      if (this.guards.has(g.name)) continue;
      const c = openGuardClient(g, { log: this.log, now: this.now, input: (i) => this.input(i) });
      this.guards.set(g.name, c);
      c.start();
    }
  }

  /** -V: on stop the addresses stay. */
  private keepOnStop(): boolean {
    return this.stopping && !!this.opts.dontReleaseVips;
  }

  private openSocket(s: Extract<NodeEffect, { type: 'open-socket' }>): void {
    let sock: VrrpSocket | undefined = this.adopted.get(s.key);
    this.adopted.delete(s.key);
    try {
      sock ??= openVrrpSocket(s.family, s);
    } catch (e) {
      this.log.error({ ...errorFields(e), interface: s.ifname }, `cannot open VRRP socket on ${s.ifname}: ${(e as Error).message}`);
      return;
    }
    sock.on('message', (r) => this.input(this.packetInput(s.key, r)));
    sock.on('error', (e) => this.log.error({ ...errorFields(e), interface: s.ifname }, `VRRP socket ${s.ifname}: ${e.message}`));
    this.sockets.set(s.key, sock);
  }

  /** The adverts handed to it (a removed instance's priority 0) are on the wire already: sends are synchronous. */
  private closeSocket(key: string): void {
    const s = this.sockets.get(key);
    if (!s) return;
    this.sockets.delete(key);
    s.close();
  }

  private sendAdvert(e: SendAdvertEffect): void {
    const k = this.onWire.length ? this.onWire.findIndex((w) => sameAdvert(w.advert, e)) : -1;
    if (k >= 0) {
      // Sent by the advert sender at its deadline.
      const { errno } = this.onWire.splice(k, 1)[0]!;
      if (errno) this.instanceLog(e.instance).warn({ errno: getSystemErrorName(-errno) }, `(${e.instance}) advert send failed: ${getSystemErrorName(-errno)}`);
      return;
    }
    const s = this.sockets.get(e.socket);
    if (!s) return;
    try {
      s.sendNow(e.bytes, { dst: e.dst, src: e.src, id: e.ipId, ttl: e.ttl });
    } catch (err) {
      this.instanceLog(e.instance).warn(errorFields(err), `(${e.instance}) advert send failed: ${(err as Error).message}`);
    }
  }

  private async addVips(uid: number, name: string, vips: VirtualIp[]): Promise<void> {
    const owned = this.ownedBy(uid).vips;
    // keepalived sets the firewall drop rule before it adds the addresses.
    if (this.fw) {
      const held = this.fwHeld.get(uid) ?? { name, vips: [] };
      held.name = name;
      held.vips = [...held.vips.filter((h) => !vips.some((v) => v.address === h.address)), ...vips];
      this.fwHeld.set(uid, held);
      await this.syncFirewall();
    }
    for (const v of vips) {
      // A VMAC made a moment ago may not have reached the interface table yet.
      const ifindex = this.ifw?.table.get(v.dev)?.link.ifindex ?? (await this.rt!.getLink(v.dev))?.ifindex;
      if (!ifindex) {
        this.instanceLog(name).error({ vip: v.address, interface: v.dev }, `(${name}) cannot add ${v.address}: no interface ${v.dev}`);
        continue;
      }
      const spec = addressSpec(v, ifindex);
      owned.set(v.address, { ifindex, prefix: v.prefix, peer: v.peer });
      try {
        await this.rt!.addAddress(spec);
      } catch (e) {
        owned.delete(v.address);
        this.instanceLog(name).error({ ...errorFields(e), vip: v.address, interface: v.dev }, `(${name}) cannot add VIP ${v.address}/${v.prefix} on ${v.dev}: ${(e as Error).message}`);
      }
    }
  }

  private async removeVips(name: string, vips: VirtualIp[]): Promise<void> {
    for (const v of vips) {
      const ifindex = this.ifw?.table.get(v.dev)?.link.ifindex;
      if (!ifindex) continue;
      try {
        await this.rt!.deleteAddress({ ifindex, address: v.address, prefixlen: v.prefix, peer: v.peer });
      } catch (e) {
        this.instanceLog(name).error({ ...errorFields(e), vip: v.address }, `(${name}) cannot remove VIP ${v.address}: ${(e as Error).message}`);
      }
    }
  }

  private async addRoutes(uid: number, name: string, routes: VirtualRoute[]): Promise<void> {
    const owned = this.ownedBy(uid).routes;
    for (const r of routes) {
      try {
        const spec = routeSpec(r, (dev) => this.ifw?.table.get(dev)?.link.ifindex, rtTables());
        // keepalived adds without NLM_F_EXCL (`ip route prepend`): another route to the same prefix stays beside
        // ours, where an exclusive add would fail with EEXIST and leave ours out.
        await this.rt!.addRoute(spec, { prepend: true });
        owned.push({ key: describeRoute(r), spec });
      } catch (e) {
        this.instanceLog(name).error({ ...errorFields(e), route: describeRoute(r) }, `(${name}) cannot add route ${describeRoute(r)}: ${(e as Error).message}`);
      }
    }
  }

  /** Removes the routes we own (only those whose config text is in `keys`, when given), newest first. */
  private async removeRoutes(uid: number, name: string, keys?: ReadonlySet<string>): Promise<void> {
    const o = this.ownedBy(uid);
    const gone = o.routes.filter((r) => !keys || keys.has(r.key));
    o.routes = o.routes.filter((r) => !gone.includes(r));
    for (const { key, spec } of gone.reverse()) {
      try {
        await this.rt!.deleteRoute(spec);
      } catch (e) {
        this.instanceLog(name).error({ ...errorFields(e), route: key }, `(${name}) cannot remove route ${key}: ${(e as Error).message}`);
      }
    }
  }

  private async addRules(uid: number, name: string, rules: VirtualRule[]): Promise<void> {
    const owned = this.ownedBy(uid).rules;
    for (const r of rules) {
      try {
        const spec = ruleSpec(r, rtTables());
        await this.rt!.addRule(spec);
        owned.push({ key: describeRule(r), spec });
      } catch (e) {
        this.instanceLog(name).error({ ...errorFields(e), rule: r.words.join(' ') }, `(${name}) cannot add rule ${r.words.join(' ')}: ${(e as Error).message}`);
      }
    }
  }

  /** Removes the rules we own (only those whose config text is in `keys`, when given), newest first. */
  private async removeRules(uid: number, name: string, keys?: ReadonlySet<string>): Promise<void> {
    const o = this.ownedBy(uid);
    const gone = o.rules.filter((r) => !keys || keys.has(r.key));
    o.rules = o.rules.filter((r) => !gone.includes(r));
    for (const { key, spec } of gone.reverse()) {
      try {
        await this.rt!.deleteRule(spec);
      } catch (e) {
        this.instanceLog(name).error({ ...errorFields(e), rule: key }, `(${name}) cannot remove rule: ${(e as Error).message}`);
      }
    }
  }


  /**
   * Before anything runs, removes the VIPs (and excluded VIPs) of every instance from their interfaces: whatever a
   * previous run left there (killed with SIGKILL, -V) is not ours to keep until the protocol says MASTER.
   * keepalived does the same at start-up (vrrp_restore_interfaces_startup, forced, not on reload).
   */
  private async removeLeftoverVips(): Promise<void> {
    for (const inst of this.plan.instances) {
      for (const v of inst.vips) {
        const ifindex = this.ifw?.table.get(v.dev)?.link.ifindex;
        if (!ifindex) continue;
        try {
          if ((await this.rt!.deleteAddress({ ifindex, address: v.address, prefixlen: v.prefix, peer: v.peer })) === 'deleted') {
            this.instanceLog(inst.config.name).info({ vip: v.address, interface: v.dev }, `(${inst.config.name}) removed ${v.address}/${v.prefix} left on ${v.dev} by an earlier run`);
          }
        } catch (e) {
          this.instanceLog(inst.config.name).warn({ ...errorFields(e), vip: v.address }, `(${inst.config.name}) cannot remove a leftover ${v.address}: ${(e as Error).message}`);
        }
      }
    }
  }

  /**
   * Brings the static entries in line with the plan, as keepalived's start_vrrp does: at start, rules matching the
   * config are deleted first (a previous run's leftovers, keepalived's forced delete); on reload, entries we added
   * that the new config no longer has are removed. Then every configured entry we do not hold is added, routes
   * with keepalived's default `prepend` (NLM_F_CREATE without NLM_F_EXCL).
   */
  private syncStatics(atStart: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      const st = this.plan.statics;
      const tables = rtTables();
      if (atStart) {
        for (const r of st.rules) {
          try {
            await this.rt!.deleteRule(ruleSpec(r, tables));
          } catch { /* an invalid rule is reported when it is added */ }
        }
      } else {
        const d = staticsDiff(this.heldStatics(), st);
        const gone = { addresses: new Set(d.addresses.remove), routes: new Set(d.routes.remove), rules: new Set(d.rules.remove) };
        await this.removeStatics((kind, key) => gone[kind].has(key));
      }
      const own = this.staticOwned;
      for (const v of st.addresses) {
        const key = staticKey.addresses(v);
        if (own.addresses.has(key)) continue;
        const ifindex = this.ifw?.table.get(v.dev)?.link.ifindex;
        if (!ifindex) { this.log.error({ address: v.address, interface: v.dev }, `cannot add static address ${v.address}: no interface ${v.dev}`); continue; }
        try {
          await this.rt!.addAddress(addressSpec(v, ifindex)); // 'added' or 'exists': ours either way
          own.addresses.set(key, { ifindex, address: v.address, prefixlen: v.prefix, peer: v.peer });
        } catch (e) {
          this.log.error({ ...errorFields(e), address: v.address, interface: v.dev }, `cannot add static address ${v.address}/${v.prefix} on ${v.dev}: ${(e as Error).message}`);
        }
      }
      for (const r of st.routes) {
        const key = staticKey.routes(r);
        if (own.routes.has(key)) continue;
        try {
          const spec = routeSpec(r, (dev) => this.ifw?.table.get(dev)?.link.ifindex, tables);
          await this.rt!.addRoute(spec, { prepend: true }); // 'exists' (an identical route): ours too
          own.routes.set(key, spec);
        } catch (e) {
          this.log.error({ ...errorFields(e), route: key }, `cannot add static route ${key}: ${(e as Error).message}`);
        }
      }
      for (const r of st.rules) {
        const key = staticKey.rules(r);
        if (own.rules.has(key)) continue;
        try {
          const spec = ruleSpec(r, tables);
          if ((await this.rt!.addRule(spec)) === 'added') own.rules.set(key, spec);
        } catch (e) {
          this.log.error({ ...errorFields(e), rule: key }, `cannot add static rule ${key}: ${(e as Error).message}`);
        }
      }
    };
    this.staticChain = this.staticChain.then(run, run);
    return this.staticChain;
  }

  /** Removes the static entries we added that `gone` picks: rules, then routes, then addresses (keepalived's order). */
  private async removeStatics(gone: (kind: 'addresses' | 'routes' | 'rules', key: string) => boolean): Promise<void> {
    const own = this.staticOwned;
    for (const [key, spec] of [...own.rules]) {
      if (!gone('rules', key)) continue;
      own.rules.delete(key);
      await this.rt!.deleteRule(spec).catch((e: Error) => this.log.error(errorFields(e), `cannot remove static rule ${key}: ${e.message}`));
    }
    for (const [key, spec] of [...own.routes]) {
      if (!gone('routes', key)) continue;
      own.routes.delete(key);
      await this.rt!.deleteRoute(spec).catch((e: Error) => this.log.error(errorFields(e), `cannot remove static route ${key}: ${e.message}`));
    }
    for (const [key, spec] of [...own.addresses]) {
      if (!gone('addresses', key)) continue;
      own.addresses.delete(key);
      await this.rt!.deleteAddress(spec).catch((e: Error) => this.log.error(errorFields(e), `cannot remove static address ${key}: ${e.message}`));
    }
  }

  private async releaseOwned(o: Owned): Promise<void> {
    for (const { spec } of o.rules.splice(0).reverse()) await this.rt!.deleteRule(spec).catch(() => undefined);
    for (const { spec } of o.routes.splice(0).reverse()) await this.rt!.deleteRoute(spec).catch(() => undefined);
    for (const [address, v] of o.vips) {
      await this.rt!.deleteAddress({ ifindex: v.ifindex, address, prefixlen: v.prefix, peer: v.peer }).catch(() => undefined);
    }
    o.vips.clear();
  }

  // ---- firewall (vrrp_strict) ----------------------------------------------------------------------------------------

  private planInstance(name: string): VrrpPlan['instances'][number] | undefined {
    return this.plan.instances.find((i) => i.config.name === name);
  }

  /** The elements our table should hold: the VIPs held by every instance that drops traffic to them. */
  private firewallWanted(settings: FirewallSettings): FirewallElement[] {
    // VMACs first: keepalived makes them at start, before any VIP is set (the out chain's rule order follows).
    const out: FirewallElement[] = [...this.fwVmacs.values()].flat();
    for (const h of this.fwHeld.values()) {
      const inst = this.planInstance(h.name);
      if (inst && dropsVipTraffic(inst.config)) out.push(...vipElements(inst, h.vips, settings));
    }
    return out;
  }

  /**
   * Brings the table in line with the held VIPs, one `nft` transaction at a time in order. A failed transaction
   * changes nothing, so the state stays what the kernel has.
   */
  private syncFirewall(): Promise<void> {
    const fw = this.fw;
    if (!fw) return Promise.resolve();
    const run = async (): Promise<void> => {
      const wanted = this.firewallWanted(fw.settings);
      const keys = new Set(wanted.map(elementKey));
      const remove = [...fw.state.elements].filter(([k]) => !keys.has(k)).map(([, e]) => e);
      const { script, state } = firewallUpdate(fw.settings, fw.state, wanted, remove);
      if (!script) return;
      try {
        await runNft(script);
        const added = [...state.elements.keys()].filter((k) => !fw.state.elements.has(k)).length;
        fw.state = state;
        this.log.info({ table: fw.settings.table, added, removed: remove.length }, `nftables ${fw.settings.table}: ${added} entries set, ${remove.length} removed`);
      } catch (e) {
        this.log.error({ ...errorFields(e), table: fw.settings.table }, `nftables ${fw.settings.table}: ${(e as Error).message}`);
      }
    };
    this.fwChain = this.fwChain.then(run, run);
    return this.fwChain;
  }

  /** SIGHUP: the table name, priority and flags stay those of the start (keepalived cannot change them either). */
  private reloadFirewall(next: FirewallSettings | undefined): void {
    if (!this.fw) {
      if (next) this.fw = { settings: next, state: emptyFirewall() };
    } else if (next && next.table !== this.fw.settings.table) {
      this.log.warn({ table: this.fw.settings.table }, `cannot change nftables table name at a reload (${next.table}); keeping ${this.fw.settings.table} - please restart`);
    }
    void this.syncFirewall();
  }

  /** Stop (also with -V, as keepalived's firewall_fini): our tables go. */
  private async stopFirewall(): Promise<void> {
    await this.fwChain;
    const fw = this.fw;
    if (!fw) return;
    const script = firewallTeardown(fw.settings, fw.state);
    if (!script) return;
    await runNft(script).then(
      () => { fw.state = emptyFirewall(); },
      (e: Error) => this.log.error({ ...errorFields(e), table: fw.settings.table }, `nftables ${fw.settings.table}: ${e.message}`),
    );
  }

  private sender(ifindex: number): PacketSender {
    let s = this.senders.get(ifindex);
    if (!s) {
      s = new PacketSender(ifindex);
      this.senders.set(ifindex, s);
    }
    return s;
  }

  /** One gratuitous ARP / unsolicited NA, now (the node paces them). */
  private sendGarp(name: string, v: VirtualIp): void {
    const st = this.ifw?.table.get(v.dev);
    if (!st?.link.mac || st.link.noarp) return;
    const frame = v.family === 4
      ? buildGratuitousArp(st.link.mac, v.address)
      : buildUnsolicitedNa(st.link.mac, v.address, { router: ipv6Forwarding(v.dev) });
    try {
      this.sender(st.link.ifindex).send(frame);
    } catch (e) {
      this.instanceLog(name).warn({ ...errorFields(e), vip: v.address }, `(${name}) GARP for ${v.address} failed: ${(e as Error).message}`);
    }
  }

  // ---- trackers ---------------------------------------------------------------------------------------------------

  private startTrackers(): void {
    const scripts = new Map<string, { script: NonNullable<TrackerSource['script']>; command: ScriptCommand }>();
    const files = new Map<string, NonNullable<TrackerSource['file']>>();
    const processes = new Map<string, NonNullable<TrackerSource['process']>>();
    for (const t of trackerSources(this.plan)) {
      if (t.script && t.command) scripts.set(t.script.name, { script: t.script, command: t.command });
      if (t.file) files.set(t.file.name, t.file);
      if (t.process) processes.set(t.process.name, t.process);
    }
    if (processes.size) {
      // The start-up scan reports synchronously, so the instances start with their trackers' state known.
      const m = new ProcessMonitor([...processes.values()], { log: this.log.child({ tracker: 'process' }), now: this.now, rcvBufs: this.plan.processMonitorRcvBufs });
      m.on('change', (c: { name: string; up: boolean }) => { if (!this.stopping) this.input({ type: 'tracker', key: `process:${c.name}`, ok: c.up }); });
      this.processMonitor = m;
      m.start();
    }
    for (const { script: s, command } of scripts.values()) {
      const runner = new TrackScriptRunner(
        {
          name: s.name, command, intervalMs: s.intervalMs,
          timeoutMs: s.timeoutMs, rise: s.rise, fall: s.fall, weight: s.weight, reverse: s.weightReverse, initFail: s.initFail,
        },
        { log: this.log.child({ script: s.name }) },
      );
      runner.on('result', (r) => this.countScript('track', s.name, r));
      runner.on('change', (ch) => this.input({ type: 'tracker', key: `script:${s.name}`, ok: ch.status === 'ok' }));
      // init_fail: the script starts failed, which is a result (the instance does not wait for a first run).
      if (s.initFail) this.input({ type: 'tracker', key: `script:${s.name}`, ok: false });
      this.scriptRunners.push(runner);
      runner.start();
    }
    for (const f of files.values()) {
      let reading = false;
      const read = async () => {
        if (reading) return;
        reading = true;
        const value = await this.readTrackFile(f.name, f.file);
        reading = false;
        if (!this.stopping) this.input({ type: 'tracker', key: `file:${f.name}`, value });
      };
      void read();
      watchFile(f.file, { interval: 200 }, () => void read());
      this.watchedFiles.push(f.file);
    }
  }

  /**
   * The integer in a track_file, read without blocking the event loop and only from a regular file: a FIFO or a
   * device put in its place reads as 0 (logged) instead of stopping the adverts. Unreadable or empty: 0.
   */
  private async readTrackFile(name: string, path: string): Promise<number> {
    const r = await readTrackFileText(path, 64);
    if (r.kind === 'not-regular') {
      this.log.error({ trackFile: name, path }, `track_file ${name}: ${path} is not a regular file; using 0`);
      return 0;
    }
    return r.kind === 'text' ? Number.parseInt(r.text.trim(), 10) || 0 : 0;
  }

}
