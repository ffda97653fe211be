// Which keywords each block accepts (keepalived 2.2.7's install_keyword lists), which of them keepalived-ts does
// not implement yet, and the "unknown keyword" report with did-you-mean over the block's own keywords.
import type { ConfigNode } from '../tree.js';
import { type Ctx, closest } from './values.js';

const w = (s: string): string[] => s.trim().split(/\s+/);

/** Keywords valid at top level. */
export const ROOT = w(`global_defs vrrp_script vrrp_sync_group vrrp_instance track_file vrrp_track_file
  virtual_server_group virtual_server SSL
  static_ipaddress static_routes static_rules linkbeat_interfaces garp_group track_group vrrp_track_process
  bfd_instance interface_up_down_delays net_namespace net_namespace_ipvs namespace_with_ipsets use_pid_dir instance
  child_wait_time linkbeat_use_polling vrrp_guard`);

// No vrrp_ipsets: Debian's 2.2.7 is built without iptables/ipset, so keepalived -t calls it an unknown keyword.
export const GLOBAL_DEFS = w(`process_names process_name vrrp_process_name checker_process_name lvs_process_name
  bfd_process_name router_id notification_email_from smtp_server smtp_helo_name smtp_connect_timeout
  notification_email smtp_alert startup_script startup_script_timeout shutdown_script shutdown_script_timeout
  max_auto_priority min_auto_priority_delay smtp_alert_vrrp smtp_alert_checker checker_log_all_failures
  dynamic_interfaces no_email_faults default_interface disable_local_igmp lvs_timeouts lvs_flush lvs_flush_on_stop
  lvs_flush_onstop lvs_sync_daemon vrrp_mcast_group4 vrrp_mcast_group6 vrrp_garp_master_delay vrrp_garp_master_repeat
  vrrp_garp_master_refresh vrrp_garp_master_refresh_repeat vrrp_garp_lower_prio_delay vrrp_garp_lower_prio_repeat
  vrrp_down_timer_adverts vrrp_garp_interval vrrp_gna_interval vrrp_min_garp vrrp_garp_extra_if vrrp_vmac_garp_intvl
  vrrp_lower_prio_no_advert vrrp_higher_prio_send_advert vrrp_version vrrp_iptables nftables
  nftables_priority nftables_ifindex nftables_ipvs nftables_ipvs_priority nftables_ipvs_start_fwmark
  nftables_counters vrrp_check_unicast_src vrrp_skip_check_adv_addr vrrp_strict vrrp_priority vrrp_no_swap
  vrrp_rt_priority vrrp_cpu_affinity vrrp_rlimit_rttime vrrp_rlimit_rtime notify_fifo notify_fifo_script
  vrrp_notify_fifo vrrp_notify_fifo_script vrrp_notify_priority_changes fifo_write_vrrp_states_on_reload
  lvs_notify_fifo lvs_notify_fifo_script checker_priority checker_no_swap checker_rt_priority checker_cpu_affinity
  checker_rlimit_rttime checker_rlimit_rtime bfd_priority bfd_no_swap bfd_rt_priority bfd_cpu_affinity
  bfd_rlimit_rttime bfd_rlimit_rtime snmp_socket enable_traps enable_snmp_vrrp enable_snmp_keepalived
  enable_snmp_rfc enable_snmp_rfcv2 enable_snmp_rfcv3 enable_snmp_checker enable_dbus dbus_service_name script_user
  enable_script_security vrrp_netlink_cmd_rcv_bufs vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs
  vrrp_netlink_monitor_rcv_bufs_force process_monitor_rcv_bufs process_monitor_rcv_bufs_force
  lvs_netlink_cmd_rcv_bufs lvs_netlink_cmd_rcv_bufs_force lvs_netlink_monitor_rcv_bufs
  lvs_netlink_monitor_rcv_bufs_force rs_init_notifies no_checker_emails vrrp_rx_bufs_policy vrrp_rx_bufs_multiplier
  vrrp_startup_delay log_unknown_vrids vmac_prefix vmac_addr_prefix umask random_seed reload_check_config
  reload_time_file reload_repeat reload_file include_check config_save_dir tmp_config_directory data_use_instance
  vrrp_delay_after_boot state_dump_file stats_dump_file json_dump_file json_version v3_checksum_as_v2`);

export const VRRP_SCRIPT = w('script interval timeout weight rise fall user init_fail');
export const TRACK_FILE = w('file weight init_file');
export const VRRP_TRACK_PROCESS = w('process param_match weight quorum quorum_max delay terminate_delay fork_delay full_command');
export const SYNC_GROUP = w(`group track_interface track_script track_file track_process track_bfd notify_backup
  notify_master notify_fault notify_stop notify smtp_alert global_tracking sync_group_tracking_weight
  notify_priority_changes guard`);
