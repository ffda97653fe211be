// Giving back node's file pages (daemon/memory-trim.ts): which mappings may be dropped (never one holding a page
// the process wrote, never a locked one), and a real trim in a node process: its RSS falls and it keeps running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { trimmableMappings } from '../../src/daemon/memory-trim.js';
import { ksock } from '../../src/net/ksock.js';

const entry = (head: string, f: { rss: number; anon?: number; locked?: number; flags?: string }) => [
  head,
  'Size:               1024 kB',
  `Rss:                ${f.rss} kB`,
  `Pss:                ${Math.floor(f.rss / 2)} kB`,
  `Anonymous:          ${f.anon ?? 0} kB`,
  `Locked:             ${f.locked ?? 0} kB`,
  `VmFlags: ${f.flags ?? 'rd ex mr mw me'}`,
].join('\n');

test('trimmable: read-only file mappings with no private page; not writable, anonymous, copied-on-write, locked, deleted or absent ones', () => {
  const smaps = [
    entry('00400000-00b6f000 r--p 00000000 fe:00 260689                             /usr/bin/node', { rss: 5948 }),
    entry('00b72000-025fe000 r-xp 00772000 fe:00 260689                             /usr/bin/node', { rss: 16632 }),
    // RELRO: written by the loader, then made read-only: its pages are private copies.
    entry('0563a000-05650000 r--p 0523a000 fe:00 260689                             /usr/bin/node', { rss: 88, anon: 88 }),
    entry('05650000-05660000 rw-p 05250000 fe:00 260689                             /usr/bin/node', { rss: 64, anon: 12 }),
    entry('353d3000-35696000 rw-p 00000000 00:00 0                                  [heap]', { rss: 2708, anon: 2708 }),
    entry('7fe0a0000000-7fe0a0100000 ---p 00000000 00:00 0 ', { rss: 0 }),
    entry('7fe0a1000000-7fe0a1100000 r-xp 00000000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6', { rss: 1048 }),
    entry('7fe0a2000000-7fe0a2100000 r-xp 00000000 fe:00 339381                     /usr/lib/x86_64-linux-gnu/libm.so.6', { rss: 0 }),
    // *_no_swap: locked (resident pages counted, or only the VmFlags 'lo' while no page is in yet).
    entry('7fe0a3000000-7fe0a3100000 r-xp 00000000 fe:00 339382                     /usr/lib/libx.so', { rss: 100, locked: 100, flags: 'rd ex mr mw me lo' }),
    entry('7fe0a4000000-7fe0a4100000 r-xp 00000000 fe:00 339383                     /usr/lib/liby.so', { rss: 4, flags: 'rd ex mr mw me lo' }),
    entry('7fe0a5000000-7fe0a5100000 r-xp 00000000 00:01 12                         /memfd:jit (deleted)', { rss: 40 }),
    entry('7ffd00100000-7ffd00102000 r-xp 00000000 00:00 0                          [vdso]', { rss: 8 }),
    '',
  ].join('\n');
  assert.deepEqual(trimmableMappings(smaps).map((m) => [m.start.toString(16), m.end.toString(16), m.name, m.rssKb]), [
    ['400000', 'b6f000', '/usr/bin/node', 5948],
    ['b72000', '25fe000', '/usr/bin/node', 16632],
    ['7fe0a1000000', '7fe0a1100000', '/usr/lib/x86_64-linux-gnu/libc.so.6', 1048],
  ]);
});

test("a trim in a real node process: its RSS falls by most of node's file pages and it keeps working", () => {
  // A separate process (the same modules, compiled by tsx), so the test runner's own pages are left alone.
  const script = `
    import { trimFileMappings } from ${JSON.stringify(join(import.meta.dirname, '../../src/daemon/memory-trim.ts'))};
    import { createHash } from 'node:crypto';
    const log = { debug() {}, info() {}, warn() {}, error() {} };
    const r = trimFileMappings(log);
    // Code and data the trim dropped come back on use: hashing, JSON, regexes run as before.
    const h = createHash('sha256').update(JSON.stringify({ a: [1, 2, 3] })).digest('hex');
    console.log(JSON.stringify({ r, ok: /^[0-9a-f]{64}$/.test(h) }));
  `;
  const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(out.status, 0, out.stderr);
  const { r, ok } = JSON.parse(out.stdout.trim().split('\n').pop()!) as { r?: { beforeKb: number; afterKb: number }; ok: boolean };
  assert.equal(ok, true);
  if (!ksock().madvise) {
    // An addon built before madvise was added: the trim says it cannot run, and nothing else changes.
    assert.equal(r, undefined);
    return;
  }
  assert.ok(r, 'the trim ran');
  assert.ok(r.beforeKb - r.afterKb > 10_000, `RSS ${r.beforeKb} kB -> ${r.afterKb} kB: expected more than 10 MB of node's pages given back`);
});
