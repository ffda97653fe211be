// The one logging interface (daemon/log.ts): a core's log effect becomes one pino line with its fields, the text
// form prints the message only, and a caught error's line carries our code and the errno name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorFields, logEffect, textLine } from '../../src/daemon/log.js';
import { NetlinkError } from '../../src/net/netlink-socket.js';
import { KtError } from '../../src/util/errors.js';
import { memoryLog } from '../helpers/memory-log.js';

test('logEffect: one line per effect, level mapped to pino, fields on the line', () => {
  const { log, lines } = memoryLog((l) => JSON.stringify([l.level, l.msg, l.fields]));
  logEffect(log, { type: 'log', level: 'info', msg: '(VI_1) Entering MASTER STATE', fields: { instance: 'VI_1', state: 'MASTER' } });
  logEffect(log, { type: 'log', level: 'warning', msg: 'w' });
  logEffect(log, { type: 'log', level: 'debug', msg: 'd' });
  logEffect(log, { type: 'log', level: 'error', msg: 'e' });
  assert.deepEqual(lines.map((l) => JSON.parse(l) as unknown), [
    ['info', '(VI_1) Entering MASTER STATE', { instance: 'VI_1', state: 'MASTER' }],
    ['warn', 'w', {}],
    ['debug', 'd', {}],
    ['error', 'e', {}],
  ]);
});

test('textLine: keepalived-like text with the message only; bound fields stay in the JSON form', () => {
  const json = JSON.stringify({ level: 30, time: Date.UTC(2026, 10, 21, 20), pid: 123, role: 'Keepalived_vrrp', instance: 'VI_1', state: 'MASTER', msg: '(VI_1) Entering MASTER STATE' });
  assert.equal(textLine(json), '2026-11-21T20:00:00.000Z Keepalived_vrrp[123] INFO: (VI_1) Entering MASTER STATE\n');
});

test('errorFields: our code, and the errno name of a netlink or system error', () => {
  assert.deepEqual(errorFields(new KtError('KT_DAEMON_UNSAFE_FILE', 'x')), { code: 'KT_DAEMON_UNSAFE_FILE' });
  assert.deepEqual(errorFields(new NetlinkError(17, 'EEXIST', undefined, 20)), { code: 'KT_NETLINK_REQUEST_FAILED', errno: 'EEXIST' });
  assert.deepEqual(errorFields(Object.assign(new Error('denied'), { code: 'EACCES' })), { errno: 'EACCES' });
  assert.deepEqual(errorFields(new Error('plain')), {});
  assert.deepEqual(errorFields(undefined), {});
});
