// Guest-only: HTTP requests from a client namespace reach node HTTP real servers in other namespaces through NAT
// and DR virtual services that our reconciler programmed in the director (the guest's root namespace).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { IpvsClient } from '../../../src/ipvs/client.js';
import { buildDesired } from '../../../src/ipvs/desired.js';
import { IpvsApplier } from '../../../src/ipvs/apply.js';
import { shell } from './daemon-lib.js';
import { ipvsUnavailable } from '../../helpers/ipvs.js';

const unavailable: string | false = await ipvsUnavailable();

/** An HTTP GET from inside a namespace, with node itself (no curl dependency). */
const httpGetIn = (ns: string, url: string): string => execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e',
  `require('http').get(${JSON.stringify(url)}, { timeout: 60000 }, (r) => { let b = ''; r.on('data', (d) => b += d); r.on('end', () => process.stdout.write(b)); })
     .on('error', (e) => { console.error(e.message); process.exit(1); })`], { encoding: 'utf8' });
const id = Math.random().toString(36).slice(2, 6);
const CLIENT = `ktc${id}`;
const REAL = `ktr${id}`;
let server: ChildProcess | undefined;

after(() => {
  server?.kill('SIGKILL');
  for (const c of [`ip netns del ${CLIENT}`, `ip netns del ${REAL}`, `ip link del ktd0${id}`, `ip link del ktd1${id}`, 'ipvsadm -C']) {
    try { shell(`${c} 2>/dev/null`); } catch { /* already gone */ }
  }
});

test('NAT: client namespace → VIP → node HTTP real server, counted in the service statistics', { skip: unavailable, timeout: 300_000 }, async () => {
  shell(`ip netns add ${CLIENT}; ip netns add ${REAL}
    ip link add ktd0${id} type veth peer name c0 netns ${CLIENT}
    ip link add ktd1${id} type veth peer name r0 netns ${REAL}
    ip addr add 10.10.1.1/24 dev ktd0${id}; ip link set ktd0${id} up
    ip addr add 10.10.1.100/32 dev lo
    ip addr add 10.10.2.1/24 dev ktd1${id}; ip link set ktd1${id} up
    ip -n ${CLIENT} addr add 10.10.1.2/24 dev c0; ip -n ${CLIENT} link set c0 up; ip -n ${CLIENT} link set lo up
    ip -n ${CLIENT} route add default via 10.10.1.1
    ip -n ${REAL} addr add 10.10.2.2/24 dev r0; ip -n ${REAL} link set r0 up; ip -n ${REAL} link set lo up
    ip -n ${REAL} route add default via 10.10.2.1
    sysctl -qw net.ipv4.ip_forward=1`);
  server = spawn('ip', ['netns', 'exec', REAL, process.execPath, '-e',
    `require('http').createServer((q, s) => s.end('hello from real server ' + q.socket.localAddress)).listen(8080, '10.10.2.2', () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((res, rej) => {
    server!.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('listening')) res(); });
    server!.on('exit', (c) => rej(new Error(`real server exited ${c}`)));
  });

  const client = await IpvsClient.open();
  try {
    const sync = new IpvsApplier(client);
    const report = await sync.reconcile(buildDesired([{
      targets: [{ addr: '10.10.1.100', port: 80 }], protocol: 'TCP', scheduler: 'rr', lbKind: 'NAT',
      realServers: [{ addr: '10.10.2.2', port: 8080, weight: 1 }],
    }]));
    assert.equal(report.failed.length, 0);
    const body = httpGetIn(CLIENT, 'http://10.10.1.100/');
    assert.equal(body, 'hello from real server 10.10.2.2');
    // The kernel folds per-CPU counters into the reported stats from its estimator (every 2 s): poll a while.
    let [entry] = await client.dump();
    for (let i = 0; i < 30 && (entry.service.stats?.conns ?? 0n) < 1n; i++) {
      await new Promise((r) => setTimeout(r, 500));
      [entry] = await client.dump();
    }
    assert.equal(entry.dests[0].addr, '10.10.2.2');
    assert.ok((entry.service.stats?.conns ?? 0n) >= 1n, 'the service counted the connection');
    assert.ok((entry.dests[0].stats?.conns ?? 0n) >= 1n, 'the destination counted the connection');
    assert.match(shell('ipvsadm -Ln --stats'), /-> 10\.10\.2\.2:8080\s+1\s/);
    await sync.stop('owned');
    assert.equal(shell('ipvsadm -Sn'), '');
  } finally {
    client.close();
  }
});

test('DR: the director only rewrites the MAC; the real server (VIP on lo, arp_ignore) answers the client directly', { skip: unavailable, timeout: 300_000 }, async () => {
  const C = `ktdc${id}`;
  const R = `ktdr${id}`;
  const BR = `ktbr${id}`;
  let srv: ChildProcess | undefined;
  try {
    shell(`ip netns add ${C}; ip netns add ${R}
      ip link add ${BR} type bridge; ip link set ${BR} up; ip addr add 10.30.0.1/24 dev ${BR}; ip addr add 10.30.0.100/32 dev ${BR}
      ip link add ktdc0${id} type veth peer name e0 netns ${C}; ip link set ktdc0${id} master ${BR} up
      ip link add ktdr0${id} type veth peer name e0 netns ${R}; ip link set ktdr0${id} master ${BR} up
      ip -n ${C} addr add 10.30.0.2/24 dev e0; ip -n ${C} link set e0 up; ip -n ${C} link set lo up
      ip -n ${R} addr add 10.30.0.3/24 dev e0; ip -n ${R} link set e0 up; ip -n ${R} link set lo up
      ip -n ${R} addr add 10.30.0.100/32 dev lo
      ip netns exec ${R} sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.e0.arp_ignore=1 net.ipv4.conf.e0.arp_announce=2`);
    srv = spawn('ip', ['netns', 'exec', R, process.execPath, '-e',
      `require('http').createServer((q, s) => s.end('direct from ' + q.socket.localAddress)).listen(80, '0.0.0.0', () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res, rej) => {
      srv!.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('listening')) res(); });
      srv!.on('exit', (c) => rej(new Error(`real server exited ${c}`)));
    });
    const client = await IpvsClient.open();
    try {
      const sync = new IpvsApplier(client);
      const report = await sync.reconcile(buildDesired([{
        targets: [{ addr: '10.30.0.100', port: 80 }], protocol: 'TCP', scheduler: 'wlc', lbKind: 'DR',
        realServers: [{ addr: '10.30.0.3', port: 8080, weight: 1 }],
      }]));
      assert.equal(report.failed.length, 0);
      // keepalived's rule: a DR real server takes the service's port whatever the config says.
      assert.equal(shell('ipvsadm -Sn').trim().split('\n').sort().join('\n'), '-A -t 10.30.0.100:80 -s wlc\n-a -t 10.30.0.100:80 -r 10.30.0.3:80 -g -w 1');
      // The reply comes from the real server itself, which holds the VIP: it sees the VIP as its local address.
      assert.equal(httpGetIn(C, 'http://10.30.0.100/'), 'direct from 10.30.0.100');
      await sync.stop('owned');
    } finally {
      client.close();
    }
  } finally {
    srv?.kill('SIGKILL');
    for (const c of [`ip netns del ${C}`, `ip netns del ${R}`, `ip link del ${BR}`]) {
      try { shell(`${c} 2>/dev/null`); } catch { /* gone */ }
    }
  }
});
