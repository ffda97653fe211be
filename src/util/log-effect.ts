// A pure core does not log: it returns a log effect (data) among its other effects, and the shell turns each one
// into one pino call with the effect's fields (daemon/log.ts logEffect). The message keeps keepalived's words
// ("(VI_1) Entering MASTER STATE"); the variable parts are repeated in `fields` for machines (--log-json).

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

/** Structured fields of one log line: instance, group, src, priority, state, … */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface LogEffect {
  type: 'log';
  level: LogLevel;
  msg: string;
  fields?: LogFields;
}
