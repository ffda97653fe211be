// Prometheus text exposition format 0.0.4 for the status endpoint, pure: a status document in, text out.
// Two sets of names:
// - our own: keepalived_ts_ prefix, subsystem (vrrp_, script_, checker_, ipvs_, process_), base unit, `_total` on
//   counters; labels identify the instance the way operators name it (instance = vrrp_instance name, plus
//   interface/vrid/family so a rename is visible);
// - mehdy/keepalived-exporter's (keepalived_up, keepalived_vrrp_state, keepalived_*_total, keepalived_script_*),
//   with its label names and value encodings (exporterFamilies), so dashboards and alerts written for keepalived
//   behind that exporter work unchanged.
// One family per metric with HELP and TYPE. A new metric is one more family in one of the builders below.
import type { StatusDocument } from './status.js';
import type { IpvsTraffic } from './ipc.js';
import { familyName } from '../net/address.js';
import { GUARD_STATES } from '../vrrp/guard.js';
import { keepalivedStats, type KeepalivedStats } from './dumps.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Record<string, string | number>;
interface Sample { labels: Labels; value: number }
export interface MetricFamily { name: string; help: string; type: 'gauge' | 'counter'; samples: Sample[] }

const family = (name: string, type: MetricFamily['type'], help: string): MetricFamily => ({ name, type, help, samples: [] });

/** Label values escape backslash, double quote and newline (exposition format). */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function renderFamilies(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const l = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabelValue(String(v))}"`);
      out.push(`${f.name}${l.length ? `{${l.join(',')}}` : ''} ${formatValue(s.value)}`);
    }
  }
  return out.join('\n') + '\n';
}

const VRRP_STATES = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP', 'DELETED'] as const;

