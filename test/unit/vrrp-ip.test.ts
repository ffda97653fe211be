// The IPv4 header put on VRRP adverts (keepalived's golden bytes), the id counter, and ancillary-data parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildIpv4Header, IpIdCounter, parseIpv4Header } from '../../src/net/ipv4-header.js';
import { parseCmsgs, refillIpv4Datagram, sockaddrIn6, vrrpIpv4Datagram } from '../../src/net/vrrp-socket.js';
import { internetChecksum } from '../../src/net/checksum.js';

test('IPv4 header equals keepalived 2.2.7 advert header (baseline capture, v2, 20-byte advert)', () => {
  // 45c0 0030 id 0000 ff70 csum 0a63000b e0000012 (tot_len 0x30 for a 28-byte message as in behaviour §2.1)
  const h = buildIpv4Header({ src: '10.99.0.11', dst: '224.0.0.18', payloadLength: 28, id: 1 });
  assert.equal(h.toString('hex').slice(0, 20), '45c0003000010000ff70');
  assert.equal(h.toString('hex').slice(24), '0a63000be0000012');
  assert.equal(internetChecksum(h), 0);
  assert.deepEqual(parseIpv4Header(h), { headerLength: 20, totalLength: 48, tos: 0xc0, id: 1, ttl: 255, protocol: 112, src: '10.99.0.11', dst: '224.0.0.18' });
  assert.throws(() => buildIpv4Header({ src: 'fe80::1', dst: '224.0.0.18', payloadLength: 8 }), /IPv4 addresses/);
  assert.equal(parseIpv4Header(Buffer.from('60000000', 'hex')), undefined);
});

test('IPv4 header byte-exact against keepalived first v2 advert in shared/vectors (id 1, checksum d024)', () => {
  // v2-vrrp-adverts.hex.txt frame 1, bytes 14..33: 45c0 0028 0001 0000 ff70 d024 0a63 000b e000 0012
  const h = buildIpv4Header({ src: '10.99.0.11', dst: '224.0.0.18', payloadLength: 20, id: 1 });
  assert.equal(h.toString('hex'), '45c0002800010000ff70d0240a63000be0000012');
});

test('a datagram refilled for the next advert equals the one built for it (message, id and header checksum)', () => {
  const o = { src: '10.99.0.11', dst: '224.0.0.18', ttl: 255 };
  const datagram = vrrpIpv4Datagram(Uint8Array.from([0x31, 10, 150, 1, 0, 10, 0x12, 0x34, 10, 99, 0, 100]), { ...o, id: 1 });
  for (const [id, prio] of [[2, 150], [3, 0], [0xffff, 100], [0x1234, 255]] as const) {
    const msg = Uint8Array.from([0x31, 10, prio, 1, 0, 10, id & 0xff, 0x56, 10, 99, 0, 100]);
    refillIpv4Datagram(datagram, msg, id);
    assert.equal(Buffer.from(datagram).toString('hex'), vrrpIpv4Datagram(msg, { ...o, id }).toString('hex'));
  }
});

test('id counter starts at 1 and skips 0 on wrap', () => {
  const c = new IpIdCounter();
  assert.equal(c.next(), 1);
  assert.equal(c.next(), 2);
  for (let i = 3; i <= 65535; i++) c.next();
  assert.equal(c.next(), 1);
});

test('cmsg parsing: IPV6_HOPLIMIT and IPV6_PKTINFO as the kernel lays them out on 64-bit', () => {
  const hop = Buffer.alloc(24);
  hop.writeBigUInt64LE(20n, 0);
  hop.writeInt32LE(41, 8);
  hop.writeInt32LE(52, 12);
  hop.writeInt32LE(255, 16);
  const pi = Buffer.alloc(40);
  pi.writeBigUInt64LE(36n, 0);
  pi.writeInt32LE(41, 8);
  pi.writeInt32LE(50, 12);
  Buffer.from('ff020000000000000000000000000012', 'hex').copy(pi, 16);
  pi.writeInt32LE(7, 32);
  const c = parseCmsgs(Buffer.concat([hop, pi]));
  assert.deepEqual(c.map((x) => [x.level, x.type, x.data.length]), [[41, 52, 4], [41, 50, 20]]);
  assert.equal(c[0].data.readInt32LE(0), 255);
  assert.deepEqual(parseCmsgs(Buffer.alloc(8)), []);
  const bad = Buffer.alloc(16);
  bad.writeBigUInt64LE(400n, 0);
  assert.deepEqual(parseCmsgs(bad), []);
});

test('sockaddr_in6 layout', () => {
  assert.equal(sockaddrIn6('ff02::12', 3).toString('hex'), `0a000000 00000000 ff020000000000000000000000000012 03000000`.replace(/ /g, ''));
});
