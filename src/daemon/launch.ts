// Running the daemon: without -n keepalived-ts detaches a copy of itself (keepalived forks); in the foreground the
// parent process (parent.ts) supervises the children (children.ts) that do the work. The configuration is read once,
// by the first process: it opens the VRRP sockets at once and hands them down (vrrp-handoff.ts), so the protocol's
// wait for a master runs while the next Node processes start. A detaching launcher hands its read to the detached
// parent through a pipe (V8-serialized), so that parent neither reads the file again nor waits for its own parser.
// The parent forks its VRRP child right after, with the Node flags the configuration asks for, and sends the child
// its configuration (once no other daemon owns the pid file), all before it loads its own modules.
import { spawn } from 'node:child_process';
import { closeSync, readFileSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { forkChild, LAUNCH_READ_BUNDLE, vrrpPart } from './fork-child.js';
import { loadFreshBundle } from '../util/code-bundle.js';
import type { DaemonOptions } from './options.js';
import type { EarlyChild } from './children.js';
import type { FromChild, ToChild } from './ipc.js';
import { closeHandoff, handoffStdio, openHandoffSockets, takeInheritedSockets, VRRP_SOCKETS_ENV, type HandedFd } from './vrrp-handoff.js';
import type { CheckConfigResult } from '../config/check-config.js';
import { refusesToRun } from '../config/diagnostics.js';
import { pidFileOwner } from './pidfile.js';
import { childExecArgv } from './child-flags.js';
import { forNodeChild } from '../util/extra-ca-certs.js';
import { EXIT_OK } from '../util/exit-codes.js';

export type { DaemonOptions };

type LaunchRead = Pick<typeof import('./launch-read.js'), 'checkConfig' | 'presetSpecs' | 'openPresetFd'>;
const isLaunchRead = (e: Partial<LaunchRead>): boolean =>
  typeof e.checkConfig === 'function' && typeof e.presetSpecs === 'function' && typeof e.openPresetFd === 'function';

type ConfigOptions = Pick<DaemonOptions, 'configFile' | 'configId' | 'allConfig' | 'checkOnly'>;

/** Set by a detaching launcher: the descriptor of the pipe its read of the configuration comes through. */
export const LAUNCH_READ_ENV = 'KEEPALIVED_TS_LAUNCH_READ';

/** The configuration read quietly (the parent logs its diagnostics) and the VRRP sockets it needs, opened. */
async function readAndOpen(o: ConfigOptions): Promise<{ checked: CheckConfigResult; sockets: HandedFd[] }> {
  // From the bundle with its code cache when the build made one (launch-read.ts): this path is on the way to the
  // sockets, so every millisecond of it delays the wait.
  const read = loadFreshBundle<LaunchRead>(fileURLToPath(new URL('../../', import.meta.url)), LAUNCH_READ_BUNDLE, isLaunchRead) ?? await import('./launch-read.js');
  const checked = read.checkConfig(o.configFile, { configId: o.configId, allConfig: o.allConfig });
  const runs = !refusesToRun(checked.diags) && !o.checkOnly;
  const sockets = runs ? openHandoffSockets(read.presetSpecs(checked.model), read.openPresetFd) : [];
  return { checked, sockets };
}

/** The launcher's read (detach below), taken from its pipe; undefined when this process was not given one. */
function takeLaunchersRead(): CheckConfigResult | undefined {
  const fd = Number(process.env[LAUNCH_READ_ENV]);
  delete process.env[LAUNCH_READ_ENV];
  if (!Number.isInteger(fd) || fd < 3) return undefined;
  try {
    return deserialize(readFileSync(fd)) as CheckConfigResult;
  } catch {
    return undefined; // read it here then
  } finally {
    try {
      closeSync(fd);
    } catch {
      /* not open */
    }
  }
}

/**
 * Without -n keepalived forks into the background; we start a detached copy of ourselves with -n and return once it
 * has what this process read. The VRRP sockets are opened here first and handed to the copy, which hands them to its
 * VRRP child.
 */
export async function detach(argv: string[], o: ConfigOptions): Promise<number> {
  let sockets: HandedFd[] = [];
  let checked: CheckConfigResult | undefined;
  try {
    ({ checked, sockets } = await readAndOpen(o));
  } catch {
    /* the daemon reads the configuration again and reports */
  }
  // The pipe is descriptor 3, the sockets follow.
  const handed = handoffStdio(sockets, 4);
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv, '--dont-fork'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', checked ? 'pipe' : 'ignore', ...handed.stdio],
    env: { ...forNodeChild(process.env), [VRRP_SOCKETS_ENV]: handed.env, [LAUNCH_READ_ENV]: checked ? '3' : '' },
  });
  child.unref();
  closeHandoff(sockets);
  const pipe = child.stdio[3];
  if (checked && pipe && 'end' in pipe) {
    // Until the copy has read it all (or is gone): a configuration larger than the pipe's buffer would be cut short
    // by this process's exit.
    await new Promise<void>((resolve) => {
      pipe.on('error', () => resolve());
      child.on('exit', () => resolve());
      pipe.end(serialize(checked), () => resolve());
    });
    pipe.destroy();
  }
  return EXIT_OK;
}

