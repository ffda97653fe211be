// IPVS against a real kernel: boots ONE guest (test/vm/harness.ts) that runs every test/vm/guest/*.guest.ts
// file with node's test runner, streams their TAP output, and mirrors each guest test as a subtest here so that
// failures read like local ones. The guest files are named *.guest.ts so the host's walk (test/run.mjs, which
// collects *.test.ts) never runs them outside the guest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runInGuest, vmUnavailable } from './harness.js';

interface TapResult {
  ok: boolean;
  name: string;
  skip?: string;
  todo?: boolean;
  detail: string;
}

/** Top-level results of a TAP stream (nested subtests stay in the detail text). */
export function parseTap(tap: string): { results: TapResult[]; plan?: number } {
  const results: TapResult[] = [];
  let block: string[] = [];
  let plan: number | undefined;
  for (const line of tap.split('\n')) {
    const m = /^(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\b ?(.*))?$/.exec(line);
    const p = /^1\.\.(\d+)$/.exec(line);
    if (p) plan = Number(p[1]);
    block.push(line);
    if (!m) continue;
    results.push({ ok: m[1] === 'ok', name: m[2], skip: m[3] === 'SKIP' ? m[4] || 'skipped in the guest' : undefined, todo: m[3] === 'TODO', detail: block.join('\n') });
    block = [];
  }
  // The YAML block of a top-level failure follows its "not ok" line.
  for (let i = 0; i < results.length; i++) {
    if (results[i].ok) continue;
    const after = tap.split(results[i].detail)[1] ?? '';
    const yaml = /^\s{2}---\n([\s\S]*?)\n\s{2}\.\.\./.exec(after.replace(/^\n/, ''));
    if (yaml) results[i].detail += '\n' + yaml[1];
  }
  return { results, plan };
}

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
