// Shared by the guest tests that run whole daemons (Debian's keepalived 2.2.7 and keepalived-ts): start one with
// keepalived's command line, collect its log, stop it with SIGTERM and wait until it is gone. Not a test file
// (no .guest.ts suffix), so the guest runner does not run it on its own.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
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
