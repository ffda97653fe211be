// Pid files as keepalived keeps them: refuse to start when a live process owns the file, remove on exit.
import { readFileSync, writeFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export class PidFileBusyError extends Error {
  readonly code = 'PIDFILE_BUSY';
  constructor(readonly path: string, readonly pid: number) {
    super(`${path}: daemon already running with pid ${pid}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes our pid; throws PidFileBusyError if another live process owns the file. Stale files are replaced. */
export function writePidFile(path: string, pid = process.pid): void {
  try {
    const other = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    if (Number.isInteger(other) && other > 0 && other !== pid && alive(other)) throw new PidFileBusyError(path, other);
  } catch (e) {
    if (e instanceof PidFileBusyError) throw e;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${pid}\n`);
}

/** Removes the file only if it still names us (a newer instance may own it). */
export function removePidFile(path: string, pid = process.pid): void {
  try {
    if (Number.parseInt(readFileSync(path, 'utf8').trim(), 10) === pid) unlinkSync(path);
  } catch {
    /* already gone */
  }
}
