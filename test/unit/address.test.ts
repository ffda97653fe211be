// src/net/address.ts: the in-repo parser accepts exactly what node's isIPv4/isIPv6 accept (the tree used them before,
// and they follow inet_pton), and without a zone id exactly what ip-address's Address6.isValid accepts (the config
// model used it before); printing is RFC 5952 as `ip` prints it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv4, isIPv6 } from 'node:net';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import {
  AddressError, addrToBytes, addressFamily, bytesToAddr, canonicalAddr, compareAddr, familyName, familyOf, isLinkLocal6,
  isMulticast, parseCidr, VRRP_GROUP4, VRRP_GROUP6, vrrpGroup,
} from '../../src/net/address.js';
import { isKtError } from '../../src/util/errors.js';

const { Address6 } = createRequire(import.meta.url)('ip-address') as typeof import('ip-address');

const nodeFamily = (s: string): 4 | 6 | undefined => (isIPv4(s) ? 4 : isIPv6(s) ? 6 : undefined);

const EDGES = [
  '', '0.0.0.0', '255.255.255.255', '256.0.0.0', '01.2.3.4', '1.2.3', '1.2.3.4.', ' 1.2.3.4', '1.2.3.4\n', '1.2.3.4%eth0',
  '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8::', '1::2::3', ':1::2',
  '1::2:', '1:::2', '::1.2.3.4', '::1.2.3', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '1:2:3:4:5::1.2.3.4',
  '1:2:3:4:5:6::1.2.3.4', '::ffff:256.1.1.1', '::ffff:1.2.3.04', 'ABCD::EF01', '02001::1', '::00001', '1::2%', '1::2%eth0',
  '1::2%a_b', '1::2%a.b:c-d', '1::2%eth0%x', '::ffff:1.2.3.4%x', 'g::1', '1:2:3:4:5:6:7:8:9', '12345::', '::12345.1',
  '1.2.3.4::', '::1.2.3.4:5', '%eth0', ':', ':::',
];

const hexGroup = fc.stringMatching(/^[0-9a-fA-F]{0,5}$/);
const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('00', '01', '099', ''));
const dotted = fc.array(octet, { minLength: 2, maxLength: 5 }).map((p) => p.join('.'));
const v6ish = fc.tuple(fc.array(fc.oneof(hexGroup, fc.constant('')), { minLength: 1, maxLength: 10 }), fc.option(dotted), fc.option(fc.constantFrom('%eth0', '%', '%a b', '%1')))
  .map(([g, v4, zone]) => `${g.join(':')}${v4 ? `:${v4}` : ''}${zone ?? ''}`);
const anyText = fc.oneof(dotted, v6ish, fc.string({ maxLength: 12 }), fc.constantFrom(...EDGES));

test('accepts what node:net accepts, and nothing else', () => {
  for (const s of EDGES) assert.equal(addressFamily(s), nodeFamily(s), JSON.stringify(s));
  fc.assert(fc.property(anyText, (s) => addressFamily(s) === nodeFamily(s)), { numRuns: 20000 });
});

test('zone-free IPv6 (the config model) accepts what Address6.isValid accepted; canonical text is RFC 5952', () => {
  const old = (s: string): boolean => s.includes(':') && Address6.isValid(s) && !s.includes('%');
  fc.assert(fc.property(fc.oneof(v6ish, fc.constantFrom(...EDGES)), (s) => (parseCidr(s, false)?.family === 6) === old(s)), { numRuns: 20000 });
  // Same text as Address6.correctForm, except IPv4-mapped addresses, which keep a dotted tail like `ip`.
  fc.assert(fc.property(fc.ipV6(), (s) => {
    const want = new Address6(s).correctForm();
    const got = parseCidr(s)!.address;
    return got === want || (got.startsWith('::ffff:') && got.includes('.'));
  }), { numRuns: 5000 });
});

test('text ↔ bytes round trip, as ip prints', () => {
  for (const [i, o] of [['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], ['fe80::1', 'fe80::1'], ['::', '::'],
    ['ff02::12', 'ff02::12'], ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'], ['fe80::1%eth0', 'fe80::1'], ['10.0.0.1', '10.0.0.1']])
    assert.equal(bytesToAddr(addrToBytes(i)), o);
  fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (s) => canonicalAddr(bytesToAddr(addrToBytes(s))) === canonicalAddr(s)));
  assert.equal(bytesToAddr(addrToBytes('10.1.2.3'), 4), '10.1.2.3');
  assert.equal(bytesToAddr(Buffer.alloc(20), 6), '::');
});

test('one error for a bad address: AddressError, KT_ADDR_INVALID, with the input and the family expected', () => {
  const check = (f: () => unknown, input: string, family?: 4 | 6) =>
    assert.throws(f, (e: unknown) => e instanceof AddressError && isKtError(e, 'KT_ADDR_INVALID') && e.input === input && e.family === family);
  check(() => familyOf('10.0.0'), '10.0.0');
  check(() => addrToBytes('fe80::1', 4), 'fe80::1', 4);
  check(() => addrToBytes('10.0.0.1', 6), '10.0.0.1', 6);
  check(() => canonicalAddr('x'), 'x');
  assert.throws(() => bytesToAddr(Buffer.alloc(5)), AddressError);
  assert.match(new AddressError('1.2.3', 4).message, /not an IPv4 address: '1\.2\.3'/);
});

test('prefixes, classes, order, the VRRP groups', () => {
  assert.deepEqual(parseCidr('10.0.0.0/24'), { address: '10.0.0.0', family: 4, prefix: 24 });
  assert.deepEqual(parseCidr('2001:DB8::/64'), { address: '2001:db8::', family: 6, prefix: 64 });
  assert.deepEqual(parseCidr('10.0.0.1'), { address: '10.0.0.1', family: 4, prefix: undefined });
  for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/x', 'fe80::1%eth0']) assert.equal(parseCidr(bad), undefined, bad);
  assert.equal(parseCidr('10.0.0.0/24', false), undefined);
  assert.deepEqual([isMulticast('224.0.0.18'), isMulticast('239.1.1.1'), isMulticast('240.0.0.1'), isMulticast('ff02::12'), isMulticast('fe80::1')],
    [true, true, false, true, false]);
  assert.deepEqual([isLinkLocal6('fe80::1'), isLinkLocal6('febf::1'), isLinkLocal6('fec0::1'), isLinkLocal6('10.0.0.1')], [true, true, false, false]);
  assert.deepEqual([compareAddr('10.0.0.2', '10.0.0.10'), compareAddr('10.0.0.2', '10.0.0.2'), compareAddr('fe80::2', 'fe80::1'), compareAddr('10.0.0.1', '::1')], [-1, 0, 1, 0]);
  assert.deepEqual([vrrpGroup(4), vrrpGroup(6), VRRP_GROUP4, VRRP_GROUP6, familyName(4), familyName(6)],
    ['224.0.0.18', 'ff02::12', '224.0.0.18', 'ff02::12', 'inet', 'inet6']);
});
