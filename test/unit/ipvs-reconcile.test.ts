import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDesired, expandRange, type IpvsState } from '../../src/ipvs/desired.js';
import { applyOps, diff, emptyOwnership, ownershipAfter, removalOps, updateOwnershipInScope, type Op } from '../../src/ipvs/reconcile.js';
import {
  FWD_DROUTE, FWD_MASQ, FWD_TUNNEL, SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2,
  TUN_GUE, TUN_FLAG_CSUM,
} from '../../src/ipvs/kernel-table.js';
import type { VirtualServerSpec } from '../../src/ipvs/virtual-server-spec.js';
import { AF_INET, AF_INET6, IPPROTO_TCP } from '../../src/net/constants.js';

const web: VirtualServerSpec = {
  targets: [{ addr: '10.0.0.1', port: 80 }],
  protocol: 'TCP',
  scheduler: 'rr',
  realServers: [{ addr: '192.168.1.1', port: 8080, weight: 1 }, { addr: '192.168.1.2', port: 8080, weight: 2 }],
};
const summary = (ops: Op[]): string[] => ops.map((o) => `${o.op} ${'dest' in o ? o.dest.addr : ''}`.trim());

test('expandRange: last-octet and full IPv4 ranges, IPv6 last group, single addresses', () => {
  assert.deepEqual(expandRange('10.0.0.1-3'), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  assert.deepEqual(expandRange('10.0.0.254-10.0.1.1'), ['10.0.0.254', '10.0.0.255', '10.0.1.0', '10.0.1.1']);
  assert.deepEqual(expandRange('2001:db8::a-c'), ['2001:db8::a', '2001:db8::b', '2001:db8::c']);
  assert.deepEqual(expandRange('2001:DB8::1'), ['2001:db8::1']);
  assert.deepEqual(expandRange('10.0.0.4/30'), ['10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7']);
  assert.deepEqual(expandRange('2001:db8::/127'), ['2001:db8::', '2001:db8::1']);
  assert.deepEqual(expandRange('2001:db8::fffe-2001:db8::1:0'), ['2001:db8::fffe', '2001:db8::ffff', '2001:db8::1:0']);
  assert.throws(() => expandRange('10.0.0.5/30'), /mask bits not empty/);
  assert.throws(() => expandRange('10.0.0.0/16'), /more than 256/);
  assert.throws(() => expandRange('10.0.0.5-2'), { code: 'KT_IPVS_BAD_SPEC' });
  assert.throws(() => expandRange('10.0.0.0-10.1.0.0'), { code: 'KT_IPVS_BAD_SPEC' });
});

test("keepalived's rules: defaults, dest ports for DR/TUN/fwmark, persistence, scheduler flags, tunnels", () => {
  const st = buildDesired([
    { ...web, scheduler: undefined },
    { targets: [{ addr: '10.0.0.2', port: 80 }], protocol: 'TCP', lbKind: 'DR', persistenceTimeout: 300, persistenceGranularity: '255.255.255.0', realServers: [{ addr: '192.168.1.3', port: 8080, weight: 1 }] },
    { targets: [{ fwmark: 5 }], protocol: 'TCP', lbKind: 'DR', scheduler: 'sh', schedulerFlags: ['sh-port', 'sh-fallback', 'mh-port'], realServers: [{ addr: '192.168.1.4', port: 80, weight: 1 }, { addr: '192.168.1.5', port: 81, weight: 1, lbKind: 'NAT' }] },
    { targets: [{ addr: '10.0.0.3', port: 0 }], protocol: 'UDP', schedulerFlags: ['ops'], realServers: [] },
    { targets: [{ addr: '2001:db8::1', port: 443 }], protocol: 'TCP', lbKind: 'TUN', tunnel: { type: 'gue', port: 6080, checksum: 'csum' }, persistenceTimeout: 60, persistenceGranularity: 64, realServers: [{ addr: '2001:db8:1::1', weight: 3 }] },
  ]);
  const get = (id: string) => st.get(id)!;
  const s1 = get(`6/${AF_INET}/10.0.0.1/80`);
  assert.equal(s1.service.scheduler, 'wlc');
  assert.deepEqual([...s1.dests.values()].map((d) => [d.addr, d.port, d.fwd, d.weight]), [['192.168.1.1', 8080, FWD_MASQ, 1], ['192.168.1.2', 8080, FWD_MASQ, 2]]);
  const s2 = get(`6/${AF_INET}/10.0.0.2/80`);
  assert.deepEqual([s2.service.flags, s2.service.timeout, s2.service.netmask], [SVC_F_PERSISTENT, 300, 0xffffff00]);
  assert.deepEqual([...s2.dests.values()].map((d) => [d.port, d.fwd]), [[80, FWD_DROUTE]]);
  const s3 = get(`fwm/${AF_INET}/5`);
  assert.equal(s3.service.flags, SVC_F_SCHED1 | SVC_F_SCHED2);
  assert.deepEqual([...s3.dests.values()].map((d) => [d.addr, d.port, d.fwd]), [['192.168.1.4', 0, FWD_DROUTE], ['192.168.1.5', 81, FWD_MASQ]]);
  const s4 = get(`17/${AF_INET}/10.0.0.3/0`);
  assert.deepEqual([s4.service.flags, s4.service.timeout], [SVC_F_ONEPACKET | SVC_F_PERSISTENT, 360]);
  const s5 = get(`6/${AF_INET6}/2001:db8::1/443`);
  assert.deepEqual([s5.service.netmask, s5.service.timeout], [64, 60]);
  assert.deepEqual([...s5.dests.values()][0], { af: AF_INET6, addr: '2001:db8:1::1', port: 443, fwd: FWD_TUNNEL, weight: 3, uThreshold: 0, lThreshold: 0, tunType: TUN_GUE, tunPort: 6080, tunFlags: TUN_FLAG_CSUM });
});

test('a group expands to one service per address, range address and fwmark, sharing the real servers', () => {
  const st = buildDesired([{ ...web, targets: [{ addr: '10.0.0.1', port: 80 }, { range: '10.0.1.1-3', port: 80 }, { fwmark: 9 }] }]);
  assert.deepEqual([...st.keys()], ['6/2/10.0.0.1/80', '6/2/10.0.1.1/80', '6/2/10.0.1.2/80', '6/2/10.0.1.3/80', 'fwm/2/9']);
  for (const s of st.values()) assert.equal(s.dests.size, 2);
  assert.throws(() => buildDesired([web, web]), /defined twice/);
});

test('sorry server replaces real servers while quorum is down; inhibit keeps it at weight 0 otherwise', () => {
  const sorry = { addr: '192.168.9.9', port: 80, weight: 1 };
  const down = buildDesired([{ ...web, sorryServer: sorry, quorumUp: false }]);
  assert.deepEqual([...[...down.values()][0].dests.values()].map((d) => [d.addr, d.weight]), [['192.168.9.9', 1]]);
  const up = buildDesired([{ ...web, sorryServer: { ...sorry, inhibit: true } }]);
  assert.deepEqual([...[...up.values()][0].dests.values()].map((d) => [d.addr, d.weight]), [['192.168.1.1', 1], ['192.168.1.2', 2], ['192.168.9.9', 0]]);
  const upNoInhibit = buildDesired([{ ...web, sorryServer: sorry }]);
  assert.equal([...upNoInhibit.values()][0].dests.size, 2);
});

test('from scratch: add service then dests; applying them makes the diff empty (idempotence)', () => {
  const want = buildDesired([web]);
  const ops = diff(want, new Map(), emptyOwnership());
  assert.deepEqual(summary(ops), ['add-service', 'add-dest 192.168.1.1', 'add-dest 192.168.1.2']);
  const now = applyOps(new Map(), ops);
  const owned = ownershipAfter(want, emptyOwnership(), ops);
  assert.deepEqual(diff(want, now, owned), []);
});

test('minimal changes: weight edit, scheduler edit, dest swap keeps a backend, service removal', () => {
  const v1 = buildDesired([web]);
  let owned = ownershipAfter(v1, emptyOwnership(), []);
  const now = applyOps(new Map(), diff(v1, new Map(), owned));
  const v2 = buildDesired([{ ...web, scheduler: 'wlc', realServers: [{ addr: '192.168.1.1', port: 8080, weight: 5 }, { addr: '192.168.1.3', port: 8080, weight: 1 }] }]);
  const ops = diff(v2, now, owned);
  assert.deepEqual(summary(ops), ['add-dest 192.168.1.3', 'edit-dest 192.168.1.1', 'edit-service', 'del-dest 192.168.1.2']);
  const now2 = applyOps(now, ops);
  owned = ownershipAfter(v2, owned, ops);
  assert.deepEqual(diff(v2, now2, owned), []);
  const gone = diff(new Map(), now2, owned);
  assert.deepEqual(summary(gone), ['del-service']);
});

test('foreign entries are left alone; removalOps removes only ours (a service we own goes in one request with its dests)', () => {
  const foreignSvc = buildDesired([{ targets: [{ addr: '10.0.0.50', port: 25 }], protocol: 'TCP', realServers: [{ addr: '192.168.5.1', port: 25, weight: 1 }] }]);
  const want = buildDesired([web]);
  // A foreign dest inside a service we manage too.
  const current = applyOps(foreignSvc, [
    { op: 'add-service', service: [...want.values()][0].service },
    { op: 'add-dest', service: [...want.values()][0].service, dest: { af: AF_INET, addr: '192.168.7.7', port: 8080, fwd: FWD_MASQ, weight: 1, uThreshold: 0, lThreshold: 0 } },
  ]);
  const ops = diff(want, current, emptyOwnership());
  assert.deepEqual(summary(ops), ['add-dest 192.168.1.1', 'add-dest 192.168.1.2']);
  const now = applyOps(current, ops);
  const owned = ownershipAfter(want, emptyOwnership(), ops);
  assert.deepEqual(diff(want, now, owned), []);
  assert.deepEqual(summary(removalOps(now, owned)), ['del-service']);
  assert.deepEqual(summary(removalOps(now, owned, { servicesOnly: true })), ['del-service']);
  assert.equal(diff(want, now, owned, { removeForeign: true }).length, 2); // the foreign dest and service
});

test('kernel-reported HASHED flag and tunnel fields of non-tunnel dests do not cause edits', () => {
  const want = buildDesired([{ ...web, persistenceTimeout: 100 }]);
  const s = [...want.values()][0];
  const kernelView: IpvsState = new Map([[[...want.keys()][0], { service: { ...s.service, flags: s.service.flags | 2 }, dests: new Map([...s.dests].map(([k, d]) => [k, { ...d, tunType: 0 }])) }]]);
  assert.deepEqual(diff(want, kernelView, ownershipAfter(want, emptyOwnership(), [])), []);
  assert.equal(s.service.flags, SVC_F_PERSISTENT);
  void IPPROTO_TCP;
});

test('ownershipAfter: deleting services forgets their destinations only (not those of a service whose id starts alike), at scale in one pass', () => {
  const vs = (port: number, n: number): VirtualServerSpec => ({
    targets: [{ addr: '10.0.0.1', port }], protocol: 'TCP', scheduler: 'rr',
    realServers: Array.from({ length: n }, (_, j) => ({ addr: `192.168.${j >> 8}.${j & 255}`, port: 8080, weight: 1 })),
  });
  // 10.0.0.1:80 and 10.0.0.1:8080: one service id is a prefix of the other's.
  const both = buildDesired([vs(80, 3), vs(8080, 2)]);
  const owned = ownershipAfter(both, emptyOwnership(), []);
  const svc80 = [...both.values()][0].service;
  const after = ownershipAfter(new Map(), owned, [{ op: 'del-service', service: svc80 }]);
  assert.equal(after.services.size, 1);
  const id8080 = [...both.keys()][1];
  assert.deepEqual([...after.dests].map((k) => k.split('|')[0]), [id8080, id8080]);
  // 5,000 services of 10 destinations, all deleted (a stop): none left.
  const many = buildDesired(Array.from({ length: 5000 }, (_, i) => ({ ...vs(1000 + i, 10) })));
  const all = ownershipAfter(many, emptyOwnership(), []);
  const stop = ownershipAfter(new Map(), all, [...many.values()].map((s) => ({ op: 'del-service', service: s.service }) as Op));
  assert.equal(stop.services.size, 0);
  assert.equal(stop.dests.size, 0);
});

test('a diff scoped to some services compares only those (the rest of the table may be absent from both sides), and its ownership update gives what a full one gives', () => {
  const vs = (port: number): VirtualServerSpec => ({ ...web, targets: [{ addr: '10.0.0.1', port }] });
  const all = buildDesired([vs(80), vs(81), vs(82)]);
  const ids = [...all.keys()];
  const kernel = applyOps(new Map(), diff(all, new Map(), emptyOwnership()));
  const owned = ownershipAfter(all, emptyOwnership(), []);
  // 192.168.1.2 goes down in the virtual server on port 81 only.
  const changed = buildDesired([{ ...vs(81), realServers: [web.realServers[0]] }]);
  const scope = new Set(changed.keys());
  const only81 = new Map([[ids[1], kernel.get(ids[1])!]]);
  const ops = diff(changed, only81, owned, {}, scope);
  assert.deepEqual(summary(ops), ['del-dest 192.168.1.2']);
  // The full diff of the same change agrees; the services out of scope are not deleted though absent from `changed`.
  const fullWant = new Map([...all, ...changed]);
  assert.deepEqual(diff(fullWant, kernel, owned), ops);
  const scoped = { services: new Set(owned.services), dests: new Set(owned.dests) };
  updateOwnershipInScope(scoped, changed, ops, scope);
  assert.deepEqual(scoped, ownershipAfter(fullWant, owned, ops));
  // And with the whole kernel table given, the scope still keeps the other services out.
  assert.deepEqual(diff(changed, kernel, owned, {}, scope), ops);
});
