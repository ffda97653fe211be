// PING_CHECK, UDP_CHECK, DNS_CHECK and SMTP_CHECK against real servers in namespaces, observed as an operator does:
// the notify_up / notify_down lines of each real server, what the servers received, ping_group_range after stop.
// The daemon's namespace reaches two server namespaces over veth pairs: A (10.77.1.2) runs the test's small UDP
// and SMTP servers (agents/checker-servers.ts) and dnsmasq with a test-owned command line; B (10.77.2.2) ignores
// ICMP echo (net.ipv4.icmp_echo_ignore_all). 10.77.1.99 is on A's link but no host answers for it.
// Debian's keepalived cannot run its checkers on this IPVS-less kernel ("IPVS: Can't initialize ipvs" is fatal to
// its checker child); the IPVS effect beside keepalived is the qemu guest's job.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { netnsDaemonFixture, stopProcess, waitForCondition } from '../helpers/process.js';
import { startCheckerServers, writeNotifiedCheckers } from '../helpers/checker-notify.js';

const skip = needsRoot() || needsCommand('dnsmasq');
const fx = netnsDaemonFixture('ktcp');
const { dir, ns } = fx;
const nsA = `${ns}a`;
const nsB = `${ns}b`;
const procs: ChildProcess[] = [];

after(async () => {
  for (const p of procs) await stopProcess(p, 3000);
  await fx.tearDown();
  for (const n of [nsA, nsB]) try { execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' }); } catch { /* not created */ }
});

const ip = (...args: string[]): void => void execFileSync('ip', args);

/** name → how its checker is written. Every real server is its own label (10.99.1.N:80). */
const CASES: Record<string, { check: string; want: 'UP' | 'DOWN' }> = {
  'ping-ok': { check: 'PING_CHECK {\n connect_ip 10.77.1.2\n }', want: 'UP' },
  'ping-nohost': { check: 'PING_CHECK {\n connect_ip 10.77.1.99\n }', want: 'DOWN' },
  'ping-dropped': { check: 'PING_CHECK {\n connect_ip 10.77.2.2\n }', want: 'DOWN' },
  'udp-echo': { check: 'UDP_CHECK {\n connect_ip 10.77.1.2\n connect_port 7000\n payload 6b 74 0a\n require_reply 6b 7X\n }', want: 'UP' },
  'udp-silent': { check: 'UDP_CHECK {\n connect_ip 10.77.1.2\n connect_port 7001\n }', want: 'UP' },
  'udp-silent-req': { check: 'UDP_CHECK {\n connect_ip 10.77.1.2\n connect_port 7001\n require_reply\n }', want: 'DOWN' },
  'udp-closed': { check: 'UDP_CHECK {\n connect_ip 10.77.1.2\n connect_port 7002\n }', want: 'DOWN' },
  'udp-mismatch': { check: 'UDP_CHECK {\n connect_ip 10.77.1.2\n connect_port 7000\n payload 01 02\n require_reply 03\n }', want: 'DOWN' },
  'dns-a': { check: 'DNS_CHECK {\n connect_ip 10.77.1.2\n connect_port 53\n type A\n name www.kt.test\n retry 0\n }', want: 'UP' },
  'dns-nodata': { check: 'DNS_CHECK {\n connect_ip 10.77.1.2\n connect_port 53\n type MX\n name www.kt.test\n retry 0\n }', want: 'UP' },
  'dns-nxdomain': { check: 'DNS_CHECK {\n connect_ip 10.77.1.2\n connect_port 53\n type A\n name missing.kt.test\n retry 0\n }', want: 'DOWN' },
  'dns-garbage': { check: 'DNS_CHECK {\n connect_ip 10.77.1.2\n connect_port 7003\n name www.kt.test\n retry 0\n }', want: 'DOWN' },
  'smtp-ok': { check: 'SMTP_CHECK {\n connect_ip 10.77.1.2\n connect_port 2525\n helo_name kt.example\n }', want: 'UP' },
  'smtp-5xx': { check: 'SMTP_CHECK {\n connect_ip 10.77.1.2\n connect_port 2526\n retry 0\n }', want: 'DOWN' },
  'smtp-silent': { check: 'SMTP_CHECK {\n connect_ip 10.77.1.2\n connect_port 2527\n retry 0\n }', want: 'DOWN' },
};
/** Those that go down when server namespace A loses its link and its servers stop. */
const GO_DOWN = ['ping-ok', 'udp-echo', 'dns-a', 'smtp-ok'];

test('PING, UDP, DNS and SMTP checks decide as keepalived does against real servers', { skip, timeout: 180_000 }, async () => {
  fx.setUp();
  for (const n of [nsA, nsB]) {
    ip('netns', 'add', n);
    ip('-n', n, 'link', 'set', 'lo', 'up');
  }
  ip('-n', ns, 'link', 'add', 'va0', 'type', 'veth', 'peer', 'name', 'va1', 'netns', nsA);
  ip('-n', ns, 'link', 'add', 'vb0', 'type', 'veth', 'peer', 'name', 'vb1', 'netns', nsB);
  ip('-n', ns, 'addr', 'add', '10.77.1.1/24', 'dev', 'va0');
  ip('-n', ns, 'addr', 'add', '10.77.2.1/24', 'dev', 'vb0');
  ip('-n', nsA, 'addr', 'add', '10.77.1.2/24', 'dev', 'va1');
  ip('-n', nsB, 'addr', 'add', '10.77.2.2/24', 'dev', 'vb1');
  for (const [n, d] of [[ns, 'va0'], [ns, 'vb0'], [nsA, 'va1'], [nsB, 'vb1']] as const) ip('-n', n, 'link', 'set', d, 'up');
  execFileSync('ip', ['netns', 'exec', nsB, 'sysctl', '-qw', 'net.ipv4.icmp_echo_ignore_all=1']);
  const rangeBefore = execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/sys/net/ipv4/ping_group_range'], { encoding: 'utf8' });

  // The servers.
  const agent = await startCheckerServers(nsA, '10.77.1.2');
  procs.push(agent.proc);
  const dns = spawn('ip', ['netns', 'exec', nsA, 'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts',
    '--bind-interfaces', '--listen-address=10.77.1.2', '--port=53', '--host-record=www.kt.test,10.77.1.10', '--local=/kt.test/',
    `--pid-file=${join(dir, 'dnsmasq.pid')}`, '--log-facility=-', '--log-queries'], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(dns);
  let dnsLog = '';
  dns.stdout!.on('data', (d) => { dnsLog += d; });
  dns.stderr!.on('data', (d) => { dnsLog += d; });
  await waitForCondition('dnsmasq', () => /started, version/.test(dnsLog), 30_000, () => dnsLog);

  const names = Object.keys(CASES);
  const { lines, last } = writeNotifiedCheckers(dir, 'ktcheckers', 1, Object.fromEntries(names.map((n) => [n, CASES[n]!.check])));
  const { proc: daemon, log } = fx.start();
  const all = (): string => `${log()}\nnotify:\n${lines().join('\n')}\nservers:\n${agent.out()}`;

  // With alpha every real server starts down and says UP on its first success, DOWN on its first failure.
  await waitForCondition('a verdict for every real server', () => names.every((n) => last(n) !== undefined), 60_000, all);
  // A few more rounds: nothing flaps.
  await new Promise((r) => setTimeout(r, 3000));
  for (const n of names) assert.equal(last(n), CASES[n]!.want, `${n}\n${all().slice(-4000)}`);
  for (const n of names) assert.equal(lines().filter((l) => l.endsWith(` ${n}`)).length, 1, `${n} changed state\n${lines().join('\n')}`);

  // What the servers saw: keepalived's SMTP dialogue with our helo_name, and the UDP payloads.
  const seen = agent.out().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { smtp?: number; udp?: number; line?: string; hex?: string });
  assert.deepEqual(seen.filter((s) => s.smtp === 2525).slice(0, 2).map((s) => s.line), ['HELO kt.example\r\n', 'QUIT\r\n']);
  assert.ok(seen.some((s) => s.udp === 7000 && s.hex === '6b740a'), agent.out());
  // Without a payload, keepalived's 32 bytes of "keepalived check - ".
  assert.ok(seen.some((s) => s.udp === 7001 && Buffer.from(s.hex!, 'hex').toString('latin1') === 'keepalived check - keepalived ch'), agent.out());
  assert.match(dnsLog, /query\[A\] www\.kt\.test from 10\.77\.1\.1/);
  assert.match(dnsLog, /query\[MX\] www\.kt\.test from 10\.77\.1\.1/);

  // Server namespace A goes away from the link and its servers stop: its checks go down.
  ip('-n', nsA, 'link', 'set', 'va1', 'down');
  await stopProcess(agent.proc, 3000);
  await stopProcess(dns, 3000);
  await waitForCondition('the checks of A down', () => GO_DOWN.every((n) => last(n) === 'DOWN'), 60_000, all);

  assert.equal(daemon.exitCode, null, `the daemon exited\n${log().slice(-3000)}`);
  const exited = new Promise<number | null>((r) => daemon.once('exit', (c) => r(c)));
  daemon.kill('SIGTERM');
  assert.equal(await exited, 0, log().slice(-3000));
  // keepalived widens ping_group_range for its ping sockets and puts it back on stop: so do we.
  assert.match(log(), /ping_group_range changed from 1 0 to 0 0/);
  assert.equal(execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/sys/net/ipv4/ping_group_range'], { encoding: 'utf8' }), rangeBefore);
});
