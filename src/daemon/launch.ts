// Running the daemon: without -n keepalived-ts detaches a copy of itself (keepalived forks); in the foreground the
// parent process (parent.ts) supervises the children (children.ts) that do the work. Both paths open the VRRP
// sockets as soon as the configuration is read, in the first process, and hand them down (vrrp-handoff.ts): the
// protocol's wait for a master runs while the next Node processes start. The foreground parent forks its VRRP
// child right after that, before it loads its own modules; the detaching process loads nothing else.
import { spawn } from 'node:child_process';
import { forkChild } from './fork-child.js';
import type { DaemonOptions } from './options.js';
import { closeHandoff, handoffStdio, openHandoffSockets, takeInheritedSockets, VRRP_SOCKETS_ENV, type HandedFd } from './vrrp-handoff.js';
import type { CheckConfigResult } from '../config/check-config.js';
import { refusesToRun } from '../config/diagnostics.js';
import { EXIT_OK } from '../util/exit-codes.js';

export type { DaemonOptions };

type ConfigOptions = Pick<DaemonOptions, 'configFile' | 'configId' | 'allConfig' | 'checkOnly'>;

/** The configuration read quietly (the parent logs its diagnostics) and the VRRP sockets it needs, opened. */
async function readAndOpen(o: ConfigOptions): Promise<{ checked: CheckConfigResult; sockets: HandedFd[] }> {
  // The bundled checker with its code cache when the build made one (config/check-bundle.ts): this read is on the
  // way to the sockets, so every millisecond of it delays the wait.
  const { checkConfig } = await (await import('../config/check-bundle.js')).loadConfigChecker();
  const checked = checkConfig(o.configFile, { configId: o.configId, allConfig: o.allConfig });
  const runs = !refusesToRun(checked.diags) && !o.checkOnly;
  const sockets = runs ? await openHandoffSockets(checked.model) : [];
  return { checked, sockets };
}

/**
 * Without -n keepalived forks into the background; we start a detached copy of ourselves with -n and return. The
 * VRRP sockets are opened here first and handed to the copy, which hands them to its VRRP child.
 */
export async function detach(argv: string[], o: ConfigOptions): Promise<number> {
  let sockets: HandedFd[] = [];
  try {
    ({ sockets } = await readAndOpen(o));
  } catch {
    /* the daemon reads the configuration again and reports */
  }
  const handed = handoffStdio(sockets, 3);
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv, '--dont-fork'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', ...handed.stdio],
    env: { ...process.env, [VRRP_SOCKETS_ENV]: handed.env },
  });
  child.unref();
  closeHandoff(sockets);
  return EXIT_OK;
}

/**
 * Runs in the foreground until SIGTERM/SIGINT; resolves with the exit code. The VRRP child is forked first, with the
 * sockets handed to it: after reading the configuration (with the Node flags it asks for), or at once when a
 * detaching launcher already opened them (with no extra flags: the parent adopts it, or kills it unused when the
 * configuration wants no VRRP process or `vrrp_rt_priority`'s flags, and forks again; parent.ts).
 */
export async function runDaemon(o: DaemonOptions): Promise<number> {
  const inherited = takeInheritedSockets();
  let early: { proc: ReturnType<typeof forkChild>; execArgv: string[] } | undefined;
  let checked: CheckConfigResult | undefined;
  if (inherited.length && !o.checkOnly) {
    early = { proc: forkChild('vrrp', o, [], true, inherited), execArgv: [] };
  } else if (!o.checkOnly) {
    let sockets: HandedFd[] = [];
    try {
      ({ checked, sockets } = await readAndOpen(o));
    } catch {
      checked = undefined; // the parent reads it again and reports
    }
    const cfg = checked && !refusesToRun(checked.diags) ? checked.model : undefined;
    // No module beyond these before the fork (children.ts and process-priority.ts load the logger): a VRRP child
    // for the instances, with real-time scheduling's Node flags only when asked for. The parent checks both
    // against its own rules (CHILD_KINDS, childExecArgv) and forks again where they differ.
    if (cfg?.vrrpInstances.length) {
      const execArgv = cfg.globalDefs.vrrpRtPriority === undefined ? [] : (await import('./process-priority.js')).childExecArgv('vrrp', cfg.globalDefs);
      early = { proc: forkChild('vrrp', o, execArgv, true, sockets), execArgv };
    }
    closeHandoff(sockets);
  }
  closeHandoff(inherited);
  // A fork that failed is not connected: the parent forks afresh then (an 'error' without a listener would throw).
  early?.proc.on('error', () => undefined);
  const { runParent } = await import('./parent.js');
  return runParent(o, early, checked);
}
