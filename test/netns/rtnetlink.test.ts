// rtnetlink against a real kernel: VIPs with label and broadcast, routes, rules, EEXIST/absent outcomes, and the
// monitor's link and address events, all read back with iproute2 (`ip -j`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from '../helpers/root.js';
import { Lab, ipIn, ipJson, type Agent } from '../helpers/ns-agent.js';

const skip = needsRoot();
const lab = new Lab();
let ns: string;
let agent: Agent;
let ifindex: number;

interface IpAddr { ifname: string; addr_info: { local: string; prefixlen: number; broadcast?: string; label?: string; family: string; noprefixroute?: boolean; nodad?: boolean }[] }

before(async () => {
  if (skip) return;
  const { nodes } = lab.bridged([{ ip4: '10.99.0.11/24', mac: '02:00:00:99:00:11', ip6: '2001:db8:99::11/64' }], { ipv6: true });
  ns = nodes[0];
  agent = await lab.agent(ns);
  ifindex = ipJson<{ ifindex: number }[]>(ns, 'link', 'show', 'eth0')[0].ifindex;
});
after(() => lab.cleanup());

const addrsOf = (): IpAddr['addr_info'] => ipJson<IpAddr[]>(ns, 'addr', 'show', 'dev', 'eth0')[0].addr_info;

test('VIP with label and broadcast: add, read back with ip, EEXIST as "exists", delete, absent', { skip }, async () => {
  const vip = { ifindex, address: '10.99.0.50', prefixlen: 24, broadcast: '10.99.0.255', label: 'eth0:vip' };
  assert.equal(await agent.call('addAddress', vip), 'added');
  const a = addrsOf().find((x) => x.local === '10.99.0.50');
  assert.deepEqual({ prefixlen: a?.prefixlen, broadcast: a?.broadcast, label: a?.label }, { prefixlen: 24, broadcast: '10.99.0.255', label: 'eth0:vip' });
  assert.equal(await agent.call('addAddress', vip), 'exists');
  const raw = await agent.call<{ code: string; errnoName: string; name: string; kernelMessage?: string }>('rawError', vip);
  assert.equal(raw.code, 'KT_NETLINK_REQUEST_FAILED');
  assert.equal(raw.errnoName, 'EEXIST');
  assert.equal(raw.name, 'NetlinkError');
  assert.match(raw.kernelMessage ?? '', /already assigned/);
  const listed = await agent.call<{ address: string; label?: string; broadcast?: string }[]>('listAddresses', 4);
  assert.ok(listed.some((x) => x.address === '10.99.0.50' && x.label === 'eth0:vip' && x.broadcast === '10.99.0.255'));
  assert.equal(await agent.call('deleteAddress', vip), 'deleted');
  assert.equal(addrsOf().find((x) => x.local === '10.99.0.50'), undefined);
  assert.equal(await agent.call('deleteAddress', vip), 'absent');
});

test('IPv6 VIP with nodad and noprefixroute', { skip }, async () => {
  const vip = { ifindex, address: '2001:db8:99::50', prefixlen: 64, flags: 0x02 | 0x200 };
  assert.equal(await agent.call('addAddress', vip), 'added');
  const a = addrsOf().find((x) => x.local === '2001:db8:99::50');
  assert.ok(a, 'address present');
  assert.equal(a.nodad, true);
  assert.equal(a.noprefixroute, true);
  assert.equal(await agent.call('deleteAddress', vip), 'deleted');
  assert.equal(await agent.call('deleteAddress', vip), 'absent');
});

test('bad requests surface the kernel refusal with errno name', { skip }, async () => {
  await assert.rejects(agent.call('addAddress', { ifindex: 9999, address: '10.1.1.1', prefixlen: 24 }), /ENODEV/);
});

test('routes: via gateway in a numbered table with metric, blackhole; read back with ip -j route', { skip }, async () => {
  const r1 = { family: 4, dst: '192.0.2.0', dstLen: 24, gateway: '10.99.0.1', oif: ifindex, metric: 7, table: 1000, prefsrc: '10.99.0.11' };
  assert.equal(await agent.call('addRoute', r1), 'added');
  assert.equal(await agent.call('addRoute', r1), 'exists');
  const got = ipJson<{ dst: string; gateway: string; dev: string; metric: number; protocol: string; prefsrc: string }[]>(ns, 'route', 'show', 'table', '1000');
  assert.deepEqual(got.map((r) => [r.dst, r.gateway, r.dev, r.metric, r.prefsrc, r.protocol]), [['192.0.2.0/24', '10.99.0.1', 'eth0', 7, '10.99.0.11', 'keepalived']]);
  const listed = await agent.call<{ table: number; dst?: string }[]>('listRoutes', 4);
  assert.ok(listed.some((r) => r.table === 1000 && r.dst === '192.0.2.0'));
  assert.equal(await agent.call('deleteRoute', r1), 'deleted');
  assert.deepEqual(ipJson(ns, 'route', 'show', 'table', '1000'), []);
  assert.equal(await agent.call('deleteRoute', r1), 'absent');

  const bh = { family: 4, dst: '198.51.100.0', dstLen: 24, type: 'blackhole' };
  assert.equal(await agent.call('addRoute', bh), 'added');
  const b = ipJson<{ type?: string; dst: string }[]>(ns, 'route', 'show', 'type', 'blackhole');
  assert.deepEqual(b.map((r) => [r.type, r.dst]), [['blackhole', '198.51.100.0/24']]);
  assert.equal(await agent.call('deleteRoute', bh), 'deleted');

  const un = { family: 4, dst: '203.0.113.0', dstLen: 24, type: 'unreachable', table: 300, metric: 5 };
  assert.equal(await agent.call('addRoute', un), 'added');
  const u = ipJson<{ type?: string; dst: string; metric?: number }[]>(ns, 'route', 'show', 'table', '300');
  assert.deepEqual(u.map((r) => [r.type, r.dst, r.metric]), [['unreachable', '203.0.113.0/24', 5]]);
  assert.equal(await agent.call('deleteRoute', un), 'deleted');

  const viaSrc = { family: 4, dst: '198.18.0.0', dstLen: 15, oif: ifindex, scope: 253, prefsrc: '10.99.0.11' };
  assert.equal(await agent.call('addRoute', viaSrc), 'added');
  const d = ipJson<{ dst: string; scope?: string; prefsrc?: string; dev: string }[]>(ns, 'route', 'show', '198.18.0.0/15');
  assert.deepEqual(d.map((r) => [r.dst, r.dev, r.scope, r.prefsrc]), [['198.18.0.0/15', 'eth0', 'link', '10.99.0.11']]);
  assert.equal(await agent.call('deleteRoute', viaSrc), 'deleted');

  const r6 = { family: 6, dst: '2001:db8:aa::', dstLen: 48, gateway: '2001:db8:99::1', oif: ifindex };
  assert.equal(await agent.call('addRoute', r6), 'added');
  const g6 = ipJson<{ dst: string; gateway: string }[]>(ns, '-6', 'route', 'show', '2001:db8:aa::/48');
  assert.deepEqual(g6.map((r) => [r.dst, r.gateway]), [['2001:db8:aa::/48', '2001:db8:99::1']]);
  assert.equal(await agent.call('deleteRoute', r6), 'deleted');
});

