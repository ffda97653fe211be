import { vectorPath } from '../helpers/shared.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  advertFor, decodeAdvert, encodeAdvert, encodeIpv4Advert, passAuthData, vrrpChecksum, type Advert,
} from '../../src/vrrp/packet.js';
import { buildIpv4Header, decodeIpv4Header } from '../../src/net/ipv4-header.js';
import { bytesToAddr, addrToBytes, compareAddr, type Family } from '../../src/net/address.js';
import { Prng } from '../sim/prng.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Frames from a `tcpdump -xx` dump: each 0x0000 block joined, Ethernet header (14 bytes) dropped. */
function framesFrom(file: string): Uint8Array[] {
  const frames: string[] = [];
  for (const line of readFileSync(vectorPath(file), 'utf8').split('\n')) {
    const m = /^\s+0x([0-9a-f]{4}):\s+((?:[0-9a-f]{2,4}\s?)+)/.exec(line);
    if (!m) continue;
    if (m[1] === '0000') frames.push('');
    frames[frames.length - 1] += m[2]!.replace(/\s+/g, '');
  }
  return frames.map((f) => hex(f).subarray(14));
}

test('golden v2 adverts from keepalived 2.2.7 (vrid 51, prio 150/100/0) re-encode byte for byte', () => {
  const frames = framesFrom('v2-vrrp-adverts.hex.txt');
  assert.ok(frames.length >= 7);
  for (const f of frames) {
    const ip = decodeIpv4Header(f);
    assert.ok(ip.ok);
    assert.equal(ip.checksumOk, true);
    assert.equal(ip.header.tos, 0xc0);
    assert.equal(ip.header.ttl, 255);
    assert.equal(ip.header.protocol, 112);
    assert.equal(ip.header.fragment, 0);
    const d = decodeAdvert(ip.payload, { family: 4, src: ip.header.src, dst: ip.header.dst });
    assert.ok(d.ok);
    assert.equal(d.checksumOk, true);
    assert.equal(d.advert.version, 2);
    assert.equal(d.advert.vrid, 51);
    assert.deepEqual(d.advert.addresses, ['10.99.0.50']);
    assert.equal(d.advert.advertIntMs, 1000);
    assert.ok([150, 100, 0].includes(d.advert.priority));
    const again = encodeIpv4Advert(d.advert, { src: ip.header.src, dst: ip.header.dst, id: ip.header.id });
    assert.equal(toHex(again), toHex(f));
  }
});

test('golden v3 adverts (vrid 51, 10 cs) carry the IPv4 pseudo-header checksum and re-encode exactly', () => {
  const frames = framesFrom('v3-vrrp-adverts.hex.txt');
  assert.ok(frames.length >= 7);
  for (const f of frames) {
    const ip = decodeIpv4Header(f);
    assert.ok(ip.ok);
    const ctx = { family: 4 as const, src: ip.header.src, dst: ip.header.dst };
    const d = decodeAdvert(ip.payload, ctx);
    assert.ok(d.ok);
    assert.equal(d.checksumOk, true);
    assert.equal(d.advert.advertIntMs, 100);
    // The same bytes do not verify when summed v2-style (v3_checksum_as_v2).
    const asV2 = decodeAdvert(ip.payload, { ...ctx, v3ChecksumAsV2: true });
    assert.ok(asV2.ok);
    assert.equal(asV2.checksumOk, false);
    assert.equal(toHex(encodeIpv4Advert(d.advert, { src: ip.header.src, dst: ip.header.dst, id: ip.header.id })), toHex(f));
  }
});

test('§2.1 golden messages: v2 vrid 10 with 3 VIPs, v3 vrid 33 prio 200 and its prio-0 variant', () => {
  const v2: Advert = { version: 2, type: 1, vrid: 10, priority: 150, advertIntMs: 1000, addresses: ['10.9.0.1', '10.9.0.2', '10.9.0.3'] };
  assert.equal(toHex(encodeAdvert(v2, { family: 4 })), '210a960300012ad00a0900010a0900020a0900030000000000000000');
  const ctx = { family: 4 as const, src: '10.9.9.1', dst: '224.0.0.18' };
  const v3: Advert = { version: 3, type: 1, vrid: 33, priority: 200, advertIntMs: 500, addresses: ['10.9.1.1'] };
  assert.equal(toHex(encodeAdvert(v3, ctx)), '3121c80100320808' + '0a090101');
  assert.equal(toHex(encodeAdvert({ ...v3, priority: 0 }, ctx)), '312100010032d008' + '0a090101');
  const ip = buildIpv4Header({ src: '10.9.9.1', dst: '224.0.0.18', payloadLength: 12, id: 0 });
  assert.equal(toHex(ip).slice(0, 4), '45c0');
  assert.equal(toHex(ip).slice(16, 20), 'ff70');
});

