// vrrp_strict's firewall (keepalived 2.2.7 vrrp_nftables.c / vrrp_firewall.c): while an instance that does not
// accept packets to its VIPs (no_accept, the strict-mode default, and not the address owner) holds them, its VIPs
// are in the `vips` sets of our own nftables table, whose input/output chains drop traffic to and from them. This
// file decides the table's contents and writes the `nft -f` scripts that move the kernel from one state to the
// next, in keepalived's creation order (so `nft list ruleset` shows the same table). Pure: the shell runs the
// scripts and keeps the state.
// A VMAC (use_vmac, not use_ipvlan) needs the table too, strict or not (nft_add_vmac): the IGMP reports (MLD for
// IPv6) the kernel sends out of a VMAC leave from its parent instead (`dup to … device` the vmac_map's parent, then
// drop), so the virtual MAC never shows as a source in a switch's table, and IPv6 router solicitations from a VMAC
// are dropped.
import type { KeepalivedConfig, VirtualIp } from '../config/model/index.js';

export interface FirewallSettings {
  table: string;
  /** Hook priority of the base chains. */
  priority: number;
  counters: boolean;
  /** nftables_ifindex: link-local VIPs always keyed by interface index. */
  ifindex: boolean;
}

export type FirewallSetName = 'vips' | 'vips_link_local' | 'vips_link_local_name' | 'vmac_map';

/**
 * One element of one of our sets: a VIP, with its interface for link-local IPv6 ones; or in `vmac_map` a VMAC
 * (`address` is its name, `ifname` its parent's), IPv6 ones also in `vmac_set`.
 */
export interface FirewallElement {
  family: 4 | 6;
  set: FirewallSetName;
  address: string;
  ifname?: string;
}

/**
 * What our table holds (keepalived's ipv4_table_setup, ipv4_vips_setup, ipv4_igmp_setup … setup_ll_ifname flags
 * and the elements it added): t4/t6 the table with its out chain, v4/v6 the VIP chains and sets, igmp4/igmp6 the
 * VMAC map and rules.
 */
export interface FirewallState {
  t4: boolean;
  t6: boolean;
  v4: boolean;
  v6: boolean;
  igmp4: boolean;
  igmp6: boolean;
  linkLocal: boolean;
  linkLocalName: boolean;
  elements: ReadonlyMap<string, FirewallElement>;
}

export const emptyFirewall = (): FirewallState => ({ t4: false, t6: false, v4: false, v6: false, igmp4: false, igmp6: false, linkLocal: false, linkLocalName: false, elements: new Map() });

/** keepalived's accept mode: the address owner (255) or an `accept` instance takes packets to its VIPs. */
export function dropsVipTraffic(inst: { accept: boolean; priority: number }): boolean {
  return !inst.accept && inst.priority !== 255;
}

/**
 * The firewall this config runs with, or undefined when it needs none: `nftables` (or `vrrp_iptables`) names the
 * table; without it, an instance that drops VIP traffic makes keepalived use the table `keepalived` anyway.
 */
export function firewallSettings(cfg: KeepalivedConfig): FirewallSettings | undefined {
  const g = cfg.globalDefs;
  const needed = cfg.vrrpInstances.some((i) => !i.cannotRun && (dropsVipTraffic(i) || i.useVmac !== undefined));
  const table = g.nftablesTable ?? (needed ? 'keepalived' : undefined);
  if (table === undefined) return undefined;
  return { table, priority: g.nftablesPriority, counters: g.nftablesCounters, ifindex: g.nftablesIfindex };
}

const isLinkLocal6 = (a: string): boolean => /^fe[89ab][0-9a-f]:/i.test(a);

/**
 * The set elements of an instance's VIPs (virtual_ipaddress then _excluded). A link-local IPv6 VIP is keyed by
 * its interface: by name when the instance has dont_track_primary and the VIP is on its interface or no_track
 * (keepalived's vips_link_local_name, unless nftables_ifindex), else by index.
 */
export function vipElements(inst: { interface: string; config: { dontTrackPrimary: boolean } }, vips: readonly VirtualIp[], s: FirewallSettings): FirewallElement[] {
  return vips.map((v): FirewallElement => {
    if (v.family === 4) return { family: 4, set: 'vips', address: v.address };
    if (!isLinkLocal6(v.address)) return { family: 6, set: 'vips', address: v.address };
    const byName = !s.ifindex && inst.config.dontTrackPrimary && (v.dev === inst.interface || v.noTrack);
    return { family: 6, set: byName ? 'vips_link_local_name' : 'vips_link_local', address: v.address, ifname: v.dev };
  });
}