export const VRRP_INSTANCE = w(`use_vmac use_vmac_addr vmac_xmit_base use_ipvlan unicast_peer unicast_fault_no_peer
  check_unicast_src old_unicast_checksum native_ipv6 state interface vrf dont_track_primary track_interface
  track_script track_file track_process track_bfd mcast_src_ip unicast_src_ip mcast_dst_ip track_src_ip
  virtual_router_id unicast_ttl version priority advert_int virtual_ipaddress virtual_ipaddress_excluded
  no_virtual_ipaddress promote_secondaries linkbeat_use_polling virtual_routes virtual_rules accept no_accept
  skip_check_adv_addr strict_mode preempt nopreempt preempt_delay debug notify_backup notify_master notify_fault
  notify_stop notify_deleted notify notify_master_rx_lower_pri smtp_alert notify_priority_changes
  lvs_sync_daemon_interface garp_master_delay garp_master_refresh garp_master_repeat garp_master_refresh_repeat
  garp_lower_prio_delay garp_lower_prio_repeat down_timer_adverts garp_extra_if vmac_garp_intvl
  lower_prio_no_advert higher_prio_send_advert kernel_rx_buf_size authentication guard`);
/** keepalived-ts extension (README "Split-brain guard"); `guard` above in sync groups and instances is one too. */
export const VRRP_GUARD = w('zookeeper etcd path session_timeout mode unreachable');
export const AUTHENTICATION = w('auth_type auth_pass');
export const GARP_GROUP = w('garp_interval gna_interval interface interfaces');
export const SSL = w('password ca certificate key');
export const VIRTUAL_SERVER = w(`ip_family retry delay_before_retry warmup connect_timeout delay_loop
  inhibit_on_failure lb_algo lvs_sched hashed ops flag-1 flag-2 flag-3 sh-port sh-fallback mh-port mh-fallback
  lb_kind lvs_method persistence_engine persistence_timeout persistence_granularity protocol ha_suspend smtp_alert
  virtualhost snmp_name alpha omega quorum_up quorum_down quorum hysteresis weight sorry_server sorry_server_inhibit
  sorry_server_lvs_method real_server`);
export const CHECKERS = w('TCP_CHECK HTTP_GET SSL_GET MISC_CHECK SMTP_CHECK DNS_CHECK UDP_CHECK PING_CHECK FILE_CHECK BFD_CHECK');
export const REAL_SERVER = [...w(`weight lvs_method uthreshold lthreshold inhibit_on_failure notify_up notify_down alpha
  retry delay_before_retry warmup connect_timeout delay_loop smtp_alert virtualhost snmp_name`), ...CHECKERS];
export const CHECK_COMMON = w(`connect_ip connect_port bindto bind_port bind_if connect_timeout fwmark retry
  delay_before_retry warmup delay_loop alpha log_all_failures`);
export const TCP_CHECK = CHECK_COMMON;
export const HTTP_GET = [...CHECK_COMMON, ...w('nb_get_retry virtualhost http_protocol fast_recovery url')];
export const SSL_GET = [...HTTP_GET, ...w('enable_sni sni_name')];
export const URL = w(`path digest status_code virtualhost regex regex_no_match regex_options regex_min_offset
  regex_max_offset regex_stack`);
export const MISC_CHECK = w('misc_path misc_timeout misc_dynamic user warmup delay_loop alpha retry delay_before_retry log_all_failures');
export const PING_CHECK = CHECK_COMMON;
export const UDP_CHECK = [...CHECK_COMMON, ...w('payload require_reply min_reply_length max_reply_length')];
export const DNS_CHECK = [...CHECK_COMMON, ...w('type name')];
export const SMTP_CHECK = [...CHECK_COMMON, ...w('helo_name host')];
/** check_file.c installs only these two (the man page's `dynamic` is not a keyword keepalived knows). */
export const FILE_CHECK = w('track_file weight');

export const BLOCKS: Record<string, readonly string[]> = {
  'top level': ROOT,
  global_defs: GLOBAL_DEFS,
  vrrp_script: VRRP_SCRIPT,
  track_file: TRACK_FILE,
  vrrp_track_process: VRRP_TRACK_PROCESS,
  vrrp_sync_group: SYNC_GROUP,
  vrrp_instance: VRRP_INSTANCE,
  vrrp_guard: VRRP_GUARD,
  authentication: AUTHENTICATION,
  garp_group: GARP_GROUP,
  SSL,
  virtual_server: VIRTUAL_SERVER,
  real_server: REAL_SERVER,
  TCP_CHECK,
  HTTP_GET,
  SSL_GET,
  url: URL,
  MISC_CHECK,
  FILE_CHECK,
  PING_CHECK,
  UDP_CHECK,
  DNS_CHECK,
  SMTP_CHECK,
  host: CHECK_COMMON,
};

