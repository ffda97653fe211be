// vrrp_script, track_file, vrrp_track_process, vrrp_sync_group and vrrp_instance (vrrp_parser.c, vrrp_track.c, track_file.c) and the
// completion rules of vrrp.c vrrp_complete_instance / vrrp_complete_init.
import type { ConfigNode, Loc } from '../tree.js';
import type {
  GlobalDefs, VrrpScript, TrackFile, VrrpTrackProcess, VrrpSyncGroup, VrrpInstance, TrackRef, TrackInterface, ScriptSpec,
  VirtualIp, AuthType,
} from './types.js';
import { Ctx, readBool, readInt, readIp, readTimerMs } from './values.js';
import { isLinkLocal6, isMulticast, parseCidr } from '../../net/address.js';
import { otherKeyword } from './keywords.js';
import { readScript } from './script.js';
import { parsePeerLine, parseRouteLine, parseRuleLine, parseVipLine } from './addresses.js';

const nameOf = (ctx: Ctx, n: ConfigNode, what: string): string | undefined => {
  if (n.args[0]) return n.args[0].text;
  ctx.diags.error('missing-parameter', `${what} must have a name - skipping`, n.loc, { keyword: n.keyword, suggestion: `write: ${n.keyword} NAME { … }` });
  return undefined;
};

export function buildVrrpScript(ctx: Ctx, n: ConfigNode): VrrpScript | undefined {
  const name = nameOf(ctx, n, 'vrrp_script');
  if (!name) return undefined;
  let script: ScriptSpec | undefined;
  let intervalMs = 1000;
  let timeoutMs: number | undefined;
  const s = { weight: 0, weightReverse: false, rise: 1, fall: 1, initFail: false };
  let user: string | undefined, group: string | undefined;
  for (const k of n.block ?? []) {
    switch (k.keyword) {
      case 'script': script = readScript(ctx, k, false) ?? script; break;
      case 'interval': case 'timeout': {
        if (!ctx.need(k, 1, 'SECONDS')) break;
        const v = readInt(ctx, k, 0, 0, 4294);
        if (v === undefined) break;
        if (v === 0) ctx.diags.error('out-of-range', `(${name}): vrrp script ${k.keyword} must be greater than 0, setting to 1`, k.loc, { keyword: k.keyword });
        if (k.keyword === 'interval') intervalMs = Math.max(1, v) * 1000; else timeoutMs = Math.max(1, v) * 1000;
        break;
      }
      case 'weight': {
        if (!ctx.need(k, 1, 'N (-253..253) [reverse]')) break;
        const v = readInt(ctx, k, 0, -253, 253);
        if (v !== undefined) s.weight = v;
        if (k.args[1]) { if (k.args[1].text === 'reverse') s.weightReverse = true; else ctx.bad(k, 1, 'invalid-value', `vrrp_script ${name} unknown weight option ${k.args[1].text}`, "expected 'reverse'"); }
        break;
      }
      case 'rise': case 'fall': {
        if (!ctx.need(k, 1, 'N (>= 1)')) break;
        const v = readInt(ctx, k, 0, 1, 2147483647);
        s[k.keyword] = v ?? 1;
        break;
      }
      case 'user': if (ctx.need(k, 1, 'USER [GROUP]')) { user = k.args[0]!.text; group = k.args[1]?.text; } break;
      case 'init_fail': s.initFail = true; break;
      default: otherKeyword(ctx, k, 'vrrp_script');
    }
  }
  if (!script) {
    ctx.diags.error('missing-script', `no script set for vrrp_script ${name} - removing`, n.loc, { keyword: 'script', suggestion: 'add: script "/path/to/check args"' });
    return undefined;
  }
  if (user) { script.user = user; if (group) script.group = group; }
  return { name, script, intervalMs, timeoutMs: timeoutMs ?? intervalMs, ...s, loc: n.loc };
}

export function buildTrackFile(ctx: Ctx, n: ConfigNode): TrackFile | undefined {
  const name = nameOf(ctx, n, 'track_file');
  if (!name) return undefined;
  if (n.keyword === 'vrrp_track_file') ctx.diags.warning('deprecated', "'vrrp_track_file' is deprecated; use 'track_file'", n.loc, { keyword: n.keyword });
  const t: Partial<TrackFile> & { name: string } = { name, weight: 1, weightReverse: false, loc: n.loc };
  let weightSet = false;
  for (const k of n.block ?? []) {
    switch (k.keyword) {
      case 'file': if (ctx.need(k, 1, '"PATH"')) { if (t.file) ctx.diags.error('duplicate', `file already set for track file ${name} - ignoring ${k.args[0]!.text}`, k.loc); else t.file = k.args[0]!.text; } break;
      case 'weight': {
        if (!ctx.need(k, 1, 'N (-254..254) [reverse]')) break;
        if (weightSet) { ctx.diags.error('duplicate', `weight already set for track file ${name} - ignoring`, k.loc); break; }
        const v = readInt(ctx, k, 0, -254, 254);
        if (v !== undefined) { t.weight = v; weightSet = true; }
        if (k.args[1]) { if (k.args[1].text === 'reverse') t.weightReverse = true; else ctx.bad(k, 1, 'invalid-value', `track_file ${name} unknown weight option ${k.args[1].text}`); }
        break;
      }
      case 'init_file': {
        const init = { value: 0, overwrite: false };
        for (let i = 0; i < k.args.length; i++) {
          const w = k.args[i]!.text;
          if (w === 'overwrite') init.overwrite = true;
          else if (/^-?\d+$/.test(w) && i === 0) {
            const v = readInt(ctx, k, i, -254, 254);
            if (v !== undefined) init.value = v;
          } else ctx.bad(k, i, 'invalid-value', `unknown track file init option ${w}`, 'expected: init_file [VALUE] [overwrite]');
        }
        t.initFile = init;
        break;
      }
      default: otherKeyword(ctx, k, 'track_file');
    }
  }
  if (!t.file) {
    ctx.diags.error('missing-parameter', `no file set for track_file ${name} - ignoring`, n.loc, { keyword: 'file' });
    return undefined;
  }
  return t as TrackFile;
}