/**
 * The vmac_map elements of a VMAC (firewall_add_vmac): its family's, and the other family's too when the instance
 * has eVIPs of it. An ipvlan has none (keepalived adds none). disable_local_igmp, which would leave an IPv4 VMAC
 * out, is not supported yet.
 */
export function vmacElements(vmac: { ifname: string; base: string }, family: 4 | 6, otherFamily: boolean): FirewallElement[] {
  const fams: Array<4 | 6> = otherFamily ? [family, family === 4 ? 6 : 4] : [family];
  return fams.map((f) => ({ family: f, set: 'vmac_map', address: vmac.ifname, ifname: vmac.base }));
}

export const elementKey = (e: FirewallElement): string => `${e.family} ${e.set} ${e.address}${e.ifname ? ` ${e.ifname}` : ''}`;

const fam = (f: 4 | 6): string => (f === 4 ? 'ip' : 'ip6');
const quote = (s: string): string => JSON.stringify(s);
const elementText = (e: FirewallElement): string =>
  e.set === 'vmac_map' ? `${quote(e.address)} : ${quote(e.ifname!)}` : e.ifname ? `${e.address} . ${quote(e.ifname)}` : e.address;

/** The table with its out chain (nft_setup_ipv4 / nft_setup_ipv6). */
function baseChains(s: FirewallSettings, f: 4 | 6): string[] {
  const t = `${fam(f)} ${s.table}`;
  return [
    `add table ${t}`,
    `add chain ${t} out { type filter hook output priority ${s.priority}; policy accept; }`,
  ];
}

/**
 * nft_setup_igmp: the VMAC map (VMAC → parent) and the rule that sends an IGMP report (IPv6: MLDv2 report) leaving
 * a macvlan out of its parent instead; for IPv6 also the VMAC set and the rule dropping router solicitations.
 */
function setupIgmp(s: FirewallSettings, f: 4 | 6): string[] {
  const t = `${fam(f)} ${s.table}`;
  const c = s.counters ? 'counter ' : '';
  if (f === 4) {
    return [
      `add map ${t} vmac_map { type iface_index : iface_index; }`,
      `add rule ${t} out ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map ${c}drop`,
    ];
  }
  // keepalived matches meta l4proto (not the next header field), as written here.
  return [
    `add map ${t} vmac_map { type iface_index : iface_index; }`,
    `add set ${t} vmac_set { type iface_index; }`,
    `add rule ${t} out meta l4proto ipv6-icmp icmpv6 type mld2-listener-report meta oifkind "macvlan" dup to ip6 daddr device oif map @vmac_map ${c}drop`,
    `add rule ${t} out meta l4proto ipv6-icmp icmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set ${c}drop`,
  ];
}

/** The VIP chains and set for IPv4 (nft_setup_ipv4_vips). */
function setupV4(s: FirewallSettings): string[] {
  const t = `ip ${s.table}`;
  const c = s.counters ? 'counter ' : '';
  return [
    `add chain ${t} in { type filter hook input priority ${s.priority}; policy accept; }`,
    `add set ${t} vips { type ipv4_addr; }`,
    `add rule ${t} in ip daddr @vips ${c}drop`,
    `add rule ${t} out ip saddr @vips ${c}drop`,
  ];
}

/** The VIP chains and sets for IPv6 (nft_setup_ipv6_vips): neighbour discovery always passes. */
function setupV6(s: FirewallSettings): string[] {
  const t = `ip6 ${s.table}`;
  const c = s.counters ? 'counter ' : '';
  return [
    `add chain ${t} in { type filter hook input priority ${s.priority}; policy accept; }`,
    `add chain ${t} in_link_local`,
    `add chain ${t} out_link_local`,
    `add set ${t} vips { type ipv6_addr; }`,
    `add set ${t} neighbor-discovery { type icmpv6_type; flags constant; elements = { nd-neighbor-solicit, nd-neighbor-advert }; }`,
    // keepalived matches the next header field (not meta l4proto), as written here.
    `add rule ${t} in ip6 nexthdr icmpv6 icmpv6 type @neighbor-discovery ${c}accept`,
    `add rule ${t} in ip6 daddr fe80::/10 ${c}goto in_link_local`,
    `add rule ${t} out ip6 nexthdr icmpv6 icmpv6 type @neighbor-discovery ${c}accept`,
    `add rule ${t} out ip6 saddr fe80::/10 ${c}goto out_link_local`,
    `add rule ${t} in ip6 daddr @vips ${c}drop`,
    `add rule ${t} out ip6 saddr @vips ${c}drop`,
  ];
}

