// Checker namespace tests observed as an operator does: one real server per case, each with notify_up/notify_down
// scripts that log `UP NAME` / `DOWN NAME`, and the small test servers of test/netns/agents/checker-servers.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitForCondition } from './process.js';

/**
 * Writes `dir`/keepalived.conf: virtual server 10.99.0.1:80 with `alpha` (every real server starts down and says
 * UP on its first success, DOWN on its first failure), real server 10.99.1.N:80 per case with its checker block.
 * Returns the notify log's lines and each case's last word (UP / DOWN, undefined before its first).
 */
export function writeNotifiedCheckers(dir: string, routerId: string, connectTimeoutS: number, checks: Record<string, string>): {
  lines: () => string[];
  last: (name: string) => string | undefined;
} {
  const notifyLog = join(dir, 'notify.log');
  writeFileSync(join(dir, 'notify.sh'), `#!/bin/sh\necho "$*" >> ${notifyLog}\n`);
  chmodSync(join(dir, 'notify.sh'), 0o755);
  const rs = Object.entries(checks).map(([name, check], i) => `  real_server 10.99.1.${i + 1} 80 {
    notify_up "${dir}/notify.sh UP ${name}"
    notify_down "${dir}/notify.sh DOWN ${name}"
    ${check}
  }`).join('\n');
  writeFileSync(join(dir, 'keepalived.conf'), `
global_defs {
  router_id ${routerId}
}
virtual_server 10.99.0.1 80 {
  delay_loop 1
  connect_timeout ${connectTimeoutS}
  lb_algo rr
  lb_kind NAT
  protocol TCP
  alpha
${rs}
}
`);
  const lines = (): string[] => (existsSync(notifyLog) ? readFileSync(notifyLog, 'utf8').split('\n').filter(Boolean) : []);
  return { lines, last: (name) => lines().filter((l) => l.endsWith(` ${name}`)).at(-1)?.split(' ')[0] };
}

/** Starts agents/checker-servers.ts on `addr` inside namespace `ns` and waits until it listens; `out()` is what the
 *  servers reported (one JSON line per thing received). */
export async function startCheckerServers(ns: string, addr: string): Promise<{ proc: ChildProcess; out: () => string }> {
  const agentPath = resolve(import.meta.dirname, '..', 'netns', 'agents', 'checker-servers.ts');
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', agentPath, addr], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  proc.stdout!.on('data', (d) => { text += d; });
  try {
    await waitForCondition('the test servers', () => /"ready":true/.test(text), 30_000, () => text);
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
  return { proc, out: () => text };
}
