import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RESPAWN_INITIAL, childExitVerdict, nextRespawn, releaseThenExit } from '../../src/daemon/children.js';
import { dumpPath, formatData, formatJson, formatStats, formatVip } from '../../src/daemon/dumps.js';
import { escapeLabelValue, formatMetrics } from '../../src/daemon/metrics.js';
import { parseListen, type StatusDocument } from '../../src/daemon/status.js';
import { instanceStatusJson } from '../../src/daemon/ipc.js';
import { childLogFile } from '../../src/daemon/options.js';
import { main } from '../../src/cli.js';
import { instanceSpec } from '../../src/vrrp/spec.js';
import type { VirtualIp } from '../../src/config/model/index.js';
import type { InstanceStatus } from '../../src/vrrp/node.js';
import { instancePlan, modelVip } from '../helpers/vrrp-plan.js';
import { parsePrometheusText } from '../helpers/prom-parse.js';

const fixture = (f: string) => readFileSync(fileURLToPath(new URL(`../fixtures/keepalived-2.2.7-dumps/${f}`, import.meta.url)), 'utf8');

const vip = (address: string, prefix = 24): VirtualIp => modelVip(address, { prefix, dev: 'veth0' });

function snapshot(over: Partial<InstanceStatus> = {}): InstanceStatus {
  const spec = instanceSpec({ name: 'VI_1', vrid: 51, primaryAddress: '10.9.0.1', priority: 150, vips: ['10.9.0.100'] });
  const plan = instancePlan(spec, {
    dev: 'veth0', config: { virtualIpaddresses: [vip('10.9.0.100')] },
    over: { notify: { generic: { argv: ['/usr/bin/true'], shellCommand: '/usr/bin/true', uid: 0, gid: 0 } } },
  });
  return {
    uid: 1, plan, state: 'MASTER', wantState: 'MASTER', effectivePriority: 150, lastTransitionMs: 1795292808014.706, src: '10.9.0.1', vipset: true,
    faults: [], trackers: [],
    stats: { advertsSent: 3, advertsReceived: 0, dropped: { ttl: 2 }, garpsSent: 5, becameMaster: 1, releasedMaster: 0, transitions: 2, priZeroReceived: 0, priZeroSent: 0, addrListErr: 0 },
    ...over,
  };
}

