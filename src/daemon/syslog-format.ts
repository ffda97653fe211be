// Syslog lines as keepalived's go to /dev/log, pure: glibc's syslog(3) (which keepalived calls after
// openlog(ident, LOG_PID, facility)) writes the BSD format of RFC 3164, `<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE`,
// local time, no year, no host (the receiving daemon adds it); rsyslog and journald both parse it on /dev/log.
// Facility: keepalived's -S 0..7 means LOG_LOCAL0..7, `-S user`/`daemon` by name, LOG_DAEMON by default.

/** RFC 5424 facility numbers keepalived can be given. */
export const SYSLOG_FACILITY = { user: 1, daemon: 3, local0: 16 } as const;

/** keepalived's -S argument as a facility number; undefined (no -S) is LOG_DAEMON. */
export function syslogFacility(spec: string | undefined): number {
  if (spec === undefined || spec === 'daemon') return SYSLOG_FACILITY.daemon;
  if (spec === 'user') return SYSLOG_FACILITY.user;
  const m = /^(?:local)?([0-7])$/.exec(spec);
  if (!m) throw new RangeError(`syslog facility ${spec}: expected 0-7, local0-local7, user or daemon`);
  return SYSLOG_FACILITY.local0 + Number(m[1]);
}

/** pino's level as a syslog severity: fatal LOG_CRIT, error LOG_ERR, warn LOG_WARNING, info LOG_INFO, else LOG_DEBUG. */
export function syslogSeverity(pinoLevel: number): number {
  if (pinoLevel >= 60) return 2;
  if (pinoLevel >= 50) return 3;
  if (pinoLevel >= 40) return 4;
  if (pinoLevel >= 30) return 6;
  return 7;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** One datagram for /dev/log. `time` is shown in its local time, as glibc's `%h %e %T`. */
export function formatSyslogLine(p: { facility: number; severity: number; time: Date; ident: string; pid: number; message: string }): string {
  const t = p.time;
  const stamp = `${MONTHS[t.getMonth()]} ${String(t.getDate()).padStart(2, ' ')} ${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}`;
  // syslog(3) sends one line: a newline inside the message would start a new record at some receivers.
  return `<${p.facility * 8 + p.severity}>${stamp} ${p.ident}[${p.pid}]: ${p.message.replace(/\n/g, ' ')}`;
}