/**
 * The checks the parent makes before it starts any child (parent.ts), made here so the early child can be given its
 * configuration now: no other live daemon owns the pid file, and the status endpoint's address is valid. On a
 * failure the child is told nothing, and the parent reports it and drops the child as before. The parent writes the
 * pid file itself, where it always did (its signal handlers go in with it).
 */
async function parentPreflight(o: DaemonOptions): Promise<boolean> {
  try {
    if (o.statusListen) (await import('./status.js')).parseListen(o.statusListen, o.statusListenForce);
    return pidFileOwner(o.pidFile) === undefined;
  } catch {
    return false;
  }
}

/**
 * How long the parent waits for an early child that has its configuration to report its start before it loads its
 * own modules anyway (a `vrrp_startup_delay` holds the report back).
 */
const CHILD_START_WAIT_MS = 1000;

/** Until `proc` reports its engine started ('ready'), exits, or `ms` pass. */
function childStarted(proc: EarlyChild['proc'], ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      proc.off('message', onMessage);
      proc.off('exit', done);
      resolve();
    };
    const onMessage = (m: FromChild): void => {
      if (m.t === 'ready') done();
    };
    const timer = setTimeout(done, ms);
    proc.on('message', onMessage);
    proc.on('exit', done);
  });
}

/** Signals that would end this process by their default action before the parent's handlers are in, kept till then. */
const HELD_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/**
 * Runs in the foreground until SIGTERM/SIGINT; resolves with the exit code. The configuration is the launcher's
 * read when daemonizing, else read here (opening the VRRP sockets); the VRRP child is forked first with the sockets
 * and the Node flags the configuration asks for, and sent its configuration at once (after the parent's pre-start
 * checks): its start does not wait for the parent's modules, which load once it reports its engine started (on 2
 * vCPUs the two Node starts side by side slowed the child's). The parent adopts it (parent.ts), or drops it and forks again when the
 * configuration wants no VRRP process.
 */
export async function runDaemon(o: DaemonOptions): Promise<number> {
  let checked = takeLaunchersRead();
  let sockets = takeInheritedSockets();
  if (!checked && !o.checkOnly) {
    closeHandoff(sockets);
    sockets = [];
    try {
      ({ checked, sockets } = await readAndOpen(o));
    } catch {
      checked = undefined; // the parent reads it again and reports
    }
  }
  const cfg = checked && !refusesToRun(checked.diags) && !o.checkOnly ? checked.model : undefined;
  let early: EarlyChild | undefined;
  // No module beyond these before the fork (children.ts and process-priority.ts load the logger): a VRRP child
  // for the instances, with its Node flags (child-flags.ts). The parent checks both
  // against its own rules (CHILD_KINDS, childExecArgv) and forks again where they differ.
  if (cfg?.vrrpInstances.length) {
    const execArgv = childExecArgv('vrrp', cfg.globalDefs);
    early = { proc: forkChild('vrrp', o, execArgv, true, sockets), execArgv, configSent: false };
    // A fork that failed is not connected: the parent forks afresh then (an 'error' without a listener would throw).
    early.proc.on('error', () => undefined);
    if (early.proc.connected && await parentPreflight(o)) {
      early.proc.send({ t: 'config', config: vrrpPart(cfg) } satisfies ToChild);
      early.configSent = true;
    }
  }
  closeHandoff(sockets);
  const held: NodeJS.Signals[] = [];
  const hold = (sig: NodeJS.Signals): void => void held.push(sig);
  for (const s of HELD_SIGNALS) process.on(s, hold);
  if (early?.configSent) await childStarted(early.proc, CHILD_START_WAIT_MS);
  const { runParent } = await import('./parent.js');
  // runParent puts its signal handlers in before its first await: a signal held meanwhile is raised again for them.
  const exited = runParent(o, early, checked);
  for (const s of HELD_SIGNALS) process.off(s, hold);
  for (const s of held) process.kill(process.pid, s);
  return exited;
}
