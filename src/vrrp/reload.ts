// Reload planning, pure: which running instances the new configuration keeps (matched the way keepalived matches
// them, vrrp.c vrrp_exist()/vrrp_reload_matches(): NOT by name), which it removes and which it adds, and per kept
// instance which addresses change. The shell (shell.ts reload()) applies the result.
import type { VirtualIp, VirtualRoute, VirtualRule } from '../config/model/index.js';
import type { InstancePlan, VrrpPlan } from './plan.js';
import { masterDownOf, type InstanceState } from './machine.js';
import type { VrrpState } from './spec.js';
import { describeRoute, describeRule } from './routes.js';

/**
 * keepalived's reload identity of an instance: vrid, address family, configured interface, unicast flag and
 * unicast source, multicast destination. Two instances with the same identity are "the same router" across a
 * reload even when renamed; anything else about them (priority, VIPs, timers, trackers, notifies) may change.
 * use_vmac is part of it too (keepalived compares the VMAC flag; the VMAC's name here, since it names the interface
 * the VIPs live on).
 */
export function instanceIdentity(p: Pick<InstancePlan, 'interface' | 'configuredSrc'> & { vmac?: Pick<NonNullable<InstancePlan['vmac']>, 'ifname'> } & { config: Pick<InstancePlan['config'], 'family' | 'unicast'>; spec: Pick<InstancePlan['spec'], 'vrid' | 'mcastGroup'> }): string {
  const unicastPart = p.config.unicast ? `unicast:${p.configuredSrc ?? ''}` : `mcast:${p.spec.mcastGroup}`;
  return `${p.spec.vrid}|${p.config.family}|${p.interface}|${unicastPart}${p.vmac ? `|vmac:${p.vmac.ifname}` : ''}`;
}

export interface InstanceMatch {
  /** Pairs (old, new) that are the same router: state carries over. */
  kept: Array<{ old: InstancePlan; next: InstancePlan }>;
  /** Running instances the new config no longer has: they send priority 0 and notify DELETED/FAULT. */
  removed: InstancePlan[];
  /** New instances: they start from INIT. */
  added: InstancePlan[];
}

/** Matches old and new instance plans by identity. A duplicate identity in the new plan matches only once. */
export function matchInstances(oldPlans: readonly InstancePlan[], newPlans: readonly InstancePlan[]): InstanceMatch {
  const byId = new Map<string, InstancePlan>();
  for (const o of oldPlans) if (!byId.has(instanceIdentity(o))) byId.set(instanceIdentity(o), o);
  const kept: InstanceMatch['kept'] = [];
  const added: InstancePlan[] = [];
  for (const n of newPlans) {
    const id = instanceIdentity(n);
    const o = byId.get(id);
    if (o) {
      kept.push({ old: o, next: n });
      byId.delete(id);
    } else added.push(n);
  }
  const keptOld = new Set(kept.map((k) => k.old));
  return { kept, removed: oldPlans.filter((o) => !keptOld.has(o)), added };
}

/** The kernel identity of an added address: the same address on the same device with the same prefix and peer. */
export function vipKey(v: Pick<VirtualIp, 'address' | 'prefix' | 'dev' | 'peer'>): string {
  return `${v.address}/${v.prefix}@${v.dev}${v.peer ? `peer ${v.peer}` : ''}`;
}

export interface VipDiff {
  /** Addresses to add (new in the config). */
  add: VirtualIp[];
  /** Addresses to delete (gone from the config, or changed prefix/device/peer). */
  remove: VirtualIp[];
  /** Addresses present before and after: left alone, so they never flap. */
  keep: VirtualIp[];
}

/** Which addresses a MASTER must add and delete when its VIP lists change. */
export function diffVips(oldVips: readonly VirtualIp[], newVips: readonly VirtualIp[]): VipDiff {
  const oldKeys = new Map(oldVips.map((v) => [vipKey(v), v]));
  const newKeys = new Set(newVips.map(vipKey));
  return {
    add: newVips.filter((v) => !oldKeys.has(vipKey(v))),
    remove: oldVips.filter((v) => !newKeys.has(vipKey(v))),
    keep: newVips.filter((v) => oldKeys.has(vipKey(v))),
  };
}

/**
 * The state a kept instance continues with: everything the running instance learnt (state, master, timers,
 * faults, effective priority) with the new spec. A MASTER sends an advert at once (keepalived's reload_master)
 * so peers see the new priority/VIP list without waiting an interval; its notify does not run again.
 */
export function carryOverState(
  old: InstanceState,
  nextSpec: Omit<InstanceState['spec'], 'primaryAddress'>,
  now: number,
  /** The source address now in use (mcast_src_ip may change across a reload); default: the old one. */
  primaryAddress = old.spec.primaryAddress,
): InstanceState {
  const spec = { ...nextSpec, primaryAddress };
  // A new priority of 255 makes the instance the address owner now (its trackers no longer move it).
  const owner = spec.priority === 255;
  const st: InstanceState = { ...old, spec, effectivePriority: owner ? 255 : old.effectivePriority };
  if (old.state === 'MASTER') return { ...st, advertAt: now, masterAdverIntMs: spec.advertIntMs };
  if (old.state === 'BACKUP') {
    // keepalived restarts a backup's timers from the new configuration: its own advert interval, and a fresh
    // master-down (an owner takes over at once, as at start).
    const fresh = { ...st, masterAdverIntMs: spec.advertIntMs };
    return { ...fresh, wantState: owner ? 'MASTER' : fresh.wantState, downAt: now + (owner ? 0.001 : masterDownOf(fresh)) };
  }
  return st;
}

