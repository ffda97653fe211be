// ModelBuilder / buildModel: the generic tree → the resolved KeepalivedConfig, with keepalived's cross-block checks
// (vrrp.c vrrp_complete_init, vrrp_sync.c, check_data.c), fed one top-level block at a time. Pure: the host facts
// come in through `env`.
import { Diagnostics, type Diagnostic } from '../diagnostics.js';
import type { ConfigNode, Loc } from '../tree.js';
import type { KeepalivedConfig, VrrpInstance, VrrpSyncGroup, VirtualServerGroup, VirtualServer, ScriptSpec, VrrpScript } from './types.js';
import { Ctx, readInt, type ModelEnv } from './values.js';
import { otherKeyword, ROOT } from './keywords.js';
import { parseRouteLine, parseRuleLine, parseVipLine } from './addresses.js';
import type { GlobalDefs } from './types.js';
import { buildGlobalDefs, defaultGlobalDefs } from './global.js';
import { buildVrrpScript, buildTrackFile, buildTrackProcess, buildSyncGroup, parseInstance, completeInstance, memberLocs, type InstanceDraft } from './vrrp.js';
import { buildSsl, buildVsGroup, buildVirtualServer, resolveFileChecks } from './check.js';
import { buildGuard } from './guard-block.js';
import { buildGarpGroup } from './garp-group.js';
import { buildLinkbeatInterfaces } from './linkbeat-block.js';

const BLOCK_KEYWORDS = new Set(['garp_group', 'global_defs', 'vrrp_script', 'vrrp_sync_group', 'vrrp_instance', 'track_file', 'vrrp_track_file', 'vrrp_track_process',
  'virtual_server_group', 'virtual_server', 'SSL', 'vrrp_guard', 'linkbeat_interfaces']);

/** One virtual_server in reading order: built as it was read (with its diagnostics) or kept for the end. */
interface VsEntry {
  /** The block, when it could not be built as it was read (its group was not defined yet). */
  node?: ConfigNode;
  vs?: VirtualServer;
  /** Its diagnostics in ModelBuilder.vsDiags: [from, to). */
  from: number;
  to: number;
}

/**
 * The model, fed one top-level block at a time as the reader completes it (parse.ts), so that the tree of the
 * bulk of a large configuration — virtual_server blocks with their real servers — dies young instead of living
 * until the end (on the 78,000-line benchmark that survival was most of the garbage collector's work).
 * A virtual_server is built at once; its diagnostics are kept aside and take their place at `finish`, after
 * everything else's, as when all blocks are built at the end. What a virtual server needs from other blocks
 * is either known when it is read or filled in at `finish`: a `group` it names must have been read before
 * (otherwise the block is kept and built at the end); the global_defs smtp_alert defaults (global_defs may
 * come later) are filled in at `finish`. Every other block is kept and built at `finish` in keepalived's order
 * (global_defs first, then the rest in reading order, then the cross-block checks).
 */
export class ModelBuilder {
  private readonly nodes: ConfigNode[] = [];
  private readonly vsEntries: VsEntry[] = [];
  private readonly vsDiags = new Diagnostics();
  private readonly vsCtx: Ctx;
  /** The groups a virtual server can name so far: the first valid definition of each name, as at the end. */
  private readonly groupsSoFar = new Map<string, VirtualServerGroup>();

  constructor(private readonly env: ModelEnv) {
    this.vsCtx = new Ctx(this.vsDiags, env);
  }

  add(n: ConfigNode): void {
    if (n.block) {
      if (n.keyword === 'virtual_server') {
        const a1 = n.args[0]?.text === 'group' ? n.args[1]?.text : undefined;
        if (a1 !== undefined && !this.groupsSoFar.has(a1)) {
          this.vsEntries.push({ node: n, from: 0, to: 0 });
          return;
        }
        const from = this.vsDiags.list.length;
        const vs = buildVirtualServer(this.vsCtx, n, this.groupsSoFar);
        this.vsEntries.push({ vs, from, to: this.vsDiags.list.length });
        return;
      }
      if (n.keyword === 'virtual_server_group') {
        // Built again at the end, in its place (with its diagnostics): here only to know what it defines.
        const v = buildVsGroup(new Ctx(new Diagnostics(), this.env), n);
        if (v && v.entries.length && !this.groupsSoFar.has(v.name)) this.groupsSoFar.set(v.name, v);
      }
    }
    this.nodes.push(n);
  }

