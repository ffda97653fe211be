// Guest-only: the reconciler against the real kernel, observed through ipvsadm.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { IpvsClient, IpvsError } from '../../../src/ipvs/client.js';
import { buildDesired } from '../../../src/ipvs/desired.js';
import { IpvsApplier } from '../../../src/ipvs/apply.js';
import type { VirtualServerSpec } from '../../../src/ipvs/virtual-server-spec.js';
import { savedTable } from './daemon-lib.js';
import { ipvsUnavailable } from '../../helpers/ipvs.js';

const unavailable: string | false = await ipvsUnavailable();
const opts = { skip: unavailable };
let client: IpvsClient | undefined;
const ipvsadm = (...args: string[]): string => execFileSync('ipvsadm', args, { encoding: 'utf8' });
const saved = savedTable;

before(async () => {
  if (!unavailable) client = await IpvsClient.open();
});
after(() => client?.close());
beforeEach(() => {
  if (!unavailable) ipvsadm('-C');
});

const config: VirtualServerSpec[] = [
  {
    targets: [{ addr: '10.0.0.1', port: 80 }, { range: '10.0.1.1-2', port: 80 }, { fwmark: 3 }],
    protocol: 'TCP',
    scheduler: 'wrr',
    lbKind: 'NAT',
    realServers: [{ addr: '192.168.1.1', port: 8080, weight: 1 }, { addr: '192.168.1.2', port: 8080, weight: 2 }],
  },
  {
    targets: [{ addr: '10.0.0.2', port: 53 }],
    protocol: 'UDP',
    lbKind: 'DR',
    persistenceTimeout: 120,
    persistenceGranularity: '255.255.255.0',
    realServers: [{ addr: '192.168.2.1', port: 5353, weight: 1 }],
  },
  {
    targets: [{ addr: '2001:db8::1', port: 443 }],
    protocol: 'TCP',
    scheduler: 'sh',
    schedulerFlags: ['sh-port'],
    lbKind: 'TUN',
    tunnel: { type: 'gue', port: 6080 },
    realServers: [{ addr: '2001:db8:1::1', weight: 1 }],
  },
];

const EXPECTED = [
  '-A -f 3 -s wrr',
  '-a -f 3 -r 192.168.1.1:8080 -m -w 1',
  '-a -f 3 -r 192.168.1.2:8080 -m -w 2',
  ...['10.0.0.1', '10.0.1.1', '10.0.1.2'].flatMap((a) => [
    `-A -t ${a}:80 -s wrr`,
    `-a -t ${a}:80 -r 192.168.1.1:8080 -m -w 1`,
    `-a -t ${a}:80 -r 192.168.1.2:8080 -m -w 2`,
  ]),
  '-A -u 10.0.0.2:53 -s wlc -p 120 -M 255.255.255.0',
  '-a -u 10.0.0.2:53 -r 192.168.2.1:53 -g -w 1',
  '-A -t [2001:db8::1]:443 -s sh -b sh-port',
  '-a -t [2001:db8::1]:443 -r [2001:db8:1::1]:443 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum',
].sort();

test('reconcile from scratch programs the expanded table; a second run makes zero operations', opts, async () => {
  const sync = new IpvsApplier(client!);
  const desired = buildDesired(config);
  const first = await sync.reconcile(desired);
  assert.deepEqual(first.failed.map((f) => f.error?.message), []);
  assert.equal(first.results.length, 6 + 10); // 6 services, 10 destinations
  assert.deepEqual(saved(), EXPECTED);
  assert.deepEqual(await sync.plan(desired), []);
  const second = await sync.reconcile(desired);
  assert.equal(second.results.length, 0);
  assert.deepEqual(saved(), EXPECTED);
});

