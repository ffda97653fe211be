// Benchmark (not a test): N real servers checked every second by the production checker child — the process the
// daemon runs (daemon/checker-child.ts → check/service.ts): the built entry the daemon forks (dist/src/daemon/child.js,
// `npm run bench` builds it), started as daemon/children.ts starts it (kind, options and parent pid in the
// environment, no loader) from a keepalived.conf, and asked for its status with the daemon's IPC message.
// The servers are --servers node processes (separate from the checker, so their CPU is not the checker's), each
// listening on 0.0.0.0:PORT_k and counting the connections it accepts (one per check done); real server i is
// 127.<1+i/65536>.<i/256%256>.<i%256>:PORT_(i mod servers), so every RS is its own 4-tuple. The checker's CPU and
// RSS are read from /proc/<pid>. Everything runs in a network namespace of its own (unshare -n): with IPVS in the
// kernel the child programs its table there, never the host's; this host has no IPVS, and the child says so once
// and checks anyway. Debian's keepalived is not run beside it: its checker process exits without IPVS.
//
//   node --import tsx bench/checker-load.ts [--n 10000] [--seconds 20] [--kind http|tcp|ssl] [--servers 2]
//
// Prints checks/s completed, checker CPU (% of one core, user+system), RSS and how many RS the checker saw up.
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHILD_KIND_ENV, CHILD_OPTIONS_ENV, CHILD_PARENT_ENV } from '../src/daemon/fork-child.js';
import type { ChildStatus, FromChild, ToChild } from '../src/daemon/ipc.js';
import type { DaemonOptions } from '../src/daemon/options.js';
import { makeCert } from '../test/helpers/tls-cert.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

const NETNS_ENV = 'KT_BENCH_CHECKER_NETNS';

