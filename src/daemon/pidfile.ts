// Pid files as keepalived keeps them: refuse to start when a live process owns the file, remove on exit.
import { lstatSync, readFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PID_FILE_MODE, writeFileSafe } from './safe-file.js';
import { KtError } from '../util/errors.js';

/** KT_DAEMON_PIDFILE_BUSY: another live process owns the pid file. */
export class PidFileBusyError extends KtError {
  constructor(readonly path: string, readonly pid: number) {
    super('KT_DAEMON_PIDFILE_BUSY', `${path}: daemon already running with pid ${pid}`);
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

/** The live process other than `pid` that the file names, if any (only a regular file is read: a FIFO planted at the
 *  path would block the start). */
export function pidFileOwner(path: string, pid = process.pid): number | undefined {
  try {
    if (!lstatSync(path).isFile()) return undefined;
    const other = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(other) && other > 0 && other !== pid && alive(other) ? other : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes our pid; throws PidFileBusyError if another live process owns the file. Stale files are replaced, never
 * written through a link (UnsafeFileError for a planted link or another user's file), with keepalived's 0644.
 */
export function writePidFile(path: string, pid = process.pid): void {
  const other = pidFileOwner(path, pid);
  if (other !== undefined) throw new PidFileBusyError(path, other);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSafe(path, `${pid}\n`, PID_FILE_MODE);
}

/** Removes the file only if it still names us (a newer instance may own it). */
export function removePidFile(path: string, pid = process.pid): void {
  try {
    if (lstatSync(path).isFile() && Number.parseInt(readFileSync(path, 'utf8').trim(), 10) === pid) unlinkSync(path);
  } catch {
    /* already gone */
  }
}
