// Property tests of the VRRP advert codec and receive validation (fast-check, fixed seeds, bounded runs):
// what encodeAdvert writes, decodeAdvert reads back field for field with a verifying checksum; an advert that
// matches an instance's policy passes validateAdvert; and no input of random bytes makes either throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeAdvert, encodeAdvert, encodeIpv4Advert, passAuthData, type Advert } from '../../src/vrrp/packet.js';
import { validateAdvert, type RxPolicy } from '../../src/vrrp/validate.js';
import { bytesToAddr, type Family } from '../../src/net/address.js';

const RUNS = { seed: 0x7672, numRuns: 400 };

const addrOf = (family: Family) => fc.uint8Array({ minLength: family === 4 ? 4 : 16, maxLength: family === 4 ? 4 : 16 }).map((b) => bytesToAddr(b, family));
const CTX = { 4: { src: '10.99.0.11', dst: '224.0.0.18' }, 6: { src: 'fe80::11', dst: 'ff02::12' } } as const;

/** Any advert keepalived could send: v2 (IPv4 or IPv6, with auth) or v3, 0..20 addresses of the family. */
const advertArb = fc.record({ family: fc.constantFrom<Family>(4, 6), version: fc.constantFrom<2 | 3>(2, 3) }).chain(({ family, version }) =>
  fc.record({
    family: fc.constant(family),
    advert: fc.record({
      version: fc.constant(version),
      type: fc.constant(1),
      vrid: fc.integer({ min: 1, max: 255 }),
      priority: fc.integer({ min: 0, max: 255 }),
      advertIntMs: version === 2 ? fc.integer({ min: 1, max: 255 }).map((s) => s * 1000) : fc.integer({ min: 1, max: 4095 }).map((cs) => cs * 10),
      addresses: fc.array(addrOf(family), { maxLength: 20 }),
    }).chain((a): fc.Arbitrary<Advert> => version === 2
      ? fc.record({ authType: fc.constantFrom(0, 1, 2), authData: fc.uint8Array({ minLength: 8, maxLength: 8 }) }).map((x) => ({ ...a, ...x }))
      : fc.constant(a)),
  }));

test('encode → decode gives the same advert back, with a checksum that verifies', () => {
  fc.assert(fc.property(advertArb, ({ family, advert }) => {
    const ctx = { family, ...CTX[family] };
    const bytes = encodeAdvert(advert, ctx);
    const d = decodeAdvert(bytes, ctx);
    assert.ok(d.ok, `decode failed: ${!d.ok && d.detail}`);
    assert.deepEqual({ ...d.advert, authData: d.advert.authData && [...d.advert.authData] }, { ...advert, authData: advert.authData && [...advert.authData] });
    assert.equal(d.length, bytes.length);
    assert.ok(d.checksumOk);
  }), RUNS);
});

test('v3 over IPv4 with v3_checksum_as_v2: round trip and checksum in that mode', () => {
  fc.assert(fc.property(advertArb.filter((x) => x.family === 4 && x.advert.version === 3), ({ advert }) => {
    const ctx = { family: 4 as const, ...CTX[4], v3ChecksumAsV2: true };
    const d = decodeAdvert(encodeAdvert(advert, ctx), ctx);
    assert.ok(d.ok && d.checksumOk);
    assert.deepEqual(d.advert.addresses, advert.addresses);
  }), { ...RUNS, numRuns: 100 });
});

test('an IPv4 advert that matches the instance passes validation with its fields', () => {
  const arb = fc.record({
    version: fc.constantFrom<2 | 3>(2, 3),
    vrid: fc.integer({ min: 1, max: 255 }),
    priority: fc.integer({ min: 1, max: 254 }),
    vips: fc.uniqueArray(addrOf(4), { minLength: 1, maxLength: 10 }),
    pass: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }),
    ipId: fc.integer({ min: 1, max: 0xffff }),
  });
  fc.assert(fc.property(arb, ({ version, vrid, priority, vips, pass, ipId }) => {
    const auth = version === 2 && pass !== undefined;
    const advert: Advert = {
      version, type: 1, vrid, priority, advertIntMs: version === 2 ? 1000 : 100, addresses: vips,
      ...(version === 2 ? { authType: auth ? 1 : 0, authData: auth ? passAuthData(pass) : new Uint8Array(8) } : {}),
    };
    const pol: RxPolicy = {
      vrid, version, family: 4, advertIntMs: advert.advertIntMs, authType: auth ? 1 : 0, authData: auth ? passAuthData(pass!) : undefined,
      unicast: false, unicastPeers: [], checkUnicastSrc: false, v3ChecksumAsV2: false, ownerIgnoreAdverts: false,
      effectivePriority: 100, vips, skipCheckAdvAddr: false,
    };
    const r = validateAdvert({ bytes: encodeIpv4Advert(advert, { ...CTX[4], id: ipId }), family: 4 }, pol);
    assert.ok(r.ok, `dropped: ${!r.ok && `${r.reason} ${r.detail}`}`);
    assert.deepEqual(r.notes, []);
    assert.equal(r.advert.priority, priority);
    assert.equal(r.src, CTX[4].src);
  }), RUNS);
});

test('random bytes: decodeAdvert and validateAdvert return a result, never throw', () => {
  const pol = (family: Family, version: 2 | 3): RxPolicy => ({
    vrid: 51, version, family, advertIntMs: 1000, authType: 1, authData: passAuthData('x'), unicast: false, unicastPeers: [],
    checkUnicastSrc: true, v3ChecksumAsV2: true, ownerIgnoreAdverts: false, effectivePriority: 100, vips: ['10.0.0.1'], skipCheckAdvAddr: true,
  });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom<Family>(4, 6), fc.constantFrom<2 | 3>(2, 3), (bytes, family, version) => {
    for (const ctx of [{ family }, { family, ...CTX[family] }]) {
      const d = decodeAdvert(bytes, ctx);
      assert.equal(typeof d.ok, 'boolean');
    }
    const r = validateAdvert({ bytes, family, ...CTX[family], ttl: 255 }, pol(family, version));
    assert.equal(typeof r.ok, 'boolean');
  }), { ...RUNS, numRuns: 3000 });
});
