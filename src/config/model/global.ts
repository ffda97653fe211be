// global_defs (global_parser.c; defaults global_data.c init_global_data).
import type { ConfigNode } from '../tree.js';
import type { GlobalDefs, NotifyFifo } from './types.js';
import { Ctx, readBool, readInt, readIp, readTimerMs, words } from './values.js';
import { isMulticast, VRRP_GROUP4, VRRP_GROUP6 } from '../../net/address.js';
import { otherKeyword, GLOBAL_DEFS, NOT_SUPPORTED, notSupported } from './keywords.js';
import { readScript } from './script.js';

export function defaultGlobalDefs(hostname: string): GlobalDefs {
  return {
    routerId: hostname,
    notificationEmail: [],
    notificationEmailFrom: `keepalived@${hostname}`,
    smtpConnectTimeoutMs: 30_000,
    smtpHeloName: hostname,
    enableScriptSecurity: false,
    startupScriptTimeoutMs: 10_000,
    shutdownScriptTimeoutMs: 10_000,
    childWaitTimeMs: 5000,
    vrrpMcastGroup4: VRRP_GROUP4,
    vrrpMcastGroup6: VRRP_GROUP6,
    vrrpVersion: 2,
    vrrpGarpMasterDelayMs: 5000,
    vrrpGarpMasterRepeat: 5,
    vrrpGarpMasterRefreshMs: 0,
    vrrpGarpMasterRefreshRepeat: 1,
    vrrpGarpLowerPrioDelayMs: 5000,
    vrrpGarpLowerPrioRepeat: 5,
    vrrpGarpIntervalMs: 0,
    vrrpGnaIntervalMs: 0,
    vrrpDownTimerAdverts: 3,
    vrrpLowerPrioNoAdvert: false,
    vrrpHigherPrioSendAdvert: false,
    vrrpSkipCheckAdvAddr: false,
    vrrpStrict: false,
    nftablesPriority: -1,
    nftablesCounters: false,
    nftablesIfindex: false,
    vrrpCheckUnicastSrc: false,
    vrrpNotifyPriorityChanges: false,
    vrrpStartupDelayMs: 0,
    dynamicInterfaces: false,
    allowIfChanges: false,
    lvsTimeouts: {},
    lvsFlush: false,
    fifoWriteVrrpStatesOnReload: false,
    vmacPrefix: 'vrrp',
    vmacAddrPrefix: 'vrrp',
    logUnknownVrids: false,
    rsInitNotifies: false,
    vrrpRlimitRttimeUs: 10_000,
    checkerRlimitRttimeUs: 10_000,
    vrrpNoSwap: false,
    checkerNoSwap: false,
    noEmailFaults: false,
    noCheckerEmails: false,
    checkerLogAllFailures: false,
    processMonitorRcvBufsForce: false,
    linkbeatUsePolling: false,
    other: {},
  };
}

function fifo(ctx: Ctx, node: ConfigNode): NotifyFifo | undefined {
  if (!ctx.need(node, 1, 'PATH [USER [GROUP]]')) return undefined;
  const f: NotifyFifo = { path: node.args[0]!.text };
  if (node.args[1]) f.user = node.args[1].text;
  if (node.args[2]) f.group = node.args[2].text;
  return f;
}

