// Decoders of kernel and wire input never crash: random and truncated bytes give undefined or a typed codec error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { attr } from '../../src/net/netlink-codec.js';
import { decodeAddress, decodeEvent, decodeLink, decodeRoute, decodeRule, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE } from '../../src/net/rtnetlink-codec.js';
import { parseArpFrame, buildGratuitousArp } from '../../src/net/arp.js';
import { parseNaFrame, buildUnsolicitedNa } from '../../src/net/ndisc.js';
import { parseIpv4Header } from '../../src/net/ipv4-header.js';
import { parseCmsgs } from '../../src/net/vrrp-socket.js';
import { isKtError } from '../../src/util/errors.js';

const ok = (f: () => unknown): void => {
  try {
    f();
  } catch (e) {
    assert.ok(isKtError(e, 'KT_NETLINK_MALFORMED'), `unexpected ${(e as Error).constructor.name}: ${(e as Error).message}`);
  }
};

test('rtnetlink decoders on random payloads', () => {
  for (let i = 0; i < 3000; i++) {
    const b = randomBytes(Math.floor(Math.random() * 80));
    if (b.length > 0) b[0] = [2, 10, 0][i % 3];
    ok(() => decodeAddress(b));
    ok(() => decodeLink(b));
    ok(() => decodeRoute(b));
    ok(() => decodeRule(b));
    for (const type of [RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE]) ok(() => decodeEvent({ type, flags: 0, seq: 0, pid: 0, payload: b }));
  }
});

test('well-formed headers with malformed attributes (short addresses, short u32s)', () => {
  const ifa = Buffer.from('02180000 03000000'.replace(/ /g, ''), 'hex');
  assert.throws(() => decodeAddress(Buffer.concat([ifa, attr(2, Buffer.from([10, 0, 0]))])), { code: 'KT_NETLINK_MALFORMED' });
  assert.throws(() => decodeAddress(Buffer.concat([ifa, attr(2, Buffer.alloc(4)), attr(8, Buffer.alloc(2))])), { code: 'KT_NETLINK_MALFORMED' });
  const rt = Buffer.alloc(12);
  rt[0] = 2;
  assert.throws(() => decodeRoute(Buffer.concat([rt, attr(4, Buffer.alloc(1))])), { code: 'KT_NETLINK_MALFORMED' });
});

test('frame parsers on random and truncated frames', () => {
  const garp = buildGratuitousArp('02:00:00:99:00:11', '10.99.0.50');
  const na = buildUnsolicitedNa('02:00:00:99:00:11', '2001:db8::50');
  for (let n = 0; n < garp.length; n++) assert.equal(parseArpFrame(garp.subarray(0, n)), undefined);
  for (let n = 0; n < 78; n++) assert.equal(parseNaFrame(na.subarray(0, n)), undefined);
  for (let i = 0; i < 3000; i++) {
    const b = randomBytes(Math.floor(Math.random() * 120));
    parseArpFrame(b);
    parseIpv4Header(b);
    parseCmsgs(b);
    const c = Buffer.from(na);
    randomBytes(8).copy(c, 54 + 24 + Math.floor(Math.random() * 8) % 8);
    parseNaFrame(c.subarray(0, 54 + Math.floor(Math.random() * 40)));
  }
});
