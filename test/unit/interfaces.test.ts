// InterfaceTable (pure): dump load, event application, keepalived's primary address and "up" notions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InterfaceTable } from '../../src/net/interfaces.js';
import type { AddressInfo, LinkInfo } from '../../src/net/rtnetlink-codec.js';

const link = (over: Partial<LinkInfo> = {}): LinkInfo => ({
  ifindex: 2, name: 'eth0', flags: 0x11043, up: true, running: true, noarp: false, multicast: true, loopback: false,
  mac: '02:00:00:99:00:11', mtu: 1500, operState: 'up', hwType: 1, ...over,
});
const addr = (address: string, over: Partial<AddressInfo> = {}): AddressInfo => ({
  family: address.includes(':') ? 6 : 4, ifindex: 2, prefixlen: address.includes(':') ? 64 : 24, scope: 0, flags: 0x80, address, ...over,
});

test('load: primary IPv4 skips secondaries and excluded VIPs; link-local skips tentative', () => {
  const t = new InterfaceTable();
  const changes = t.load([link()], [
    addr('10.99.0.50', { flags: 0x80 }), addr('10.99.0.11'), addr('10.99.0.12', { flags: 0x81 }),
    addr('fe80::1', { flags: 0x40, scope: 253 }), addr('fe80::2', { scope: 253 }), addr('2001:db8::1'),
  ]);
  assert.deepEqual(changes.slice(0, 2).map((c) => c.kind), ['link-added', 'link-up']);
  assert.equal(t.primaryIpv4('eth0'), '10.99.0.50');
  assert.equal(t.primaryIpv4('eth0', ['10.99.0.50']), '10.99.0.11');
  assert.equal(t.linkLocal6(2), 'fe80::2');
  // What the VRRP node is fed: every source candidate, best first (secondaries last, tentative link-locals out).
  assert.deepEqual(t.ipv4Sources('eth0'), ['10.99.0.50', '10.99.0.11', '10.99.0.12']);
  assert.deepEqual(t.linkLocal6Sources('eth0'), ['fe80::2']);
  assert.equal(t.mac('eth0'), '02:00:00:99:00:11');
  assert.equal(t.isUp('eth0'), true);
  assert.equal(t.isUp('nosuch'), false);
});

test('events: link down/up needs IFF_UP and IFF_RUNNING; addresses are idempotent', () => {
  const t = new InterfaceTable();
  t.load([link()], [addr('10.99.0.11')]);
  assert.deepEqual(t.apply({ kind: 'link', change: 'new', link: link({ running: false }) }).map((c) => c.kind), ['link-down']);
  assert.deepEqual(t.apply({ kind: 'link', change: 'new', link: link({ running: false, up: false }) }), []);
  assert.deepEqual(t.apply({ kind: 'link', change: 'new', link: link() }).map((c) => c.kind), ['link-up']);
  assert.deepEqual(t.apply({ kind: 'link', change: 'new', link: link({ mac: '02:00:00:00:00:01' }) }).map((c) => c.kind), ['mac-changed']);
  const vip = addr('10.99.0.50');
  assert.deepEqual(t.apply({ kind: 'address', change: 'added', address: vip }).map((c) => c.kind), ['address-added']);
  assert.deepEqual(t.apply({ kind: 'address', change: 'added', address: vip }), []);
  assert.equal(t.hasAddress('eth0', '10.99.0.50'), true);
  assert.deepEqual(t.apply({ kind: 'address', change: 'removed', address: vip }).map((c) => c.kind), ['address-removed']);
  assert.deepEqual(t.apply({ kind: 'address', change: 'removed', address: vip }), []);
  assert.deepEqual(t.apply({ kind: 'link', change: 'del', link: link() }).map((c) => c.kind), ['link-removed']);
  assert.equal(t.get('eth0'), undefined);
});

test('reload after an overrun reports only the differences', () => {
  const t = new InterfaceTable();
  t.load([link(), link({ ifindex: 3, name: 'eth1' })], [addr('10.99.0.11'), addr('10.99.0.50')]);
  const c = t.load([link({ running: false })], [addr('10.99.0.11'), addr('10.99.0.60')]);
  assert.deepEqual(c.map((x) => `${x.kind}:${x.name}${'address' in x ? `:${x.address.address}` : ''}`).sort(),
    ['address-added:eth0:10.99.0.60', 'address-removed:eth0:10.99.0.50', 'link-down:eth0', 'link-removed:eth1']);
});
