#!/usr/bin/env node
// Runs every benchmark script (bench/*.ts) in sequence with tsx and passes its output through.
// Benchmarks measure timing on a shared two-core machine, so they never run in parallel.
// Args: optional script names to run only those (e.g. `node bench/run.mjs failover`).
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2).map((a) => a.replace(/\.ts$/, ''));
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .filter((f) => !only.length || only.includes(f.replace(/\.ts$/, '')))
  .sort();
if (!scripts.length) {
  console.error(`bench: no benchmark matches ${only.join(', ') || 'bench/*.ts'}`);
  process.exit(2);
}
let failed = 0;
for (const s of scripts) {
  console.log(`\n=== bench/${s} ===`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, s)], { stdio: 'inherit', cwd: join(here, '..') });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    failed++;
    console.log(`=== bench/${s} FAILED (exit ${r.status ?? r.signal}) after ${secs} s ===`);
  } else console.log(`=== bench/${s} done in ${secs} s ===`);
}
process.exit(failed ? 1 : 0);
