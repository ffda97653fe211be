// The namespace LAN laboratory: a bridge namespace ("lan") with directors d1..dn and clients c1..cm, each a
// namespace with one veth "eth0" plugged into the bridge. Everything is created inside namespaces (veth pairs are
// made in the lan namespace with the peer moved straight into its node), so the root namespace is never touched.
// Ownership of every namespace and process is recorded under /run/keepalived-ts-lab/<lab-id>/ so a crashed run can
// be swept later without ever touching anything this library did not create.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync, readSync, fstatSync } from 'node:fs';
import { join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { decodeFrame, parsePcapHeader, readRecords, type Frame, type PcapHeader } from './pcap.js';
import { KtError } from '../../src/util/errors.js';
import { numberToIpv4, ipv4ToNumber, parseCidr, prefixToMask } from '../../src/net/address.js';

export const LAB_ROOT = '/run/keepalived-ts-lab';
const OWNER_FILE = 'owner.json';

/** Wall-clock epoch milliseconds with sub-millisecond resolution (same clock as pcap stamps and notify logs). */
export const nowMs = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** The promise's value, or undefined after ms (the timer is cleared so it never holds the process open). */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; rejects with KT_LAB_EXEC on a non-zero exit unless allowFail. */
export function run(cmd: string, args: string[], opts: { allowFail?: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : (err as { status?: number }).status ?? 1) : 0;
      const res = { code, stdout: String(stdout), stderr: String(stderr) };
      if (err && !opts.allowFail) reject(new KtError('KT_LAB_EXEC', `${cmd} ${args.join(' ')} failed (${code}): ${String(stderr).trim() || err.message}`));
      else resolve(res);
    });
  });
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Says what was awaited, for the timeout error. */
  what?: string;
}

