// Batched netlink requests on a real NETLINK_ROUTE socket (this host's kernel, a fresh network namespace): several
// messages per datagram, every ACK or error matched to its own request by sequence number, a window that keeps the
// ACKs within the receive buffer, and call order kept between a batch and a plain request behind it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { needsCommand, needsRoot } from '../helpers/root.js';
import { encodeMessage, encodeMessages, decodeMessages } from '../../src/net/netlink-codec.js';

test('encodeMessages packs messages back to back, each padded to 4 bytes, as encodeMessage writes them one by one', () => {
  const ms = [
    { type: 20, flags: 5, seq: 7, payload: Buffer.from([1, 2, 3]) },
    { type: 21, flags: 1, seq: 8, payload: Buffer.alloc(0) },
    { type: 0x1c, flags: 0x605, seq: 0xffffffff, pid: 9, payload: Buffer.from('abcdefgh') },
  ];
  const b = encodeMessages(ms);
  assert.deepEqual(b, Buffer.concat(ms.map(encodeMessage)));
  assert.deepEqual(decodeMessages(b).map((m) => [m.type, m.flags, m.seq, m.pid, [...m.payload]]),
    ms.map((m) => [m.type, m.flags, m.seq, m.pid ?? 0, [...m.payload]]));
});

const skip = needsRoot() || needsCommand('unshare');

test('a real socket: one failed message fails only its own request; 1,000 requests go in a handful of datagrams', { skip }, () => {
  const r = spawnSync('unshare', ['-n', process.execPath, '--import', 'tsx', 'test/helpers/netlink-batch-child.ts'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(out.batchWindow >= 16, `window ${out.batchWindow}`);
  // Five adds in one datagram, the third a duplicate of the first.
  assert.deepEqual(out.small, { datagrams: 1, result: ['ok', 'ok', 'EEXIST', 'ok', 'ok'] });
  assert.deepEqual(out.smallTable, ['10.77.0.1', '10.77.0.2', '10.77.0.3', '10.77.0.4']);
  // 1,000 adds with a duplicate at every 100th: exactly those fail, none is lost, the delete queued behind the batch
  // finds its address; the window splits the batch into ceil(1000 / window) datagrams (the delete rides the last).
  assert.deepEqual(out.big.result, [...Array.from({ length: 10 }, (_, i) => `${i * 100 + 99}:EEXIST`), 'last:ok']);
  assert.equal(out.big.datagrams, Math.ceil(1000 / out.batchWindow));
  assert.equal(out.bigCount, 4 + 990 - 1);
  assert.deepEqual(out.one, { datagrams: 3, result: ['ok', 'ok', 'EEXIST'] });
  assert.equal(out.overruns, 0);
});

test('a request the kernel never answers is given up after the request timeout; the socket goes on working', { skip }, async () => {
  const { NetlinkSocket, NetlinkTimeoutError } = await import('../../src/net/netlink-socket.js');
  // The process connector consumes messages for an index nobody registered and answers nothing, not even the ACK
  // NLM_F_ACK asks for: the shape of a request whose ACK the kernel dropped.
  const s = new NetlinkSocket(11 /* NETLINK_CONNECTOR */, { requestTimeoutMs: 200 });
  try {
    const cnMsg = Buffer.alloc(24);
    cnMsg.writeUInt32LE(0x7777, 0); // idx: no such connector callback
    cnMsg.writeUInt16LE(4, 16); // len of the data that follows the 20-byte header
    const err = await s.request(0x10, cnMsg).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof NetlinkTimeoutError, String(err));
    assert.equal(err.code, 'KT_NETLINK_TIMEOUT');
    assert.ok(err.waitedMs >= 200, String(err.waitedMs));
    assert.equal(s.timeouts, 1);
    // A second one times out too: the first did not leave the socket stuck.
    await assert.rejects(s.request(0x10, cnMsg), NetlinkTimeoutError);
  } finally {
    s.close();
  }
  // A route socket with the same timeout answers as usual (the sweep never fires on answered requests).
  const r = new NetlinkSocket(0 /* NETLINK_ROUTE */, { requestTimeoutMs: 200 });
  try {
    const ifinfo = Buffer.alloc(16);
    const links = await r.request(18 /* RTM_GETLINK */, ifinfo, { dump: true });
    assert.ok(links.length >= 1);
    assert.equal(r.timeouts, 0);
  } finally {
    r.close();
  }
});
