// An etcd cluster on the namespace LAN (Debian's etcd-server, one member per node, each in its own namespace so a
// member can be stopped or cut on its own and the peers talk over the same LAN as the directors), for the split-brain
// guard's test and benchmark. Requests go through etcd's JSON gateway from a client namespace with bash's /dev/tcp
// (no curl or etcdctl needed, and cheaper to spawn than node).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KtError } from '../../src/util/errors.js';
import type { Lan, LanNode, TrackedProcess } from './lan.js';
import { waitFor } from './lan.js';

export class EtcdCluster {
  private readonly procs: Array<TrackedProcess | undefined>;

  constructor(readonly lan: Lan, readonly members: LanNode[], readonly from: LanNode, readonly dir: string) {
    this.procs = members.map(() => undefined);
  }

  /** `http://IP:2379` of every member, as a vrrp_guard's `etcd` line lists them. */
  get endpoints(): string[] {
    return this.members.map((m) => `http://${m.ip}:2379`);
  }

  /** Starts member i (a restart reuses its data dir: it rejoins with its old identity). */
  start(i: number): void {
    const m = this.members[i]!;
    const dataDir = join(this.dir, `e${i}`);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const cluster = this.members.map((x, j) => `e${j}=http://${x.ip}:2380`).join(',');
    this.procs[i] = this.lan.spawnIn(m, 'etcd', [
      '--name', `e${i}`, '--data-dir', dataDir,
      '--listen-client-urls', `http://${m.ip}:2379`, '--advertise-client-urls', `http://${m.ip}:2379`,
      '--listen-peer-urls', `http://${m.ip}:2380`, '--initial-advertise-peer-urls', `http://${m.ip}:2380`,
      '--initial-cluster', cluster, '--initial-cluster-token', `kt-${this.lan.vip()}`, '--initial-cluster-state', 'new',
      '--log-level', 'warn',
    ], { logFile: join(this.dir, `e${i}.log`) });
  }

  async stop(i: number): Promise<void> {
    const p = this.procs[i];
    this.procs[i] = undefined;
    if (!p) return;
    if (p.running) process.kill(p.pid, 'SIGTERM');
    await p.exited;
  }

  async startAll(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    this.members.forEach((_, i) => this.start(i));
    await this.waitHealthy();
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.members.map((_, i) => this.stop(i)));
  }

  /** Every running member answers and agrees on a leader. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor(async () => {
      const st = await Promise.all(this.members.map((_, i) => (this.procs[i] ? this.status(i) : Promise.resolve(undefined))));
      const leaders = new Set(st.filter((s) => s !== undefined).map((s) => s.leader));
      return leaders.size === 1 && !leaders.has('0') && !leaders.has(undefined as unknown as string);
    }, { timeoutMs, intervalMs: 200, what: 'the etcd members to agree on a leader' });
  }

  /** A member's view: its id and the leader it knows (undefined when it does not answer). */
  async status(i: number): Promise<{ member: string; leader: string } | undefined> {
    const r = await this.post('/v3/maintenance/status', {}, i).catch(() => undefined) as { header?: { member_id?: string }; leader?: string } | undefined;
    return r?.header?.member_id ? { member: r.header.member_id, leader: r.leader ?? '0' } : undefined;
  }

  /** Index of the member the others follow. */
  async leaderIndex(): Promise<number> {
    const st = await Promise.all(this.members.map((_, i) => this.status(i)));
    const leader = st.find((s) => s)?.leader;
    const i = st.findIndex((s) => s?.member === leader);
    if (i < 0) throw new KtError('KT_LAB_ETCD', `no etcd leader among ${JSON.stringify(st)}`);
    return i;
  }

  /** POST to etcd's JSON gateway of member i (default: the first running one); the parsed reply. */
  async post(path: string, body: unknown, i = this.procs.findIndex((p) => p?.running)): Promise<unknown> {
    const m = this.members[Math.max(0, i)]!;
    const data = JSON.stringify(body);
    const r = await this.lan.exec(this.from, 'bash', ['-c',
      'exec 3<>/dev/tcp/$1/2379 && printf "POST %s HTTP/1.0\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n%s" "$2" "${#3}" "$3" >&3 && timeout 3 cat <&3',
      '_', m.ip, path, data], { timeoutMs: 5000 });
    const text = r.stdout.slice(r.stdout.indexOf('\r\n\r\n') + 4);
    return JSON.parse(text) as unknown;
  }

  /** The keys under `prefix` (decoded) with their create revisions, oldest first. */
  async keys(prefix: string): Promise<Array<{ key: string; rev: string }>> {
    const end = Buffer.from(prefix);
    end[end.length - 1]! += 1;
    const r = await this.post('/v3/kv/range', { key: Buffer.from(prefix).toString('base64'), range_end: end.toString('base64'), sort_target: 'CREATE', sort_order: 'ASCEND' }) as { kvs?: Array<{ key: string; create_revision: string }> };
    return (r.kvs ?? []).map((kv) => ({ key: Buffer.from(kv.key, 'base64').toString(), rev: kv.create_revision }));
  }
}
