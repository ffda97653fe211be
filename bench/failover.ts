// Failover benchmark: the baseline's method (/work/shared/reference/keepalived-baseline.md) in TypeScript, for any
// pair of daemon kinds. One cycle per run on a fresh namespace LAN: launch d1 (prio 150) and d2 (prio 100) →
// d1 MASTER → c1 pings the VIP every 5 ms → settle → `ip link set eth0 down` on d1 at a controlled phase after
// one of its adverts (timed from the live capture) → d2 takes over → link up → d1 preempts → SIGTERM d1 → d2 takes
// over → stop. Every time comes from one clock: the bridge capture, notify lines and `ip monitor` stamps.
// Memory is bench/footprint.ts's: a cycle here is over before keepalived-ts's memory trim (5 s after start-up).
//
// Env: BENCH_RUNS (default 3), BENCH_MODES (v2,v3), BENCH_PAIRS (keepalived:keepalived,keepalived-ts:keepalived-ts),
//      KEEPALIVED_TS_CMD (argv prefix for keepalived-ts, default `bin/keepalived-ts`, the launcher).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  repoRoot, createLan, nowMs, sleep, waitFor, vrrpConfig, probeDaemon,
  type Lan, type Director, type DaemonKind, type Frame, type Capture, type AddressMonitor,
} from '../test/lab/index.js';

interface Mode {
  name: 'v2' | 'v3';
  version: 2 | 3;
  advertMs: number;
}
const MODES: Record<string, Mode> = {
  v2: { name: 'v2', version: 2, advertMs: 1000 },
  v3: { name: 'v3', version: 3, advertMs: 100 },
};
const PRIO1 = 150;
const PRIO2 = 100;

const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? process.env.N ?? 3) || 3);
const modes = (process.env.BENCH_MODES ?? 'v2,v3').split(',').map((m) => MODES[m.trim()]).filter(Boolean);
const pairs = (process.env.BENCH_PAIRS ?? 'keepalived:keepalived,keepalived-ts:keepalived-ts')
  .split(',')
  .map((p) => p.trim().split(':') as [DaemonKind, DaemonKind])
  .filter(([a, b]) => ['keepalived', 'keepalived-ts'].includes(a) && ['keepalived', 'keepalived-ts'].includes(b ?? a))
  .map(([a, b]) => [a, b ?? a] as [DaemonKind, DaemonKind]);

const skew = (prio: number, adv: number) => ((256 - prio) / 256) * adv;
const masterDown = (prio: number, adv: number) => 3 * adv + skew(prio, adv);

/** Metric name → samples (ms), one per run. */
type Samples = Map<string, number[]>;

