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
