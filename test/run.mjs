#!/usr/bin/env node
// Runs every test file (*.test.ts) under the given folders (default: test/) with node's test runner and tsx.
// Node 20's own discovery ignores .ts files, so the list is built here. Files run one at a time: the namespace,
// interop and VM tests measure timing and share the machine's two cores.
//
// A real-kernel file (netns, interop, vm) that fails is run once more, and both runs are reported: on a loaded
// 2-core machine a VRRP scenario at advert_int 0.1 s can lose an election to CPU starvation (a 260 ms stall is a
// missed master-down interval), which says nothing about the code. Unit tests are never retried.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['test'];
const files = [];
const walk = (p) => {
  const st = statSync(p);
  if (st.isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e));
  else if (p.endsWith('.test.ts')) files.push(p);
};
for (const r of roots) walk(resolve(r));
// Fast unit tests first, then the real-kernel layers.
const order = ['/unit/', '/netns/', '/interop/', '/vm/'];
const rank = (f) => { const i = order.findIndex((o) => f.includes(o)); return i < 0 ? order.length : i; };
files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

const work = mkdtempSync(join(tmpdir(), 'kt-test-'));
function runNode(list, tag) {
  const summaryFile = join(work, `${tag}.json`);
  const args = [
    '--import', 'tsx', '--test', '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=./test/helpers/summary-reporter.mjs', '--test-reporter-destination=stdout',
    ...list,
  ];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, KT_SUMMARY_FILE: summaryFile } });
  let perFile = {};
  try {
    perFile = JSON.parse(readFileSync(summaryFile, 'utf8'));
  } catch {
    /* the runner died before reporting */
  }
  return { status: r.status ?? 1, perFile };
}

const first = runNode(files, 'first');
const counts = { ...first.perFile };
const retryable = (f) => ['/netns/', '/interop/', '/vm/'].some((d) => f.includes(d));
const failedFiles = Object.entries(first.perFile).filter(([, c]) => c.failed > 0).map(([f]) => f);
const retried = [];
if (failedFiles.length && failedFiles.every(retryable)) {
  console.log(`\nRetrying ${failedFiles.length} real-kernel file(s) that failed once:\n${failedFiles.map((f) => `  - ${relative(process.cwd(), f)}`).join('\n')}\n`);
  const second = runNode(failedFiles, 'retry');
  for (const f of failedFiles) {
    const c = second.perFile[f] ?? { passed: 0, failed: 1, skipped: 0 };
    retried.push(`${relative(process.cwd(), f)}: first run ${first.perFile[f].failed} failed, retry ${c.failed} failed`);
    counts[f] = c;
  }
}
rmSync(work, { recursive: true, force: true });

const t = Object.values(counts).reduce((a, c) => ({ passed: a.passed + c.passed, failed: a.failed + c.failed, skipped: a.skipped + c.skipped }), { passed: 0, failed: 0, skipped: 0 });
const runnerBroke = first.status !== 0 && !failedFiles.length;
if (runnerBroke) t.failed = Math.max(t.failed, 1); // the runner failed without reporting a test failure
if (retried.length) console.log(`\nRetried once (both runs shown above):\n${retried.map((r) => `  - ${r}`).join('\n')}`);
console.log(`\n${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`);
process.exit(t.failed > 0 ? 1 : 0);
