// The VRRP plan: what the node (node.ts) and its shell run for one keepalived.conf. Each instance plan holds the
// config model's VrrpInstance itself (VIPs, routes, rules, peers are the model's objects) plus only what is derived
// from it: the core's VrrpInstanceSpec (the model with the global defaults and keepalived's owner/auth rules
// applied), the interface used (default_interface), the socket facts, the trackers and notify scripts with their
// users decided. Pure: who may run a script is decided by the injected UserResolver; the live facts (interface
// addresses, hence the source address) are the node's, fed later.
import type {
  GarpGroup, VrrpGuard, KeepalivedConfig, ScriptSpec, VrrpInstance, VirtualIp, VirtualRoute, VirtualRule, VrrpScript, TrackFile, VrrpSyncGroup,
  VrrpTrackProcess,
} from '../config/model/index.js';
import type { NotifyCommands, ScriptCommand } from '../notify/notify.js';
import type { TrackerSpec, VrrpInstanceSpec } from './spec.js';
import { firewallSettings, type FirewallSettings } from './firewall.js';
import { lockKeyForGroup, lockKeyForInstance } from './guard.js';
import { linkbeatTargets, type LinkbeatTarget } from './linkbeat.js';

/** The guard lock a unit takes: the vrrp_guard's name and the lock's name below its path. */
export interface GuardLockPlan { guard: string; key: string }

export interface TrackerSource {
  spec: TrackerSpec;
  interface?: string;
  script?: VrrpScript;
  /** The script's command with its user resolved (vrrp_script `user`, else script_user). */
  command?: ScriptCommand;
  file?: TrackFile;
  process?: VrrpTrackProcess;
}

/**
 * The macvlan keepalived's use_vmac makes for an instance (vrrp_vmac.c netlink_link_add_vmac), or with use_ipvlan
 * the ipvlan (netlink_link_add_ipvlan; it wins when both are given, as in keepalived).
 */
export interface VmacPlan {
  /** `vrrp.<vrid>` (vmac_prefix) or the configured name; see vmacNames. */
  ifname: string;
  /** 00:00:5e:00:01:<vrid> (IPv6 00:00:5e:00:02:<vrid>) or the configured MAC; an ipvlan has its parent's instead. */
  mac: string;
  /** use_vmac_addr's VMACs only: the family of the addresses on it (the instance's VMAC has the instance's). */
  family?: 4 | 6;
  /** use_ipvlan: an l2 ipvlan with these IFLA_IPVLAN_FLAGS (bridge 0, private 1, vepa 2) and its own address. */
  ipvlan?: { flags: number; address?: { address: string; prefix: number } };
  /** The instance's interface: the macvlan's parent. */
  base: string;
  /** vmac_xmit_base: adverts go out of the base interface with its own MAC. */
  xmitBase: boolean;
}

export interface InstancePlan {
  /** The instance as the config model resolved it. */
  config: VrrpInstance;
  /** What the pure machine runs, except the source address, which is known once the interface is. */
  spec: Omit<VrrpInstanceSpec, 'primaryAddress'>;
  /** The interface adverts go out of (and VIPs default to): the instance's, else default_interface. */
  interface: string;
  /**
   * virtual_ipaddress then virtual_ipaddress_excluded (the model's objects): what the node adds while MASTER. With
   * use_vmac, those of the instance's family on its interface are copies whose `dev` is the VMAC; with use_vmac_addr,
   * the others are copies whose `dev` is their address VMAC.
   */
  vips: VirtualIp[];
  /** use_vmac: the macvlan created at start, removed at stop; VIPs live on it, adverts leave from it. */
  vmac?: VmacPlan;
  /** use_vmac_addr: the VMACs of VIPs on other interfaces or of the other family, one per interface and family. */
  addrVmacs: VmacPlan[];
  /** Configured source (unicast_src_ip / mcast_src_ip); undefined = the interface's primary address. */
  configuredSrc?: string;
  /** TTL / hop limit we send (unicast_ttl or 255). */
  ttl: number;
  trackers: TrackerSource[];
  notify: NotifyCommands;
  /** Split-brain guard of a single instance (a sync group member's is the group's). */
  guard?: GuardLockPlan;
}

export interface GroupPlan {
  /** The vrrp_sync_group as the config model resolved it. */
  config: VrrpSyncGroup;
  /** Its members that run (an instance keepalived would not run is left out), in configured order. */
  members: string[];
  notify: NotifyCommands;
  /** Group-level track_interface / track_script / track_file / track_process: they apply to every member (keepalived vrrp_sync.c). */
  trackers: TrackerSource[];
  guard?: GuardLockPlan;
}

