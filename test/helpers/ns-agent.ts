// Namespaces for the net/ tests, and an agent: a child node process inside a namespace that runs our net/ code
// on JSON commands (stdin) and reports results and events (stdout). Netlink and raw sockets act on the namespace
// of the process that opens them, so code under test has to run inside the namespace.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parsePcapHeader, readRecords } from '../lab/pcap.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const uniqueName = (prefix = 'kt'): string => `${prefix}${randomBytes(3).toString('hex')}`;

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export const ipIn = (ns: string, ...args: string[]): string => sh('ip', ['-n', ns, ...args]);
export const ipJson = <T = unknown>(ns: string, ...args: string[]): T => JSON.parse(sh('ip', ['-n', ns, '-j', ...args]) || '[]') as T;

/** Namespaces created by one test file, all removed by cleanup() even after a failure. */
export class Lab {
  readonly namespaces: string[] = [];
  readonly agents: Agent[] = [];

  ns(prefix = 'kt'): string {
    const name = uniqueName(prefix);
    sh('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    ipIn(name, 'link', 'set', 'lo', 'up');
    return name;
  }

  /** A bridge namespace with `n` member namespaces, each with eth0 = veth into the bridge, addresses and MACs given. */
  bridged(members: { ip4?: string; ip6?: string; mac: string }[], opts: { ipv6?: boolean } = {}): { lan: string; nodes: string[] } {
    const lan = this.ns('ktl');
    ipIn(lan, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'mcast_snooping', '0');
    ipIn(lan, 'link', 'set', 'br0', 'up');
    const nodes = members.map((m, i) => {
      const ns = this.ns('ktn');
      if (!opts.ipv6) sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      else sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']);
      ipIn(lan, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ipIn(lan, 'link', 'set', `v${i}`, 'master', 'br0', 'up');
      ipIn(ns, 'link', 'set', 'eth0', 'address', m.mac);
      if (m.ip4) ipIn(ns, 'addr', 'add', m.ip4, 'dev', 'eth0');
      if (m.ip6) ipIn(ns, 'addr', 'add', m.ip6, 'dev', 'eth0', 'nodad');
      ipIn(ns, 'link', 'set', 'eth0', 'up');
      return ns;
    });
    return { lan, nodes };
  }

  agent(ns: string): Promise<Agent> {
    const a = new Agent(ns);
    this.agents.push(a);
    return a.ready.then(() => a);
  }

  cleanup(): void {
    for (const a of this.agents) a.kill();
    for (const n of this.namespaces.reverse()) {
      try {
        sh('ip', ['netns', 'del', n]);
      } catch {
        /* already gone */
      }
    }
  }
}

export interface AgentEvent {
  event: string;
  [k: string]: unknown;
}

/** A node process in `ns` running test/netns/agents/net-agent.ts. */
export class Agent {
  readonly child: ChildProcess;
  readonly events: AgentEvent[] = [];
  readonly ready: Promise<void>;
  private id = 0;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private waiters: { pred: (e: AgentEvent) => boolean; resolve: (e: AgentEvent) => void }[] = [];
  stderr = '';

  constructor(readonly ns: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(root, 'test/netns/agents/net-agent.ts')], {
      cwd: root, stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    let readyResolve!: () => void;
    this.ready = new Promise((r) => (readyResolve = r));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let m: { id?: number; ok?: boolean; result?: unknown; error?: string; event?: string };
      try {
        m = JSON.parse(line);
      } catch {
        return;
      }
      if (m.event === 'ready') return readyResolve();
      if (m.event) {
        const ev = m as AgentEvent;
        this.events.push(ev);
        this.waiters = this.waiters.filter((w) => (w.pred(ev) ? (w.resolve(ev), false) : true));
        return;
      }
      const p = this.pending.get(m.id!);
      if (!p) return;
      this.pending.delete(m.id!);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    this.child.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error(`agent in ${ns} exited: ${this.stderr}`));
      this.pending.clear();
    });
  }

  call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    const id = ++this.id;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  /** Resolves with the first event (already seen or future) that matches; rejects after `ms`. */
  waitEvent(pred: (e: AgentEvent) => boolean, ms = 10_000): Promise<AgentEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (e: AgentEvent) => (clearTimeout(t), resolve(e)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no matching event in ${ms} ms; events: ${JSON.stringify(this.events.slice(-20))}`));
      }, ms);
      this.waiters.push(w);
    });
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** tcpdump writing a pcap in `ns`; resolves once it is listening. stop() ends it (SIGINT) and waits. */
export async function startCapture(ns: string, iface: string, file: string, filter: string[] = []): Promise<{ stop(): Promise<void> }> {
  const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '--immediate-mode', '-i', iface, '-U', '-n', '-w', file, ...filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
    child.stderr!.on('data', (d) => {
      err += d;
      if (/listening on/.test(err)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`tcpdump exited: ${err}`)));
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.stderr!.on('data', (d) => process.env.KT_DEBUG && console.error(String(d)));
        child.kill('SIGINT');
      }),
  };
}

/** Frames of a classic pcap file (what tcpdump -w writes), for byte-level checks. */
export function readPcap(buf: Buffer): Buffer[] {
  return readRecords(buf, parsePcapHeader(buf)).records.map((r) => r.data);
}