/** Our own families (keepalived_ts_*) for a status document. */
export function ownFamilies(doc: StatusDocument): MetricFamily[] {
  const fam = (name: string, type: MetricFamily['type'], help: string): MetricFamily => family(`keepalived_ts_${name}`, type, help);
  const build = fam('build_info', 'gauge', 'Always 1; the labels say which keepalived-ts and which Node.js run.');
  build.samples.push({ labels: { version: doc.version, node: doc.node ?? '' }, value: 1 });
  const up = fam('process_up', 'gauge', 'Whether a keepalived-ts child process is running (1) or not (0).');
  const restarts = fam('process_restarts_total', 'counter', 'Times a child process was respawned after exiting unexpectedly.');
  const reloads = fam('reloads_total', 'counter', 'Configuration reloads by result (ok, refused).');
  const demotions = fam('process_rt_demotions_total', 'counter',
    'Times a real-time child (vrrp_/checker_rt_priority) ran past its *_rlimit_rttime soft limit without sleeping and was demoted to normal scheduling until it slept, instead of being killed.');
  for (const c of doc.children) {
    up.samples.push({ labels: { process: c.kind }, value: c.pid ? 1 : 0 });
    restarts.samples.push({ labels: { process: c.kind }, value: c.restarts });
    if (c.rtDemotions !== undefined) demotions.samples.push({ labels: { process: c.kind }, value: c.rtDemotions });
  }
  reloads.samples.push({ labels: { result: 'ok' }, value: doc.reloads.ok }, { labels: { result: 'refused' }, value: doc.reloads.refused });

  const state = fam('vrrp_state', 'gauge', 'VRRP instance state: 1 for the current state, 0 for the others.');
  const prio = fam('vrrp_priority', 'gauge', 'Configured VRRP priority.');
  const eprio = fam('vrrp_effective_priority', 'gauge', 'Effective VRRP priority after trackers.');
  const vipset = fam('vrrp_vips_set', 'gauge', 'Whether the instance currently holds its virtual addresses.');
  const trans = fam('vrrp_transitions_total', 'counter', 'VRRP state transitions.');
  const became = fam('vrrp_became_master_total', 'counter', 'Transitions into MASTER.');
  const released = fam('vrrp_released_master_total', 'counter', 'Transitions out of MASTER.');
  const sent = fam('vrrp_adverts_sent_total', 'counter', 'VRRP adverts sent.');
  const rcvd = fam('vrrp_adverts_received_total', 'counter', 'Valid VRRP adverts received.');
  const dropped = fam('vrrp_adverts_dropped_total', 'counter', 'Received VRRP adverts dropped, by reason.');
  const p0s = fam('vrrp_priority_zero_sent_total', 'counter', 'Priority 0 adverts sent (leaving MASTER on stop/delete).');
  const p0r = fam('vrrp_priority_zero_received_total', 'counter', 'Priority 0 adverts received.');
  const garps = fam('vrrp_gratuitous_arps_sent_total', 'counter', 'Gratuitous ARPs and unsolicited neighbour advertisements sent.');
  const tracker = fam('vrrp_tracker_up', 'gauge', 'Tracked interface/script result: 1 ok, 0 failed (absent while unknown).');
  const guard = fam('vrrp_guard_state', 'gauge', 'Split-brain guard of a guarded instance: 1 for the current state (held, waiting, idle, unreachable, unlocked-master), 0 for the others.');
  const lastTrans = fam('vrrp_last_transition_timestamp_seconds', 'gauge', 'Unix time of the instance\'s last state transition (absent before the first).');
  for (const i of doc.vrrp) {
    const id: Labels = { instance: i.name, interface: i.interface, vrid: i.vrid, family: familyName(i.family) };
    for (const s of VRRP_STATES) state.samples.push({ labels: { ...id, state: s }, value: i.state === s ? 1 : 0 });
    prio.samples.push({ labels: id, value: i.priority });
    eprio.samples.push({ labels: id, value: i.effectivePriority });
    vipset.samples.push({ labels: id, value: i.vipset ? 1 : 0 });
    trans.samples.push({ labels: id, value: i.stats.transitions });
    became.samples.push({ labels: id, value: i.stats.becameMaster });
    released.samples.push({ labels: id, value: i.stats.releasedMaster });
    sent.samples.push({ labels: id, value: i.stats.advertsSent });
    rcvd.samples.push({ labels: id, value: i.stats.advertsReceived });
    for (const [reason, n] of Object.entries(i.stats.dropped)) dropped.samples.push({ labels: { ...id, reason }, value: n ?? 0 });
    p0s.samples.push({ labels: id, value: i.stats.priZeroSent });
    p0r.samples.push({ labels: id, value: i.stats.priZeroReceived });
    garps.samples.push({ labels: id, value: i.stats.garpsSent });
    if (i.lastTransition !== undefined) lastTrans.samples.push({ labels: id, value: Date.parse(i.lastTransition) / 1000 });
    for (const t of i.trackers) if (t.ok !== undefined) tracker.samples.push({ labels: { instance: i.name, tracker: t.name }, value: t.ok ? 1 : 0 });
    if (i.guard) for (const g of GUARD_STATES) guard.samples.push({ labels: { ...id, guard: i.guard.name, state: g }, value: i.guard.state === g ? 1 : 0 });
  }

  const runs = fam('script_runs_total', 'counter', 'Script runs by kind (track = vrrp_script, notify = notify scripts of an instance or group).');
  const fails = fam('script_failures_total', 'counter', 'Script runs that failed (non-zero exit, signal, timeout, could not run).');
  for (const s of doc.scripts) {
    runs.samples.push({ labels: { kind: s.kind, name: s.name }, value: s.runs });
    fails.samples.push({ labels: { kind: s.kind, name: s.name }, value: s.failures });
  }

  const chk = fam('checker_up', 'gauge', 'Real server health as the checkers see it: 1 up, 0 down.');
  const weight = fam('ipvs_real_server_weight', 'gauge', 'Weight programmed into IPVS for a real server (0 = quiesced).');
  const droppedReplies = fam('checker_replies_dropped_total', 'counter',
    'Replies the checkers of a real server read and dropped as not their answer, by reason (DNS_CHECK: short, id, not-a-response; PING_CHECK: other-sequence).');
  for (const c of doc.checkers) {
    const l = { virtual_server: c.virtualServer, real_server: c.realServer };
    chk.samples.push({ labels: l, value: c.up ? 1 : 0 });
    if (c.weight !== undefined) weight.samples.push({ labels: l, value: c.weight });
    for (const [reason, n] of Object.entries(c.droppedReplies ?? {})) droppedReplies.samples.push({ labels: { ...l, reason }, value: n });
  }
  const ctl = fam('ctl_commands_total', 'counter', 'Control interface commands (POST /ctl) by command and result (ok, refused, bad_request, forbidden, error).');
  for (const c of doc.ctl?.commands ?? []) ctl.samples.push({ labels: { command: c.command, result: c.result }, value: c.count });
  const maint = fam('maintenance', 'gauge', 'Whether the director is in maintenance (ctl maintenance on: every VRRP instance held BACKUP).');
  maint.samples.push({ labels: {}, value: doc.maintenance ? 1 : 0 });
  return [build, up, restarts, demotions, reloads, ctl, maint, state, prio, eprio, vipset, trans, became, released, sent, rcvd, dropped, p0s, p0r, garps, lastTrans, tracker, guard, runs, fails, chk, weight, droppedReplies];
}

