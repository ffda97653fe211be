// Messages between the parent and its children over Node's IPC channel (child_process.fork). Signals still work
// the keepalived way (SIGTERM stops a child; SIGHUP/SIGUSR1/SIGUSR2 sent straight to a child act too); the channel
// carries what signals cannot: validated reloads, status requests, control commands and their answers.
import type { InstanceStatus } from '../vrrp/node.js';
import type { Family } from '../net/address.js';
import type { ControlArgs, ControlReply } from './control.js';
import type { RsOverrideKind } from '../ipvs/overrides.js';
import { keepalivedAddressText, STATE_NUMBER } from './dumps.js';
import type { IpvsServiceWithDests } from '../ipvs/client.js';
import type { IpvsStats } from '../ipvs/kernel-table.js';
import type { KeepalivedConfig } from '../config/model/index.js';
import { describeDest, describeService } from '../ipvs/describe.js';

export type DumpRequest = 'data' | 'stats' | 'json' | 'stats-clear';

export type ToChild =
  /** The parent read and validated the new config: apply it (the child does not read the file again). */
  | { t: 'reload'; config: KeepalivedConfig }
  /** Sent right after every fork, after `handover`: the configuration the parent runs now (child.ts takes it). */
  | { t: 'config'; config: KeepalivedConfig }
  /** Write a dump file (keepalived's SIGUSR1 / SIGUSR2 / JSON / STATS_CLEAR). */
  | { t: 'dump'; kind: DumpRequest }
  /** Answer with a ChildStatus. */
  | { t: 'status'; id: number }
  /** A control command (control.ts) for the state this child owns: answer with a `ctl` reply of the same id. */
  | { t: 'ctl'; id: number; command: string; args: ControlArgs }
  /** Sent right after every fork: the state the previous process of this kind handed over (null: none). */
  | { t: 'handover'; state: unknown };

export type FromChild =
  | { t: 'status'; id: number; status: ChildStatus }
  | { t: 'ctl'; id: number; reply: ControlReply }
  | { t: 'reloaded'; ok: boolean; error?: string }
  /** State the parent keeps for this child's next incarnation (the checker: its real-server overrides), replaced
   *  at each message, given back in a `handover` after a respawn. */
  | { t: 'handover'; state: unknown }
  /** The child runs (config read, engine started): the respawn back-off may reset once it has run long enough. */
  | { t: 'ready' };

/**
 * One instance in a ChildStatus and on /status: the InstanceStatus (vrrp/node.ts) as JSON, its plan reduced to what
 * names the instance (name, interface, vrid, family, configured priority, VIPs as address/prefix) and the
 * transition time as ISO text.
 */
export type InstanceStatusJson = Pick<InstanceStatus, 'state' | 'wantState' | 'effectivePriority' | 'vipset' | 'masterPriority' | 'src' | 'trackers' | 'stats' | 'guard'> & {
  name: string;
  interface: string;
  vrid: number;
  family: Family;
  priority: number;
  vips: string[];
  master?: string;
  /** ISO time of the last transition. */
  lastTransition?: string;
  faults: string[];
  /** keepalived's state number (vrrp.h: INIT 0, BACKUP 1, MASTER 2, FAULT 3), as its dumps and the exporters print it. */
  stateNumber: number;
  /** Virtual addresses as keepalived's dumps name them (address, `/prefix` unless a host prefix) with their device. */
  addresses: Array<{ address: string; dev: string; excluded: boolean }>;
  /** garp_master_delay in seconds (keepalived.json's garp_delay). */
  garpDelaySec: number;
  /** `ctl switchover` hold: `until resume` or the ISO time it ends; `unconfirmed` until another router took over. */
  hold?: string;
  /** `ctl maintenance on`. */
  maintenance?: boolean;
  /** The last other router heard on the instance. */
  lastPeer?: { address: string; priority: number };
};

