// VRRP sockets opened before the VRRP child runs, and handed to it (issue 11, start-up). The process that first
// knows the configuration (the foreground parent, or the daemonizing launcher) opens the sockets that depend on no
// live fact (vrrp/socket-spec.ts presetSocketSpecs: the group joined, listening from then on, never read there) and
// passes the descriptors down fork/spawn's stdio with the CLOCK_MONOTONIC time each was set up. The VRRP child
// adopts them (vrrp/shell.ts), reads what they queued right after its node starts, and the node's wait for a master
// counts from that time: the wait overlaps the Node starts of the processes in between instead of following them.
// The handing process closes its copies once the child has them, so the child owns them; a respawned child, or one
// forked on a reload, opens its own sockets as before.
import { closeSync, fstatSync } from 'node:fs';
import type { SocketSpec } from '../vrrp/socket-spec.js';

/** The handed sockets: JSON of HandedFd[], the descriptors as numbered in the process that reads it. */
export const VRRP_SOCKETS_ENV = 'KEEPALIVED_TS_VRRP_SOCKETS';

export interface HandedFd {
  fd: number;
  spec: SocketSpec;
  /** CLOCK_MONOTONIC ms (process.hrtime: the same clock in every process) when it was listening. */
  openedAt: number;
}

/** CLOCK_MONOTONIC in ms. */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * Opens the plan's preset sockets (none when the configuration runs no VRRP instance; launch-read.ts finds and opens
 * them). A socket that cannot be opened here (no such interface yet) is left to the child, which opens its own as it
 * always did.
 */
export function openHandoffSockets(specs: readonly SocketSpec[], open: (spec: SocketSpec) => number): HandedFd[] {
  const out: HandedFd[] = [];
  for (const spec of specs) {
    try {
      const fd = open(spec);
      out.push({ fd, spec, openedAt: monotonicMs() });
    } catch {
      /* the child opens it (and reports why not) */
    }
  }
  return out;
}

/**
 * The sockets a launcher handed this process (the daemonizing start), taken out of the environment so no other
 * child inherits the description. Entries whose descriptor is not an open socket are dropped.
 */
export function takeInheritedSockets(): HandedFd[] {
  const raw = process.env[VRRP_SOCKETS_ENV];
  delete process.env[VRRP_SOCKETS_ENV];
  if (!raw) return [];
  let list: HandedFd[];
  try {
    list = JSON.parse(raw) as HandedFd[];
  } catch {
    return [];
  }
  return Array.isArray(list) ? list.filter((h) => {
    try {
      return Number.isInteger(h.fd) && h.fd > 2 && fstatSync(h.fd).isSocket();
    } catch {
      return false;
    }
  }) : [];
}

/** The stdio entries and environment value that hand `fds` to a process, after its `first` stdio entries. */
export function handoffStdio(fds: readonly HandedFd[], first: number): { stdio: number[]; env: string } {
  return { stdio: fds.map((h) => h.fd), env: fds.length ? JSON.stringify(fds.map((h, i) => ({ ...h, fd: first + i }))) : '' };
}

/** This process's copies, closed once the receiving process has its own (or when nobody will take them). */
export function closeHandoff(fds: readonly HandedFd[]): void {
  for (const h of fds) {
    try {
      closeSync(h.fd);
    } catch {
      /* already closed */
    }
  }
}

/** The VRRP child's side: the sockets handed to it, with their time on this process's performance.now() clock. */
export function handedToThisProcess(): Array<{ fd: number; spec: SocketSpec; listeningSince: number }> {
  const list = takeInheritedSockets();
  const offset = performance.now() - monotonicMs();
  return list.map((h) => ({ fd: h.fd, spec: h.spec, listeningSince: h.openedAt + offset }));
}
