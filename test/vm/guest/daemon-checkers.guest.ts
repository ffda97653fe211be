// Guest-only, whole daemon: keepalived-ts (started with keepalived's command line) health-checks real node
// HTTP / HTTPS / TCP servers in a real-server namespace and drives the kernel's IPVS table, with a client namespace
// reaching the VIP through NAT. One daemon start covers: a stopped server leaves the table within
// delay_loop + (retry+1) x connect_timeout + retry x delay_before_retry (measured, generous bound for TCG) and
// returns when started again; inhibit_on_failure keeps it at weight 0; SSL_GET; MISC_CHECK with misc_dynamic
// whose exit code sets the weight; quorum loss brings in the sorry server and regain removes it (quorum_up/down
// scripts); notify_up/notify_down scripts ran with their arguments; and HTTP GETs through the VIP reach a live
// real server (its own body), never a stopped one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonTestUnavailable, savedTable, shell, startDaemon, startRealServers, type RealServerDef, type RealServers, type RunningDaemon } from './daemon-lib.js';
import { waitFor } from '../../lab/lan.js';

const unavailable = await daemonTestUnavailable(false);

const id = Math.random().toString(36).slice(2, 6);
const CLIENT = `ktcc${id}`;
const REAL = `ktcr${id}`;
const dir = mkdtempSync('/tmp/ktdaemoncheck-');
let servers: RealServers | undefined;
let daemon: RunningDaemon | undefined;

after(async () => {
  await daemon?.stop(10_000).catch(() => undefined);
  servers?.proc.kill('SIGKILL');
  for (const c of [`ip netns del ${CLIENT}`, `ip netns del ${REAL}`, `ip link del ktcd0${id}`, `ip link del ktcd1${id}`,
    'ip addr del 10.40.0.100/32 dev lo', 'ip addr del 10.40.0.101/32 dev lo', 'ipvsadm -C']) {
    try { shell(`${c} 2>/dev/null`); } catch { /* gone */ }
  }
  rmSync(dir, { recursive: true, force: true });
});

// Timers of every checker: the bound a stopped server must leave the table within.
const DELAY_LOOP = 1;
const CONNECT_TIMEOUT = 2;
const RETRY = 1;
const DELAY_BEFORE_RETRY = 1;
const DOWN_BOUND_S = DELAY_LOOP + (RETRY + 1) * CONNECT_TIMEOUT + RETRY * DELAY_BEFORE_RETRY;
// TCG runs node ~12x slower than the host, and the daemon's reconcile goes through the same slow node.
const SLACK_S = 30;
const TIMERS = `connect_timeout ${CONNECT_TIMEOUT}
      retry ${RETRY}
      delay_before_retry ${DELAY_BEFORE_RETRY}`;

const DEFS: Record<string, RealServerDef> = {
  rs1: { kind: 'http', host: '10.40.2.2', port: 8080 },
  rs2: { kind: 'http', host: '10.40.2.3', port: 8080 },
  tls: { kind: 'https', host: '10.40.2.4', port: 8443, key: join(dir, 'key.pem'), cert: join(dir, 'cert.pem') },
  tcp5: { kind: 'tcp', host: '10.40.2.5', port: 9000 },
  tcp6: { kind: 'tcp', host: '10.40.2.6', port: 9000 },
};

const notifyLog = join(dir, 'notify.log');
const miscCode = join(dir, 'misc-code');
const CONF = `
global_defs {
  router_id ktdaemoncheck
}
virtual_server 10.40.0.100 80 {
  delay_loop ${DELAY_LOOP}
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.40.2.2 8080 {
    weight 1
    notify_up "${dir}/notify.sh UP rs1"
    notify_down "${dir}/notify.sh DOWN rs1"
    HTTP_GET {
      url {
        path /
        status_code 200
      }
      ${TIMERS}
    }
  }
  real_server 10.40.2.3 8080 {
    weight 3
    inhibit_on_failure
    HTTP_GET {
      url {
        path /health
        status_code 200
      }
      ${TIMERS}
    }
  }
}
virtual_server 10.40.0.101 443 {
  delay_loop ${DELAY_LOOP}
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.40.2.4 8443 {
    weight 2
    SSL_GET {
      url {
        path /
      }
      ${TIMERS}
    }
  }
}
virtual_server 10.40.0.102 9000 {
  delay_loop ${DELAY_LOOP}
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  quorum 2
  hysteresis 0
  quorum_up "${dir}/notify.sh QUORUM_UP vs102"
  quorum_down "${dir}/notify.sh QUORUM_DOWN vs102"
  sorry_server 10.40.2.9 9000
  real_server 10.40.2.5 9000 {
    weight 1
    TCP_CHECK {
      ${TIMERS}
    }
  }
  real_server 10.40.2.6 9000 {
    weight 1
    TCP_CHECK {
      ${TIMERS}
    }
  }
}
virtual_server 10.40.0.103 80 {
  delay_loop ${DELAY_LOOP}
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  real_server 10.40.2.7 80 {
    weight 1
    MISC_CHECK {
      misc_path "${dir}/misc.sh"
      misc_timeout 10
      misc_dynamic
    }
  }
}
`;

