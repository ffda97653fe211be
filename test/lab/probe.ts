// Can a daemon kind run a VRRP instance on this machine yet? keepalived-ts is written while the lab is used, so
// the benchmarks and the demo ask before relying on it: --version, a config test, and a short real run that must
// reach MASTER and hold the VIP.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLan, daemonCommand, run, waitFor, type DaemonKind } from './lan.js';
import { vrrpConfig } from './vrrp-config.js';

export interface DaemonProbeResult {
  kind: DaemonKind;
  ok: boolean;
  /** What failed, for the operator; 'ready' when ok. */
  reason: string;
  version?: string;
}

export async function probeDaemon(kind: DaemonKind, opts: { prefix?: string } = {}): Promise<DaemonProbeResult> {
  let cmd: string[];
  try {
    cmd = daemonCommand(kind);
  } catch (e) {
    return { kind, ok: false, reason: (e as Error).message };
  }
  const [bin, ...pre] = cmd;
  const v = await run(bin, [...pre, '--version'], { allowFail: true, timeoutMs: 15_000 });
  const version = (v.stdout + v.stderr).split('\n').find((l) => l.trim())?.trim();
  if (v.code !== 0) return { kind, ok: false, reason: `'${cmd.join(' ')} --version' exited ${v.code}: ${(v.stderr || v.stdout).trim().split('\n')[0] ?? ''}`, version };
  const lan = await createLan({ prefix: opts.prefix ?? 'ktprobe', directors: 1, clients: 0 });
  try {
    const d = lan.directors[0];
    const configText = vrrpConfig({ vrid: 51, priority: 150, state: 'MASTER', advertInt: 0.1, version: 3, vip: lan.vipCidr(), iface: 'eth0', notify: d.notifyScript });
    const conf = join(d.dir, 'probe.conf');
    writeFileSync(conf, configText);
    const t = await lan.exec(d, bin, [...pre, '-t', '-f', conf], { allowFail: true, timeoutMs: 15_000 });
    if (t.code !== 0) return { kind, ok: false, reason: `config test (-t) exited ${t.code}: ${t.stderr.trim().split('\n')[0] ?? ''}`, version };
    const daemon = await lan.startDaemon(d, { kind, configText });
    try {
      await waitFor(async () => !daemon.running || ((await lan.vipHolders(lan.vip())).includes(d.name) && d.notifyEvents().some((e) => e.state === 'MASTER')), {
        timeoutMs: 8000,
        intervalMs: 50,
        what: 'MASTER with the VIP',
      });
    } catch {
      return { kind, ok: false, reason: 'did not become MASTER with the VIP within 8 s on a one-director LAN', version };
    }
    if (!daemon.running) {
      const tail = daemon.log().trim().split('\n').slice(-1)[0] ?? '';
      return { kind, ok: false, reason: `exited right after start (${tail.slice(0, 160)})`, version };
    }
    await daemon.stop('SIGTERM');
    return { kind, ok: true, reason: 'ready', version };
  } finally {
    await lan.teardown();
  }
}