/** vrrp_track_process NAME { … } with vrrp_parser.c's handlers' checks and messages. */
export function buildTrackProcess(ctx: Ctx, n: ConfigNode): VrrpTrackProcess | undefined {
  const name = nameOf(ctx, n, 'vrrp_track_process');
  if (!name) return undefined;
  const t: VrrpTrackProcess = {
    name, process: '', params: [], paramMatch: 'none', fullCommand: false, quorum: 1, quorumMax: 4294967295,
    weight: 0, weightReverse: false, terminateDelayMs: 0, forkDelayMs: 0, loc: n.loc,
  };
  let processSet = false;
  for (const k of n.block ?? []) {
    switch (k.keyword) {
      case 'process': {
        if (!ctx.need(k, 1, 'NAME-OR-PATH [PARAMETERS…]')) break;
        if (processSet) { ctx.diags.error('duplicate', `Process already set for track process ${name} - ignoring ${k.args[0]!.text}`, k.loc, { keyword: k.keyword }); break; }
        processSet = true;
        t.process = k.args[0]!.text;
        if (k.args.length > 1) {
          t.params = k.args.slice(1).map((a) => a.text);
          if (t.paramMatch === 'none') t.paramMatch = 'exact';
          t.fullCommand = true;
        }
        break;
      }
      case 'param_match': {
        const w = k.args[0]?.text;
        if (w === undefined) t.paramMatch = 'exact';
        else if (w === 'initial' || w === 'partial') t.paramMatch = w;
        else { ctx.bad(k, 0, 'invalid-value', `Invalid param_match type ${w} - ignoring`, "expected 'initial' or 'partial' (no word: exact)"); break; }
        t.fullCommand = true;
        break;
      }
      case 'weight': {
        if (!ctx.need(k, 1, 'N (-254..254) [reverse]')) break;
        if (t.weight) { ctx.diags.error('duplicate', `Weight already set for track process ${name} - ignoring ${k.args[0]!.text}`, k.loc, { keyword: k.keyword }); break; }
        const v = readInt(ctx, k, 0, -254, 254, `weight for vrrp_track_process ${name} must be in [-254..254]`);
        if (v === undefined) break;
        if (k.args[1]) { if (k.args[1].text === 'reverse') t.weightReverse = true; else ctx.bad(k, 1, 'invalid-value', `vrrp_track_process ${name} unknown weight option ${k.args[1].text}`, "expected 'reverse'"); }
        t.weight = v;
        break;
      }
      case 'quorum': {
        if (!ctx.need(k, 1, 'N (1..65535)')) break;
        const v = readInt(ctx, k, 0, 1, 65535);
        if (v === undefined) break;
        if (v > t.quorumMax) { ctx.bad(k, 0, 'conflict', 'Quorum is greater than quorum_max - ignoring', 'write quorum before quorum_max, or raise quorum_max'); break; }
        t.quorum = v;
        break;
      }
      case 'quorum_max': {
        if (!ctx.need(k, 1, 'N (0..65535)')) break;
        const v = readInt(ctx, k, 0, 0, 65535);
        if (v === undefined) break;
        // quorum_max 0 is allowed while quorum is not above 1: it tracks that no such process runs.
        if ((v || t.quorum > 1) && v < t.quorum) { ctx.bad(k, 0, 'conflict', 'quorum_max is less than quorum - ignoring'); break; }
        t.quorumMax = v;
        if (v === 0) t.quorum = 0;
        else if (!t.quorum) t.quorum = 1;
        break;
      }
      case 'delay': case 'terminate_delay': case 'fork_delay': {
        if (!ctx.need(k, 1, 'SECONDS (0.000001..3600)')) break;
        const ms = readTimerMs(ctx, k, 0, 0.000001, 3600);
        if (ms === undefined) break;
        if (k.keyword !== 'fork_delay') t.terminateDelayMs = ms;
        if (k.keyword !== 'terminate_delay') t.forkDelayMs = ms;
        break;
      }
      case 'full_command': t.fullCommand = true; break;
      default: otherKeyword(ctx, k, 'vrrp_track_process');
    }
  }
  if (!processSet) {
    ctx.diags.error('missing-parameter', `track process '${name}' process name not specified`, n.loc, { keyword: 'process', suggestion: 'add: process NAME (the comm name), or process /path/to/binary [params…] with full_command' });
    return undefined;
  }
  return t;
}

/** Lines of a track_interface block. Weight range -253..253 (±254 rejected). */
function trackInterfaces(ctx: Ctx, n: ConfigNode, owner: string, checkIf: (name: string, loc: Loc) => boolean): TrackInterface[] {
  const out: TrackInterface[] = [];
  for (const l of n.block ?? []) {
    const ifname = l.keyword;
    if (!checkIf(ifname, l.loc)) continue;
    if (out.some((t) => t.interface === ifname)) { ctx.diags.error('duplicate', `(${owner}) duplicate track_interface ${ifname} - ignoring`, l.loc); continue; }
    const t: TrackInterface = { interface: ifname, weight: 0, reverse: false, loc: l.loc };
    if (!parseWeightOpts(ctx, l, owner, 'track_interface', 253, t)) continue;
    out.push(t);
  }
  return out;
}

function parseWeightOpts(ctx: Ctx, l: ConfigNode, owner: string, what: string, max: number, t: { weight?: number; reverse: boolean; reverseGiven?: boolean }): boolean {
  for (let i = 0; i < l.args.length; i++) {
    const w = l.args[i]!.text;
    if (w === 'weight') {
      if (!l.args[i + 1]) { ctx.bad(l, i, 'missing-parameter', `(${owner}) weight without value specified for ${what} ${l.keyword} - ignoring`); return false; }
      const v = readInt(ctx, l, i + 1, -max, max, `${what} weight must be in [-${max}, ${max}]`);
      i++;
      if (v === undefined) return false;
      t.weight = v;
      if (l.args[i + 1]?.text === 'reverse') { t.reverse = true; t.reverseGiven = true; i++; } else if (l.args[i + 1]?.text === 'noreverse') { t.reverseGiven = true; i++; }
    } else {
      ctx.bad(l, i, 'invalid-value', `(${owner}) unknown ${what} option ${w} - ignoring`, 'expected: NAME [weight N [reverse|noreverse]]');
    }
  }
  return true;
}

function trackRefs(ctx: Ctx, n: ConfigNode, owner: string, what: string, max: number): TrackRef[] {
  const out: TrackRef[] = [];
  for (const l of n.block ?? []) {
    if (out.some((t) => t.name === l.keyword)) { ctx.diags.error('duplicate', `(${owner}) duplicate ${what} ${l.keyword} - ignoring`, l.loc); continue; }
    const t: TrackRef = { name: l.keyword, reverse: false, loc: l.loc };
    if (!parseWeightOpts(ctx, l, owner, what, max, t)) continue;
    out.push(t);
  }
  return out;
}

function notifyKeyword(ctx: Ctx, k: ConfigNode, owner: string, notify: Record<string, ScriptSpec | undefined>, field: string): void {
  if (notify[field]) { ctx.diags.error('duplicate', `(${owner}) ${k.keyword} script already specified - ignoring`, k.loc, { keyword: k.keyword }); return; }
  const s = readScript(ctx, k, true);
  if (s) notify[field] = s;
}

const NOTIFY_FIELDS: Record<string, string> = {
  notify_master: 'master', notify_backup: 'backup', notify_fault: 'fault', notify_stop: 'stop', notify: 'any',
  notify_deleted: 'deleted', notify_master_rx_lower_pri: 'masterRxLowerPri',
};

/** Where each sync-group member name was written (for diagnostics about members). */
export const memberLocs = new WeakMap<VrrpSyncGroup, Map<string, Loc>>();

