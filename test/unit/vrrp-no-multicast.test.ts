// An interface without IFF_MULTICAST (`ip link set dev X multicast off`), as keepalived 2.2.7's
// vrrp_complete_instance handles it: a multicast instance on it is reported ("(VI_1) interface eth0 does not support
// multicast, specify unicast peers - disabling", -t exit 5) and kept in FAULT for as long as that configuration is
// loaded (num_config_faults); an instance with unicast peers runs. A reload checks again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/parse.js';
import { ModelBuilder } from '../../src/config/model/build.js';
import { exitCodeFor } from '../../src/config/diagnostics.js';
import { VrrpNode } from '../../src/vrrp/node.js';
import type { VrrpPlan } from '../../src/vrrp/plan.js';
import { simPlan } from '../sim/simulator.js';

function model(extra: string, multicast: boolean) {
  const text = `vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 150\n virtual_ipaddress {\n  10.0.0.100/24\n }\n${extra}}\n`;
  const b = new ModelBuilder({ interfaces: new Set(['lo', 'eth0']), hostname: 'node1', hasMulticast: (n) => n !== 'eth0' || multicast });
  const p = parseConfigText(text, 'test.conf', { configId: 'node1' }, (n) => b.add(n));
  const m = b.finish(p.diags);
  return { inst: m.vrrpInstances[0]!, errors: p.diags.list.filter((d) => d.severity !== 'notice').map((d) => d.message), exit: exitCodeFor(p.diags.list) };
}

test('config: a multicast instance on an interface without multicast is reported and faulted; unicast peers are fine', () => {
  const off = model('', false);
  assert.deepEqual(off.errors, ['(VI_1) interface eth0 does not support multicast, specify unicast peers - disabling']);
  assert.equal(off.exit, 5, "keepalived -t's exit code");
  assert.equal(off.inst.configFault, 'interface eth0 does not support multicast');
  assert.equal(off.inst.cannotRun, undefined, 'the instance runs (in FAULT), as keepalived keeps it');
  const uni = model(' unicast_peer {\n  10.0.0.2\n }\n', false);
  assert.deepEqual([uni.errors, uni.inst.configFault], [[], undefined]);
  const on = model('', true);
  assert.deepEqual([on.errors, on.inst.configFault], [[], undefined]);
});

function plan(configFault: string | undefined): VrrpPlan {
  const p = simPlan({ id: 'd', instances: [{ name: 'VI_1', vrid: 51, priority: 150, primaryAddress: '10.0.0.1', vips: ['10.0.0.100'] }] });
  p.instances[0]!.config.configFault = configFault;
  return p;
}

test('node: a configuration fault keeps the instance in FAULT (no advert, no VIP) until a reload without it', () => {
  const node = new VrrpNode(plan('interface eth0 does not support multicast'));
  node.handle({ type: 'interface', facts: { name: 'eth0', ifindex: 2, up: true, ipv4: ['10.0.0.1'], ipv6LinkLocal: [] } }, 0);
  const effects = [...node.handle({ type: 'start' }, 0)];
  let now = 0;
  for (let i = 0; i < 20; i++) {
    now += 1000;
    effects.push(...node.handle({ type: 'timer' }, now));
  }
  // The interface coming and going does not clear it (keepalived does not look again until a reload).
  effects.push(...node.handle({ type: 'interface', facts: { name: 'eth0', ifindex: 2, up: false, ipv4: ['10.0.0.1'], ipv6LinkLocal: [] } }, now));
  effects.push(...node.handle({ type: 'interface', facts: { name: 'eth0', ifindex: 2, up: true, ipv4: ['10.0.0.1'], ipv6LinkLocal: [] } }, now));
  assert.deepEqual(effects.filter((e) => e.type === 'state-changed').map((e) => e.type === 'state-changed' && e.to), ['FAULT']);
  assert.equal(effects.filter((e) => e.type === 'send-advert' || e.type === 'add-vips').length, 0);
  assert.deepEqual(effects.filter((e) => e.type === 'notify').map((e) => e.type === 'notify' && e.state), ['FAULT'], 'notify_fault runs, as keepalived sends it');

  const after = [...node.handle({ type: 'reload', plan: plan(undefined) }, now)];
  for (let i = 0; i < 10 && !after.some((e) => e.type === 'send-advert'); i++) {
    now = node.deadline() ?? now + 1000;
    after.push(...node.handle({ type: 'timer' }, now));
  }
  assert.deepEqual(after.filter((e) => e.type === 'state-changed').map((e) => e.type === 'state-changed' && e.to), ['BACKUP', 'MASTER']);
  const again = node.handle({ type: 'reload', plan: plan('interface eth0 does not support multicast') }, now);
  assert.deepEqual(again.filter((e) => e.type === 'state-changed').map((e) => e.type === 'state-changed' && e.to), ['FAULT']);
});
