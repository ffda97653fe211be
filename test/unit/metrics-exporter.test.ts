// /metrics beside mehdy/keepalived-exporter: the exporter-compatible families have its names, types, label sets
// and value encodings (test/fixtures/keepalived-exporter/metrics.json, taken from its collector.go at the commit
// named there); our own families carry build info and the last transition time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatMetrics } from '../../src/daemon/metrics.js';
import type { StatusDocument } from '../../src/daemon/status.js';
import { instanceStatusJson, ipvsTrafficJson } from '../../src/daemon/ipc.js';
import { instanceSpec } from '../../src/vrrp/spec.js';
import type { InstanceStatus } from '../../src/vrrp/node.js';
import { instancePlan, modelVip } from '../helpers/vrrp-plan.js';
import { parsePrometheusText } from '../helpers/prom-parse.js';

interface ExporterMetric { name: string; type: string; labels: string[] }
const exporter = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/keepalived-exporter/metrics.json', import.meta.url)), 'utf8')) as {
  metrics: ExporterMetric[]; encodings: Record<string, Record<string, number>>;
};

function instance(name: string, state: InstanceStatus['state'], vips: Array<[string, number, string]>, excluded: Array<[string, number, string]> = []): InstanceStatus {
  const spec = instanceSpec({ name, vrid: 51, primaryAddress: '10.9.0.1', priority: 150, vips: vips.map((v) => v[0]) });
  const plan = instancePlan(spec, {
    dev: 'veth0',
    config: {
      virtualIpaddresses: vips.map(([a, prefix, dev]) => modelVip(a, { prefix, dev })),
      virtualIpaddressesExcluded: excluded.map(([a, prefix, dev]) => modelVip(a, { prefix, dev })),
    },
  });
  return {
    uid: 1, plan, state, wantState: state, effectivePriority: 150, lastTransitionMs: 1795292808014, src: '10.9.0.1', vipset: state === 'MASTER',
    faults: [], trackers: [],
    stats: {
      advertsSent: 7, advertsReceived: 4, dropped: { ttl: 2, length: 1, malformed: 1, auth: 3, 'interval-v2': 5 }, garpsSent: 5,
      becameMaster: 1, releasedMaster: 0, transitions: 2, priZeroReceived: 1, priZeroSent: 2, addrListErr: 6,
    },
  };
}

function doc(vrrp: InstanceStatus[]): StatusDocument {
  return {
    version: '1.2.3', node: 'v20.9.0', pid: 1, startedAt: new Date(0).toISOString(),
    children: [{ kind: 'vrrp', pid: 2, restarts: 0 }, { kind: 'checker', pid: 3, restarts: 0 }], reloads: { ok: 0, refused: 0 },
    vrrp: vrrp.map(instanceStatusJson),
    scripts: [
      { kind: 'track', name: 'chk_good', runs: 4, failures: 0, good: true, executing: false },
      { kind: 'track', name: 'chk_bad', runs: 4, failures: 4, good: false, executing: true },
      { kind: 'notify', name: 'VI_1', runs: 1, failures: 0 },
    ],
    checkers: [], keepalivedJson: [],
  };
}

const sample = doc([
  instance('VI_1', 'MASTER', [['10.9.0.100', 24, 'veth0'], ['10.9.0.101', 32, 'veth1']], [['10.10.0.1', 32, 'veth0']]),
  instance('VI_2', 'BACKUP', []),
]);

test('exporter-compatible families: the exporter\'s names, types and label sets, nothing else under keepalived_', () => {
  const fams = parsePrometheusText(formatMetrics(sample));
  const ours = [...fams.values()].filter((f) => f.name.startsWith('keepalived_') && !f.name.startsWith('keepalived_ts_'));
  assert.deepEqual(ours.map((f) => f.name).sort(), exporter.metrics.map((m) => m.name).sort());
  for (const m of exporter.metrics) {
    const f = fams.get(m.name)!;
    assert.equal(f.type, m.type, m.name);
    assert.ok(f.samples.length > 0, `${m.name} has samples`);
    for (const s of f.samples) assert.deepEqual(Object.keys(s.labels).sort(), [...m.labels].sort(), m.name);
  }
});

test('keepalived_vrrp_state: keepalived\'s state number per VIP, the VIP\'s device as intf, the address as keepalived prints it', () => {
  const fams = parsePrometheusText(formatMetrics(sample));
  const enc = exporter.encodings['keepalived_vrrp_state']!;
  const state = fams.get('keepalived_vrrp_state')!.samples;
  assert.deepEqual(state.map((s) => [s.labels, s.value]), [
    [{ iname: 'VI_1', intf: 'veth0', vrid: '51', ip_address: '10.9.0.100/24' }, enc['MASTER']],
    [{ iname: 'VI_1', intf: 'veth1', vrid: '51', ip_address: '10.9.0.101' }, enc['MASTER']],
    // No VIP: one series with an empty address, as the exporter writes for such an instance.
    [{ iname: 'VI_2', intf: 'veth0', vrid: '51', ip_address: '' }, enc['BACKUP']],
  ]);
  assert.deepEqual(fams.get('keepalived_vrrp_excluded_state')!.samples.map((s) => [s.labels, s.value]), [
    [{ iname: 'VI_1', intf: 'veth0', vrid: '51', ip_address: '10.10.0.1' }, enc['MASTER']],
  ]);
  assert.equal(fams.get('keepalived_up')!.samples[0]!.value, 1);
});

