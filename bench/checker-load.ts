// Benchmark (not a test): N real servers checked every second by the checker child process.
// The servers are --servers node processes (separate from the checker, so their CPU is not the checker's), each
// listening on 0.0.0.0:PORT_k; real server i is 127.<1+i/65536>.<i/256%256>.<i%256>:PORT_(i mod servers), so every RS is its own 4-tuple.
//
//   node --import tsx bench/checker-load.ts [--n 10000] [--seconds 20] [--kind http|tcp|ssl] [--concurrency 512] [--servers 2]
//
// Prints checks/s completed, checker CPU (% of one core, user+system), RSS and how many RS the checker saw up.
import { fork } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { startCheckerProcess } from '../src/check/spawn.js';
import { makeCert } from '../test/helpers/tls-cert.js';
import type { CheckConfig, CheckerConfig, CheckedRealServer } from '../src/check/types.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

if (process.argv[2] === 'server') {
  // Server side: answers every GET with a small body and closes (HTTP/1.0, like keepalived expects).
  const answer = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    res.end('ok');
  };
  let srv: http.Server;
  if (process.argv[3] === 'ssl') {
    const cert = makeCert('bench', 'ec');
    cert.cleanup();
    srv = https.createServer({ cert: cert.cert, key: cert.key }, answer);
  } else {
    // Plain HTTP: a minimal server that answers the first request segment and closes, so the server
    // process costs as little CPU as possible on a small machine (the checker is what is measured).
    const reply = Buffer.from('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok');
    srv = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.end(reply));
    }) as unknown as http.Server;
  }
  srv.maxConnections = 60000;
  srv.listen(0, '0.0.0.0', 4096, () => process.send!({ port: (srv.address() as net.AddressInfo).port }));
  process.on('disconnect', () => process.exit(0));
} else {
  const n = Number(arg('n', '10000'));
  const seconds = Number(arg('seconds', '20'));
  const kind = arg('kind', 'http');
  const concurrency = Number(arg('concurrency', '512'));

  const nServers = Number(arg('servers', '2'));
  const servers = Array.from({ length: nServers }, () => fork(fileURLToPath(import.meta.url), ['server', kind], { execArgv: ['--import', 'tsx'] }));
  const ports = await Promise.all(servers.map((s) => new Promise<number>((resolve) => s.once('message', (m: { port: number }) => resolve(m.port)))));

  const checker = (): CheckerConfig => {
    const timing = { delayLoopMs: 1000, delayBeforeRetryMs: 1000, retry: 1, warmupMs: 1000, alpha: false, connectTimeoutMs: 3000 };
    if (kind === 'tcp') return { kind: 'TCP_CHECK', ...timing };
    return { kind: kind === 'ssl' ? 'SSL_GET' : 'HTTP_GET', urls: [{ path: '/health' }], ...timing };
  };
  const rs: CheckedRealServer[] = [];
  for (let i = 0; i < n; i++) {
    const addr = `127.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    rs.push({ addr, port: ports[i % nServers]!, weight: 1, checkers: [checker()] });
  }
  // 100 VS of n/100 RS each, like a big LVS director.
  const perVs = Math.max(1, Math.ceil(n / 100));
  const config: CheckConfig = { virtualServers: [], maxConcurrent: concurrency };
  for (let v = 0; v * perVs < n; v++) {
    config.virtualServers.push({
      key: `vs${v}`, protocol: 'tcp', addr: `10.0.${v >> 8}.${v & 255}`, port: 80, quorum: 1, hysteresis: 0,
      realServers: rs.slice(v * perVs, (v + 1) * perVs),
    });
  }

  const alive = new Map<string, number>();
  let events = 0;
  const proc = startCheckerProcess(config, {
    onDesired: (changes) => {
      for (const c of changes) alive.set(c.vsKey, c.dests.length);
    },
    onEvents: (e) => {
      events += e.length;
    },
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // Bootstrap 1 s + warmup 1 s, then one more second to settle.
  await sleep(3000);
  const a = await proc.stats();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const b = await proc.stats();
  const dt = (performance.now() - t0) / 1000;
  const checksPerSec = (b.checksDone - a.checksDone) / dt;
  const cpu = (b.cpuUserUs + b.cpuSystemUs - a.cpuUserUs - a.cpuSystemUs) / 1e6 / dt;
  const up = [...alive.values()].reduce((x, y) => x + y, 0);
  console.log(JSON.stringify({
    kind, realServers: n, serverProcesses: nServers, seconds: Number(dt.toFixed(1)), concurrency,
    checksPerSec: Math.round(checksPerSec), expectedPerSec: n,
    checkerCpuPercentOfOneCore: Math.round(cpu * 1000) / 10,
    checkerRssMiB: Math.round(b.rssBytes / 1048576), inFlightAtEnd: b.inFlight, queuedAtEnd: b.queued,
    realServersUp: up, events,
  }));
  await proc.stop();
  for (const s of servers) s.kill();
}
