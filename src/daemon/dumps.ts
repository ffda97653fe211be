// The files keepalived writes on signals, pure formatters over engine snapshots:
//   SIGUSR1 (DATA)  → keepalived.data   (vrrp_print.c dump_vrrp / dump_data_vrrp: "------< VRRP Topology >------")
//   SIGUSR2 (STATS) → keepalived.stats  (vrrp_print.c vrrp_print_stats, same layout line for line)
//   JSON            → keepalived.json   (vrrp_json.c, keepalived 2.2.7 --enable-json: [{data:{…}, stats:{…}}])
// Layouts were compared with Debian's keepalived 2.2.7 output (test/fixtures/keepalived-2.2.7-dumps/).
import { join } from 'node:path';
import type { InstanceStatus } from '../vrrp/node.js';
import type { VirtualIp } from '../config/model/index.js';
import type { VrrpState } from '../vrrp/spec.js';
import type { ScriptCommand } from '../notify/notify.js';

/** keepalived's state numbers (vrrp.h). */
export const STATE_NUMBER: Record<VrrpState, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, DELETED: 97, STOP: 98 };

export type DumpKind = 'data' | 'stats' | 'json';

/** Where keepalived writes a dump: $TMPDIR (else /tmp) / keepalived.{data,stats,json} (lib/utils.c, global_data.c). */
export function dumpPath(kind: DumpKind, env: NodeJS.ProcessEnv = process.env): string {
  const dir = env['TMPDIR'] || '/tmp';
  return join(dir, `keepalived.${kind}`);
}

const SCOPES: Record<number, string> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };

/** An address as keepalived's ipaddresstos prints it: the prefix only when it is not a host prefix (/32, /128). */
export function keepalivedAddressText(v: Pick<VirtualIp, 'address' | 'prefix' | 'family'>): string {
  return v.prefix === (v.family === 6 ? 128 : 32) ? v.address : `${v.address}/${v.prefix}`;
}

/** An address as keepalived prints it: `10.9.0.100/24 dev veth0 scope global set`. */
export function formatVip(v: VirtualIp, set: boolean): string {
  const parts = [keepalivedAddressText(v)];
  if (v.peer) parts.push(`peer ${v.peer}`);
  if (v.brd) parts.push(`brd ${v.brd}`);
  parts.push(`dev ${v.dev}`, `scope ${SCOPES[v.scope] ?? v.scope}`);
  if (v.label) parts.push(`label ${v.label}`);
  if (v.noDad) parts.push('nodad');
  if (v.noprefixroute) parts.push('noprefixroute');
  if (v.home) parts.push('home');
  if (v.noTrack) parts.push('no_track');
  if (set) parts.push('set');
  return parts.join(' ');
}

const commandText = (c: ScriptCommand) => c.shellCommand ?? c.argv.join(' ');
const quoted = (s: string | undefined) => (s === undefined ? undefined : `'${s}'`);
const sec = (ms: number) => ms / 1000;

/** keepalived's per-instance counters (vrrp_t.stats) under the names its JSON dump gives them. */
export interface KeepalivedStats {
  advert_rcvd: number; advert_sent: number; become_master: number; release_master: number; packet_len_err: number;
  advert_interval_err: number; ip_ttl_err: number; invalid_type_rcvd: number; addr_list_err: number; invalid_authtype: number;
  authtype_mismatch: number; auth_failure: number; pri_zero_rcvd: number; pri_zero_sent: number;
}

/** Our counters folded into keepalived's: which drop reasons keepalived counts under which of its counters. */
export function keepalivedStats(i: Pick<InstanceStatus, 'stats'>): KeepalivedStats {
  const d = i.stats.dropped;
  return {
    advert_rcvd: i.stats.advertsReceived,
    advert_sent: i.stats.advertsSent,
    become_master: i.stats.becameMaster,
    release_master: i.stats.releasedMaster,
    packet_len_err: (d.length ?? 0) + (d['ip-length'] ?? 0) + (d.malformed ?? 0),
    advert_interval_err: d['interval-v2'] ?? 0,
    ip_ttl_err: d.ttl ?? 0,
    invalid_type_rcvd: d.type ?? 0,
    addr_list_err: i.stats.addrListErr,
    invalid_authtype: d['auth-type-invalid'] ?? 0,
    authtype_mismatch: d['auth-type-mismatch'] ?? 0,
    auth_failure: d.auth ?? 0,
    pri_zero_rcvd: i.stats.priZeroReceived,
    pri_zero_sent: i.stats.priZeroSent,
  };
}

