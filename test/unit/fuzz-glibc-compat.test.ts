// fuzz/glibc-compat.mjs: Jazzer.js's prebuilt libFuzzer addon (glibc 2.38) loads on this Debian 12 after the
// patch, the patch is idempotent and changes nothing but the three imports, and a file that is not an ELF is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain ESM helper of the fuzz harness, no types
import { patchElf } from '../../fuzz/glibc-compat.mjs';

const addon = new URL('../../node_modules/@jazzer.js/fuzzer/prebuilds/fuzzer-linux-x64.node', import.meta.url).pathname;
const original = existsSync(addon + '.orig') ? addon + '.orig' : addon;
const skip = process.platform !== 'linux' || process.arch !== 'x64' ? 'not linux-x64' : !existsSync(addon) ? 'Jazzer.js not installed' : false;

test('the patched Jazzer.js addon loads in Node on this system; the patch is idempotent', { skip }, () => {
  const before: Buffer = readFileSync(original);
  const patched: Buffer | null = patchElf(before);
  const dir = mkdtempSync(join(tmpdir(), 'kts-glibc-compat-'));
  try {
    const file = join(dir, 'fuzzer.node');
    writeFileSync(file, patched ?? before); // null: already loadable as shipped (a newer prebuild or an older patch)
    const r = spawnSync(process.execPath, ['-e', `const m = require(${JSON.stringify(file)}); process.stdout.write(typeof m.startFuzzing)`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'function');
    if (patched) {
      assert.equal(patched.length, before.length);
      assert.equal(patchElf(patched), null);
      assert.ok(!patched.includes('__isoc23_strtol\0') && patched.includes('GLIBC_2.38'));
      let changed = 0;
      for (let i = 0; i < before.length; i++) if (before[i] !== patched[i]) changed++;
      assert.ok(changed > 0 && changed < 64, `${changed} bytes changed`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that is not a 64-bit ELF is refused with the reason', () => {
  assert.throws(() => patchElf(Buffer.from('#!/bin/sh\n')), /not a 64-bit little-endian ELF/);
});