export function buildSyncGroup(ctx: Ctx, n: ConfigNode, checkIf: (name: string, loc: Loc) => boolean): VrrpSyncGroup | undefined {
  const name = nameOf(ctx, n, 'vrrp_sync_group');
  if (!name) return undefined;
  const g: VrrpSyncGroup = { name, group: [], trackInterfaces: [], trackScripts: [], trackFiles: [], trackProcesses: [], notify: {}, syncGroupTrackingWeight: false, loc: n.loc };
  let groupSeen = false;
  for (const k of n.block ?? []) {
    switch (k.keyword) {
      case 'group':
        if (groupSeen) { ctx.diags.error('duplicate', `group list already specified for sync group ${name}`, k.loc); break; }
        groupSeen = true;
        for (const l of k.block ?? []) {
          g.group.push(l.keyword, ...l.args.map((a) => a.text));
          const locs = memberLocs.get(g) ?? new Map<string, Loc>();
          locs.set(l.keyword, l.loc);
          l.args.forEach((a) => locs.set(a.text, a.loc));
          memberLocs.set(g, locs);
        }
        if (!g.group.length) ctx.diags.error('empty-block', `sync group ${name} has empty group block`, k.loc);
        break;
      case 'track_interface': g.trackInterfaces.push(...trackInterfaces(ctx, k, name, checkIf)); break;
      case 'track_script': g.trackScripts.push(...trackRefs(ctx, k, name, 'track_script', 253)); break;
      case 'track_file': g.trackFiles.push(...trackRefs(ctx, k, name, 'track_file', 254)); break;
      case 'track_process': g.trackProcesses.push(...trackRefs(ctx, k, name, 'track_process', 254)); break;
      case 'notify_master': case 'notify_backup': case 'notify_fault': case 'notify_stop': case 'notify':
        notifyKeyword(ctx, k, name, g.notify as Record<string, ScriptSpec | undefined>, NOTIFY_FIELDS[k.keyword]!);
        break;
      case 'smtp_alert': { const b = readBool(ctx, k); if (b !== undefined) g.smtpAlert = b; break; }
      case 'notify_priority_changes': { const b = readBool(ctx, k); if (b !== undefined) g.notifyPriorityChanges = b; break; }
      case 'sync_group_tracking_weight': g.syncGroupTrackingWeight = true; break;
      case 'guard': if (ctx.need(k, 1, 'GUARD_NAME')) { g.guard = { name: k.args[0]!.text, loc: k.loc }; ctx.extraWords(k, 1); } break;
      case 'global_tracking':
        ctx.diags.error('deprecated', `(${name}) global_tracking is deprecated. Use track_interface/script/file on the sync group`, k.loc, { keyword: k.keyword });
        g.syncGroupTrackingWeight = true;
        break;
      default: otherKeyword(ctx, k, 'vrrp_sync_group');
    }
  }
  return g;
}

/**
 * An instance as parsed, before vrrp_complete_instance's defaults: the model's own fields (those with a default are
 * optional until then), plus what only reading needs (keyword-named lists, the raw auth, where family was decided).
 */
export type InstanceDraft = Pick<VrrpInstance,
  | 'name' | 'loc' | 'trackInterfaces' | 'trackScripts' | 'trackFiles' | 'trackProcesses' | 'dontTrackPrimary' | 'unicastFaultNoPeer'
  | 'checkUnicastSrc' | 'trackSrcIp' | 'nopreempt' | 'preemptDelayMs' | 'promoteSecondaries' | 'notify' | 'vmacXmitBase' | 'useVmacAddr' | 'linkbeatUsePolling'>
  & Partial<Pick<VrrpInstance,
    | 'state' | 'interface' | 'priority' | 'advertIntMs' | 'version' | 'mcastSrcIp' | 'unicastSrcIp' | 'unicastTtl'
    | 'mcastDstIp' | 'accept' | 'strictMode' | 'skipCheckAdvAddr' | 'garpMasterDelayMs' | 'garpMasterRepeat'
    | 'garpMasterRefreshMs' | 'garpMasterRefreshRepeat' | 'garpLowerPrioDelayMs' | 'garpLowerPrioRepeat'
    | 'downTimerAdverts' | 'lowerPrioNoAdvert' | 'higherPrioSendAdvert' | 'useVmac' | 'useIpvlan' | 'smtpAlert' | 'notifyPriorityChanges'
    | 'guard'>>
  & {
    interfaceMissing: boolean;
    vrid?: number;
    auth?: { type?: AuthType; pass?: string; loc: Loc };
    vips: VirtualIp[];
    evips: VirtualIp[];
    noVirtualIpaddress: boolean;
    routes: VrrpInstance['virtualRoutes'];
    rules: VrrpInstance['virtualRules'];
    peers: VrrpInstance['unicastPeers'];
    unicastConfigured: boolean;
    familyLoc?: Loc;
    fatal?: string;
  };

