// vrrp_/checker_no_swap locks only what V8 never gives back: the mapped files and the main thread's stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lockableMappings } from '../../src/daemon/process-priority.js';

test('no_swap: mapped files and [stack] are locked; anonymous memory, V8 heap, guard pages and deleted files are not', () => {
  const maps = [
    '00400000-04a00000 r-xp 00000000 08:01 123 /usr/bin/node',
    '04a00000-04a01000 ---p 04600000 08:01 123 /usr/bin/node',
    '7f00c0000000-7f00c4000000 rw-p 00000000 00:00 0 ',
    '7f00c8000000-7f00c8040000 ---p 00000000 00:00 0',
    '7f00d0000000-7f00d0001000 r--p 00000000 08:01 77 /usr/lib/x86_64-linux-gnu/libc.so.6',
    '7f00d1000000-7f00d1001000 rw-s 00000000 00:05 9 /memfd:x (deleted)',
    '7f00d2000000-7f00d2001000 r--p 00000000 08:01 78 /opt/my lib.so',
    '7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]',
    '7ffd00100000-7ffd00102000 r-xp 00000000 00:00 0 [vdso]',
    '',
  ].join('\n');
  assert.deepEqual(lockableMappings(maps).map((m) => [m.start.toString(16), m.end - m.start, m.name]), [
    ['400000', 0x4600000, '/usr/bin/node'],
    ['7f00d0000000', 0x1000, '/usr/lib/x86_64-linux-gnu/libc.so.6'],
    ['7f00d2000000', 0x1000, '/opt/my lib.so'],
    ['7ffd00000000', 0x21000, '[stack]'],
  ]);
});
