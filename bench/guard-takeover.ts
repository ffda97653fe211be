// Split-brain guard benchmark (issue 10): takeover time with the guard (unreachable keep / release) against the same
// pair without it, and the lock acquisition latency, for each service. One namespace LAN, two keepalived-ts directors
// (d1 prio 150, d2 prio 100, VRRPv2 advert_int 1), a ZooKeeper server in its own namespace (tickTime 500) and a
// three-member etcd cluster (a namespace each), session_timeout 3 s.
// Per run: start d1, then d2; d1 MASTER; then SIGTERM d1 → d2 holds the VIP; restart; then a host death (every
// process of d1's daemon SIGKILLed and its link down: nothing of d1 speaks again) → d2 holds the VIP. (A SIGKILL of
// the parent alone is a clean stop: the VRRP child sees its parent gone and stops as on SIGTERM.)
// Times from one clock: `ip -ts monitor address` on d2 and the signal's send time; the lock latency from d1's log
// ("waiting for lock" → "holds lock").
//
// Env: BENCH_RUNS (default 3); BENCH_GUARD=zookeeper|etcd runs one service only (and the pair without a guard).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLan, nowMs, sleep, waitFor, vrrpConfig, descendants, EtcdCluster, type Lan, type Director, type TrackedProcess } from '../test/lab/index.js';

const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 3) || 3);
type Mode = 'none' | 'keep' | 'release';
type Service = 'ZooKeeper' | 'etcd';
const only = process.env.BENCH_GUARD?.toLowerCase();
const SERVICES: Service[] = (['ZooKeeper', 'etcd'] as const).filter((x) => !only || x.toLowerCase() === only);
const PLAN: Array<{ mode: Mode; service?: Service }> = [{ mode: 'none' }, ...SERVICES.flatMap((service) => (['keep', 'release'] as const).map((mode) => ({ mode, service })))];
const SESSION_S = 3;
const WAIT = { timeoutMs: 30_000, intervalMs: 20 };

const samples = new Map<string, number[]>();
const add = (k: string, v: number): void => { samples.set(k, [...(samples.get(k) ?? []), v]); };

/** The vrrp_guard's service line, per service. */
type Lines = Record<Service, string>;

function config(lan: Lan, lines: Lines, prio: number, mode: Mode, service?: Service): string {
  const base = vrrpConfig({ vrid: 51, priority: prio, advertInt: 1, version: 2, vip: lan.vipCidr(), iface: 'eth0', extraInstance: mode === 'none' ? [] : ['guard G'] });
  if (mode === 'none' || !service) return base;
  return `vrrp_guard G {\n    ${lines[service]}\n    path /kt/bench\n    session_timeout ${SESSION_S}\n    unreachable ${mode}\n}\n${base}`;
}

/** Log time (ms) of the first line after `from` matching re; the lab's log lines start with an ISO time. */
function logTime(d: Director, from: number, re: RegExp): number | undefined {
  const text = readFileSync(d.daemon!.logFile, 'utf8').slice(from);
  for (const line of text.split('\n')) if (re.test(line)) { const t = Date.parse(line.slice(0, 24)); if (!Number.isNaN(t)) return t; }
  return undefined;
}

