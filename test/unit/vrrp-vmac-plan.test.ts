// use_vmac from keepalived.conf to the plan: keepalived's VMAC names (vrrp.c create_vmac_name), the virtual router
// MAC, the VIPs moved onto the VMAC, and the config rules keepalived reports (vrrp_parser.c, vrrp.c).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/parse.js';
import { buildModel } from '../../src/config/model/index.js';
import { vrrpPlan, vmacName, vrrpMac } from '../../src/vrrp/plan.js';

function load(text: string) {
  const p = parseConfigText(text, 'vmac.conf', { configId: 'node1' });
  const model = buildModel(p.nodes, p.diags, { interfaces: null, hostname: 'node1' });
  return { plan: vrrpPlan(model, () => ({ uid: 0, gid: 0 })), errors: p.diags.list.filter((d) => d.severity === 'error').map((d) => d.message) };
}

const inst = (name: string, vrid: number, vip: string, extra = '') =>
  `vrrp_instance ${name} {\n interface eth0\n virtual_router_id ${vrid}\n priority 100\n ${extra}\n virtual_ipaddress {\n  ${vip}\n  192.0.2.9/32 dev eth1\n }\n}\n`;

test("VMAC names: vrrp.<vrid>, then vrrp1.<vrid> …; IPv6 tries vrrp6.<vrid> first; long prefixes are cut to fit", () => {
  assert.equal(vmacName('vrrp', 51, 4, new Set()), 'vrrp.51');
  assert.equal(vmacName('vrrp', 51, 4, new Set(['vrrp.51'])), 'vrrp1.51');
  assert.equal(vmacName('vrrp', 51, 6, new Set(['vrrp.51'])), 'vrrp6.51');
  assert.equal(vmacName('vrrp', 51, 6, new Set(['vrrp.51', 'vrrp6.51', 'vrrp1.51', 'vrrp2.51', 'vrrp3.51', 'vrrp4.51', 'vrrp5.51'])), 'vrrp7.51');
  assert.equal(vmacName('averyverylongprefix', 200, 4, new Set()), 'averyverylo.200');
  assert.equal(vrrpMac(51, 4), '00:00:5e:00:01:33');
  assert.equal(vrrpMac(10, 6), '00:00:5e:00:02:0a');
});

test('use_vmac: the VMAC plan, own-family VIPs of the interface on it, others where they were', () => {
  const { plan, errors } = load(inst('A', 51, '10.0.0.100/24', 'use_vmac') + inst('B', 51, 'fe80::100', 'use_vmac') + inst('C', 52, '10.0.0.101', 'use_vmac vmac52 02:11:22:33:44:55\n vmac_xmit_base'));
  assert.deepEqual(errors.filter((m) => /vmac/i.test(m)), []);
  const [a, b, c] = plan.instances;
  assert.deepEqual(a!.vmac, { ifname: 'vrrp.51', mac: '00:00:5e:00:01:33', base: 'eth0', xmitBase: false });
  assert.deepEqual(a!.vips.map((v) => `${v.address}@${v.dev}`), ['10.0.0.100@vrrp.51', '192.0.2.9@eth1']);
  assert.deepEqual(b!.vmac, { ifname: 'vrrp6.51', mac: '00:00:5e:00:02:33', base: 'eth0', xmitBase: false });
  assert.deepEqual(c!.vmac, { ifname: 'vmac52', mac: '02:11:22:33:44:55', base: 'eth0', xmitBase: true });
});

test("use_vmac config rules, with keepalived's messages", () => {
  const e1 = load(inst('A', 51, '10.0.0.100', 'vmac_xmit_base')).errors;
  assert.ok(e1.some((m) => m.includes('vmac_xmit_base is only valid with a vmac')), e1.join('; '));
  const e2 = load(inst('A', 51, '10.0.0.100', 'use_vmac 01:00:5e:00:00:01')).errors;
  assert.ok(e2.some((m) => m.includes('VMAC MAC address is multicast')), e2.join('; '));
  const e3 = load(inst('A', 51, '10.0.0.100', 'use_vmac 00:00:5e:00:01:33')).errors;
  assert.ok(e3.some((m) => m.includes('not allowed to be RFC5798 address')), e3.join('; '));
  const u = load(inst('A', 51, '10.0.0.100', 'use_vmac\n unicast_src_ip 10.0.0.1\n unicast_peer {\n 10.0.0.2\n }'));
  assert.ok(u.errors.some((m) => m.includes('unicast with use_vmac requires vmac_xmit_base - setting')), u.errors.join('; '));
  assert.equal(u.plan.instances[0]!.vmac?.xmitBase, true);
  const five = load(inst('A', 81, '10.0.0.100', 'use_vmac 02:00:00:00:01'));
  assert.equal(five.plan.instances[0]!.vmac?.mac, '02:00:00:00:01:51', 'five octets: the VRID is the sixth');
});

