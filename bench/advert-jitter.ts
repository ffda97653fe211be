// Benchmark (a script, not a test): does health checking delay VRRP adverts? A keepalived-ts MASTER on a namespace
// LAN (test/lab) sends adverts every --advert seconds while its checker child HTTP-checks --n real servers every
// second (delay_loop 1), beside the same MASTER with no virtual servers. The adverts are timed by a tcpdump on the
// LAN bridge (kernel timestamps); jitter = |interval − advert_int|, reported as p50 / p99 / max.
//
// The real servers are --servers node processes in the director's namespace listening on 0.0.0.0:PORT_k; real
// server i is 127.<1+i/65536>.<i/256%256>.<i%256>:PORT_(i mod servers) (all of 127/8 is local), so each check is
// its own TCP connection + HTTP/1.0 GET. They count the requests they answer (checks/s actually done).
// This host has no IPVS: the checker child says so once and checks anyway (IPVS programming is measured by
// bench/ipvs-program.ts in the guest).
//
// Second part (issue 11): false state changes at VRRPv3's floor, advert_int 0.01. Two directors (MASTER 150,
// BACKUP 100) for --state-seconds each, quiet and with --busy busy loops competing for the cores, for keepalived,
// keepalived-ts, and keepalived-ts with `vrrp_rt_priority 50` (and keepalived with it too), in one run. A false
// state change is the backup taking over while the master runs: counted as the runs of adverts the backup sends
// (it only sends as MASTER), with the master's longest gap between adverts (master-down is 3 × 10 ms + skew
// 6.1 ms = 36.1 ms; a larger gap lets the backup in).
//
//   node --import tsx bench/advert-jitter.ts [--part checks|states|both] [--n 10000] [--seconds 30] [--advert 0.1]
//        [--servers 2] [--vrrp-priority NICE] [--checker-priority NICE]   (keepalived's nice knobs, default unset)
//        [--state-seconds 60] [--busy 6] [--state-load quiet|busy|both] [--state-runs ks,ts,ks-rt,ts-rt]
import { spawn, type ChildProcess } from 'node:child_process';
import { createLan, vrrpConfig, sleep, waitFor, type Frame, type DaemonKind } from '../test/lab/index.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const n = Number(arg('n', '10000'));
const seconds = Number(arg('seconds', '30'));
const advert = Number(arg('advert', '0.1'));
const nServers = Number(arg('servers', '2'));
const part = arg('part', 'both');
const stateSeconds = Number(arg('state-seconds', '60')); // the window: 60 s
const busyLoops = Number(arg('busy', '6'));
const stateLoads = arg('state-load', 'both'); // quiet | busy | both
const stateRuns = arg('state-runs', 'ks,ts,ks-rt,ts-rt').split(',');
// keepalived's process nice values (global_defs vrrp_priority / checker_priority); unset = keepalived's default.
const vrrpNice = process.argv.includes('--vrrp-priority') ? Number(arg('vrrp-priority', '0')) : undefined;
const checkerNice = process.argv.includes('--checker-priority') ? Number(arg('checker-priority', '0')) : undefined;
const extraGlobal = [
  ...(vrrpNice === undefined ? [] : [`vrrp_priority ${vrrpNice}`]),
  ...(checkerNice === undefined ? [] : [`checker_priority ${checkerNice}`]),
];

// A minimal HTTP/1.0 server: answers the first segment and closes; prints its port, then its request count on stdin EOF.
const SERVER = `
const net = require('node:net');
const reply = Buffer.from('HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 2\\r\\n\\r\\nok');
let count = 0;
const srv = net.createServer((s) => { s.on('error', () => {}); s.once('data', () => { count++; s.end(reply); }); });
srv.maxConnections = 60000;
srv.listen(0, '0.0.0.0', 4096, () => console.log('port ' + srv.address().port));
setInterval(() => console.log('count ' + count), 1000);
`;

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const r2 = (x: number): number => Math.round(x * 100) / 100;

interface Figures {
  checks: string;
  adverts: number;
  intervalMs: { mean: number };
  jitterMs: { p50: number; p99: number; max: number };
  requestsPerSec?: number;
}

function jitter(frames: Frame[], advertMs: number, fromMs: number, toMs: number): Omit<Figures, 'checks'> {
  const ts = frames.filter((f) => f.vrrp && f.tMs >= fromMs && f.tMs <= toMs).map((f) => f.tMs);
  const iv = ts.slice(1).map((t, i) => t - ts[i]!);
  const j = iv.map((x) => Math.abs(x - advertMs)).sort((a, b) => a - b);
  return {
    adverts: ts.length,
    intervalMs: { mean: r2(iv.reduce((a, b) => a + b, 0) / Math.max(1, iv.length)) },
    jitterMs: { p50: r2(pct(j, 50)), p99: r2(pct(j, 99)), max: r2(j[j.length - 1] ?? NaN) },
  };
}

