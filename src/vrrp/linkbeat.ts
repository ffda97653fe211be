// linkbeat (keepalived 2.2.7 vrrp_if.c, vrrp_parser.c): interfaces whose link state is polled every second with an
// ioctl instead of taken from rtnetlink. Pure: which interfaces are polled (from the config), which readings a poll
// takes, and what those readings say (up or down, the method in use, what keepalived logs). The ioctls are
// src/net/linkbeat-probe.ts's; the VRRP shell runs the timer and feeds the verdicts to the node as link state.
import type { KeepalivedConfig } from '../config/model/index.js';
import type { VrrpPlan } from './plan.js';

export type LinkbeatType = 'MII' | 'ETHTOOL' | 'IOCTL';

/** keepalived's POLLING_DELAY (TIMER_HZ): one poll per interface per second. */
export const LINKBEAT_INTERVAL_MS = 1000;

/** SIOCGMIIPHY, then SIOCGMIIREG of BMCR, BMSR and BMSR again (the link bit is sticky): each errno 0 or the error. */
export interface MiiReading {
  phyErrno: number;
  /** The SIOCGMIIREG probe of BMSR that follows SIOCGMIIPHY (some drivers answer the first, not the second). */
  probeErrno: number;
  bmcr: number; bmcrErrno: number;
  bmsr: number; bmsrErrno: number;
  bmsr2: number; bmsr2Errno: number;
}
/** SIOCETHTOOL ETHTOOL_GLINK. */
export interface EthtoolReading { errno: number; link: number }
/** SIOCGIFFLAGS. */
export interface FlagsReading { errno: number; flags: number }

export interface LinkbeatReadings { mii?: MiiReading; ethtool?: EthtoolReading; flags?: FlagsReading }

const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const ENODEV = 19;
const BMSR_LSTATUS = 0x0004;

/** if_mii_probe: -1 when MII is not usable, else 1 up / 0 down; the lines keepalived logs on the way. */
export function miiStatus(ifname: string, r: MiiReading): { status: -1 | 0 | 1; logs: string[] } {
  if (r.phyErrno || r.probeErrno) return { status: -1, logs: [] };
  const logs: string[] = [];
  const read = (v: number, errno: number): number => {
    if (!errno) return v;
    logs.push(`SIOCGMIIREG on ${ifname} failed: errno ${errno}`);
    return 0xffff;
  };
  const bmcr = read(r.bmcr, r.bmcrErrno);
  const bmsr = bmcr === 0xffff ? 0xffff : read(r.bmsr, r.bmsrErrno);
  if (bmcr === 0xffff || bmsr === 0) {
    logs.push(`No MII transceiver present for ${ifname} !!!`);
    return { status: -1, logs };
  }
  const bmsr2 = read(r.bmsr2, r.bmsr2Errno);
  return { status: (bmsr | bmsr2) & BMSR_LSTATUS ? 1 : 0, logs };
}

/** if_ethtool_probe: -1 when the driver has no ETHTOOL_GLINK. */
export const ethtoolStatus = (r: EthtoolReading): -1 | 0 | 1 => (r.errno ? -1 : r.link ? 1 : 0);

/** if_ioctl_flags: IFF_UP and IFF_RUNNING; a failed ioctl counts as up unless the interface is gone (ENODEV). */
export const flagsUp = (r: FlagsReading): boolean => (r.errno ? r.errno !== ENODEV : (r.flags & (IFF_UP | IFF_RUNNING)) === (IFF_UP | IFF_RUNNING));

/** The readings a poll takes: all three while the method is not settled yet, then the method's and the flags. */
export function readingsFor(type: LinkbeatType | undefined): Array<keyof LinkbeatReadings> {
  if (!type) return ['mii', 'ethtool', 'flags'];
  if (type === 'MII') return ['mii', 'flags'];
  if (type === 'ETHTOOL') return ['ethtool', 'flags'];
  return ['flags'];
}

export interface LinkbeatVerdict { type: LinkbeatType; up: boolean; logs: string[] }

/**
 * init_linkbeat_status: the method that works, trying the configured one first (MII → ETHTOOL → IOCTL; ETHTOOL
 * configured and failing tries MII before IOCTL), and the link state it reads. A configured method that does not
 * work is logged as keepalived logs it.
 */
export function linkbeatInit(ifname: string, configured: LinkbeatType | undefined, r: LinkbeatReadings): LinkbeatVerdict {
  const logs: string[] = [];
  const mii = (): -1 | 0 | 1 => {
    if (!r.mii) return -1;
    const m = miiStatus(ifname, r.mii);
    logs.push(...m.logs);
    return m.status;
  };
  const eth = (): -1 | 0 | 1 => (r.ethtool ? ethtoolStatus(r.ethtool) : -1);
  let type: LinkbeatType | undefined = configured;
  let up = false;
  if (!type || type === 'MII') {
    const s = mii();
    if (s >= 0) { type = 'MII'; up = s === 1; } else type = undefined;
  }
  if (!type || type === 'ETHTOOL') {
    const s = eth();
    if (s >= 0) { type = 'ETHTOOL'; up = s === 1; }
    else if (type) {
      const m = mii();
      if (m >= 0) { type = 'MII'; up = m === 1; } else type = undefined;
    }
  }
  if (!type || type === 'IOCTL') { type = 'IOCTL'; up = true; }
  if (up) up = r.flags ? flagsUp(r.flags) : true;
  if (configured && configured !== type) logs.push(`(${ifname}): Configured linkbeat type ${configured} not supported, using ${type}`);
  return { type, up, logs };
}