/**
 * What a MASTER kept by a reload changes in the kernel (keepalived clear_diff_vrrp, then restore_vrrp_state): the
 * rules, routes and addresses the new config no longer has go, in that order; the new ones are added. Entries
 * present before and after are left alone, so they never flap.
 */
export interface MasterReloadDiff {
  removeRules: string[];
  removeRoutes: string[];
  removeVips: VirtualIp[];
  addVips: VirtualIp[];
  addRoutes: VirtualRoute[];
  addRules: VirtualRule[];
}

export function masterReloadDiff(old: InstancePlan, next: InstancePlan): MasterReloadDiff {
  const vips = diffVips(old.vips, next.vips);
  const keyed = <T>(oldList: readonly T[], newList: readonly T[], key: (x: T) => string) => {
    const oldKeys = new Set(oldList.map(key));
    const newKeys = new Set(newList.map(key));
    return { gone: [...oldKeys].filter((k) => !newKeys.has(k)), added: newList.filter((x) => !oldKeys.has(key(x))) };
  };
  const routes = keyed(old.config.virtualRoutes, next.config.virtualRoutes, describeRoute);
  const rules = keyed(old.config.virtualRules, next.config.virtualRules, describeRule);
  return { removeRules: rules.gone, removeRoutes: routes.gone, removeVips: vips.remove, addVips: vips.add, addRoutes: routes.added, addRules: rules.added };
}

/** Identity of a static entry across reloads: its config line (addresses: interface, address and prefix). */
export const staticKey = {
  addresses: (v: VirtualIp): string => `${v.dev} ${v.address}/${v.prefix}`,
  routes: (r: VirtualRoute): string => describeRoute(r),
  rules: (r: VirtualRule): string => describeRule(r),
};

export type StaticKind = keyof typeof staticKey;
export type StaticKeys = Record<StaticKind, ReadonlySet<string>>;

/**
 * What a reload does to static_ipaddress / static_routes / static_rules (keepalived clear_diff_static_*): entries
 * this process holds that the new config dropped are removed; configured entries it does not hold are added.
 */
export function staticsDiff(held: StaticKeys, next: VrrpPlan['statics']): Record<StaticKind, { add: string[]; remove: string[] }> {
  const one = <T>(kind: StaticKind, list: readonly T[], key: (x: T) => string) => {
    const want = new Set(list.map(key));
    return { add: [...want].filter((k) => !held[kind].has(k)), remove: [...held[kind]].filter((k) => !want.has(k)) };
  };
  return {
    addresses: one('addresses', next.addresses, staticKey.addresses),
    routes: one('routes', next.routes, staticKey.routes),
    rules: one('rules', next.rules, staticKey.rules),
  };
}

/**
 * What a SIGHUP with `next` would do to this VRRP process, computed with the functions the reload itself runs
 * (matchInstances, masterReloadDiff, staticsDiff): the instances kept (renamed ones with their old name), removed
 * (a MASTER gives up its addresses, routes and rules) and added (they start in INIT, so they add nothing at once),
 * each kept MASTER's kernel diff, and the static entries' diff. `stateOf` gives a running instance's state.
 */
export interface VrrpReloadPlan {
  kept: Array<{ instance: string; was?: string; state: VrrpState }>;
  removed: Array<{ instance: string; state: VrrpState; releases?: { vips: VirtualIp[]; routes: string[]; rules: string[] } }>;
  added: string[];
  /** Instances the new config has that keepalived would not run, with the reason. */
  skipped: Array<{ name: string; reason: string }>;
  masters: Array<{ instance: string } & MasterReloadDiff>;
  statics: Record<StaticKind, { add: string[]; remove: string[] }>;
}

export function planVrrpReload(current: VrrpPlan, stateOf: (name: string) => VrrpState, next: VrrpPlan, heldStatics: StaticKeys): VrrpReloadPlan {
  const match = matchInstances(current.instances, next.instances);
  const plan: VrrpReloadPlan = { kept: [], removed: [], added: match.added.map((p) => p.config.name), skipped: [...next.skipped], masters: [], statics: staticsDiff(heldStatics, next.statics) };
  for (const { old, next: n } of match.kept) {
    const state = stateOf(old.config.name);
    plan.kept.push({ instance: n.config.name, ...(old.config.name !== n.config.name ? { was: old.config.name } : {}), state });
    if (state !== 'MASTER') continue;
    const d = masterReloadDiff(old, n);
    if (d.removeRules.length + d.removeRoutes.length + d.removeVips.length + d.addVips.length + d.addRoutes.length + d.addRules.length)
      plan.masters.push({ instance: n.config.name, ...d });
  }
  for (const o of match.removed) {
    const state = stateOf(o.config.name);
    plan.removed.push({
      instance: o.config.name, state,
      ...(state === 'MASTER' ? { releases: { vips: o.vips, routes: o.config.virtualRoutes.map(describeRoute), rules: o.config.virtualRules.map(describeRule) } } : {}),
    });
  }
  return plan;
}
