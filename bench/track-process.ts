// Benchmark (not a test): the vrrp_track_process monitor (src/notify/process-monitor.ts) as the VRRP child runs it,
// in this process, in the initial network namespace (where the kernel's process connector is). Two parts:
//  - churn: a shell runs --churn short processes (/bin/true: fork, exec, exit each) while the monitor follows every
//    event on the machine; prints events handled per second and the monitor's CPU per 1000 events;
//  - detection: --rounds times, a uniquely named copy of sleep is started and killed; prints the time from spawn()
//    and from kill() to the monitor's quorum change (p50 / max).
//
//   node --import tsx bench/track-process.ts [--churn 3000] [--rounds 20]
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ProcessMonitor } from '../src/notify/process-monitor.js';
import type { ProcessTrackerSpec } from '../src/vrrp/track-process.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : def;
}

const churn = arg('churn', 3000);
const rounds = arg('rounds', 20);
const dir = mkdtempSync(join(tmpdir(), 'kt-bench-tp-'));
const name = `ktbp${Math.random().toString(36).slice(2, 8)}`;
const binary = join(dir, name);
copyFileSync('/bin/sleep', binary);
spawnSync('chmod', ['0755', binary]);

const base = { params: [] as string[], paramMatch: 'none' as const, quorum: 1, quorumMax: 4294967295, terminateDelayMs: 0, forkDelayMs: 0 };
const specs: ProcessTrackerSpec[] = [
  { ...base, name: 'comm', process: name, fullCommand: false },
  { ...base, name: 'cmdline', process: binary, fullCommand: true, params: ['3600'], paramMatch: 'exact' },
];
const m = new ProcessMonitor(specs, { log: pino({ level: 'warn' }) });
let waiter: ((up: boolean) => void) | undefined;
m.on('change', (c: { name: string; up: boolean }) => { if (c.name === 'comm') waiter?.(c.up); });
m.start();

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function main(): Promise<void> {
  // Churn.
  const e0 = m.events;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    spawn('sh', ['-c', `i=0; while [ $i -lt ${churn} ]; do /bin/true; i=$((i+1)); done`], { stdio: 'ignore' }).once('exit', () => resolve());
  });
  await new Promise((r) => setTimeout(r, 200)); // let the last events arrive
  const secs = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const events = m.events - e0;
  const cpuMs = (cu.user + cu.system) / 1000;
  console.log(`churn: ${churn} processes, ${events} events in ${secs.toFixed(2)} s (${Math.round(events / secs)} events/s); ` +
    `monitor CPU ${cpuMs.toFixed(0)} ms (${(cpuMs / (events / 1000)).toFixed(1)} ms per 1000 events); rescans ${m.rescans}`);

  // Detection.
  const up: number[] = [];
  const down: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const seen = (want: boolean) => new Promise<number>((resolve) => { waiter = (u) => { if (u === want) { waiter = undefined; resolve(performance.now()); } }; });
    let w = seen(true);
    let t = performance.now();
    const child = spawn(binary, ['3600'], { stdio: 'ignore' });
    up.push((await w) - t);
    w = seen(false);
    t = performance.now();
    child.kill('SIGKILL');
    down.push((await w) - t);
  }
  console.log(`detection over ${rounds} rounds: start → quorum gained p50 ${pct(up, 0.5).toFixed(1)} ms, max ${Math.max(...up).toFixed(1)} ms; ` +
    `kill → quorum lost p50 ${pct(down, 0.5).toFixed(1)} ms, max ${Math.max(...down).toFixed(1)} ms`);
  m.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  m.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