test('use_ipvlan: the ipvlan plan (name, flags, address), the VIPs left on the interface, its address the source', () => {
  const { plan, errors } = load(inst('A', 51, '10.0.0.100/24', 'use_ipvlan 10.0.0.5/24') + inst('B', 52, '10.0.0.101', 'use_ipvlan ipv52 private 10.0.0.6')
    + inst('C', 53, '10.0.0.102', 'use_ipvlan 10.0.0.7/24 vepa\n mcast_src_ip 10.0.0.1') + inst('D', 54, '10.0.0.103', 'use_vmac\n use_ipvlan 10.0.0.8/24'));
  assert.deepEqual(errors, []);
  const [a, b, c, d] = plan.instances;
  assert.deepEqual(a!.vmac, { ifname: 'vrrp.51', mac: '00:00:5e:00:01:33', base: 'eth0', xmitBase: false, ipvlan: { flags: 0, address: { address: '10.0.0.5', prefix: 24 } } });
  assert.deepEqual(a!.vips.map((v) => `${v.address}@${v.dev}`), ['10.0.0.100@eth0', '192.0.2.9@eth1'], 'keepalived 2.2.7 leaves the VIPs on the interface');
  assert.equal(a!.configuredSrc, '10.0.0.5');
  assert.deepEqual(b!.vmac?.ipvlan, { flags: 1, address: { address: '10.0.0.6', prefix: 32 } });
  assert.equal(b!.vmac?.ifname, 'ipv52');
  assert.equal(c!.vmac?.ipvlan?.flags, 2);
  assert.equal(c!.configuredSrc, '10.0.0.1', 'mcast_src_ip wins over the ipvlan address');
  assert.ok(d!.vmac?.ipvlan, 'use_vmac with use_ipvlan: the ipvlan (keepalived creates the ipvlan)');
  assert.deepEqual(d!.vips.map((v) => v.dev), ['vrrp.54', 'eth1'], 'use_vmac too: the VIPs go on it (VRRP_VMAC_BIT)');
});

test("use_ipvlan config rules, with keepalived's messages", () => {
  const none = load(inst('A', 51, '10.0.0.100', 'use_ipvlan'));
  assert.ok(none.errors.some((m) => m.includes('IPv4 ipvlan requires a source ip address to be configured. setting instance to fault state')), none.errors.join('; '));
  assert.equal(none.plan.instances.length, 0, 'keepalived keeps it in FAULT: it never runs');
  const fam = load(inst('A', 51, '10.0.0.100', 'use_ipvlan fe80::5/64'));
  assert.ok(fam.errors.some((m) => m.includes('ipvlan address[fe80::5/64] MUST match vrrp instance family !!! Skipping...')), fam.errors.join('; '));
  const twice = load(inst('A', 51, '10.0.0.100', 'use_ipvlan 10.0.0.5/24 bridge vepa 10.0.0.6\n use_ipvlan x'));
  assert.deepEqual(twice.errors, ["(A) ipvlan type already specified - ignoring 'vepa'", "(A) ipvlan address already specified - ignoring '10.0.0.6'", '(A) use_ipvlan already specified']);
  const long = load(inst('A', 51, '10.0.0.100', 'use_ipvlan 10.0.0.5/24 a-name-much-too-long'));
  assert.ok(long.errors.includes("(A) IPVLAN interface name 'a-name-much-too-long' too long - ignoring"), long.errors.join('; '));
  const promote = load(inst('A', 51, '10.0.0.100', 'use_ipvlan 10.0.0.5/24\n promote_secondaries'));
  assert.ok(promote.errors.some((m) => m.includes('promote_secondaries is automatically set for vmacs - ignoring')));
  const p = parseConfigText(inst('A', 51, 'fe80::100', 'use_ipvlan'), 'v6.conf', { configId: 'node1' });
  const m = buildModel(p.nodes, p.diags, { interfaces: null, hostname: 'node1' });
  assert.equal(m.vrrpInstances[0]!.useIpvlan, undefined, 'IPv6 use_ipvlan is not supported yet: the instance runs on its interface');
  assert.ok(p.diags.list.some((d) => d.code === 'not-supported' && d.message.includes('use_ipvlan on an IPv6 instance')));
  // An existing interface by the name: refused unless it is an l2 ipvlan (a killed run's).
  const named = (isL2Ipvlan: boolean) => {
    const q = parseConfigText(inst('A', 51, '10.0.0.100', 'use_ipvlan ipv51 10.0.0.5/24'), 'n.conf', { configId: 'node1' });
    const mm = buildModel(q.nodes, q.diags, { interfaces: new Set(['eth0', 'eth1', 'ipv51']), hostname: 'node1', isL2Ipvlan: () => isL2Ipvlan });
    return { name: mm.vrrpInstances[0]!.useIpvlan?.name, errors: q.diags.list.filter((d) => d.severity === 'error').map((d) => d.message) };
  };
  assert.deepEqual(named(true), { name: 'ipv51', errors: [] });
  assert.deepEqual(named(false), { name: undefined, errors: ['(A) interface ipv51 already exists and is not an l2 ipvlan; ignoring ipvlan if_name'] });
});