export interface VrrpPlan {
  instances: InstancePlan[];
  groups: GroupPlan[];
  garpIntervalMs: number;
  gnaIntervalMs: number;
  /** garp_group blocks: their interfaces share one pacing with the group's intervals instead of the two above. */
  garpGroups?: GarpGroup[];
  startupDelayMs: number;
  /** process_monitor_rcv_bufs(_force): the process-connector socket's receive buffer (vrrp_track_process). */
  processMonitorRcvBufs?: { bytes: number; force: boolean };
  /** Instances keepalived would refuse to run, with the reason (they are skipped and logged). */
  skipped: Array<{ name: string; reason: string }>;
  /** static_ipaddress / static_routes / static_rules: set at start, kept across state changes. */
  statics: { addresses: VirtualIp[]; routes: VirtualRoute[]; rules: VirtualRule[] };
  /** vrrp_strict's nftables table for the VIPs of non-accept instances (firewall.ts); undefined = none. */
  firewall?: FirewallSettings;
  /** vrrp_guard blocks used by an instance or group (keepalived-ts extension). */
  guards: VrrpGuard[];
  /** linkbeat: the interfaces whose link state is polled (not taken from rtnetlink), and why others are not. */
  linkbeat?: { poll: LinkbeatTarget[]; off: string[] };
}

/** Decides who runs a script (src/notify/script-user.ts), or null when keepalived would remove it (insecure, not
 * found, not executable, no user): a removed script is never run. `name` is the vrrp_script's name for track
 * scripts (keepalived's message names it). Injected so this stays pure. */
export type UserResolver = (s: ScriptSpec, role?: 'track' | 'notify' | 'fifo', name?: string) => { uid: number; gid: number } | null;

function command(s: ScriptSpec | undefined, users: UserResolver, role: 'track' | 'notify' = 'notify', name?: string): ScriptCommand | undefined {
  if (!s) return undefined;
  const who = users(s, role, name);
  return who ? { argv: s.argv, uid: who.uid, gid: who.gid } : undefined;
}

function notifyCommands(n: VrrpInstance['notify'] | VrrpSyncGroup['notify'], users: UserResolver): NotifyCommands {
  const x = n as VrrpInstance['notify'];
  return {
    master: command(x.master, users),
    backup: command(x.backup, users),
    fault: command(x.fault, users),
    stop: command(x.stop, users),
    generic: command(x.any, users),
    deleted: command(x.deleted, users),
    masterRxLowerPri: command(x.masterRxLowerPri, users),
    notifyDeleted: x.deleted !== undefined,
  };
}

type Tracks = Pick<VrrpInstance, 'trackInterfaces' | 'trackScripts' | 'trackFiles' | 'trackProcesses'>;

function trackers(cfg: KeepalivedConfig, inst: Tracks, users: UserResolver): TrackerSource[] {
  const out: TrackerSource[] = [];
  for (const t of inst.trackInterfaces) {
    out.push({ spec: { name: `interface:${t.interface}`, kind: 'interface', weight: t.weight, reverse: t.reverse }, interface: t.interface });
  }
  for (const r of inst.trackScripts) {
    const script = cfg.vrrpScripts.find((s) => s.name === r.name);
    if (!script) continue; // the model already reported it
    const weight = r.weight ?? script.weight;
    // keepalived (vrrp_track.c, track_script and track_file alike): the tracked object's own `reverse` stays unless
    // the line says reverse/noreverse, also when it gives its own weight.
    const reverse = r.reverseGiven ? r.reverse : script.weightReverse;
    const cmd = command(script.script, users, 'track', r.name);
    // keepalived removes a script that fails its security check from every instance tracking it.
    if (!cmd) continue;
    out.push({ spec: { name: `script:${r.name}`, kind: 'script', weight, reverse }, script, command: cmd });
  }
  for (const r of inst.trackFiles) {
    const file = cfg.trackFiles.find((f) => f.name === r.name);
    if (!file) continue;
    const weight = r.weight ?? file.weight;
    const reverse = r.reverseGiven ? r.reverse : file.weightReverse;
    out.push({ spec: { name: `file:${r.name}`, kind: 'file', weight, reverse }, file });
  }
  for (const r of inst.trackProcesses) {
    const proc = cfg.trackProcesses.find((p) => p.name === r.name);
    if (!proc) continue;
    const weight = r.weight ?? proc.weight;
    const reverse = r.reverseGiven ? r.reverse : proc.weightReverse;
    out.push({ spec: { name: `process:${r.name}`, kind: 'process', weight, reverse }, process: proc });
  }
  return out;
}