/** keepalived 2.2.7's JSON state (vrrp_json.c): fields in its order, units as it prints them. */
export function formatJson(instances: readonly InstanceStatus[]): string {
  const out = instances.map((i) => {
    const p = i.plan;
    const sp = p.spec;
    const n = p.notify;
    const data: Record<string, unknown> = {
      iname: p.config.name,
      dont_track_primary: 0,
      skip_check_adv_addr: p.spec.skipCheckAdvAddr ? 1 : 0,
      strict_mode: 0,
      vmac_ifname: '',
      ifp_ifname: p.interface,
      master_priority: i.state === 'BACKUP' ? (i.masterPriority ?? 0) : 0,
      // %f: microsecond resolution, as keepalived prints it.
      last_transition: Math.round((i.lastTransitionMs ?? 0) * 1000) / 1e6,
      garp_delay: sec(sp.garp.masterDelayMs),
      garp_refresh: Math.floor(sec(sp.garp.masterRefreshMs)),
      garp_rep: sp.garp.masterRepeat,
      garp_refresh_rep: sp.garp.masterRefreshRepeat,
      garp_lower_prio_delay: Math.floor(sec(sp.garp.lowerPrioDelayMs)),
      garp_lower_prio_rep: sp.garp.lowerPrioRepeat,
      lower_prio_no_advert: sp.lowerPrioNoAdvert ? 1 : 0,
      higher_prio_send_advert: sp.higherPrioSendAdvert ? 1 : 0,
      vrid: sp.vrid,
      base_priority: sp.priority,
      effective_priority: i.effectivePriority,
      vipset: i.vipset,
      promote_secondaries: false,
      adver_int: sec(sp.advertIntMs),
      master_adver_int: sec(sp.advertIntMs),
      accept: 1,
      nopreempt: !sp.preempt,
      preempt_delay: Math.floor(sec(sp.preemptDelayMs)),
      state: STATE_NUMBER[i.state],
      wantstate: STATE_NUMBER[i.wantState],
      version: sp.version,
      smtp_alert: false,
      notify_deleted: Boolean(n.notifyDeleted),
    };
    // Scripts appear only when configured, as keepalived's vrrp_json_script_dump does.
    const scripts: Array<[string, ScriptCommand | undefined]> = [
      ['script_backup', n.backup], ['script_master', n.master], ['script_fault', n.fault], ['script_stop', n.stop],
      ['script_deleted', n.deleted], ['script', n.generic], ['script_master_rx_lower_pri', n.masterRxLowerPri],
    ];
    for (const [k, v] of scripts) if (v) data[k] = quoted(commandText(v));
    const vips = p.config.virtualIpaddresses.map((v) => formatVip(v, i.vipset));
    const evips = p.config.virtualIpaddressesExcluded.map((v) => formatVip(v, i.vipset));
    if (vips.length) data['vips'] = vips;
    if (evips.length) data['evips'] = evips;
    const trackIfp = p.trackers.filter((t) => t.interface).map((t) => t.interface!);
    if (trackIfp.length) data['track_ifp'] = trackIfp;
    const trackScript = p.trackers.filter((t) => t.script).map((t) => quoted(t.script!.script.raw));
    if (trackScript.length) data['track_script'] = trackScript;
    data['auth_type'] = p.spec.authType;
    const stats = keepalivedStats(i);
    return { data, stats };
  });
  return JSON.stringify(out);
}

