// Small helpers the daemon-level tests share: stopping a child process the way an operator would (SIGTERM, then
// SIGKILL after a grace period) and polling for a condition with the daemon's log in the failure message.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
 * One daemon test's network namespace (lo up) and temp dir, named from `tag`. `start()` runs keepalived-ts from the
 * source tree in the foreground inside it, on `dir`/keepalived.conf, with its pid files and TMPDIR (dumps) in `dir`;
 * `extraArgs` follow the usual ones; `log()` of what it returns is everything it printed so far. `tearDown()` stops
 * it, then deletes namespace and dir.
 */
export function netnsDaemonFixture(tag: string): {
  ns: string;
  dir: string;
  setUp(): void;
  start(extraArgs?: readonly string[]): { proc: ChildProcess; log: () => string };
  tearDown(): Promise<void>;
} {
  const ns = `${tag}${Math.random().toString(36).slice(2, 6)}`;
  const dir = mkdtempSync(`/tmp/${tag}-`);
  let proc: ChildProcess | undefined;
  return {
    ns,
    dir,
    setUp() {
      execFileSync('ip', ['netns', 'add', ns]);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    },
    start(extraArgs: readonly string[] = []) {
      const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
      const p = (proc = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(repo, 'src', 'cli.ts'),
        '-n', '-l', '-f', join(dir, 'keepalived.conf'), '-p', join(dir, 'k.pid'), '-r', join(dir, 'v.pid'), '-c', join(dir, 'c.pid'), ...extraArgs],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } }));
      let text = '';
      p.stdout!.on('data', (d) => { text += d; });
      p.stderr!.on('data', (d) => { text += d; });
      return { proc: p, log: () => text };
    },
    async tearDown() {
      await stopProcess(proc);
      try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* not created */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
