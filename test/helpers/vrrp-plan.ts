// Instance plans for tests that drive the node, the reload planner or the dumps without a keepalived.conf: the
// config model's VrrpInstance and VirtualIp objects built from a core spec, the way vrrpPlan (src/vrrp/plan.ts)
// would have derived that spec from them.
import type { VirtualIp, VrrpInstance, VrrpSyncGroup } from '../../src/config/model/index.js';
import type { Loc } from '../../src/config/tree.js';
import type { GroupPlan, InstancePlan } from '../../src/vrrp/plan.js';
import type { VrrpInstanceSpec } from '../../src/vrrp/spec.js';

const LOC: Loc = { file: 'test', line: 0, col: 0 };

/** One virtual_ipaddress line as the model holds it (no options written). */
export function modelVip(address: string, over: Partial<VirtualIp> = {}): VirtualIp {
  const family = address.includes(':') ? 6 : 4;
  return {
    address, family, prefix: family === 4 ? 32 : 128, dev: 'eth0', scope: 0, home: false, noDad: false, mngtmpaddr: false,
    noprefixroute: false, autojoin: false, noTrack: false, useVmac: false, loc: LOC, ...over,
  };
}

/** The model instance a spec comes from (the VIPs on `dev`; unicast when the spec lists peers). */
export function modelInstance(spec: VrrpInstanceSpec, dev = 'eth0', over: Partial<VrrpInstance> = {}): VrrpInstance {
  const family = spec.family;
  const unicast = spec.unicastPeers.length > 0;
  return {
    name: spec.name, state: spec.initialState, stateConfigured: false, interface: dev, interfaceExists: true,
    virtualRouterId: spec.vrid, priority: spec.priority, advertIntMs: spec.advertIntMs, version: spec.version, family,
    authentication: spec.authType === 1 ? { type: 'PASS', pass: spec.authPass ?? '' } : undefined,
    virtualIpaddresses: spec.vips.map((a) => modelVip(a, { dev })),
    virtualIpaddressesExcluded: spec.excludedVips.map((a) => modelVip(a, { dev })),
    virtualRoutes: [], virtualRules: [], trackInterfaces: [], trackScripts: [], trackFiles: [], trackProcesses: [], dontTrackPrimary: false,
    unicastPeers: spec.unicastPeers.map((p) => ({ ...p, family, loc: LOC })), unicast, unicastFaultNoPeer: false,
    unicastTtl: spec.unicastTtl, checkUnicastSrc: spec.checkUnicastSrc, mcastDstIp: unicast ? undefined : spec.mcastGroup,
    trackSrcIp: false, nopreempt: !spec.preempt, preemptDelayMs: spec.preemptDelayMs, accept: false, strictMode: false,
    skipCheckAdvAddr: spec.skipCheckAdvAddr,
    garpMasterDelayMs: spec.garp.masterDelayMs, garpMasterRepeat: spec.garp.masterRepeat,
    garpMasterRefreshMs: spec.garp.masterRefreshMs, garpMasterRefreshRepeat: spec.garp.masterRefreshRepeat,
    garpLowerPrioDelayMs: spec.garp.lowerPrioDelayMs, garpLowerPrioRepeat: spec.garp.lowerPrioRepeat,
    downTimerAdverts: spec.downTimerAdverts, lowerPrioNoAdvert: spec.lowerPrioNoAdvert, higherPrioSendAdvert: spec.higherPrioSendAdvert,
    promoteSecondaries: false, linkbeatUsePolling: false, vmacXmitBase: false, useVmacAddr: false, notify: {}, smtpAlert: false, notifyPriorityChanges: spec.notifyPriorityChanges, loc: LOC,
    ...over,
  };
}

/**
 * A plan for `spec` on interface `dev`: the model instance it comes from, the spec without its source address
 * (`configuredSrc` keeps it when given, as unicast_src_ip / mcast_src_ip would).
 */
export function instancePlan(
  spec: VrrpInstanceSpec,
  opts: { dev?: string; configuredSrc?: string; config?: Partial<VrrpInstance>; over?: Partial<InstancePlan> } = {},
): InstancePlan {
  const dev = opts.dev ?? 'eth0';
  const config = modelInstance(spec, dev, opts.config);
  const { primaryAddress: _p, ...rest } = spec;
  return {
    config, spec: rest, interface: dev, vips: [...config.virtualIpaddresses, ...config.virtualIpaddressesExcluded],
    configuredSrc: opts.configuredSrc, ttl: config.unicast ? spec.unicastTtl : 255,
    trackers: spec.trackers.map((t) => ({ spec: t })), notify: {}, addrVmacs: [], ...opts.over,
  };
}

/** A sync group of these members, no group-level trackers or notify scripts. */
export function groupPlan(name: string, members: string[]): GroupPlan {
  const config: VrrpSyncGroup = {
    name, group: members, trackInterfaces: [], trackScripts: [], trackFiles: [], trackProcesses: [], notify: {}, syncGroupTrackingWeight: false, loc: LOC,
  };
  return { config, members, notify: {}, trackers: [] };
}