export function parseInstance(ctx: Ctx, n: ConfigNode, checkIf: (name: string, loc: Loc) => boolean): InstanceDraft | undefined {
  const name = nameOf(ctx, n, 'vrrp_instance');
  if (!name) return undefined;
  const d: InstanceDraft = {
    name, loc: n.loc, interfaceMissing: false, vips: [], evips: [], noVirtualIpaddress: false, routes: [], rules: [],
    trackInterfaces: [], trackScripts: [], trackFiles: [], trackProcesses: [], dontTrackPrimary: false, peers: [], unicastConfigured: false,
    unicastFaultNoPeer: false, checkUnicastSrc: false, trackSrcIp: false, nopreempt: false, preemptDelayMs: 0,
    promoteSecondaries: false, notify: {}, vmacXmitBase: false, useVmacAddr: false, linkbeatUsePolling: false,
  };
  const pending: ConfigNode[] = [];
  for (const k of n.block ?? []) {
    const kw = k.keyword;
    switch (kw) {
      case 'state': {
        if (!ctx.need(k, 1, 'MASTER|BACKUP')) break;
        const s = k.args[0]!.text;
        if (s === 'MASTER') d.state = 'MASTER';
        else if (s === 'BACKUP') {
          if (d.state === 'MASTER') ctx.diags.error('conflict', `(${name}) state previously set as MASTER - ignoring BACKUP`, k.loc, { keyword: kw });
          else d.state = 'BACKUP';
        } else {
          ctx.bad(k, 0, 'invalid-value', `(${name}) unknown state '${s}', defaulting to BACKUP`, 'expected MASTER or BACKUP (upper case)');
          d.state = 'BACKUP';
        }
        break;
      }
      case 'interface': {
        if (!ctx.need(k, 1, 'INTERFACE')) break;
        const ifn = k.args[0]!.text;
        if (ifn.length >= 16) { ctx.bad(k, 0, 'invalid-value', `interface name '${ifn}' too long - ignoring`); break; }
        if (ifn === 'lo') { ctx.bad(k, 0, 'invalid-value', `(${name}) cannot use a loopback interface (${ifn}) for vrrp - ignoring`); break; }
        d.interface = ifn;
        if (!checkIf(ifn, ctx.argLoc(k, 0))) d.interfaceMissing = true;
        break;
      }
      case 'virtual_router_id': {
        if (!ctx.need(k, 1, 'VRID (1..255)')) break;
        const v = readInt(ctx, k, 0, 1, 255, `(${name}) VRID must be between 1 & 255`);
        if (v !== undefined) d.vrid = v;
        break;
      }
      case 'priority': {
        if (!ctx.need(k, 1, 'PRIORITY (1..255)')) break;
        const v = readInt(ctx, k, 0, 1, 255, `(${name}) priority must be between 1 & 255; using default 100`);
        d.priority = v ?? 100;
        break;
      }
      case 'advert_int': {
        if (!ctx.need(k, 1, 'SECONDS (0.01..255)')) break;
        const v = readTimerMs(ctx, k, 0, 0.01, 255);
        if (v === undefined || v <= 0) break;
        d.advertIntMs = v;
        break;
      }
      case 'version': {
        if (!ctx.need(k, 1, '2|3')) break;
        const v = readInt(ctx, k, 0, 2, 3, `(${name}) version must be either 2 or 3`);
        if (v !== undefined) d.version = v as 2 | 3;
        break;
      }
      case 'authentication':
        d.auth = { loc: k.loc };
        for (const a of k.block ?? []) {
          if (a.keyword === 'auth_type') {
            if (!ctx.need(a, 1, 'PASS|AH')) continue;
            const t = a.args[0]!.text;
            if (t === 'PASS' || t === 'AH') d.auth.type = t;
            else ctx.bad(a, 0, 'invalid-value', `(${name}) unknown authentication type '${t}'`, 'expected PASS or AH');
          } else if (a.keyword === 'auth_pass') {
            if (!ctx.need(a, 1, 'PASSWORD')) continue;
            let p = a.args[0]!.text;
            if (p.length > 8) {
              ctx.diags.error('truncated', 'truncating auth_pass to 8 characters', a.loc, { keyword: 'auth_pass', suggestion: 'VRRPv2 carries only 8 bytes of password; keepalived uses the first 8 characters' });
              p = p.slice(0, 8);
            }
            d.auth.pass = p;
          } else otherKeyword(ctx, a, 'authentication');
        }
        break;
      case 'virtual_ipaddress': case 'virtual_ipaddress_excluded': case 'virtual_routes': case 'virtual_rules':
        pending.push(k); // need the final interface name
        break;
      case 'no_virtual_ipaddress': d.noVirtualIpaddress = true; break;
      case 'track_interface': d.trackInterfaces.push(...trackInterfaces(ctx, k, name, checkIf)); break;
      case 'track_script': d.trackScripts.push(...trackRefs(ctx, k, name, 'track_script', 253)); break;
      case 'track_file': d.trackFiles.push(...trackRefs(ctx, k, name, 'track_file', 254)); break;
      case 'track_process': d.trackProcesses.push(...trackRefs(ctx, k, name, 'track_process', 254)); break;
      case 'dont_track_primary': d.dontTrackPrimary = true; break;
      case 'mcast_src_ip': case 'unicast_src_ip': {
        if (!ctx.need(k, 1, 'IP-ADDRESS')) break;
        const ip = readIp(ctx, k, 0);
        if (!ip) break;
        if (d.mcastSrcIp || d.unicastSrcIp) { ctx.diags.error('duplicate', `(${name}) source address already specified - ignoring ${ip.address}`, k.loc, { keyword: kw }); break; }
        if (kw === 'mcast_src_ip') d.mcastSrcIp = ip.address; else { d.unicastSrcIp = ip.address; d.unicastConfigured = true; }
        break;
      }
      case 'unicast_peer':
        d.unicastConfigured = true;
        for (const l of k.block ?? []) { const p = parsePeerLine(ctx, l, name); if (p) d.peers.push(p); }
        break;
      case 'unicast_fault_no_peer': d.unicastConfigured = true; d.unicastFaultNoPeer = true; break;
      case 'unicast_ttl': {
        if (!ctx.need(k, 1, 'TTL (0..255)')) break;
        const v = readInt(ctx, k, 0, 0, 255);
        if (v !== undefined) d.unicastTtl = v;
        d.unicastConfigured = true;
        break;
      }
      case 'check_unicast_src': d.checkUnicastSrc = true; d.unicastConfigured = true; break;
      case 'mcast_dst_ip': {
        if (!ctx.need(k, 1, 'MULTICAST-ADDRESS')) break;
        const ip = readIp(ctx, k, 0);
        if (!ip) break;
        if (!isMulticast(ip.address)) { ctx.bad(k, 0, 'invalid-address', `(${name}) mcast_dst_ip ${ip.address} not multicast. Skipping...`); break; }
        d.mcastDstIp = ip.address;
        break;
      }
      case 'track_src_ip': d.trackSrcIp = true; break;
      case 'nopreempt': d.nopreempt = true; break;
      case 'preempt': d.nopreempt = false; break;
      case 'preempt_delay': {
        if (!ctx.need(k, 1, 'SECONDS (0..1000)')) break;
        d.preemptDelayMs = readTimerMs(ctx, k, 0, 0, 1000) ?? 0;
        break;
      }
      case 'accept': d.accept = true; break;
      case 'no_accept': d.accept = false; break;
      case 'strict_mode': { const b = readBool(ctx, k); if (b !== undefined) d.strictMode = b; break; }
      case 'skip_check_adv_addr': { const b = readBool(ctx, k); if (b !== undefined) d.skipCheckAdvAddr = b; break; }
      case 'garp_master_delay': case 'garp_master_refresh': case 'garp_lower_prio_delay': {
        if (!ctx.need(k, 1, 'SECONDS')) break;
        const v = readInt(ctx, k, 0, 0, 86400);
        if (v === undefined) break;
        if (kw === 'garp_master_delay') d.garpMasterDelayMs = v * 1000;
        else if (kw === 'garp_master_refresh') d.garpMasterRefreshMs = v * 1000;
        else d.garpLowerPrioDelayMs = v * 1000;
        break;
      }
      case 'garp_master_repeat': case 'garp_master_refresh_repeat': case 'garp_lower_prio_repeat': {
        if (!ctx.need(k, 1, 'COUNT')) break;
        let v = readInt(ctx, k, 0, 0, 2147483647);
        if (v === undefined) break;
        if (v === 0 && kw !== 'garp_lower_prio_repeat') { ctx.diags.error('out-of-range', `(${name}): ${kw} must be greater than 0, setting to 1`, k.loc, { keyword: kw }); v = 1; }
        if (kw === 'garp_master_repeat') d.garpMasterRepeat = v;
        else if (kw === 'garp_master_refresh_repeat') d.garpMasterRefreshRepeat = v;
        else d.garpLowerPrioRepeat = v;
        break;
      }
      case 'down_timer_adverts': {
        if (!ctx.need(k, 1, 'COUNT (1..100)')) break;
        const v = readInt(ctx, k, 0, 1, 100);
        if (v !== undefined) d.downTimerAdverts = v;
        break;
      }
      case 'lower_prio_no_advert': { const b = readBool(ctx, k); if (b !== undefined) d.lowerPrioNoAdvert = b; break; }
      case 'higher_prio_send_advert': { const b = readBool(ctx, k); if (b !== undefined) d.higherPrioSendAdvert = b; break; }
      case 'promote_secondaries': d.promoteSecondaries = true; break;
      // keepalived 2.2.7 (vrrp_linkbeat_handler): an error, yet it still polls the instance's interface.
      case 'linkbeat_use_polling':
        d.linkbeatUsePolling = true;
        ctx.diags.error('deprecated', `(${name}) 'linkbeat_use_polling' in vrrp instance deprecated - use linkbeat_interfaces block`, k.loc, { keyword: k.keyword, suggestion: 'list the interface in a top-level linkbeat_interfaces { } block' });
        break;
      case 'use_vmac': {
        // vrrp_parser.c vrrp_vmac_handler: up to two words, a MAC (it has a ':') and/or the interface name.
        const v: { name?: string; mac?: string } = d.useVmac ?? {};
        for (const a of k.args.slice(0, 2)) {
          const bad = (msg: string) => ctx.diags.error('vmac', msg, a.loc);
          if (a.text.includes(':')) {
            if (v.mac !== undefined) { bad('VMAC interface address already specified'); continue; }
            const mac = parseVmacMac(a.text);
            if (mac === 'invalid') bad(`VMAC invalid MAC address ${a.text}${/^[0-9a-fA-F:]*$/.test(a.text) ? ' - ignored' : ''}`);
            else if (parseInt(mac.slice(0, 2), 16) & 1) bad(`VMAC MAC address is multicast ${a.text} - ignoring`);
            else if (/^00:00:5e:00:0[12]:/.test(mac)) bad(`VMAC MAC address not allowed to be RFC5798 address (${a.text}) - ignoring`);
            else v.mac = mac;
          } else if (v.name !== undefined || d.useIpvlan?.name !== undefined) bad('VMAC interface name already specified');
          else if (!validIfName(a.text)) bad(`VMAC interface name '${a.text}' too long or invalid characters - ignoring`);
          else if (takenBy(ctx, d.name, a.text)) bad(`(${d.name}) VRRP instance ${takenBy(ctx, d.name, a.text)} is already using ${a.text} - ignoring name`);
          // An existing interface under the name is only reused when it is a VMAC (a private macvlan); else the
          // default name is used, never the other interface (vrrp_vmac_handler).
          else if (ctx.env.interfaces?.has(a.text) && !ctx.env.isPrivateMacvlan?.(a.text)) {
            ctx.diags.error('vmac', `(${d.name}) interface ${a.text} already exists and is not a private macvlan; ignoring vmac if_name`, a.loc,
              { keyword: k.keyword, suggestion: `name the VMAC something else, or leave the name out to get vrrp.${d.vrid ?? '<vrid>'}` });
          } else { v.name = a.text; ctx.vmacNames.set(a.text, d.name); }
        }
        d.useVmac = v;
        break;
      }
      case 'vmac_xmit_base': d.vmacXmitBase = true; break;
      case 'use_vmac_addr': d.useVmacAddr = true; break;
      case 'use_ipvlan': parseUseIpvlan(ctx, k, d); break;
      case 'notify_master': case 'notify_backup': case 'notify_fault': case 'notify_stop': case 'notify_deleted':
      case 'notify': case 'notify_master_rx_lower_pri':
        notifyKeyword(ctx, k, name, d.notify as Record<string, ScriptSpec | undefined>, NOTIFY_FIELDS[kw]!);
        break;
      case 'smtp_alert': { const b = readBool(ctx, k); if (b !== undefined) d.smtpAlert = b; break; }
      case 'notify_priority_changes': { const b = readBool(ctx, k); if (b !== undefined) d.notifyPriorityChanges = b; break; }
      case 'debug': if (ctx.need(k, 1, 'LEVEL (0..4)')) readInt(ctx, k, 0, 0, 4); break;
      case 'guard': if (ctx.need(k, 1, 'GUARD_NAME')) { d.guard = { name: k.args[0]!.text, loc: k.loc }; ctx.extraWords(k, 1); } break;
      case 'lvs_sync_daemon_interface':
        ctx.diags.error('deprecated', `(${name}) specifying lvs_sync_daemon_interface against a vrrp is deprecated; use global lvs_sync_daemon`, k.loc, { keyword: kw });
        break;
      default: otherKeyword(ctx, k, 'vrrp_instance');
    }
  }
  const dev = d.interface ?? '';
  const onDev = (ifn: string, loc: Loc): void => { checkIf(ifn, loc); };
  for (const k of pending) {
    if (k.keyword === 'virtual_ipaddress' || k.keyword === 'virtual_ipaddress_excluded') {
      const list = k.keyword === 'virtual_ipaddress' ? d.vips : d.evips;
      for (const l of k.block ?? []) {
        const v = parseVipLine(ctx, l, dev, onDev);
        if (!v) continue;
        if (!v.dev && !d.interface) {
          ctx.diags.error('missing-interface', `(${name}): no interface for ${k.keyword === 'virtual_ipaddress' ? '' : 'e'}vip ${v.address} - removing`, l.loc, { suggestion: 'add dev IF to the address or interface IF to the instance' });
          continue;
        }
        list.push(v);
      }
    } else if (k.keyword === 'virtual_routes') {
      for (const l of k.block ?? []) { const r = parseRouteLine(ctx, l, onDev); if (r) d.routes.push(r); }
    } else {
      for (const l of k.block ?? []) d.rules.push(parseRuleLine(ctx, l, onDev));
    }
  }
  return d;
}

