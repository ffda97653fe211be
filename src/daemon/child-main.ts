// The body of every child process (child.ts is the entry point that runs it, from the VRRP child's bundle or from
// these modules; forked by children.ts with the kind and options in the environment).
// Children die with the parent: Node has no PR_SET_PDEATHSIG, so a child treats the loss of its IPC channel (the
// parent exited or was killed) as SIGTERM, and polls its parent pid as a second guard.
// A crash (uncaught exception, unhandled rejection) first runs what the child registered with ctx.onCrash (the VRRP
// child: priority 0 and its VIPs removed), bounded by CRASH_RELEASE_MS, then exits for the parent to respawn it.
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { CHILD_KINDS, CRASH_RELEASE_MS, TEST_FAULT_ENV, releaseThenExit, type ChildContext } from './children.js';
import { CHILD_CONFIG_IPC_ENV, CHILD_KIND_ENV, CHILD_OPTIONS_ENV, CHILD_PARENT_ENV, CHILD_WAIT_ENV } from './fork-child.js';
import { isToChild, type FromChild, type ToChild } from './ipc.js';
import type { KeepalivedConfig } from '../config/model/index.js';
import type { DaemonOptions } from './options.js';
import { EXIT_FATAL, EXIT_OK, EXIT_PROGRAM_ERROR } from '../util/exit-codes.js';

async function main(): Promise<number> {
  const kind = CHILD_KINDS.find((k) => k.kind === process.env[CHILD_KIND_ENV]);
  const raw = process.env[CHILD_OPTIONS_ENV];
  if (!kind || !raw || !process.send) {
    process.stderr.write('keepalived-ts child: started without a parent\n');
    return EXIT_FATAL;
  }
  const options = JSON.parse(raw) as DaemonOptions;
  let handler: ((m: ToChild) => void) | undefined;
  // Messages that arrive before the child registered its handler (the parent's `handover` right after the fork)
  // are kept and given to it then, not dropped.
  const early: ToChild[] = [];
  const handle = (m: ToChild): void => {
    // A bug in one request (a dump, a status, a reload) is reported and the process keeps serving: it must not
    // become a crash that releases the VIPs and flaps the instance.
    try {
      handler!(m);
    } catch (e) {
      process.stderr.write(`keepalived-ts child: handling '${m.t}' from the parent failed: ${(e as Error)?.stack ?? String(e)}\n`);
    }
  };
  // The configuration the parent read (fork-child.ts CHILD_CONFIG_IPC_ENV): this process never parses the file at
  // start, and loads its kind's modules while the parent is still reading it (an early fork) or sending it.
  let takeConfig!: (c: KeepalivedConfig) => void;
  const handed = process.env[CHILD_CONFIG_IPC_ENV] ? new Promise<KeepalivedConfig>((r) => (takeConfig = r)) : undefined;
  process.on('message', (m) => {
    if (!isToChild(m)) return;
    if (m.t === 'config' || m.t === 'reload') process.env[CHILD_WAIT_ENV] = String(m.config.globalDefs.childWaitTimeMs);
    if (m.t === 'config') return takeConfig?.(m.config);
    if (handler) handle(m);
    else early.push(m);
  });
  // The parent's pid comes from the parent: one killed while this process was still starting (Node takes ~0.5 s)
  // is gone before any line here runs, its 'disconnect' already past and process.ppid already 1 — such a child used
  // to take the parent it found (1) for its own and run on forever, MASTER beside the restarted daemon's child.
  const parent = Number(process.env[CHILD_PARENT_ENV]) || process.ppid;
  // An orphan stops as if told to, within child_wait_time: the parent that would SIGKILL a stop that hangs is gone,
  // and a checker child stuck in its stop (seen once in the guest's kill storm) would otherwise run on for ever.
  let orphanDeadline: NodeJS.Timeout | undefined;
  const orphaned = () => {
    if (!orphanDeadline) {
      const waitMs = Number(process.env[CHILD_WAIT_ENV]) || 5000;
      orphanDeadline = setTimeout(() => {
        process.stderr.write(`keepalived-ts child: the parent is gone and this process's stop did not finish within ${waitMs} ms (child_wait_time); exiting\n`);
        process.exit(EXIT_PROGRAM_ERROR);
      }, waitMs);
    }
    process.kill(process.pid, 'SIGTERM');
  };
  if (!process.connected || process.ppid !== parent) {
    process.stderr.write('keepalived-ts child: the parent is gone before this process started; exiting\n');
    return EXIT_OK;
  }
  process.on('disconnect', orphaned);
  setInterval(() => {
    if (process.ppid !== parent || !process.connected) orphaned();
  }, 1000).unref();
  const ctx: ChildContext = {
    options,
    send: (m: FromChild) => {
      if (process.connected) process.send!(m);
    },
    onMessage: (h) => {
      const first = !handler;
      handler = h;
      if (first) for (const m of early.splice(0)) handle(m);
    },
    onCrash: (release) => {
      crashRelease = release;
    },
  };
  armTestFault(kind.kind);
  const run = await kind.load();
  if (handed) ctx.config = await handed;
  return run(ctx);
}

