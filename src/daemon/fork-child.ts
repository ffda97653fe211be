// Forking one of the daemon's child processes (child.ts is the entry point): the environment it reads, and the
// fork itself, with the VRRP sockets handed to a child (vrrp-handoff.ts). Light (Node built-ins and the handoff's
// descriptor plumbing), so launch.ts forks the VRRP child before the parent loads its own modules.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, extname, join } from 'node:path';
import type { DaemonOptions } from './options.js';
import type { KeepalivedConfig } from '../config/model/index.js';
import type { BundleFiles } from '../util/code-bundle.js';
import { handoffStdio, VRRP_SOCKETS_ENV, type HandedFd } from './vrrp-handoff.js';
import { forNodeChild } from '../util/extra-ca-certs.js';

export const CHILD_KIND_ENV = 'KEEPALIVED_TS_CHILD';
export const CHILD_OPTIONS_ENV = 'KEEPALIVED_TS_OPTIONS';
/** The parent's pid: a child whose parent died before the child ran any code must still know it is orphaned. */
export const CHILD_PARENT_ENV = 'KEEPALIVED_TS_PARENT';
/**
 * child_wait_time in ms, kept in the parent's environment (set at start and on reload) so every child forked
 * inherits the current value: an orphaned child bounds its own stop by it, as the parent would have. A child also
 * takes it from each configuration the parent hands it (it may have been forked before the parent read one).
 */
export const CHILD_WAIT_ENV = 'KEEPALIVED_TS_CHILD_WAIT_MS';
/**
 * Set by the parent: the configuration comes over the IPC channel (ipc.ts `config`, then with each `reload`), read
 * and validated once by the parent. Without it (a child forked by a bench or a test) the child reads the file.
 */
export const CHILD_CONFIG_IPC_ENV = 'KEEPALIVED_TS_CONFIG_IPC';

/**
 * The VRRP child's part of the configuration: without the virtual servers, which it never reads (50,000 real
 * servers are ~25 MB to copy and decode on the VRRP process's event loop, between two adverts). Here, not in
 * children.ts, so launch.ts hands it to the early child before the parent loads its modules.
 */
export function vrrpPart(cfg: KeepalivedConfig): KeepalivedConfig {
  return { ...cfg, virtualServers: [], virtualServerGroups: [] };
}

/** The VRRP child's bundle in the dist directory (daemon/child.ts loads it; scripts/build-config-check.mjs makes it). */
export const VRRP_CHILD_BUNDLE: BundleFiles = { bundle: 'vrrp-child.cjs', cache: 'vrrp-child.cache', manifest: 'vrrp-child.json' };

/** What launch.ts reads and opens first (launch-read.ts), bundled the same way. */
export const LAUNCH_READ_BUNDLE: BundleFiles = { bundle: 'launch-read.cjs', cache: 'launch-read.cache', manifest: 'launch-read.json' };

/** The child entry script next to this module (child.ts under tsx, child.js in dist). */
function childEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return join(dirname(here), `child${extname(here)}`);
}

/**
 * Forks a child of `kind`; with `configOverIpc` it waits for its configuration over IPC (else it reads the file);
 * `sockets`: VRRP sockets handed to it (the caller closes its copies after the fork).
 * The channel uses V8's serialization, so the configuration model (Maps, Sets, undefined fields) arrives as the
 * parent built it.
 */
export function forkChild(kind: string, options: DaemonOptions, extraExecArgv: readonly string[], configOverIpc: boolean, sockets: readonly HandedFd[] = []): ChildProcess {
  // VRRP sockets opened before the fork (vrrp-handoff.ts) follow the IPC channel: descriptors 4, 5, …
  const handed = handoffStdio(sockets, 4);
  return fork(childEntry(), [], {
    env: {
      ...forNodeChild(process.env), [CHILD_KIND_ENV]: kind, [CHILD_OPTIONS_ENV]: JSON.stringify(options), [CHILD_PARENT_ENV]: String(process.pid),
      [CHILD_CONFIG_IPC_ENV]: configOverIpc ? '1' : '', [VRRP_SOCKETS_ENV]: handed.env,
    },
    execArgv: [...process.execArgv, ...extraExecArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...handed.stdio],
    serialization: 'advanced',
  });
}
