// vrrp_strict's firewall (keepalived 2.2.7 vrrp_nftables.c / vrrp_firewall.c): while an instance that does not
// accept packets to its VIPs (no_accept, the strict-mode default, and not the address owner) holds them, its VIPs
// are in the `vips` sets of our own nftables table, whose input/output chains drop traffic to and from them. This
// file decides the table's contents and writes the `nft -f` scripts that move the kernel from one state to the
// next, in keepalived's creation order (so `nft list ruleset` shows the same table). Pure: the shell runs the
// scripts and keeps the state.
import type { KeepalivedConfig, VirtualIp } from '../config/model/index.js';

export interface FirewallSettings {
  table: string;
  /** Hook priority of the base chains. */
  priority: number;
  counters: boolean;
  /** nftables_ifindex: link-local VIPs always keyed by interface index. */
  ifindex: boolean;
}

export type FirewallSetName = 'vips' | 'vips_link_local' | 'vips_link_local_name';

/** One element of one of our sets: a VIP, with its interface for link-local IPv6 ones. */
export interface FirewallElement {
  family: 4 | 6;
  set: FirewallSetName;
  address: string;
  ifname?: string;
}

/** What our table holds (keepalived's ipv4_table_setup … setup_ll_ifname flags and the elements it added). */
export interface FirewallState {
  v4: boolean;
  v6: boolean;
  linkLocal: boolean;
  linkLocalName: boolean;
  elements: ReadonlyMap<string, FirewallElement>;
}

export const emptyFirewall = (): FirewallState => ({ v4: false, v6: false, linkLocal: false, linkLocalName: false, elements: new Map() });

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
  const needed = cfg.vrrpInstances.some((i) => !i.cannotRun && dropsVipTraffic(i));
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

export const elementKey = (e: FirewallElement): string => `${e.family} ${e.set} ${e.address}${e.ifname ? ` ${e.ifname}` : ''}`;

const fam = (f: 4 | 6): string => (f === 4 ? 'ip' : 'ip6');
const quote = (s: string): string => JSON.stringify(s);
const elementText = (e: FirewallElement): string => (e.ifname ? `${e.address} . ${quote(e.ifname)}` : e.address);

function baseChains(s: FirewallSettings, f: 4 | 6): string[] {
  const t = `${fam(f)} ${s.table}`;
  return [
    `add table ${t}`,
    `add chain ${t} out { type filter hook output priority ${s.priority}; policy accept; }`,
  ];
}

/** The table skeleton for IPv4 VIPs (nft_setup_ipv4 + nft_setup_ipv4_vips). */
function setupV4(s: FirewallSettings): string[] {
  const t = `ip ${s.table}`;
  const c = s.counters ? 'counter ' : '';
  return [
    ...baseChains(s, 4),
    `add chain ${t} in { type filter hook input priority ${s.priority}; policy accept; }`,
    `add set ${t} vips { type ipv4_addr; }`,
    `add rule ${t} in ip daddr @vips ${c}drop`,
    `add rule ${t} out ip saddr @vips ${c}drop`,
  ];
}

/** The table skeleton for IPv6 VIPs (nft_setup_ipv6 + nft_setup_ipv6_vips): neighbour discovery always passes. */
function setupV6(s: FirewallSettings): string[] {
  const t = `ip6 ${s.table}`;
  const c = s.counters ? 'counter ' : '';
  return [
    ...baseChains(s, 6),
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

const SET_ORDER: Array<[4 | 6, FirewallSetName]> = [[4, 'vips'], [6, 'vips'], [6, 'vips_link_local'], [6, 'vips_link_local_name']];

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
    if (!next.v4 && !next.v6) {
      for (const f of ['ip', 'ip6']) lines.push(`add table ${f} ${s.table}`, `delete table ${f} ${s.table}`);
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
      if (these.length) lines.push(`${verb} element ${fam(f)} ${s.table} ${set} { ${these.map(elementText).join(', ')} }`);
    }
  }
  for (const e of adding) next.elements.set(elementKey(e), e);
  for (const e of removing) next.elements.delete(elementKey(e));
  return { script: lines.length ? `${lines.join('\n')}\n` : '', state: next };
}

/** nft_cleanup on stop: our tables go, with everything in them. Empty when none was set up. */
export function firewallTeardown(s: FirewallSettings, st: FirewallState): string {
  const lines = [...(st.v4 ? [`delete table ip ${s.table}`] : []), ...(st.v6 ? [`delete table ip6 ${s.table}`] : [])];
  return lines.length ? `${lines.join('\n')}\n` : '';
}