/**
 * use_ipvlan [NAME] [ADDRESS[/PREFIX]] [bridge|private|vepa], as keepalived 2.2.7's vrrp_ipvlan_handler reads it:
 * words in any order, a mode word, an address (its family is checked when the instance is complete), else the name.
 * The name it shares with use_vmac's; an existing interface by that name is refused unless it is stacked on another
 * (keepalived accepts an existing l2 ipvlan: a killed run's, which the daemon adopts at start).
 */
function parseUseIpvlan(ctx: Ctx, k: ConfigNode, d: InstanceDraft): void {
  const err = (msg: string, loc: Loc = k.loc) => ctx.diags.error('ipvlan', `(${d.name}) ${msg}`, loc, { keyword: 'use_ipvlan' });
  if (d.useIpvlan) return err('use_ipvlan already specified');
  const v: NonNullable<InstanceDraft['useIpvlan']> = { mode: 'bridge' };
  let hadMode = false;
  for (const a of k.args) {
    if (a.text === 'bridge' || a.text === 'private' || a.text === 'vepa') {
      if (hadMode) err(`ipvlan type already specified - ignoring '${a.text}'`, a.loc);
      else { v.mode = a.text; hadMode = true; }
      continue;
    }
    const ip = parseCidr(a.text, true);
    if (ip) {
      if (v.address) err(`ipvlan address already specified - ignoring '${a.text}'`, a.loc);
      else v.address = { address: ip.address, prefix: ip.prefix ?? (ip.family === 4 ? 32 : 128), family: ip.family };
      continue;
    }
    if (v.name !== undefined || d.useVmac?.name !== undefined) { err(`IPVLAN interface already specified - ignoring '${a.text}'`, a.loc); continue; }
    if (Buffer.byteLength(a.text) >= 16) { err(`IPVLAN interface name '${a.text}' too long - ignoring`, a.loc); continue; }
    const other = takenBy(ctx, d.name, a.text);
    if (other) { err(`VRRP instance ${other} is already using ${a.text} - ignoring name`, a.loc); continue; }
    // keepalived keeps the name for the instance before it looks at the interface (a later instance may not take it).
    ctx.vmacNames.set(a.text, d.name);
    if (ctx.env.interfaces?.has(a.text) && !ctx.env.isL2Ipvlan?.(a.text)) { err(`interface ${a.text} already exists and is not an l2 ipvlan; ignoring ipvlan if_name`, a.loc); continue; }
    v.name = a.text;
  }
  d.useIpvlan = v;
}

