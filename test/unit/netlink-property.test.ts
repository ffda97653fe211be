// Property tests of the netlink codecs (fast-check, fixed seeds, bounded runs): attributes and messages read
// back as written; rtnetlink addresses and rules read back as encoded; and random bytes make the decoders
// return or throw KT_NETLINK_MALFORMED, nothing else. Plus the genl cases fuzzing found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { attr, attrU32, decodeAttrs, decodeError, decodeMessages, encodeMessage, nest } from '../../src/net/netlink-codec.js';
import { decodeAddress, decodeEvent, decodeLink, decodeRoute, decodeRule, encodeNewAddress, encodeRule } from '../../src/net/rtnetlink-codec.js';
import { decodeFamilyReply, decodeGenl, genlPayload, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_MCAST_GROUPS } from '../../src/net/genetlink-codec.js';
import { isKtError } from '../../src/util/errors.js';

const RUNS = { seed: 0x6e6c, numRuns: 300 };
const onlyCodecError = (f: () => unknown): void => {
  try {
    f();
  } catch (e) {
    assert.ok(isKtError(e, 'KT_NETLINK_MALFORMED'), `threw ${(e as Error).constructor.name}: ${(e as Error).message}`);
  }
};
const attrArb = fc.record({ type: fc.integer({ min: 0, max: 0x3fff }), value: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)), nested: fc.boolean(), netByteOrder: fc.boolean() }).map((a) => ({ ...a }));

test('attributes: decodeAttrs reads back what attr() wrote (type, flags, value), nests included', () => {
  fc.assert(fc.property(fc.array(attrArb, { maxLength: 12 }), (attrs) => {
    const wire = Buffer.concat(attrs.map((a) => attr(a.type, a.value, a)));
    assert.deepEqual(decodeAttrs(wire).map((a) => ({ ...a, value: Buffer.from(a.value) })), attrs);
    const outer = decodeAttrs(nest(7, [wire]));
    assert.equal(outer.length, 1);
    assert.ok(outer[0]!.nested);
    assert.equal(decodeAttrs(outer[0]!.value).length, attrs.length);
  }), RUNS);
});

test('messages: decodeMessages splits a datagram back into the messages encodeMessage wrote', () => {
  const msgArb = fc.record({ type: fc.integer({ min: 0, max: 0xffff }), flags: fc.integer({ min: 0, max: 0xffff }), seq: fc.nat(), pid: fc.nat(), payload: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) }).map((m) => ({ ...m }));
  fc.assert(fc.property(fc.array(msgArb, { maxLength: 8 }), (msgs) => {
    const got = decodeMessages(Buffer.concat(msgs.map((m) => encodeMessage(m))));
    assert.deepEqual(got.map((m) => ({ ...m, payload: Buffer.from(m.payload) })), msgs);
  }), RUNS);
});

test('rtnetlink: an address encoded for RTM_NEWADDR decodes to the same address, prefix, label and peer', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
  const arb = fc.record({ ifindex: fc.integer({ min: 1, max: 1 << 20 }), address: v4, prefixlen: fc.integer({ min: 0, max: 32 }), peer: fc.option(v4, { nil: undefined }), broadcast: fc.option(v4, { nil: undefined }), label: fc.option(fc.stringMatching(/^eth0:[a-z0-9]{1,10}$/), { nil: undefined }), scope: fc.constantFrom(0, 200, 253, 254) });
  fc.assert(fc.property(arb, (spec) => {
    const info = decodeAddress(encodeNewAddress(spec));
    assert.ok(info);
    assert.equal(info.address, spec.address);
    assert.equal(info.prefixlen, spec.prefixlen);
    assert.equal(info.ifindex, spec.ifindex);
    assert.equal(info.scope, spec.scope);
    assert.equal(info.label, spec.label);
    assert.equal(info.broadcast, spec.broadcast);
    assert.equal(info.peer, spec.peer && spec.peer !== spec.address ? spec.peer : undefined);
  }), RUNS);
});

test('rtnetlink: a rule encoded for RTM_NEWRULE decodes to the same selectors and table', () => {
  const arb = fc.record({ family: fc.constant(4 as const), from: fc.option(fc.constantFrom('10.0.0.0', '192.168.1.0'), { nil: undefined }), fromLen: fc.integer({ min: 1, max: 32 }), table: fc.integer({ min: 1, max: 0xffffff }), priority: fc.option(fc.nat(32766), { nil: undefined }), fwmark: fc.option(fc.nat(), { nil: undefined }), iif: fc.option(fc.constantFrom('eth0', 'lo'), { nil: undefined }) });
  fc.assert(fc.property(arb, (spec) => {
    const r = decodeRule(encodeRule(spec, 'add'));
    assert.ok(r);
    assert.equal(r.table, spec.table);
    assert.equal(r.from, spec.from);
    assert.equal(r.fromLen, spec.from ? spec.fromLen : 0);
    assert.equal(r.priority, spec.priority);
    assert.equal(r.fwmark, spec.fwmark);
    assert.equal(r.iif, spec.iif);
    assert.equal(r.protocol, 18);
  }), RUNS);
});

test('random bytes: every netlink decoder returns or throws KT_NETLINK_MALFORMED', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 160 }), fc.constantFrom(0, 2, 10), (bytes, family) => {
    const b = Buffer.from(bytes);
    if (b.length) b[0] = family || b[0]!;
    onlyCodecError(() => decodeMessages(b));
    onlyCodecError(() => decodeAttrs(b));
    onlyCodecError(() => decodeError({ type: 2, flags: 0x300, seq: 0, pid: 0, payload: b }));
    for (const f of [decodeAddress, decodeLink, decodeRoute, decodeRule, decodeGenl, decodeFamilyReply]) onlyCodecError(() => f(b));
    for (const type of [16, 20, 24]) onlyCodecError(() => decodeEvent({ type, flags: 0, seq: 0, pid: 0, payload: b }));
  }), { ...RUNS, numRuns: 3000 });
});

// Found by fuzz/targets/netlink.mjs: a short genl header gave undefined cmd/version; a family reply without a
// family id (or with a 2-byte group id) threw a TypeError / RangeError out of resolveFamily.
test('genl: a cut-short header or a family reply without an id is KT_NETLINK_MALFORMED', () => {
  assert.throws(() => decodeGenl(Buffer.from([3, 1])), { code: 'KT_NETLINK_MALFORMED' });
  assert.throws(() => decodeFamilyReply(genlPayload(1, 2, [attr(CTRL_ATTR_FAMILY_NAME, Buffer.from('IPVS\0'))]), 'IPVS'), /without a family id/);
  const f = decodeFamilyReply(genlPayload(1, 2, [attr(CTRL_ATTR_FAMILY_ID, Buffer.from([0x1c, 0])), nest(CTRL_ATTR_MCAST_GROUPS, [nest(1, [attr(1, Buffer.from('mc\0')), attr(2, Buffer.from([9, 0]))])])]), 'IPVS');
  assert.deepEqual({ id: f.id, name: f.name, groups: [...f.mcastGroups] }, { id: 0x1c, name: 'IPVS', groups: [] });
  assert.equal(decodeFamilyReply(genlPayload(1, 2, [attr(CTRL_ATTR_FAMILY_ID, Buffer.from([0x1c, 0])), attrU32(3, 2)])).version, 2);
});