/**
 * keepalived's VMAC names (vrrp.c create_vmac_name): `<prefix>.<vrid>`; when an earlier instance has that name
 * already, `<prefix>N.<vrid>` with N = 1, 2, … (IPv6 tries `<prefix>6.<vrid>` first and skips 6 after). A
 * configured name is kept unless an earlier instance uses it. The prefix is shortened to fit IFNAMSIZ.
 */
export function vmacName(prefix: string, vrid: number, family: 4 | 6, taken: ReadonlySet<string>): string {
  const fit = (num: string): string => {
    const tail = `${num}.${vrid}`;
    return `${prefix.slice(0, Math.max(0, 15 - tail.length))}${tail}`;
  };
  let name = fit('');
  let num = 0;
  while (taken.has(name)) {
    if (family === 6) num = num === 0 ? 6 : num === 6 ? 1 : num + 1 === 6 ? 7 : num + 1;
    else num++;
    name = fit(String(num));
  }
  return name;
}

/** IFLA_IPVLAN_FLAGS per use_ipvlan mode word (<linux/if_link.h> IPVLAN_F_PRIVATE, IPVLAN_F_VEPA). */
const IPVLAN_FLAGS = { bridge: 0, private: 1, vepa: 2 } as const;

/** The RFC 5798 virtual router MAC (vrrp_vmac.c ll_addr): 00:00:5e:00:01:VRID, IPv6 00:00:5e:00:02:VRID. */
export const vrrpMac = (vrid: number, family: 4 | 6): string => `00:00:5e:00:0${family === 4 ? 1 : 2}:${vrid.toString(16).padStart(2, '0')}`;

