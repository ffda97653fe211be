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
//   node --import tsx bench/advert-jitter.ts [--n 10000] [--seconds 30] [--advert 0.1] [--servers 2]
//        [--vrrp-priority NICE] [--checker-priority NICE]   (keepalived's global_defs knobs, both default unset)
import { spawn, type ChildProcess } from 'node:child_process';
import { createLan, vrrpConfig, sleep, waitFor, type Frame } from '../test/lab/index.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const n = Number(arg('n', '10000'));
const seconds = Number(arg('seconds', '30'));
const advert = Number(arg('advert', '0.1'));
const nServers = Number(arg('servers', '2'));
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