interface MetricDef {
  key: string;
  label: string;
  bound: (adv: number) => number | undefined;
  boundLabel?: string;
}
// Order and wording of the report; the bound is the protocol's figure for that metric.
const METRICS: MetricDef[] = [
  { key: 'startup.notify', label: 'startup: launch → d1 notify MASTER', bound: (a) => masterDown(PRIO1, a) },
  { key: 'startup.vip', label: 'startup: launch → d1 holds VIP', bound: (a) => masterDown(PRIO1, a) },
  { key: 'startup.advert', label: 'startup: launch → d1 first advert', bound: (a) => masterDown(PRIO1, a) },
  { key: 'failover.phase', label: 'failover: phase (link down after d1 advert)', bound: (a) => a },
  { key: 'failover.notify', label: 'failover: link down → d2 notify MASTER', bound: (a) => masterDown(PRIO2, a) },
  { key: 'failover.vip', label: 'failover: link down → d2 holds VIP', bound: (a) => masterDown(PRIO2, a) },
  { key: 'failover.advert', label: 'failover: link down → d2 first advert', bound: (a) => masterDown(PRIO2, a) },
  { key: 'failover.garp', label: 'failover: link down → d2 first GARP', bound: (a) => masterDown(PRIO2, a) },
  { key: 'failover.ping', label: 'failover: link down → c1 ping answered by d2', bound: (a) => masterDown(PRIO2, a) },
  { key: 'failover.lastToFirst', label: 'failover: d1 last advert → d2 first advert', bound: (a) => masterDown(PRIO2, a) },
  { key: 'failback.notify', label: 'failback: link up → d1 notify MASTER', bound: (a) => masterDown(PRIO1, a) },
  { key: 'failback.vip', label: 'failback: link up → d1 holds VIP', bound: (a) => masterDown(PRIO1, a) },
  { key: 'failback.advert', label: 'failback: link up → d1 first advert', bound: (a) => masterDown(PRIO1, a) },
  { key: 'failback.ping', label: 'failback: link up → c1 ping answered by d1', bound: (a) => masterDown(PRIO1, a) },
  { key: 'sigterm.prio0', label: 'SIGTERM d1 → priority-0 advert', bound: () => undefined },
  { key: 'sigterm.prio0count', label: 'SIGTERM d1: priority-0 adverts (count)', bound: () => 1, boundLabel: '1' },
  { key: 'sigterm.notify', label: 'SIGTERM d1 → d2 notify MASTER', bound: (a) => skew(PRIO2, a) },
  { key: 'sigterm.vip', label: 'SIGTERM d1 → d2 holds VIP', bound: (a) => skew(PRIO2, a) },
  { key: 'sigterm.advert', label: 'SIGTERM: priority-0 advert → d2 first advert', bound: (a) => skew(PRIO2, a) },
  { key: 'sigterm.ping', label: 'SIGTERM d1 → c1 ping answered by d2', bound: (a) => skew(PRIO2, a) },
  { key: 'spacing.median', label: 'advert spacing, median', bound: (a) => a },
  { key: 'spacing.max', label: 'advert spacing, max', bound: (a) => a },
  { key: 'garp.delay', label: 'first advert as MASTER → first GARP (all transitions)', bound: () => undefined },
  { key: 'garp.burst', label: 'GARPs in the first burst (count)', bound: () => undefined },
];

const push = (s: Samples, key: string, v: number | undefined) => {
  if (v === undefined || !Number.isFinite(v)) return;
  if (!s.has(key)) s.set(key, []);
  s.get(key)!.push(v);
};

const isAdvertFrom = (mac: string) => (f: Frame) => !!f.vrrp && f.ethSrc === mac && f.vrrp.priority > 0;
const isGarpFrom = (mac: string, vip: string) => (f: Frame) => !!f.arp && f.ethSrc === mac && f.arp.senderIp === vip && f.arp.targetIp === vip;
const isReplyFrom = (mac: string, vip: string) => (f: Frame) => !!f.icmp && f.icmp.type === 0 && f.ethSrc === mac && f.ipv4?.src === vip;
const firstAfter = (frames: Frame[], t: number, pred: (f: Frame) => boolean) => frames.find((f) => f.tMs > t && pred(f));
const lastBefore = (frames: Frame[], t: number, pred: (f: Frame) => boolean) => {
  let found: Frame | undefined;
  for (const f of frames) {
    if (f.tMs >= t) break;
    if (pred(f)) found = f;
  }
  return found;
};
const notifyAfter = (d: Director, state: string, t: number) => d.notifyEvents().find((e) => e.state === state && e.tMs > t);

/** Waits for one of d1's adverts and drops d1's link `phaseMs` after it; returns the link-down time. */
async function dropAtPhase(lan: Lan, cap: Capture, d1: Director, phaseMs: number, adv: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const advert = await cap.waitForFrame(isAdvertFrom(d1.mac), { afterMs: nowMs() - 1, timeoutMs: 4 * adv + 2000, what: 'an advert from d1' });
    const target = advert.tMs + phaseMs;
    // Seen too late to hit this phase (capture latency): take the next advert.
    if (nowMs() > target - 1) continue;
    await sleep(target - nowMs() - 1);
    while (nowMs() < target) {
      /* spin the last millisecond for a precise phase */
    }
    return lan.linkDown(d1);
  }
  throw new Error(`could not reach phase ${phaseMs.toFixed(1)} ms after an advert in 20 attempts`);
}