test('rules: from/table/priority added, read back with ip -j rule, deleted', { skip }, async () => {
  const rule = { family: 4, from: '10.99.0.0', fromLen: 24, table: 100, priority: 200 };
  assert.equal(await agent.call('addRule', rule), 'added');
  const r = ipJson<{ priority: number; src: string; srclen: number; table: string; protocol?: string }[]>(ns, 'rule', 'show').find((x) => x.priority === 200);
  assert.deepEqual([r?.src, r?.srclen, r?.table, r?.protocol], ['10.99.0.0', 24, '100', 'keepalived']);
  assert.equal(await agent.call('addRule', rule), 'exists');
  assert.equal(await agent.call('deleteRule', rule), 'deleted');
  assert.equal(await agent.call('deleteRule', rule), 'absent');

  const big = { family: 6, to: '2001:db8:77::', toLen: 48, table: 1000, priority: 201, fwmark: 7 };
  assert.equal(await agent.call('addRule', big), 'added');
  const r6 = ipJson<{ priority: number; dst: string; dstlen: number; table: string; fwmark?: string }[]>(ns, '-6', 'rule', 'show').find((x) => x.priority === 201);
  assert.deepEqual([r6?.dst, r6?.dstlen, r6?.table, r6?.fwmark], ['2001:db8:77::', 48, '1000', '0x7']);
  const listed = await agent.call<{ priority?: number; table: number }[]>('listRules', 6);
  assert.ok(listed.some((x) => x.priority === 201 && x.table === 1000));
  assert.equal(await agent.call('deleteRule', big), 'deleted');
});

test('links: dump shows eth0 with MAC, mtu, flags; getLink by name; unknown name is undefined', { skip }, async () => {
  const links = await agent.call<{ name: string; mac?: string; mtu?: number; up: boolean; multicast: boolean; kind?: string }[]>('listLinks');
  const eth0 = links.find((l) => l.name === 'eth0');
  assert.deepEqual([eth0?.mac, eth0?.mtu, eth0?.up, eth0?.multicast, eth0?.kind], ['02:00:00:99:00:11', 1500, true, true, 'veth']);
  assert.equal((await agent.call<{ ifindex: number }>('getLink', 'eth0')).ifindex, ifindex);
  assert.equal(await agent.call('getLink', 'nosuch0'), null);
});

test('monitor: link down/up and address added/removed events, including an external `ip addr del`', { skip }, async () => {
  await agent.call('monitor');
  ipIn(ns, 'link', 'set', 'eth0', 'down');
  await agent.waitEvent((e) => e.event === 'link' && (e.link as { name: string; up: boolean }).name === 'eth0' && !(e.link as { up: boolean }).up);
  ipIn(ns, 'link', 'set', 'eth0', 'up');
  const up = await agent.waitEvent((e) => e.event === 'link' && (e.link as { up: boolean; running: boolean }).up && (e.link as { running: boolean }).running);
  assert.equal((up.link as { ifindex: number }).ifindex, ifindex);
  ipIn(ns, 'addr', 'add', '10.99.0.77/24', 'dev', 'eth0');
  const added = await agent.waitEvent((e) => e.event === 'address' && e.change === 'added' && (e.address as { address: string }).address === '10.99.0.77');
  assert.equal((added.address as { ifindex: number }).ifindex, ifindex);
  ipIn(ns, 'addr', 'del', '10.99.0.77/24', 'dev', 'eth0');
  const removed = await agent.waitEvent((e) => e.event === 'address' && e.change === 'removed' && (e.address as { address: string }).address === '10.99.0.77');
  assert.equal((removed.address as { prefixlen: number }).prefixlen, 24);
  ipIn(ns, 'addr', 'add', '2001:db8:99::77/64', 'dev', 'eth0', 'nodad');
  await agent.waitEvent((e) => e.event === 'address' && e.change === 'added' && (e.address as { address: string }).address === '2001:db8:99::77');
  ipIn(ns, 'addr', 'del', '2001:db8:99::77/64', 'dev', 'eth0');
  await agent.waitEvent((e) => e.event === 'address' && e.change === 'removed' && (e.address as { address: string }).address === '2001:db8:99::77');
});