/**
 * Recognised keepalived keywords that keepalived-ts does not implement yet, per block. They are reported once as a
 * `notice` (code `not-supported`) and otherwise ignored, so the `-t` verdict stays keepalived's.
 */
export const NOT_SUPPORTED: Record<string, ReadonlySet<string>> = {
  'top level': new Set(w(`track_group
    bfd_instance interface_up_down_delays net_namespace net_namespace_ipvs namespace_with_ipsets
    use_pid_dir instance`)),
  global_defs: new Set(w(`nftables_ipvs nftables_ipvs_priority nftables_ipvs_start_fwmark nftables_counters snmp_socket enable_traps enable_snmp_vrrp
    enable_snmp_keepalived enable_snmp_rfc enable_snmp_rfcv2 enable_snmp_rfcv3 enable_snmp_checker enable_dbus
    dbus_service_name max_auto_priority min_auto_priority_delay bfd_rt_priority
    vrrp_cpu_affinity checker_cpu_affinity bfd_cpu_affinity bfd_priority bfd_no_swap bfd_rlimit_rttime
    bfd_rlimit_rtime bfd_process_name reload_time_file reload_repeat reload_file config_save_dir tmp_config_directory
    vrrp_garp_extra_if vrrp_vmac_garp_intvl disable_local_igmp`)),
  vrrp_sync_group: new Set(w('track_bfd')),
  vrrp_instance: new Set(w(`vrf track_bfd old_unicast_checksum
    native_ipv6 kernel_rx_buf_size garp_extra_if vmac_garp_intvl`)),
  real_server: new Set(w('BFD_CHECK')),
  url: new Set(w('regex_stack')),
  virtual_server: new Set(w('persistence_engine')),
};

/** Keyword → the blocks it is valid in (for "valid in … instead"). */
const WHERE = new Map<string, string[]>();
for (const [block, kws] of Object.entries(BLOCKS))
  for (const k of kws) WHERE.set(k, [...(WHERE.get(k) ?? []), block]);

/**
 * Report a keyword its block does not know: `unknown-keyword` error with a did-you-mean from the same block and a
 * note when the keyword belongs to another block. Unknown blocks are skipped as a whole (keepalived instead lets
 * the `}` of an unknown block close the parent).
 */
export function unknownKeyword(ctx: Ctx, node: ConfigNode, block: string): void {
  const valid = BLOCKS[block] ?? [];
  const near = closest(node.keyword, valid);
  const elsewhere = (WHERE.get(node.keyword) ?? []).filter((b) => b !== block);
  const hints: string[] = [];
  if (near) hints.push(`did you mean '${near}'?`);
  if (elsewhere.length) hints.push(`'${node.keyword}' is valid in ${elsewhere.join(', ')}`);
  const what = node.block ? 'block' : 'keyword';
  ctx.diags.error('unknown-keyword', `unknown ${what} '${node.keyword}' in ${block}${node.block ? ' (whole block skipped)' : ''}`, node.loc, {
    keyword: node.keyword,
    suggestion: hints.length ? hints.join('; ') : undefined,
  });
}

const reportedNotSupported = new WeakMap<Ctx, Set<string>>();

/** If the keyword is recognised but not implemented: one notice per keyword per run; returns true. */
export function notSupported(ctx: Ctx, node: ConfigNode, block: string): boolean {
  if (!NOT_SUPPORTED[block]?.has(node.keyword)) return false;
  let seen = reportedNotSupported.get(ctx);
  if (!seen) reportedNotSupported.set(ctx, (seen = new Set()));
  const key = `${block}/${node.keyword}`;
  if (!seen.has(key)) {
    seen.add(key);
    ctx.diags.notice('not-supported', `'${node.keyword}' (${block}) is not supported yet by keepalived-ts; ignored`, node.loc, {
      keyword: node.keyword,
    });
  }
  return true;
}

/** Default handling for a keyword a builder does not consume: not-supported notice, else unknown-keyword error. */
export function otherKeyword(ctx: Ctx, node: ConfigNode, block: string): void {
  if (notSupported(ctx, node, block)) return;
  unknownKeyword(ctx, node, block);
}
