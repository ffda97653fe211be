// Imperative checker engine: real timers and sockets around the pure verdict core. Runs inside the checker
// child process (daemon/checker-child.ts → check/service.ts), never in the VRRP process. Each checker has one timer; at most `maxConcurrent`
// probes are in flight, the rest wait in a FIFO. Desired-state changes and events are coalesced per event-loop
// turn and handed to `sink` in batches. FILE_CHECK has no probe: its file is watched (inotify on the directory, as
// keepalived does) and every change is read and handed to the core.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type tls from 'node:tls';
import { buildRequest, compileRegex, hostHeader, probeHttp, tlsContext, type HttpProbeTarget } from './probe-http.js';
import { probeTcp, type TcpProbeTarget } from './probe-tcp.js';
import { probeMisc, type MiscProbeTarget } from './probe-misc.js';
import { probePing, type PingProbeTarget } from './probe-ping.js';
import { probeDns, probeUdp, type DnsProbeTarget, type UdpProbeTarget } from './probe-udp.js';
import { probeSmtp, type SmtpProbeTarget } from './probe-smtp.js';
import { keepalivedFill } from '../net/icmp-echo.js';
import { addressFamily } from '../net/address.js';
import { CheckVerdict, describeChecker, parseTrackFileValue, type CheckEvent } from './verdict.js';
import { readTrackFileText } from '../util/track-file-read.js';
import { readAccountFiles, resolveScriptUser, type AccountFiles } from '../notify/run.js';
import { clearLongTimeout, setLongTimeout, type TimerHandle } from '../util/long-timer.js';
import type { CheckInput, CheckScriptUsers, DesiredVs, ProbeResult } from './checker-types.js';
import type { Logger } from 'pino';
import { errorFields } from '../daemon/log.js';

export interface CheckEngineSink {
  desired(changes: DesiredVs[]): void;
  events(events: CheckEvent[]): void;
}

export interface CheckEngineOptions {
  /** Random source in [0,1) for the warmup spread (default Math.random). */
  random?: () => number;
  /** Probes in flight at once (default 512). */
  maxConcurrent?: number;
  /** Decides who runs each script (see CheckVerdictOptions.users). */
  users?: CheckScriptUsers;
  /** Engine being replaced by a reload: unchanged checkers keep their state. */
  previous?: CheckEngine;
  /** FILE_CHECK: the files' values at start, by path (see readFileCheckValues); on a reload the previous engine's
   *  last values are used, and every file is read again once started. */
  fileValues?: ReadonlyMap<string, number>;
  /** The daemon's logger: a checker that cannot be built or run is disabled with one error line here, the others
   *  keep running. */
  log?: Logger;
}

export interface CheckEngineStats {
  checksDone: number;
  inFlight: number;
  queued: number;
}

type Runner = () => Promise<ProbeResult>;

/** keepalived reads at most 127 bytes of a track file (process_track_file). */
const TRACK_FILE_BYTES = 127;

/** The FILE_CHECK files of a configuration. */
function fileCheckPaths(input: CheckInput): string[] {
  const paths = new Set<string>();
  for (const vs of input.virtualServers) for (const rs of vs.realServers) for (const c of rs.checkers) if (c.type === 'FILE_CHECK') paths.add(c.file);
  return [...paths];
}

/**
 * One track file's value for FILE_CHECK: 0 when it is missing, unreadable or not a regular file (keepalived reads
 * 0 when the open fails); undefined when it holds a number keepalived ignores (out of range).
 */
async function readFileCheckValue(path: string, log?: Logger): Promise<number | undefined> {
  const r = await readTrackFileText(path, TRACK_FILE_BYTES);
  if (r.kind === 'not-regular') {
    log?.error({ path }, `FILE_CHECK: ${path} is not a regular file; using 0`);
    return 0;
  }
  if (r.kind === 'unreadable' || !r.text) return 0;
  const v = parseTrackFileValue(r.text);
  if (v === undefined) log?.info({ path }, `Invalid number read from ${path} - ignoring`);
  return v;
}

