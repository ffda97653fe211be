// vrrp_strict's firewall core (src/vrrp/firewall.ts): which config needs a table, the settings keepalived reads
// from global_defs, the set each VIP lands in, and the nft scripts in keepalived's creation order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build, VI } from '../helpers/model.js';
import {
  emptyFirewall, firewallSettings, firewallTeardown, firewallUpdate, vipElements, vmacElements, type FirewallSettings,
} from '../../src/vrrp/firewall.js';
import type { VirtualIp } from '../../src/config/model/index.js';

const S: FirewallSettings = { table: 'keepalived', priority: -1, counters: false, ifindex: false };
const vip = (address: string, dev = 'eth0', noTrack = false): VirtualIp =>
  ({ address, family: address.includes(':') ? 6 : 4, prefix: 32, dev, scope: 0, home: false, noDad: false, mngtmpaddr: false,
    noprefixroute: false, autojoin: false, noTrack, useVmac: false, loc: { file: 't', line: 1, col: 1 } }) as VirtualIp;
const inst = (dontTrackPrimary = false) => ({ interface: 'eth0', config: { dontTrackPrimary } });

test('settings: vrrp_strict alone uses table keepalived at priority -1; nftables names it; accept/owner need none', () => {
  const strict = build(`global_defs {\n vrrp_strict\n}\n${VI('  version 3')}`).model;
  assert.deepEqual(firewallSettings(strict), S);
  assert.equal(firewallSettings(build(VI()).model), undefined, 'no strict, accept by default: no table');
  assert.equal(firewallSettings(build(`global_defs {\n vrrp_strict\n}\n${VI('  version 3\n  accept')}`).model), undefined);
  assert.equal(firewallSettings(build(`global_defs {\n vrrp_strict\n}\n${VI('  priority 255\n  state MASTER')}`).model), undefined, 'the address owner accepts');
  assert.deepEqual(firewallSettings(build(VI('  no_accept')).model), S, 'no_accept without strict');
  const named = build(`global_defs {\n nftables_priority 7\n nftables fw\n nftables_counters\n nftables_ifindex\n}\n${VI()}`).model;
  assert.deepEqual(firewallSettings(named), { table: 'fw', priority: -1, counters: true, ifindex: true }, 'nftables resets an earlier priority, as keepalived');
  const prio = build(`global_defs {\n nftables\n nftables_priority -7\n}\n${VI()}`).model;
  assert.deepEqual(firewallSettings(prio), { ...S, priority: -7 }, 'a table is named even with every instance accepting');
});

test('config verdicts: keepalived 2.2.7 as Debian builds it (nftables, no iptables/ipset)', () => {
  const g = (l: string) => build(`global_defs {\n ${l}\n}\n${VI()}`).golden;
  assert.deepEqual(g('vrrp_iptables IN OUT'), ['error not-built @2']);
  assert.equal(build(`global_defs {\n vrrp_iptables\n}\n${VI()}`).model.globalDefs.nftablesTable, 'keepalived');
  assert.deepEqual(g('vrrp_ipsets'), ['error unknown-keyword @2']);
  assert.deepEqual(g('nftables a\n nftables b'), ['error duplicate @3']);
  assert.deepEqual(g(`nftables ${'x'.repeat(256)}`), ['error invalid-value @2']);
  assert.deepEqual(g('nftables_priority x'), ['error invalid-number @2']);
  assert.deepEqual(g('nftables_priority'), ['error missing-parameter @2']);
  assert.deepEqual(g('nftables_counters\n nftables_ifindex\n nftables t'), []);
});