test('a changed config makes only the needed edits', opts, async () => {
  const sync = new IpvsApplier(client!);
  await sync.reconcile(buildDesired(config));
  const changed = structuredClone(config);
  changed[0].realServers = [{ addr: '192.168.1.1', port: 8080, weight: 5 }];
  changed[1].scheduler = 'rr';
  const ops = await sync.plan(buildDesired(changed));
  assert.deepEqual(ops.map((o) => o.op).sort(), [...Array(4).fill('del-dest'), ...Array(4).fill('edit-dest'), 'edit-service'].sort());
  const report = await sync.reconcile(buildDesired(changed));
  assert.equal(report.failed.length, 0);
  assert.ok(saved().includes('-a -t 10.0.1.2:80 -r 192.168.1.1:8080 -m -w 5'));
  assert.ok(!saved().some((l) => l.includes('192.168.1.2:8080')));
  assert.ok(saved().includes('-A -u 10.0.0.2:53 -s rr -p 120 -M 255.255.255.0'));
  assert.deepEqual(await sync.plan(buildDesired(changed)), []);
});

test('foreign entries survive reconcile and removeOwned; ours are gone after stop', opts, async () => {
  ipvsadm('-A', '-t', '10.9.9.9:25', '-s', 'rr');
  ipvsadm('-a', '-t', '10.9.9.9:25', '-r', '192.168.9.9:25', '-m');
  ipvsadm('-A', '-t', '10.0.0.1:80', '-s', 'wrr');
  ipvsadm('-a', '-t', '10.0.0.1:80', '-r', '192.168.7.7:8080', '-m');
  const sync = new IpvsApplier(client!);
  const report = await sync.reconcile(buildDesired(config));
  assert.equal(report.failed.length, 0);
  assert.ok(saved().includes('-a -t 10.0.0.1:80 -r 192.168.7.7:8080 -m -w 1'));
  assert.ok(saved().includes('-A -t 10.9.9.9:25 -s rr'));
  const stop = await sync.stop('owned');
  assert.equal(stop.failed.length, 0);
  // 10.0.0.1:80 was adopted (it is in our config), so it goes; the foreign service stays.
  assert.deepEqual(saved(), ['-A -t 10.9.9.9:25 -s rr', '-a -t 10.9.9.9:25 -r 192.168.9.9:25 -m -w 1']);
});

test('per-operation errors: a missing scheduler fails its service, its destinations are skipped, the rest is applied', opts, async () => {
  const sync = new IpvsApplier(client!);
  const bad: VirtualServerSpec = { targets: [{ addr: '10.0.5.5', port: 80 }], protocol: 'TCP', scheduler: 'twos', realServers: [{ addr: '192.168.5.5', port: 80, weight: 1 }] };
  const report = await sync.reconcile(buildDesired([bad, config[1]]));
  assert.deepEqual(report.failed.map((f) => [f.op.op, f.status]).sort(), [['add-dest', 'skipped'], ['add-service', 'failed']]);
  const err = report.failed.find((f) => f.status === 'failed')!.error;
  assert.ok(err instanceof IpvsError && err.code === 'KT_IPVS_NO_SCHEDULER');
  assert.ok(saved().includes('-A -u 10.0.0.2:53 -s wlc -p 120 -M 255.255.255.0'));
  // Not owned, so the next plan retries it.
  assert.equal((await sync.plan(buildDesired([bad, config[1]]))).length, 2);
});

test('lvs_flush at start and lvs_flush_on_stop', opts, async () => {
  ipvsadm('-A', '-t', '10.9.9.9:25', '-s', 'rr');
  const sync = new IpvsApplier(client!);
  await sync.flushAtStart();
  assert.deepEqual(saved(), []);
  await sync.reconcile(buildDesired(config));
  await sync.stop('flush');
  assert.deepEqual(saved(), []);
});

test('lvs_timeouts: unset values keep the kernel values, and stop restores the originals', opts, async () => {
  const sync = new IpvsApplier(client!);
  const orig = await client!.getTimeouts();
  await sync.setTimeouts({ tcp: 7200 });
  assert.deepEqual(await client!.getTimeouts(), { ...orig, tcp: 7200 });
  await sync.setTimeouts({ udp: 30 });
  assert.deepEqual(await client!.getTimeouts(), { ...orig, udp: 30 });
  await sync.stop('keep');
  assert.deepEqual(await client!.getTimeouts(), orig);
});
