// Footprint benchmark (issue 11): what a running director costs when nothing happens, keepalived 2.2.7 beside
// keepalived-ts on the same configs in one run, one daemon kind after the other on a fresh namespace LAN.
//
// Pair: two directors (d1 MASTER 150, d2 BACKUP 100, VRRPv3 advert_int 0.1, one VIP). Once d1 holds the VIP and a
// settle time has passed, each director's processes (the daemon and every descendant) are sampled twice,
// --window seconds apart: CPU is the difference of utime+stime (/proc/PID/stat, clock ticks) and of the run time of
// every thread (/proc/PID/task/TID/schedstat, ns: node's helper threads count); memory is the sum of VmRSS
// (/proc/PID/status) and of Pss (/proc/PID/smaps_rollup: node processes share node's text, so RSS counts it twice)
// at the end of the window. Then one director alone with 20 VRRP instances (all MASTER), the same figures.
// The floor: an idle node process (`setInterval` every second) measured the same way. The settle time is long
// because an idle node daemon's cost per advert falls for its first half minute (V8 compiling the advert path) and
// its RSS drops 5 s after start-up (daemon/memory-trim.ts): the window sees the steady state a director runs in.
//
//   node --import tsx bench/footprint.ts [--settle 30] [--window 10] [--runs 1] [--kinds keepalived,keepalived-ts]
//        [--parts pair,many,floor]
import { readdirSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createLan, descendants, sleep, vrrpConfig, waitFor, type DaemonKind, type Daemon } from '../test/lab/index.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const settleS = Number(arg('settle', '30'));
const windowS = Number(arg('window', '10'));
const runs = Math.max(1, Number(arg('runs', '1')) || 1);
const kinds = arg('kinds', 'keepalived,keepalived-ts').split(',') as DaemonKind[];
const parts = arg('parts', 'pair,many,floor').split(',');
const CLK_TCK = 100; // Debian's kernels: USER_HZ is 100

interface ProcSample { ticks: number; runNs: number; comm: string }

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** utime+stime (ticks) and the summed run time of its threads (ns) of one process, or undefined when gone. */
function sampleProc(pid: number): ProcSample | undefined {
  const stat = readOr(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  let runNs = 0;
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    /* gone */
  }
  for (const t of tids) runNs += Number(readOr(`/proc/${pid}/task/${t}/schedstat`)?.split(' ')[0] ?? 0);
  return { ticks: Number(f[11]) + Number(f[12]), runNs, comm };
}