/** The values of every FILE_CHECK file of `input`, read before the engine is built (keepalived reads them at start). */
export async function readFileCheckValues(input: CheckInput, log?: Logger): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const p of fileCheckPaths(input)) {
    const v = await readFileCheckValue(p, log);
    if (v !== undefined) out.set(p, v);
  }
  return out;
}

/** `HTTP_GET on [10.0.0.1]:80 of [10.0.0.100]:tcp:80` for error lines. */
const DEFAULT_MAX_CONCURRENT = 512;

export class CheckEngine {
  readonly core: CheckVerdict;
  private readonly runners: (Runner | undefined)[];
  private readonly timers: (TimerHandle | undefined)[];
  private readonly queue: number[] = [];
  private queueHead = 0;
  private inFlight = 0;
  private readonly maxConcurrent: number;
  private running = false;
  private pendingDesired = new Map<string, DesiredVs>();
  private pendingEvents: CheckEvent[] = [];
  private flushScheduled = false;
  checksDone = 0;
  private readonly random: () => number;
  private readonly log?: Logger;

  private readonly input: CheckInput;

  constructor(
    input: CheckInput,
    private readonly sink: CheckEngineSink,
    opts: CheckEngineOptions = {},
  ) {
    // Only the random source and the logger are kept: holding `previous` would chain every old engine across reloads.
    this.random = opts.random ?? Math.random;
    this.log = opts.log;
    this.input = input;
    const fileValues = opts.fileValues ?? opts.previous?.fileValues();
    this.core = new CheckVerdict(input.virtualServers, { previous: opts.previous?.core, users: opts.users, ssl: input.ssl, fileValues });
    this.maxConcurrent = Math.max(1, opts.maxConcurrent ?? DEFAULT_MAX_CONCURRENT);
    this.runners = this.core.checkers.map((ck) => this.buildRunner(ck.id));
    this.timers = new Array(this.runners.length).fill(undefined);
  }

  /** Publish the initial desired state and events, then arm every checker's first timer. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.sink.desired(this.core.desiredAll());
    const init = this.core.takeInitialEvents();
    if (init.length) this.sink.events(init);
    for (let id = 0; id < this.runners.length; id++) if (this.runners[id]) this.arm(id, this.core.firstDelayMs(id, this.random()));
    for (const path of fileCheckPaths(this.input)) this.watchFile(path);
  }

  private readonly fileWatchers: FSWatcher[] = [];

  /** The last value of each FILE_CHECK file as the core knows it (a reload's new engine starts from these). */
  private fileValues(): Map<string, number> {
    const out = new Map<string, number>();
    for (const ck of this.core.checkers) if (ck.cfg.type === 'FILE_CHECK') out.set(ck.cfg.file, ck.fileValue);
    return out;
  }

