// Start-up benchmark (issue 11): launch → first advert as MASTER, keepalived 2.2.7 beside keepalived-ts, each in the
// foreground (`-n`, as packaging/keepalived-ts.service runs it) and daemonizing (as an init script or a shell runs
// it: the launched process detaches the daemon and exits). One director alone on a fresh namespace LAN per launch, VRRPv3 advert_int 0.1, priority 150, state MASTER:
// both daemons start as BACKUP and wait the master-down interval (3 × 100 ms + skew 41 ms = 341 ms) before their
// first advert, so launch → first advert minus 341 ms is what the process start costs. Runs alternate between the
// daemons so machine load hits both alike. Times come from one clock: the launch is taken just before the spawn,
// the advert from the bridge capture.
//
// Env: BENCH_RUNS (default 5), KEEPALIVED_TS_CMD (argv prefix for keepalived-ts, default `bin/keepalived-ts`, the launcher),
// KEEPALIVED_TS_BEFORE_CMD (argv prefix of another keepalived-ts build, e.g. `node /work/main/bin/keepalived-ts.js`:
// run alternately with the others as `keepalived-ts (before)`, so a change is measured under the same load).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLan, daemonCommand, nowMs, processAlive as alive, vrrpConfig, waitFor, type DaemonKind } from '../test/lab/index.js';

const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 5) || 5);
const ADVERT_MS = 100;
const PRIO = 150;
const WAIT_MS = 3 * ADVERT_MS + ((256 - PRIO) / 256) * ADVERT_MS;

interface Variant {
  kind: DaemonKind;
  daemonize: boolean;
  /** Another build's argv prefix (KEEPALIVED_TS_BEFORE_CMD). */
  before?: string[];
}
const beforeCmd = process.env.KEEPALIVED_TS_BEFORE_CMD?.trim().split(/\s+/);
const VARIANTS: Variant[] = [false, true].flatMap((daemonize) => [
  { kind: 'keepalived' as const, daemonize },
  { kind: 'keepalived-ts' as const, daemonize },
  ...(beforeCmd ? [{ kind: 'keepalived-ts' as const, daemonize, before: beforeCmd }] : []),
]);
const label = (v: Variant) => `${v.kind}${v.before ? ' (before)' : ''} ${v.daemonize ? 'daemonizing' : '-n'}`;


/** One launch: ms from the spawn to the first advert with a non-zero priority on the bridge. */
async function once(v: Variant): Promise<number> {
  const lan = await createLan({ prefix: 'ktbstart', directors: 1, clients: 0 });
  try {
    const d = lan.directors[0]!;
    const cap = await lan.capture('bridge', 'vrrp', { name: 'startup' });
    const conf = join(d.dir, 'keepalived.conf');
    writeFileSync(conf, vrrpConfig({ vrid: 51, priority: PRIO, state: 'MASTER', advertInt: ADVERT_MS / 1000, version: 3, vip: lan.vipCidr(), iface: 'eth0' }));
    const pidFile = join(d.dir, 'keepalived.pid');
    const [cmd, ...pre] = v.before ?? daemonCommand(v.kind);
    const args = [
      ...pre, ...(v.daemonize ? [] : ['-n']), '-l', '-D', '-G', '-f', conf,
      '-p', pidFile, '-r', join(d.dir, 'vrrp.pid'), '-c', join(d.dir, 'checkers.pid'), '-b', join(d.dir, 'bfd.pid'),
    ];
    const t0 = nowMs();
    const proc = lan.spawnIn(d, cmd!, args, { env: { ...process.env, TMPDIR: d.dir }, logFile: join(d.dir, `${v.kind}.log`) });
    const advert = await cap.waitForFrame((f) => !!f.vrrp && f.vrrp.priority > 0, { timeoutMs: 10_000, what: `${label(v)}: the first advert` });
    // Stop through the pid file: a daemonized parent is not the process spawned here.
    const pid: number = await waitFor(() => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0), { timeoutMs: 5000, what: 'the pid file' });
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !alive(pid) && !proc.running, { timeoutMs: 10_000, what: `${label(v)} to stop` });
    await cap.stop();
    return advert.tMs - t0;
  } finally {
    await lan.teardown();
  }
}

const samples = new Map<string, number[]>(VARIANTS.map((v) => [label(v), []]));
for (let r = 0; r < runs; r++) {
  for (const v of VARIANTS) samples.get(label(v))!.push(await once(v));
}

const fmt = (x: number) => x.toFixed(0);
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor((s.length - 1) / 2)]!, max: s[s.length - 1]! };
};
console.log(`launch → first advert as MASTER, VRRPv3 advert_int ${ADVERT_MS / 1000}, ${runs} runs each (ms, min / median / max);`);
console.log(`the protocol's wait (master-down interval, the same for both daemons) is ${WAIT_MS.toFixed(0)} ms\n`);
for (const daemonize of [false, true]) {
  const ka = stats(samples.get(label({ kind: 'keepalived', daemonize }))!);
  const ts = stats(samples.get(label({ kind: 'keepalived-ts', daemonize }))!);
  const how = daemonize ? 'daemonizing' : '-n (foreground)';
  console.log(`${how}:`);
  console.log(`  keepalived     ${fmt(ka.min)} / ${fmt(ka.median)} / ${fmt(ka.max)}   start-up beyond the wait ${fmt(ka.median - WAIT_MS)}`);
  console.log(`  keepalived-ts  ${fmt(ts.min)} / ${fmt(ts.median)} / ${fmt(ts.max)}   start-up beyond the wait ${fmt(ts.median - WAIT_MS)}`);
  console.log(`  difference (medians) ${fmt(ts.median - ka.median)} ms (goal ≤ 150), ratio ${(ts.median / ka.median).toFixed(2)}`);
  if (beforeCmd) {
    const b = stats(samples.get(label({ kind: 'keepalived-ts', daemonize, before: beforeCmd }))!);
    console.log(`  keepalived-ts (before: ${beforeCmd.join(' ')})  ${fmt(b.min)} / ${fmt(b.median)} / ${fmt(b.max)}   difference to keepalived ${fmt(b.median - ka.median)}`);
  }
}
console.log(`\nload average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
