// Shared by the guest tests that run whole daemons (Debian's keepalived 2.2.7 and keepalived-ts): start one with
// keepalived's command line, collect its log, stop it with SIGTERM and wait until it is gone; and the controllable
// real servers the checker tests stop and start. Not a test file
// (no .guest.ts suffix), so the guest runner does not run it on its own.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ipvsUnavailable } from '../../helpers/ipvs.js';
import { sleep } from '../../lab/lan.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The built CLI (npm test builds dist/ before the guest boots). */
export const TS_BIN = join(REPO, 'bin', 'keepalived-ts.js');

/** Why a daemon guest test cannot run here, or false. */
export async function daemonTestUnavailable(needKeepalived: boolean): Promise<string | false> {
  const noIpvs = await ipvsUnavailable();
  if (noIpvs) return noIpvs;
  if (needKeepalived && spawnSync('sh', ['-c', 'command -v keepalived']).status !== 0) return 'needs keepalived (the reference)';
  if (!existsSync(join(REPO, 'dist', 'src', 'cli.js'))) return 'needs the build (npm run build) for bin/keepalived-ts.js';
  return false;
}

/** Runs a shell command line (`sh -c`), returns its stdout; throws on a non-zero exit. */
export const shell = (cmd: string): string => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });

/** `ipvsadm -Sn`, lines sorted (the kernel's order of services in a dump is a hash order). */
export const savedTable = (): string[] => execFileSync('ipvsadm', ['-Sn'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();

/** Waits until the table has not changed for `quietMs`, returns it. */
export async function settledTable(quietMs: number, timeoutMs: number): Promise<string[]> {
  let last = JSON.stringify(savedTable());
  let since = Date.now();
  const t0 = Date.now();
  for (;;) {
    await sleep(250);
    const now = JSON.stringify(savedTable());
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return JSON.parse(now) as string[];
    if (Date.now() - t0 > timeoutMs) throw new Error(`the IPVS table did not settle within ${timeoutMs} ms`);
  }
}

export interface RunningDaemon {
  proc: ChildProcess;
  dir: string;
  log(): string;
  /** SIGTERM, wait for the exit (the daemon cleans up before it exits). */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** Starts `keepalived` or keepalived-ts with `-n -l -f CONF -p -r -c` (+ extra args), TMPDIR in its own folder. */
export function startDaemon(which: 'keepalived' | 'keepalived-ts', confPath: string, extra: string[] = []): RunningDaemon {
  const dir = mkdtempSync(`/tmp/kt-${which}-`);
  const args = ['-n', '-l', '-f', confPath, '-p', join(dir, 'main.pid'), '-r', join(dir, 'vrrp.pid'), '-c', join(dir, 'checkers.pid'), ...extra];
  const [cmd, argv] = which === 'keepalived' ? ['keepalived', args] : [process.execPath, [TS_BIN, ...args]];
  const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } });
  let log = '';
  proc.stdout!.on('data', (d) => { log += d; });
  proc.stderr!.on('data', (d) => { log += d; });
  return {
    proc,
    dir,
    log: () => log,
    stop: async (timeoutMs = 60_000) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * A real server of startRealServers: HTTP / HTTPS answering any path with its name, TCP writing its name and
 * closing, or echo: greeting with its name and a newline, then echoing.
 */
export type RealServerDef =
  | { kind: 'http' | 'tcp' | 'echo'; host: string; port: number }
  | { kind: 'https'; host: string; port: number; key: string; cert: string };

// One node process holding every server; stdin lines `stop NAME` / `start NAME`, each answered `stopped NAME` /
// `started NAME`. Stopping refuses new connections at once and cuts the open ones.
const REAL_SERVERS = `
const http = require('node:http'), https = require('node:https'), net = require('node:net'), fs = require('node:fs');
const defs = JSON.parse(process.argv[2]);
const live = new Map();
function start(name) {
  const d = defs[name];
  const handler = (q, s) => s.end(name);
  const srv = d.kind === 'http' ? http.createServer(handler)
    : d.kind === 'https' ? https.createServer({ key: fs.readFileSync(d.key), cert: fs.readFileSync(d.cert) }, handler)
    : d.kind === 'echo' ? net.createServer((c) => { c.write(name + '\\n'); c.pipe(c); })
    : net.createServer((c) => c.end(name));
  const sockets = new Set();
  // TCP_CHECK connects and closes at once: a reset is normal, never a crash.
  srv.on('connection', (c) => { sockets.add(c); c.on('error', () => {}); c.on('close', () => sockets.delete(c)); });
  srv.on('tlsClientError', () => {});
  srv.listen(d.port, d.host, () => { live.set(name, { srv, sockets }); console.log('started ' + name); });
}
function stop(name) {
  const l = live.get(name);
  live.delete(name);
  l.srv.close(() => {});
  for (const c of l.sockets) c.destroy();
  console.log('stopped ' + name);
}
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => {
  buf += c;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const [cmd, name] = buf.slice(0, i).trim().split(' ');
    buf = buf.slice(i + 1);
    if (cmd === 'start') start(name); else if (cmd === 'stop') stop(name);
  }
});
for (const n of Object.keys(defs)) start(n);
`;

export interface RealServers {
  proc: ChildProcess;
  /** Stops or starts one server; resolves on its `stopped` / `started` line. */
  control(cmd: 'start' | 'stop', name: string): Promise<void>;
}

/** Runs the servers of `defs` in namespace `ns` (the script is written into `dir`); resolves once all listen. */
export async function startRealServers(ns: string, dir: string, defs: Record<string, RealServerDef>): Promise<RealServers> {
  const script = join(dir, 'real-servers.js');
  writeFileSync(script, REAL_SERVERS);
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, script, JSON.stringify(defs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let started = '';
  await new Promise<void>((res, rej) => {
    proc.stdout!.on('data', (d: Buffer) => { started += d; if ((started.match(/started/g) ?? []).length === Object.keys(defs).length) res(); });
    proc.on('exit', (c) => rej(new Error(`real servers exited ${c}`)));
  });
  return {
    proc,
    control: (cmd, name) => new Promise((res) => {
      const onData = (d: Buffer): void => {
        if (d.toString().includes(`${cmd === 'start' ? 'started' : 'stopped'} ${name}`)) {
          proc.stdout!.off('data', onData);
          res();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stdin!.write(`${cmd} ${name}\n`);
    }),
  };
}