/** Another instance that gave this use_vmac / use_ipvlan name (keepalived: "VRRP instance X is already using NAME"). */
function takenBy(ctx: Ctx, instance: string, name: string): string | undefined {
  const other = ctx.vmacNames.get(name);
  return other !== undefined && other !== instance ? other : undefined;
}

/** The kernel's dev_name_valid (net/core/dev.c), as keepalived copies it. */
export function validIfName(name: string): boolean {
  return name !== '' && Buffer.byteLength(name) < 16 && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}

/**
 * A use_vmac MAC as keepalived reads it: six hex octets, or five (the sixth is then the VRID, written `xx` here
 * until the instance is complete). 'invalid' when keepalived would ignore it.
 */
export function parseVmacMac(text: string): string | 'invalid' {
  if (!/^[0-9a-fA-F:]+$/.test(text)) return 'invalid';
  const parts = text.replace(/:$/, '').split(':');
  if ((parts.length !== 6 && parts.length !== 5) || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) return 'invalid';
  if (parts.length === 6 && text.endsWith(':')) return 'invalid';
  const hex = parts.map((p) => p.toLowerCase().padStart(2, '0'));
  return parts.length === 5 ? `${hex.join(':')}:xx` : hex.join(':');
}

/** vrrp_complete_instance: defaults from globals, derived state/priority, the compatibility rules. */
export function completeInstance(ctx: Ctx, d: InstanceDraft, g: GlobalDefs, syncGroup: VrrpSyncGroup | undefined): VrrpInstance {
  const E = (code: string, msg: string, loc: Loc = d.loc, suggestion?: string): void => ctx.diags.error(code, `(${d.name}) ${msg}`, loc, { suggestion });
  const strict = d.strictMode ?? g.vrrpStrict;
  // Family: from the VIPs (the first decides; others of the other family are dropped like keepalived), else from
  // use_ipvlan's address.
  const first = d.vips[0];
  const family = first?.family ?? d.useIpvlan?.address?.family ?? 4;
  const vips = d.vips.filter((v) => v.family === family || (E('family-mismatch', `address family must match VRRP instance [${v.address}] - ignoring`, v.loc), false));
  // eVIPs are not advertised, so they may be of either family.
  const evips = [...d.evips];
  let version: 2 | 3 = d.version ?? (family === 6 ? 3 : g.vrrpVersion);
  if (family === 6 && version === 2) {
    if (strict) E('strict-mode', 'cannot use IPv6 with VRRP version 2; setting version 3');
    version = 3;
  }
  let cannotRun: string | undefined;
  if (d.vrid === undefined) {
    cannotRun = 'the virtual router id must be set';
    ctx.diags.fatal('missing-vrid', `(${d.name}) the virtual router id must be set; keepalived will not run`, d.loc, { keyword: 'virtual_router_id', suggestion: 'add: virtual_router_id N (1..255)' });
  }
  const unicast = d.unicastConfigured && d.peers.length > 0;
  if (!d.interface && !d.interfaceMissing && !unicast && !cannotRun) {
    cannotRun = 'no interface';
    ctx.diags.fatal('missing-interface', `(${d.name}) unknown interface! (no 'interface' and no unicast peers); keepalived will not run`, d.loc, { keyword: 'interface', suggestion: 'add: interface IF' });
  }
  if (!vips.length) {
    if (version === 3 || family === 6 || strict) {
      cannotRun ??= 'no VIP';
      ctx.diags.fatal('missing-vip', `(${d.name}) no VIP specified; at least one is required`, d.loc, { keyword: 'virtual_ipaddress' });
    } else if (!d.noVirtualIpaddress) ctx.diags.warning('missing-vip', `(${d.name}) no VIP specified; at least one is sensible`, d.loc, { keyword: 'virtual_ipaddress', suggestion: "add a virtual_ipaddress block, or 'no_virtual_ipaddress' if intended" });
  }
  const priority = d.priority ?? (d.state === 'MASTER' ? 255 : 100);
  let state: 'MASTER' | 'BACKUP' = d.state ?? (priority === 255 ? 'MASTER' : 'BACKUP');
  if (d.state && strict && (d.state === 'MASTER') !== (priority === 255)) {
    E('strict-mode', 'State MASTER must match being address owner', d.loc, 'in strict mode only priority 255 may start as MASTER');
    state = priority === 255 ? 'MASTER' : 'BACKUP';
  }
  let auth: VrrpInstance['authentication'];
  if (d.auth?.type) {
    if (strict) E('strict-mode', 'strict mode does not support authentication. Ignoring.', d.auth.loc);
    else if (version === 3) E('auth-v3', 'VRRP version 3 does not support authentication. Ignoring.', d.auth.loc);
    else if (!d.auth.pass) E('auth-no-pass', 'authentication specified but no password given. Ignoring', d.auth.loc, 'add auth_pass PASSWORD');
    else if (family === 6 && d.auth.type === 'AH') E('auth-ah-ipv6', 'cannot use AH authentication with IPv6. ignoring', d.auth.loc);
    else {
      auth = { type: d.auth.type, pass: d.auth.pass };
      if (d.auth.type === 'AH' && state === 'MASTER' && priority !== 255) {
        E('auth-ah-master', 'initial state master is incompatible with AH authentication - clearing', d.auth.loc);
        state = 'BACKUP';
      }
    }
  }
  // keepalived 2.2.7 tests this before it sets the unicast flag, so it never fires: strict + unicast runs.
  if (strict && unicast)
    ctx.diags.notice('strict-mode', `(${d.name}) unicast peers are not allowed by RFC strict mode (keepalived 2.2.7 accepts them)`, d.loc);
  if (!d.interface && unicast && !d.unicastSrcIp && !d.interfaceMissing && !cannotRun) {
    cannotRun = 'unicast without unicast_src_ip or interface';
    ctx.diags.fatal('missing-interface', `(${d.name}) unicast instances must have unicast_src_ip or interface`, d.loc);
  }
  if (d.unicastConfigured && !d.peers.length && !d.unicastFaultNoPeer)
    ctx.diags.warning('deprecated', `(${d.name}) a unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated`, d.loc);
  if (d.unicastTtl !== undefined && !d.peers.length)
    E('unicast-ttl', 'cannot use unicast_ttl without unicast peers - resetting');
  if (family === 6 && !unicast && vips[0] && !isLinkLocal6(vips[0].address) && strict)
    E('strict-mode', 'the first IPv6 VIP address must be link local', vips[0].loc);
  // VMAC rules (vrrp_end_handler, vrrp_complete_instance), in keepalived's order.
  let useVmac = d.useVmac && { ...d.useVmac };
  let useIpvlan = d.useIpvlan && { ...d.useIpvlan };
  let vmacXmitBase = d.vmacXmitBase;
  let promoteSecondaries = d.promoteSecondaries;
  if (useIpvlan?.address && useIpvlan.address.family !== family) {
    E('family-mismatch', `ipvlan address[${useIpvlan.address.address}/${useIpvlan.address.prefix}] MUST match vrrp instance family !!! Skipping...`);
    useIpvlan.address = undefined;
  }
  if ((useVmac || useIpvlan) && d.unicastConfigured) {
    if (!d.interface) { E('vmac', 'Cannot use VMAC/ipvlan with unicast and no interface - clearing use_vmac'); useVmac = undefined; useIpvlan = undefined; }
    else if (!vmacXmitBase) { E('vmac', 'unicast with use_vmac requires vmac_xmit_base - setting'); vmacXmitBase = true; }
  }
  if (useVmac?.mac && strict) { E('vmac', 'cannot specify MAC address with strict mode - clearing'); useVmac.mac = undefined; }
  if (useVmac?.mac?.endsWith(':xx') && d.vrid !== undefined) useVmac.mac = useVmac.mac.slice(0, -2) + d.vrid.toString(16).padStart(2, '0');
  if (useVmac && strict && vmacXmitBase) { E('vmac', 'xmit_base is incompatible with strict mode - resetting'); vmacXmitBase = false; }
  if ((useVmac || useIpvlan) && promoteSecondaries) { E('vmac', 'promote_secondaries is automatically set for vmacs - ignoring'); promoteSecondaries = false; }
  if (vmacXmitBase && !useVmac) { E('vmac', 'vmac_xmit_base is only valid with a vmac'); vmacXmitBase = false; }
  // use_vmac on an address (vrrp.c): redundant with the instance's VMAC or with use_vmac_addr, reported as keepalived.
  for (const v of [...vips, ...evips]) {
    if (!v.useVmac) continue;
    if (useVmac && v.dev === d.interface && v.family === family) E('vmac', `use_vmac specified for VIP/eVIP ${v.address} and vrrp instance`, v.loc);
    else if ((v.dev !== d.interface || v.family !== family) && d.useVmacAddr) E('vmac', `use_vmac_addr specified and use_vmac specified for VIP/eVIP ${v.address}`, v.loc);
  }
  if (useIpvlan && family === 6) {
    ctx.diags.notice('not-supported', `(${d.name}) use_ipvlan on an IPv6 instance is not supported yet by keepalived-ts; the instance runs on its interface without an ipvlan`, d.loc, { keyword: 'use_ipvlan' });
    useIpvlan = undefined;
  }
  // keepalived keeps such an instance in FAULT for good (num_config_faults); it never holds the VIPs.
  if (useIpvlan && family === 4 && !useIpvlan.address && !cannotRun) {
    E('ipvlan', 'IPv4 ipvlan requires a source ip address to be configured. setting instance to fault state', d.loc, "give the ipvlan its address: 'use_ipvlan [NAME] ADDRESS/PREFIX'");
    cannotRun = 'IPv4 ipvlan without an address';
  }
  // Configuration faults (vrrp_complete_instance's num_config_faults): the instance runs, in FAULT, until a reload.
  let configFault: string | undefined;
  // unicast_fault_no_peer without peers: FAULT instead of falling back to multicast. keepalived logs it at INFO,
  // not as a config error, so its -t passes: a notice here.
  if (d.unicastConfigured && !d.peers.length && d.unicastFaultNoPeer && !cannotRun) {
    ctx.diags.notice('unicast-no-peer', `(${d.name}) Cannot use unicast without any peers - going to fault state`, d.loc,
      { keyword: 'unicast_fault_no_peer', suggestion: 'add a unicast_peer block, or drop unicast_fault_no_peer to run multicast' });
    configFault = 'unicast without any peers';
  }
  // A VMAC or ipvlan needs an Ethernet parent (ARPHRD_ETHER; a tun, a GRE or IPIP tunnel is not). keepalived then
  // clears every instance flag (vrrp->flags = 0): no VMAC, and unicast off for the multicast check below.
  let unicastFlag = unicast;
  if ((useVmac || useIpvlan) && d.interface && !d.interfaceMissing && !cannotRun && ctx.env.isEthernet?.(d.interface) === false) {
    ctx.diags.error('vmac', `(${d.name}): vmacs are only supported on Ethernet type interfaces`, d.loc,
      { keyword: useVmac ? 'use_vmac' : 'use_ipvlan', suggestion: `run the instance on an Ethernet interface, or without ${useVmac ? 'use_vmac' : 'use_ipvlan'} on ${d.interface}` });
    configFault ??= `vmacs are only supported on Ethernet type interfaces (${d.interface})`;
    useVmac = undefined;
    useIpvlan = undefined;
    vmacXmitBase = false;
    unicastFlag = false;
  }
  // Multicast adverts need IFF_MULTICAST on an interface that exists now.
  if (d.interface && !d.interfaceMissing && !unicastFlag && !cannotRun && ctx.env.hasMulticast?.(d.interface) === false) {
    E('no-multicast', `interface ${d.interface} does not support multicast, specify unicast peers - disabling`, d.loc,
      `add a unicast_peer block, or turn multicast on: ip link set dev ${d.interface} multicast on`);
    configFault ??= `interface ${d.interface} does not support multicast`;
  }
  let nopreempt = d.nopreempt;
  let preemptDelayMs = d.preemptDelayMs;
  if (priority === 255 && nopreempt) { E('conflict', 'nopreempt is incompatible with priority 255. resetting nopreempt'); nopreempt = false; }
  if (state === 'MASTER') {
    if (nopreempt) { E('conflict', 'Warning - nopreempt will not work with initial state MASTER - clearing', d.loc, "use 'state BACKUP' with nopreempt"); nopreempt = false; }
    if (preemptDelayMs) { E('conflict', 'Warning - preempt delay will not work with initial state MASTER - clearing', d.loc, "use 'state BACKUP' with preempt_delay"); preemptDelayMs = 0; }
  }
  if (preemptDelayMs) {
    if (strict) { E('strict-mode', 'preempt_delay is incompatible with strict mode - resetting'); preemptDelayMs = 0; }
    if (nopreempt) { E('conflict', 'preempt_delay is incompatible with nopreempt mode - resetting'); preemptDelayMs = 0; }
  }
  let downTimerAdverts = d.downTimerAdverts ?? g.vrrpDownTimerAdverts;
  if (downTimerAdverts !== 3 && strict) { E('strict-mode', 'down_timer_adverts is incompatible with strict mode - resetting'); downTimerAdverts = 3; }
  let accept = d.accept ?? (priority === 255 ? true : !strict);
  if (accept && priority !== 255 && strict && version === 2) { E('strict-mode', 'warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting'); accept = false; }
  let mcastDstIp: string | undefined;
  if (!unicast) mcastDstIp = d.mcastDstIp ?? (family === 4 ? g.vrrpMcastGroup4 : g.vrrpMcastGroup6);
  else if (d.mcastDstIp) E('conflict', 'multicast destination specified with unicast - ignoring');
  let garpLowerPrioRepeat = d.garpLowerPrioRepeat ?? (strict ? 0 : g.vrrpGarpLowerPrioRepeat);
  if (strict && d.garpLowerPrioRepeat) { E('strict-mode', 'strict mode requires no repeat garps. resetting'); garpLowerPrioRepeat = 0; }
  let garpLowerPrioDelayMs = d.garpLowerPrioDelayMs ?? (strict ? 0 : g.vrrpGarpLowerPrioDelayMs);
  if (strict && d.garpLowerPrioDelayMs) { E('strict-mode', 'strict mode requires no repeat garp delay. resetting'); garpLowerPrioDelayMs = 0; }
  let lowerPrioNoAdvert = d.lowerPrioNoAdvert ?? (strict ? true : g.vrrpLowerPrioNoAdvert);
  if (strict && d.lowerPrioNoAdvert === false) { E('strict-mode', 'strict mode requires no lower priority advert. resetting'); lowerPrioNoAdvert = true; }
  let higherPrioSendAdvert = d.higherPrioSendAdvert ?? (strict ? false : g.vrrpHigherPrioSendAdvert);
  if (strict && d.higherPrioSendAdvert) { E('strict-mode', 'strict mode requires higher_prio_send_advert to be clear. resetting'); higherPrioSendAdvert = false; }
  const smtpAlert = d.smtpAlert ?? g.smtpAlertVrrp ?? g.smtpAlert ?? false;
  const notifyPriorityChanges = d.notifyPriorityChanges ?? syncGroup?.notifyPriorityChanges ?? g.vrrpNotifyPriorityChanges;
  // Advert interval rounding (vrrp.c): v2 whole seconds < 256, v3 10 ms units <= 40.95 s.
  let adv = d.advertIntMs ?? 1000;
  if (version === 2) {
    if (adv >= 256_000) { E('advert-int', `VRRPv2 advertisement interval ${(adv / 1000).toFixed(2)}s is out of range. Must be less than 256s. Setting to 255s`); adv = 255_000; }
    else if (adv % 1000) {
      E('advert-int', `VRRPv2 advertisement interval ${(adv / 1000).toFixed(6)}s must be an integer. rounding`, d.loc, 'VRRPv2 carries whole seconds; use version 3 for sub-second adverts');
      adv = Math.floor((adv + 500) / 1000) * 1000 || 1000;
    }
  } else {
    if (adv >= 40_960) { E('advert-int', `VRRPv3 advertisement interval ${(adv / 1000).toFixed(2)}s is out of range. Must be less than 40.96s. Setting to 40.95s`); adv = 40_950; }
    else if (Math.round(adv * 1000) % 10_000) {
      E('advert-int', `VRRPv3 advertisement interval ${(adv / 1000).toFixed(6)}s must be in units of 10ms - rounding`);
      adv = Math.floor((adv + 5) / 10) * 10 || 10;
    }
  }
  // VIPs beyond what fits an advert become eVIPs (MTU 1500 assumed when the interface is unknown here).
  const hdr = family === 4 ? 14 + 20 + 8 + (version === 2 ? 8 : 0) + (auth?.type === 'AH' ? 24 : 0) : 14 + 40 + 8;
  const maxAddr = Math.min(255, Math.floor((1500 - hdr) / (family === 4 ? 4 : 16)));
  if (vips.length > maxAddr) {
    E('too-many-vips', `number of VIPs (${vips.length}) exceeds maximum/space available in packet (max ${maxAddr} addresses) - excess moved to eVIPs`);
    evips.unshift(...vips.splice(maxAddr));
  }
  return {
    name: d.name, state, stateConfigured: d.state !== undefined, interface: d.interface, interfaceExists: !d.interfaceMissing,
    virtualRouterId: d.vrid ?? 0, priority, advertIntMs: adv, version, family, authentication: auth,
    virtualIpaddresses: vips, virtualIpaddressesExcluded: evips, virtualRoutes: d.routes, virtualRules: d.rules,
    trackInterfaces: d.trackInterfaces, trackScripts: d.trackScripts, trackFiles: d.trackFiles, trackProcesses: d.trackProcesses,
    dontTrackPrimary: d.dontTrackPrimary, mcastSrcIp: d.mcastSrcIp, unicastSrcIp: d.unicastSrcIp, unicastPeers: d.peers,
    unicast, unicastFaultNoPeer: d.unicastFaultNoPeer, unicastTtl: family === 4 ? (d.peers.length ? d.unicastTtl ?? 255 : 255) : d.unicastTtl,
    checkUnicastSrc: d.checkUnicastSrc || g.vrrpCheckUnicastSrc || d.peers.some((p) => p.minTtl !== undefined || p.maxTtl !== undefined),
    mcastDstIp, trackSrcIp: d.trackSrcIp, nopreempt, preemptDelayMs, accept, strictMode: strict,
    skipCheckAdvAddr: d.skipCheckAdvAddr ?? g.vrrpSkipCheckAdvAddr,
    garpMasterDelayMs: d.garpMasterDelayMs ?? g.vrrpGarpMasterDelayMs,
    garpMasterRepeat: d.garpMasterRepeat ?? g.vrrpGarpMasterRepeat,
    garpMasterRefreshMs: d.garpMasterRefreshMs ?? g.vrrpGarpMasterRefreshMs,
    garpMasterRefreshRepeat: d.garpMasterRefreshRepeat ?? g.vrrpGarpMasterRefreshRepeat,
    garpLowerPrioDelayMs, garpLowerPrioRepeat, downTimerAdverts, lowerPrioNoAdvert, higherPrioSendAdvert,
    promoteSecondaries, linkbeatUsePolling: d.linkbeatUsePolling && d.interface !== undefined, useVmac, useIpvlan, useVmacAddr: d.useVmacAddr, vmacXmitBase, notify: d.notify, smtpAlert, notifyPriorityChanges,
    syncGroup: syncGroup?.name, guard: d.guard, cannotRun, configFault, loc: d.loc,
  };
}

