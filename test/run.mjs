#!/usr/bin/env node
// Runs every test file (*.test.ts) under the given folders (default: test/) with node's test runner and tsx.
// Node 20's own discovery ignores .ts files, so the list is built here. Files run one at a time: the namespace,
// interop and VM tests measure timing and share the machine's two cores.
//
// Nothing is retried: a test that passes only on its second run is a defect to find (a race in the test, or a
// daemon that loses an election to CPU starvation), not one to absorb. The closing line is
// `N passed, N failed, N skipped`.
//
// Every skip is counted and listed with its reason (a skipped describe-suite counts as one). As root a skip is a
// failure, because scripts/setup-system.sh installs everything the tests need; KT_ALLOW_SKIP=1 allows skips (for a
// developer without qemu, say). See test/helpers/tally.mjs.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { closingLine, emptyTally, skipReport, totals } from './helpers/tally.mjs';

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
  let tally = emptyTally();
  try {
    tally = JSON.parse(readFileSync(summaryFile, 'utf8'));
  } catch {
    /* the runner died before reporting: counted below */
  }
  return { status: r.status ?? 1, tally };
}

const show = (f) => relative(process.cwd(), f);
const run = runNode(files, 'run');
const tally = run.tally;
rmSync(work, { recursive: true, force: true });

const t = totals(tally);
const runnerBroke = run.status !== 0 && !tally.failedByTests.length;
if (runnerBroke) {
  // node's test runner exited non-zero without reporting a test failure (a crash, a reporter error).
  console.log(`\nThe test runner exited with status ${run.status} without reporting a failed test: counted as one failure.`);
  t.failed = Math.max(t.failed, 1);
}
const skips = skipReport(tally.skips, show);
if (skips) console.log(`\n${skips.trimEnd()}`);
console.log(`\n${closingLine(t)}`);
process.exit(t.failed > 0 ? 1 : 0);
