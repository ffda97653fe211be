#!/usr/bin/env node
// Runs every test file (*.test.ts) under the given folders (default: test/) with node's test runner and tsx.
// Node 20's own discovery ignores .ts files, so the list is built here. Files run one at a time: the namespace,
// interop and VM tests measure timing and share the machine's two cores.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
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

const args = [
  '--import', 'tsx', '--test', '--test-concurrency=1',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=./test/helpers/summary-reporter.mjs', '--test-reporter-destination=stdout',
  ...files,
];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
