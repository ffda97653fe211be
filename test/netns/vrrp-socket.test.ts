// VRRP sockets between two namespaces on a bridge: opaque payloads over IPv4 multicast, IPv4 unicast and IPv6
// multicast; TTL / hop limit 255 as received; no copy of our own adverts; the wire bytes as keepalived's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsCommand, needsRoot } from '../helpers/root.js';
import { Lab, ipIn, ipJson, readPcap, startCapture, type Agent, type AgentEvent } from '../helpers/ns-agent.js';
import { ipv6UpperChecksum, internetChecksum } from '../../src/net/checksum.js';
import { addrToBytes } from '../../src/net/address.js';

const skip = needsRoot() || needsCommand('tcpdump');
const lab = new Lab();
let lan: string, a: string, b: string;
let A: Agent, B: Agent;
let llA: string, llB: string;
const dir = mkdtempSync(join(tmpdir(), 'kt-vrrp-'));
// keepalived's golden v2 advert (vrid 10, prio 150, 3 VIPs) from keepalived-behaviour.md §2.1.
const V2 = '210a960300012ad00a0900010a0900020a0900030000000000000000';

before(async () => {
  if (skip) return;
  ({ lan, nodes: [a, b] } = lab.bridged([
    { ip4: '10.99.0.11/24', mac: '02:00:00:99:00:11' },
    { ip4: '10.99.0.12/24', mac: '02:00:00:99:00:12' },
  ], { ipv6: true }));
  [A, B] = await Promise.all([lab.agent(a), lab.agent(b)]);
  const ll = (ns: string): string =>
    ipJson<{ addr_info: { family: string; scope: string; local: string }[] }[]>(ns, 'addr', 'show', 'dev', 'eth0')[0]
      .addr_info.find((x) => x.family === 'inet6' && x.scope === 'link')!.local;
  llA = ll(a);
  llB = ll(b);
});
after(() => {
  lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const vrrpFrom = (socket: string, src: string) => (e: AgentEvent): boolean => e.event === 'vrrp' && e.socket === socket && e.src === src;

test('IPv4 multicast: payload, TTL 255, no loopback, keepalived header bytes and MAC on the wire', { skip }, async () => {
  await A.call('openVrrp', 'm4', 4, { ifname: 'eth0', mode: 'multicast', src: '10.99.0.11' });
  await B.call('openVrrp', 'm4', 4, { ifname: 'eth0', mode: 'multicast', src: '10.99.0.12' });
  const pcap = join(dir, 'v4.pcap');
  const cap = await startCapture(lan, 'br0', pcap, ['ip proto 112']);
  await A.call('sendVrrp', 'm4', V2, { id: 1 });
  const got = await B.waitEvent(vrrpFrom('m4', '10.99.0.11'));
  assert.deepEqual([got.dst, got.ttl, got.payload, got.family], ['224.0.0.18', 255, V2, 4]);
  assert.equal((got.packet as string).slice(40), V2, 'packet = IPv4 header + payload');
  // B answers; A hears B but never itself.
  await B.call('sendVrrp', 'm4', V2, { id: 1 });
  await A.waitEvent(vrrpFrom('m4', '10.99.0.12'));
  await A.call('sendVrrp', 'm4', V2, { id: 2 });
  await B.waitEvent((e) => vrrpFrom('m4', '10.99.0.11')(e) && (e.packet as string).slice(8, 12) === '0002');
  await cap.stop();
  assert.equal(A.events.filter(vrrpFrom('m4', '10.99.0.11')).length, 0, 'own adverts are not looped back');
  const frames = readPcap(readFileSync(pcap)).filter((f) => f.subarray(26, 30).equals(addrToBytes('10.99.0.11')));
  assert.equal(frames.length, 2);
  const f = frames[0];
  assert.equal(f.subarray(0, 6).toString('hex'), '01005e000012');
  assert.equal(f.subarray(6, 12).toString('hex'), '020000990011');
  const ip = f.subarray(14, 34);
  // 45 c0 len 0001 0000 ff 70 csum 0a63000b e0000012
  assert.equal(ip.toString('hex').replace(/^(.{20})(.{4})/, '$1____'), `45c0${(20 + V2.length / 2).toString(16).padStart(4, '0')}00010000ff70____0a63000be0000012`);
  assert.equal(internetChecksum(ip), 0, 'header checksum valid');
  assert.equal(f.subarray(34).toString('hex'), V2);
  await A.call('closeVrrp', 'm4');
  await B.call('closeVrrp', 'm4');
});

test('a burst queued while the reader is busy: every datagram delivered once, in order, each with its own bytes', { skip }, async () => {
  await A.call('openVrrp', 'b4', 4, { ifname: 'eth0', mode: 'multicast', src: '10.99.0.11' });
  await B.call('openVrrp', 'b4', 4, { ifname: 'eth0', mode: 'multicast', src: '10.99.0.12' });
  const from = vrrpFrom('b4', '10.99.0.11');
  const blocked = B.call('block', 500);
  await B.waitEvent((e) => e.event === 'blocked');
  await A.call('sendVrrpBurst', 'b4', V2, 20);
  await blocked;
  await B.waitEvent((e) => from(e) && (e.packet as string).slice(8, 12) === (20).toString(16).padStart(4, '0'));
  // The socket reads each datagram into the same buffer: every event must still carry its own IP id and payload.
  const got = B.events.filter(from);
  assert.deepEqual(got.map((e) => parseInt((e.packet as string).slice(8, 12), 16)), Array.from({ length: 20 }, (_, i) => i + 1));
  for (const e of got) assert.equal(e.payload, V2);
  await A.call('closeVrrp', 'b4');
  await B.call('closeVrrp', 'b4');
});

test('IPv4 unicast: sent to the peer from unicast_src_ip, received with our address as dst', { skip }, async () => {
  await A.call('openVrrp', 'u4', 4, { ifname: 'eth0', mode: 'unicast', src: '10.99.0.11' });
  await B.call('openVrrp', 'u4', 4, { ifname: 'eth0', mode: 'unicast', src: '10.99.0.12' });
  await A.call('sendVrrp', 'u4', V2, { dst: '10.99.0.12' });
  const got = await B.waitEvent(vrrpFrom('u4', '10.99.0.11'));
  assert.deepEqual([got.dst, got.ttl, got.payload], ['10.99.0.12', 255, V2]);
  await B.call('sendVrrp', 'u4', V2, { dst: '10.99.0.11', ttl: 64 });
  const back = await A.waitEvent(vrrpFrom('u4', '10.99.0.12'));
  assert.deepEqual([back.dst, back.ttl], ['10.99.0.11', 64]);
  await A.call('closeVrrp', 'u4');
  await B.call('closeVrrp', 'u4');
});

test('IPv6 multicast: ff02::12 from the link-local source, hop limit 255, kernel checksum, no loopback', { skip }, async () => {
  // VRRPv3 IPv6 advert: vrid 33, prio 200, 1 address, 100 cs; checksum (bytes 6-7) left 0 for the kernel.
  const v3 = `3121c8010064000020010db8000000000000000000000050`;
  await A.call('openVrrp', 'm6', 6, { ifname: 'eth0', mode: 'multicast', src: llA });
  await B.call('openVrrp', 'm6', 6, { ifname: 'eth0', mode: 'multicast', src: llB });
  const pcap = join(dir, 'v6.pcap');
  const cap = await startCapture(lan, 'br0', pcap, ['ip6 proto 112']);
  await A.call('sendVrrp', 'm6', v3);
  const got = await B.waitEvent(vrrpFrom('m6', llA));
  await B.call('sendVrrp', 'm6', v3);
  await A.waitEvent(vrrpFrom('m6', llB));
  await cap.stop();
  assert.deepEqual([got.dst, got.ttl, got.family], ['ff02::12', 255, 6]);
  const payload = Buffer.from(got.payload as string, 'hex');
  assert.equal(payload.toString('hex').slice(0, 12) + payload.toString('hex').slice(16), v3.slice(0, 12) + v3.slice(16));
  assert.equal(ipv6UpperChecksum(addrToBytes(llA), addrToBytes('ff02::12'), 112, payload), 0, 'kernel-computed checksum verifies');
  assert.equal(A.events.filter(vrrpFrom('m6', llA)).length, 0, 'own adverts are not looped back');
  const f = readPcap(readFileSync(pcap)).find((x) => x.subarray(22, 38).equals(addrToBytes(llA)))!;
  assert.ok(f, 'advert captured');
  assert.equal(f.subarray(0, 6).toString('hex'), '333300000012');
  assert.deepEqual([f[20], f[21], f[15] >> 4 | (f[14] & 0x0f) << 4], [112, 255, 0xc0]);
});

test('IPv6 unicast to a peer link-local address', { skip }, async () => {
  await A.call('openVrrp', 'u6', 6, { ifname: 'eth0', mode: 'unicast', src: llA });
  await B.call('openVrrp', 'u6', 6, { ifname: 'eth0', mode: 'unicast', src: llB });
  await A.call('sendVrrp', 'u6', '3121c8010064000020010db8000000000000000000000050', { dst: llB });
  const got = await B.waitEvent(vrrpFrom('u6', llA));
  assert.deepEqual([got.dst, got.ttl], [llB, 255]);
});

test('sending while the link is down is a rejected promise with the errno name, and works again after up', { skip }, async () => {
  await A.call('openVrrp', 'd4', 4, { ifname: 'eth0', mode: 'multicast', src: '10.99.0.11' });
  await A.call('openVrrp', 'd6', 6, { ifname: 'eth0', mode: 'multicast', src: llA });
  ipIn(a, 'link', 'set', 'eth0', 'down');
  try {
    await assert.rejects(A.call('sendVrrp', 'd4', V2, {}), /ENETDOWN|ENETUNREACH|ENXIO/);
    await assert.rejects(A.call('sendVrrp', 'd6', '3121c8010064000020010db8000000000000000000000050', {}), /ENETDOWN|ENETUNREACH|ENXIO|EADDRNOTAVAIL/);
  } finally {
    ipIn(a, 'link', 'set', 'eth0', 'up');
  }
  await A.call('sendVrrp', 'd4', V2, { id: 9 });
  // Group memberships survive the flap: A still hears B on both families.
  await B.call('openVrrp', 'e4', 4, { ifname: 'eth0', mode: 'multicast', src: '10.99.0.12' });
  await B.call('openVrrp', 'e6', 6, { ifname: 'eth0', mode: 'multicast', src: llB });
  await B.call('sendVrrp', 'e4', V2, { id: 3 });
  await B.call('sendVrrp', 'e6', '3121c8010064000020010db8000000000000000000000050', {});
  await A.waitEvent(vrrpFrom('d4', '10.99.0.12'));
  await A.waitEvent(vrrpFrom('d6', llB));
  for (const s of ['d4', 'd6']) await A.call('closeVrrp', s);
  for (const s of ['e4', 'e6']) await B.call('closeVrrp', s);
});

test('bad interface and bad family are clear errors', { skip }, async () => {
  await assert.rejects(A.call('openVrrp', 'x', 4, { ifname: 'nosuch0', mode: 'multicast', src: '10.99.0.11' }), /ENODEV/);
  await assert.rejects(A.call('openVrrp', 'y', 6, { ifname: 'eth0', mode: 'multicast', group: '224.0.0.18' }), /not IPv6/);
});