async function cycle(mode: Mode, kinds: [DaemonKind, DaemonKind], run: number, s: Samples): Promise<void> {
  const adv = mode.advertMs;
  const lan = await createLan({ prefix: 'ktbench', directors: 2, clients: 1 });
  try {
    const [d1, d2] = lan.directors;
    const c1 = lan.clients[0];
    const vip = lan.vip();
    const wait = { timeoutMs: 3 * masterDown(PRIO2, adv) + 5000, intervalMs: Math.min(20, adv / 10) };
    const cap = await lan.capture('bridge', 'vrrp or arp or icmp', { name: 'cycle' });
    const mon: Record<string, AddressMonitor> = { d1: await lan.watchAddresses(d1), d2: await lan.watchAddresses(d2) };
    const conf = (d: Director, prio: number, state: 'MASTER' | 'BACKUP') =>
      vrrpConfig({ vrid: 51, priority: prio, state, advertInt: adv / 1000, version: mode.version, vip: lan.vipCidr(), iface: 'eth0', notify: d.notifyScript });

    // 1. startup
    const tLaunch = nowMs();
    await lan.startDaemon(d1, { kind: kinds[0], configText: conf(d1, PRIO1, 'MASTER') });
    await lan.startDaemon(d2, { kind: kinds[1], configText: conf(d2, PRIO2, 'BACKUP') });
    await waitFor(() => notifyAfter(d1, 'MASTER', tLaunch) && mon.d1.first(vip, true, tLaunch), { ...wait, what: 'd1 MASTER with the VIP' });
    const first1 = await cap.waitForFrame(isAdvertFrom(d1.mac), { ...wait, what: "d1's first advert" });
    push(s, 'startup.notify', notifyAfter(d1, 'MASTER', tLaunch)!.tMs - tLaunch);
    push(s, 'startup.vip', mon.d1.first(vip, true, tLaunch)!.tMs - tLaunch);
    push(s, 'startup.advert', first1.tMs - tLaunch);
    lan.spawnIn(c1, 'ping', ['-n', '-D', '-O', '-i', '0.005', vip], { logFile: `${lan.dir}/ping.log` });
    await sleep(Math.max(2000, 4 * adv));

    // 2. failover at phase (run − 0.5)/N of an interval after one of d1's adverts
    const phaseTarget = ((run - 0.5) / runs) * adv;
    const tDown = await dropAtPhase(lan, cap, d1, phaseTarget, adv);
    await waitFor(() => notifyAfter(d2, 'MASTER', tDown) && mon.d2.first(vip, true, tDown), { ...wait, what: 'd2 to take over' });
    await cap.waitForFrame(isReplyFrom(d2.mac, vip), { ...wait, afterMs: tDown, what: "a ping reply from d2" });
    let fr = cap.frames();
    const last1 = lastBefore(fr, tDown, isAdvertFrom(d1.mac));
    const firstAdv2 = firstAfter(fr, tDown, isAdvertFrom(d2.mac));
    if (last1) push(s, 'failover.phase', tDown - last1.tMs);
    push(s, 'failover.notify', notifyAfter(d2, 'MASTER', tDown)!.tMs - tDown);
    push(s, 'failover.vip', mon.d2.first(vip, true, tDown)!.tMs - tDown);
    if (firstAdv2) push(s, 'failover.advert', firstAdv2.tMs - tDown);
    push(s, 'failover.garp', (firstAfter(fr, tDown, isGarpFrom(d2.mac, vip))?.tMs ?? NaN) - tDown);
    push(s, 'failover.ping', (firstAfter(fr, tDown, isReplyFrom(d2.mac, vip))?.tMs ?? NaN) - tDown);
    // An advert can still leave while `ip link set down` runs; the true last one is the last before d2's first.
    const trueLast1 = firstAdv2 && lastBefore(fr, firstAdv2.tMs, isAdvertFrom(d1.mac));
    if (trueLast1 && firstAdv2) push(s, 'failover.lastToFirst', firstAdv2.tMs - trueLast1.tMs);
    await sleep(adv + 300);

    // 3. failback (preempt)
    const tUp = await lan.linkUp(d1);
    await waitFor(() => notifyAfter(d1, 'MASTER', tUp) && mon.d1.first(vip, true, tUp), { ...wait, what: 'd1 to take the VIP back' });
    await cap.waitForFrame(isReplyFrom(d1.mac, vip), { ...wait, afterMs: tUp, what: 'a ping reply from d1' });
    fr = cap.frames();
    push(s, 'failback.notify', notifyAfter(d1, 'MASTER', tUp)!.tMs - tUp);
    push(s, 'failback.vip', mon.d1.first(vip, true, tUp)!.tMs - tUp);
    push(s, 'failback.advert', (firstAfter(fr, tUp, isAdvertFrom(d1.mac))?.tMs ?? NaN) - tUp);
    push(s, 'failback.ping', (firstAfter(fr, tUp, isReplyFrom(d1.mac, vip))?.tMs ?? NaN) - tUp);
    await sleep(Math.max(1000, 3 * adv));

    // 4. SIGTERM of the master
    const stopped = d1.daemon!.stop('SIGTERM');
    let tTerm = nowMs(); // just after kill(2); the exact send time replaces it below
    await waitFor(() => notifyAfter(d2, 'MASTER', tTerm) && mon.d2.first(vip, true, tTerm), { ...wait, what: 'd2 to take over after SIGTERM' });
    await cap.waitForFrame(isReplyFrom(d2.mac, vip), { ...wait, afterMs: tTerm, what: 'a ping reply from d2 after SIGTERM' });
    const { sentAtMs } = await stopped;
    tTerm = sentAtMs;
    fr = cap.frames();
    if (process.env.BENCH_DEBUG) {
      for (const f of fr.filter((x) => x.tMs > sentAtMs - 300 && x.tMs < sentAtMs + 400 && (x.vrrp || (x.arp && x.arp.senderIp === x.arp.targetIp)))) {
        console.error(`  ${(f.tMs - sentAtMs).toFixed(2)} ms ${f.ethSrc} ${f.vrrp ? `vrrp prio ${f.vrrp.priority}` : 'garp'}`);
      }
      console.error(`  d1 log tail:\n${d1.daemon!.log().split('\n').slice(-8).join('\n')}`);
    }
    const prio0 = fr.filter((f) => f.tMs > tTerm - 1 && f.vrrp && f.ethSrc === d1.mac && f.vrrp.priority === 0);
    push(s, 'sigterm.prio0count', prio0.length);
    if (prio0[0]) push(s, 'sigterm.prio0', prio0[0].tMs - tTerm);
    push(s, 'sigterm.notify', notifyAfter(d2, 'MASTER', tTerm)!.tMs - tTerm);
    push(s, 'sigterm.vip', mon.d2.first(vip, true, tTerm)!.tMs - tTerm);
    const adv2Term = firstAfter(fr, tTerm, isAdvertFrom(d2.mac));
    if (prio0[0] && adv2Term) push(s, 'sigterm.advert', adv2Term.tMs - prio0[0].tMs);
    push(s, 'sigterm.ping', (firstAfter(fr, tTerm, isReplyFrom(d2.mac, vip))?.tMs ?? NaN) - tTerm);
    await sleep(100);
    await d2.daemon!.stop('SIGTERM');
    fr = await cap.stop();

    // Advert spacing: d1's consecutive adverts while it was master and nothing changed.
    const spacing: number[] = [];
    for (const [from, to] of [[tLaunch, tDown], [tUp, tTerm]]) {
      const a = fr.filter((f) => f.tMs > from && f.tMs < to && isAdvertFrom(d1.mac)(f));
      for (let i = 1; i < a.length; i++) spacing.push(a[i].tMs - a[i - 1].tMs);
    }
    if (spacing.length) {
      spacing.sort((x, y) => x - y);
      push(s, 'spacing.median', spacing[Math.floor(spacing.length / 2)]);
      push(s, 'spacing.max', spacing[spacing.length - 1]);
    }
    // Delay from the first advert of each new master to its first GARP, and the size of that burst.
    for (const [mac, t] of [[d1.mac, tLaunch], [d2.mac, tDown], [d1.mac, tUp], [d2.mac, tTerm]] as const) {
      const a = firstAfter(fr, t, isAdvertFrom(mac));
      const g = firstAfter(fr, t, isGarpFrom(mac, vip));
      if (!a || !g) continue;
      push(s, 'garp.delay', g.tMs - a.tMs);
      const burst = fr.filter((f) => isGarpFrom(mac, vip)(f) && f.tMs >= g.tMs && f.tMs < g.tMs + 500);
      push(s, 'garp.burst', burst.length);
    }
  } finally {
    await lan.teardown();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Report

const median = (xs: number[]) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};
const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));
const triple = (xs: number[] | undefined) => (xs?.length ? `${fmt(Math.min(...xs))} / ${fmt(median(xs))} / ${fmt(Math.max(...xs))}` : '—');
const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - s.length));
const pairLabel = ([a, b]: [DaemonKind, DaemonKind]) => (a === b ? a : `${a}→${b}`);

