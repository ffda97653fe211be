// The pure core's input: one VRRP instance's spec (what the machine, the advert codec and receive validation run
// on), its trackers and GARP schedule, and the state names the core and notify share. Its own shape, not the config
// model's (it borrows the model's types where they fit), so the machine, the simulator and the transcripts drive it
// without a keepalived.conf; plan.ts derives it from the model (global defaults, owner and auth rules applied).
// All durations are milliseconds (floats allowed); addresses are text.
import { addressFamily, familyName, vrrpGroup, type Family } from '../net/address.js';
import type { UnicastPeer } from '../config/model/types.js';

/** A unicast_peer as the core needs it: the model's address and TTL bounds. */
export type UnicastPeerSpec = Pick<UnicastPeer, 'address' | 'minTtl' | 'maxTtl'>;

/** Protocol states (keepalived vrrp.h: INIT 0, BACKUP 1, MASTER 2, FAULT 3, DELETED 97, STOP 98). */
export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP' | 'DELETED';

/** The state a notify script and the generic `notify` report (DELETED becomes FAULT without notify_deleted). */
export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'DELETED';
/** What a notify event can carry: a notify state, or a FIFO-only event (vrrp_notify.c send_event_notify /
 * send_instance_priority_notifies). */
export type NotifyEventState = NotifyState | 'MASTER_RX_LOWER_PRI' | 'MASTER_PRIORITY' | 'BACKUP_PRIORITY';

/** Gratuitous ARP / unsolicited NA schedule (keepalived vrrp_garp_* / garp_* keywords). */
export interface GarpSpec {
  /** garp_master_delay: second burst this long after becoming MASTER; 0 = no second burst. Default 5000. */
  masterDelayMs: number;
  /** garp_master_repeat: GARPs per VIP in each burst. Default 5. */
  masterRepeat: number;
  /** garp_master_refresh: periodic refresh while MASTER; 0 = off (default). */
  masterRefreshMs: number;
  /** garp_master_refresh_repeat: GARPs per VIP per refresh. Default 1. */
  masterRefreshRepeat: number;
  /** garp_lower_prio_delay: second burst after hearing a lower priority; default = masterDelayMs. */
  lowerPrioDelayMs: number;
  /** garp_lower_prio_repeat: GARPs when a MASTER hears a lower priority (0 = none); default = masterRepeat. */
  lowerPrioRepeat: number;
}

export const DEFAULT_GARP: GarpSpec = {
  masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1, lowerPrioDelayMs: 5000, lowerPrioRepeat: 5,
};

/** One tracked object as configured on the instance (track_interface/track_script/track_file/track_process/bfd). */
export interface TrackerSpec {
  /** Unique key within the instance, e.g. "script:chk_nginx" or "interface:eth1". */
  name: string;
  kind: 'interface' | 'script' | 'file' | 'process' | 'bfd';
  /** -254..254 (0 = failure puts the instance in FAULT). */
  weight: number;
  /** `reverse`: flips the sense (positive weight subtracted while OK, weight 0 faults while OK). */
  reverse: boolean;
}

export interface VrrpInstanceSpec {
  /** vrrp_instance NAME (for notifies and logs). */
  name: string;
  vrid: number;
  version: 2 | 3;
  family: Family;
  /** Configured priority 1..255 (255 = address owner). */
  priority: number;
  /** advert_int in ms (already rounded: v2 whole seconds, v3 10 ms steps). */
  advertIntMs: number;
  /** `state MASTER` in the config: the instance wants MASTER; with priority 255 it takes over at once. */
  initialState: 'MASTER' | 'BACKUP';
  /** false with `nopreempt` (ignored for priority 255). */
  preempt: boolean;
  /** preempt_delay in ms (0 = off). */
  preemptDelayMs: number;
  /** Our address used as the advert source and for equal-priority tie breaks (unicast_src_ip or interface primary). */
  primaryAddress: string;
  /** virtual_ipaddress (advertised). */
  vips: string[];
  /** virtual_ipaddress_excluded (added/removed with the VIPs, not advertised). */
  excludedVips: string[];
  garp: GarpSpec;
  /** down_timer_adverts (default 3). */
  downTimerAdverts: number;
  /** lower_prio_no_advert: a MASTER hearing a lower priority does not re-advertise. */
  lowerPrioNoAdvert: boolean;
  /** higher_prio_send_advert: a MASTER hearing a higher priority sends one advert before yielding. */
  higherPrioSendAdvert: boolean;
  /** notify_priority_changes: emit MASTER_PRIORITY / BACKUP_PRIORITY notify events. */
  notifyPriorityChanges: boolean;
  trackers: TrackerSpec[];

