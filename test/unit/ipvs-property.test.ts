// Property tests of the IPVS generic-netlink codec (fast-check, fixed seeds, bounded runs): the service,
// destination, sync-daemon and timeout messages we send decode back to the same spec (the kernel's replies carry
// the same nests), and random bytes make the decoders throw only KT_IPVS_MALFORMED / KT_NETLINK_MALFORMED.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeConfigMessage, decodeDaemonMessage, decodeDestMessage, decodeInfoMessage, decodeServiceMessage, decodeStats,
  newDaemonRequest, newDestRequest, newServiceRequest, setConfigRequest, IPVS_CMD_ATTR_DEST, IPVS_DEST_ATTR_ADDR, IPVS_DEST_ATTR_ADDR_FAMILY,
  IPVS_DEST_ATTR_FWD_METHOD, IPVS_DEST_ATTR_PORT, IPVS_DEST_ATTR_WEIGHT,
} from '../../src/ipvs/codec.js';
import { canonicalAddr } from '../../src/net/address.js';
import {
  FWD_TUNNEL, SCHEDULERS, TUN_GUE, TUN_IPIP, type DestSpec, type ServiceSpec,
} from '../../src/ipvs/kernel-table.js';
import { AF_INET, AF_INET6, type Af } from '../../src/net/constants.js';
import { attr, attrBe16, attrU16, attrU32, nest } from '../../src/net/netlink-codec.js';
import { genlPayload } from '../../src/net/genetlink-codec.js';
import { isKtError } from '../../src/util/errors.js';

const RUNS = { seed: 0x6970, numRuns: 300 };
const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const v6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((h) => canonicalAddr(h.map((x) => x.toString(16)).join(':')));
const addrFor = (af: Af) => (af === AF_INET ? v4 : v6);
const plain = <T extends object>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

const serviceArb: fc.Arbitrary<ServiceSpec> = fc.constantFrom<Af>(AF_INET, AF_INET6).chain((af) => {
  const settings = {
    scheduler: fc.constantFrom(...SCHEDULERS),
    flags: fc.constantFrom(0, 0x1, 0x4, 0x8, 0x10, 0x20, 0x39, 0x3d),
    timeout: fc.nat(),
    netmask: af === AF_INET ? fc.constantFrom(0xffffffff, 0xffffff00, 0xffff0000) : fc.integer({ min: 1, max: 128 }),
    peName: fc.option(fc.constant('sip'), { nil: undefined }),
  };
  return fc.oneof(
    fc.record({ af: fc.constant(af), protocol: fc.constantFrom(6, 17, 132), addr: addrFor(af), port: fc.nat(65535), ...settings }, { requiredKeys: ['af', 'protocol', 'addr', 'port', 'scheduler', 'flags', 'timeout', 'netmask'] }),
    fc.record({ af: fc.constant(af), fwmark: fc.integer({ min: 1, max: 0xffffffff }), ...settings }, { requiredKeys: ['af', 'fwmark', 'scheduler', 'flags', 'timeout', 'netmask'] }),
  ) as fc.Arbitrary<ServiceSpec>;
});

const destArb: fc.Arbitrary<DestSpec> = fc.constantFrom<Af>(AF_INET, AF_INET6).chain((af) =>
  fc.record({
    af: fc.constant(af), addr: addrFor(af), port: fc.nat(65535), fwd: fc.constantFrom(0, 2, 3), weight: fc.nat(0x7fffffff),
    uThreshold: fc.nat(), lThreshold: fc.nat(), tunType: fc.constantFrom(0, 1, 2), tunPort: fc.integer({ min: 1, max: 65535 }), tunFlags: fc.constantFrom(0, 1, 2),
  }).map((d): DestSpec => {
    const { tunType, tunPort, tunFlags, ...base } = d;
    if (d.fwd !== FWD_TUNNEL) return base;
    return { ...base, tunType, ...(tunType === TUN_GUE ? { tunPort } : {}), ...(tunType !== TUN_IPIP ? { tunFlags } : {}) };
  }));

test('service: NEW_SERVICE payload decodes to the same service', () => {
  fc.assert(fc.property(serviceArb, (s) => {
    const { kernelFlags, ...got } = decodeServiceMessage(newServiceRequest(s).payload);
    assert.equal(kernelFlags, s.flags);
    assert.deepEqual(plain(got), plain(s));
  }), RUNS);
});