export function instanceStatusJson(s: InstanceStatus): InstanceStatusJson {
  const p = s.plan;
  return {
    name: p.config.name, interface: p.interface, vrid: p.spec.vrid, family: p.config.family, state: s.state, wantState: s.wantState,
    priority: p.spec.priority, effectivePriority: s.effectivePriority, vipset: s.vipset, vips: p.vips.map((v) => `${v.address}/${v.prefix}`),
    master: s.masterAddress, masterPriority: s.masterPriority,
    lastTransition: s.lastTransitionMs === undefined ? undefined : new Date(s.lastTransitionMs).toISOString(),
    src: s.src, faults: [...s.faults], trackers: s.trackers, stats: s.stats, stateNumber: STATE_NUMBER[s.state],
    addresses: [
      ...p.config.virtualIpaddresses.map((v) => ({ address: keepalivedAddressText(v), dev: v.dev, excluded: false })),
      ...p.config.virtualIpaddressesExcluded.map((v) => ({ address: keepalivedAddressText(v), dev: v.dev, excluded: true })),
    ],
    garpDelaySec: p.spec.garp.masterDelayMs / 1000,
    ...(s.guard ? { guard: { ...s.guard } } : {}),
    hold: s.hold && `${s.hold.untilMs === undefined ? 'until resume' : new Date(s.hold.untilMs).toISOString()}${s.hold.confirmed ? '' : ' (unconfirmed)'}`,
    maintenance: s.maintenance ? true : undefined,
    lastPeer: s.lastPeer,
  };
}

export interface ScriptStatus {
  kind: 'track' | 'notify';
  name: string;
  runs: number;
  failures: number;
  /** vrrp_script only: keepalived's `Status = GOOD` (result >= rise) or BAD, as in keepalived.data. */
  good?: boolean;
  /** vrrp_script only: a run is in progress (keepalived's `State = running`, else idle). */
  executing?: boolean;
}

/** What the checker child reports (filled in by the checker child when it is wired in). */
export interface CheckerStatus {
  virtualServer: string;
  realServer: string;
  up: boolean;
  /** Weight set in IPVS (after any override); absent when the server is not in the table. */
  weight?: number;
  /** The operator's override (ctl drain / disable / weight), with when and who. */
  override?: { kind: RsOverrideKind; weight?: number; since: string; by: string };
  /** Replies its checkers read and dropped as not their answer (malformed, another id or sequence), by reason;
   *  absent when none. */
  droppedReplies?: Record<string, number>;
}

/** The kernel's IPVS counters of one service (no `destination`) or one destination, as the checker child read them. */
export interface IpvsTraffic {
  /** ipvsadm's notation: "TCP 10.0.0.1:80", "FWM 7". */
  service: string;
  /** "10.0.1.1:80", "[2001:db8::1]:80". */
  destination?: string;
  /** Totals since the entry was added (counters) and the kernel's rate estimates (per second). */
  conns: number; inpkts: number; outpkts: number; inbytes: number; outbytes: number;
  cps: number; inpps: number; outpps: number; inbps: number; outbps: number;
  /** Destinations only: connections now, as ipvsadm's ActiveConn / InActConn. */
  activeConns?: number;
  inactConns?: number;
}

/** The kernel's table (IpvsClient.dump) as IpvsTraffic entries: each service, then its destinations. */
export function ipvsTrafficJson(table: readonly IpvsServiceWithDests[]): IpvsTraffic[] {
  const counters = (st: IpvsStats | undefined) => {
    const n = (v: bigint | undefined) => Number(v ?? 0n);
    return {
      conns: n(st?.conns), inpkts: n(st?.inpkts), outpkts: n(st?.outpkts), inbytes: n(st?.inbytes), outbytes: n(st?.outbytes),
      cps: n(st?.cps), inpps: n(st?.inpps), outpps: n(st?.outpps), inbps: n(st?.inbps), outbps: n(st?.outbps),
    };
  };
  const out: IpvsTraffic[] = [];
  for (const { service, dests } of table) {
    const name = describeService(service);
    out.push({ service: name, ...counters(service.stats) });
    for (const d of dests) {
      out.push({ service: name, destination: describeDest(d), ...counters(d.stats), activeConns: d.activeConns, inactConns: d.inactConns });
    }
  }
  return out;
}

export interface ChildStatus {
  vrrp?: InstanceStatusJson[];
  /** The VRRP child is in maintenance (`ctl maintenance on`). */
  maintenance?: boolean;
  scripts?: ScriptStatus[];
  checkers?: CheckerStatus[];
  /** Checker child: the IPVS table's traffic counters (absent when IPVS is not usable or the read was too slow). */
  ipvs?: IpvsTraffic[];
  /** keepalived.json content (VRRP child), served as /keepalived.json. */
  keepalivedJson?: unknown;
  /** *_rt_priority with *_rlimit_rttime: times the child was demoted at the soft limit (absent otherwise). */
  rtDemotions?: number;
}

export function isToChild(m: unknown): m is ToChild {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}