test('elements: IPv4 and global IPv6 VIPs by address, link-local ones with their interface (by name with dont_track_primary)', () => {
  const v = [vip('10.0.0.1'), vip('fd00::1'), vip('fe80::1'), vip('fe80::2', 'eth1'), vip('fe80::3', 'eth1', true)];
  assert.deepEqual(vipElements(inst(), v, S).map((e) => `${e.set} ${e.address} ${e.ifname ?? ''}`.trim()),
    ['vips 10.0.0.1', 'vips fd00::1', 'vips_link_local fe80::1 eth0', 'vips_link_local fe80::2 eth1', 'vips_link_local fe80::3 eth1']);
  assert.deepEqual(vipElements(inst(true), v, S).map((e) => e.set),
    ['vips', 'vips', 'vips_link_local_name', 'vips_link_local', 'vips_link_local_name'], 'on the instance interface or no_track: by name');
  assert.deepEqual(vipElements(inst(true), v, { ...S, ifindex: true }).map((e) => e.set),
    ['vips', 'vips', 'vips_link_local', 'vips_link_local', 'vips_link_local'], 'nftables_ifindex: always by index');
});

test('first IPv4 VIP: leftover tables of our name deleted, the table set up, then the elements; once only', () => {
  const a = firewallUpdate(S, emptyFirewall(), vipElements(inst(), [vip('10.0.0.1'), vip('10.0.0.2')], S), []);
  assert.equal(a.script, [
    'add table ip keepalived', 'delete table ip keepalived', 'add table ip6 keepalived', 'delete table ip6 keepalived',
    'add table ip keepalived',
    'add chain ip keepalived out { type filter hook output priority -1; policy accept; }',
    'add chain ip keepalived in { type filter hook input priority -1; policy accept; }',
    'add set ip keepalived vips { type ipv4_addr; }',
    'add rule ip keepalived in ip daddr @vips drop',
    'add rule ip keepalived out ip saddr @vips drop',
    'add element ip keepalived vips { 10.0.0.1, 10.0.0.2 }', '',
  ].join('\n'));
  const again = firewallUpdate(S, a.state, vipElements(inst(), [vip('10.0.0.2'), vip('10.0.0.3')], S), []);
  assert.equal(again.script, 'add element ip keepalived vips { 10.0.0.3 }\n', 'table kept, only the new element');
  const gone = firewallUpdate(S, again.state, [], vipElements(inst(), [vip('10.0.0.1'), vip('10.0.0.1'), vip('10.9.9.9')], S));
  assert.equal(gone.script, 'delete element ip keepalived vips { 10.0.0.1 }\n', 'only present elements are deleted, once');
  assert.equal(firewallUpdate(S, gone.state, [], []).script, '');
  assert.equal(firewallTeardown(S, gone.state), 'delete table ip keepalived\n');
  assert.equal(firewallTeardown(S, emptyFirewall()), '');
});

test('IPv6: neighbour discovery passes, link-local VIPs go through their chains; counters on every rule', () => {
  const s = { ...S, table: 'fw', priority: -5, counters: true };
  const r = firewallUpdate(s, { ...emptyFirewall(), t4: true, v4: true }, vipElements(inst(true), [vip('fe80::1'), vip('fd00::1'), vip('fe80::2', 'eth1')], s), []);
  assert.equal(r.script, [
    'add table ip6 fw',
    'add chain ip6 fw out { type filter hook output priority -5; policy accept; }',
    'add chain ip6 fw in { type filter hook input priority -5; policy accept; }',
    'add chain ip6 fw in_link_local',
    'add chain ip6 fw out_link_local',
    'add set ip6 fw vips { type ipv6_addr; }',
    'add set ip6 fw neighbor-discovery { type icmpv6_type; flags constant; elements = { nd-neighbor-solicit, nd-neighbor-advert }; }',
    'add rule ip6 fw in ip6 nexthdr icmpv6 icmpv6 type @neighbor-discovery counter accept',
    'add rule ip6 fw in ip6 daddr fe80::/10 counter goto in_link_local',
    'add rule ip6 fw out ip6 nexthdr icmpv6 icmpv6 type @neighbor-discovery counter accept',
    'add rule ip6 fw out ip6 saddr fe80::/10 counter goto out_link_local',
    'add rule ip6 fw in ip6 daddr @vips counter drop',
    'add rule ip6 fw out ip6 saddr @vips counter drop',
    'add set ip6 fw vips_link_local_name { type ipv6_addr . ifname; }',
    'add rule ip6 fw in_link_local ip6 daddr . iifname @vips_link_local_name counter drop',
    'add rule ip6 fw out_link_local ip6 saddr . oifname @vips_link_local_name counter drop',
    'add set ip6 fw vips_link_local { type ipv6_addr . iface_index; }',
    'add rule ip6 fw in_link_local ip6 daddr . iif @vips_link_local counter drop',
    'add rule ip6 fw out_link_local ip6 saddr . oif @vips_link_local counter drop',
    'add element ip6 fw vips { fd00::1 }',
    'add element ip6 fw vips_link_local { fe80::2 . "eth1" }',
    'add element ip6 fw vips_link_local_name { fe80::1 . "eth0" }', '',
  ].join('\n'), 'no leftover deletion: the IPv4 table was already set up');
  assert.equal(firewallTeardown(s, r.state), 'delete table ip fw\ndelete table ip6 fw\n');
});

