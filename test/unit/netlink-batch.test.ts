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
