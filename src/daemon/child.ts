// Entry point of every child process (forked by children.ts with the kind and options in the environment).
// Children die with the parent: Node has no PR_SET_PDEATHSIG, so a child treats the loss of its IPC channel (the
// parent exited or was killed) as SIGTERM, and polls its parent pid as a second guard.
import { CHILD_KINDS, CHILD_KIND_ENV, CHILD_OPTIONS_ENV, type ChildContext } from './children.js';
import { isToChild, type FromChild, type ToChild } from './ipc.js';
import type { DaemonOptions } from './options.js';

const EXIT_PROGRAM_ERROR = 70;

async function main(): Promise<number> {
  const kind = CHILD_KINDS.find((k) => k.kind === process.env[CHILD_KIND_ENV]);
  const raw = process.env[CHILD_OPTIONS_ENV];
  if (!kind || !raw || !process.send) {
    process.stderr.write('keepalived-ts child: started without a parent\n');
    return 1;
  }
  const options = JSON.parse(raw) as DaemonOptions;
  let handler: (m: ToChild) => void = () => undefined;
  process.on('message', (m) => {
    if (isToChild(m)) handler(m);
  });
  const parent = process.ppid;
  const orphaned = () => process.kill(process.pid, 'SIGTERM');
  process.on('disconnect', orphaned);
  setInterval(() => {
    if (process.ppid !== parent) orphaned();
  }, 1000).unref();
  const ctx: ChildContext = {
    options,
    send: (m: FromChild) => {
      if (process.connected) process.send!(m);
    },
    onMessage: (h) => {
      handler = h;
    },
  };
  const mod = await kind.load();
  return mod.runChild(ctx);
}

// A crash is a program error (respawned by the parent), not keepalived's FATAL exit 1 (which stops everything).
process.on('uncaughtException', (e) => {
  process.stderr.write(`keepalived-ts child: uncaught exception: ${e.stack ?? e.message}\n`);
  process.exit(EXIT_PROGRAM_ERROR);
});
process.on('unhandledRejection', (e) => {
  process.stderr.write(`keepalived-ts child: unhandled rejection: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(EXIT_PROGRAM_ERROR);
});

void main().then((code) => process.exit(code));