export function vrrpPlan(cfg: KeepalivedConfig, users: UserResolver): VrrpPlan {
  const g = cfg.globalDefs;
  const instances: InstancePlan[] = [];
  const skipped: VrrpPlan['skipped'] = [];
  const vmacsTaken = new Set<string>();
  for (const inst of cfg.vrrpInstances) {
    if (inst.cannotRun) {
      skipped.push({ name: inst.name, reason: inst.cannotRun });
      continue;
    }
    const iface = inst.interface ?? g.defaultInterface;
    if (!iface) {
      skipped.push({ name: inst.name, reason: 'no interface' });
      continue;
    }
    const family = inst.family;
    const auth = inst.version === 2 && family === 4 && inst.authentication?.type === 'PASS' ? inst.authentication : undefined;
    const peers = inst.unicastPeers.map((p) => ({ address: p.address, minTtl: p.minTtl, maxTtl: p.maxTtl }));
    const spec: InstancePlan['spec'] = {
      name: inst.name,
      vrid: inst.virtualRouterId,
      version: inst.version,
      family,
      priority: inst.priority,
      advertIntMs: inst.advertIntMs,
      initialState: inst.state,
      preempt: !inst.nopreempt,
      preemptDelayMs: inst.preemptDelayMs,
      vips: inst.virtualIpaddresses.map((v) => v.address),
      excludedVips: inst.virtualIpaddressesExcluded.map((v) => v.address),
      garp: {
        masterDelayMs: inst.garpMasterDelayMs,
        masterRepeat: inst.garpMasterRepeat,
        masterRefreshMs: inst.garpMasterRefreshMs,
        masterRefreshRepeat: inst.garpMasterRefreshRepeat,
        lowerPrioDelayMs: inst.garpLowerPrioDelayMs,
        lowerPrioRepeat: inst.garpLowerPrioRepeat,
      },
      downTimerAdverts: inst.downTimerAdverts,
      lowerPrioNoAdvert: inst.lowerPrioNoAdvert,
      higherPrioSendAdvert: inst.higherPrioSendAdvert,
      notifyPriorityChanges: inst.notifyPriorityChanges,
      trackers: [],
      authType: auth ? 1 : 0,
      authPass: auth?.pass,
      unicastPeers: inst.unicast ? peers : [],
      checkUnicastSrc: inst.checkUnicastSrc,
      unicastTtl: inst.unicastTtl ?? 255,
      mcastGroup: inst.mcastDstIp ?? (family === 6 ? g.vrrpMcastGroup6 : g.vrrpMcastGroup4),
      v3ChecksumAsV2: g.other['v3_checksum_as_v2'] !== undefined && g.other['v3_checksum_as_v2'][0] !== 'false',
      ownerIgnoreAdverts: inst.priority === 255 && (inst.strictMode || g.other['vrrp_owner_ignore_adverts'] !== undefined),
      skipCheckAdvAddr: inst.skipCheckAdvAddr,
    };
    const tr = trackers(cfg, inst, users);
    spec.trackers = tr.map((t) => t.spec);
    let vmac: VmacPlan | undefined;
    if (inst.useVmac || inst.useIpvlan) {
      const wanted = inst.useIpvlan?.name ?? inst.useVmac?.name;
      const ifname = wanted && !vmacsTaken.has(wanted) ? wanted : vmacName(g.vmacPrefix, inst.virtualRouterId, family, vmacsTaken);
      vmacsTaken.add(ifname);
      vmac = { ifname, mac: inst.useVmac?.mac ?? vrrpMac(inst.virtualRouterId, family), base: iface, xmitBase: inst.vmacXmitBase };
      if (inst.useIpvlan) {
        const a = inst.useIpvlan.address;
        vmac.ipvlan = { flags: IPVLAN_FLAGS[inst.useIpvlan.mode], ...(a ? { address: { address: a.address, prefix: a.prefix } } : {}) };
      }
    }
    // keepalived puts the instance's own-family addresses on its interface onto the VMAC (vrrp.c, ip_addr->ifp); an
    // ipvlan only gets them with use_vmac too (VRRP_VMAC_BIT): use_ipvlan alone leaves them on the interface.
    const vipsOnVmac = vmac && (!vmac.ipvlan || inst.useVmac);
    // use_vmac_addr: any other VIP gets a VMAC on its own interface, shared by the VIPs of one interface and family;
    // so does a VIP with use_vmac.
    const addrVmacs: VmacPlan[] = [];
    const onVmac = (v: VirtualIp): VirtualIp => {
      if (vmac && vipsOnVmac && v.dev === iface && v.family === family) return { ...v, dev: vmac.ifname };
      // use_vmac on the address: a VMAC for it even on the instance's interface (vrrp.c, if_sorted = false).
      if (!v.useVmac && (!inst.useVmacAddr || (v.dev === iface && v.family === family))) return v;
      let av = addrVmacs.find((a) => a.base === v.dev && a.family === v.family);
      if (!av) {
        const ifname = vmacName(g.vmacAddrPrefix, inst.virtualRouterId, v.family, vmacsTaken);
        vmacsTaken.add(ifname);
        av = { ifname, mac: inst.useVmac?.mac ?? vrrpMac(inst.virtualRouterId, v.family), base: v.dev, xmitBase: false, family: v.family };
        addrVmacs.push(av);
      }
      return { ...v, dev: av.ifname };
    };
    const vips = [...inst.virtualIpaddresses, ...inst.virtualIpaddressesExcluded].map(onVmac);
    instances.push({
      config: inst,
      spec,
      interface: iface,
      vips,
      vmac,
      addrVmacs,
      // use_ipvlan's address is the source unless one is configured (vrrp_ipvlan_handler, VRRP_FLAG_SADDR_FROM_CONFIG).
      configuredSrc: inst.unicastSrcIp ?? inst.mcastSrcIp ?? vmac?.ipvlan?.address?.address,
      ttl: inst.unicast ? (inst.unicastTtl ?? 255) : 255,
      trackers: tr,
      notify: notifyCommands(inst.notify, users),
      ...(inst.guard && !inst.syncGroup ? { guard: { guard: inst.guard.name, key: lockKeyForInstance(inst.virtualRouterId, iface) } } : {}),
    });
  }
  const known = new Set(instances.map((i) => i.config.name));
  const groups = cfg.syncGroups
    .map((sg) => ({
      config: sg, members: sg.group.filter((m) => known.has(m)), notify: notifyCommands(sg.notify, users), trackers: trackers(cfg, sg, users),
      ...(sg.guard ? { guard: { guard: sg.guard.name, key: lockKeyForGroup(sg.name) } } : {}),
    }))
    .filter((sg) => sg.members.length > 0);
  return {
    instances,
    groups,
    garpIntervalMs: g.vrrpGarpIntervalMs,
    gnaIntervalMs: g.vrrpGnaIntervalMs,
    garpGroups: cfg.garpGroups,
    startupDelayMs: g.vrrpStartupDelayMs,
    processMonitorRcvBufs: g.processMonitorRcvBufs ? { bytes: g.processMonitorRcvBufs, force: g.processMonitorRcvBufsForce } : undefined,
    skipped,
    statics: { addresses: cfg.staticAddresses, routes: cfg.staticRoutes, rules: cfg.staticRules },
    firewall: firewallSettings(cfg),
    guards: cfg.guards.filter((gd) => instances.some((i) => i.guard?.guard === gd.name) || groups.some((x) => x.guard?.guard === gd.name)),
    linkbeat: linkbeatTargets(cfg, { instances, groups }),
  };
}
