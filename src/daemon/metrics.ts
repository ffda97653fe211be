// Prometheus text exposition format 0.0.4 for the status endpoint, pure: a status document in, text out.
// Naming: keepalived_ts_ prefix, subsystem (vrrp_, script_, checker_, ipvs_, process_), base unit, `_total` on
// counters; one family per metric with HELP and TYPE; labels identify the instance the way operators name it
// (instance = vrrp_instance name, plus interface/vrid/family so a rename is visible).
import type { StatusDocument } from './status.js';
import { familyName } from '../net/address.js';
import { GUARD_STATES } from '../vrrp/guard.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Record<string, string | number>;
interface Sample { labels: Labels; value: number }
interface Family { name: string; help: string; type: 'gauge' | 'counter'; samples: Sample[] }

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

export function renderFamilies(families: readonly Family[]): string {
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

/** All metric families for a status document. */
export function metricsFamilies(doc: StatusDocument): Family[] {
  const fam = (name: string, type: Family['type'], help: string): Family => ({ name: `keepalived_ts_${name}`, type, help, samples: [] });
  const up = fam('process_up', 'gauge', 'Whether a keepalived-ts child process is running (1) or not (0).');
  const restarts = fam('process_restarts_total', 'counter', 'Times a child process was respawned after exiting unexpectedly.');
  const reloads = fam('reloads_total', 'counter', 'Configuration reloads by result (ok, refused).');
  for (const c of doc.children) {
    up.samples.push({ labels: { process: c.kind }, value: c.pid ? 1 : 0 });
    restarts.samples.push({ labels: { process: c.kind }, value: c.restarts });
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
  for (const c of doc.checkers) {
    const l = { virtual_server: c.virtualServer, real_server: c.realServer };
    chk.samples.push({ labels: l, value: c.up ? 1 : 0 });
    if (c.weight !== undefined) weight.samples.push({ labels: l, value: c.weight });
  }
  const ctl = fam('ctl_commands_total', 'counter', 'Control interface commands (POST /ctl) by command and result (ok, refused, bad_request, forbidden, error).');
  for (const c of doc.ctl?.commands ?? []) ctl.samples.push({ labels: { command: c.command, result: c.result }, value: c.count });
  return [up, restarts, reloads, ctl, state, prio, eprio, vipset, trans, became, released, sent, rcvd, dropped, p0s, p0r, garps, tracker, guard, runs, fails, chk, weight];
}

export function formatMetrics(doc: StatusDocument): string {
  return renderFamilies(metricsFamilies(doc));
}