let crashRelease: (() => Promise<unknown>) | undefined;
let crashing = false;

/**
 * A crash is a program error (respawned by the parent), not keepalived's FATAL exit 1 (which stops everything).
 * Before exiting, what the child owns is released, best effort and bounded: a VRRP master that vanishes silently
 * leaves its VIPs on the interface and the peer waits a whole master-down interval, both holding the VIP meanwhile.
 */
function crash(what: string, e: unknown): void {
  process.stderr.write(`keepalived-ts child: ${what}: ${(e as Error)?.stack ?? String(e)}\n`);
  if (crashing) return; // a second fault while releasing: the deadline below still ends the process
  crashing = true;
  releaseThenExit(crashRelease, CRASH_RELEASE_MS, {
    write: (line) => process.stderr.write(`keepalived-ts child: ${line}\n`),
    exit: () => process.exit(EXIT_PROGRAM_ERROR),
  });
}

/**
 * Test-only fault injection, inert unless a test sets KEEPALIVED_TS_TEST_FAULT to a file path: when that file
 * appears holding `<kind> exception` or `<kind> rejection` (kind: vrrp, checker), the child of that kind removes
 * it (so its respawned successor runs normally) and throws from a timer, or rejects a promise nobody handles;
 * `<kind> spin <ms>` makes it run <ms> without a blocking call once a second from then on (what a long garbage
 * collection does), for RLIMIT_RTTIME's guard to meet on any machine however fast; `<kind> stall <ms>` blocks its
 * event loop once for <ms> without using the CPU (a hung engine, for the advert sender's limits).
 */
function armTestFault(kind: string): void {
  const path = process.env[TEST_FAULT_ENV];
  if (!path) return;
  const t = setInterval(() => {
    if (!existsSync(path)) return;
    let want: string;
    try {
      want = readFileSync(path, 'utf8').trim();
    } catch {
      return;
    }
    const [k, how, arg] = want.split(/\s+/);
    if (k !== kind) return;
    clearInterval(t);
    unlinkSync(path);
    if (how === 'spin') {
      const ms = Number(arg);
      setInterval(() => { for (const end = performance.now() + ms; performance.now() < end;); }, 1000);
      return;
    }
    if (how === 'stall') {
      const ms = Number(arg);
      process.stderr.write(`keepalived-ts child: injected fault (${TEST_FAULT_ENV}): event loop stalled for ${ms} ms\n`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      process.stderr.write(`keepalived-ts child: injected fault (${TEST_FAULT_ENV}): stall over\n`);
      return;
    }
    if (how === 'rejection') void Promise.reject(new Error(`injected fault (${TEST_FAULT_ENV})`));
    else throw new Error(`injected fault (${TEST_FAULT_ENV})`);
  }, 50);
  t.unref();
}

/** Runs this child process: its kind's main, then exit with its code. */
export function runChildProcess(): void {
  process.on('uncaughtException', (e) => crash('uncaught exception', e));
  process.on('unhandledRejection', (e) => crash('unhandled rejection', e));
  void main().then((code) => process.exit(code));
}