function printTable(mode: Mode, columns: { label: string; samples?: Samples; note?: string }[]): void {
  const adv = mode.advertMs;
  console.log(`\n## ${mode.name}: VRRPv${mode.version}, advert_int ${adv / 1000} s — ms, min / median / max over ${runs} run(s)`);
  const head = ['metric', ...columns.map((c) => c.label), ...(columns.length > 1 ? ['ratio (median)'] : []), 'protocol bound'];
  const rows: string[][] = [];
  for (const m of METRICS) {
    const cells = columns.map((c) => (c.samples ? triple(c.samples.get(m.key)) : 'n/a'));
    let ratio = '';
    if (columns.length > 1) {
      const a = columns[0].samples?.get(m.key);
      const b = columns[1].samples?.get(m.key);
      ratio = a?.length && b?.length && median(a) !== 0 ? `${(median(b) / median(a)).toFixed(2)}×` : '—';
    }
    const bound = m.boundLabel ?? (m.bound(adv) === undefined ? '—' : fmt(m.bound(adv)!));
    rows.push([m.label, ...cells, ...(columns.length > 1 ? [ratio] : []), bound]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => pad(c, widths[i])).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  for (const c of columns) if (c.note) console.log(`note (${c.label}): ${c.note}`);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('failover bench: skipped — needs root (network namespaces)');
    return;
  }
  console.log(`# Failover benchmark (method of keepalived-baseline.md; d1 prio ${PRIO1}, d2 prio ${PRIO2}; ${runs} run(s) per mode)`);
  const kinds = [...new Set(pairs.flat())];
  const ready = new Map<DaemonKind, string | undefined>();
  for (const k of kinds) {
    const p = await probeDaemon(k, { prefix: 'ktbench' });
    ready.set(k, p.ok ? undefined : p.reason);
    console.log(`daemon ${k}: ${p.ok ? `ready (${p.version})` : `NOT READY — ${p.reason}`}`);
  }
  const results: Record<string, Record<string, { samples?: Record<string, number[]>; note?: string }>> = {};
  for (const mode of modes) {
    const columns: { label: string; samples?: Samples; note?: string }[] = [];
    for (const pair of pairs) {
      const label = pairLabel(pair);
      const notReady = [...new Set(pair)].map((k) => ready.get(k) && `${k} cannot run yet (${ready.get(k)})`).filter(Boolean).join('; ');
      if (notReady) {
        columns.push({ label, note: `column not measured: ${notReady}; only the other column(s) are shown` });
        continue;
      }
      const samples: Samples = new Map();
      const failures: string[] = [];
      for (let r = 1; r <= runs; r++) {
        process.stderr.write(`[${mode.name} ${label}] run ${r}/${runs}…\n`);
        try {
          await cycle(mode, pair, r, samples);
        } catch (e) {
          failures.push(`run ${r}: ${(e as Error).message}`);
        }
      }
      columns.push({ label, samples, note: failures.length ? `${failures.length} run(s) failed — ${failures.join('; ')}` : undefined });
    }
    results[mode.name] = Object.fromEntries(columns.map((c) => [c.label, { samples: c.samples && Object.fromEntries(c.samples), note: c.note }]));
    // A column that could not run is dropped from the table (only its note is printed).
    const measured = columns.filter((c) => c.samples);
    printTable(mode, measured.length ? measured : columns);
    for (const c of columns) if (!c.samples) console.log(`note (${c.label}): ${c.note}`);
  }
  const outDir = join(repoRoot(), 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `failover-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ runs, pairs, modes: modes.map((m) => m.name), results }, null, 2) + '\n');
  console.log(`\nraw samples: ${file}`);
}

await main();