  // ---- wire and receive policy (used by packet.ts / validate.ts helpers, not by the state machine) ----
  /** v2 authentication: 0 none, 1 PASS (auth_pass, first 8 chars). AH is not supported. */
  authType: 0 | 1;
  authPass?: string;
  /** Unicast peers (empty = multicast). */
  unicastPeers: UnicastPeerSpec[];
  /** check_unicast_src (also implied by min_ttl/max_ttl on a peer). */
  checkUnicastSrc: boolean;
  /** unicast_ttl for IPv4 unicast adverts (default 255). */
  unicastTtl: number;
  /** Multicast destination (mcast_dst_ip / vrrp_mcast_group4/6). */
  mcastGroup: string;
  v3ChecksumAsV2: boolean;
  /** owner_ignore_adverts: an owner (255) drops all received adverts. */
  ownerIgnoreAdverts: boolean;
  skipCheckAdvAddr: boolean;
}

/** A spec with keepalived's defaults for everything not given. */
export function instanceSpec(p: Pick<VrrpInstanceSpec, 'name' | 'vrid' | 'primaryAddress'> & Partial<VrrpInstanceSpec>): VrrpInstanceSpec {
  const priority = p.priority ?? 100;
  return {
    version: 2,
    family: p.primaryAddress.includes(':') ? 6 : 4,
    priority,
    advertIntMs: 1000,
    initialState: priority === 255 ? 'MASTER' : 'BACKUP',
    preempt: true,
    preemptDelayMs: 0,
    vips: [],
    excludedVips: [],
    garp: { ...DEFAULT_GARP },
    downTimerAdverts: 3,
    lowerPrioNoAdvert: false,
    higherPrioSendAdvert: false,
    notifyPriorityChanges: false,
    trackers: [],
    authType: 0,
    unicastPeers: [],
    checkUnicastSrc: false,
    unicastTtl: 255,
    mcastGroup: vrrpGroup(p.primaryAddress.includes(':') ? 6 : 4),
    v3ChecksumAsV2: false,
    ownerIgnoreAdverts: false,
    skipCheckAdvAddr: false,
    ...p,
  };
}

/** Problems that make a spec unusable by the core (the config layer should have caught them; empty = fine). */
export function checkInstanceSpec(spec: VrrpInstanceSpec): string[] {
  const out: string[] = [];
  const int = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  if (!int(spec.vrid, 1, 255)) out.push(`vrid ${spec.vrid} not in 1..255`);
  if (spec.version !== 2 && spec.version !== 3) out.push(`version ${spec.version} not 2 or 3`);
  if (!int(spec.priority, 1, 255)) out.push(`priority ${spec.priority} not in 1..255`);
  const wire = spec.version === 2 ? spec.advertIntMs / 1000 : spec.advertIntMs / 10;
  if (!int(wire, 1, spec.version === 2 ? 255 : 4095)) out.push(`advert interval ${spec.advertIntMs} ms not representable in VRRPv${spec.version}`);
  if (spec.family === 6 && spec.version !== 3 && spec.authType) out.push('authentication is IPv4 VRRPv2 only');
  if (!int(spec.downTimerAdverts, 1, 100)) out.push(`down_timer_adverts ${spec.downTimerAdverts} not in 1..100`);
  if (spec.vips.length > 255) out.push(`${spec.vips.length} VIPs, at most 255 can be advertised`);
  const fam = addressFamily;
  const name = familyName(spec.family);
  if (fam(spec.primaryAddress) !== spec.family) out.push(`primary address ${spec.primaryAddress} is not an ${name} address`);
  for (const a of spec.vips) if (fam(a) !== spec.family) out.push(`VIP ${a} is not an ${name} address`);
  for (const a of spec.excludedVips) if (!fam(a)) out.push(`excluded VIP ${a} is not an address`);
  for (const p of spec.unicastPeers) if (fam(p.address) !== spec.family) out.push(`unicast peer ${p.address} is not an ${name} address`);
  if (fam(spec.mcastGroup) !== spec.family) out.push(`multicast group ${spec.mcastGroup} is not an ${name} address`);
  for (const t of spec.trackers) if (!int(t.weight, -254, 254)) out.push(`tracker ${t.name} weight ${t.weight} not in -254..254`);
  if (spec.preemptDelayMs < 0 || !Number.isFinite(spec.preemptDelayMs)) out.push(`preempt_delay ${spec.preemptDelayMs} invalid`);
  return out;
}