function kbField(text: string | undefined, field: string): number {
  const m = text && new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

interface Footprint { processes: string[]; cpuTicksMs: number; cpuRunMs: number; rssKb: number; pssKb: number }

/** Samples the process trees rooted at `roots` over windowS seconds. */
async function measure(roots: number[]): Promise<Footprint[]> {
  const tree = (root: number) => [root, ...descendants(root)];
  const before = roots.map((r) => new Map(tree(r).map((p) => [p, sampleProc(p)] as const)));
  await sleep(windowS * 1000);
  return roots.map((r, i) => {
    const pids = tree(r);
    let ticks = 0;
    let runNs = 0;
    const processes: string[] = [];
    let rssKb = 0;
    let pssKb = 0;
    for (const p of pids) {
      const now = sampleProc(p);
      if (!now) continue;
      const was = before[i]!.get(p);
      ticks += now.ticks - (was?.ticks ?? 0);
      runNs += now.runNs - (was?.runNs ?? 0);
      const rss = kbField(readOr(`/proc/${p}/status`), 'VmRSS');
      const pss = kbField(readOr(`/proc/${p}/smaps_rollup`), 'Pss');
      rssKb += rss;
      pssKb += pss;
      processes.push(`${now.comm}:${p} ${(rss / 1024).toFixed(1)}/${(pss / 1024).toFixed(1)} MB`);
    }
    return { processes, cpuTicksMs: (ticks * 1000) / CLK_TCK, cpuRunMs: runNs / 1e6, rssKb, pssKb };
  });
}

interface Row { what: string; kind: DaemonKind | 'node'; fp: Footprint }
const rows: Row[] = [];

function instanceConfig(lanVip: (n: number) => string, n: number, priority: number, state: 'MASTER' | 'BACKUP'): string {
  const blocks: string[] = [];
  for (let i = 0; i < n; i++) {
    // The first block carries global_defs (vrrp_version 3); the others are instance blocks only.
    blocks.push(vrrpConfig({
      vrid: 10 + i, priority, state, advertInt: 0.1, version: i === 0 ? 3 : 2, vip: lanVip(i), iface: 'eth0', instanceName: `VI_${i + 1}`,
    }));
  }
  return blocks.join('\n');
}

async function pair(kind: DaemonKind, run: number): Promise<void> {
  const lan = await createLan({ prefix: 'ktfoot', directors: 2, clients: 0 });
  try {
    const [d1, d2] = lan.directors as [typeof lan.directors[0], typeof lan.directors[0]];
    const vip = (n: number) => lan.vipCidr(n);
    const a = await d1.start({ kind, configText: instanceConfig(vip, 1, 150, 'MASTER') });
    const b = await d2.start({ kind, configText: instanceConfig(vip, 1, 100, 'BACKUP') });
    await waitFor(async () => (await lan.vipHolders(lan.vip())).join() === 'd1', { timeoutMs: 30_000, intervalMs: 100, what: 'd1 to hold the VIP' });
    await sleep(settleS * 1000);
    const [fa, fb] = await measure([a.pid, b.pid]);
    if ((await lan.vipHolders(lan.vip())).join() !== 'd1') throw new Error(`${kind}: d1 lost the VIP during the window`);
    rows.push({ what: `pair run ${run}: d1 MASTER`, kind, fp: fa! }, { what: `pair run ${run}: d2 BACKUP`, kind, fp: fb! });
    await stopAll([a, b]);
  } finally {
    await lan.teardown();
  }
}

async function many(kind: DaemonKind, run: number): Promise<void> {
  const lan = await createLan({ prefix: 'ktfoot', directors: 1, clients: 0 });
  try {
    const d1 = lan.directors[0]!;
    const a = await d1.start({ kind, configText: instanceConfig((n) => lan.vipCidr(n), 20, 150, 'MASTER') });
    await waitFor(async () => (await lan.addresses(d1)).filter((x) => x.startsWith(lan.vip(0).replace(/\.\d+$/, '.'))).length >= 21,
      { timeoutMs: 30_000, intervalMs: 100, what: 'd1 to hold the 20 VIPs' });
    await sleep(settleS * 1000);
    const [fa] = await measure([a.pid]);
    rows.push({ what: `20 instances run ${run}: d1 MASTER`, kind, fp: fa! });
    await stopAll([a]);
  } finally {
    await lan.teardown();
  }
}

async function stopAll(daemons: Daemon[]): Promise<void> {
  await Promise.all(daemons.map((d) => d.stop('SIGTERM', 30_000)));
}

async function floor(): Promise<void> {
  const p = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    await sleep(settleS * 1000);
    const [f] = await measure([p.pid!]);
    rows.push({ what: 'idle node process (setInterval 1 s)', kind: 'node', fp: f! });
  } finally {
    p.kill('SIGKILL');
  }
}

for (let r = 1; r <= runs; r++) {
  for (const kind of kinds) {
    if (parts.includes('pair')) await pair(kind, r);
    if (parts.includes('many')) await many(kind, r);
  }
}
if (parts.includes('floor')) await floor();