if (process.argv[2] === 'server') {
  // Server side: answers every check and counts the connections; the parent asks for the count over IPC.
  let count = 0;
  const answer = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    res.end('ok');
  };
  let srv: net.Server;
  if (process.argv[3] === 'ssl') {
    const cert = makeCert('bench', 'ec');
    cert.cleanup();
    srv = https.createServer({ cert: cert.cert, key: cert.key }, answer);
  } else {
    // Plain HTTP and TCP: a minimal server that answers the first request segment and closes, so the server
    // process costs as little CPU as possible on a small machine (the checker is what is measured).
    const reply = Buffer.from('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok');
    srv = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.end(reply));
    });
  }
  srv.on('connection', () => count++);
  srv.maxConnections = 60000;
  srv.listen(0, '0.0.0.0', 4096, () => process.send!({ port: (srv.address() as net.AddressInfo).port }));
  process.on('message', () => process.send!({ count }));
  process.on('disconnect', () => process.exit(0));
} else if (process.env[NETNS_ENV] !== '1' && process.getuid?.() === 0) {
  // Run again in a network namespace of its own (see the header).
  const r = spawnSync('unshare', ['-n', '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit', env: { ...process.env, [NETNS_ENV]: '1' },
  });
  process.exit(r.status ?? 1);
} else {
  if (process.env[NETNS_ENV] === '1') execFileSync('ip', ['link', 'set', 'lo', 'up']);
  else console.error('checker-load: not root, running in this network namespace');
  const n = Number(arg('n', '10000'));
  const seconds = Number(arg('seconds', '20'));
  const kind = arg('kind', 'http');
  const nServers = Number(arg('servers', '2'));

  const servers = Array.from({ length: nServers }, () => fork(fileURLToPath(import.meta.url), ['server', kind], { execArgv: ['--import', 'tsx'] }));
  const ports = await Promise.all(servers.map((s) => new Promise<number>((resolve) => s.once('message', (m: { port: number }) => resolve(m.port)))));
  const connections = async (): Promise<number> => {
    const counts = await Promise.all(servers.map((s) => new Promise<number>((resolve) => {
      s.once('message', (m: { count: number }) => resolve(m.count));
      s.send('count');
    })));
    return counts.reduce((a, b) => a + b, 0);
  };

  // 100 virtual servers of n/100 real servers, like a big LVS director.
  const checker = kind === 'tcp'
    ? ['    TCP_CHECK {']
    : [`    ${kind === 'ssl' ? 'SSL_GET' : 'HTTP_GET'} {`, '      url {', '        path /health', '      }'];
  const lines = ['global_defs {', '  router_id ktcheckerload', '}'];
  const perVs = Math.max(1, Math.ceil(n / 100));
  for (let v = 0; v * perVs < n; v++) {
    lines.push(`virtual_server 10.0.${v >> 8}.${v & 255} 80 {`, '  delay_loop 1', '  warmup 1', '  lb_algo rr', '  lb_kind NAT', '  protocol TCP');
    for (let i = v * perVs; i < Math.min(n, (v + 1) * perVs); i++) {
      lines.push(`  real_server 127.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255} ${ports[i % nServers]} {`, ...checker,
        '      connect_timeout 3', '      retry 1', '      delay_before_retry 1', '    }', '  }');
    }
    lines.push('}');
  }
  const dir = mkdtempSync(join(tmpdir(), 'kt-checker-load-'));
  writeFileSync(join(dir, 'keepalived.conf'), lines.join('\n') + '\n');
  const options: DaemonOptions = {
    configFile: join(dir, 'keepalived.conf'), foreground: true, logConsole: false, noSyslog: true, logDetail: false, logJson: false,
    pidFile: join(dir, 'kt.pid'), vrrpPidFile: join(dir, 'vrrp.pid'), checkersPidFile: join(dir, 'checkers.pid'),
    dontReleaseVrrp: false, dontReleaseIpvs: false, releaseVips: false, noRespawn: true, vrrpOnly: false, checkOnly: true, argv: [],
  };
  const entry = fileURLToPath(new URL('../dist/src/daemon/child.js', import.meta.url));
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build first (npm run build)`);
  const child = fork(entry, [], {
    env: { ...process.env, [CHILD_KIND_ENV]: 'checker', [CHILD_OPTIONS_ENV]: JSON.stringify(options), [CHILD_PARENT_ENV]: String(process.pid) },
    execArgv: [],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  child.once('exit', (code, sig) => {
    if (!stopping) {
      console.error(`checker-load: the checker child exited (${sig ?? code})`);
      process.exit(1);
    }
  });
  let stopping = false;
  let nextId = 1;
  /** The daemon's status request (ipc.ts ToChild 'status'), answered with the real servers' state. */
  const status = (): Promise<ChildStatus> => new Promise((resolve) => {
    const id = nextId++;
    const on = (m: FromChild) => {
      if (m.t !== 'status' || m.id !== id) return;
      child.off('message', on);
      resolve(m.status);
    };
    child.on('message', on);
    child.send({ t: 'status', id } satisfies ToChild);
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  /** user+system CPU seconds of a process (/proc/<pid>/stat fields 14 and 15). */
  const cpuSeconds = (pid: number): number => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / clkTck;
  };
  const rssBytes = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  const upCount = async (): Promise<number> => ((await status()).checkers ?? []).filter((c) => c.up).length;

  try {
    // Running once it says so (config read, engine started), as the daemon's supervisor hears it.
    await new Promise<void>((resolve) => {
      const on = (m: FromChild) => {
        if (m.t !== 'ready') return;
        child.off('message', on);
        resolve();
      };
      child.on('message', on);
    });
    // Bootstrap 1 s + warmup 1 s, then one more second to settle.
    await sleep(3000);
    const pid = child.pid!;
    const a = { conns: await connections(), cpu: cpuSeconds(pid), t: performance.now() };
    await sleep(seconds * 1000);
    const b = { conns: await connections(), cpu: cpuSeconds(pid), t: performance.now() };
    const rss = rssBytes(pid);
    const dt = (b.t - a.t) / 1000;
    console.log(JSON.stringify({
      process: 'production checker child (daemon/checker-child.ts)', kind, realServers: n, serverProcesses: nServers,
      seconds: Number(dt.toFixed(1)), checksPerSec: Math.round((b.conns - a.conns) / dt), expectedPerSec: n,
      checkerCpuPercentOfOneCore: Math.round(((b.cpu - a.cpu) / dt) * 1000) / 10,
      checkerRssMiB: Math.round(rss / 1048576), realServersUp: await upCount(),
    }));
  } finally {
    // SIGTERM, as the daemon stops its children.
    stopping = true;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
    for (const s of servers) s.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
