// keepalived 2.2.7's configuration faults (vrrp_complete_instance's num_config_faults, vrrp_vmac_handler), as the
// model builds them and the node runs them: unicast_fault_no_peer without peers (logged, -t passes, FAULT), use_vmac
// on a non-Ethernet interface (a config error, FAULT, no VMAC; the instance flags cleared, so unicast no longer
// spares it the multicast check), a use_vmac name held by an interface that is not a private macvlan (ignored: the
// default name is used). A config-faulted instance enters FAULT without a state line, notify_fault runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/parse.js';
import { ModelBuilder } from '../../src/config/model/build.js';
import type { ModelEnv } from '../../src/config/model/values.js';
import { exitCodeFor } from '../../src/config/diagnostics.js';
import { VrrpNode } from '../../src/vrrp/node.js';
import { simPlan } from '../sim/simulator.js';

function model(extra: string, env: Partial<ModelEnv> = {}, iface = 'eth0') {
  const text = `vrrp_instance VI_1 {\n interface ${iface}\n virtual_router_id 51\n priority 150\n virtual_ipaddress {\n  10.0.0.100/24\n }\n${extra}}\n`;
  const b = new ModelBuilder({ interfaces: new Set(['lo', 'eth0', 'tun0', 'veth9']), hostname: 'node1', ...env });
  const p = parseConfigText(text, 'test.conf', { configId: 'node1' }, (n) => b.add(n));
  const m = b.finish(p.diags);
  const of = (sev: string) => p.diags.list.filter((d) => d.severity === sev).map((d) => d.message);
  return { inst: m.vrrpInstances[0]!, errors: of('error'), warnings: of('warning'), notices: of('notice'), exit: exitCodeFor(p.diags.list) };
}

test('unicast_fault_no_peer without peers: a notice (keepalived logs it at INFO, -t exits 0) and a config fault', () => {
  const m = model(' unicast_fault_no_peer\n');
  assert.deepEqual(m.notices, ['(VI_1) Cannot use unicast without any peers - going to fault state']);
  assert.deepEqual([m.errors, m.exit], [[], 0]);
  assert.equal(m.inst.configFault, 'unicast without any peers');
  assert.equal(m.inst.unicast, false);
  const peers = model(' unicast_fault_no_peer\n unicast_peer {\n  10.0.0.2\n }\n');
  assert.deepEqual([peers.notices, peers.inst.configFault, peers.inst.unicast], [[], undefined, true]);
  // Without the keyword, a unicast keyword alone falls back to multicast (deprecated), no fault.
  const fallback = model(' unicast_src_ip 10.0.0.1\n');
  assert.equal(fallback.inst.configFault, undefined);
  assert.match(fallback.warnings.join('\n'), /without any unicast peers. Defaulting to multicast/);
});

test('use_vmac / use_ipvlan on a non-Ethernet interface: the config error, exit 5, a config fault, no VMAC', () => {
  const isEthernet = (n: string) => n !== 'tun0';
  const vmac = model(' use_vmac\n vmac_xmit_base\n', { isEthernet }, 'tun0');
  assert.deepEqual(vmac.errors, ['(VI_1): vmacs are only supported on Ethernet type interfaces']);
  assert.equal(vmac.exit, 5);
  assert.deepEqual([vmac.inst.useVmac, vmac.inst.vmacXmitBase], [undefined, false]);
  assert.match(vmac.inst.configFault ?? '', /vmacs are only supported on Ethernet type interfaces/);
  const ipvlan = model(' use_ipvlan 10.0.0.5/24\n', { isEthernet }, 'tun0');
  assert.deepEqual([ipvlan.errors, ipvlan.inst.useIpvlan], [['(VI_1): vmacs are only supported on Ethernet type interfaces'], undefined]);
  assert.equal(model(' use_vmac\n', { isEthernet }).errors.length, 0, 'an Ethernet parent is fine');
  // keepalived clears every flag, unicast included: on an interface without multicast the multicast check fires too.
  const both = model(' use_vmac\n unicast_src_ip 10.0.0.1\n vmac_xmit_base\n unicast_peer {\n  10.0.0.2\n }\n', { isEthernet, hasMulticast: (n) => n !== 'tun0' }, 'tun0');
  assert.deepEqual(both.errors, [
    '(VI_1): vmacs are only supported on Ethernet type interfaces',
    '(VI_1) interface tun0 does not support multicast, specify unicast peers - disabling',
  ]);
});

test('a use_vmac name held by an interface that is not a private macvlan: ignored, the default name is used', () => {
  const named = (isPrivateMacvlan: boolean) => model(' use_vmac veth9\n', { isPrivateMacvlan: () => isPrivateMacvlan });
  const veth = named(false);
  assert.deepEqual(veth.errors, ['(VI_1) interface veth9 already exists and is not a private macvlan; ignoring vmac if_name']);
  assert.equal(veth.exit, 5);
  assert.equal(veth.inst.useVmac?.name, undefined, 'the VMAC gets vrrp.<vrid>');
  assert.equal(veth.inst.configFault, undefined, 'the instance runs');
  const leftover = named(true);
  assert.deepEqual([leftover.errors, leftover.inst.useVmac?.name], [[], 'veth9'], "a leftover VMAC (a killed run's) is reused");
  assert.deepEqual(model(' use_vmac vmx51\n').errors, [], 'a name no interface has is fine');
});

test('node: a config-faulted instance enters FAULT without a state line; notify_fault runs', () => {
  const plan = simPlan({ id: 'd', instances: [{ name: 'VI_1', vrid: 51, priority: 150, primaryAddress: '10.0.0.1', vips: ['10.0.0.100'] }] });
  plan.instances[0]!.config.configFault = 'unicast without any peers';
  const node = new VrrpNode(plan);
  node.handle({ type: 'interface', facts: { name: 'eth0', ifindex: 2, up: true, ipv4: ['10.0.0.1'], ipv6LinkLocal: [] } }, 0);
  const effects = [...node.handle({ type: 'start' }, 0)];
  assert.deepEqual(effects.filter((e) => e.type === 'state-changed').map((e) => e.type === 'state-changed' && e.to), ['FAULT']);
  assert.deepEqual(effects.filter((e) => e.type === 'notify').map((e) => e.type === 'notify' && e.state), ['FAULT']);
  assert.deepEqual(effects.filter((e) => e.type === 'log' && /Entering/.test(e.msg)), [], 'no "Entering FAULT STATE (init)"');

  // Another fault at start (the interface down) still logs its line.
  const down = new VrrpNode(simPlan({ id: 'd', instances: [{ name: 'VI_1', vrid: 51, priority: 150, primaryAddress: '10.0.0.1', vips: ['10.0.0.100'] }] }));
  down.handle({ type: 'interface', facts: { name: 'eth0', ifindex: 2, up: false, ipv4: ['10.0.0.1'], ipv6LinkLocal: [] } }, 0);
  assert.ok(down.handle({ type: 'start' }, 0).some((e) => e.type === 'log' && e.msg === '(VI_1) Entering FAULT STATE (init)'));
});
