// Running the daemon: without -n keepalived-ts detaches a copy of itself (keepalived forks); in the foreground the
// parent process (parent.ts) supervises the children (children.ts) that do the work. Both paths keep their start
// short: the detaching process loads nothing but node:child_process, and the foreground one forks its VRRP child
// before it loads the parent's modules and reads the configuration (the child then waits for it over IPC).
import { spawn } from 'node:child_process';
import { forkChild } from './fork-child.js';
import type { DaemonOptions } from './options.js';
import { EXIT_OK } from '../util/exit-codes.js';

export type { DaemonOptions };

/** Without -n keepalived forks into the background; we start a detached copy of ourselves with -n and return. */
export function detach(argv: string[]): number {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv, '--dont-fork'], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return EXIT_OK;
}

/**
 * Runs in the foreground until SIGTERM/SIGINT; resolves with the exit code. The VRRP child is forked first, with
 * no extra Node flags (what a configuration without vrrp_rt_priority asks for): its Node start and module loading
 * overlap the parent's, and the parent adopts it or, when the configuration wants no VRRP process or other flags,
 * kills it before it did anything (parent.ts).
 */
export async function runDaemon(o: DaemonOptions): Promise<number> {
  const early = o.checkOnly ? undefined : { proc: forkChild('vrrp', o, [], true), execArgv: [] };
  // A fork that failed is not connected: the parent forks afresh then (an 'error' without a listener would throw).
  early?.proc.on('error', () => undefined);
  const { runParent } = await import('./parent.js');
  return runParent(o, early);
}