test('respawn: the first death at once, then keepalived\'s back-off 1 s doubling to 60 s; a 60 s run starts over', () => {
  const series = (ran: number[]) => {
    let st = RESPAWN_INITIAL;
    return ran.map((r) => (st = nextRespawn(r, st)).delayMs);
  };
  assert.deepEqual(series([500, 500, 500, 500, 500, 500, 500, 500, 500]), [0, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
  assert.deepEqual(series([500, 500, 61_000, 500, 500]), [0, 1000, 0, 1000, 2000]);
});

test('child exit verdicts: config/fatal exits stop everything, crashes respawn unless -R', () => {
  assert.equal(childExitVerdict(2, null, { stopping: false, noRespawn: false }), 'stop-all');
  assert.equal(childExitVerdict(1, null, { stopping: false, noRespawn: false }), 'stop-all');
  assert.equal(childExitVerdict(null, 'SIGKILL', { stopping: false, noRespawn: false }), 'respawn');
  assert.equal(childExitVerdict(70, null, { stopping: false, noRespawn: false }), 'respawn');
  assert.equal(childExitVerdict(null, 'SIGKILL', { stopping: false, noRespawn: true }), 'stop-all');
  assert.equal(childExitVerdict(0, null, { stopping: true, noRespawn: false }), 'stopped');
});

test('dump paths follow TMPDIR like keepalived; log files get per-process suffixes', () => {
  assert.equal(dumpPath('data', {}), '/tmp/keepalived.data');
  assert.equal(dumpPath('json', { TMPDIR: '/var/tmp/x' }), '/var/tmp/x/keepalived.json');
  assert.equal(childLogFile('/tmp/keepalived.log', 'vrrp'), '/tmp/keepalived_vrrp.log');
  assert.equal(childLogFile('/var/log/ka', 'vrrp'), '/var/log/ka_vrrp');
});

test('JSON dump has keepalived 2.2.7 fields, order and values for the same instance', () => {
  const ours = JSON.parse(formatJson([snapshot()]));
  const theirs = JSON.parse(fixture('keepalived.json'));
  assert.deepEqual(Object.keys(ours[0]), ['data', 'stats']);
  assert.deepEqual(Object.keys(ours[0].stats), Object.keys(theirs[0].stats));
  // Every field keepalived prints for this config, in its order (track_script: the fixture has one, we do not).
  const theirKeys = Object.keys(theirs[0].data).filter((k) => k !== 'track_script');
  assert.deepEqual(Object.keys(ours[0].data), theirKeys);
  for (const k of ['iname', 'ifp_ifname', 'vrid', 'base_priority', 'effective_priority', 'state', 'wantstate', 'version', 'vips', 'last_transition', 'garp_delay', 'adver_int', 'vipset', 'script'])
    assert.deepEqual(ours[0].data[k], theirs[0].data[k], k);
  assert.equal(ours[0].stats.ip_ttl_err, 2);
  assert.equal(ours[0].stats.advert_sent, 3);
});

test('stats dump has keepalived 2.2.7 layout line for line', () => {
  const ours = formatStats([snapshot({ stats: { ...snapshot().stats, dropped: {} } })]);
  assert.equal(ours, fixture('keepalived.stats'));
});

test('data dump has the VRRP Topology lines keepalived prints', () => {
  const ours = formatData([snapshot()], { routerId: 'ref' }).split('\n');
  const theirs = new Set(fixture('keepalived.data').split('\n'));
  for (const l of [' VRRP Instance = VI_1', '   State = MASTER', '   Virtual Router ID = 51', '   Priority = 150', '   Effective priority = 150',
    '   Advert interval = 1 sec', '   Using src_ip = 10.9.0.1', '   Multicast address 224.0.0.18', '     10.9.0.100/24 dev veth0 scope global set',
    '   Notify deleted = Fault', '   Last transition = 1795292808.014706 (Sat, 21 Nov 2026 20:26:48.014706 UTC)']) {
    assert.ok(ours.includes(l), `missing ${JSON.stringify(l)}`);
  }
  for (const l of ours.filter((x) => x.startsWith('   ') && !x.includes('Last transition') && !x.includes('Fault reasons'))) assert.ok(theirs.has(l), `keepalived has no line ${JSON.stringify(l)}`);
  assert.equal(formatVip({ ...vip('10.0.0.1', 32), label: 'veth0:1', noTrack: true }, false), '10.0.0.1 dev veth0 scope global label veth0:1 no_track');
});

function doc(): StatusDocument {
  const s = snapshot({ trackers: [{ name: 'script:chk "x"', ok: true, weight: 0 }] });
  return {
    version: '0', node: 'v20.0.0', pid: 1, startedAt: new Date(0).toISOString(), children: [{ kind: 'vrrp', pid: 2, restarts: 1 }], reloads: { ok: 1, refused: 2 },
    vrrp: [instanceStatusJson(s)], scripts: [{ kind: 'notify', name: 'VI_1', runs: 3, failures: 1 }],
    checkers: [{ virtualServer: '10.0.0.1:80', realServer: '10.0.1.1:80', up: true, weight: 3 }], keepalivedJson: [],
  };
}

test('metrics: strict Prometheus parse, HELP and TYPE for every family, counters end in _total', () => {
  const fams = parsePrometheusText(formatMetrics(doc()));
  for (const f of fams.values()) {
    if (!f.name.startsWith('keepalived_ts_')) continue; // the exporter-compatible names: metrics-exporter.test.ts
    assert.ok(f.help, `${f.name} has HELP`);
    assert.ok(f.type === 'gauge' || f.type === 'counter');
    if (f.type === 'counter') assert.ok(f.name.endsWith('_total'), f.name);
  }
  const state = fams.get('keepalived_ts_vrrp_state')!.samples;
  assert.equal(state.find((x) => x.labels['state'] === 'MASTER')!.value, 1);
  assert.equal(state.filter((x) => x.value === 1).length, 1);
  assert.equal(fams.get('keepalived_ts_vrrp_adverts_dropped_total')!.samples[0]!.labels['reason'], 'ttl');
  assert.equal(fams.get('keepalived_ts_vrrp_tracker_up')!.samples[0]!.labels['tracker'], 'script:chk "x"');
  assert.equal(fams.get('keepalived_ts_ipvs_real_server_weight')!.samples[0]!.value, 3);
  assert.equal(fams.get('keepalived_ts_script_failures_total')!.samples[0]!.value, 1);
  assert.equal(fams.get('keepalived_ts_reloads_total')!.samples.find((x) => x.labels['result'] === 'refused')!.value, 2);
});

test('the strict parser rejects what scrapers reject', () => {
  assert.throws(() => parsePrometheusText('a 1'), /newline/);
  assert.throws(() => parsePrometheusText('a{b="\\x"} 1\n'), /escape/);
  assert.throws(() => parsePrometheusText('a 1\na 2\n'), /duplicate/);
  assert.throws(() => parsePrometheusText('# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n'), /ended|twice/);
  assert.throws(() => parsePrometheusText('a one\n'), /bad value/);
  assert.throws(() => parsePrometheusText('1a 1\n'), /bad sample/);
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
});

test('status listen: loopback and unix sockets only, unless forced', () => {
  assert.deepEqual(parseListen('127.0.0.1:9650'), { kind: 'tcp', host: '127.0.0.1', port: 9650 });
  assert.deepEqual(parseListen('[::1]:9650'), { kind: 'tcp', host: '::1', port: 9650 });
  assert.deepEqual(parseListen('/run/k.sock'), { kind: 'unix', path: '/run/k.sock' });
  assert.throws(() => parseListen('0.0.0.0:9650'), (e: Error & { code?: string }) => e.code === 'KT_DAEMON_STATUS_NOT_LOOPBACK');
  assert.throws(() => parseListen('10.0.0.1:9650'), (e: Error & { code?: string }) => e.code === 'KT_DAEMON_STATUS_NOT_LOOPBACK');
  assert.equal(parseListen('10.0.0.1:9650', true).kind, 'tcp');
  assert.throws(() => parseListen('127.0.0.1'), (e: Error & { code?: string }) => e.code === 'KT_DAEMON_STATUS_BAD_ADDRESS');
  assert.throws(() => parseListen('127.0.0.1:70000'), (e: Error & { code?: string }) => e.code === 'KT_DAEMON_STATUS_BAD_ADDRESS');
  assert.throws(() => parseListen('example.com:80', true), (e: Error & { code?: string }) => e.code === 'KT_DAEMON_STATUS_BAD_ADDRESS');
});

function run(argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = main(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  assert.equal(typeof code, 'number');
  return { code: code as number, out, err };
}

test('CLI: --signum prints signal numbers; unsupported keepalived options are refused with the reason', () => {
  assert.deepEqual(run(['--signum=RELOAD']), { code: 0, out: '1\n', err: '' });
  assert.equal(run(['--signum=DATA']).out, '10\n');
  assert.equal(run(['--signum=STATS']).out, '12\n');
  assert.equal(run(['--signum=STOP']).out, '15\n');
  assert.equal(run(['--signum=JSON']).out, '36\n'); // SIGRTMIN+2, as keepalived --signum=JSON prints
  assert.equal(run(['--signum=STATS_CLEAR']).out, '63\n'); // SIGRTMAX-1
  assert.equal(run(['--signum=TDUMP']).code, 1);
  for (const [flag, re] of [['-s', /namespace/], ['--snmp', /SNMP/], ['-x', /SNMP/], ['--all', /--all/], ['-a', /address-monitoring/]] as const) {
    const r = run([flag]);
    assert.equal(r.code, 1, flag);
    assert.match(r.err, re);
  }
  assert.match(run(['-P', '-C']).err, /exclude/);
  assert.match(run(['-S', 'local9']).err, /local0-local7/);
  assert.match(run(['--frobnicate']).err, /Unknown option/);
  assert.match(run(['-h']).out, /--status-listen/);
});

test('a crashing child releases, then exits once: at the end of the release, on its failure, or at the deadline', async () => {
  const run = (release: (() => Promise<unknown>) | undefined, deadlineMs: number) =>
    new Promise<{ lines: string[]; exits: number }>((resolve) => {
      const lines: string[] = [];
      let exits = 0;
      releaseThenExit(release, deadlineMs, {
        write: (l) => lines.push(l),
        exit: () => {
          exits++;
          // Later calls would show as exits > 1 after a short wait.
          setTimeout(() => resolve({ lines, exits }), Math.min(deadlineMs, 300) + 50);
        },
      });
    });
  // Which path ended it is what the lines say (the deadline writes its own), not a measured time: under load a 20 ms
  // release can take longer than the bound a timing assertion would pick.
  const quick = await run(() => new Promise((r) => setTimeout(r, 20)), 5_000);
  assert.equal(quick.exits, 1);
  assert.doesNotMatch(quick.lines.join('\n'), /did not finish/, 'exits at the end of the release, not at the deadline');
  const hang = await run(() => new Promise(() => undefined), 100);
  assert.equal(hang.exits, 1);
  assert.match(hang.lines.join('\n'), /did not finish within 100 ms/);
  const fail = await run(() => Promise.reject(new Error('netlink gone')), 100);
  assert.equal(fail.exits, 1);
  assert.match(fail.lines.join('\n'), /release failed: netlink gone/);
  const none = await run(undefined, 100);
  assert.deepEqual([none.exits, none.lines], [1, []]);
});