/** The kernel's IPVS counters (IPVS_*_ATTR_STATS64, as `ipvsadm -Ln --stats --exact` / `--rate`) per service and destination. */
export function ipvsFamilies(doc: StatusDocument): MetricFamily[] {
  const fams: MetricFamily[] = [];
  for (const level of ['service', 'destination'] as const) {
    const f = (name: string, type: MetricFamily['type'], help: string, value: (t: IpvsTraffic) => number | undefined) => {
      const fam = family(`keepalived_ts_ipvs_${level}_${name}`, type, `${help} (kernel IPVS counters of each ${level}).`);
      for (const t of doc.ipvs ?? []) {
        if ((level === 'destination') !== (t.destination !== undefined)) continue;
        const v = value(t);
        if (v !== undefined) fam.samples.push({ labels: t.destination === undefined ? { service: t.service } : { service: t.service, destination: t.destination }, value: v });
      }
      fams.push(fam);
    };
    f('connections_total', 'counter', 'Connections scheduled', (t) => t.conns);
    f('packets_in_total', 'counter', 'Packets in', (t) => t.inpkts);
    f('packets_out_total', 'counter', 'Packets out', (t) => t.outpkts);
    f('bytes_in_total', 'counter', 'Bytes in', (t) => t.inbytes);
    f('bytes_out_total', 'counter', 'Bytes out', (t) => t.outbytes);
    f('connections_per_second', 'gauge', 'Connection rate estimate', (t) => t.cps);
    f('packets_in_per_second', 'gauge', 'Incoming packet rate estimate', (t) => t.inpps);
    f('packets_out_per_second', 'gauge', 'Outgoing packet rate estimate', (t) => t.outpps);
    f('bytes_in_per_second', 'gauge', 'Incoming byte rate estimate', (t) => t.inbps);
    f('bytes_out_per_second', 'gauge', 'Outgoing byte rate estimate', (t) => t.outbps);
    if (level === 'destination') {
      f('active_connections', 'gauge', 'Active connections now (ActiveConn)', (t) => t.activeConns);
      f('inactive_connections', 'gauge', 'Inactive connections now (InActConn)', (t) => t.inactConns);
    }
  }
  return fams;
}

/** keepalived's stats counters (vrrp_t.stats, keepalived.json's "stats") with the exporter's names and HELP texts. */
const EXPORTER_COUNTERS: ReadonlyArray<[name: string, help: string, value: (s: KeepalivedStats) => number]> = [
  ['keepalived_advertisements_received_total', 'Advertisements received', (s) => s.advert_rcvd],
  ['keepalived_advertisements_sent_total', 'Advertisements sent', (s) => s.advert_sent],
  ['keepalived_become_master_total', 'Became master', (s) => s.become_master],
  ['keepalived_release_master_total', 'Released master', (s) => s.release_master],
  ['keepalived_packet_length_errors_total', 'Packet length errors', (s) => s.packet_len_err],
  ['keepalived_advertisements_interval_errors_total', 'Advertisement interval errors', (s) => s.advert_interval_err],
  ['keepalived_ip_ttl_errors_total', 'TTL errors', (s) => s.ip_ttl_err],
  ['keepalived_invalid_type_received_total', 'Invalid type errors', (s) => s.invalid_type_rcvd],
  ['keepalived_address_list_errors_total', 'Address list errors', (s) => s.addr_list_err],
  ['keepalived_authentication_invalid_total', 'Authentication invalid', (s) => s.invalid_authtype],
  ['keepalived_authentication_mismatch_total', 'Authentication mismatch', (s) => s.authtype_mismatch],
  ['keepalived_authentication_failure_total', 'Authentication failure', (s) => s.auth_failure],
  ['keepalived_priority_zero_received_total', 'Priority zero received', (s) => s.pri_zero_rcvd],
  ['keepalived_priority_zero_sent_total', 'Priority zero sent', (s) => s.pri_zero_sent],
];

