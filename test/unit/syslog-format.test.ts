// Syslog lines as glibc's syslog(3) writes them to /dev/log for keepalived (RFC 3164: <PRI>Mmm dd hh:mm:ss
// IDENT[PID]: MESSAGE), keepalived's -S facilities, pino levels as severities, and the logger's targets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSyslogLine, syslogFacility, syslogSeverity } from '../../src/daemon/syslog-format.js';
import { logTargets, type DaemonOptions } from '../../src/daemon/options.js';

test('-S: 0-7 are LOG_LOCAL0-7, user and daemon by name, LOG_DAEMON without -S', () => {
  assert.equal(syslogFacility(undefined), 3);
  assert.equal(syslogFacility('daemon'), 3);
  assert.equal(syslogFacility('user'), 1);
  assert.equal(syslogFacility('0'), 16);
  assert.equal(syslogFacility('7'), 23);
  assert.equal(syslogFacility('local5'), 21);
  assert.throws(() => syslogFacility('8'), RangeError);
});

test('pino levels map to syslog severities', () => {
  assert.deepEqual([60, 50, 40, 30, 20, 10].map(syslogSeverity), [2, 3, 4, 6, 7, 7]);
});

test('one datagram: <facility*8+severity>, glibc\'s timestamp (day padded with a space), ident[pid]: message', () => {
  const time = new Date(2026, 11, 6, 9, 5, 7); // local time, as glibc prints it
  assert.equal(formatSyslogLine({ facility: 19, severity: 6, time, ident: 'Keepalived_vrrp', pid: 4242, message: '(VI_1) Entering MASTER STATE' }),
    '<158>Dec  6 09:05:07 Keepalived_vrrp[4242]: (VI_1) Entering MASTER STATE');
  assert.equal(formatSyslogLine({ facility: 3, severity: 3, time: new Date(2026, 0, 21, 23, 59, 0), ident: 'Keepalived', pid: 1, message: 'a\nb' }),
    '<27>Jan 21 23:59:00 Keepalived[1]: a b');
});

test('targets: syslog on /dev/log unless -G, console with -l, --syslog-socket and -S honoured', () => {
  const base = { logConsole: false } as DaemonOptions;
  assert.deepEqual(logTargets(base), { console: false, syslog: { socket: '/dev/log', facility: 3 } });
  assert.deepEqual(logTargets({ ...base, logConsole: true, noSyslog: true }), { console: true, syslog: undefined });
  assert.deepEqual(logTargets({ ...base, syslogSocket: '/tmp/x.sock', logFacility: '2' }), { console: false, syslog: { socket: '/tmp/x.sock', facility: 18 } });
});
