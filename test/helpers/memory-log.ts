// The daemon's own pino logger (daemon/log.ts createLogger, JSON lines) writing into an array, for tests that read
// what a module logs. Each line is kept as `format` renders it (default: the message).
import { createLogger, type Logger } from '../../src/daemon/log.js';

export interface LoggedLine {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  msg: string;
  /** The line's fields (bound by child loggers or passed with the message). */
  fields: Record<string, unknown>;
}

const LEVEL_NAMES: Record<number, LoggedLine['level']> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export function memoryLog(format: (l: LoggedLine) => string = (l) => l.msg): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = {
    write: (json: string) => {
      const { level, msg, time: _t, pid: _p, role: _r, hostname: _h, ...fields } = JSON.parse(json) as Record<string, unknown>;
      lines.push(format({ level: LEVEL_NAMES[level as number] ?? 'info', msg: String(msg ?? ''), fields }));
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  return { log: createLogger({ json: true, detail: true, stream }), lines };
}
