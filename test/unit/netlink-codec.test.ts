import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attr, attrU16, attrStr, decodeAttrs, decodeError, decodeMessages, encodeMessage, nest, NLA_F_NESTED,
  NLMSG_ERROR, NLM_F_ACK_TLVS, NLM_F_CAPPED,
} from '../../src/net/netlink-codec.js';

test('message round trip with 4-byte alignment', () => {
  const b = encodeMessage({ type: 20, flags: 5, seq: 7, payload: Buffer.from([1, 2, 3]) });
  assert.equal(b.length, 20);
  assert.equal(b.readUInt32LE(0), 19);
  const [m] = decodeMessages(b);
  assert.deepEqual([m.type, m.flags, m.seq, [...m.payload]], [20, 5, 7, [1, 2, 3]]);
});

test('nested attributes carry NLA_F_NESTED and decode back', () => {
  const n = nest(1, [attrU16(1, 2), attrStr(6, 'wlc')]);
  assert.equal(n.readUInt16LE(2), 1 | NLA_F_NESTED);
  const [outer] = decodeAttrs(n);
  assert.equal(outer.nested, true);
  const inner = decodeAttrs(outer.value);
  assert.deepEqual(inner.map((a) => a.type), [1, 6]);
  assert.equal(inner[1].value.toString(), 'wlc\0');
});

test('truncated attribute is a codec error, not a crash', () => {
  const a = attr(3, Buffer.alloc(8));
  assert.throws(() => decodeAttrs(a.subarray(0, 6)), /bad nla_len/);
});

test('NLMSG_ERROR with extended ack text', () => {
  const text = attrStr(1, 'ipv4: Address already assigned');
  const payload = Buffer.alloc(4 + 16);
  payload.writeInt32LE(-17, 0);
  payload.writeUInt32LE(16, 4);
  const m = { type: NLMSG_ERROR, flags: NLM_F_ACK_TLVS | NLM_F_CAPPED, seq: 1, pid: 0, payload: Buffer.concat([payload, text]) };
  assert.deepEqual(decodeError(m), { errno: 17, message: 'ipv4: Address already assigned' });
});