const table = (): string => savedTable().join('\n');
const has = (line: RegExp): boolean => line.test(table());
const notifies = (): string[] => (existsSync(notifyLog) ? readFileSync(notifyLog, 'utf8').split('\n').filter(Boolean) : []);


/** An HTTP GET from the client namespace through the VIP; the body names the real server that answered. */
function getThroughVip(url: string): string {
  return shell(`ip netns exec ${CLIENT} ${process.execPath} -e "require('http').get('${url}', { timeout: 20000 }, (r) => { let b = ''; r.on('data', (c) => b += c); r.on('end', () => process.stdout.write(b)); }).on('error', (e) => { console.error(e.message); process.exit(1); })"`);
}

async function timed(what: string, pred: () => boolean, boundS: number, t: { diagnostic(s: string): void }): Promise<number> {
  const t0 = Date.now();
  await waitFor(pred, { what, timeoutMs: (boundS + SLACK_S) * 1000, intervalMs: 100 }).catch((e: Error) => {
    throw new Error(`${e.message}\ntable:\n${table()}\nlog:\n${daemon?.log().slice(-4000)}`);
  });
  const ms = Date.now() - t0;
  t.diagnostic(`${what}: ${ms} ms (config bound ${boundS} s + ${SLACK_S} s TCG slack)`);
  return ms;
}

