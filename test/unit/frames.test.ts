// Gratuitous ARP and unsolicited NA frames, byte for byte (keepalived-baseline.md golden GARP; NA checked field by
// field against RFC 4861 and keepalived's vrrp_ndisc.c layout), and the IPv4 header / sockaddr_ll helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGratuitousArp, parseArpFrame } from '../../src/net/arp.js';
import { buildUnsolicitedNa, parseNaFrame } from '../../src/net/ndisc.js';
import { sockaddrLl } from '../../src/net/packet-socket.js';
import { internetChecksum, ipv6UpperChecksum } from '../../src/net/checksum.js';
import { readFileSync } from 'node:fs';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('GARP equals keepalived 2.2.7 on the wire (baseline golden frame)', () => {
  const golden = hex('ffff ffff ffff 0200 0099 0011 0806 0001 0800 0604 0001 0200 0099 0011 0a63 0032 ffff ffff ffff 0a63 0032');
  assert.deepEqual(buildGratuitousArp('02:00:00:99:00:11', '10.99.0.50'), golden);
});

test('GARP equals every GARP in the captured vectors', () => {
  const txt = readFileSync(new URL('./fixtures/keepalived-v2-garp.hex.txt', import.meta.url), 'utf8').split('\n');
  let checked = 0;
  for (let i = 0; i < txt.length; i++) {
    const m = /^\S+ (\S+) > ff:ff:ff:ff:ff:ff, ethertype ARP .* tell (\S+),/.exec(txt[i]);
    if (!m) continue;
    const bytes = hex(txt.slice(i + 1, i + 4).map((l) => l.replace(/^\s*0x[0-9a-f]+:\s*/, '')).join(''));
    assert.deepEqual(buildGratuitousArp(m[1], m[2]), bytes);
    checked++;
  }
  assert.ok(checked >= 5, `checked ${checked} GARPs`);
});

test('GARP parse and bad input', () => {
  const p = parseArpFrame(buildGratuitousArp('02:00:00:99:00:11', '10.99.0.50'));
  assert.deepEqual(p, { op: 1, senderMac: '02:00:00:99:00:11', senderIp: '10.99.0.50', targetMac: 'ff:ff:ff:ff:ff:ff', targetIp: '10.99.0.50', gratuitous: true });
  assert.throws(() => buildGratuitousArp('02:00:00:99:00:11', 'fe80::1'), { code: 'KT_NET_FRAME_INVALID' });
  assert.throws(() => buildGratuitousArp('02:00:00:99:00', '10.0.0.1'), /bad MAC/);
  assert.equal(parseArpFrame(Buffer.alloc(10)), undefined);
});

test('unsolicited NA: layout, flags, option, pseudo-header checksum', () => {
  const f = buildUnsolicitedNa('02:00:00:99:00:11', '2001:db8::50');
  const expected = hex(`
    333300000001 020000990011 86dd
    60000000 0020 3a ff 20010db8000000000000000000000050 ff020000000000000000000000000001
    88 00 ${'0000'} 20000000 20010db8000000000000000000000050 02 01 020000990011`);
  const cks = f.readUInt16BE(56);
  expected.writeUInt16BE(cks, 56);
  assert.deepEqual(f, expected);
  // Independent check: the sum over pseudo-header + message including the checksum is 0 (all ones before inversion).
  assert.equal(ipv6UpperChecksum(f.subarray(22, 38), f.subarray(38, 54), 58, f.subarray(54)), 0);
  assert.equal(cks, 0xf7e3); // computed independently (Python, struct sum over pseudo-header + message)
  const r = buildUnsolicitedNa('02:00:00:99:00:11', '2001:db8::50', { router: true });
  assert.equal(r[58], 0xa0);
  const p = parseNaFrame(r)!;
  assert.deepEqual([p.src, p.dst, p.hopLimit, p.router, p.override, p.solicited, p.target, p.targetMac, p.checksumOk],
    ['2001:db8::50', 'ff02::1', 255, true, true, false, '2001:db8::50', '02:00:00:99:00:11', true]);
  assert.throws(() => buildUnsolicitedNa('02:00:00:99:00:11', '10.0.0.1'), { code: 'KT_NET_FRAME_INVALID' });
});

test('internet checksum of a known IPv4 header (RFC 1071 example style)', () => {
  const h = hex('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7');
  assert.equal(internetChecksum(h), 0xb861);
});

test('sockaddr_ll layout', () => {
  assert.deepEqual(sockaddrLl(3, 0x0806, 'ff:ff:ff:ff:ff:ff'), hex('1100 0806 03000000 0100 00 06 ffffffffffff0000'));
});
