// Fuzz target: every decoder of kernel netlink input. Documented errors: KT_NETLINK_MALFORMED (netlink-codec.ts,
// rtnetlink.ts decoders, genetlink.ts) and KT_IPVS_MALFORMED (ipvs/codec.ts); the rtnetlink decoders may also
// return undefined for a family or message they do not handle. Anything else thrown is a finding.
// The input is one datagram as the socket read it (all decoders see it), and each message's payload is also
// fed to the decoder its nlmsg_type selects, as the daemon does.
import { decodeMessages, decodeAttrs, attrMap, decodeError, NLMSG_ERROR } from '../../dist/src/net/netlink-codec.js';
import { decodeAddress, decodeLink, decodeRoute, decodeRule, decodeEvent } from '../../dist/src/net/rtnetlink-codec.js';
import { decodeGenl, decodeFamilyReply } from '../../dist/src/net/genetlink-codec.js';
import {
  decodeStats, decodeServiceMessage, decodeDestMessage, decodeInfoMessage, decodeConfigMessage, decodeDaemonMessage,
} from '../../dist/src/ipvs/codec.js';
import { allow, check } from './common.mjs';

const E = ['KT_NETLINK_MALFORMED', 'KT_IPVS_MALFORMED'];

function payloadDecoders(p) {
  for (const type of [16, 17, 20, 21, 24, 25, 32]) {
    const ev = allow(() => decodeEvent({ type, flags: 0, seq: 0, pid: 0, payload: p }), ...E);
    if (ev !== undefined) check(['link', 'address', 'route'].includes(ev.kind), 'event kind');
  }
  allow(() => decodeAddress(p), ...E);
  allow(() => decodeLink(p), ...E);
  allow(() => decodeRoute(p), ...E);
  allow(() => decodeRule(p), ...E);
  const g = allow(() => decodeGenl(p), ...E);
  if (g) check(Number.isInteger(g.cmd) && Number.isInteger(g.version), 'genl header fields are numbers');
  allow(() => decodeFamilyReply(p), ...E);
  allow(() => decodeServiceMessage(p), ...E);
  allow(() => decodeDestMessage(p, 2), ...E);
  allow(() => decodeDestMessage(p, 10), ...E);
  allow(() => decodeInfoMessage(p), ...E);
  allow(() => decodeConfigMessage(p), ...E);
  allow(() => decodeDaemonMessage(p), ...E);
}

export function fuzz(data) {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  const msgs = allow(() => decodeMessages(buf), ...E);
  for (const m of msgs ?? []) {
    check(m.payload.length + 16 <= buf.length, 'payload inside the datagram');
    if (m.type === NLMSG_ERROR) allow(() => decodeError(m), ...E);
    payloadDecoders(m.payload);
  }
  const attrs = allow(() => decodeAttrs(buf), ...E);
  for (const a of attrs ?? []) check(a.value.length <= buf.length, 'attribute inside the buffer');
  allow(() => attrMap(buf), ...E);
  allow(() => decodeStats(buf), ...E);
  payloadDecoders(buf);
}
