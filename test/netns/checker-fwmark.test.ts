// Checkers' fwmark and bind_if against real servers in a namespace, observed through notify_up / notify_down.
// The servers (agents/checker-servers.ts) listen on 10.78.9.9, which the daemon's namespace reaches only through
// routing table 100, chosen by `ip rule fwmark 7 lookup 100`: a check whose socket carries the mark (keepalived's
// SO_MARK in socket_bind_connect / udp_bind_connect) reaches them, the same check without it does not. With
// bind_if (SO_BINDTODEVICE) and no route the kernel takes the address as on the link, so a TCP_CHECK bound to the
// veth reaches it too. Debian's keepalived cannot run checkers on this IPVS-less kernel (see checker-protocols).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { needsRoot } from '../helpers/root.js';
import { netnsDaemonFixture, stopProcess, waitForCondition } from '../helpers/process.js';
import { startCheckerServers, writeNotifiedCheckers } from '../helpers/checker-notify.js';

const skip = needsRoot();
const fx = netnsDaemonFixture('ktfm');
const { dir, ns } = fx;
const nsA = `${ns}a`;
const procs: ChildProcess[] = [];

after(async () => {
  for (const p of procs) await stopProcess(p, 3000);
  await fx.tearDown();
  try { execFileSync('ip', ['netns', 'del', nsA], { stdio: 'ignore' }); } catch { /* not created */ }
});

const ip = (...args: string[]): void => void execFileSync('ip', args);
const SRV = 'connect_ip 10.78.9.9';

/** name → checker block (without the mark; `marked` adds fwmark 7) and its verdict with and without the mark. */
const CHECKS: Record<string, string> = {
  tcp: `TCP_CHECK {\n ${SRV}\n connect_port 2525\n`,
  http: `HTTP_GET {\n ${SRV}\n connect_port 8080\n url {\n path /\n }\n`,
  smtp: `SMTP_CHECK {\n ${SRV}\n connect_port 2525\n`,
  udp: `UDP_CHECK {\n ${SRV}\n connect_port 7000\n payload 6b 74\n require_reply 6b 74\n`,
  dns: `DNS_CHECK {\n ${SRV}\n connect_port 7004\n name www.kt.test\n`,
};
const CASES: Record<string, { check: string; want: 'UP' | 'DOWN' }> = {};
for (const [n, c] of Object.entries(CHECKS)) {
  CASES[`${n}-fwmark`] = { check: `${c} fwmark 7\n retry 0\n }`, want: 'UP' };
  CASES[`${n}-nomark`] = { check: `${c} retry 0\n }`, want: 'DOWN' };
}
CASES['tcp-bind-if'] = { check: `${CHECKS.tcp} bind_if va0\n retry 0\n }`, want: 'UP' };

test('fwmark and bind_if reach a server only routed for the mark or the link', { skip, timeout: 120_000 }, async () => {
  fx.setUp();
  ip('netns', 'add', nsA);
  ip('-n', nsA, 'link', 'set', 'lo', 'up');
  ip('-n', ns, 'link', 'add', 'va0', 'type', 'veth', 'peer', 'name', 'va1', 'netns', nsA);
  ip('-n', ns, 'addr', 'add', '10.78.1.1/24', 'dev', 'va0');
  ip('-n', nsA, 'addr', 'add', '10.78.1.2/24', 'dev', 'va1');
  ip('-n', nsA, 'addr', 'add', '10.78.9.9/32', 'dev', 'lo');
  ip('-n', ns, 'link', 'set', 'va0', 'up');
  ip('-n', nsA, 'link', 'set', 'va1', 'up');
  // Only marked traffic has a route to the servers; replies come in unmarked, so no reverse-path filter.
  ip('-n', ns, 'route', 'add', '10.78.9.9/32', 'via', '10.78.1.2', 'dev', 'va0', 'table', '100');
  ip('-n', ns, 'rule', 'add', 'fwmark', '7', 'lookup', '100');
  for (const c of ['all', 'default', 'va0']) execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv4.conf.${c}.rp_filter=0`]);

  const agent = await startCheckerServers(nsA, '10.78.9.9');
  procs.push(agent.proc);
  const names = Object.keys(CASES);
  const { lines, last } = writeNotifiedCheckers(dir, 'ktfwmark', 2, Object.fromEntries(names.map((n) => [n, CASES[n]!.check])));
  const { proc: daemon, log } = fx.start();
  const all = (): string => `${log().slice(-4000)}\nnotify:\n${lines().join('\n')}`;

  // With alpha every real server starts down: UP on its first success, DOWN on its first failure.
  await waitForCondition('a verdict for every real server', () => names.every((n) => last(n) !== undefined), 60_000, all);
  assert.deepEqual(Object.fromEntries(names.map((n) => [n, last(n)])), Object.fromEntries(names.map((n) => [n, CASES[n]!.want])), all());
  // What the servers saw came from the daemon's veth address, over the marked route.
  assert.match(agent.out(), /"smtp":2525,"line":"HELO /);

  const exited = new Promise<number | null>((r) => daemon.once('exit', (c) => r(c)));
  daemon.kill('SIGTERM');
  assert.equal(await exited, 0, log().slice(-3000));
});
