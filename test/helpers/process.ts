// Small helpers the daemon-level tests share: stopping a child process the way an operator would (SIGTERM, then
// SIGKILL after a grace period) and polling for a condition with the daemon's log in the failure message.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** SIGTERM, SIGKILL after `graceMs`, resolved once the process has exited (at once when it already has). */
export async function stopProcess(p: ChildProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(t);
}

/** Polls `pred` every 100 ms; on timeout throws with the tail of `log()` so the failure explains itself. */
export async function waitForCondition(what: string, pred: () => boolean, timeoutMs: number, log: () => string): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}; log:\n${log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * keepalived-ts from the source tree, in the foreground with its log on stdout, inside network namespace `ns`, on
 * `dir`/keepalived.conf, with its pid files and TMPDIR (dumps) in `dir`. `log()` is everything it printed so far.
 */
export function spawnDaemonInNetns(ns: string, dir: string): { proc: ChildProcess; log: () => string } {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(repo, 'src', 'cli.ts'),
    '-n', '-l', '-f', join(dir, 'keepalived.conf'), '-p', join(dir, 'k.pid'), '-r', join(dir, 'v.pid'), '-c', join(dir, 'c.pid')],
  { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } });
  let text = '';
  proc.stdout!.on('data', (d) => { text += d; });
  proc.stderr!.on('data', (d) => { text += d; });
  return { proc, log: () => text };
}