test('use_vmac_addr (keepalived 2.2.7 vrrp.c): a VMAC per other interface and per other family; own-family VIPs of the interface stay', () => {
  const text = 'vrrp_instance A {\n interface eth0\n virtual_router_id 51\n priority 100\n use_vmac_addr\n virtual_ipaddress {\n  10.0.0.100/24\n  10.1.0.100/24 dev eth1\n  10.1.0.101/24 dev eth1\n }\n virtual_ipaddress_excluded {\n  2001:db8::100/64\n }\n}\n';
  const { plan, errors } = load(text);
  assert.deepEqual(errors, []);
  const a = plan.instances[0]!;
  assert.equal(a.vmac, undefined);
  assert.deepEqual(a.addrVmacs, [
    { ifname: 'vrrp.51', mac: '00:00:5e:00:01:33', base: 'eth1', xmitBase: false, family: 4 },
    { ifname: 'vrrp6.51', mac: '00:00:5e:00:02:33', base: 'eth0', xmitBase: false, family: 6 },
  ]);
  assert.deepEqual(a.vips.map((v) => `${v.address}@${v.dev}`), ['10.0.0.100@eth0', '10.1.0.100@vrrp.51', '10.1.0.101@vrrp.51', '2001:db8::100@vrrp6.51']);
  const both = load(text.replace(' use_vmac_addr', ' use_vmac_addr\n use_vmac')).plan.instances[0]!;
  assert.equal(both.vmac?.ifname, 'vrrp.51', "the instance's VMAC first");
  assert.deepEqual(both.addrVmacs.map((v) => `${v.ifname}@${v.base}`), ['vrrp1.51@eth1', 'vrrp6.51@eth0']);
  assert.deepEqual(both.vips.map((v) => v.dev), ['vrrp.51', 'vrrp1.51', 'vrrp1.51', 'vrrp6.51']);
});

test('use_vmac on an address: a VMAC for it on its own interface, even the instance\'s; redundant ones reported as keepalived', () => {
  const text = (extra: string, opt: string) => `vrrp_instance A {\n interface eth0\n virtual_router_id 51\n priority 100\n${extra}\n virtual_ipaddress {\n  10.0.0.100/24\n  10.0.0.101/24 ${opt}\n  10.1.0.100/24 dev eth1 ${opt}\n }\n}\n`;
  const { plan, errors } = load(text('', 'use_vmac'));
  assert.deepEqual(errors, []);
  const a = plan.instances[0]!;
  assert.deepEqual(a.addrVmacs.map((v) => `${v.ifname}@${v.base}`), ['vrrp.51@eth0', 'vrrp1.51@eth1']);
  assert.deepEqual(a.vips.map((v) => `${v.address}@${v.dev}`), ['10.0.0.100@eth0', '10.0.0.101@vrrp.51', '10.1.0.100@vrrp1.51']);
  assert.deepEqual(load(text(' use_vmac', 'use_vmac')).errors, ['(A) use_vmac specified for VIP/eVIP 10.0.0.101 and vrrp instance']);
  assert.deepEqual(load(text(' use_vmac_addr', 'use_vmac')).errors, ['(A) use_vmac_addr specified and use_vmac specified for VIP/eVIP 10.1.0.100']);
});

test('keepalived 2.2.7 parser rules: a use_vmac / use_ipvlan name another instance gave is refused; use_vmac on a static address and track_group on a VIP are unknown entries', () => {
  const errors = (text: string) => { const r = load(text); return { errors: r.errors, vmacs: r.plan.instances.map((i) => i.vmac?.ifname) }; };
  assert.deepEqual(errors(inst('A', 51, '10.0.0.100', 'use_ipvlan ipv51 10.0.0.5/24') + inst('B', 52, '10.0.0.101', 'use_ipvlan ipv51 10.0.0.6/24')),
    { errors: ['(B) VRRP instance A is already using ipv51 - ignoring name'], vmacs: ['ipv51', 'vrrp.52'] });
  assert.deepEqual(errors(inst('A', 51, '10.0.0.100', 'use_vmac vm51') + inst('B', 52, '10.0.0.101', 'use_vmac vm51')),
    { errors: ['(B) VRRP instance A is already using vm51 - ignoring name'], vmacs: ['vm51', 'vrrp.52'] });
  assert.deepEqual(errors(inst('A', 51, '10.0.0.100') + 'static_ipaddress {\n 10.0.5.1/24 dev eth0 use_vmac\n}\n').errors,
    ["unknown configuration entry 'use_vmac' for ip address - ignoring"]);
  assert.deepEqual(errors(inst('A', 51, '10.0.0.100 track_group G')).errors,
    ["unknown configuration entry 'track_group' for ip address - ignoring", "unknown configuration entry 'G' for ip address - ignoring"]);
});