  /**
   * Watch one FILE_CHECK file the way keepalived does: inotify on its directory (a file written and closed, moved
   * in or out, or deleted), so that a file replaced by rename is followed too. Reads are serialised per file and a
   * change during a read is read again after it; the file is read once now, which catches a change since the values
   * the engine was built with.
   */
  private watchFile(path: string): void {
    const name = basename(path);
    let reading = false;
    let again = false;
    const read = async (): Promise<void> => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      do {
        again = false;
        const v = await readFileCheckValue(path, this.log);
        if (!this.running) break;
        if (v !== undefined) this.applyFile(path, v);
      } while (again);
      reading = false;
    };
    try {
      const w = watch(dirname(path), { persistent: false }, (_ev, f) => {
        if (f === null || f === name) void read();
      });
      w.on('error', (e) => this.log?.error({ ...errorFields(e), path }, `FILE_CHECK: watching ${path} failed: ${e.message}`));
      this.fileWatchers.push(w);
    } catch (e) {
      // keepalived drops a track file whose directory does not exist; its checkers keep the state they start with.
      this.log?.error({ ...errorFields(e), path }, `FILE_CHECK: cannot watch the directory of ${path}: ${(e as Error).message}`);
    }
    void read();
  }

  private applyFile(path: string, value: number): void {
    const out = this.core.onFileValue(path, value);
    for (const d of out.changed) this.pendingDesired.set(d.vsKey, d);
    for (const e of out.events) this.pendingEvents.push(e);
    if ((out.changed.length || out.events.length) && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Checkers disabled because they could not be built (each said once on the log with its checker, vs and rs). */
  readonly disabled: number[] = [];

  /**
   * One checker's runner; a checker whose options cannot run (a regex, TLS files, an unknown user…) is disabled
   * with an error instead of throwing out of the constructor and taking every other checker (and the process) down.
   * A disabled checker never fires: its real server keeps the state it starts with, as keepalived does with a
   * checker it dequeues at config time.
   */
  private buildRunner(id: number): Runner | undefined {
    try {
      return this.makeRunner(id);
    } catch (e) {
      this.disabled.push(id);
      this.reportError(id, e, `${describeChecker(this.core.checkers[id]!)}: ${(e as Error)?.message ?? String(e)} - checker disabled`);
      return undefined;
    }
  }

  private reportError(id: number, e: unknown, message: string): void {
    const ck = this.core.checkers[id]!;
    try {
      this.log?.error({ ...errorFields(e), checker: id, vs: ck.vs.cfg.key, rs: `${ck.rs.cfg.address}:${ck.rs.cfg.port}` }, `Healthcheck: ${message}`);
    } catch {
      // Nothing sensible is left to do if logging throws.
    }
  }

  /** Stop timers; returns keepalived's shutdown events (omega). Probes in flight finish but are ignored. */
  stop(): CheckEvent[] {
    this.halt();
    return this.core.shutdownEvents();
  }

  /**
   * As stop(), but the checkers' timers are only disarmed (one that fires does nothing) until clearTimers(): a
   * daemon's stop removes the IPVS table first, within child_wait_time, and clearing 50,000 Node timers cost a
   * good part of that in the TCG guest.
   */
  stopLeavingTimers(): CheckEvent[] {
    this.quiesce();
    return this.core.shutdownEvents();
  }

  /** Stop timers without shutdown events (a reload replaces this engine). */
  halt(): void {
    this.quiesce();
    this.clearTimers();
  }

  clearTimers(): void {
    for (let id = 0; id < this.timers.length; id++) {
      clearLongTimeout(this.timers[id]);
      this.timers[id] = undefined;
    }
  }

  private quiesce(): void {
    this.running = false;
    this.queue.length = 0;
    this.queueHead = 0;
    for (const w of this.fileWatchers) w.close();
    this.fileWatchers.length = 0;
  }

  stats(): CheckEngineStats {
    return { checksDone: this.checksDone, inFlight: this.inFlight, queued: this.queue.length - this.queueHead };
  }

  private arm(id: number, delayMs: number): void {
    if (!this.running) return;
    // delay_loop / delay_before_retry / warmup can exceed Node's 2^31-1 ms limit (which would fire after 1 ms).
    this.timers[id] = setLongTimeout(this.fire, delayMs, id);
  }

  /**
   * ha_suspend: the local addresses (e.g. the VIPs this node holds). Checkers of an ha_suspend VS run only
   * while its address is among them; while suspended their state is frozen (keepalived's checker->enabled).
   * Until the first call every ha_suspend VS is suspended, as keepalived starts with no address counted.
   */
  setLocalAddresses(addrs: readonly string[]): void {
    const set = new Set(addrs);
    this.activeHaVs.clear();
    for (const vs of this.core.vss) if (vs.cfg.haSuspend && vs.cfg.address !== undefined && set.has(vs.cfg.address)) this.activeHaVs.add(vs.cfg.key);
  }

  private readonly activeHaVs = new Set<string>();

  private readonly fire = (id: number): void => {
    this.timers[id] = undefined;
    if (!this.running) return;
    const ck = this.core.checkers[id]!;
    if (ck.vs.cfg.haSuspend && !this.activeHaVs.has(ck.vs.cfg.key)) return this.arm(id, ck.cfg.delayLoopMs);
    if (this.inFlight < this.maxConcurrent) this.launch(id);
    else this.queue.push(id);
  };

  private launch(id: number): void {
    this.inFlight++;
    const started = performance.now();
    let p: Promise<ProbeResult>;
    try {
      p = this.runners[id]!();
    } catch (e) {
      // A probe that throws before it starts is a failed check, like one that rejects.
      p = Promise.reject(e);
    }
    p.then(
      (r) => this.complete(id, r, started),
      (e: unknown) => this.complete(id, { ok: false, reason: `probe error: ${(e as Error)?.message ?? e}` }, started),
    );
  }

  private complete(id: number, result: ProbeResult, started: number): void {
    this.inFlight--;
    this.checksDone++;
    if (this.running) {
      let out: ReturnType<CheckVerdict['onResult']>;
      try {
        out = this.core.onResult(id, result, started, performance.now());
      } catch (e) {
        // A bug in the verdict for one checker must not stop the others: report it and disable this checker.
        this.disabled.push(id);
        this.reportError(id, e, `${describeChecker(this.core.checkers[id]!)}: internal error: ${(e as Error)?.stack ?? String(e)} - checker disabled`);
        this.startQueued();
        return;
      }
      for (const d of out.changed) this.pendingDesired.set(d.vsKey, d);
      for (const e of out.events) this.pendingEvents.push(e);
      if ((out.changed.length || out.events.length) && !this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
      this.arm(id, out.nextDelayMs);
    }
    this.startQueued();
  }

  /** Start queued probes while there is room. */
  private startQueued(): void {
    while (this.running && this.inFlight < this.maxConcurrent && this.queueHead < this.queue.length) {
      this.launch(this.queue[this.queueHead++]!);
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.pendingDesired.size) {
      const changes = [...this.pendingDesired.values()];
      this.pendingDesired.clear();
      this.sink.desired(changes);
    }
    if (this.pendingEvents.length) {
      const ev = this.pendingEvents;
      this.pendingEvents = [];
      this.sink.events(ev);
    }
  };

  /** Everything a probe needs is prepared once here, so a check allocates only its socket and buffers. */
  private makeRunner(id: number): Runner | undefined {
    const ck = this.core.checkers[id]!;
    const { cfg } = ck;
    const vsCfg = ck.vs.cfg;
    const rsCfg = ck.rs.cfg;
    switch (cfg.type) {
      case 'TCP_CHECK': {
        const t: TcpProbeTarget = { host: cfg.connectIp ?? rsCfg.address, port: cfg.connectPort ?? rsCfg.port, timeoutMs: cfg.connectTimeoutMs };
        if (cfg.bindTo) t.bindTo = cfg.bindTo;
        if (cfg.bindPort) t.bindPort = cfg.bindPort;
        if (cfg.bindIf) t.bindIf = cfg.bindIf;
        if (cfg.fwmark) t.fwmark = cfg.fwmark;
        return () => probeTcp(t);
      }
      case 'HTTP_GET':
      case 'SSL_GET': {
        const host = cfg.connectIp ?? rsCfg.address;
        const port = cfg.connectPort ?? rsCfg.port;
        const ssl = cfg.type === 'SSL_GET';
        let secureContext: tls.SecureContext | undefined;
        if (ssl) secureContext = tlsContext(this.input.ssl);
        const targets: HttpProbeTarget[] = cfg.urls.map((url) => {
          const vhost = url.virtualhost ?? cfg.virtualhost ?? rsCfg.virtualhost ?? vsCfg.virtualhost;
          const sni = cfg.enableSni ? cfg.sniName ?? url.virtualhost ?? cfg.virtualhost ?? vsCfg.virtualhost : undefined;
          const t: HttpProbeTarget = {
            host,
            port,
            timeoutMs: cfg.connectTimeoutMs,
            ssl,
            url,
            request: buildRequest(url.path, cfg.httpProtocol, hostHeader(vhost, host, port)),
          };
          const re = compileRegex(url);
          if (re) t.regex = re;
          if (cfg.bindTo) t.bindTo = cfg.bindTo;
          if (cfg.bindPort) t.bindPort = cfg.bindPort;
          if (cfg.bindIf) t.bindIf = cfg.bindIf;
          if (cfg.fwmark) t.fwmark = cfg.fwmark;
          if (secureContext) t.secureContext = secureContext;
          if (sni) t.servername = sni;
          return t;
        });
        return () => probeHttp(targets[this.core.urlIndex(id)] ?? targets[0]!);
      }
      case 'MISC_CHECK': {
        // misc_timeout defaults to delay_loop, which may exceed one Node timer: notify/run.ts arms it as a long timer.
        const run = ck.run!;
        const t: MiscProbeTarget = { argv: run.spec.argv, timeoutMs: cfg.timeoutMs };
        const u = run.runAs ?? (run.spec.user ? resolveScriptUser(run.spec.user, run.spec.group, this.accounts()) : undefined);
        if (u) {
          t.uid = u.uid;
          t.gid = u.gid;
        }
        return () => probeMisc(t);
      }
      case 'FILE_CHECK':
        return undefined; // watched, not probed (watchFile)
      case 'PING_CHECK': {
        const t: PingProbeTarget = { family: addressFamily(cfg.connectIp ?? rsCfg.address) === 6 ? 6 : 4, host: cfg.connectIp ?? rsCfg.address, timeoutMs: cfg.connectTimeoutMs, seq: 0 };
        if (cfg.bindTo) t.bindTo = cfg.bindTo;
        if (cfg.bindIf) t.bindIf = cfg.bindIf;
        let seq = 0;
        return () => probePing({ ...t, seq: (seq = (seq + 1) & 0xffff) });
      }
      case 'UDP_CHECK': {
        const host = cfg.connectIp ?? rsCfg.address;
        const t: UdpProbeTarget = {
          family: addressFamily(host) === 6 ? 6 : 4, host, port: cfg.connectPort ?? rsCfg.port, timeoutMs: cfg.connectTimeoutMs,
          // keepalived's UDP_BUFSIZE (32) bytes of set_buf when no payload is configured.
          payload: cfg.payload ? Buffer.from(cfg.payload) : keepalivedFill(32),
          requireReply: cfg.requireReply, minReplyLength: cfg.minReplyLength, maxReplyLength: cfg.maxReplyLength,
        };
        if (cfg.reply) t.reply = cfg.replyMask ? { data: cfg.reply, mask: cfg.replyMask } : { data: cfg.reply };
        if (cfg.bindTo) t.bindTo = cfg.bindTo;
        if (cfg.bindPort) t.bindPort = cfg.bindPort;
        if (cfg.bindIf) t.bindIf = cfg.bindIf;
        if (cfg.fwmark) t.fwmark = cfg.fwmark;
        return () => probeUdp(t);
      }
      case 'DNS_CHECK': {
        const host = cfg.connectIp ?? rsCfg.address;
        const t: DnsProbeTarget = { family: addressFamily(host) === 6 ? 6 : 4, host, port: cfg.connectPort ?? rsCfg.port, timeoutMs: cfg.connectTimeoutMs, name: cfg.name, qtype: cfg.qtype };
        if (cfg.bindTo) t.bindTo = cfg.bindTo;
        if (cfg.bindPort) t.bindPort = cfg.bindPort;
        if (cfg.bindIf) t.bindIf = cfg.bindIf;
        if (cfg.fwmark) t.fwmark = cfg.fwmark;
        return () => probeDns(t);
      }
      case 'SMTP_CHECK': {
        const t: SmtpProbeTarget = { host: cfg.connectIp ?? rsCfg.address, port: cfg.connectPort ?? rsCfg.port, timeoutMs: cfg.connectTimeoutMs, helo: cfg.heloName };
        if (cfg.bindTo) t.bindTo = cfg.bindTo;
        if (cfg.bindPort) t.bindPort = cfg.bindPort;
        if (cfg.bindIf) t.bindIf = cfg.bindIf;
        if (cfg.fwmark) t.fwmark = cfg.fwmark;
        return () => probeSmtp(t);
      }
    }
  }

  private accountFiles?: AccountFiles;
  private accounts(): AccountFiles {
    return (this.accountFiles ??= readAccountFiles());
  }
}
