// Files the daemon writes as root (dumps in $TMPDIR, pid files, the -g log) are never written through a link or
// into someone else's file: keepalived's fix for CVE-2018-19044/19045/19046 (lib/utils.c fopen_safe: O_NOFOLLOW,
// a fresh root-owned 0600 temp file renamed over the name). Here:
// - whole files: a new temp file in the same directory (O_CREAT|O_EXCL|O_NOFOLLOW, random name), written, then
//   renamed over the target; rename(2) replaces a name and never follows it, so the write is atomic too;
// - appended files (-g): opened once with O_APPEND|O_NOFOLLOW|O_NONBLOCK (a planted FIFO must not block the
//   daemon), then checked through the descriptor (fstat), not the path.
// An existing target that is a link, not a regular file, owned by another user, or (for appends) hard-linked
// elsewhere is refused with an UnsafeFileError and left untouched. Descriptors are close-on-exec (libuv opens
// every file with O_CLOEXEC).
import { randomBytes } from 'node:crypto';
import {
  closeSync, constants as C, fchmodSync, fstatSync, lstatSync, openSync, renameSync, unlinkSync, writeSync, type Stats,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { KtError } from '../util/errors.js';
import { fileFacts, type FileFacts } from '../util/file-facts.js';

/** keepalived's mode for dumps and logs (fopen_safe: S_IRUSR|S_IWUSR, whatever the umask). */
export const PRIVATE_MODE = 0o600;
/** keepalived's mode for pid files (pidfile.c: rw-r--r--, measured on 2.2.7 with umask 022). */
export const PID_FILE_MODE = 0o644;

/** KT_DAEMON_UNSAFE_FILE: the existing target is refused (a link, another user's file, not a regular file). */
export class UnsafeFileError extends KtError {
  constructor(readonly path: string, readonly reason: string) {
    super('KT_DAEMON_UNSAFE_FILE', `${path}: ${reason}; not written (the file is left untouched)`);
  }
}

/**
 * Why an existing target must not be written, or undefined when it may be. Pure.
 * `replace`: the name is replaced by rename (a hard link elsewhere is then harmless); `append`: bytes go into the
 * very inode, so a second link (e.g. to a file outside /tmp) is refused too.
 */
export function refusalReason(f: Pick<FileFacts, 'isSymbolicLink' | 'isFile' | 'uid' | 'nlink'>, euid: number, how: 'replace' | 'append'): string | undefined {
  if (f.isSymbolicLink) return 'is a symbolic link, refusing to write through it';
  if (!f.isFile) return 'exists and is not a regular file';
  if (f.uid !== euid) return `is owned by uid ${f.uid}, not by uid ${euid} running the daemon`;
  if (how === 'append' && f.nlink > 1) return `has ${f.nlink} hard links, refusing to append to a file linked elsewhere`;
  return undefined;
}

const euid = (): number => process.geteuid?.() ?? 0;

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function writeAll(fd: number, data: Buffer): void {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
}

/**
 * Writes `data` to `path` atomically without following links: a temp file next to it, then rename.
 * Throws UnsafeFileError when the existing target is refused (see refusalReason), or the system error.
 */
export function writeFileSafe(path: string, data: string | Buffer, mode = PRIVATE_MODE): void {
  const existing = lstatOrUndefined(path);
  if (existing) {
    const why = refusalReason(fileFacts(existing), euid(), 'replace');
    if (why) throw new UnsafeFileError(path, why);
  }
  // Unpredictable and O_EXCL: in a world-writable /tmp nobody can plant the temp name ahead of us.
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, mode);
  let renamed = false;
  try {
    fchmodSync(fd, mode); // the umask must not widen or narrow keepalived's mode
    writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data);
    closeSync(fd);
    renameSync(tmp, path);
    renamed = true;
  } finally {
    if (!renamed) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
      try {
        unlinkSync(tmp);
      } catch {
        /* never created or already gone */
      }
    }
  }
}

/**
 * Opens `path` for appending, creating it with `mode`; refuses links (O_NOFOLLOW), FIFOs and devices, files of
 * other users and hard-linked files, checked on the opened descriptor. Returns the descriptor.
 */
export function openAppendSafe(path: string, mode = PRIVATE_MODE): number {
  let fd: number;
  try {
    fd = openSync(path, C.O_WRONLY | C.O_APPEND | C.O_CREAT | C.O_NOFOLLOW | C.O_NONBLOCK, mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new UnsafeFileError(path, 'is a symbolic link, refusing to write through it');
    if (code === 'ENXIO') throw new UnsafeFileError(path, 'exists and is not a regular file');
    throw e;
  }
  const why = refusalReason({ ...fileFacts(fstatSync(fd)), isSymbolicLink: false }, euid(), 'append');
  if (why) {
    closeSync(fd);
    throw new UnsafeFileError(path, why);
  }
  fchmodSync(fd, mode); // as keepalived's fopen_safe: our file, our mode
  return fd;
}
