// Logging with pino, the one logging interface of the daemon. Lines go where keepalived's go: syslog (/dev/log,
// facility from -S, ident Keepalived / Keepalived_vrrp / Keepalived_healthcheckers with the pid) unless -G, the
// console with -l, the -g file; and, unlike keepalived, stderr when none of those takes a line (no syslog daemon
// listening, or -G without -l), so nothing is lost silently. Lines are the keepalived-like text form (the message
// only) so operators read them as they read keepalived's; `--log-json` keeps pino's JSON lines (on every target),
// where the bound fields (instance, vrid, state, script, vs, rs, checker, …) are for machines. Each module gets a logger passed in, a child with its fields bound
// (`log.child({ instance: 'VI_1' })`); the pure cores return log effects instead, turned into pino calls here.
// Messages say everything an operator needs: a field only repeats a variable part of its message.
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type pinoFn from 'pino';
import { openAppendSafe } from './safe-file.js';
import type { LogEffect } from '../util/log-effect.js';
import { isKtError } from '../util/errors.js';
import { SyslogSender } from './syslog.js';
import { formatSyslogLine, syslogSeverity } from './syslog-format.js';

export type { Logger };

// require(), not import: an ESM import of a CommonJS package makes Node scan its source for exports first, time
// every process of the daemon paid at start.
const pino = createRequire(import.meta.url)('pino') as typeof pinoFn;

export interface LogOptions {
  /** -D/--log-detail: debug-level detail. */
  detail?: boolean;
  /** JSON lines instead of text. */
  json?: boolean;
  /** Process role shown in each line, like keepalived's Keepalived_vrrp / Keepalived_healthcheckers. */
  role?: string;
  /** Where to write (default: stderr). */
  stream?: NodeJS.WritableStream;
  /** -g: also append every line to this file (opened once, never through a link; see safe-file.ts). */
  file?: string;
  /** -l: write to `stream` (default true); when false, `stream` still gets the lines no other target took. */
  console?: boolean;
  /** Send every line to this syslog socket (keepalived's default /dev/log) with this facility number. */
  syslog?: { socket: string; facility: number };
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/**
 * Formats one pino JSON line as `2026-11-21T20:00:00.123Z Keepalived_vrrp[123] INFO: (VI_1) Entering MASTER STATE`.
 * Bound fields are left out (the message already says them); an `err` field adds its stack or message.
 */
export function textLine(json: string): string {
  try {
    const o = JSON.parse(json) as Record<string, unknown>;
    const { time, level, msg, pid, role, err } = o;
    const e = err as { stack?: string; message?: string } | undefined;
    const extra = e ? ` ${e.stack ?? e.message ?? ''}` : '';
    const t = typeof time === 'number' ? new Date(time).toISOString() : String(time);
    return `${t} ${role ?? 'keepalived-ts'}[${pid}] ${LEVELS[level as number] ?? level}: ${msg ?? ''}${extra}\n`;
  } catch {
    return json;
  }
}

/** The fields of a caught error for its log line: our stable code (KT_…) and the system errno name, when known. */
export function errorFields(e: unknown): { code?: string; errno?: string } {
  const out: { code?: string; errno?: string } = {};
  if (isKtError(e)) out.code = e.code;
  const name = (e as { errnoName?: unknown } | undefined)?.errnoName;
  const sys = isKtError(e) ? undefined : (e as { code?: unknown } | undefined)?.code;
  if (typeof name === 'string') out.errno = name;
  else if (typeof sys === 'string') out.errno = sys;
  return out;
}

/** The one place a core's log effect becomes a pino call: its fields go on the line, its level maps to pino's. */
export function logEffect(log: Logger, e: LogEffect): void {
  const fields = e.fields ?? {};
  if (e.level === 'error') log.error(fields, e.msg);
  else if (e.level === 'warning') log.warn(fields, e.msg);
  else if (e.level === 'debug') log.debug(fields, e.msg);
  else log.info(fields, e.msg);
}

/** One pino JSON line to syslog: the message (or, with --log-json, the JSON line) at the level's severity. */
function sendSyslog(sys: SyslogSender, facility: number, ident: string, line: string, json: boolean): boolean {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return false;
  }
  const e = o['err'] as { stack?: string; message?: string } | undefined;
  const message = json ? line.trimEnd() : `${String(o['msg'] ?? '')}${e ? ` ${e.message ?? ''}` : ''}`;
  const time = new Date(typeof o['time'] === 'number' ? o['time'] : Date.now());
  return sys.send(formatSyslogLine({ facility, severity: syslogSeverity(Number(o['level'])), time, ident, pid: process.pid, message }));
}

export function createLogger(opts: LogOptions = {}): Logger {
  const out = opts.stream ?? process.stderr;
  let fd: number | undefined;
  let openError: string | undefined;
  if (opts.file) {
    try {
      fd = openAppendSafe(opts.file);
    } catch (e) {
      openError = `-g log file: ${(e as Error).message}; logging to the console only`;
    }
  }
  const sys = opts.syslog && new SyslogSender(opts.syslog.socket);
  const ident = opts.role ?? 'keepalived-ts';
  const dest = {
    write: (line: string) => {
      const text = opts.json ? line : textLine(line);
      let taken = false;
      if (fd !== undefined) {
        try {
          writeSync(fd, text);
          taken = true;
        } catch {
          /* a full or vanished disk must not stop the daemon; another target still has the line */
        }
      }
      if (sys) taken = sendSyslog(sys, opts.syslog!.facility, ident, line, opts.json === true) || taken;
      if (opts.console !== false || !taken) out.write(text);
    },
  };
  const logger = pino(
    { level: opts.detail ? 'debug' : 'info', base: { pid: process.pid, role: opts.role ?? 'keepalived-ts' } },
    dest as pinoFn.DestinationStream,
  );
  if (openError) logger.error(openError);
  return logger;
}