export function buildGlobalDefs(ctx: Ctx, nodes: ConfigNode[], g: GlobalDefs): void {
  let lowerPrioDelaySet = false;
  let lowerPrioRepeatSet = false;
  const fifoScripts: Array<[ConfigNode, 'notifyFifo' | 'vrrpNotifyFifo' | 'lvsNotifyFifo']> = [];
  for (const n of nodes) {
    const k = n.keyword;
    if (GLOBAL_DEFS.includes(k)) g.other[k] = words(n);
    switch (k) {
      case 'router_id': if (ctx.need(n, 1, 'STRING')) g.routerId = n.args[0]!.text; break;
      case 'notification_email':
        if (n.block) for (const e of n.block) g.notificationEmail.push(e.keyword, ...words(e));
        else ctx.bad(n, 0, 'missing-block', `'notification_email' needs a block: notification_email { ADDRESS … }`);
        break;
      case 'notification_email_from': if (ctx.need(n, 1, 'ADDRESS')) g.notificationEmailFrom = n.args[0]!.text; break;
      case 'smtp_server': {
        if (!ctx.need(n, 1, 'HOST [PORT]')) break;
        const port = n.args[1] ? readInt(ctx, n, 1, 1, 65535) : 25;
        if (port !== undefined) g.smtpServer = { host: n.args[0]!.text, port };
        break;
      }
      case 'smtp_helo_name': if (ctx.need(n, 1, 'NAME')) g.smtpHeloName = n.args[0]!.text; break;
      case 'smtp_connect_timeout': {
        if (!ctx.need(n, 1, 'SECONDS')) break;
        const v = readInt(ctx, n, 0, 1, 2147483647);
        if (v !== undefined) g.smtpConnectTimeoutMs = v * 1000;
        break;
      }
      case 'smtp_alert': { const b = readBool(ctx, n); if (b !== undefined) g.smtpAlert = b; break; }
      case 'smtp_alert_vrrp': { const b = readBool(ctx, n); if (b !== undefined) g.smtpAlertVrrp = b; break; }
      case 'smtp_alert_checker': { const b = readBool(ctx, n); if (b !== undefined) g.smtpAlertChecker = b; break; }
      case 'checker_log_all_failures': { const b = readBool(ctx, n); if (b !== undefined) g.checkerLogAllFailures = b; break; }
      case 'no_email_faults': g.noEmailFaults = true; break;
      case 'no_checker_emails': g.noCheckerEmails = true; break;
      case 'rs_init_notifies': g.rsInitNotifies = true; break;
      case 'script_user':
        if (ctx.need(n, 1, 'USER [GROUP]')) {
          const [user, group] = n.args[0]!.text.includes(':') && !n.args[1] ? n.args[0]!.text.split(':', 2) : [n.args[0]!.text, n.args[1]?.text];
          g.scriptUser = group ? { user: user!, group } : { user: user! };
        }
        break;
      case 'enable_script_security': g.enableScriptSecurity = true; break;
      case 'startup_script': { const s = readScript(ctx, n, true); if (s) g.startupScript = s; break; }
      case 'shutdown_script': { const s = readScript(ctx, n, true); if (s) g.shutdownScript = s; break; }
      case 'startup_script_timeout': { if (!ctx.need(n, 1, 'SECONDS (1..1000)')) break; const v = readInt(ctx, n, 0, 1, 1000); if (v !== undefined) g.startupScriptTimeoutMs = v * 1000; break; }
      case 'shutdown_script_timeout': { if (!ctx.need(n, 1, 'SECONDS (1..1000)')) break; const v = readInt(ctx, n, 0, 1, 1000); if (v !== undefined) g.shutdownScriptTimeoutMs = v * 1000; break; }
      case 'vrrp_mcast_group4': case 'vrrp_mcast_group6': {
        if (!ctx.need(n, 1, 'MULTICAST-ADDRESS')) break;
        const ip = readIp(ctx, n, 0);
        const fam = k === 'vrrp_mcast_group4' ? 4 : 6;
        if (!ip) break;
        if (ip.family !== fam || !isMulticast(ip.address)) { ctx.bad(n, 0, 'invalid-address', `'${k}': '${ip.address}' is not an IPv${fam} multicast address`); break; }
        if (fam === 4) g.vrrpMcastGroup4 = ip.address; else g.vrrpMcastGroup6 = ip.address;
        break;
      }
      case 'vrrp_version': {
        if (!ctx.need(n, 1, '2|3')) break;
        const v = readInt(ctx, n, 0, 2, 3, 'expected 2 or 3');
        if (v !== undefined) g.vrrpVersion = v as 2 | 3;
        break;
      }
      case 'vrrp_garp_master_delay': { if (!ctx.need(n, 1, 'SECONDS')) break; const v = readInt(ctx, n, 0, 0, 86400); if (v !== undefined) { g.vrrpGarpMasterDelayMs = v * 1000; if (!lowerPrioDelaySet) g.vrrpGarpLowerPrioDelayMs = v * 1000; } break; }
      case 'vrrp_garp_master_repeat': { if (!ctx.need(n, 1, 'COUNT')) break; const v = readInt(ctx, n, 0, 0, 2147483647); if (v !== undefined) { g.vrrpGarpMasterRepeat = v; if (!lowerPrioRepeatSet) g.vrrpGarpLowerPrioRepeat = v; } break; }
      case 'vrrp_garp_master_refresh': { if (!ctx.need(n, 1, 'SECONDS')) break; const v = readInt(ctx, n, 0, 0, 86400); if (v !== undefined) g.vrrpGarpMasterRefreshMs = v * 1000; break; }
      case 'vrrp_garp_master_refresh_repeat': { if (!ctx.need(n, 1, 'COUNT')) break; const v = readInt(ctx, n, 0, 0, 2147483647); if (v !== undefined) g.vrrpGarpMasterRefreshRepeat = v; break; }
      case 'vrrp_garp_lower_prio_delay': { if (!ctx.need(n, 1, 'SECONDS')) break; const v = readInt(ctx, n, 0, 0, 86400); if (v !== undefined) { g.vrrpGarpLowerPrioDelayMs = v * 1000; lowerPrioDelaySet = true; } break; }
      case 'vrrp_garp_lower_prio_repeat': { if (!ctx.need(n, 1, 'COUNT')) break; const v = readInt(ctx, n, 0, 0, 2147483647); if (v !== undefined) { g.vrrpGarpLowerPrioRepeat = v; lowerPrioRepeatSet = true; } break; }
      case 'vrrp_garp_interval': { if (!ctx.need(n, 1, 'SECONDS')) break; const v = readTimerMs(ctx, n, 0, 0, 1); if (v !== undefined) g.vrrpGarpIntervalMs = v; break; }
      case 'vrrp_gna_interval': { if (!ctx.need(n, 1, 'SECONDS')) break; const v = readTimerMs(ctx, n, 0, 0, 1); if (v !== undefined) g.vrrpGnaIntervalMs = v; break; }
      case 'vrrp_min_garp': { const b = readBool(ctx, n); if (b) { g.vrrpGarpMasterRepeat = 1; g.vrrpGarpMasterDelayMs = 0; g.vrrpGarpMasterRefreshMs = 0; } break; }
      case 'vrrp_down_timer_adverts': { if (!ctx.need(n, 1, 'COUNT (1..100)')) break; const v = readInt(ctx, n, 0, 1, 100); if (v !== undefined) g.vrrpDownTimerAdverts = v; break; }
      case 'vrrp_lower_prio_no_advert': { const b = readBool(ctx, n); if (b !== undefined) g.vrrpLowerPrioNoAdvert = b; break; }
      case 'vrrp_higher_prio_send_advert': { const b = readBool(ctx, n); if (b !== undefined) g.vrrpHigherPrioSendAdvert = b; break; }
      case 'vrrp_skip_check_adv_addr': { const b = readBool(ctx, n); if (b !== undefined) g.vrrpSkipCheckAdvAddr = b; break; }
      case 'vrrp_strict': g.vrrpStrict = true; break;
      case 'nftables': {
        // keepalived: a second `nftables` is an error and ignored; a name of 256+ bytes (NFT_TABLE_MAXNAMELEN) too.
        if (g.nftablesTable !== undefined) { ctx.bad(n, 0, 'duplicate', "nftables already specified - ignoring"); break; }
        const name = n.args[0]?.text ?? 'keepalived';
        if (Buffer.byteLength(name) >= 256) { ctx.bad(n, 0, 'invalid-value', 'nftables table name too long - ignoring', 'a table name is at most 255 bytes'); break; }
        g.nftablesTable = name;
        g.nftablesPriority = -1;
        break;
      }
      case 'nftables_priority': {
        if (!ctx.need(n, 1, 'PRIORITY')) break;
        const v = readInt(ctx, n, 0, -2147483648, 2147483647);
        if (v !== undefined) g.nftablesPriority = v;
        break;
      }
      case 'nftables_counters': g.nftablesCounters = true; break;
      case 'nftables_ifindex': g.nftablesIfindex = true; break;
      case 'vrrp_iptables':
        // Debian's 2.2.7 is built with nftables and without iptables: the keyword is an error that still selects
        // nftables (table `keepalived`, priority -1).
        ctx.bad(n, 0, 'not-built', "iptables not supported, using nftables instead. Please replace 'vrrp_iptables' and 'vrrp_ipsets' with the 'nftables' config option");
        g.nftablesTable = 'keepalived';
        g.nftablesPriority = -1;
        break;
      case 'vrrp_priority': case 'checker_priority': {
        if (!ctx.need(n, 1, 'NICE (-20..19)')) break;
        const v = readInt(ctx, n, 0, -20, 19);
        if (v !== undefined) g[k === 'vrrp_priority' ? 'vrrpProcessNice' : 'checkerProcessNice'] = v;
        break;
      }
      case 'vrrp_rt_priority': case 'checker_rt_priority': {
        // keepalived clamps to SCHED_RR's 1..99 and reports a config error (-t exits 5) but keeps the clamped value.
        if (!ctx.need(n, 1, 'PRIORITY (1..99)')) break;
        const a = n.args[0]!.text;
        if (!/^[-+]?\d+$/.test(a)) { ctx.bad(n, 0, 'invalid-number', `'${k}': '${a}' is not a valid integer`, 'expected an integer in [1, 99]'); break; }
        const v = Number(a);
        const clamped = Math.min(99, Math.max(1, v));
        if (clamped !== v) ctx.bad(n, 0, 'out-of-range', `'${k}': real-time priority ${a} outside [1, 99]; using ${clamped}`);
        g[k === 'vrrp_rt_priority' ? 'vrrpRtPriority' : 'checkerRtPriority'] = clamped;
        break;
      }
      case 'vrrp_rlimit_rttime': case 'checker_rlimit_rttime': case 'vrrp_rlimit_rtime': case 'checker_rlimit_rtime': {
        if (k.endsWith('_rtime')) ctx.diags.warning('deprecated', `'${k}' is deprecated; use '${k}time'`, n.loc, { keyword: k });
        if (!ctx.need(n, 1, 'MICROSECONDS')) break;
        // keepalived: a bad value is an error and leaves no limit (0); 1 becomes 2 (the soft limit is half of it).
        const v = readInt(ctx, n, 0, 1, 4294967295);
        g[k.startsWith('vrrp') ? 'vrrpRlimitRttimeUs' : 'checkerRlimitRttimeUs'] = v === undefined ? 0 : Math.max(2, v);
        break;
      }
      case 'vrrp_no_swap': g.vrrpNoSwap = true; break;
      case 'checker_no_swap': g.checkerNoSwap = true; break;
      case 'vrrp_check_unicast_src': g.vrrpCheckUnicastSrc = true; break;
      case 'vrrp_notify_priority_changes': { const b = readBool(ctx, n); if (b !== undefined) g.vrrpNotifyPriorityChanges = b; break; }
      case 'vrrp_startup_delay': case 'vrrp_delay_after_boot': { if (!ctx.need(n, 1, 'SECONDS')) break; const v = readTimerMs(ctx, n, 0, 0, 3600); if (v !== undefined) g.vrrpStartupDelayMs = v; break; }
      case 'dynamic_interfaces':
        g.dynamicInterfaces = true;
        if (n.args[0]?.text === 'allow_if_changes') g.allowIfChanges = true;
        else if (n.args[0]) ctx.bad(n, 0, 'invalid-value', `'dynamic_interfaces': unknown option '${n.args[0].text}'`, "expected 'allow_if_changes'");
        break;
      case 'default_interface': if (ctx.need(n, 1, 'INTERFACE')) g.defaultInterface = n.args[0]!.text; break;
      case 'lvs_flush': g.lvsFlush = true; break;
      case 'lvs_flush_on_stop': case 'lvs_flush_onstop':
        if (k === 'lvs_flush_onstop') ctx.diags.warning('deprecated', "'lvs_flush_onstop' is deprecated; use 'lvs_flush_on_stop'", n.loc, { keyword: k });
        g.lvsFlushOnStop = n.args[0]?.text === 'VS' ? 'vs' : 'all';
        break;
      case 'lvs_timeouts': {
        for (let i = 0; i < n.args.length; i += 2) {
          const key = n.args[i]!.text;
          if (!['tcp', 'tcpfin', 'udp'].includes(key) || !n.args[i + 1]) { ctx.bad(n, i, 'invalid-value', `'lvs_timeouts': unknown or incomplete option '${key}'`, 'expected: lvs_timeouts [tcp N] [tcpfin N] [udp N]'); break; }
          const v = readInt(ctx, n, i + 1, 1, 86400 * 31);
          if (v === undefined) continue;
          if (key === 'tcp') g.lvsTimeouts.tcpS = v; else if (key === 'tcpfin') g.lvsTimeouts.tcpFinS = v; else g.lvsTimeouts.udpS = v;
        }
        break;
      }
      case 'lvs_sync_daemon': {
        if (!ctx.need(n, 1, 'INTERFACE [[inst] VRRP_INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group IP]')) break;
        const d = { interface: n.args[0]!.text, syncId: -1, port: 8848 } as GlobalDefs['lvsSyncDaemon'] & object;
        let i = 1;
        const opts = new Set(['id', 'maxlen', 'port', 'ttl', 'group']);
        if (n.args[i] && n.args[i]!.text === 'inst') i++;
        if (n.args[i] && !opts.has(n.args[i]!.text)) d.vrrpInstance = n.args[i++]!.text;
        for (; i < n.args.length; i += 2) {
          const o = n.args[i]!.text;
          if (!opts.has(o) || !n.args[i + 1]) { ctx.bad(n, i, 'invalid-value', `'lvs_sync_daemon': unknown option '${o}'`); break; }
          if (o === 'group') { const ip = readIp(ctx, n, i + 1); if (ip) d.group = ip.address; continue; }
          const v = readInt(ctx, n, i + 1, o === 'ttl' ? 1 : 0, o === 'id' ? 255 : o === 'ttl' ? 255 : 65535);
          if (v === undefined) continue;
          if (o === 'id') d.syncId = v; else if (o === 'maxlen') d.maxlen = v; else if (o === 'port') d.port = v; else d.ttl = v;
        }
        g.lvsSyncDaemon = d;
        break;
      }
      case 'notify_fifo': { const f = fifo(ctx, n); if (f) g.notifyFifo = { ...f, script: g.notifyFifo?.script }; break; }
      case 'vrrp_notify_fifo': { const f = fifo(ctx, n); if (f) g.vrrpNotifyFifo = { ...f, script: g.vrrpNotifyFifo?.script }; break; }
      case 'lvs_notify_fifo': { const f = fifo(ctx, n); if (f) g.lvsNotifyFifo = { ...f, script: g.lvsNotifyFifo?.script }; break; }
      case 'notify_fifo_script': fifoScripts.push([n, 'notifyFifo']); break;
      case 'vrrp_notify_fifo_script': fifoScripts.push([n, 'vrrpNotifyFifo']); break;
      case 'lvs_notify_fifo_script': fifoScripts.push([n, 'lvsNotifyFifo']); break;
      case 'fifo_write_vrrp_states_on_reload': g.fifoWriteVrrpStatesOnReload = true; break;
      case 'vmac_prefix': if (ctx.need(n, 1, 'PREFIX')) { g.vmacPrefix = n.args[0]!.text; if (!g.other['vmac_addr_prefix']) g.vmacAddrPrefix = g.vmacPrefix; } break;
      case 'vmac_addr_prefix': if (ctx.need(n, 1, 'PREFIX')) g.vmacAddrPrefix = n.args[0]!.text; break;
      case 'log_unknown_vrids': g.logUnknownVrids = true; break;
      case 'bfd_rlimit_rtime':
        ctx.diags.warning('deprecated', `'${k}' is deprecated; use '${k}time'`, n.loc, { keyword: k });
        break;
      case 'process_monitor_rcv_bufs': { // get_netlink_rcv_bufs_size: 0 or a bad value leaves it unset
        if (!n.args[0]) { ctx.diags.error('missing-parameter', 'process_monitor_rcv_bufs size missing', n.loc, { keyword: k, suggestion: 'write: process_monitor_rcv_bufs BYTES' }); break; }
        const v = readInt(ctx, n, 0, 0, 4294967295, 'process_monitor_rcv_bufs size in bytes');
        if (v) g.processMonitorRcvBufs = v;
        break;
      }
      case 'process_monitor_rcv_bufs_force': { const b = readBool(ctx, n); if (b !== undefined) g.processMonitorRcvBufsForce = b; break; }
      default:
        if (NOT_SUPPORTED['global_defs']!.has(k)) notSupported(ctx, n, 'global_defs');
        else if (!GLOBAL_DEFS.includes(k)) otherKeyword(ctx, n, 'global_defs');
        // Other recognised keywords (process names, netlink buffer sizes, nice/no_swap, umask, …) are kept in
        // `other` and have no effect on what keepalived-ts does.
    }
  }
  for (const [n, which] of fifoScripts) {
    const s = readScript(ctx, n, true);
    if (!s) continue;
    const f = g[which];
    if (!f) {
      ctx.diags.notice('fifo-script-without-fifo', `'${n.keyword}' given without a FIFO; it will not run`, n.loc, {
        keyword: n.keyword, suggestion: `add '${n.keyword.replace('_script', '')} PATH' to global_defs`,
      });
      continue;
    }
    f.script = s;
  }
}