  finish(diags: Diagnostics): KeepalivedConfig {
    return buildRest(this.nodes, this.vsEntries, this.vsDiags.list, diags, this.env);
  }
}

export function buildModel(nodes: readonly ConfigNode[], diags: Diagnostics, env: ModelEnv): KeepalivedConfig {
  const b = new ModelBuilder(env);
  for (const n of nodes) b.add(n);
  return b.finish(diags);
}

function buildRest(nodes: readonly ConfigNode[], vsEntries: readonly VsEntry[], vsDiags: readonly Diagnostic[], diags: Diagnostics, env: ModelEnv): KeepalivedConfig {
  const ctx = new Ctx(diags, env);
  const g = defaultGlobalDefs(env.hostname ?? 'localhost');
  // global_defs first: dynamic_interfaces, vrrp_strict, defaults for everything else.
  for (const n of nodes) if (n.keyword === 'global_defs') {
    if (!n.block) { diags.error('missing-block', "'global_defs' needs a block: global_defs { … }", n.loc, { keyword: n.keyword }); continue; }
    buildGlobalDefs(ctx, n.block, g);
  }
  const reportedIf = new Set<string>();
  const checkIf = (name: string, loc: Loc): boolean => {
    if (!env.interfaces || env.interfaces.has(name)) return true;
    if (g.dynamicInterfaces) return false;
    if (!reportedIf.has(`${name}@${loc.file}:${loc.line}`)) {
      reportedIf.add(`${name}@${loc.file}:${loc.line}`);
      diags.fatal('bad-interface', `interface '${name}' does not exist in this network namespace (keepalived: "Non-existent interface specified in configuration")`, loc, {
        keyword: name,
        suggestion: env.interfaces.size ? `existing: ${[...env.interfaces].sort().join(', ')}; or set dynamic_interfaces in global_defs` : 'or set dynamic_interfaces in global_defs',
      });
    }
    return false;
  };

  const model: KeepalivedConfig = {
    globalDefs: g, vrrpScripts: [], trackFiles: [], trackProcesses: [], syncGroups: [], vrrpInstances: [], virtualServerGroups: [],
    virtualServers: [], guards: [], scripts: [], staticAddresses: [], staticRoutes: [], staticRules: [], garpGroups: [],
    linkbeatInterfaces: [],
  };
  const drafts: InstanceDraft[] = [];
  const garpAssigned = new Set<string>();
  const seenNames = new Map<string, Set<string>>();
  const dupName = (kind: string, name: string, loc: Loc): boolean => {
    let s = seenNames.get(kind);
    if (!s) seenNames.set(kind, (s = new Set()));
    if (s.has(name)) { diags.error('duplicate', `${kind} ${name} already defined`, loc, { keyword: kind }); return true; }
    s.add(name);
    return false;
  };

  for (const n of nodes) {
    if (BLOCK_KEYWORDS.has(n.keyword) && !n.block) {
      diags.error('missing-block', `'${n.keyword}' needs a { … } block`, n.loc, { keyword: n.keyword, suggestion: `write: ${n.keyword}${['global_defs', 'SSL', 'linkbeat_interfaces'].includes(n.keyword) ? '' : ' NAME'} { … }` });
      continue;
    }
    switch (n.keyword) {
      case 'global_defs': break;
      case 'vrrp_script': { const s = buildVrrpScript(ctx, n); if (s && !dupName('vrrp_script', s.name, n.loc)) model.vrrpScripts.push(s); break; }
      case 'track_file': case 'vrrp_track_file': { const t = buildTrackFile(ctx, n); if (t && !dupName('track_file', t.name, n.loc)) model.trackFiles.push(t); break; }
      case 'vrrp_track_process': {
        // keepalived looks a reference up by name and finds the first block of that name.
        const t = buildTrackProcess(ctx, n);
        if (t && !dupName('vrrp_track_process', t.name, n.loc)) model.trackProcesses.push(t);
        break;
      }
      case 'vrrp_sync_group': { const s = buildSyncGroup(ctx, n, checkIf); if (s && !dupName('vrrp sync group', s.name, n.loc)) model.syncGroups.push(s); break; }
      case 'vrrp_instance': { const d = parseInstance(ctx, n, checkIf); if (d && !dupName('vrrp instance', d.name, n.loc)) drafts.push(d); break; }
      case 'virtual_server_group': { const v = buildVsGroup(ctx, n); if (v && v.entries.length && !dupName('virtual_server_group', v.name, n.loc)) model.virtualServerGroups.push(v); break; }
      case 'virtual_server': break; // only a virtual_server without a block comes here (reported above)
      case 'SSL': model.ssl = buildSsl(ctx, n, model.ssl); break;
      case 'vrrp_guard': { const gd = buildGuard(ctx, n); if (gd && !dupName('vrrp_guard', gd.name, n.loc)) model.guards.push(gd); break; }
      case 'child_wait_time': { // keepalived's child_wait_handler: unsigned seconds, a bad value keeps the default
        if (!ctx.need(n, 1, 'SECONDS')) break;
        const secs = readInt(ctx, n, 0, 0, 0xffffffff);
        if (secs !== undefined) g.childWaitTimeMs = secs * 1000;
        break;
      }
      case 'garp_group': { const gg = buildGarpGroup(ctx, n, g, garpAssigned); if (gg) model.garpGroups.push(gg); break; }
      case 'linkbeat_interfaces': buildLinkbeatInterfaces(ctx, n, g, model.linkbeatInterfaces); break;
      // keepalived's use_polling_handler: any words after it are ignored.
      case 'linkbeat_use_polling': g.linkbeatUsePolling = true; break;
      case 'static_ipaddress': case 'static_routes': case 'static_rules':
        buildStatic(ctx, n, g, checkIf, model);
        break;
      default:
        if (ROOT.includes(n.keyword)) otherKeyword(ctx, n, 'top level');
        else otherKeyword(ctx, n, 'top level');
    }
  }

  // Sync groups: membership (vrrp_sync.c).
  const memberOf = new Map<string, VrrpSyncGroup>();
  const names = new Set(drafts.map((d) => d.name));
  for (const sg of model.syncGroups) {
    const kept: string[] = [];
    for (const m of sg.group) {
      const at = memberLocs.get(sg)?.get(m) ?? sg.loc;
      if (!names.has(m)) { diags.error('unknown-reference', `virtual router ${m} specified in sync group ${sg.name} doesn't exist - ignoring`, at, { keyword: m, suggestion: suggestName(m, names) }); continue; }
      if (memberOf.has(m)) { diags.error('conflict', `virtual router ${m} cannot exist in more than one sync group; ignoring ${sg.name}`, at, { keyword: m, suggestion: `it is already in ${memberOf.get(m)!.name}` }); continue; }
      memberOf.set(m, sg);
      kept.push(m);
    }
    sg.group = kept;
    if (!kept.length) diags.error('empty-sync-group', `sync group ${sg.name}, no matching virtual router found in group - removing`, sg.loc);
    else if (kept.length === 1) diags.warning('sync-group-size', `sync group ${sg.name} has only 1 virtual router(s) - this probably isn't what you want`, sg.loc);
  }
  model.syncGroups = model.syncGroups.filter((s) => s.group.length);

  for (const d of drafts) model.vrrpInstances.push(completeInstance(ctx, d, g, memberOf.get(d.name)));

  // Owners and non-owners in one sync group.
  for (const sg of model.syncGroups) {
    const owners = sg.group.map((m) => model.vrrpInstances.find((v) => v.name === m)!).map((v) => v.priority === 255);
    if (owners.some(Boolean) && !owners.every(Boolean))
      diags.error('conflict', `sync group ${sg.name} has some member(s) as address owner and some not as address owner. This won't work.`, sg.loc);
  }

  // Guard references (keepalived-ts extension): a sync group's guard covers its members, whose own is ignored.
  const guardNames = new Set(model.guards.map((x) => x.name));
  const checkGuard = (owner: { name: string; guard?: { name: string; loc: Loc } }): void => {
    if (!owner.guard || guardNames.has(owner.guard.name)) return;
    diags.error('unknown-reference', `(${owner.name}) vrrp_guard ${owner.guard.name} not found, running without a guard`, owner.guard.loc, { keyword: 'guard', suggestion: suggestName(owner.guard.name, guardNames) ?? 'define it with vrrp_guard NAME { zookeeper … path … }' });
    delete owner.guard;
  };
  for (const s of model.syncGroups) checkGuard(s);
  for (const v of model.vrrpInstances) {
    checkGuard(v);
    const sg = v.syncGroup ? model.syncGroups.find((s) => s.name === v.syncGroup) : undefined;
    if (!v.guard || !sg) continue;
    diags.warning('guard-in-sync-group', `(${v.name}) guard ${v.guard.name} ignored: the instance is in sync group ${sg.name}, which takes one lock for all its members${sg.guard ? ` (guard ${sg.guard.name})` : ''}`, v.guard.loc, { keyword: 'guard', suggestion: `put 'guard ${v.guard.name}' in vrrp_sync_group ${sg.name}` });
    delete v.guard;
  }

  // Tracker references.
  const scripts = new Map(model.vrrpScripts.map((s) => [s.name, s]));
  const files = new Set(model.trackFiles.map((t) => t.name));
  const used = new Set<string>();
  const processes = new Set(model.trackProcesses.map((t) => t.name));
  const resolveTracks = (owner: Pick<VrrpInstance, 'name' | 'trackScripts' | 'trackFiles' | 'trackProcesses'>): void => {
    owner.trackScripts = owner.trackScripts.filter((t) => {
      if (scripts.has(t.name)) { used.add(t.name); return true; }
      diags.error('unknown-reference', `(${owner.name}) track script ${t.name} not found, ignoring...`, t.loc, { keyword: t.name, suggestion: suggestName(t.name, scripts.keys()) ?? 'define it with vrrp_script NAME { script … }' });
      return false;
    });
    owner.trackFiles = owner.trackFiles.filter((t) => {
      if (files.has(t.name)) return true;
      diags.error('unknown-reference', `(${owner.name}) track file ${t.name} not found, ignoring...`, t.loc, { keyword: t.name, suggestion: suggestName(t.name, files) ?? 'define it with track_file NAME { file … }' });
      return false;
    });
    owner.trackProcesses = owner.trackProcesses.filter((t) => {
      if (processes.has(t.name)) return true;
      diags.error('unknown-reference', `(${owner.name}) track process ${t.name} not found, ignoring...`, t.loc, { keyword: t.name, suggestion: suggestName(t.name, processes) ?? 'define it with vrrp_track_process NAME { process … }' });
      return false;
    });
  };
  for (const v of model.vrrpInstances) resolveTracks(v);
  for (const s of model.syncGroups) resolveTracks(s);
  // A sync group with an address owner cannot weigh a tracked process (vrrp.c vrrp_complete_init).
  const processWeight = new Map(model.trackProcesses.map((t) => [t.name, t.weight]));
  for (const s of model.syncGroups) {
    if (!s.group.some((m) => model.vrrpInstances.find((v) => v.name === m)?.priority === 255)) continue;
    for (const t of s.trackProcesses) {
      if (!(t.weight ?? processWeight.get(t.name))) continue;
      diags.error('ignored-weight', `(${s.name}) Cannot have weighted track process '${t.name}' with member having priority 255 - setting weight 0`, t.loc, { suggestion: 'an address owner (priority 255) ignores weights' });
      t.weight = 0;
    }
  }

  // Own interface in track_interface; weighted trackers in sync groups / of address owners (vrrp.c).
  const trackFileWeight = new Map(model.trackFiles.map((t) => [t.name, t.weight]));
  for (const v of model.vrrpInstances) {
    v.trackInterfaces = v.trackInterfaces.filter((t) => {
      if (t.interface !== v.interface) return true;
      diags.error('track-own-interface', `(${v.name}) ignoring track_interface ${t.interface} since own interface`, t.loc, { suggestion: 'the instance always tracks its own interface; remove this line' });
      return false;
    });
    const sg = v.syncGroup ? model.syncGroups.find((s) => s.name === v.syncGroup) : undefined;
    const inSync = Boolean(sg && !sg.syncGroupTrackingWeight);
    if (!inSync && v.priority !== 255) continue;
    const why = inSync ? 'SYNC group' : 'address owner';
    const hint = inSync ? "set 'sync_group_tracking_weight' in the sync group to keep weights" : 'an address owner (priority 255) ignores weights';
    v.trackInterfaces = v.trackInterfaces.filter((t) => {
      if (!t.weight) return true;
      diags.error('ignored-weight', `(${v.name}) ignoring ${t.interface} tracked interface ${inSync ? 'weight ' : ''}due to ${why}`, t.loc, { suggestion: hint });
      if (inSync) { t.weight = 0; return true; }
      return false;
    });
    v.trackScripts = v.trackScripts.filter((t) => {
      if (!(t.weight ?? scripts.get(t.name)!.weight)) return true;
      diags.error('ignored-weight', `(${v.name}) ignoring tracked script ${t.name} with weights due to ${why}`, t.loc, { suggestion: hint });
      return false;
    });
    v.trackFiles = v.trackFiles.filter((t) => {
      const w = t.weight ?? trackFileWeight.get(t.name) ?? 1;
      if (w === 1) { diags.error('ignored-weight', `(${v.name}) ignoring weight from tracked file ${t.name} due to ${why}. specify weight 0`, t.loc, { suggestion: hint }); t.weight = 0; return true; }
      if (!w) return true;
      diags.error('ignored-weight', `(${v.name}) ignoring tracked file ${t.name} with weight ${w} due to ${why}`, t.loc, { suggestion: hint });
      return false;
    });
  }

  // Duplicate VRIDs on one interface (multicast, same family and group).
  for (let i = 0; i < model.vrrpInstances.length; i++) {
    const a = model.vrrpInstances[i]!;
    if (!a.virtualRouterId || !a.interface) continue;
    for (let j = 0; j < i; j++) {
      const b = model.vrrpInstances[j]!;
      if (b.virtualRouterId !== a.virtualRouterId || b.family !== a.family || b.interface !== a.interface) continue;
      if (a.unicast || b.unicast) {
        if (!(a.unicast && b.unicast)) continue;
        if (!a.unicastPeers.some((p) => b.unicastPeers.some((q) => q.address === p.address))) continue;
        diags.error('duplicate-vrid', `(${a.name}) duplicate VRID conflict with ${b.name} VRID ${a.virtualRouterId}`, a.loc);
        continue;
      }
      if (a.mcastDstIp !== b.mcastDstIp) continue;
      diags.error('duplicate-vrid', `${a.name} and ${b.name} both use VRID ${a.virtualRouterId} with IPv${a.family} on interface ${a.interface}`, a.loc, { suggestion: 'give each instance on one interface its own virtual_router_id' });
    }
  }

  // lvs_sync_daemon's instance.
  const lsd = g.lvsSyncDaemon;
  if (lsd) {
    if (lsd.vrrpInstance) {
      const v = model.vrrpInstances.find((x) => x.name === lsd.vrrpInstance);
      if (!v) {
        // keepalived clears it at run time without a -t complaint; we point it out without changing the verdict.
        diags.notice('unknown-reference', `unable to find vrrp instance ${lsd.vrrpInstance} for lvs_sync_daemon - clearing lvs_sync_daemon config`, undefined, { keyword: 'lvs_sync_daemon', suggestion: suggestName(lsd.vrrpInstance, names) });
        delete g.lvsSyncDaemon;
      }
      else if (lsd.syncId < 0) lsd.syncId = v.virtualRouterId;
    } else if (lsd.syncId < 0) lsd.syncId = 0;
  }

  // Unused vrrp scripts are removed with an error (vrrp.c vrrp_complete_init).
  model.vrrpScripts = model.vrrpScripts.filter((s) => {
    if (used.has(s.name)) return true;
    diags.error('unused-script', `Warning - script ${s.name} is not used`, s.loc, { keyword: s.name, suggestion: 'reference it from a track_script block, or remove it' });
    return false;
  });

  // Virtual servers after all groups are known.
  const groups = new Map<string, VirtualServerGroup>(model.virtualServerGroups.map((x) => [x.name, x]));
  for (const e of vsEntries) {
    if (e.node) { const vs = buildVirtualServer(ctx, e.node, groups); if (vs) model.virtualServers.push(vs); continue; }
    for (let i = e.from; i < e.to; i++) diags.add(vsDiags[i]!);
    if (e.vs) model.virtualServers.push(e.vs);
  }
  const smtpAlert = g.smtpAlertChecker ?? g.smtpAlert ?? true;
  for (let v = 0; v < model.virtualServers.length; v++) {
    const rss = model.virtualServers[v]!.realServers;
    for (let r = 0; r < rss.length; r++) rss[r]!.smtpAlert ??= smtpAlert;
  }
  resolveFileChecks(ctx, model.virtualServers, model.trackFiles);

  model.scripts = collectScripts(model);
  return model;
}