test('destination: NEW_DEST payload decodes to the same destination (tunnel fields as the type needs them)', () => {
  const key = { af: AF_INET, protocol: 6, addr: '10.0.0.1', port: 80 } as const;
  fc.assert(fc.property(destArb, (d) => {
    const got = decodeDestMessage(newDestRequest(key, d).payload, AF_INET);
    assert.deepEqual(plain(got), plain({ ...d, activeConns: 0, inactConns: 0, persistConns: 0 }));
  }), RUNS);
});

test('sync daemon and timeouts: NEW_DAEMON and SET_CONFIG payloads decode to the same settings', () => {
  const daemonArb = fc.record({
    state: fc.constantFrom(1 as const, 2 as const), mcastIfn: fc.stringMatching(/^[a-z][a-z0-9]{0,14}$/), syncId: fc.nat(255),
    syncMaxLen: fc.integer({ min: 1, max: 65535 }), mcastGroup: fc.oneof(v4.filter((a) => a !== '0.0.0.0'), v6.filter((a) => a !== '::')),
    mcastPort: fc.integer({ min: 1, max: 65535 }), mcastTtl: fc.integer({ min: 1, max: 255 }),
  });
  fc.assert(fc.property(daemonArb, (d) => assert.deepEqual(plain(decodeDaemonMessage(newDaemonRequest(d).payload)), plain(d))), RUNS);
  fc.assert(fc.property(fc.record({ tcp: fc.nat(), tcpFin: fc.nat(), udp: fc.nat() }), (t) => assert.deepEqual(plain(decodeConfigMessage(setConfigRequest(t).payload)), plain(t))), RUNS);
});

test('random bytes: the IPVS decoders throw only KT_IPVS_MALFORMED or KT_NETLINK_MALFORMED', () => {
  const onlyDecodeErrors = (f: () => unknown): void => {
    try {
      f();
    } catch (e) {
      assert.ok(isKtError(e, 'KT_IPVS_MALFORMED') || isKtError(e, 'KT_NETLINK_MALFORMED'), `threw ${(e as Error).constructor.name}: ${(e as Error).message}`);
    }
  };
  // Random attribute values inside well-formed nests reach the field decoders, not just the length checks.
  const nestArb = fc.array(fc.record({ type: fc.integer({ min: 0, max: 16 }), value: fc.uint8Array({ maxLength: 20 }) }), { maxLength: 10 })
    .map((as) => as.map((a) => attr(a.type, Buffer.from(a.value))));
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), nestArb, fc.integer({ min: 1, max: 3 }), (bytes, inner, top) => {
    for (const p of [Buffer.from(bytes), genlPayload(1, 1, [nest(top, inner)]), genlPayload(1, 1, inner)]) {
      onlyDecodeErrors(() => decodeServiceMessage(p));
      onlyDecodeErrors(() => decodeDestMessage(p, AF_INET));
      onlyDecodeErrors(() => decodeDestMessage(p, AF_INET6));
      onlyDecodeErrors(() => decodeInfoMessage(p));
      onlyDecodeErrors(() => decodeConfigMessage(p));
      onlyDecodeErrors(() => decodeDaemonMessage(p));
      onlyDecodeErrors(() => decodeStats(p));
    }
  }), { ...RUNS, numRuns: 3000 });
});

// Found by fuzz/targets/netlink.mjs: a destination whose ADDR_FAMILY is neither AF_INET nor AF_INET6 threw
// KT_IPVS_BAD_SPEC ("unknown address family 16386"), and a short IPv4 address read as "10.99.undefined.undefined".
test('a dest reply with an unknown address family or a short address is KT_IPVS_MALFORMED', () => {
  const dest = (af: number, addr: Buffer) => genlPayload(1, 1, [nest(IPVS_CMD_ATTR_DEST, [
    attrU16(IPVS_DEST_ATTR_ADDR_FAMILY, af), attr(IPVS_DEST_ATTR_ADDR, addr), attrBe16(IPVS_DEST_ATTR_PORT, 80),
    attrU32(IPVS_DEST_ATTR_FWD_METHOD, 0), attrU32(IPVS_DEST_ATTR_WEIGHT, 1),
  ])]);
  assert.throws(() => decodeDestMessage(dest(16386, Buffer.alloc(16)), AF_INET), (e) => isKtError(e, 'KT_IPVS_MALFORMED') && /unknown address family 16386/.test(e.message));
  assert.throws(() => decodeDestMessage(dest(AF_INET, Buffer.from([10, 99])), AF_INET), (e) => isKtError(e, 'KT_IPVS_MALFORMED') && /2 bytes, need 4/.test(e.message));
  assert.equal(decodeDestMessage(dest(AF_INET, Buffer.from([10, 99, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), AF_INET).addr, '10.99.0.1');
});