function configFor(vipCidr: string, withChecks: boolean, ports: number[]): string {
  const lines = [vrrpConfig({ vrid: 77, priority: 150, state: 'MASTER', advertInt: advert, version: 3, vip: vipCidr, iface: 'eth0', extraGlobal })];
  if (!withChecks) return lines.join('\n');
  // 100 virtual servers of n/100 real servers, like a big LVS director.
  const perVs = Math.max(1, Math.ceil(n / 100));
  for (let v = 0; v * perVs < n; v++) {
    lines.push(`virtual_server 10.200.${v >> 8}.${v & 255} 80 {`, '  delay_loop 1', '  lb_algo rr', '  lb_kind NAT', '  protocol TCP');
    for (let i = v * perVs; i < Math.min(n, (v + 1) * perVs); i++) {
      lines.push(`  real_server 127.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255} ${ports[i % ports.length]} {`,
        '    HTTP_GET {', '      url {', '        path /health', '        status_code 200', '      }',
        '      connect_timeout 3', '      retry 1', '      delay_before_retry 1', '    }', '  }');
    }
    lines.push('}');
  }
  return lines.join('\n') + '\n';
}

if (part === 'checks' || part === 'both') await checksPart();
if (part === 'states' || part === 'both') await statesPart();

async function checksPart(): Promise<void> {
const lan = await createLan({ prefix: 'ktjit', directors: 1, clients: 0 });
const servers: ChildProcess[] = [];
try {
  const d = lan.directors[0]!;
  const counts = new Array<number>(nServers).fill(0);
  const ports = await Promise.all(Array.from({ length: nServers }, (_, k) => new Promise<number>((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', d.ns, process.execPath, '-e', SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
    servers.push(p);
    let buf = '';
    p.stdout!.setEncoding('utf8');
    p.stdout!.on('data', (c: string) => {
      buf += c;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const [what, v] = buf.slice(0, i).split(' ');
        buf = buf.slice(i + 1);
        if (what === 'port') resolve(Number(v));
        else if (what === 'count') counts[k] = Number(v);
      }
    });
    p.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  })));
  const total = () => counts.reduce((a, b) => a + b, 0);

  const results: Figures[] = [];
  for (const withChecks of [false, true]) {
    const cap = await lan.capture('bridge', 'vrrp', { name: `jitter-${withChecks ? 'checks' : 'idle'}` });
    const daemon = await lan.startDaemon(d, { kind: 'keepalived-ts', configText: configFor(lan.vipCidr(), withChecks, ports) });
    // MASTER, and (with checks) the checker child at full rate: wait until the servers see ~n requests a second.
    await cap.waitForFrame((f) => !!f.vrrp, { timeoutMs: 60_000, what: 'the first advert' });
    if (withChecks) {
      let last = total();
      await waitFor(async () => {
        await sleep(1000);
        const now = total();
        const rate = now - last;
        last = now;
        return rate >= n * 0.9;
      }, { timeoutMs: 120_000, intervalMs: 0, what: `the checker to reach ${n} checks/s` });
    } else await sleep(2000);
    const c0 = total();
    const fromMs = performance.timeOrigin + performance.now();
    await sleep(seconds * 1000);
    const toMs = performance.timeOrigin + performance.now();
    const c1 = total();
    const frames = cap.frames();
    await daemon.stop('SIGTERM', 30_000);
    await cap.stop();
    const fig: Figures = { checks: withChecks ? `${n} HTTP real servers, delay_loop 1` : 'none', ...jitter(frames, advert * 1000, fromMs, toMs) };
    if (withChecks) fig.requestsPerSec = Math.round((c1 - c0) / ((toMs - fromMs) / 1000));
    results.push(fig);
    console.log(JSON.stringify({ advertIntMs: advert * 1000, seconds, globalDefs: extraGlobal, ...fig }));
  }
  const [idle, busy] = results;
  console.log(`advert jitter p99: ${idle!.jitterMs.p99} ms without checks, ${busy!.jitterMs.p99} ms with ${n} checks/s (goal < 5 ms): ${busy!.jitterMs.p99 < 5 ? 'met' : 'NOT met'}`);
} finally {
  for (const s of servers) s.kill('SIGKILL');
  await lan.teardown();
}
}

interface StateFigures { daemon: string; load: string; falseStateChanges: number; backupAdverts: number; masterAdverts: number; masterMaxGapMs: number; gapsOver36Ms: number; masterDemotions?: number; masterKilled?: boolean }