const mb = (kb: number) => (kb / 1024).toFixed(1);
console.log(`\nnode ${process.version}; settle ${settleS} s, window ${windowS} s; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log('what | daemon | CPU in window (thread run time / utime+stime) | RSS MB | PSS MB | processes (RSS/PSS MB)');
for (const r of rows) {
  console.log(`${r.what} | ${r.kind} | ${r.fp.cpuRunMs.toFixed(1)} ms / ${r.fp.cpuTicksMs.toFixed(0)} ms | ${mb(r.fp.rssKb)} | ${mb(r.fp.pssKb)} | ${r.fp.processes.join(', ')}`);
}

// Side by side: keepalived-ts / keepalived for each measured situation (CPU of both pair directors summed).
const sum = (k: DaemonKind, prefix: string, f: (fp: Footprint) => number) =>
  rows.filter((r) => r.kind === k && r.what.replace(/ run \d+/, '').startsWith(prefix)).reduce((s, r) => s + f(r.fp), 0) / runs;
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}x` : 'n/a');
if (kinds.includes('keepalived') && kinds.includes('keepalived-ts')) {
  console.log('\nfigure | keepalived | keepalived-ts | ratio');
  const line = (label: string, prefix: string, f: (fp: Footprint) => number, unit: string, digits: number) => {
    const ka = sum('keepalived', prefix, f);
    const ts = sum('keepalived-ts', prefix, f);
    console.log(`${label} | ${ka.toFixed(digits)} ${unit} | ${ts.toFixed(digits)} ${unit} | ${ratio(ts, ka)}`);
  };
  if (parts.includes('pair')) {
    // Per run (the kinds alternate, so run r of each saw the same stretch of the machine's load), then min / median /
    // max over the runs: a noisy machine moves the mean, the median says what a run typically sees.
    const perRun = (k: DaemonKind) => Array.from({ length: runs }, (_, i) =>
      rows.filter((r) => r.kind === k && r.what.startsWith(`pair run ${i + 1}:`)).reduce((a, r) => a + r.fp.cpuRunMs, 0));
    const ka = perRun('keepalived');
    const ts = perRun('keepalived-ts');
    const ratios = ts.map((t, i) => t / ka[i]!);
    const mmm = (xs: number[], f: (x: number) => string) => {
      const o = [...xs].sort((a, b) => a - b);
      return `${f(o[0]!)} / ${f(o[Math.floor((o.length - 1) / 2)]!)}${o.length % 2 ? '' : `–${f(o[o.length / 2]!)}`} / ${f(o[o.length - 1]!)}`;
    };
    console.log(`pair CPU per run (ms, keepalived-ts / keepalived): ${ts.map((t, i) => `${t.toFixed(1)} / ${ka[i]!.toFixed(1)} (${ratios[i]!.toFixed(1)}x)`).join(', ')}`);
    console.log(`pair CPU min / median / max over ${runs} runs: keepalived ${mmm(ka, (x) => x.toFixed(1))} ms, keepalived-ts ${mmm(ts, (x) => x.toFixed(1))} ms, ratio ${mmm(ratios, (x) => `${x.toFixed(1)}x`)}`);
    line(`CPU of two directors over ${windowS} s idle, advert_int 0.1 (thread run time)`, 'pair', (fp) => fp.cpuRunMs, 'ms', 1);
    line(`same, utime+stime`, 'pair', (fp) => fp.cpuTicksMs, 'ms', 0);
    line('RSS of the MASTER director', 'pair: d1', (fp) => fp.rssKb / 1024, 'MB', 1);
    line('PSS of the MASTER director', 'pair: d1', (fp) => fp.pssKb / 1024, 'MB', 1);
    line('RSS of the BACKUP director', 'pair: d2', (fp) => fp.rssKb / 1024, 'MB', 1);
  }
  if (parts.includes('many')) {
    line(`20 instances: CPU over ${windowS} s (thread run time)`, '20 instances', (fp) => fp.cpuRunMs, 'ms', 1);
    line('20 instances: RSS', '20 instances', (fp) => fp.rssKb / 1024, 'MB', 1);
    line('20 instances: PSS', '20 instances', (fp) => fp.pssKb / 1024, 'MB', 1);
  }
}