/**
 * if_linkbeat_refresh_thread once the method is known: the method's answer (a probe that fails now counts as up, as
 * keepalived's int-to-bool does), then IFF_UP|IFF_RUNNING from SIOCGIFFLAGS ("some buggy drivers need this").
 */
export function linkbeatPoll(ifname: string, type: LinkbeatType, r: LinkbeatReadings): LinkbeatVerdict {
  const logs: string[] = [];
  let up = true;
  if (type === 'MII' && r.mii) {
    const m = miiStatus(ifname, r.mii);
    logs.push(...m.logs);
    up = m.status !== 0;
  } else if (type === 'ETHTOOL' && r.ethtool) up = ethtoolStatus(r.ethtool) !== 0;
  if (up) up = r.flags ? flagsUp(r.flags) : true;
  return { type, up, logs };
}

/** One polled interface as the shell keeps it between polls. */
export interface LinkbeatIfState {
  /** The method settled by the first poll that found the interface; undefined until then. */
  type?: LinkbeatType;
  up: boolean;
}

/**
 * One poll: an interface that is not there is down (and its method is found afresh when it comes back); otherwise
 * the first poll settles the method, later ones use it. `changed` says whether keepalived would log "Linkbeat
 * reports IF up|down" and act on it.
 */
export function linkbeatStep(
  ifname: string, configured: LinkbeatType | undefined, prev: LinkbeatIfState | undefined, exists: boolean, r: LinkbeatReadings,
): { state: LinkbeatIfState; changed: boolean; logs: string[] } {
  const wasUp = prev?.up ?? false;
  if (!exists) return { state: { up: false }, changed: prev !== undefined && wasUp, logs: wasUp && prev ? [`Linkbeat reports ${ifname} down`] : [] };
  const v = prev?.type ? linkbeatPoll(ifname, prev.type, r) : linkbeatInit(ifname, configured, r);
  const changed = prev !== undefined && v.up !== wasUp;
  return { state: { type: v.type, up: v.up }, changed, logs: changed ? [...v.logs, `Linkbeat reports ${ifname} ${v.up ? 'up' : 'down'}`] : v.logs };
}

export interface LinkbeatTarget { interface: string; configured?: LinkbeatType }

/**
 * init_interface_linkbeat's choice: the interfaces of linkbeat_interfaces, plus the interface of every instance when
 * the top-level linkbeat_use_polling is set or the instance says linkbeat_use_polling, less those no instance uses
 * (no VRRP, track_interface, VIP or route on them) and the VMACs / ipvlans (netlink reports those); `off` says why, in
 * keepalived's words.
 */
export function linkbeatTargets(cfg: Pick<KeepalivedConfig, 'linkbeatInterfaces' | 'globalDefs' | 'vrrpInstances'>, plan: Pick<VrrpPlan, 'instances' | 'groups'>):
  { poll: LinkbeatTarget[]; off: string[] } {
  const wanted = new Map<string, LinkbeatType | undefined>();
  for (const l of cfg.linkbeatInterfaces ?? []) wanted.set(l.interface, l.type);
  const vmacs = new Set(plan.instances.flatMap((i) => [...(i.vmac ? [i.vmac.ifname] : []), ...(i.addrVmacs ?? []).map((v) => v.ifname)]));
  for (const i of plan.instances) {
    if (!cfg.globalDefs.linkbeatUsePolling && !i.config.linkbeatUsePolling) continue;
    // keepalived sets it on vrrp->ifp, which for use_vmac is the VMAC.
    const ifp = i.vmac?.ifname ?? i.interface;
    if (!wanted.has(ifp)) wanted.set(ifp, undefined);
  }
  const used = new Set<string>();
  for (const i of plan.instances) {
    used.add(i.interface);
    if (i.vmac) used.add(i.vmac.ifname);
    for (const t of i.trackers) if (t.interface) used.add(t.interface);
    for (const v of i.vips) if (!v.noTrack) used.add(v.dev);
    for (const r of [...i.config.virtualRoutes]) if (r.dev && !r.noTrack) used.add(r.dev);
  }
  for (const g of plan.groups) for (const t of g.trackers) if (t.interface) used.add(t.interface);
  const poll: LinkbeatTarget[] = [];
  const off: string[] = [];
  for (const [name, configured] of wanted) {
    if (!used.has(name)) off.push(`Turning off linkbeat for ${name} since not used for tracking`);
    else if (vmacs.has(name)) off.push(`Turning off linkbeat for ${name} since netlink works for vmacs/ipvlans`);
    else poll.push({ interface: name, ...(configured ? { configured } : {}) });
  }
  return { poll, off };
}
