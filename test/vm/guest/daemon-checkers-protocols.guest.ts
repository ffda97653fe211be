// Guest-only, differential, whole daemons: Debian's keepalived 2.2.7 and keepalived-ts run in turn on the SAME
// keepalived.conf with PING_CHECK, UDP_CHECK, DNS_CHECK and SMTP_CHECK real servers; each one's settled IPVS table
// (`ipvsadm -Sn`, sorted) must be identical, each must empty it on stop, and each must put net.ipv4.ping_group_range
// back. The servers sit on a dummy link in the guest: 192.168.40.1 answers ping (the local stack), UDP echo on
// 7000, dnsmasq on 53 (www.kt.test, nothing else in kt.test) and a small SMTP server on 2525; 192.168.40.2 has no
// listener (ICMP port unreachable, TCP refused); 192.168.41.0/24 is an unreachable route.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { daemonTestUnavailable, savedTable, settledTable, shell, startDaemon, type RunningDaemon } from './daemon-lib.js';
import { waitFor } from '../../lab/lan.js';

const unavailable = await daemonTestUnavailable(true);
const id = Math.random().toString(36).slice(2, 6);
const DUMMY = `ktpc${id}`;
const dir = mkdtempSync('/tmp/ktprotocols-');
const conf = join(dir, 'keepalived.conf');
const running: RunningDaemon[] = [];
let smtp: Server | undefined;
let echo: dgram.Socket | undefined;
let dns: ChildProcess | undefined;

after(async () => {
  for (const d of running) await d.stop(10_000).catch(() => undefined);
  smtp?.close();
  echo?.close();
  dns?.kill('SIGKILL');
  for (const c of [`ip link del ${DUMMY}`, 'ip route del unreachable 192.168.41.0/24', 'ipvsadm -C']) {
    try { shell(`${c} 2>/dev/null`); } catch { /* gone */ }
  }
  rmSync(dir, { recursive: true, force: true });
});

const T = `connect_timeout 1
      retry 1
      delay_before_retry 1`;
const CONF = `
global_defs {
  router_id ktprotocols
}
virtual_server 10.50.0.1 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 192.168.40.1 80 {
    PING_CHECK {
      ${T}
    }
  }
  real_server 192.168.41.1 80 {
    PING_CHECK {
      ${T}
    }
  }
}
virtual_server 10.50.0.2 7000 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol UDP
  real_server 192.168.40.1 7000 {
    weight 2
    UDP_CHECK {
      payload 6b 74
      require_reply 6b 7x
      ${T}
    }
  }
  real_server 192.168.40.2 7000 {
    UDP_CHECK {
      ${T}
    }
  }
}
virtual_server 10.50.0.3 53 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol UDP
  real_server 192.168.40.1 53 {
    DNS_CHECK {
      type A
      name www.kt.test
      ${T}
    }
  }
  real_server 192.168.40.2 53 {
    DNS_CHECK {
      connect_ip 192.168.40.1
      type A
      name missing.kt.test
      ${T}
    }
  }
}
virtual_server 10.50.0.4 25 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 192.168.40.1 2525 {
    inhibit_on_failure
    SMTP_CHECK {
      helo_name kt.example
      ${T}
    }
  }
  real_server 192.168.40.2 2525 {
    inhibit_on_failure
    SMTP_CHECK {
      ${T}
    }
  }
}
`;

/** Settled: each VS down to its good real server (and SMTP's failed one kept at weight 0). */
const settledShape = (t: string[]): boolean =>
  t.filter((l) => l.startsWith('-A')).length === 4 && t.filter((l) => l.startsWith('-a')).length === 5 && t.some((l) => / -r 192\.168\.40\.2:2525 -m -w 0/.test(l));

const pingRange = (): string => readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8');

async function runAndCapture(which: 'keepalived' | 'keepalived-ts'): Promise<{ table: string[]; d: RunningDaemon }> {
  const d = startDaemon(which, conf);
  running.push(d);
  await waitFor(() => settledShape(savedTable()), { what: `${which} to program the table`, timeoutMs: 180_000, intervalMs: 500 })
    .catch((e: Error) => { throw new Error(`${e.message}\ntable:\n${savedTable().join('\n')}\nlog:\n${d.log().slice(-4000)}`); });
  return { table: await settledTable(4_000, 60_000), d };
}

test('keepalived 2.2.7 and keepalived-ts leave the same IPVS table for PING/UDP/DNS/SMTP checks, and clean up', { skip: unavailable, timeout: 900_000 }, async () => {
  shell(`ip link add ${DUMMY} type dummy; ip link set ${DUMMY} up
      ip addr add 192.168.40.1/24 dev ${DUMMY}; ip addr add 192.168.40.2/24 dev ${DUMMY}
      ip route add unreachable 192.168.41.0/24
      ipvsadm -C`);
  echo = dgram.createSocket('udp4');
  echo.on('message', (m, r) => echo!.send(m, r.port, r.address));
  await new Promise<void>((r) => echo!.bind(7000, '192.168.40.1', () => r()));
  smtp = createServer((c) => {
    c.on('error', () => {});
    c.write('220 kt.test ESMTP\r\n');
    let buf = '';
    c.on('data', (d) => {
      buf += d.toString('latin1');
      if (/^HELO /m.test(buf) && !/^QUIT/m.test(buf)) { buf = ''; c.write('250 kt.test\r\n'); }
      else if (/^QUIT/m.test(buf)) c.end('221 bye\r\n');
    });
  });
  await new Promise<void>((r) => smtp!.listen(2525, '192.168.40.1', r));
  dns = spawn('dnsmasq', ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--bind-interfaces',
    '--listen-address=192.168.40.1', '--port=53', '--host-record=www.kt.test,192.168.40.10', '--local=/kt.test/',
    `--pid-file=${join(dir, 'dnsmasq.pid')}`, '--log-facility=-'], { stdio: 'ignore' });
  writeFileSync(conf, CONF);
  const rangeBefore = pingRange();

  const ref = await runAndCapture('keepalived');
  assert.equal(await ref.d.stop(), 0, `keepalived exit; log:\n${ref.d.log().slice(-3000)}`);
  running.pop();
  await waitFor(() => savedTable().length === 0, { what: 'keepalived to empty the table', timeoutMs: 10_000, intervalMs: 250 });
  assert.equal(pingRange(), rangeBefore, 'keepalived put ping_group_range back');

  const ours = await runAndCapture('keepalived-ts');
  assert.deepEqual(ours.table, ref.table, `keepalived-ts log:\n${ours.d.log().slice(-4000)}`);
  assert.equal(await ours.d.stop(), 0, `keepalived-ts exit; log:\n${ours.d.log().slice(-3000)}`);
  running.pop();
  assert.deepEqual(savedTable(), [], 'keepalived-ts removed everything it added on stop');
  assert.equal(pingRange(), rangeBefore, 'keepalived-ts put ping_group_range back');
  // The reference table, for the record: the good real servers in, SMTP's refused one inhibited.
  assert.ok(ref.table.some((l) => /-a -t 10\.50\.0\.4:25 -r 192\.168\.40\.2:2525 -m -w 0/.test(l)), ref.table.join('\n'));
  assert.ok(ref.table.some((l) => /-a -u 10\.50\.0\.2:7000 -r 192\.168\.40\.1:7000 -m -w 2/.test(l)), ref.table.join('\n'));
});
