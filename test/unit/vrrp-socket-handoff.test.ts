// The pure side of handing VRRP sockets to the VRRP child (issue 11, start-up): the sockets opened before the child
// runs carry the keys its node asks for, and an instance on such a socket counts its wait for a master from the
// time the socket was listening — never from earlier, and an advert queued meanwhile resets it as if just heard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/parse.js';
import { buildModel } from '../../src/config/model/index.js';
import { vrrpPlan } from '../../src/vrrp/plan.js';
import { VrrpNode, type NodeEffect } from '../../src/vrrp/node.js';
import { presetSocketSpecs } from '../../src/vrrp/socket-spec.js';
import { encodeIpv4Advert } from '../../src/vrrp/packet.js';
import { initialState, step } from '../../src/vrrp/machine.js';
import { masterDownMs, skewTimeMs } from '../../src/vrrp/timers.js';

function planOf(text: string) {
  const p = parseConfigText(text, 'handoff.conf', {});
  const model = buildModel(p.nodes, p.diags, { interfaces: null, hostname: 'node1' });
  const errors = p.diags.list.filter((d) => d.severity === 'error' || d.severity === 'fatal');
  if (errors.length) throw new Error(`config: ${errors.map((d) => d.message).join('; ')}`);
  return vrrpPlan(model, () => ({ uid: 0, gid: 0 }));
}

const instance = (name: string, vrid: number, lines: string[]) =>
  `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id ${vrid}\n  priority 150\n  advert_int 0.1\n${lines.map((l) => `  ${l}\n`).join('')}}\n`;

/** A node on eth0 (10.0.0.1, fe80::1) started at `now`; its open-socket keys. */
function started(text: string, now: number, listening?: Record<string, number>): { node: VrrpNode; opened: string[]; effects: NodeEffect[] } {
  const node = new VrrpNode(planOf(text));
  node.handle({ type: 'interface', facts: { name: 'eth0', ifindex: 2, up: true, ipv4: ['10.0.0.1'], ipv6LinkLocal: ['fe80::1'] } }, now);
  const effects = node.handle(listening ? { type: 'start', listening } : { type: 'start' }, now);
  return { node, opened: effects.flatMap((e) => (e.type === 'open-socket' ? [e.key] : [])), effects };
}

const V3 = 'global_defs {\n  vrrp_version 3\n}\n';

test('the preset sockets are the ones the node opens, under the same keys; sockets that need a live fact are not preset', () => {
  const text = [
    V3,
    instance('MC', 1, ['virtual_ipaddress {', '  10.0.0.100/24', '}']),
    instance('MC2', 2, ['virtual_ipaddress {', '  10.0.0.101/24', '}']), // shares MC's socket
    instance('GRP', 3, ['mcast_dst_ip 224.0.0.99', 'virtual_ipaddress {', '  10.0.0.102/24', '}']),
    instance('UCSRC', 4, ['unicast_src_ip 10.0.0.1', 'unicast_peer {', '  10.0.0.2', '}', 'virtual_ipaddress {', '  10.0.0.103/24', '}']),
    instance('UC', 5, ['unicast_peer {', '  10.0.0.3', '}', 'virtual_ipaddress {', '  10.0.0.104/24', '}']), // source from the interface
    instance('V6', 6, ['virtual_ipaddress {', '  fd00::100/64', '}']), // bound to the link-local source
    instance('VMAC', 7, ['use_vmac', 'virtual_ipaddress {', '  10.0.0.105/24', '}']), // the VMAC's socket
  ].join('');
  const preset = presetSocketSpecs(planOf(text)).map((s) => s.key);
  assert.deepEqual(preset, ['eth0|4|multicast|224.0.0.18', 'eth0|4|multicast|224.0.0.99', 'eth0|4|unicast||10.0.0.1']);
  const { opened } = started(text, 0);
  for (const k of preset) assert.ok(opened.includes(k), `${k} is opened by the node (${opened.join(', ')})`);
  assert.ok(opened.length > preset.length, 'the unicast (interface source), IPv6 and VMAC sockets are left to the node');
});

const ONE = V3 + instance('VI', 51, ['state MASTER', 'virtual_ipaddress {', '  10.0.0.100/24', '}']);
const KEY = 'eth0|4|multicast|224.0.0.18';
// v3, advert_int 0.1, priority 150: 3 × 100 + skew = 341.4 ms.
const DOWN = masterDownMs(3, 150, 100);

const stateAt = (node: VrrpNode, t: number): string => {
  node.handle({ type: 'timer' }, t);
  return node.state('VI').state;
};

test('listening since before the start: the master-down wait counts from then', () => {
  const { node } = started(ONE, 1000, { [KEY]: 700 });
  assert.equal(node.deadline(), 700 + DOWN);
  assert.equal(stateAt(node, 700 + DOWN - 1), 'BACKUP');
  assert.equal(stateAt(node, 700 + DOWN), 'MASTER');
});

test('without a handed socket (or on another key) the wait counts from the start', () => {
  assert.equal(started(ONE, 1000).node.deadline(), 1000 + DOWN);
  assert.equal(started(ONE, 1000, { 'eth1|4|multicast|224.0.0.18': 700 }).node.deadline(), 1000 + DOWN);
});

test('a listening time after the start (clocks apart) counts from the start, never later than a fresh socket', () => {
  assert.equal(started(ONE, 1000, { [KEY]: 1200 }).node.deadline(), 1000 + DOWN);
});

test('the wait ran out before the start, but an advert from a better master was queued: it is read first and the instance stays BACKUP', () => {
  const { node } = started(ONE, 1000, { [KEY]: 200 });
  assert.equal(node.deadline(), 200 + DOWN, 'due already');
  const bytes = encodeIpv4Advert({ version: 3, type: 1, vrid: 51, priority: 200, advertIntMs: 100, addresses: ['10.0.0.100'] }, { src: '10.0.0.9', dst: '224.0.0.18', ttl: 255 });
  node.handle({ type: 'packet', socket: KEY, bytes, family: 4, src: '10.0.0.9', dst: '224.0.0.18', ttl: 255 }, 1000);
  assert.equal(stateAt(node, 1001), 'BACKUP');
  // The queued advert counts as heard now (its true arrival was earlier): the next wait is a whole interval.
  assert.ok(node.deadline()! >= 1000 + 300, `deadline ${node.deadline()}`);
});

test('machine: a sync group member held BACKUP counts its shorter wait from the listening time too', () => {
  const spec = planOf(ONE).instances[0]!.spec;
  const st = initialState({ ...spec, primaryAddress: '10.0.0.1' });
  const r = step(st, { type: 'start', listeningSince: 900 }, 1000, { mayBecomeMaster: false });
  assert.equal(r.state.downAt, 900 + 100 + skewTimeMs(3, 255, 100));
});
