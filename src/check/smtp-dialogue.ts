// SMTP_CHECK's dialogue (check_smtp.c smtp_engine_thread) as data: what to send after each reply and what the reply
// must say. Pure; the probe (probe-smtp.ts) only moves the lines.

/** keepalived's SMTP_DEFAULT_HELO. */
export const SMTP_DEFAULT_HELO = 'smtpchecker.keepalived.org';
/** keepalived's SMTP_BUFF_MAX: a reply is read into 511 bytes (the buffer restarts when full). */
export const SMTP_BUFF_MAX = 512;

/**
 * smtp_get_status: the reply code as keepalived reads it from the start of what it has read — exactly three digits
 * followed by a blank (or nothing); -1 otherwise. So "220-" (a multi-line banner) and "220\r\n" do not count as 220.
 */
export function smtpStatus(buf: string): number {
  const m = /^[\t\n\v\f\r ]*[+-]?(\d+)/.exec(buf);
  if (!m || m[0].length !== 3) return -1;
  const next = buf[3];
  if (next !== undefined && next !== ' ') return -1;
  return Number(m[1]);
}

export type SmtpStep =
  | { kind: 'send'; line: string; expect: 'helo' | 'quit' }
  | { kind: 'fail'; reason: string }
  | { kind: 'done' };

/** The next step after a reply (a buffer holding at least one newline) in state `at`. */
export function smtpNext(at: 'banner' | 'helo' | 'quit', reply: string, helo: string): SmtpStep {
  switch (at) {
    case 'banner':
      return smtpStatus(reply) === 220 ? { kind: 'send', line: `HELO ${helo}\r\n`, expect: 'helo' } : { kind: 'fail', reason: 'Bad greeting banner' };
    case 'helo':
      return smtpStatus(reply) === 250 ? { kind: 'send', line: 'QUIT\r\n', expect: 'quit' } : { kind: 'fail', reason: 'Bad HELO response' };
    case 'quit':
      return { kind: 'done' };
  }
}
