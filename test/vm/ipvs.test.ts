// IPVS against a real kernel: boots ONE guest (test/vm/harness.ts) that runs every test/vm/guest/*.guest.ts
// file with node's test runner, streams their TAP output, and mirrors each guest test as a subtest here so that
// failures read like local ones. The guest files are named *.guest.ts so the host's walk (test/run.mjs, which
// collects *.test.ts) never runs them outside the guest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, parseTap, runInGuest, vmUnavailable } from './harness.js';

const skip = vmUnavailable();
const guestDir = join(REPO_ROOT, 'test', 'vm', 'guest');

test('IPVS in a real kernel (qemu guest running test/vm/guest/*.guest.ts)', { skip, timeout: 45 * 60_000 }, async (t) => {
  const files = readdirSync(guestDir).filter((f) => f.endsWith('.guest.ts')).sort().map((f) => `test/vm/guest/${f}`);
  assert.ok(files.length > 0, 'no guest test files');
  let pending = '';
  const r = await runInGuest({
    command: `exec node --import tsx --test --test-concurrency=1 --test-reporter=tap ${files.join(' ')}`,
    timeoutMs: 40 * 60_000,
    log: (s) => process.stderr.write(`${s}\n`),
    onOutput: (chunk) => {
      // Stream the guest's TAP line by line so a slow or failing run is readable while it happens.
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) process.stderr.write(`guest| ${l}\n`);
    },
  });
  if (pending) process.stderr.write(`guest| ${pending}\n`);
  assert.equal(r.timedOut, false, `the guest timed out after ${r.durationMs} ms; output tail:\n${r.output.slice(-3000)}`);
  const { results } = parseTap(r.output);
  assert.ok(results.length > 0, `no TAP results from the guest (exit ${r.exitCode}):\n${r.output.slice(-3000)}`);
  for (const res of results) {
    await t.test(`guest: ${res.name}`, { skip: res.skip, todo: res.todo }, () => {
      if (!res.ok) assert.fail(`failed in the guest:\n${res.detail.slice(-6000)}`);
    });
  }
  assert.equal(r.exitCode, 0, `guest test run exited ${r.exitCode}`);
});
