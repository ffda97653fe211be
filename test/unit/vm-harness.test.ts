// The guest harness's pure parts: the initramfs archive, the module load order, reading the guest's TAP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { cpioNewc, moduleLoadOrder, parseTap } from '../vm/harness.js';

test('cpioNewc writes an archive cpio itself unpacks (files, dirs, symlinks, modes)', { skip: spawnSync('sh', ['-c', 'command -v cpio || command -v busybox']).status !== 0 && 'needs cpio or busybox' }, () => {
  const archive = cpioNewc([
    { name: 'bin', mode: 0o40755 },
    { name: 'bin/hello', mode: 0o100755, data: Buffer.from('#!/bin/sh\necho hi\n') },
    { name: 'bin/sh', mode: 0o120777, data: Buffer.from('busybox') },
    { name: 'odd', mode: 0o100644, data: Buffer.from('x') },
  ]);
  assert.equal(archive.length % 4, 0);
  const dir = mkdtempSync(join(tmpdir(), 'ktcpio-'));
  try {
    const cpio = spawnSync('sh', ['-c', 'command -v cpio'], { encoding: 'utf8' }).stdout.trim();
    const [cmd, args] = cpio ? [cpio, ['-id', '--quiet']] : ['busybox', ['cpio', '-id']];
    const r = spawnSync(cmd, args, { cwd: dir, input: archive });
    assert.equal(r.status, 0, r.stderr?.toString());
    assert.equal(readFileSync(join(dir, 'bin/hello'), 'utf8'), '#!/bin/sh\necho hi\n');
    assert.equal(readlinkSync(join(dir, 'bin/sh')), 'busybox');
    assert.equal(readFileSync(join(dir, 'odd'), 'utf8'), 'x');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('moduleLoadOrder puts every module after its dependencies, once, and reports missing ones', () => {
  const dep = [
    'kernel/net/netfilter/ipvs/ip_vs.ko: kernel/net/netfilter/nf_conntrack.ko kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko kernel/lib/libcrc32c.ko',
    'kernel/net/netfilter/nf_conntrack.ko: kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko kernel/lib/libcrc32c.ko',
    'kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko:',
    'kernel/lib/libcrc32c.ko:',
    'kernel/net/netfilter/ipvs/ip_vs_rr.ko: kernel/net/netfilter/ipvs/ip_vs.ko kernel/net/netfilter/nf_conntrack.ko',
    'kernel/crypto/crc32c_generic.ko:',
  ].join('\n');
  const { order, missing } = moduleLoadOrder(dep, ['crc32c_generic', 'ip_vs_rr', 'ip_vs', 'ip_vs_twos']);
  const names = order.map((p) => p.replace(/^.*\//, '').replace('.ko', ''));
  assert.deepEqual(missing, ['ip_vs_twos']);
  assert.equal(new Set(names).size, names.length);
  for (const [before, after] of [['nf_defrag_ipv4', 'nf_conntrack'], ['libcrc32c', 'nf_conntrack'], ['nf_conntrack', 'ip_vs'], ['ip_vs', 'ip_vs_rr'], ['crc32c_generic', 'libcrc32c']]) {
    assert.ok(names.indexOf(before) < names.indexOf(after), `${before} before ${after}: ${names.join(' ')}`);
  }
});

test('parseTap: top-level results with skips, and a failure with its YAML block', () => {
  const tap = [
    'TAP version 13',
    '# Subtest: adds a service',
    'ok 1 - adds a service',
    '  ---',
    '  duration_ms: 3.2',
    '  ...',
    '# Subtest: reads back',
    '    # Subtest: inner',
    '    ok 1 - inner',
    'not ok 2 - reads back',
    '  ---',
    "  error: 'expected 1 got 2'",
    '  ...',
    'ok 3 - no ipvs # SKIP this kernel has no IPVS',
    '1..3',
  ].join('\n');
  const { results, plan } = parseTap(tap);
  assert.equal(plan, 3);
  assert.deepEqual(results.map((r) => [r.ok, r.name, r.skip]), [[true, 'adds a service', undefined], [false, 'reads back', undefined], [true, 'no ipvs', 'this kernel has no IPVS']]);
  assert.match(results[1].detail, /inner/);
  assert.match(results[1].detail, /expected 1 got 2/);
});