test('VMACs (nft_add_vmac): use_vmac needs the table even without strict; IGMP/MLD reports go out of the parent; RS dropped', () => {
  assert.deepEqual(firewallSettings(build(VI('  use_vmac')).model), S, 'use_vmac alone: table keepalived');
  assert.equal(firewallSettings(build(VI('  use_ipvlan 10.0.0.5/24')).model), undefined, 'an ipvlan needs none');
  assert.deepEqual(vmacElements({ ifname: 'vrrp.51', base: 'eth0' }, 4, false), [{ family: 4, set: 'vmac_map', address: 'vrrp.51', ifname: 'eth0' }]);
  assert.deepEqual(vmacElements({ ifname: 'vrrp.51', base: 'eth0' }, 4, true).map((e) => e.family), [4, 6], 'eVIPs of the other family: both maps');
  const a = firewallUpdate(S, emptyFirewall(), [...vmacElements({ ifname: 'vrrp.51', base: 'eth0' }, 4, false), ...vmacElements({ ifname: 'vrrp.52', base: 'eth0' }, 6, false)], []);
  assert.equal(a.script, [
    'add table ip keepalived', 'delete table ip keepalived', 'add table ip6 keepalived', 'delete table ip6 keepalived',
    'add table ip keepalived',
    'add chain ip keepalived out { type filter hook output priority -1; policy accept; }',
    'add map ip keepalived vmac_map { type iface_index : iface_index; }',
    'add rule ip keepalived out ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map drop',
    'add table ip6 keepalived',
    'add chain ip6 keepalived out { type filter hook output priority -1; policy accept; }',
    'add map ip6 keepalived vmac_map { type iface_index : iface_index; }',
    'add set ip6 keepalived vmac_set { type iface_index; }',
    'add rule ip6 keepalived out meta l4proto ipv6-icmp icmpv6 type mld2-listener-report meta oifkind "macvlan" dup to ip6 daddr device oif map @vmac_map drop',
    'add rule ip6 keepalived out meta l4proto ipv6-icmp icmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set drop',
    'add element ip keepalived vmac_map { "vrrp.51" : "eth0" }',
    'add element ip6 keepalived vmac_map { "vrrp.52" : "eth0" }',
    'add element ip6 keepalived vmac_set { "vrrp.52" }', '',
  ].join('\n'));
  // A VIP later: the table and its out chain are there, only the VIP part is set up.
  const b = firewallUpdate(S, a.state, [...a.state.elements.values(), ...vipElements(inst(), [vip('10.0.0.1')], S)], []);
  assert.equal(b.script, [
    'add chain ip keepalived in { type filter hook input priority -1; policy accept; }',
    'add set ip keepalived vips { type ipv4_addr; }',
    'add rule ip keepalived in ip daddr @vips drop',
    'add rule ip keepalived out ip saddr @vips drop',
    'add element ip keepalived vips { 10.0.0.1 }', '',
  ].join('\n'));
  const c = firewallUpdate(S, b.state, [], vmacElements({ ifname: 'vrrp.52', base: 'eth0' }, 6, false));
  assert.equal(c.script, 'delete element ip6 keepalived vmac_map { "vrrp.52" : "eth0" }\ndelete element ip6 keepalived vmac_set { "vrrp.52" }\n');
  assert.equal(firewallTeardown(S, c.state), 'delete table ip keepalived\ndelete table ip6 keepalived\n');
});