/** keepalived.stats, vrrp_print_stats's layout. */
export function formatStats(instances: readonly InstanceStatus[]): string {
  const lines: string[] = [];
  for (const i of instances) {
    const j = JSON.parse(formatJson([i]))[0].stats as Record<string, number>;
    lines.push(
      `VRRP Instance: ${i.plan.config.name}`,
      '  Advertisements:',
      `    Received: ${j['advert_rcvd']}`,
      `    Sent: ${j['advert_sent']}`,
      `  Became master: ${j['become_master']}`,
      `  Released master: ${j['release_master']}`,
      '  Packet Errors:',
      `    Length: ${j['packet_len_err']}`,
      `    TTL: ${j['ip_ttl_err']}`,
      `    Invalid Type: ${j['invalid_type_rcvd']}`,
      `    Advertisement Interval: ${j['advert_interval_err']}`,
      `    Address List: ${j['addr_list_err']}`,
      '  Authentication Errors:',
      `    Invalid Type: ${j['invalid_authtype']}`,
      `    Type Mismatch: ${j['authtype_mismatch']}`,
      `    Failure: ${j['auth_failure']}`,
      '  Priority Zero:',
      `    Received: ${j['pri_zero_rcvd']}`,
      `    Sent: ${j['pri_zero_sent']}`,
    );
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

function wallTime(ms: number): string {
  const d = new Date(ms);
  const usec = String(Math.round((ms % 1000) * 1000)).padStart(6, '0');
  return `${(ms / 1000).toFixed(6)} (${d.toUTCString().replace(/ GMT$/, '')}.${usec} UTC)`;
}

/** keepalived.data's "VRRP Topology" section (vrrp_print.c dump_vrrp), the lines that apply to keepalived-ts. */
export function formatData(instances: readonly InstanceStatus[], header: { routerId?: string } = {}): string {
  const L: string[] = ['------< Global definitions >------'];
  if (header.routerId !== undefined) L.push(` Router ID = ${header.routerId}`);
  L.push('------< VRRP Topology >------');
  for (const i of instances) {
    const p = i.plan;
    const sp = p.spec;
    L.push(` VRRP Instance = ${p.config.name}`, `   VRRP Version = ${sp.version}`, `   State = ${i.state}`, `   Wantstate = ${i.wantState}`);
    const ownFaults = i.faults.length;
    // keepalived counts each configuration fault; we keep the first (config configFault), so 0 or 1.
    L.push(`   Number of config faults = ${p.config.configFault === undefined ? 0 : 1}`);
    L.push(`   Number of interface and track script faults = ${ownFaults}`);
    if (ownFaults) L.push(`   Fault reasons = ${i.faults.join(', ')}`);
    if (i.lastTransitionMs !== undefined) L.push(`   Last transition = ${wallTime(i.lastTransitionMs)}`);
    L.push(`   Interface = ${p.interface}`);
    if (i.src) L.push(`   Using src_ip = ${i.src}`);
    if (p.config.unicast) {
      L.push('   Unicast Peer :');
      for (const peer of p.spec.unicastPeers) L.push(`     ${peer.address}`);
    } else L.push(`   Multicast address ${p.spec.mcastGroup}`);
    L.push(
      `   Gratuitous ARP delay = ${Math.floor(sec(sp.garp.masterDelayMs))}`,
      `   Gratuitous ARP repeat = ${sp.garp.masterRepeat}`,
      `   Gratuitous ARP refresh = ${Math.floor(sec(sp.garp.masterRefreshMs))}`,
      `   Gratuitous ARP refresh repeat = ${sp.garp.masterRefreshRepeat}`,
      `   Gratuitous ARP lower priority delay = ${Math.floor(sec(sp.garp.lowerPrioDelayMs))}`,
      `   Gratuitous ARP lower priority repeat = ${sp.garp.lowerPrioRepeat}`,
      `   Down timer adverts = ${sp.downTimerAdverts}`,
      `   Send advert after receive lower priority advert = ${!sp.lowerPrioNoAdvert}`,
      `   Send advert after receive higher priority advert = ${sp.higherPrioSendAdvert}`,
      `   Virtual Router ID = ${sp.vrid}`,
      `   Priority = ${sp.priority}`,
      `   Effective priority = ${i.effectivePriority}`,
      `   Advert interval = ${sp.advertIntMs % 1000 === 0 ? `${sp.advertIntMs / 1000} sec` : `${sp.advertIntMs} milli-sec`}`,
      `   Preempt = ${sp.preempt ? 'enabled' : 'disabled'}`,
    );
    if (sp.preemptDelayMs) L.push(`   Preempt delay = ${sec(sp.preemptDelayMs)} secs`);
    L.push(`   Authentication type = ${p.spec.authType === 1 ? 'SIMPLE_PASSWORD' : 'none'}`);
    const vips = p.config.virtualIpaddresses;
    const evips = p.config.virtualIpaddressesExcluded;
    if (vips.length) {
      L.push(`   Virtual IP (${vips.length}):`);
      for (const v of vips) L.push(`     ${formatVip(v, i.vipset)}`);
    }
    if (evips.length) {
      L.push(`   Virtual IP Excluded (${evips.length}):`);
      for (const v of evips) L.push(`     ${formatVip(v, i.vipset)}`);
    }
    const ifs = i.trackers.filter((t) => t.name.startsWith('interface:'));
    const scripts = i.trackers.filter((t) => t.name.startsWith('script:'));
    const files = i.trackers.filter((t) => t.name.startsWith('file:'));
    if (ifs.length) {
      L.push('   Tracked interfaces :');
      for (const t of ifs) L.push(`     ${t.name.slice(10)} weight ${t.weight}${t.ok === false ? ' (down)' : ''}`);
    }
    if (scripts.length) {
      L.push('   Tracked scripts :');
      for (const t of scripts) L.push(`     ${t.name.slice(7)} weight ${t.weight}${t.ok === undefined ? '' : t.ok ? '' : ' (failed)'}`);
    }
    if (files.length) {
      L.push('   Tracked files :');
      for (const t of files) L.push(`     ${t.name.slice(5)} weight ${t.weight} value ${t.value ?? 0}`);
    }
    L.push(`   Notify deleted = ${p.notify.notifyDeleted ? 'Deleted' : 'Fault'}`);
    const n = p.notify;
    const sc: Array<[string, ScriptCommand | undefined]> = [
      ['Backup state transition script', n.backup], ['Master state transition script', n.master],
      ['Fault state transition script', n.fault], ['Stop state transition script', n.stop],
      ['Deleted state transition script', n.deleted], ['Generic state transition script', n.generic],
      ['Master lower priority received script', n.masterRxLowerPri],
    ];
    for (const [label, cmd] of sc) {
      if (!cmd) continue;
      const ids = cmd.uid !== undefined ? `, uid:gid ${cmd.uid}:${cmd.gid ?? 0}` : '';
      L.push(`   ${label} = '${commandText(cmd)}'${ids}`);
    }
    L.push(`   Notify priority changes = ${sp.notifyPriorityChanges}`);
  }
  return L.join('\n') + '\n';
}
