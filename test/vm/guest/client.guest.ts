// Guest-only: the IPVS client against a real kernel (run by test/vm/ipvs.test.ts inside the qemu guest, or on
// any machine whose kernel has IPVS). Compares what our client programs with what ipvsadm programs, through
// `ipvsadm -Sn`, the operator's view of the table.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { IpvsClient, IpvsError } from '../../../src/ipvs/client.js';
import {
  FWD_DROUTE, FWD_MASQ, FWD_TUNNEL, SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3,
  TUN_GRE, TUN_GUE, TUN_IPIP, TUN_FLAG_CSUM, TUN_FLAG_REMCSUM, type DestSpec, type ServiceSpec, type ServiceKey,
} from '../../../src/ipvs/kernel-table.js';
import { AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../../../src/net/constants.js';
import { savedTable } from './daemon-lib.js';
import { ipvsUnavailable } from '../../helpers/ipvs.js';

let client: IpvsClient | undefined;
const unavailable: string | false = await ipvsUnavailable();
const opts = { skip: unavailable };

const ipvsadm = (...args: string[]): string => execFileSync('ipvsadm', args, { encoding: 'utf8' });
const saved = savedTable;

before(async () => {
  if (!unavailable) client = await IpvsClient.open();
});
after(() => client?.close());
beforeEach(() => {
  if (!unavailable) ipvsadm('-C');
});

test('GET_INFO reports the kernel IPVS version and table size ipvsadm shows', opts, async () => {
  const info = await client!.getInfo();
  const header = ipvsadm('-Ln').split('\n')[0];
  assert.equal(header, `IP Virtual Server version ${info.versionString} (size=${info.connTabSize})`);
  assert.equal(info.versionString, '1.2.1');
});

const svc = (k: Partial<ServiceSpec> & ServiceKey): ServiceSpec => ({ scheduler: 'wlc', flags: 0, timeout: 0, netmask: k.af === AF_INET6 ? 128 : 0xffffffff, ...k } as ServiceSpec);
const dest = (d: Partial<DestSpec> & { addr: string; port: number }): DestSpec => ({ af: d.addr.includes(':') ? AF_INET6 : AF_INET, fwd: FWD_MASQ, weight: 1, uThreshold: 0, lThreshold: 0, ...d });

// One table, written twice: as ipvsadm commands and as our specs.
const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'];
const table: { args: string[][]; svc: ServiceSpec; dests: DestSpec[] }[] = [
  ...SCHEDULERS.map((s, i) => ({
    args: [['-A', '-t', `10.1.0.${i + 1}:80`, '-s', s], ['-a', '-t', `10.1.0.${i + 1}:80`, '-r', '192.168.10.1:8080', '-m', '-w', '3']],
    svc: svc({ af: AF_INET, protocol: IPPROTO_TCP, addr: `10.1.0.${i + 1}`, port: 80, scheduler: s }),
    dests: [dest({ addr: '192.168.10.1', port: 8080, weight: 3 })],
  })),
  {
    args: [
      ['-A', '-u', '10.2.0.1:53', '-s', 'wrr', '-p', '300', '-M', '255.255.255.0'],
      ['-a', '-u', '10.2.0.1:53', '-r', '192.168.20.1:53', '-g', '-w', '0'],
      ['-a', '-u', '10.2.0.1:53', '-r', '192.168.20.2:53', '-m', '-w', '7', '-x', '100', '-y', '10'],
      ['-a', '-u', '10.2.0.1:53', '-r', '192.168.20.3:53', '-i', '-w', '2'],
    ],
    svc: svc({ af: AF_INET, protocol: IPPROTO_UDP, addr: '10.2.0.1', port: 53, scheduler: 'wrr', flags: SVC_F_PERSISTENT, timeout: 300, netmask: 0xffffff00 }),
    dests: [
      dest({ addr: '192.168.20.1', port: 53, fwd: FWD_DROUTE, weight: 0 }),
      dest({ addr: '192.168.20.2', port: 53, weight: 7, uThreshold: 100, lThreshold: 10 }),
      dest({ addr: '192.168.20.3', port: 53, fwd: FWD_TUNNEL, weight: 2, tunType: TUN_IPIP }),
    ],
  },
  {
    args: [
      ['-A', '-t', '10.3.0.1:443', '-s', 'sh', '-b', 'sh-fallback,sh-port'],
      ['-a', '-t', '10.3.0.1:443', '-r', '192.168.30.1:443', '-i', '--tun-type', 'gue', '--tun-port', '6080', '--tun-csum'],
      ['-a', '-t', '10.3.0.1:443', '-r', '192.168.30.2:443', '-i', '--tun-type', 'gre', '--tun-csum'],
      ['-a', '-t', '10.3.0.1:443', '-r', '192.168.30.3:443', '-i', '--tun-type', 'gue', '--tun-port', '5555', '--tun-remcsum'],
    ],
    svc: svc({ af: AF_INET, protocol: IPPROTO_TCP, addr: '10.3.0.1', port: 443, scheduler: 'sh', flags: SVC_F_SCHED1 | SVC_F_SCHED2 }),
    dests: [
      dest({ addr: '192.168.30.1', port: 443, fwd: FWD_TUNNEL, tunType: TUN_GUE, tunPort: 6080, tunFlags: TUN_FLAG_CSUM }),
      dest({ addr: '192.168.30.2', port: 443, fwd: FWD_TUNNEL, tunType: TUN_GRE, tunFlags: TUN_FLAG_CSUM }),
      dest({ addr: '192.168.30.3', port: 443, fwd: FWD_TUNNEL, tunType: TUN_GUE, tunPort: 5555, tunFlags: TUN_FLAG_REMCSUM }),
    ],
  },
  {
    args: [['-A', '--sctp-service', '10.4.0.1:3868', '-s', 'rr'], ['-a', '--sctp-service', '10.4.0.1:3868', '-r', '192.168.40.1:3868', '-m']],
    svc: svc({ af: AF_INET, protocol: IPPROTO_SCTP, addr: '10.4.0.1', port: 3868, scheduler: 'rr' }),
    dests: [dest({ addr: '192.168.40.1', port: 3868 })],
  },
  {
    args: [['-A', '-u', '10.4.0.2:514', '-s', 'rr', '-o'], ['-a', '-u', '10.4.0.2:514', '-r', '192.168.40.2:514', '-m']],
    svc: svc({ af: AF_INET, protocol: IPPROTO_UDP, addr: '10.4.0.2', port: 514, scheduler: 'rr', flags: SVC_F_ONEPACKET }),
    dests: [dest({ addr: '192.168.40.2', port: 514 })],
  },
  {
    args: [['-A', '-f', '42', '-s', 'mh', '-b', 'flag-1,flag-2,flag-3', '-p', '360'], ['-a', '-f', '42', '-r', '192.168.50.1:0', '-g', '-w', '5']],
    svc: svc({ af: AF_INET, fwmark: 42, scheduler: 'mh', flags: SVC_F_PERSISTENT | SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3, timeout: 360 }),
    dests: [dest({ addr: '192.168.50.1', port: 0, fwd: FWD_DROUTE, weight: 5 })],
  },
  {
    args: [
      ['-A', '-t', '[2001:db8::1]:80', '-s', 'lc', '-p', '600', '-M', '64', '--pe', 'sip'],
      ['-a', '-t', '[2001:db8::1]:80', '-r', '[2001:db8:1::10]:8080', '-m', '-w', '4'],
      ['-a', '-t', '[2001:db8::1]:80', '-r', '[2001:db8:1::11]:80', '-g'],
    ],
    svc: svc({ af: AF_INET6, protocol: IPPROTO_TCP, addr: '2001:db8::1', port: 80, scheduler: 'lc', flags: SVC_F_PERSISTENT, timeout: 600, netmask: 64, peName: 'sip' }),
    dests: [dest({ addr: '2001:db8:1::10', port: 8080, weight: 4 }), dest({ addr: '2001:db8:1::11', port: 80, fwd: FWD_DROUTE })],
  },
  {
    args: [['-A', '-f', '43', '-6', '-s', 'wlc'], ['-a', '-f', '43', '-6', '-r', '[2001:db8:2::1]:0', '-g']],
    svc: svc({ af: AF_INET6, fwmark: 43, scheduler: 'wlc' }),
    dests: [dest({ addr: '2001:db8:2::1', port: 0, fwd: FWD_DROUTE })],
  },
];

test('a table programmed by our client reads back in `ipvsadm -Sn` exactly as ipvsadm programs it', opts, async () => {
  for (const e of table) for (const a of e.args) ipvsadm(...a);
  const byIpvsadm = saved();
  assert.ok(byIpvsadm.length >= table.length);
  ipvsadm('-C');
  for (const e of table) {
    assert.equal(await client!.addService(e.svc), 'done');
    for (const d of e.dests) assert.equal(await client!.addDest(e.svc, d), 'done');
  }
  assert.deepEqual(saved(), byIpvsadm);
});

test('our dump reads back every setting we programmed', opts, async () => {
  for (const e of table) {
    await client!.addService(e.svc);
    for (const d of e.dests) await client!.addDest(e.svc, d);
  }
  const dumped = await client!.dump();
  assert.equal(dumped.length, table.length);
  for (const e of table) {
    const { service, dests } = dumped.find((x) => x.service.fwmark === e.svc.fwmark && x.service.addr === e.svc.addr && x.service.port === e.svc.port && x.service.af === e.svc.af)!;
    assert.ok(service, `service ${JSON.stringify(e.svc)} missing`);
    const { kernelFlags: _k, stats: _s, ...settings } = service;
    assert.deepEqual(settings, e.svc);
    assert.deepEqual(dests.map(({ activeConns: _a, inactConns: _i, persistConns: _p, stats: _st, ...d }) => d).sort((a, b) => a.addr.localeCompare(b.addr)),
      [...e.dests].sort((a, b) => a.addr.localeCompare(b.addr)));
  }
});

test('edits: scheduler/persistence of a service, weight/thresholds/method of a dest', opts, async () => {
  const s = svc({ af: AF_INET, protocol: IPPROTO_TCP, addr: '10.9.0.1', port: 80, scheduler: 'rr' });
  const d = dest({ addr: '192.168.9.1', port: 80, weight: 1 });
  await client!.addService(s);
  await client!.addDest(s, d);
  await client!.editService({ ...s, scheduler: 'wlc', flags: SVC_F_PERSISTENT, timeout: 100, netmask: 0xffff0000 });
  await client!.editDest(s, { ...d, weight: 9, uThreshold: 50, lThreshold: 5, fwd: FWD_DROUTE });
  // ipvsadm -S leaves thresholds out; -L --thresholds shows them.
  assert.deepEqual(saved(), ['-A -t 10.9.0.1:80 -s wlc -p 100 -M 255.255.0.0', '-a -t 10.9.0.1:80 -r 192.168.9.1:80 -g -w 9']);
  assert.match(ipvsadm('-Ln', '--thresholds'), /-> 192\.168\.9\.1:80\s+50\s+5\s/);
  const [dumped] = await client!.listDests(s);
  assert.deepEqual([dumped.weight, dumped.uThreshold, dumped.lThreshold, dumped.fwd], [9, 50, 5, FWD_DROUTE]);
});

test('services read in one batch: those in the table, undefined for the others, in the order asked', opts, async () => {
  const keys: ServiceKey[] = Array.from({ length: 300 }, (_, i) => ({ af: AF_INET, protocol: IPPROTO_TCP, addr: '10.9.1.1', port: 1000 + i }));
  for (const k of keys.filter((_, i) => i % 3 === 0)) await client!.addService(svc({ ...k, scheduler: 'rr' }));
  const got = await client!.getServices(keys);
  assert.deepEqual(got.map((s) => s && `${s.addr}:${s.port} ${s.scheduler}`), keys.map((k, i) => (i % 3 === 0 ? `10.9.1.1:${k.port} rr` : undefined)));
});

test("keepalived's idempotence: EEXIST on add and ENOENT on delete are success; SET_DEST on a gone dest adds it", opts, async () => {
  const s = svc({ af: AF_INET, protocol: IPPROTO_TCP, addr: '10.9.0.2', port: 80 });
  const d = dest({ addr: '192.168.9.2', port: 80 });
  assert.equal(await client!.addService(s), 'done');
  assert.equal(await client!.addService(s), 'noop');
  assert.equal(await client!.editDest(s, d), 'added-instead');
  assert.equal(await client!.addDest(s, d), 'noop');
  assert.equal(await client!.delDest(s, d), 'done');
  assert.equal(await client!.delDest(s, d), 'noop');
  assert.equal(await client!.delService(s), 'done');
  assert.equal(await client!.delService(s), 'noop');
  assert.deepEqual(saved(), []);
});

test('a missing scheduler (twos is not in Linux 6.1) is a typed error; other refusals carry errno and kernel text', opts, async () => {
  const twos = svc({ af: AF_INET, protocol: IPPROTO_TCP, addr: '10.9.0.3', port: 80, scheduler: 'twos' });
  await assert.rejects(client!.addService(twos), (e: unknown) => e instanceof IpvsError && e.code === 'KT_IPVS_NO_SCHEDULER' && /scheduler/.test(e.message));
  // A destination for a service that does not exist: the kernel says ESRCH.
  await assert.rejects(client!.addDest(svc({ af: AF_INET, protocol: IPPROTO_TCP, addr: '10.9.0.4', port: 80 }), dest({ addr: '192.168.9.4', port: 80 })),
    (e: unknown) => e instanceof IpvsError && e.errnoName === 'ESRCH' && e.code === 'KT_IPVS_REQUEST_FAILED');
  // Editing a service that does not exist.
  await assert.rejects(client!.editService(svc({ af: AF_INET, protocol: IPPROTO_TCP, addr: '10.9.0.5', port: 80 })), (e: unknown) => e instanceof IpvsError && e.errnoName === 'ESRCH');
});

test('connection timeouts: read, set, read back as ipvsadm -L --timeout shows them, restore', opts, async () => {
  const orig = await client!.getTimeouts();
  try {
    await client!.setTimeouts({ tcp: 901, tcpFin: 121, udp: 301 });
    assert.deepEqual(await client!.getTimeouts(), { tcp: 901, tcpFin: 121, udp: 301 });
    assert.match(ipvsadm('-L', '--timeout'), /Timeout \(tcp tcpfin udp\): 901 121 301/);
    await client!.setTimeouts({ udp: 302 });
    assert.deepEqual(await client!.getTimeouts(), { tcp: 901, tcpFin: 121, udp: 302 });
  } finally {
    await client!.setTimeouts(orig);
  }
  assert.deepEqual(await client!.getTimeouts(), orig);
});

test('sync daemon: start master and backup, list them as ipvsadm does, stop them', opts, async () => {
  execFileSync('ip', ['link', 'add', 'ktsync0', 'type', 'dummy']);
  try {
    execFileSync('ip', ['link', 'set', 'ktsync0', 'up']);
    assert.equal(await client!.startDaemon({ state: 1, mcastIfn: 'ktsync0', syncId: 7, mcastPort: 8848, mcastTtl: 1, mcastGroup: '224.0.0.81' }), 'done');
    assert.equal(await client!.startDaemon({ state: 2, mcastIfn: 'ktsync0', syncId: 7 }), 'done');
    const list = await client!.listDaemons();
    assert.deepEqual(list.map((d) => [d.state, d.mcastIfn, d.syncId]).sort(), [[1, 'ktsync0', 7], [2, 'ktsync0', 7]]);
    const shown = ipvsadm('-L', '--daemon');
    assert.match(shown, /master sync daemon \(mcast=ktsync0, syncid=7/);
    assert.match(shown, /backup sync daemon \(mcast=ktsync0, syncid=7/);
    assert.equal(await client!.stopDaemon(1), 'done');
    assert.equal(await client!.stopDaemon(2), 'done');
    assert.deepEqual(await client!.listDaemons(), []);
  } finally {
    execFileSync('ip', ['link', 'del', 'ktsync0']);
  }
});

test('flush removes everything', opts, async () => {
  const s = svc({ af: AF_INET, protocol: IPPROTO_TCP, addr: '10.9.0.6', port: 80 });
  await client!.addService(s);
  await client!.flush();
  assert.deepEqual(await client!.listServices(), []);
});