/**
 * mehdy/keepalived-exporter's families (internal/collector/collector.go), values as it derives them from
 * keepalived's dumps: vrrp_state is keepalived's state number (INIT 0, BACKUP 1, MASTER 2, FAULT 3), one series
 * per VIP with the VIP's device as intf and the address as keepalived prints it (no series for excluded VIPs in
 * vrrp_state: they go to vrrp_excluded_state; an instance without VIPs gets one series with ip_address ""), the
 * counters are keepalived's stats with labels iname/intf/vrid, gratuitous_arp_delay_total is garp_master_delay in
 * seconds (a setting the exporter exposes as a counter), script_status is GOOD 1 / BAD 0 and script_state idle 0 /
 * running 1. keepalived_exporter_check_script_status (its --cs option) and its own build info are the exporter's,
 * not keepalived's: left out.
 */
export function exporterFamilies(doc: StatusDocument): MetricFamily[] {
  const up = family('keepalived_up', 'gauge', 'Status');
  const state = family('keepalived_vrrp_state', 'gauge', 'State of vrrp');
  const excluded = family('keepalived_vrrp_excluded_state', 'gauge', 'State of vrrp with excluded VIP');
  const garpDelay = family('keepalived_gratuitous_arp_delay_total', 'counter', 'Gratuitous ARP delay');
  const counters = EXPORTER_COUNTERS.map(([name, help, value]) => ({ f: family(name, 'counter', help), value }));
  const scriptStatus = family('keepalived_script_status', 'gauge', 'Tracker Script Status');
  const scriptState = family('keepalived_script_state', 'gauge', 'Tracker Script State');
  // The exporter says 1 when it could read keepalived's state; here: every child the configuration runs is running.
  up.samples.push({ labels: {}, value: doc.children.every((c) => c.pid) ? 1 : 0 });
  for (const i of doc.vrrp) {
    const common: Labels = { iname: i.name, intf: i.interface, vrid: String(i.vrid) };
    const stats = keepalivedStats(i);
    for (const c of counters) c.f.samples.push({ labels: common, value: c.value(stats) });
    garpDelay.samples.push({ labels: common, value: i.garpDelaySec });
    for (const a of i.addresses) {
      const f = a.excluded ? excluded : state;
      // Two VIPs with the same text on one instance would be one series: the exporter would fail its scrape there.
      if (f.samples.some((x) => x.labels['iname'] === i.name && x.labels['intf'] === a.dev && x.labels['ip_address'] === a.address)) continue;
      f.samples.push({ labels: { iname: i.name, intf: a.dev, vrid: String(i.vrid), ip_address: a.address }, value: i.stateNumber });
    }
    if (!i.addresses.some((a) => !a.excluded)) state.samples.push({ labels: { ...common, ip_address: '' }, value: i.stateNumber });
  }
  for (const s of doc.scripts) {
    if (s.kind !== 'track' || s.good === undefined) continue;
    scriptStatus.samples.push({ labels: { name: s.name }, value: s.good ? 1 : 0 });
    scriptState.samples.push({ labels: { name: s.name }, value: s.executing ? 1 : 0 });
  }
  return [up, state, excluded, garpDelay, ...counters.map((c) => c.f), scriptStatus, scriptState];
}

/** All metric families for a status document: ours, then the exporter-compatible ones. */
export function metricsFamilies(doc: StatusDocument): MetricFamily[] {
  return [...ownFamilies(doc), ...ipvsFamilies(doc), ...exporterFamilies(doc)];
}

export function formatMetrics(doc: StatusDocument): string {
  return renderFamilies(metricsFamilies(doc));
}
