// Notify FIFO writer, as keepalived's fifo_open()/fifo_close() (keepalived/core/notify.c:307-395): create the FIFO
// with mode 0644 if absent, start the optional *_fifo_script with the FIFO path as its last argument, open the FIFO
// O_RDWR|O_NONBLOCK|O_NOFOLLOW (holding both ends, writes never block and never fail with EPIPE while no reader is
// attached), refuse anything that is not a FIFO we own, unlink it on close if we created it, SIGTERM the script.
import { execFile } from 'node:child_process';
import { closeSync, constants as fsConstants, fstatSync, lstatSync, openSync, unlinkSync, writeSync, chownSync } from 'node:fs';
import { promisify } from 'node:util';
import { runScript, describeResult, type ScriptResult } from './run.js';
import type { Logger } from 'pino';
import type { ScriptCommand } from './notify.js';
import { KtError } from '../util/errors.js';

export interface NotifyFifoWriterOptions {
  /** `notify_fifo_script` / `vrrp_notify_fifo_script` / `lvs_notify_fifo_script`: started with the path appended. */
  script?: ScriptCommand;
  /** Owner given to a FIFO we create (keepalived: the fifo script's user). */
  uid?: number;
  gid?: number;
  /** The daemon's logger, the FIFO's path bound (`log.child({ fifo: path })`). */
  log?: Logger;
  /** For log lines: '', 'vrrp ', 'lvs '. */
  label?: string;
}

const execFileAsync = promisify(execFile);

export class NotifyFifoWriter {
  /** Lines dropped because the FIFO was full (EAGAIN: the reader is not keeping up). */
  dropped = 0;
  /** Other write errors. */
  errors = 0;
  private fd: number | null;
  private scriptAbort: AbortController | null = null;
  private scriptDone: Promise<ScriptResult> | null = null;

  private constructor(readonly path: string, fd: number, private readonly created: boolean, private readonly opts: NotifyFifoWriterOptions) {
    this.fd = fd;
  }

  /** Create (if absent), start the script, open. Throws KT_NOTIFY_FIFO_* with a clear reason. */
  static async open(path: string, opts: NotifyFifoWriterOptions = {}): Promise<NotifyFifoWriter> {
    const label = opts.label ?? '';
    let created = false;
    let existing: ReturnType<typeof lstatSync> | undefined;
    try {
      existing = lstatSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new KtError('KT_NOTIFY_FIFO_CREATE', `Unable to create ${label}notify fifo ${path}: ${(e as Error).message}`);
    }
    if (existing === undefined) {
      // Node has no mkfifo(2): coreutils' mkfifo sets the exact mode regardless of umask.
      try {
        await execFileAsync('/usr/bin/mkfifo', ['-m', '0644', '--', path]);
        created = true;
      } catch (e) {
        const stderr = (e as { stderr?: string }).stderr?.trim();
        throw new KtError('KT_NOTIFY_FIFO_CREATE', `Unable to create ${label}notify fifo ${path}: ${stderr || (e as Error).message}`);
      }
      const ownUid = process.getuid?.();
      const ownGid = process.getgid?.();
      if ((opts.uid !== undefined && opts.uid !== ownUid) || (opts.gid !== undefined && opts.gid !== ownGid)) {
        try {
          chownSync(path, opts.uid ?? -1, opts.gid ?? -1);
        } catch {
          opts.log?.warn(`Failed to set uid:gid for fifo ${path}`);
        }
      }
    } else if (!existing.isFIFO()) {
      throw new KtError('KT_NOTIFY_FIFO_NOT_FIFO', `${label}notify fifo ${path} exists and is not a fifo`);
    }

    const fifoScript = opts.script;
    let scriptAbort: AbortController | null = null;
    let scriptDone: Promise<ScriptResult> | null = null;
    if (fifoScript) {
      scriptAbort = new AbortController();
      const spec = {
        argv: [...fifoScript.argv, path],
        ...(fifoScript.uid !== undefined ? { uid: fifoScript.uid } : {}),
        ...(fifoScript.gid !== undefined ? { gid: fifoScript.gid } : {}),
      };
      scriptDone = runScript(spec, { signal: scriptAbort.signal, killGraceMs: 2000 });
      void scriptDone.then((r) => {
        if (!scriptAbort?.signal.aborted) opts.log?.warn(`${label}notify fifo script ${fifoScript.argv[0]} ended: ${describeResult(r)}`);
      });
    }

    let fd: number;
    try {
      fd = openSync(path, fsConstants.O_RDWR | fsConstants.O_NONBLOCK | fsConstants.O_NOFOLLOW);
    } catch (e) {
      scriptAbort?.abort();
      if (created) unlinkQuiet(path);
      throw new KtError('KT_NOTIFY_FIFO_OPEN', `Unable to open ${label}notify fifo ${path}: ${(e as Error).message}`);
    }
    const st = fstatSync(fd);
    const ownUid = process.getuid?.();
    if (!st.isFIFO() || (st.uid !== ownUid && st.uid !== opts.uid)) {
      // On an existing path someone else may have planted it: only a FIFO we (or the script user) own is used.
      closeSync(fd);
      scriptAbort?.abort();
      throw new KtError('KT_NOTIFY_FIFO_NOT_FIFO', `${label}notify fifo ${path} is not a fifo we own - not using`);
    }
    const fifo = new NotifyFifoWriter(path, fd, created, opts);
    fifo.scriptAbort = scriptAbort;
    fifo.scriptDone = scriptDone;
    return fifo;
  }

  /** Write one line; never blocks. Returns false if it was dropped (FIFO full) or failed. */
  write(line: string | Buffer): boolean {
    if (this.fd === null) return false;
    const buf = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
    try {
      // Lines are far below PIPE_BUF, so a write is atomic: all or EAGAIN.
      writeSync(this.fd, buf);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        this.dropped++;
        // Warn on the first drop and then every 100th, not per line.
        if (this.dropped === 1 || this.dropped % 100 === 0) {
          this.opts.log?.warn(`${this.opts.label ?? ''}notify fifo ${this.path} full: ${this.dropped} line(s) dropped so far (is the reader running?)`);
        }
      } else {
        this.errors++;
        this.opts.log?.warn(`${this.opts.label ?? ''}notify fifo write error: ${(e as Error).message}`);
      }
      return false;
    }
  }

  /** Unlink (if we created it, first so a looping reader cannot reopen it), close, SIGTERM the script and wait for
   * it (SIGKILL after 2 s). */
  async close(): Promise<void> {
    if (this.created) unlinkQuiet(this.path);
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    this.scriptAbort?.abort();
    if (this.scriptDone) await this.scriptDone;
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