/** Runs of consecutive adverts from `src` among all adverts (each run = one takeover), and the other's gaps. */
function stateFigures(frames: Frame[], master: string, backup: string, fromMs: number, toMs: number): Omit<StateFigures, 'daemon' | 'load'> {
  const adv = frames.filter((f) => f.vrrp && f.ipv4 && f.tMs >= fromMs && f.tMs <= toMs);
  let runs = 0;
  let prevBackup = false;
  for (const f of adv) {
    const b = f.ipv4!.src === backup;
    if (b && !prevBackup) runs++;
    prevBackup = b;
  }
  const m = adv.filter((f) => f.ipv4!.src === master).map((f) => f.tMs);
  const gaps = m.slice(1).map((t, i) => t - m[i]!);
  return {
    falseStateChanges: runs,
    backupAdverts: adv.length - m.length,
    masterAdverts: m.length,
    masterMaxGapMs: r2(Math.max(0, ...gaps)),
    gapsOver36Ms: gaps.filter((g) => g > 36.1).length,
  };
}

async function statesPart(): Promise<void> {
  const lan = await createLan({ prefix: 'ktfsc', directors: 2, clients: 0 });
  const busy: ChildProcess[] = [];
  const out: StateFigures[] = [];
  try {
    const [d1, d2] = lan.directors as [typeof lan.directors[0], typeof lan.directors[0]];
    const runs: { kind: DaemonKind; rt: boolean }[] = [
      { kind: 'keepalived', rt: false }, { kind: 'keepalived-ts', rt: false },
      { kind: 'keepalived', rt: true }, { kind: 'keepalived-ts', rt: true },
    ];
    for (const loaded of [false, true]) {
      if (stateLoads !== 'both' && (stateLoads === 'busy') !== loaded) continue;
      if (loaded) for (let i = 0; i < busyLoops; i++) busy.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
      for (const r of runs) {
        if (!stateRuns.includes(`${r.kind === 'keepalived' ? 'ks' : 'ts'}${r.rt ? '-rt' : ''}`)) continue;
        const extraGlobal = r.rt ? ['vrrp_rt_priority 50'] : [];
        const cfg = (priority: number, state: 'MASTER' | 'BACKUP') =>
          vrrpConfig({ vrid: 78, priority, state, advertInt: 0.01, version: 3, vip: lan.vipCidr(), iface: 'eth0', extraGlobal });
        const cap = await lan.capture('bridge', 'vrrp', { name: `states-${r.kind}-${r.rt ? 'rt' : 'nort'}-${loaded ? 'busy' : 'quiet'}` });
        const a = await lan.startDaemon(d1, { kind: r.kind, configText: cfg(150, 'MASTER') });
        await cap.waitForFrame((f) => f.ipv4?.src === d1.ip, { timeoutMs: 60_000, what: 'the master\'s first advert' });
        const b = await lan.startDaemon(d2, { kind: r.kind, configText: cfg(100, 'BACKUP') });
        await sleep(5000); // both started (keepalived-ts takes ~1-2 s), any start-up transition is over
        const fromMs = performance.timeOrigin + performance.now();
        await sleep(stateSeconds * 1000);
        const toMs = performance.timeOrigin + performance.now();
        const frames = cap.frames();
        await b.stop('SIGTERM', 30_000);
        await a.stop('SIGTERM', 30_000);
        await cap.stop();
        const fig: StateFigures = {
          daemon: `${r.kind}${r.rt ? ' + vrrp_rt_priority 50' : ''}`,
          load: loaded ? `${busyLoops} busy loops` : 'quiet',
          ...stateFigures(frames, d1.ip, d2.ip, fromMs, toMs),
        };
        if (r.kind === 'keepalived-ts' && r.rt) {
          // keepalived-ts's real-time VRRP process: demotions at RLIMIT_RTTIME's soft limit (the warning counts them) and
          // whether the kernel killed it anyway.
          const counts = [...a.log().matchAll(/demoted to normal scheduling until it sleeps \((\d+) times? so far/g)].map((m) => Number(m[1]));
          fig.masterDemotions = Math.max(0, ...counts);
          fig.masterKilled = /died with signal SIGKILL/.test(a.log());
        }
        out.push(fig);
        // Where the time went: the master's own account of its process (a child exit, SIGXCPU, a restart).
        if (fig.falseStateChanges) for (const l of a.log().split('\n').filter((x) => /exit|signal|kill|SIGXCPU|CPU time|Starting|start|MASTER|BACKUP/i.test(x)).slice(-15)) console.log(`  master log: ${l}`);
        console.log(JSON.stringify({ advertIntMs: 10, seconds: stateSeconds, ...fig }));
      }
    }
  } finally {
    for (const p of busy) p.kill('SIGKILL');
    await lan.teardown();
  }
  console.log(`\nfalse state changes, advert_int 0.01, ${stateSeconds} s (goal: 0, as keepalived):`);
  for (const f of out) {
    const rt = f.masterDemotions === undefined ? '' : `, ${f.masterDemotions} demotions${f.masterKilled ? ', SIGKILLed' : ''}`;
    console.log(`  ${f.load.padEnd(13)} ${f.daemon.padEnd(40)} ${String(f.falseStateChanges).padStart(3)}  (master's longest gap ${f.masterMaxGapMs} ms, ${f.gapsOver36Ms} gaps > 36.1 ms${rt})`);
  }
}
