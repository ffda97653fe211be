// Running the daemon: without -n keepalived-ts detaches a copy of itself (keepalived forks); in the foreground the
// parent process (parent.ts) supervises the children (children.ts) that do the work.
import { spawn } from 'node:child_process';
import { runParent } from './parent.js';
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

/** Runs in the foreground until SIGTERM/SIGINT; resolves with the exit code. */
export function runDaemon(o: DaemonOptions): Promise<number> {
  return runParent(o);
}
