// Guest-only (real IPVS): keepalived-ts's /metrics carries the kernel's IPVS counters per service and destination.
// HTTP requests from a client namespace go through a NAT virtual service the daemon programmed; the destination's
// connection, packet and byte counters on /metrics rise with them and equal what `ipvsadm -Ln --stats --exact`
// says of the same destination once traffic has stopped.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { daemonTestUnavailable, shell, startDaemon, type RunningDaemon } from './daemon-lib.js';
import { parsePrometheusText } from '../../helpers/prom-parse.js';
import { sleep } from '../../lab/lan.js';

const unavailable = await daemonTestUnavailable(false);
const id = Math.random().toString(36).slice(2, 6);
const CLIENT = `kmc${id}`;
const REAL = `kmr${id}`;
let server: ChildProcess | undefined;
let daemon: RunningDaemon | undefined;

after(async () => {
  await daemon?.stop();
  server?.kill('SIGKILL');
  for (const c of [`ip netns del ${CLIENT}`, `ip netns del ${REAL}`, `ip link del kmd0${id}`, `ip link del kmd1${id}`, 'ip addr del 10.12.1.100/32 dev lo', 'ipvsadm -C']) {
    try { shell(`${c} 2>/dev/null`); } catch { /* already gone */ }
  }
});

const httpGetIn = (ns: string, url: string): string => execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e',
  `require('http').get(${JSON.stringify(url)}, { timeout: 60000 }, (r) => { let b = ''; r.on('data', (d) => b += d); r.on('end', () => process.stdout.write(b)); })
     .on('error', (e) => { console.error(e.message); process.exit(1); })`], { encoding: 'utf8' });

function scrape(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/metrics' }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (b += c));
      res.on('end', () => resolve(b));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The destination's Conns InPkts OutPkts InBytes OutBytes from `ipvsadm -Ln --stats --exact`. */
function ipvsadmDest(dest: string): number[] | undefined {
  const out = shell('ipvsadm -Ln --stats --exact');
  const m = new RegExp(`-> ${dest.replace(/\./g, '\\.')}\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)`).exec(out);
  return m ? m.slice(1, 6).map(Number) : undefined;
}

test('IPVS counters on /metrics rise with traffic through the VIP and equal ipvsadm --stats', { skip: unavailable, timeout: 300_000 }, async () => {
  shell(`ip netns add ${CLIENT}; ip netns add ${REAL}
    ip link add kmd0${id} type veth peer name c0 netns ${CLIENT}
    ip link add kmd1${id} type veth peer name r0 netns ${REAL}
    ip addr add 10.12.1.1/24 dev kmd0${id}; ip link set kmd0${id} up
    ip addr add 10.12.1.100/32 dev lo
    ip addr add 10.12.2.1/24 dev kmd1${id}; ip link set kmd1${id} up
    ip -n ${CLIENT} addr add 10.12.1.2/24 dev c0; ip -n ${CLIENT} link set c0 up; ip -n ${CLIENT} link set lo up
    ip -n ${CLIENT} route add default via 10.12.1.1
    ip -n ${REAL} addr add 10.12.2.2/24 dev r0; ip -n ${REAL} link set r0 up; ip -n ${REAL} link set lo up
    ip -n ${REAL} route add default via 10.12.2.1
    sysctl -qw net.ipv4.ip_forward=1`);
  server = spawn('ip', ['netns', 'exec', REAL, process.execPath, '-e',
    `require('http').createServer((q, s) => s.end('hello')).listen(8080, '10.12.2.2', () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((res, rej) => {
    server!.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('listening')) res(); });
    server!.on('exit', (c) => rej(new Error(`real server exited ${c}`)));
  });
  const dir = mkdtempSync('/tmp/kt-metrics-ipvs-');
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(conf, `
virtual_server 10.12.1.100 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.12.2.2 8080 {
    weight 1
    TCP_CHECK {
      connect_timeout 2
    }
  }
}
`);
  const sock = join(dir, 'status.sock');
  daemon = startDaemon('keepalived-ts', conf, ['--status-listen', sock, '-G']);
  for (let i = 0; i < 120 && !/-> 10\.12\.2\.2:8080/.test(shell('ipvsadm -Ln')); i++) await sleep(500);
  assert.match(shell('ipvsadm -Ln'), /-> 10\.12\.2\.2:8080/, daemon.log());

  const destSample = (body: string, name: string) =>
    parsePrometheusText(body).get(name)?.samples.find((s) => s.labels['destination'] === '10.12.2.2:8080' && s.labels['service'] === 'TCP 10.12.1.100:80')?.value;
  const before = destSample(await scrape(sock), 'keepalived_ts_ipvs_destination_connections_total') ?? 0;
  for (let i = 0; i < 5; i++) assert.equal(httpGetIn(CLIENT, 'http://10.12.1.100/'), 'hello');

  // The kernel folds per-CPU counters in from its estimator (every 2 s); the status snapshot is cached 1 s.
  let ours: number[] = [];
  let theirs: number[] | undefined;
  for (let i = 0; i < 60; i++) {
    await sleep(1000);
    const body = await scrape(sock);
    ours = ['connections_total', 'packets_in_total', 'packets_out_total', 'bytes_in_total', 'bytes_out_total']
      .map((n) => destSample(body, `keepalived_ts_ipvs_destination_${n}`) ?? -1);
    theirs = ipvsadmDest('10.12.2.2:8080');
    if (ours[0]! >= before + 5 && JSON.stringify(ours) === JSON.stringify(theirs)) break;
  }
  assert.ok(ours[0]! >= before + 5, `connections rose by the 5 requests: ${before} → ${ours[0]}`);
  assert.ok(ours[1]! > 0 && ours[3]! > 0 && ours[4]! > 0, `packets and bytes counted: ${ours}`);
  assert.deepEqual(ours, theirs, 'the same counters as ipvsadm -Ln --stats --exact');
  const body = await scrape(sock);
  assert.ok((parsePrometheusText(body).get('keepalived_ts_ipvs_service_connections_total')?.samples[0]?.value ?? 0) >= 5, body);
});