async function cycle(lan: Lan, lines: Lines, mode: Mode, service?: Service): Promise<void> {
  const [d1, d2] = lan.directors as [Director, Director];
  const vip = lan.vip();
  const holders = async (): Promise<string> => JSON.stringify(await lan.vipHolders(vip));
  for (const how of ['SIGTERM', 'host death'] as const) {
    const from1 = d1.daemon ? readFileSync(d1.daemon.logFile, 'utf8').length : 0;
    await lan.startDaemon(d1, { kind: 'keepalived-ts', configText: config(lan, lines, 150, mode, service) });
    await waitFor(async () => (await holders()) === '["d1"]', { ...WAIT, what: 'd1 to hold the VIP' });
    if (mode !== 'none') {
      const asked = logTime(d1, from1, /waiting for lock G/);
      const held = logTime(d1, from1, /holds lock G/);
      if (asked !== undefined && held !== undefined) add(`lock acquisition (d1 elected → lock held), ${service} ${mode}`, held - asked);
    }
    await lan.startDaemon(d2, { kind: 'keepalived-ts', configText: config(lan, lines, 100, mode, service) });
    await sleep(2500);
    const mon = await lan.watchAddresses(d2);
    const t0 = nowMs();
    if (how === 'SIGTERM') await d1.stop(how, 10_000);
    else {
      const pid = d1.daemon!.pid;
      for (const p of [pid, ...descendants(pid)]) process.kill(p, 'SIGKILL');
      await lan.linkDown(d1);
    }
    await waitFor(async () => (await holders()).includes('"d2"'), { ...WAIT, what: 'd2 to hold the VIP' });
    await sleep(100);
    const added = mon.first(vip, true, t0 - 1);
    mon.stop();
    if (how === 'host death') {
      await lan.exec(d1, 'ip', ['addr', 'del', lan.vipCidr(), 'dev', 'eth0'], { allowFail: true });
      await lan.linkUp(d1);
    }
    if (added) add(`${how} of the master → d2 holds the VIP, ${mode === 'none' ? 'no guard' : `guard ${service} (${mode})`}`, added.tMs - t0);
    await d2.stop('SIGTERM');
  }
}

async function main(): Promise<void> {
  for (let r = 0; r < runs; r++) {
    const lan = await createLan({ prefix: 'ktgb', directors: 2, clients: 4 });
    let zk: TrackedProcess | undefined;
    const etcd = new EtcdCluster(lan, lan.clients.slice(1, 4), lan.clients[0]!, join(lan.directors[0]!.dir, '..', 'etcd'));
    try {
      const zkNode = lan.clients[1]!;
      if (SERVICES.includes('ZooKeeper')) {
        const dir = join(lan.directors[0]!.dir, '..', 'zookeeper');
        mkdirSync(join(dir, 'data'), { recursive: true });
        writeFileSync(join(dir, 'zoo.cfg'), `tickTime=500\ndataDir=${join(dir, 'data')}\nclientPort=2181\nclientPortAddress=${zkNode.ip}\nadmin.enableServer=false\n4lw.commands.whitelist=*\n`);
        zk = lan.spawnIn(zkNode, 'java', ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', '/etc/zookeeper/conf:/usr/share/java/zookeeper.jar',
          'org.apache.zookeeper.server.ZooKeeperServerMain', join(dir, 'zoo.cfg')], { logFile: join(dir, 'zookeeper.log') });
        await waitFor(async () => (await lan.exec(zkNode, 'bash', ['-c', `exec 3<>/dev/tcp/${zkNode.ip}/2181 && echo ruok >&3 && timeout 2 cat <&3`], { allowFail: true })).stdout.includes('imok'), { ...WAIT, what: 'ZooKeeper' });
      }
      if (SERVICES.includes('etcd')) await etcd.startAll();
      const lines: Lines = { ZooKeeper: `zookeeper ${zkNode.ip}:2181`, etcd: `etcd ${etcd.endpoints.join(',')}` };
      for (const p of PLAN) await cycle(lan, lines, p.mode, p.service);
    } finally {
      if (zk?.running) process.kill(zk.pid, 'SIGTERM');
      await etcd.stopAll();
      await lan.teardown();
    }
  }
  const fmt = (v: number): string => `${Math.round(v)}`;
  console.log(`\nguard-takeover: ${runs} run(s), ${SERVICES.join(' and ')}, VRRPv2 advert_int 1 s (master-down 3.6 s at prio 100), session_timeout ${SESSION_S} s`);
  console.log('| figure | median ms | min | max |\n|---|---|---|---|');
  for (const [k, v] of samples) {
    const s = [...v].sort((a, b) => a - b);
    console.log(`| ${k} | ${fmt(s[Math.floor(s.length / 2)]!)} | ${fmt(s[0]!)} | ${fmt(s[s.length - 1]!)} |`);
  }
}

await main();