/** setup_link_local_checks: the set of link-local VIPs with their interface, and the rules that use it. */
function setupLinkLocal(s: FirewallSettings, byName: boolean): string[] {
  const t = `ip6 ${s.table}`;
  const c = s.counters ? 'counter ' : '';
  const set = byName ? 'vips_link_local_name' : 'vips_link_local';
  const [i, o] = byName ? ['iifname', 'oifname'] : ['iif', 'oif'];
  return [
    `add set ${t} ${set} { type ipv6_addr . ${byName ? 'ifname' : 'iface_index'}; }`,
    `add rule ${t} in_link_local ip6 daddr . ${i} @${set} ${c}drop`,
    `add rule ${t} out_link_local ip6 saddr . ${o} @${set} ${c}drop`,
  ];
}

const SET_ORDER: Array<[4 | 6, FirewallSetName]> = [[4, 'vmac_map'], [6, 'vmac_map'], [4, 'vips'], [6, 'vips'], [6, 'vips_link_local'], [6, 'vips_link_local_name']];

/**
 * The script that adds `add` and removes `remove` (keepalived's nft_update_addresses): the tables are set up the
 * first time a VIP of their family arrives (a table of our name left by an earlier run is deleted first, both
 * families, as check_and_delete_tables does), elements already present are not added twice and only present ones
 * are removed. Empty script when nothing changes. One script is one nftables transaction.
 */
export function firewallUpdate(s: FirewallSettings, st: FirewallState, add: readonly FirewallElement[], remove: readonly FirewallElement[]): { script: string; state: FirewallState } {
  const lines: string[] = [];
  const next = { ...st, elements: new Map(st.elements) };
  const adding: FirewallElement[] = [];
  for (const e of add) {
    const k = elementKey(e);
    if (next.elements.has(k) || adding.some((a) => elementKey(a) === k)) continue;
    if (!next.t4 && !next.t6) {
      for (const f of ['ip', 'ip6']) lines.push(`add table ${f} ${s.table}`, `delete table ${f} ${s.table}`);
    }
    if (e.family === 4 && !next.t4) { lines.push(...baseChains(s, 4)); next.t4 = true; }
    if (e.family === 6 && !next.t6) { lines.push(...baseChains(s, 6)); next.t6 = true; }
    if (e.set === 'vmac_map') {
      if (e.family === 4 && !next.igmp4) { lines.push(...setupIgmp(s, 4)); next.igmp4 = true; }
      if (e.family === 6 && !next.igmp6) { lines.push(...setupIgmp(s, 6)); next.igmp6 = true; }
      adding.push(e);
      continue;
    }
    if (e.family === 4 && !next.v4) { lines.push(...setupV4(s)); next.v4 = true; }
    if (e.family === 6 && !next.v6) { lines.push(...setupV6(s)); next.v6 = true; }
    if (e.set === 'vips_link_local' && !next.linkLocal) { lines.push(...setupLinkLocal(s, false)); next.linkLocal = true; }
    if (e.set === 'vips_link_local_name' && !next.linkLocalName) { lines.push(...setupLinkLocal(s, true)); next.linkLocalName = true; }
    adding.push(e);
  }
  const removing = remove.filter((e, i) => next.elements.has(elementKey(e)) && remove.findIndex((r) => elementKey(r) === elementKey(e)) === i);
  for (const [verb, list] of [['add', adding], ['delete', removing]] as const) {
    for (const [f, set] of SET_ORDER) {
      const these = list.filter((e) => e.family === f && e.set === set);
      if (!these.length) continue;
      lines.push(`${verb} element ${fam(f)} ${s.table} ${set} { ${these.map(elementText).join(', ')} }`);
      if (set === 'vmac_map' && f === 6) lines.push(`${verb} element ip6 ${s.table} vmac_set { ${these.map((e) => quote(e.address)).join(', ')} }`);
    }
  }
  for (const e of adding) next.elements.set(elementKey(e), e);
  for (const e of removing) next.elements.delete(elementKey(e));
  return { script: lines.length ? `${lines.join('\n')}\n` : '', state: next };
}

/** nft_cleanup on stop: our tables go, with everything in them. Empty when none was set up. */
export function firewallTeardown(s: FirewallSettings, st: FirewallState): string {
  const lines = [...(st.t4 ? [`delete table ip ${s.table}`] : []), ...(st.t6 ? [`delete table ip6 ${s.table}`] : [])];
  return lines.length ? `${lines.join('\n')}\n` : '';
}