test('keepalived-ts checkers drive IPVS with real HTTP/HTTPS/TCP servers and MISC_CHECK; NAT through the VIP reaches a live server', { skip: unavailable, timeout: 900_000 }, async (t) => {
  shell(`ip netns add ${CLIENT}; ip netns add ${REAL}
    ip link add ktcd0${id} type veth peer name c0 netns ${CLIENT}
    ip link add ktcd1${id} type veth peer name r0 netns ${REAL}
    ip addr add 10.40.1.1/24 dev ktcd0${id}; ip link set ktcd0${id} up
    ip addr add 10.40.0.100/32 dev lo; ip addr add 10.40.0.101/32 dev lo
    ip addr add 10.40.2.1/24 dev ktcd1${id}; ip link set ktcd1${id} up
    ip -n ${CLIENT} addr add 10.40.1.2/24 dev c0; ip -n ${CLIENT} link set c0 up; ip -n ${CLIENT} link set lo up
    ip -n ${CLIENT} route add default via 10.40.1.1
    for a in 2 3 4 5 6; do ip -n ${REAL} addr add 10.40.2.$a/24 dev r0; done
    ip -n ${REAL} link set r0 up; ip -n ${REAL} link set lo up
    ip -n ${REAL} route add default via 10.40.2.1
    sysctl -qw net.ipv4.ip_forward=1
    ipvsadm -C
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=rs -days 2 -keyout ${dir}/key.pem -out ${dir}/cert.pem 2>/dev/null`);
  writeFileSync(join(dir, 'notify.sh'), `#!/bin/sh\necho "$*" >> ${notifyLog}\n`);
  writeFileSync(join(dir, 'misc.sh'), `#!/bin/sh\nexit $(cat ${miscCode})\n`);
  chmodSync(join(dir, 'notify.sh'), 0o755);
  chmodSync(join(dir, 'misc.sh'), 0o755);
  writeFileSync(miscCode, '7\n'); // misc_dynamic: exit 2+N → weight N
  writeFileSync(join(dir, 'keepalived.conf'), CONF);

  servers = await startRealServers(REAL, dir, DEFS);

  daemon = startDaemon('keepalived-ts', join(dir, 'keepalived.conf'));
  const rs1 = /-a -t 10\.40\.0\.100:80 -r 10\.40\.2\.2:8080 -m -w 1/;
  const rs2 = (w: number) => new RegExp(`-a -t 10\\.40\\.0\\.100:80 -r 10\\.40\\.2\\.3:8080 -m -w ${w}(\\n|$)`);
  const tls = /-a -t 10\.40\.0\.101:443 -r 10\.40\.2\.4:8443 -m -w 2/;
  const tcp5 = /-a -t 10\.40\.0\.102:9000 -r 10\.40\.2\.5:9000 -m -w 1/;
  const tcp6 = /-a -t 10\.40\.0\.102:9000 -r 10\.40\.2\.6:9000 -m -w 1/;
  const sorry = /-a -t 10\.40\.0\.102:9000 -r 10\.40\.2\.9:9000/;
  const misc = (w: number) => new RegExp(`-a -t 10\\.40\\.0\\.103:80 -r 10\\.40\\.2\\.7:80 -m -w ${w}(\\n|$)`);

  // Start-up: everything checks up, except rs2 whose /health is a 200 too (the servers answer any path).
  await timed('start-up: every real server in the table', () => { const s = table(); return rs1.test(s) && rs2(3).test(s) && tls.test(s) && tcp5.test(s) && tcp6.test(s) && misc(5).test(s) && !sorry.test(s); }, 60, t);

  // NAT end to end: the client reaches a real server through the VIP, round robin over both.
  const bodies = new Set([getThroughVip('http://10.40.0.100/'), getThroughVip('http://10.40.0.100/'), getThroughVip('http://10.40.0.100/')]);
  assert.deepEqual([...bodies].sort(), ['rs1', 'rs2']);

  // rs1 stops: it leaves the table, notify_down ran; the VIP only reaches rs2.
  await servers!.control('stop', 'rs1');
  await timed('rs1 stopped → removed', () => !has(rs1), DOWN_BOUND_S, t);
  await waitFor(() => notifies().includes('DOWN rs1'), { what: 'notify_down for rs1', timeoutMs: 30_000, intervalMs: 250 });
  for (let i = 0; i < 2; i++) assert.equal(getThroughVip('http://10.40.0.100/'), 'rs2');
  // rs1 comes back: one success brings it up (checked every delay_loop while down).
  await servers!.control('start', 'rs1');
  await timed('rs1 started → back', () => has(rs1), DELAY_LOOP + CONNECT_TIMEOUT, t);
  await waitFor(() => notifies().includes('UP rs1'), { what: 'notify_up for rs1', timeoutMs: 30_000, intervalMs: 250 });
  assert.deepEqual(notifies().filter((l) => l.endsWith('rs1')), ['DOWN rs1', 'UP rs1']);

  // inhibit_on_failure: rs2 stays at weight 0 instead of leaving, and gets its weight back.
  await servers!.control('stop', 'rs2');
  await timed('rs2 stopped → weight 0 (inhibit_on_failure)', () => has(rs2(0)), DOWN_BOUND_S, t);
  assert.equal(getThroughVip('http://10.40.0.100/'), 'rs1');
  await servers!.control('start', 'rs2');
  await timed('rs2 started → weight 3 again', () => has(rs2(3)), DELAY_LOOP + CONNECT_TIMEOUT, t);

  // SSL_GET against a node HTTPS server (self-signed: keepalived does not verify the certificate).
  await servers!.control('stop', 'tls');
  await timed('HTTPS server stopped → removed', () => !has(tls), DOWN_BOUND_S, t);
  await servers!.control('start', 'tls');
  await timed('HTTPS server started → back', () => has(tls), DELAY_LOOP + CONNECT_TIMEOUT, t);

  // MISC_CHECK misc_dynamic: exit 1 fails, exit 2+N is up at weight N.
  writeFileSync(miscCode, '1\n');
  await timed('MISC_CHECK exit 1 → removed', () => !has(misc(5)) && !/10\.40\.2\.7:80/.test(table()), DELAY_LOOP + 10, t);
  writeFileSync(miscCode, '4\n');
  await timed('MISC_CHECK exit 4 → weight 2', () => has(misc(2)), DELAY_LOOP + 10, t);
  writeFileSync(miscCode, '12\n');
  await timed('MISC_CHECK exit 12 → weight 10', () => has(misc(10)), DELAY_LOOP + 10, t);

  // Quorum 2 with two weight-1 servers: one down → quorum lost: the sorry server replaces the live ones.
  await servers!.control('stop', 'tcp6');
  await timed('quorum lost → sorry server in, live servers out', () => { const s = table(); return sorry.test(s) && !tcp5.test(s) && !tcp6.test(s); }, DOWN_BOUND_S, t);
  await waitFor(() => notifies().includes('QUORUM_DOWN vs102'), { what: 'quorum_down script', timeoutMs: 30_000, intervalMs: 250 });
  await servers!.control('start', 'tcp6');
  await timed('quorum regained → sorry server out, both servers in', () => { const s = table(); return !sorry.test(s) && tcp5.test(s) && tcp6.test(s); }, DELAY_LOOP + CONNECT_TIMEOUT, t);
  await waitFor(() => notifies().includes('QUORUM_UP vs102'), { what: 'quorum_up script', timeoutMs: 30_000, intervalMs: 250 });

  // Stop: everything keepalived-ts added is removed.
  assert.equal(await daemon.stop(), 0, daemon.log().slice(-3000));
  daemon = undefined;
  assert.deepEqual(savedTable(), []);
});