test('exporter counters are keepalived\'s stats counters (the JSON dump\'s stats) per instance', () => {
  const fams = parsePrometheusText(formatMetrics(sample));
  const v = (name: string) => fams.get(name)!.samples.find((s) => s.labels['iname'] === 'VI_1')!.value;
  assert.equal(v('keepalived_advertisements_sent_total'), 7);
  assert.equal(v('keepalived_advertisements_received_total'), 4);
  assert.equal(v('keepalived_ip_ttl_errors_total'), 2);
  assert.equal(v('keepalived_packet_length_errors_total'), 2);
  assert.equal(v('keepalived_authentication_failure_total'), 3);
  assert.equal(v('keepalived_advertisements_interval_errors_total'), 5);
  assert.equal(v('keepalived_address_list_errors_total'), 6);
  assert.equal(v('keepalived_priority_zero_received_total'), 1);
  assert.equal(v('keepalived_priority_zero_sent_total'), 2);
  assert.equal(v('keepalived_become_master_total'), 1);
  assert.equal(fams.get('keepalived_advertisements_sent_total')!.samples[0]!.labels['intf'], 'veth0');
  const st = exporter.encodings['keepalived_script_status']!;
  const sst = exporter.encodings['keepalived_script_state']!;
  const script = (f: string, n: string) => fams.get(f)!.samples.find((s) => s.labels['name'] === n)!.value;
  assert.equal(script('keepalived_script_status', 'chk_good'), st['GOOD']);
  assert.equal(script('keepalived_script_status', 'chk_bad'), st['BAD']);
  assert.equal(script('keepalived_script_state', 'chk_good'), sst['idle']);
  assert.equal(script('keepalived_script_state', 'chk_bad'), sst['running']);
  // notify scripts are not vrrp_scripts: keepalived.data lists no status for them.
  assert.equal(fams.get('keepalived_script_status')!.samples.length, 2);
});

test('keepalived_up is 0 while a child is not running', () => {
  const d = { ...sample, children: [{ kind: 'vrrp', pid: 2, restarts: 1 }, { kind: 'checker', restarts: 3 }] };
  assert.equal(parsePrometheusText(formatMetrics(d)).get('keepalived_up')!.samples[0]!.value, 0);
});

test('keepalived_ts_build_info and the last transition time per instance', () => {
  const fams = parsePrometheusText(formatMetrics(sample));
  assert.deepEqual(fams.get('keepalived_ts_build_info')!.samples, [{ name: 'keepalived_ts_build_info', labels: { version: '1.2.3', node: 'v20.9.0' }, value: 1 }]);
  const t = fams.get('keepalived_ts_vrrp_last_transition_timestamp_seconds')!.samples;
  assert.deepEqual(t.map((s) => [s.labels['instance'], s.value]), [['VI_1', 1795292808.014], ['VI_2', 1795292808.014]]);
});

test('IPVS counters per service and destination from the kernel table (ipvsadm notation as labels)', () => {
  const z = { conns: 0n, inpkts: 0n, outpkts: 0n, inbytes: 0n, outbytes: 0n, cps: 0n, inpps: 0n, outpps: 0n, inbps: 0n, outbps: 0n };
  const ipvs = ipvsTrafficJson([{
    service: { af: 2, protocol: 6, addr: '10.0.0.1', port: 80, scheduler: 'rr', flags: 0, timeout: 0, netmask: 0xffffffff, kernelFlags: 0, stats: { ...z, conns: 5n, inbytes: 9007199254740993n, cps: 2n } },
    dests: [{ af: 2, addr: '10.0.1.1', port: 8080, fwd: 0, weight: 1, uThreshold: 0, lThreshold: 0, activeConns: 3, inactConns: 1, persistConns: 0, stats: { ...z, conns: 5n, outpkts: 40n } }],
  }]);
  const fams = parsePrometheusText(formatMetrics({ ...sample, ipvs }));
  const one = (n: string) => fams.get(n)!.samples;
  assert.deepEqual(one('keepalived_ts_ipvs_service_connections_total'), [{ name: 'keepalived_ts_ipvs_service_connections_total', labels: { service: 'TCP 10.0.0.1:80' }, value: 5 }]);
  assert.equal(one('keepalived_ts_ipvs_service_connections_per_second')[0]!.value, 2);
  assert.ok(one('keepalived_ts_ipvs_service_bytes_in_total')[0]!.value > 9e15);
  assert.deepEqual(one('keepalived_ts_ipvs_destination_packets_out_total')[0]!.labels, { service: 'TCP 10.0.0.1:80', destination: '10.0.1.1:8080' });
  assert.equal(one('keepalived_ts_ipvs_destination_packets_out_total')[0]!.value, 40);
  assert.equal(one('keepalived_ts_ipvs_destination_active_connections')[0]!.value, 3);
  assert.equal(one('keepalived_ts_ipvs_destination_inactive_connections')[0]!.value, 1);
  assert.equal(one('keepalived_ts_ipvs_service_connections_total').length, 1, 'destinations are not counted as services');
});