/** Polls `predicate` until it returns a truthy value, which is returned. */
export async function waitFor<T>(predicate: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 20;
  const deadline = nowMs() + timeoutMs;
  for (;;) {
    const v = await predicate();
    if (v) return v as NonNullable<T>;
    if (nowMs() > deadline) throw new KtError('KT_LAB_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a condition'}`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Addressing (pure; the address arithmetic is src/net/address.ts's)

/** The lab's LAN: an IPv4 subnet between /8 and /24 (room for the hosts, addressable by host number). */
export function parseSubnet(cidr: string): { network: number; prefixLen: number } {
  const c = parseCidr(cidr);
  const prefixLen = c?.prefix ?? NaN;
  if (c?.family !== 4 || !(prefixLen >= 8 && prefixLen <= 24)) throw new KtError('KT_LAB_ARG', `subnet ${cidr}: need an IPv4 prefix between /8 and /24`);
  return { network: (ipv4ToNumber(c.address) & prefixToMask(prefixLen)) >>> 0, prefixLen };
}

// ---------------------------------------------------------------------------------------------------------------
// Tracked processes

export interface TrackedProcess {
  ns: string;
  cmd: string;
  args: string[];
  pid: number;
  logFile?: string;
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly running: boolean;
}

/** The argv of a live process, or undefined when it is gone. */
function cmdlineOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** True when pid is still the process we started: alive and running the command we asked for. */
function isOurs(p: TrackedProcess): boolean {
  if (!p.running) return false;
  const argv = cmdlineOf(p.pid);
  if (!argv) return false;
  // Right after spawn the process may still be `ip netns exec <ns> <cmd> …` (it execs the command in place).
  if (argv[0] === 'ip' && argv[1] === 'netns' && argv[2] === 'exec' && argv[3] === p.ns && argv[4] === p.cmd) return true;
  // bin/keepalived-ts (a shell script) execs node with bin/keepalived-ts.js in its place.
  const want = basename(p.cmd);
  return argv.slice(0, 3).some((a) => basename(a) === want || basename(a) === `${want}.js`);
}

/** Every descendant pid of `pid` (children of children, via /proc/<pid>/task/<tid>/children). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids = '';
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const k of kids.split(/\s+/).filter(Boolean).map(Number)) {
        out.push(k);
        walk(k);
      }
    }
  };
  walk(pid);
  return out;
}

/** The process exists (signal 0 reaches it). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resident set size of a process (kB), or 0 when gone. */
export function rssKbOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Nodes

export interface LanNode {
  /** Short name inside the lab: d1, d2, c1 … */
  name: string;
  /** Namespace name (unique per lab). */
  ns: string;
  iface: 'eth0';
  ip: string;
  prefixLen: number;
  mac: string;
  /** The veth port on the bridge, in the lan namespace. */
  bridgePort: string;
}

export interface NotifyLogLine {
  tMs: number;
  node: string;
  /** MASTER, BACKUP, FAULT, STOP, or NOTIFY for the generic notify script. */
  state: string;
  args: string[];
}

export function parseNotifyLog(text: string): NotifyLogLine[] {
  const out: NotifyLogLine[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 3 || !/^\d+(\.\d+)?$/.test(parts[0])) continue;
    out.push({ tMs: Number(parts[0]), node: parts[1], state: parts[2], args: parts.slice(3) });
  }
  return out;
}

export class Director implements LanNode {
  iface = 'eth0' as const;
  daemon?: Daemon;
  constructor(
    readonly lan: Lan,
    readonly name: string,
    readonly ns: string,
    readonly ip: string,
    readonly prefixLen: number,
    readonly mac: string,
    readonly bridgePort: string,
    /** Root-owned 0755 directory for this director's config, pid files, TMPDIR and logs. */
    readonly dir: string,
  ) {}
  get notifyScript(): string {
    return join(this.dir, 'notify.sh');
  }
  get notifyLog(): string {
    return join(this.dir, 'notify.log');
  }
  notifyEvents(): NotifyLogLine[] {
    return existsSync(this.notifyLog) ? parseNotifyLog(readFileSync(this.notifyLog, 'utf8')) : [];
  }
  /** Same as lan.startDaemon(this, o). */
  start(o: StartDaemonOptions): Promise<Daemon> {
    return this.lan.startDaemon(this, o);
  }
  /** Stops this director's daemon (see Daemon.stop); a no-op when none runs. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; sentAtMs: number } | undefined> {
    return this.daemon?.running ? this.daemon.stop(signal, timeoutMs) : undefined;
  }
}

export type DaemonKind = 'keepalived' | 'keepalived-ts';

export interface StartDaemonOptions {
  kind: DaemonKind;
  configText: string;
  extraArgs?: string[];
  /** Overrides the command (argv prefix before keepalived's options). */
  command?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Where the repository lives: the nearest parent folder with keepalived-ts's package.json. */
export function repoRoot(from = import.meta.dirname): string {
  let d = from;
  for (;;) {
    const pj = join(d, 'package.json');
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, 'utf8')).name === 'keepalived-ts') return d;
      } catch {
        /* keep looking */
      }
    }
    const up = join(d, '..');
    if (up === d) throw new KtError('KT_LAB_SETUP', `no keepalived-ts package.json above ${from}`);
    d = up;
  }
}

/** The argv prefix that runs a daemon kind. keepalived-ts: $KEEPALIVED_TS_CMD (space separated) or bin/keepalived-ts, the launcher an operator runs. */
export function daemonCommand(kind: DaemonKind): string[] {
  if (kind === 'keepalived') return [process.env.KEEPALIVED_BIN ?? '/usr/sbin/keepalived'];
  const override = process.env.KEEPALIVED_TS_CMD?.trim();
  if (override) return override.split(/\s+/);
  return [join(repoRoot(), 'bin', 'keepalived-ts')];
}

export class Daemon {
  constructor(
    readonly director: Director,
    readonly kind: DaemonKind,
    readonly proc: TrackedProcess,
    readonly configFile: string,
    readonly logFile: string,
    readonly startedAtMs: number,
  ) {}
  get pid(): number {
    return this.proc.pid;
  }
  get running(): boolean {
    return this.proc.running;
  }
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }
  /** RSS of the daemon and all its children (keepalived runs a VRRP child), kB. */
  rssKb(): { total: number; perProcess: { pid: number; rssKb: number }[] } {
    const pids = [this.pid, ...descendants(this.pid)];
    const perProcess = pids.map((pid) => ({ pid, rssKb: rssKbOf(pid) }));
    return { total: perProcess.reduce((s, p) => s + p.rssKb, 0), perProcess };
  }
  /** Sends `signal` (only if the pid is still the daemon we started) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 8000): Promise<{ code: number | null; signal: NodeJS.Signals | null; sentAtMs: number }> {
    const sentAtMs = nowMs();
    if (isOurs(this.proc)) process.kill(this.pid, signal);
    const res = await within(this.proc.exited, timeoutMs);
    if (res) return { ...res, sentAtMs };
    if (isOurs(this.proc)) process.kill(this.pid, 'SIGKILL');
    const r = await this.proc.exited;
    throw new KtError('KT_LAB_TIMEOUT', `${this.kind} on ${this.director.name} ignored ${signal} for ${timeoutMs} ms; killed (${r.signal})`);
  }
  /** Sends a signal without waiting (e.g. SIGUSR1 for a data dump). */
  signal(signal: NodeJS.Signals): void {
    if (!isOurs(this.proc)) throw new KtError('KT_LAB_NOT_OURS', `pid ${this.pid} is not our running ${this.kind}`);
    process.kill(this.pid, signal);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Captures

export class Capture {
  private fd = -1;
  private offset = 0;
  private header?: PcapHeader;
  private pending = Buffer.alloc(0);
  private parsed: Frame[] = [];
  constructor(readonly file: string, readonly proc: TrackedProcess) {}

  /** Reads whatever tcpdump has written since the last call; returns all frames so far. */
  frames(): Frame[] {
    if (this.fd < 0) {
      if (!existsSync(this.file)) return this.parsed;
      this.fd = openSync(this.file, 'r');
    }
    const size = fstatSync(this.fd).size;
    if (size > this.offset) {
      const chunk = Buffer.alloc(size - this.offset);
      const n = readSync(this.fd, chunk, 0, chunk.length, this.offset);
      this.offset += n;
      this.pending = Buffer.concat([this.pending, chunk.subarray(0, n)]);
    }
    if (!this.header) {
      if (this.pending.length < 24) return this.parsed;
      this.header = parsePcapHeader(this.pending);
      this.pending = this.pending.subarray(24);
    }
    const { records, nextOffset } = readRecords(this.pending, this.header, 0);
    this.pending = this.pending.subarray(nextOffset);
    for (const r of records) this.parsed.push(decodeFrame(r, this.parsed.length));
    return this.parsed;
  }

  /** Waits until a frame matching `pred` (optionally captured after `afterMs`) has been written. */
  async waitForFrame(pred: (f: Frame) => boolean, opts: WaitOptions & { afterMs?: number } = {}): Promise<Frame> {
    const after = opts.afterMs ?? -Infinity;
    let from = 0;
    return waitFor(
      () => {
        const fs = this.frames();
        for (; from < fs.length; from++) if (fs[from].tMs > after && pred(fs[from])) return fs[from];
        return undefined;
      },
      { intervalMs: 2, ...opts, what: opts.what ?? 'a captured frame' },
    );
  }

  /** tshark's full decode (-V) of the frames matching a display filter, e.g. 'vrrp.prio == 0'. */
  async decode(displayFilter: string): Promise<string> {
    return (await run('tshark', ['-n', '-r', this.file, '-V', '-Y', displayFilter])).stdout;
  }

  /** Stops tcpdump (SIGINT flushes its buffer) and returns every frame. */
  async stop(): Promise<Frame[]> {
    if (isOurs(this.proc)) process.kill(this.proc.pid, 'SIGINT');
    await within(this.proc.exited, 3000);
    if (isOurs(this.proc)) process.kill(this.proc.pid, 'SIGKILL');
    const fs = this.frames();
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    return fs;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Address monitor (`ip -ts -o monitor address`): event times for VIP add/remove, cheaper and finer than polling.

export interface AddressEvent {
  tMs: number;
  added: boolean;
  address: string;
  prefixLen: number;
  iface: string;
}

/** Parses `ip -ts -o monitor address` output written with TZ=UTC. */
export function parseAddressMonitor(text: string): AddressEvent[] {
  const out: AddressEvent[] = [];
  const re = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)\]\s+(Deleted\s+)?\d+:\s+(\S+)\s+inet6?\s+([\da-fA-F.:]+)\/(\d+)/;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const tMs = Date.parse(`${m[1]}Z`) + Number(`0.${m[2]}`) * 1000;
    out.push({ tMs, added: !m[3], iface: m[4], address: m[5], prefixLen: Number(m[6]) });
  }
  return out;
}

export class AddressMonitor {
  constructor(readonly node: LanNode, readonly logFile: string, readonly proc: TrackedProcess) {}
  events(): AddressEvent[] {
    return existsSync(this.logFile) ? parseAddressMonitor(readFileSync(this.logFile, 'utf8')) : [];
  }
  /** First time `address` was added (or removed) after afterMs. */
  first(address: string, added: boolean, afterMs = -Infinity): AddressEvent | undefined {
    return this.events().find((e) => e.address === address && e.added === added && e.tMs > afterMs);
  }
  stop(): void {
    if (isOurs(this.proc)) process.kill(this.proc.pid, 'SIGTERM');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The LAN

export interface LanOptions {
  /** Namespace name prefix (the "family"); a random id follows. Default "kt". */
  prefix?: string;
  directors: number;
  clients: number;
  /** Keep IPv6 enabled in the node namespaces (default: disabled, no MLD/RS noise). */
  ipv6?: boolean;
  /** IPv4 subnet, default 10.99.0.0/24: directors at .11, .12 …, clients at .100, .101 …, VIPs from .50. */
  subnet?: string;
}

interface OwnerRecord {
  pid: number;
  /** The owner's start time (clock ticks since boot, /proc/<pid>/stat field 22): tells pid reuse apart. */
  startTime: number;
  prefix: string;
  id: string;
  createdAt: string;
  namespaces: string[];
}

const liveLabs = new Set<Lan>();
let handlersInstalled = false;
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const lan of liveLabs) lan.teardownSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const lan of liveLabs) lan.teardownSync();
      process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const)[sig]);
    });
  }
}

function startTimeOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces and parentheses: count fields after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

/** True when the process that wrote an owner record is still running (same pid, same start time). */
function ownerAlive(rec: OwnerRecord): boolean {
  const st = startTimeOf(rec.pid);
  return st !== undefined && st === rec.startTime;
}

function listNetns(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

/** Kills every process inside namespace ns and deletes it (synchronous; for sweeps and exit handlers). */
function destroyNamespaceSync(ns: string): void {
  if (!listNetns().includes(ns)) return;
  for (let attempt = 0; attempt < 2; attempt++) {
    let pids: number[] = [];
    try {
      pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
    } catch {
      /* namespace already gone */
    }
    for (const p of pids) {
      try {
        process.kill(p, attempt === 0 ? 'SIGTERM' : 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (!pids.length) break;
    execFileSync('sleep', ['0.3']);
  }
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    /* already gone */
  }
}

/**
 * Removes what an earlier run of this prefix family left behind after a crash: only labs recorded under LAB_ROOT
 * whose owning process is gone, and only the namespaces that record lists.
 */
export function sweepStale(prefix: string): string[] {
  const removed: string[] = [];
  if (!existsSync(LAB_ROOT)) return removed;
  for (const id of readdirSync(LAB_ROOT)) {
    const dir = join(LAB_ROOT, id);
    let rec: OwnerRecord;
    try {
      rec = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue;
    }
    if (rec.prefix !== prefix || ownerAlive(rec)) continue;
    for (const ns of rec.namespaces) {
      if (!ns.startsWith(prefix + rec.id)) continue;
      destroyNamespaceSync(ns);
      removed.push(ns);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return removed;
}

export class Lan {
  readonly directors: Director[] = [];
  readonly clients: LanNode[] = [];
  readonly bridgeNs: string;
  readonly bridge = 'br0';
  readonly dir: string;
  private readonly processes: TrackedProcess[] = [];
  private readonly namespaces: string[] = [];
  private tornDown = false;
  private network: number;
  readonly prefixLen: number;

  private constructor(readonly prefix: string, readonly id: string, readonly options: LanOptions) {
    this.bridgeNs = `${prefix}${id}-lan`;
    this.dir = join(LAB_ROOT, `${prefix}${id}`);
    const s = parseSubnet(options.subnet ?? '10.99.0.0/24');
    this.network = s.network;
    this.prefixLen = s.prefixLen;
  }

  /** Address `hostNumber` within the lab's subnet (e.g. 50 → 10.99.0.50). */
  host(hostNumber: number): string {
    return numberToIpv4(this.network + hostNumber);
  }
  /** The n-th VIP (0-based) with the subnet's prefix length: "10.99.0.50/24". */
  vipCidr(n = 0): string {
    return `${this.vip(n)}/${this.prefixLen}`;
  }
  vip(n = 0): string {
    return this.host(50 + n);
  }
  /** With ipv6: the node's ULA address for a host number (fd00:99::<hex>), and the n-th IPv6 VIP. */
  host6(hostNumber: number): string {
    return `fd00:99::${hostNumber.toString(16)}`;
  }
  vip6(n = 0): string {
    return this.host6(0x50 + n);
  }
  get allNodes(): LanNode[] {
    return [...this.directors, ...this.clients];
  }
  node(name: string): LanNode {
    const n = this.allNodes.find((x) => x.name === name || x.ns === name);
    if (!n) throw new KtError('KT_LAB_ARG', `no node ${name} in lab ${this.prefix}${this.id}`);
    return n;
  }

  static async create(options: LanOptions): Promise<Lan> {
    const prefix = options.prefix ?? 'kt';
    if (!/^[a-z][a-z0-9]{0,7}$/.test(prefix)) throw new KtError('KT_LAB_ARG', `prefix ${JSON.stringify(prefix)}: 1–8 lowercase letters/digits`);
    if (!(options.directors >= 0 && options.directors <= 9 && options.clients >= 0 && options.clients <= 9)) {
      throw new KtError('KT_LAB_ARG', 'directors and clients: 0..9 each');
    }
    if (process.getuid?.() !== 0) throw new KtError('KT_LAB_SETUP', 'the namespace lab needs root');
    sweepStale(prefix);
    let id = '';
    do id = randomBytes(3).toString('hex').slice(0, 5);
    while (existsSync(join(LAB_ROOT, `${prefix}${id}`)) || listNetns().some((n) => n.startsWith(prefix + id)));
    const lan = new Lan(prefix, id, options);
    mkdirSync(LAB_ROOT, { recursive: true, mode: 0o755 });
    chmodSync(LAB_ROOT, 0o755);
    mkdirSync(lan.dir, { mode: 0o755 });
    chmodSync(lan.dir, 0o755);
    liveLabs.add(lan);
    installExitHandlers();
    try {
      await lan.build();
    } catch (e) {
      await lan.teardown();
      throw e;
    }
    return lan;
  }

  private writeOwner(): void {
    const rec: OwnerRecord = { pid: process.pid, startTime: startTimeOf(process.pid) ?? 0, prefix: this.prefix, id: this.id, createdAt: new Date().toISOString(), namespaces: this.namespaces };
    writeFileSync(join(this.dir, OWNER_FILE), JSON.stringify(rec, null, 2) + '\n');
  }

  private async addNamespace(short: string): Promise<string> {
    const ns = `${this.prefix}${this.id}-${short}`;
    // Record first: a crash between the add and the record would otherwise leak the namespace.
    this.namespaces.push(ns);
    this.writeOwner();
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const v6 = this.options.ipv6
      ? ['net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']
      : ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
    await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...v6]);
    return ns;
  }

  private async build(): Promise<void> {
    const lanNs = await this.addNamespace('lan');
    await run('ip', ['-n', lanNs, 'link', 'add', this.bridge, 'type', 'bridge', 'stp_state', '0', 'mcast_snooping', '0']);
    await run('ip', ['-n', lanNs, 'link', 'set', this.bridge, 'up']);
    const mk = async (short: string, hostNumber: number, macLow: number): Promise<LanNode> => {
      const ns = await this.addNamespace(short);
      const port = `v${short}`;
      const mac = `02:00:00:99:${(macLow >> 8).toString(16).padStart(2, '0')}:${(macLow & 255).toString(16).padStart(2, '0')}`;
      const ip = this.host(hostNumber);
      await run('ip', ['-n', lanNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'address', mac]);
      await run('ip', ['-n', ns, 'addr', 'add', `${ip}/${this.prefixLen}`, 'dev', 'eth0']);
      if (this.options.ipv6) {
        // Keep the node's own ULA across a link flap (the kernel flushes IPv6 addresses on down by default), as a
        // server's configured address would be: a VIP that disappears must then be the daemon's doing.
        await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.eth0.keep_addr_on_down=1']);
        await run('ip', ['-n', ns, 'addr', 'add', `${this.host6(hostNumber)}/64`, 'dev', 'eth0', 'nodad']);
      }
      await run('ip', ['-n', lanNs, 'link', 'set', port, 'master', this.bridge]);
      await run('ip', ['-n', lanNs, 'link', 'set', port, 'up']);
      await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      return { name: short, ns, iface: 'eth0', ip, prefixLen: this.prefixLen, mac, bridgePort: port };
    };
    for (let i = 1; i <= this.options.directors; i++) {
      const n = await mk(`d${i}`, 10 + i, 0x10 + i);
      const dir = join(this.dir, n.name);
      mkdirSync(dir, { mode: 0o755 });
      mkdirSync(join(dir, 'tmp'), { mode: 0o755 });
      const d = new Director(this, n.name, n.ns, n.ip, n.prefixLen, n.mac, n.bridgePort, dir);
      writeNotifyScript(d);
      this.directors.push(d);
    }
    for (let i = 1; i <= this.options.clients; i++) this.clients.push(await mk(`c${i}`, 99 + i, 0x100 + i - 1));
  }

  /** waitFor, also reachable from the lab object. */
  readonly waitFor = waitFor;

  // -- commands --------------------------------------------------------------------------------------------------

  exec(ns: string | LanNode, cmd: string, args: string[] = [], opts: { allowFail?: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', this.nsName(ns), cmd, ...args], opts);
  }

  private nsName(ns: string | LanNode): string {
    const name = typeof ns === 'string' ? ns : ns.ns;
    if (!this.namespaces.includes(name)) throw new KtError('KT_LAB_NOT_OURS', `namespace ${name} is not part of lab ${this.prefix}${this.id}`);
    return name;
  }

  /** Starts a long-running process in a namespace; output (stdout+stderr) goes to logFile. Killed on teardown. */
  spawnIn(ns: string | LanNode, cmd: string, args: string[] = [], opts: { env?: NodeJS.ProcessEnv; logFile?: string } = {}): TrackedProcess {
    const nsName = this.nsName(ns);
    const fd = opts.logFile ? openSync(opts.logFile, 'a', 0o644) : 'ignore';
    // `ip netns exec` execs the command in place (no fork), so the child's pid is the command's pid.
    const child = spawn('ip', ['netns', 'exec', nsName, cmd, ...args], { stdio: ['ignore', fd, fd], env: opts.env ?? process.env });
    if (typeof fd === 'number') closeSync(fd);
    let running = true;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => {
        running = false;
        resolve({ code, signal });
      });
      child.once('error', () => {
        running = false;
        resolve({ code: 127, signal: null });
      });
    });
    if (child.pid === undefined) throw new KtError('KT_LAB_EXEC', `could not start ${cmd} in ${nsName}`);
    const p: TrackedProcess = { ns: nsName, cmd, args, pid: child.pid, logFile: opts.logFile, child, exited, get running() { return running; } };
    this.processes.push(p);
    return p;
  }

  /** Takes a director's (or any node's) eth0 down; returns the wall-clock time just before the command. */
  async linkDown(node: string | LanNode): Promise<number> {
    const n = typeof node === 'string' ? this.node(node) : node;
    const t = nowMs();
    await run('ip', ['-n', n.ns, 'link', 'set', n.iface, 'down']);
    return t;
  }
  async linkUp(node: string | LanNode): Promise<number> {
    const n = typeof node === 'string' ? this.node(node) : node;
    const t = nowMs();
    await run('ip', ['-n', n.ns, 'link', 'set', n.iface, 'up']);
    return t;
  }

  /** The addresses (IPv4 and IPv6, without prefix) configured in a namespace, from `ip -j addr`. */
  async addresses(node: string | LanNode): Promise<string[]> {
    const n = typeof node === 'string' ? this.node(node) : node;
    const { stdout } = await run('ip', ['-n', n.ns, '-j', 'addr', 'show']);
    const links = JSON.parse(stdout || '[]') as { addr_info?: { local?: string }[] }[];
    return links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local ?? '')).filter(Boolean);
  }

  /** Names (d1, c2 …) of the nodes that hold `vip` right now. */
  async vipHolders(vip: string): Promise<string[]> {
    const ip = vip.split('/')[0];
    const held = await Promise.all(this.allNodes.map(async (n) => ((await this.addresses(n)).includes(ip) ? n.name : '')));
    return held.filter(Boolean);
  }

  /** The MAC a node has for `ip` in its neighbour table, with the entry's state, or undefined. */
  async neighbour(node: string | LanNode, ip: string): Promise<{ mac: string; state: string[] } | undefined> {
    const n = typeof node === 'string' ? this.node(node) : node;
    const { stdout } = await run('ip', ['-n', n.ns, '-j', 'neigh', 'show', 'to', ip, 'dev', n.iface]);
    const rows = JSON.parse(stdout || '[]') as { dst: string; lladdr?: string; state?: string[] }[];
    const r = rows.find((x) => x.dst === ip && x.lladdr);
    return r ? { mac: r.lladdr!.toLowerCase(), state: r.state ?? [] } : undefined;
  }

  async macOf(node: string | LanNode): Promise<string> {
    const n = typeof node === 'string' ? this.node(node) : node;
    const { stdout } = await run('ip', ['-n', n.ns, '-j', 'link', 'show', 'dev', n.iface]);
    return (JSON.parse(stdout)[0].address as string).toLowerCase();
  }

  /** One echo request; true when a reply came within timeoutS. */
  async ping(node: string | LanNode, ip: string, opts: { count?: number; timeoutS?: number } = {}): Promise<boolean> {
    const n = typeof node === 'string' ? this.node(node) : node;
    const r = await run('ip', ['netns', 'exec', n.ns, 'ping', '-n', '-q', '-c', String(opts.count ?? 1), '-W', String(opts.timeoutS ?? 1), ip], { allowFail: true });
    return r.code === 0;
  }

  /**
   * Starts tcpdump on the bridge ('bridge', the default) or on a node's eth0 and resolves once it listens.
   * Frames are read back from the pcap file (packet-buffered, so they can be followed live).
   */
  async capture(where: 'bridge' | string | LanNode = 'bridge', filter = '', opts: { name?: string; snapLen?: number } = {}): Promise<Capture> {
    const onBridge = where === 'bridge';
    const ns = onBridge ? this.bridgeNs : this.nsName(typeof where === 'string' ? this.node(where) : where);
    const iface = onBridge ? this.bridge : 'eth0';
    const name = opts.name ?? `capture-${onBridge ? 'br0' : (typeof where === 'string' ? where : where.name)}-${this.processes.length}`;
    const file = join(this.dir, `${name}.pcap`);
    const log = join(this.dir, `${name}.log`);
    const args = ['-Z', 'root', '-n', '-U', '--immediate-mode', '-s', String(opts.snapLen ?? 256), '-i', iface, '-w', file, ...(filter ? filter.split(/\s+/) : [])];
    const proc = this.spawnIn(ns, 'tcpdump', args, { logFile: log });
    await waitFor(() => !proc.running || (existsSync(log) && readFileSync(log, 'utf8').includes('listening on')), { timeoutMs: 10_000, intervalMs: 10, what: 'tcpdump to listen' });
    if (!proc.running) throw new KtError('KT_LAB_EXEC', `tcpdump failed: ${readFileSync(log, 'utf8').trim()}`);
    return new Capture(file, proc);
  }

  /** Follows address additions/removals in a node's namespace (time-stamped by `ip monitor`). */
  async watchAddresses(node: string | LanNode): Promise<AddressMonitor> {
    const n = typeof node === 'string' ? this.node(node) : node;
    const logFile = join(this.dir, `addr-monitor-${n.name}-${this.processes.length}.log`);
    const proc = this.spawnIn(n, 'ip', ['-ts', '-o', 'monitor', 'address'], { logFile, env: { ...process.env, TZ: 'UTC' } });
    // ip monitor prints nothing when it is ready; give it a moment to open its netlink socket.
    await sleep(50);
    return new AddressMonitor(n, logFile, proc);
  }

  // -- daemons ---------------------------------------------------------------------------------------------------

  /**
   * Writes the config into the director's directory and runs the daemon in its namespace in the foreground
   * (`-n -l -D`), with its own pid files and TMPDIR, logging to <dir>/<kind>.log.
   */
  async startDaemon(director: Director, o: StartDaemonOptions): Promise<Daemon> {
    if (director.daemon?.running) throw new KtError('KT_LAB_ARG', `${director.name} already runs ${director.daemon.kind}`);
    const d = director.dir;
    const configFile = join(d, 'keepalived.conf');
    writeFileSync(configFile, o.configText, { mode: 0o644 });
    const logFile = join(d, `${o.kind}.log`);
    const [cmd, ...pre] = o.command ?? daemonCommand(o.kind);
    const args = [
      ...pre,
      '-n', '-l', '-D', '-G',
      '-f', configFile,
      '-p', join(d, 'keepalived.pid'),
      '-r', join(d, 'vrrp.pid'),
      '-c', join(d, 'checkers.pid'),
      '-b', join(d, 'bfd.pid'),
      ...(o.extraArgs ?? []),
    ];
    const env = { ...process.env, TMPDIR: join(d, 'tmp'), ...o.env };
    const startedAtMs = nowMs();
    const proc = this.spawnIn(director, cmd, args, { env, logFile });
    const daemon = new Daemon(director, o.kind, proc, configFile, logFile, startedAtMs);
    director.daemon = daemon;
    return daemon;
  }

  /** Every director's notify events, merged in time order. */
  notifyEvents(): NotifyLogLine[] {
    return this.directors.flatMap((d) => d.notifyEvents()).sort((a, b) => a.tMs - b.tMs);
  }

  // -- teardown --------------------------------------------------------------------------------------------------

  /** Stops every process this lab started, deletes its namespaces and its directory. Safe to call twice. */
  async teardown(opts: { keepDir?: boolean } = {}): Promise<void> {
    if (this.tornDown) return;
    for (const p of this.processes) if (isOurs(p)) process.kill(p.pid, p.cmd === 'tcpdump' ? 'SIGINT' : 'SIGTERM');
    await within(Promise.all(this.processes.map((p) => p.exited)), 4000);
    this.teardownSync(opts);
  }

  /** The synchronous part of teardown (also what the exit/signal handlers run). */
  teardownSync(opts: { keepDir?: boolean } = {}): void {
    if (this.tornDown) return;
    for (const p of this.processes) if (isOurs(p)) process.kill(p.pid, 'SIGKILL');
    for (const ns of [...this.namespaces].reverse()) destroyNamespaceSync(ns);
    if (!opts.keepDir) rmSync(this.dir, { recursive: true, force: true });
    else rmSync(join(this.dir, OWNER_FILE), { force: true });
    this.tornDown = true;
    liveLabs.delete(this);
  }

  /** Namespace names this lab created (for checks that nothing is left). */
  get namespaceNames(): readonly string[] {
    return this.namespaces;
  }
}

export const createLan = (options: LanOptions): Promise<Lan> => Lan.create(options);

/** Notify script: appends `<epoch-ms> <node> <STATE> [args…]` to the director's notify log. */
function writeNotifyScript(d: Director): void {
  const script = `#!/bin/bash
# keepalived-ts lab notify script for ${d.name}: one line per call, "<epoch-ms> <node> <STATE> [args...]".
t=$EPOCHREALTIME
s=\${t%.*}; u=\${t#*.}
printf '%s%s.%s %s %s\\n' "$s" "\${u:0:3}" "\${u:3}" '${d.name}' "$*" >> '${d.notifyLog}'
`;
  writeFileSync(d.notifyScript, script, { mode: 0o755 });
  chmodSync(d.notifyScript, 0o755);
}