test('v3 checksum as v2 omits the pseudo-header', () => {
  const a: Advert = { version: 3, type: 1, vrid: 7, priority: 100, advertIntMs: 1000, addresses: ['192.0.2.1'] };
  const ctx = { family: 4 as const, src: '192.0.2.10', dst: '224.0.0.18', v3ChecksumAsV2: true };
  const m = encodeAdvert(a, ctx);
  assert.equal(vrrpChecksum(m, 2, { family: 4 }), (m[6]! << 8) | m[7]!);
  const d = decodeAdvert(m, ctx);
  assert.ok(d.ok && d.checksumOk);
  const d2 = decodeAdvert(m, { ...ctx, v3ChecksumAsV2: false });
  assert.ok(d2.ok && !d2.checksumOk);
});

test('IPv6 v3 advert checksum uses the IPv6 pseudo-header (RFC 8200 §8.1)', () => {
  const a: Advert = { version: 3, type: 1, vrid: 5, priority: 120, advertIntMs: 1000, addresses: ['fe80::1', '2001:db8::5'] };
  const ctx = { family: 6 as const, src: 'fe80::a', dst: 'ff02::12' };
  const m = encodeAdvert(a, ctx);
  assert.equal(m.length, 8 + 32);
  // Independent computation: sum pseudo-header words + message words, fold, complement → 0.
  const ph = new Uint8Array(40);
  ph.set(addrToBytes('fe80::a'), 0); ph.set(addrToBytes('ff02::12'), 16); ph[35] = m.length; ph[39] = 112;
  const all = new Uint8Array(80); all.set(ph); all.set(m, 40);
  let s = 0; for (let i = 0; i < all.length; i += 2) s += (all[i]! << 8) | all[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  assert.equal(s, 0xffff);
  const d = decodeAdvert(m, ctx);
  assert.ok(d.ok && d.checksumOk);
  assert.deepEqual(d.advert.addresses, ['fe80::1', '2001:db8::5']);
});

test('v2 PASS auth: first 8 chars, zero padded, carried in the trailing auth bytes', () => {
  assert.equal(toHex(passAuthData('secretpassword')), toHex(new TextEncoder().encode('secretpa')));
  assert.equal(toHex(passAuthData('abc')), '6162630000000000');
  const a: Advert = { version: 2, type: 1, vrid: 1, priority: 100, advertIntMs: 1000, addresses: ['10.0.0.1'], authType: 1, authData: passAuthData('abc') };
  const m = encodeAdvert(a, { family: 4 });
  assert.equal(toHex(m.subarray(m.length - 8)), '6162630000000000');
  const d = decodeAdvert(m, { family: 4 });
  assert.ok(d.ok && d.checksumOk);
  assert.equal(d.advert.authType, 1);
});

test('encode rejects unrepresentable values with typed errors', () => {
  const base: Advert = { version: 2, type: 1, vrid: 1, priority: 100, advertIntMs: 1000, addresses: [] };
  assert.throws(() => encodeAdvert({ ...base, vrid: 0 }, { family: 4 }), { code: 'KT_VRRP_ENCODE_BAD_VRID' });
  assert.throws(() => encodeAdvert({ ...base, priority: 256 }, { family: 4 }), { code: 'KT_VRRP_ENCODE_BAD_PRIORITY' });
  assert.throws(() => encodeAdvert({ ...base, advertIntMs: 300_000 }, { family: 4 }), { code: 'KT_VRRP_ENCODE_BAD_INTERVAL' });
  assert.throws(() => encodeAdvert({ ...base, version: 3, advertIntMs: 41_000 }, { family: 4 }), { code: 'KT_VRRP_ENCODE_BAD_INTERVAL' });
  assert.throws(() => encodeAdvert({ ...base, version: 3 }, { family: 4 }), { code: 'KT_VRRP_ENCODE_MISSING_CONTEXT' });
});

function randomAddr(r: Prng, fam: Family): string {
  return bytesToAddr(r.bytes(fam === 4 ? 4 : 16), fam);
}

test('property: random valid adverts round-trip through encode/decode (v2/v3, IPv4/IPv6)', () => {
  const r = new Prng(0xc0ffee);
  for (let i = 0; i < 2000; i++) {
    const family = r.pick([4, 6] as const);
    const version = r.pick([2, 3] as const);
    const n = r.int(0, 20);
    const a: Advert = {
      version, type: 1, vrid: r.int(1, 255), priority: r.int(0, 255),
      advertIntMs: version === 2 ? r.int(1, 255) * 1000 : r.int(1, 4095) * 10,
      addresses: Array.from({ length: n }, () => randomAddr(r, family)),
    };
    if (version === 2) { a.authType = r.int(0, 2); a.authData = r.bytes(8); }
    const ctx = { family, src: randomAddr(r, family), dst: family === 4 ? '224.0.0.18' : 'ff02::12' };
    const d = decodeAdvert(encodeAdvert(a, ctx), ctx);
    assert.ok(d.ok, `case ${i}`);
    assert.equal(d.checksumOk, true);
    assert.deepEqual(d.advert, a);
  }
});

test('property: decode never throws on random bytes and always says why it refused', () => {
  const r = new Prng(42);
  const reasons = new Set<string>();
  for (let i = 0; i < 20000; i++) {
    const buf = r.bytes(r.int(0, 80));
    if (buf.length > 0 && r.next() < 0.5) buf[0] = (r.pick([2, 3]) << 4) | 1;
    for (const family of [4, 6] as const) {
      const d = decodeAdvert(buf, { family, src: r.next() < 0.5 ? 'not an address' : undefined, dst: '224.0.0.18' });
      if (!d.ok) { assert.ok(d.reason && d.detail); reasons.add(d.reason); }
    }
    const ip = decodeIpv4Header(buf);
    if (!ip.ok) assert.ok(ip.reason);
  }
  assert.ok(reasons.has('too-short') && reasons.has('bad-version') && reasons.has('length-mismatch'));
});

test('address ordering matches keepalived (unsigned network-order compare)', () => {
  assert.ok(compareAddr('10.0.0.2', '10.0.0.10') < 0);
  assert.ok(compareAddr('192.168.1.1', '10.0.0.1') > 0);
  assert.equal(compareAddr('10.0.0.1', '10.0.0.1'), 0);
  assert.ok(compareAddr('fe80::2', 'fe80::10') < 0);
});

// ---- receive validation (validate.ts) -------------------------------------------------------------------------
import { validateAdvert, peekVrid, DropReason, type RxPolicy } from '../../src/vrrp/validate.js';

const pol = (over: Partial<RxPolicy> = {}): RxPolicy => ({
  vrid: 51, version: 2, family: 4, advertIntMs: 1000, authType: 0, unicast: false, unicastPeers: [],
  checkUnicastSrc: false, v3ChecksumAsV2: false, ownerIgnoreAdverts: false, effectivePriority: 100,
  vips: ['10.99.0.50'], skipCheckAdvAddr: false, ...over,
});
const pkt4 = (a: Partial<Advert> = {}, ip: { src?: string; dst?: string; ttl?: number } = {}) =>
  encodeIpv4Advert({ version: 2, type: 1, vrid: 51, priority: 150, advertIntMs: 1000, addresses: ['10.99.0.50'], ...a },
    { src: ip.src ?? '10.99.0.11', dst: ip.dst ?? '224.0.0.18', ttl: ip.ttl });

test('validate: golden keepalived adverts are accepted', () => {
  for (const f of framesFrom('v2-vrrp-adverts.hex.txt')) {
    const r = validateAdvert({ bytes: f, family: 4 }, pol());
    assert.ok(r.ok, JSON.stringify(r));
  }
  for (const f of framesFrom('v3-vrrp-adverts.hex.txt')) {
    const r = validateAdvert({ bytes: f, family: 4 }, pol({ version: 3, advertIntMs: 100 }));
    assert.ok(r.ok, JSON.stringify(r));
  }
  assert.equal(peekVrid(framesFrom('v2-vrrp-adverts.hex.txt')[0]!, 4), 51);
});

test('validate: each drop has its reason, in keepalived order', () => {
  const cases: [Uint8Array, Partial<RxPolicy>, DropReason][] = [
    [pkt4().subarray(0, 10), {}, DropReason.IpHeader],
    [pkt4({}, { ttl: 254 }), {}, DropReason.Ttl],
    [pkt4({ version: 3 }), {}, DropReason.Version], // length is judged by the packet's own version first
    [pkt4(), { version: 3 }, DropReason.Version],
    [pkt4({ authType: 5 }), {}, DropReason.AuthTypeInvalid],
    [pkt4({ authType: 1, authData: passAuthData('x') }), {}, DropReason.AuthTypeMismatch],
    [pkt4({ authType: 1, authData: passAuthData('wrong') }), { authType: 1, authData: passAuthData('right') }, DropReason.Auth],
    [pkt4({ advertIntMs: 2000 }), {}, DropReason.IntervalV2],
    [pkt4({ type: 2 }), {}, DropReason.Type],
    [pkt4({}, { dst: '10.99.0.12' }), {}, DropReason.ModeMismatch],
    [pkt4(), { unicast: true }, DropReason.ModeMismatch],
    [pkt4(), { ownerIgnoreAdverts: true, effectivePriority: 255 }, DropReason.OwnerIgnore],
    [pkt4({}, { dst: '10.99.0.12', ttl: 64 }), { unicast: true, checkUnicastSrc: true, unicastPeers: [{ address: '10.99.0.13' }] }, DropReason.NotAPeer],
    [pkt4({}, { dst: '10.99.0.12', ttl: 64 }), { unicast: true, checkUnicastSrc: true, unicastPeers: [{ address: '10.99.0.11', minTtl: 100 }] }, DropReason.Ttl],
    [pkt4({ vrid: 52 }), {}, DropReason.Vrid],
  ];
  for (const [bytes, p, reason] of cases) {
    const r = validateAdvert({ bytes, family: 4 }, pol(p));
    assert.ok(!r.ok, `expected ${reason}`);
    assert.equal(r.reason, reason);
    assert.ok(r.detail.length > 0);
  }
  // Truncated message, corrupted checksum, tot_len lie, unicast TTL is not 255-checked.
  const p = pkt4();
  assert.equal((validateAdvert({ bytes: p.subarray(0, p.length - 4), family: 4 }, pol()) as { reason: string }).reason, 'length');
  const bad = Uint8Array.from(p); bad[20 + 6] ^= 0xff;
  assert.equal((validateAdvert({ bytes: bad, family: 4 }, pol()) as { reason: string }).reason, 'checksum');
  const lie = Uint8Array.from(p); lie[3] = lie[3]! + 4; // header claims 4 more bytes (IP checksum not rechecked, like the kernel path)
  assert.equal((validateAdvert({ bytes: lie, family: 4 }, pol()) as { reason: string }).reason, 'ip-length');
  assert.ok(validateAdvert({ bytes: pkt4({}, { dst: '10.99.0.12', ttl: 3 }), family: 4 }, pol({ unicast: true })).ok);
});

test('validate: Ethernet padding to 60 bytes is tolerated (v3 46-byte frame padded)', () => {
  const f = framesFrom('v3-vrrp-adverts.hex.txt')[0]!;
  const padded = new Uint8Array(46); padded.set(f); // 32-byte IP packet + 14 bytes padding
  assert.ok(validateAdvert({ bytes: padded, family: 4 }, pol({ version: 3, advertIntMs: 100 })).ok);
  const odd = new Uint8Array(45); odd.set(f);
  assert.ok(!validateAdvert({ bytes: odd, family: 4 }, pol({ version: 3, advertIntMs: 100 })).ok);
});

test('validate: VIP mismatches and v3 interval differences are accepted with notes', () => {
  const r1 = validateAdvert({ bytes: pkt4({ addresses: ['10.99.0.51'] }), family: 4 }, pol());
  assert.ok(r1.ok); assert.deepEqual(r1.notes, ['vip-mismatch']);
  const r2 = validateAdvert({ bytes: pkt4({ addresses: [] }), family: 4 }, pol());
  assert.ok(r2.ok); assert.deepEqual(r2.notes, ['naddr-mismatch']);
  const r3 = validateAdvert({ bytes: pkt4({ addresses: ['10.99.0.51'] }), family: 4 }, pol({ skipCheckAdvAddr: true, lastMaster: '10.99.0.11' }));
  assert.ok(r3.ok); assert.deepEqual(r3.notes, []);
  const v3 = encodeIpv4Advert({ version: 3, type: 1, vrid: 51, priority: 0, advertIntMs: 200, addresses: ['10.99.0.50'] }, { src: '10.99.0.11', dst: '224.0.0.18' });
  const r4 = validateAdvert({ bytes: v3, family: 4 }, pol({ version: 3, advertIntMs: 100 }));
  assert.ok(r4.ok); assert.deepEqual(r4.notes, ['interval-v3-mismatch', 'priority-zero']);
});

test('validate: IPv6 uses recvmsg src/dst/hop limit and the IPv6 pseudo-header', () => {
  const ctx = { family: 6 as const, src: 'fe80::11', dst: 'ff02::12' };
  const m = encodeAdvert({ version: 3, type: 1, vrid: 51, priority: 100, advertIntMs: 1000, addresses: ['fe80::50'] }, ctx);
  const p6 = pol({ version: 3, family: 6, vips: ['fe80::50'] });
  assert.ok(validateAdvert({ bytes: m, family: 6, src: ctx.src, dst: ctx.dst, ttl: 255 }, p6).ok);
  assert.equal((validateAdvert({ bytes: m, family: 6, src: ctx.src, dst: ctx.dst, ttl: 1 }, p6) as { reason: string }).reason, 'ttl');
  assert.equal((validateAdvert({ bytes: m, family: 6, src: 'fe80::12', dst: ctx.dst, ttl: 255 }, p6) as { reason: string }).reason, 'checksum');
});

test('property: validate never throws on random bytes', () => {
  const r = new Prng(7);
  for (let i = 0; i < 20000; i++) {
    const b = r.next() < 0.5 ? r.bytes(r.int(0, 80)) : Uint8Array.from(pkt4());
    if (b.length > 20) b[r.int(0, b.length - 1)] = r.int(0, 255);
    const res = validateAdvert({ bytes: b, family: 4 }, pol());
    if (!res.ok) assert.ok(Object.values(DropReason).includes(res.reason));
    validateAdvert({ bytes: b, family: 6, src: 'fe80::1', dst: 'ff02::12', ttl: 255 }, pol({ family: 6, version: 3 }));
  }
});

// ---- what the production node puts on the wire -----------------------------------------------------------------
import { rxPolicyFor } from '../../src/vrrp/validate.js';
import { instanceSpec, type VrrpInstanceSpec } from '../../src/vrrp/spec.js';
import { initialState } from '../../src/vrrp/machine.js';
import { VrrpNode, type NodeEffect } from '../../src/vrrp/node.js';
import { vrrpIpv4Datagram } from '../../src/net/vrrp-socket.js';
import { simPlan } from '../sim/simulator.js';

/**
 * The first adverts a director running this instance sends, through the production path: the node (config plan,
 * interface facts, start, timers) emits the encoded message and the socket's own datagram builder adds the IPv4
 * header. What these tests compare with keepalived's captures is what the daemon sends.
 */
function firstAdverts(spec: Pick<VrrpInstanceSpec, 'name' | 'vrid' | 'primaryAddress'> & Partial<VrrpInstanceSpec>): { dst: string; bytes: Uint8Array }[] {
  const node = new VrrpNode(simPlan({ id: 'd', instances: [{ ...spec, priority: spec.priority ?? 100 }] }));
  const v6 = spec.primaryAddress.includes(':');
  node.handle({ type: 'interface', facts: { name: 'eth0', ifindex: 2, up: true, ipv4: v6 ? [] : [spec.primaryAddress], ipv6LinkLocal: v6 ? [spec.primaryAddress] : [] } }, 0);
  let effects = node.handle({ type: 'start' }, 0);
  for (let i = 0; i < 10 && !effects.some((e) => e.type === 'send-advert'); i++) effects = node.handle({ type: 'timer' }, node.deadline()!);
  return effects.flatMap((e) => (e.type === 'send-advert'
    ? [{ dst: e.dst, bytes: v6 ? e.bytes : vrrpIpv4Datagram(e.bytes, { src: e.src, dst: e.dst, id: e.ipId, ttl: e.ttl }) }]
    : []));
}

test('the node reproduces keepalived’s first v2 and v3 adverts byte for byte (IPv4 header included)', () => {
  const v2 = framesFrom('v2-vrrp-adverts.hex.txt')[0]!;
  const spec2 = { name: 'VI_1', vrid: 51, priority: 150, primaryAddress: '10.99.0.11', vips: ['10.99.0.50'] };
  assert.equal(toHex(firstAdverts(spec2)[0]!.bytes), toHex(v2));
  const v3 = framesFrom('v3-vrrp-adverts.hex.txt')[0]!;
  const spec3 = { name: 'VI_1', vrid: 51, version: 3 as const, advertIntMs: 100, priority: 150, primaryAddress: '10.99.0.11', vips: ['10.99.0.50'] };
  assert.equal(toHex(firstAdverts(spec3)[0]!.bytes), toHex(v3));
  // The same spec's receive policy accepts the golden frame.
  assert.ok(validateAdvert({ bytes: v3, family: 4 }, rxPolicyFor(initialState(instanceSpec(spec3)))).ok);
});

test('the node: unicast sends one copy per peer with unicast_ttl and a per-destination v3 checksum; PASS auth; IPv6', () => {
  const spec = { name: 'VI_1', vrid: 9, version: 3 as const, priority: 100, primaryAddress: '10.0.0.1', vips: ['10.0.0.50'],
    unicastPeers: [{ address: '10.0.0.2' }, { address: '10.0.0.3' }], unicastTtl: 64 };
  const pk = firstAdverts(spec);
  assert.deepEqual(pk.map((p) => p.dst), ['10.0.0.2', '10.0.0.3']);
  for (const p of pk) {
    const ip = decodeIpv4Header(p.bytes);
    assert.ok(ip.ok); assert.equal(ip.header.ttl, 64); assert.equal(ip.header.dst, p.dst);
    const r = validateAdvert({ bytes: p.bytes, family: 4 }, { ...rxPolicyFor(initialState(instanceSpec(spec))), unicastPeers: [{ address: '10.0.0.1' }], checkUnicastSrc: true });
    assert.ok(r.ok, JSON.stringify(r));
  }
  assert.notEqual(toHex(pk[0]!.bytes.subarray(26, 28)), toHex(pk[1]!.bytes.subarray(26, 28)));
  // v2 PASS auth from the spec (first 8 characters).
  const s2 = { name: 'VI_2', vrid: 9, priority: 100, primaryAddress: '10.0.0.1', authType: 1 as const, authPass: 'longpassword' };
  const b = firstAdverts(s2)[0]!.bytes;
  assert.equal(Buffer.from(b.subarray(b.length - 8)).toString(), 'longpass');
  assert.ok(validateAdvert({ bytes: b, family: 4 }, rxPolicyFor(initialState(instanceSpec(s2)))).ok);
  // IPv6: message only, IPv6 pseudo-header checksum, to ff02::12.
  const s6 = { name: 'VI_6', vrid: 9, version: 3 as const, primaryAddress: 'fe80::1', vips: ['fe80::50'] };
  const p6 = firstAdverts(s6)[0]!;
  assert.equal(p6.dst, 'ff02::12');
  assert.ok(validateAdvert({ bytes: p6.bytes, family: 6, src: 'fe80::1', dst: 'ff02::12', ttl: 255 }, rxPolicyFor(initialState(instanceSpec(s6)))).ok);
});

test('golden IPv6 v3 advert from Debian keepalived 2.2.7 (vrid 77, prio 120, 1 s, fe80::77): checksum and bytes match', () => {
  // Captured on a veth pair in a throwaway namespace (tcpdump -xx); IPv6 header stripped, as recvmsg returns it.
  const msg = hex('314d 7801 0064 1650 fe80 0000 0000 0000 0000 0000 0000 0077');
  const ctx = { family: 6 as const, src: 'fe80::6c72:cfff:fe9b:7d9', dst: 'ff02::12' };
  const d = decodeAdvert(msg, ctx);
  assert.ok(d.ok);
  assert.equal(d.checksumOk, true);
  assert.deepEqual(d.advert, { version: 3, type: 1, vrid: 77, priority: 120, advertIntMs: 1000, addresses: ['fe80::77'] });
  assert.equal(toHex(encodeAdvert(d.advert, ctx)), toHex(msg));
  const spec = { name: 'V6', vrid: 77, version: 3 as const, priority: 120, primaryAddress: ctx.src, vips: ['fe80::77'] };
  assert.equal(toHex(firstAdverts(spec)[0]!.bytes), toHex(msg));
  assert.ok(validateAdvert({ bytes: msg, family: 6, src: ctx.src, dst: ctx.dst, ttl: 255 }, rxPolicyFor(initialState(instanceSpec(spec)))).ok);
});

test('the node encodes an advert once per priority: every send carries what a fresh encode gives, priority 0 too', () => {
  const spec = { name: 'VI_1', vrid: 51, version: 3 as const, advertIntMs: 100, priority: 150, primaryAddress: '10.99.0.11', vips: ['10.99.0.50'] };
  const node = new VrrpNode(simPlan({ id: 'd', instances: [spec] }));
  node.handle({ type: 'interface', facts: { name: 'eth0', ifindex: 2, up: true, ipv4: ['10.99.0.11'], ipv6LinkLocal: [] } }, 0);
  const sent: Array<{ priority: number; bytes: Uint8Array; ipId: number }> = [];
  const take = (effects: NodeEffect[]) => { for (const e of effects) if (e.type === 'send-advert') sent.push(e); };
  take(node.handle({ type: 'start' }, 0));
  for (let i = 0; i < 8; i++) take(node.handle({ type: 'timer' }, node.deadline()!));
  take(node.handle({ type: 'shutdown' }, 1000));
  const fresh = (priority: number) => toHex(encodeAdvert(advertFor(instanceSpec({ ...spec, vips: spec.vips }), priority), { family: 4, src: '10.99.0.11', dst: '224.0.0.18' }));
  assert.ok(sent.length >= 5);
  assert.deepEqual(sent.map((s) => s.priority), [...sent.slice(0, -1).map(() => 150), 0]);
  for (const s of sent) assert.equal(toHex(s.bytes), fresh(s.priority));
  // The IP id still counts per advert (the socket writes it into the header).
  assert.deepEqual(sent.map((s) => s.ipId), sent.map((_, i) => i + 1));
});

test('the node: an advert equal to the last one accepted (other IP id) is accepted again; one byte off is validated anew', () => {
  const spec = { name: 'VI_1', vrid: 51, version: 3 as const, advertIntMs: 100, priority: 100, primaryAddress: '10.99.0.12', vips: ['10.99.0.50'] };
  const node = new VrrpNode(simPlan({ id: 'b', instances: [spec] }));
  node.handle({ type: 'interface', facts: { name: 'eth0', ifindex: 2, up: true, ipv4: ['10.99.0.12'], ipv6LinkLocal: [] } }, 0);
  const socket = node.handle({ type: 'start' }, 0).find((e) => e.type === 'open-socket')!;
  assert.equal(socket.type, 'open-socket');
  const key = (socket as { key: string }).key;
  const msg = (priority: number) => encodeAdvert(advertFor(instanceSpec({ ...spec, priority: 150, primaryAddress: '10.99.0.11' }), priority), { family: 4, src: '10.99.0.11', dst: '224.0.0.18' });
  const packet = (m: Uint8Array, id: number) => vrrpIpv4Datagram(m, { src: '10.99.0.11', dst: '224.0.0.18', id });
  let t = 10;
  const feed = (bytes: Uint8Array) => node.handle({ type: 'packet', socket: key, bytes, family: 4, src: '10.99.0.11', dst: '224.0.0.18', ttl: 255 }, (t += 100));
  for (let id = 1; id <= 4; id++) feed(packet(msg(150), id));
  const stats = () => node.view()[0]!.stats;
  assert.equal(stats().advertsReceived, 4);
  const bad = Uint8Array.from(msg(150));
  bad[7]! ^= 0xff; // checksum
  feed(packet(bad, 5));
  assert.equal(stats().advertsReceived, 4);
  assert.equal(stats().dropped.checksum, 1);
  const lower = feed(packet(msg(0), 6));
  assert.equal(stats().priZeroReceived, 1);
  assert.ok(lower.some((e) => e.type === 'log' && /priority 0/.test(e.msg)));
  assert.equal(node.view()[0]!.masterAddress, '10.99.0.11');
});