function suggestName(name: string, names: Iterable<string>): string | undefined {
  let best: string | undefined, bestD = 3;
  for (const n of names) {
    const d = lev(name, n);
    if (d < bestD) { bestD = d; best = n; }
  }
  return best ? `did you mean '${best}'?` : undefined;
}

function lev(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

function collectScripts(m: KeepalivedConfig): KeepalivedConfig['scripts'] {
  const out: KeepalivedConfig['scripts'] = [];
  const add = (where: string, kind: KeepalivedConfig['scripts'][number]['kind'], spec: ScriptSpec | undefined): void => { if (spec) out.push({ where, kind, spec }); };
  const g = m.globalDefs;
  add('global_defs startup_script', 'startup', g.startupScript);
  add('global_defs shutdown_script', 'startup', g.shutdownScript);
  add('global_defs notify_fifo_script', 'fifo', g.notifyFifo?.script);
  add('global_defs vrrp_notify_fifo_script', 'fifo', g.vrrpNotifyFifo?.script);
  add('global_defs lvs_notify_fifo_script', 'fifo', g.lvsNotifyFifo?.script);
  for (const s of m.vrrpScripts as VrrpScript[]) add(`vrrp_script ${s.name}`, 'track', s.script);
  for (const v of m.vrrpInstances) for (const [k, s] of Object.entries(v.notify)) add(`vrrp_instance ${v.name} notify ${k}`, 'notify', s);
  for (const sg of m.syncGroups) for (const [k, s] of Object.entries(sg.notify)) add(`vrrp_sync_group ${sg.name} notify ${k}`, 'notify', s);
  // Indexed loops over the real servers: run once, cold, where an array iterator allocates per element.
  for (let v = 0; v < m.virtualServers.length; v++) {
    const vs = m.virtualServers[v]!;
    if (vs.quorumUp) add(`virtual_server ${vs.key} quorum_up`, 'check', vs.quorumUp);
    if (vs.quorumDown) add(`virtual_server ${vs.key} quorum_down`, 'check', vs.quorumDown);
    for (let r = 0; r < vs.realServers.length; r++) {
      const rs = vs.realServers[r]!;
      // Guarded so the `where` strings are only built for servers that have scripts (most have none).
      if (rs.notifyUp) add(`real_server ${rs.address}:${rs.port} notify_up`, 'check', rs.notifyUp);
      if (rs.notifyDown) add(`real_server ${rs.address}:${rs.port} notify_down`, 'check', rs.notifyDown);
      for (let c = 0; c < rs.checkers.length; c++) {
        const ck = rs.checkers[c]!;
        if (ck.type === 'MISC_CHECK') add(`real_server ${rs.address}:${rs.port} MISC_CHECK`, 'check', ck.script);
      }
    }
  }
  return out;
}

/** One static_* block's lines, validated as keepalived does (interfaces too) and kept on the model. */
function buildStatic(ctx: Ctx, n: ConfigNode, g: GlobalDefs, checkIf: (name: string, loc: Loc) => boolean, model: KeepalivedConfig): void {
  const onDev = (dev: string, loc: Loc): void => { checkIf(dev, loc); };
  for (const l of n.block ?? []) {
    if (n.keyword === 'static_ipaddress') {
      const v = parseVipLine(ctx, l, '', onDev, true);
      if (v && !v.dev) {
        const def = g.defaultInterface ?? 'eth0';
        if (!ctx.env.interfaces || ctx.env.interfaces.has(def)) v.dev = def;
        else { ctx.diags.fatal('missing-interface', `static address ${v.address} requires either an interface or default_interface`, l.loc, { suggestion: 'add dev IF' }); continue; }
      }
      if (v) model.staticAddresses.push(v);
    } else if (n.keyword === 'static_routes') {
      const r = parseRouteLine(ctx, l, onDev);
      if (r) model.staticRoutes.push(r);
    } else model.staticRules.push(parseRuleLine(ctx, l, onDev));
  }
}
