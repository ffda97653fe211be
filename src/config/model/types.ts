// The resolved keepalived configuration: every keyword interpreted, validated and defaulted the way keepalived 2.2.x
// does it. Units: every duration is in MILLISECONDS (fields end in `Ms`); sizes in bytes; weights and priorities as
// keepalived counts them. Addresses are kept as canonical strings plus their family; prefix lengths as numbers.
// This is what `keepalived-ts -d` prints and what the VRRP engine, the checkers and the IPVS layer consume.
import type { Loc } from '../tree.js';
import type { Family } from '../../net/address.js';

/** 4 or 6: the one family encoding of the tree, defined with the addresses (src/net/address.ts). */
export type { Family };

/** A configured command line (notify*, script, misc_path, quorum_up/down, …). */
export interface ScriptSpec {
  /** Words after keepalived's shell-like re-tokenisation; argv[0] is the program. */
  argv: string[];
  /** The command text as written (quotes kept). */
  raw: string;
  /** Run as this user / group (`… user [group]` on the keyword, or vrrp_script `user`); unset = script_user default. */
  user?: string;
  group?: string;
  loc: Loc;
}

export interface GlobalDefs {
  routerId: string;
  notificationEmail: string[];
  notificationEmailFrom: string;
  smtpServer?: { host: string; port: number };
  smtpConnectTimeoutMs: number;
  smtpHeloName: string;
  /** smtp_alert / smtp_alert_vrrp / smtp_alert_checker; undefined = not set. */
  smtpAlert?: boolean;
  smtpAlertVrrp?: boolean;
  smtpAlertChecker?: boolean;
  scriptUser?: { user: string; group?: string };
  enableScriptSecurity: boolean;
  startupScript?: ScriptSpec;
  startupScriptTimeoutMs: number;
  shutdownScript?: ScriptSpec;
  shutdownScriptTimeoutMs: number;
  /** child_wait_time (a top-level keyword, seconds): how long a stopping parent waits for its children before SIGKILL. */
  childWaitTimeMs: number;
  vrrpMcastGroup4: string;
  vrrpMcastGroup6: string;
  vrrpVersion: 2 | 3;
  vrrpGarpMasterDelayMs: number;
  vrrpGarpMasterRepeat: number;
  vrrpGarpMasterRefreshMs: number;
  vrrpGarpMasterRefreshRepeat: number;
  vrrpGarpLowerPrioDelayMs: number;
  vrrpGarpLowerPrioRepeat: number;
  vrrpGarpIntervalMs: number;
  vrrpGnaIntervalMs: number;
  vrrpDownTimerAdverts: number;
  vrrpLowerPrioNoAdvert: boolean;
  vrrpHigherPrioSendAdvert: boolean;
  vrrpSkipCheckAdvAddr: boolean;
  vrrpStrict: boolean;
  /**
   * `nftables [TABLE]` (or `vrrp_iptables`, which this keepalived build turns into nftables): the table keepalived's
   * drop rules for non-accept VIPs live in. Undefined = none named; a no_accept instance then uses `keepalived`.
   */
  nftablesTable?: string;
  /** `nftables_priority`: the hook priority of our chains (-1, and `nftables` resets it to -1 as keepalived does). */
  nftablesPriority: number;
  /** `nftables_counters`: a counter on every rule. */
  nftablesCounters: boolean;
  /** `nftables_ifindex`: link-local VIPs keyed by interface index even with dont_track_primary. */
  nftablesIfindex: boolean;
  vrrpCheckUnicastSrc: boolean;
  vrrpNotifyPriorityChanges: boolean;
  vrrpStartupDelayMs: number;
  dynamicInterfaces: boolean;
  /** `dynamic_interfaces allow_if_changes`. */
  allowIfChanges: boolean;
  defaultInterface?: string;
  lvsSyncDaemon?: LvsSyncDaemon;
  lvsTimeouts: { tcpS?: number; tcpFinS?: number; udpS?: number };
  lvsFlush: boolean;
  /** `lvs_flush_on_stop`: 'all' (bare keyword) or 'vs' (only configured virtual servers); undefined = off. */
  lvsFlushOnStop?: 'all' | 'vs';
  notifyFifo?: NotifyFifo;
  vrrpNotifyFifo?: NotifyFifo;
  lvsNotifyFifo?: NotifyFifo;
  fifoWriteVrrpStatesOnReload: boolean;
  vmacPrefix: string;
  vmacAddrPrefix: string;
  logUnknownVrids: boolean;
  rsInitNotifies: boolean;
  /** `vrrp_priority` / `checker_priority`: the nice value (-20..19) of the VRRP / checker process; unset = inherited. */
  vrrpProcessNice?: number;
  checkerProcessNice?: number;
  /** `vrrp_rt_priority` / `checker_rt_priority`: SCHED_RR priority (1..99) of the process's main thread; unset = none. */
  vrrpRtPriority?: number;
  checkerRtPriority?: number;
  /** `*_rlimit_rttime`: RLIMIT_RTTIME hard limit in µs while real-time (soft = half); 0 = none; default 10000. */
  vrrpRlimitRttimeUs: number;
  checkerRlimitRttimeUs: number;
  /** `vrrp_no_swap` / `checker_no_swap`. */
  vrrpNoSwap: boolean;
  checkerNoSwap: boolean;
  noEmailFaults: boolean;
  noCheckerEmails: boolean;
  checkerLogAllFailures: boolean;
  /** process_monitor_rcv_bufs: SO_RCVBUF of the process-connector socket (vrrp_track_process); unset = the system's. */
  processMonitorRcvBufs?: number;
  /** process_monitor_rcv_bufs_force: set it with SO_RCVBUFFORCE (beyond net.core.rmem_max). */
  processMonitorRcvBufsForce: boolean;
  /** Top-level linkbeat_use_polling: poll the link state of every instance's interface (vrrp/linkbeat.ts). */
  linkbeatUsePolling: boolean;
  /** Every global_defs keyword seen (including the ones only recognised), with its raw words, in order. */
  other: Record<string, string[]>;
}

export interface LvsSyncDaemon {
  interface: string;
  /** Instance whose state drives the daemon (`inst`/bare second word); undefined = master and backup daemons. */
  vrrpInstance?: string;
  /** Sync id; undefined until resolved (= the instance's VRID, or 0). */
  syncId: number;
  maxlen?: number;
  port: number;
  ttl?: number;
  group?: string;
}

export interface NotifyFifo {
  path: string;
  user?: string;
  group?: string;
  script?: ScriptSpec;
}

export interface VrrpScript {
  name: string;
  script: ScriptSpec;
  intervalMs: number;
  timeoutMs: number;
  /** -253..253; 0 = a failure puts tracking instances into FAULT. */
  weight: number;
  /** `weight N reverse`. */
  weightReverse: boolean;
  rise: number;
  fall: number;
  initFail: boolean;
  loc: Loc;
}

export interface TrackFile {
  name: string;
  file: string;
  weight: number;
  weightReverse: boolean;
  /** `init_file [VALUE] [overwrite]`: create the file with VALUE if missing. */
  initFile?: { value: number; overwrite: boolean };
  loc: Loc;
}

/**
 * vrrp_track_process (vrrp_parser.c, track_process.c): how many running processes match, and whether that count is
 * within [quorum, quorumMax]. Without `full_command` (or parameters) `process` is compared with the process's comm
 * name (at most 15 characters); with it, with argv[0], and the parameters with argv[1..] as `paramMatch` says.
 */
export interface VrrpTrackProcess {
  name: string;
  process: string;
  /** Parameters after the name on the `process` line (they imply full_command and param_match exact). */
  params: string[];
  /** none: argv[0] or comm only; exact: these parameters and no others; partial: they start the command's
   * parameters; initial: as partial, the last one may be a prefix of the command's. */
  paramMatch: 'none' | 'exact' | 'partial' | 'initial';
  fullCommand: boolean;
  /** Up while quorum <= count <= quorumMax (defaults 1 and 4294967295; quorum_max 0 alone makes quorum 0). */
  quorum: number;
  quorumMax: number;
  /** -254..254, 0 = losing quorum puts tracking instances in FAULT. */
  weight: number;
  weightReverse: boolean;
  /** Losing quorum by exits is reported after this long (terminate_delay, or delay); 0 = at once. */
  terminateDelayMs: number;
  /** Gaining quorum by forks is reported after this long (fork_delay, or delay); 0 = at once. */
  forkDelayMs: number;
  loc: Loc;
}

/** A tracker reference inside an instance or sync group (`track_script { NAME [weight W [reverse]] }`). */
export interface TrackRef {
  name: string;
  /** Undefined = use the tracked object's own weight. */
  weight?: number;
  reverse: boolean;
  /** `reverse` or `noreverse` was written (keepalived otherwise keeps the tracked object's own `reverse`). */
  reverseGiven?: boolean;
  loc: Loc;
}

export interface TrackInterface {
  interface: string;
  weight: number;
  reverse: boolean;
  loc: Loc;
}

export interface NotifyScripts {
  master?: ScriptSpec;
  backup?: ScriptSpec;
  fault?: ScriptSpec;
  stop?: ScriptSpec;
  /** Generic `notify`: receives TYPE NAME STATE PRIO after its own arguments. */
  any?: ScriptSpec;
}

export interface VrrpSyncGroup {
  name: string;
  /** Member instance names, in configured order. */
  group: string[];
  trackInterfaces: TrackInterface[];
  trackScripts: TrackRef[];
  trackFiles: TrackRef[];
  trackProcesses: TrackRef[];
  notify: NotifyScripts;
  smtpAlert?: boolean;
  notifyPriorityChanges?: boolean;
  syncGroupTrackingWeight: boolean;
  /** keepalived-ts extension: the vrrp_guard whose lock the whole group takes (one lock for the group). */
  guard?: GuardRef;
  loc: Loc;
}

/** One `virtual_ipaddress` line (ip-address syntax). */
export interface VirtualIp {
  address: string;
  family: Family;
  /** Prefix length (/32 or /128 when not written). */
  prefix: number;
  /** Interface; defaults to the instance's interface. */
  dev: string;
  brd?: string;
  /** Numeric scope: 0 global, 200 site, 253 link, 254 host, 255 nowhere. */
  scope: number;
  label?: string;
  peer?: string;
  home: boolean;
  noDad: boolean;
  mngtmpaddr: boolean;
  noprefixroute: boolean;
  autojoin: boolean;
  noTrack: boolean;
  useVmac: boolean;
  /** preferred_lft in seconds; undefined = forever (kernel default). */
  preferredLftS?: number;
  loc: Loc;
}

/** One `virtual_routes` line (ip-route syntax), kept as typed fields plus the words we pass through. */
export interface VirtualRoute {
  /** Route type when written first (unicast, blackhole, unreachable, prohibit, throw, …). */
  type?: string;
  to: string;
  family: Family;
  src?: string;
  via?: string;
  dev?: string;
  table?: string;
  metric?: number;
  scope?: string;
  noTrack: boolean;
  /** All words as written, for options we do not model. */
  words: string[];
  loc: Loc;
}

export interface VirtualRule {
  from?: string;
  to?: string;
  table?: string;
  priority?: number;
  noTrack: boolean;
  words: string[];
  loc: Loc;
}

export interface UnicastPeer {
  address: string;
  family: Family;
  minTtl?: number;
  maxTtl?: number;
  loc: Loc;
}

export type AuthType = 'PASS' | 'AH';

export interface VrrpInstance {
  name: string;
  /** Initial state wanted (`state`, or derived from priority: 255 ⇒ MASTER). */
  state: 'MASTER' | 'BACKUP';
  /** Was `state` written. */
  stateConfigured: boolean;
  interface?: string;
  /** Interface exists in this namespace (false only when dynamic_interfaces let a missing one through). */
  interfaceExists: boolean;
  /** 1..255; required. */
  virtualRouterId: number;
  /** Base priority 1..255 (default 100; `state MASTER` without priority ⇒ 255). */
  priority: number;
  /** Advert interval after keepalived's rounding (v2: whole seconds; v3: 10 ms units). */
  advertIntMs: number;
  version: 2 | 3;
  family: Family;
  authentication?: { type: AuthType; /** Only the first 8 characters are used. */ pass: string };
  virtualIpaddresses: VirtualIp[];
  virtualIpaddressesExcluded: VirtualIp[];
  virtualRoutes: VirtualRoute[];
  virtualRules: VirtualRule[];
  trackInterfaces: TrackInterface[];
  trackScripts: TrackRef[];
  trackFiles: TrackRef[];
  trackProcesses: TrackRef[];
  dontTrackPrimary: boolean;
  mcastSrcIp?: string;
  unicastSrcIp?: string;
  unicastPeers: UnicastPeer[];
  /** True when peers are configured (keepalived's unicast mode). */
  unicast: boolean;
  unicastFaultNoPeer: boolean;
  /** IPv4 TTL for unicast adverts (255 default); undefined for IPv6 = kernel default. */
  unicastTtl?: number;
  checkUnicastSrc: boolean;
  /** Multicast destination (global vrrp_mcast_group4/6 unless mcast_dst_ip); undefined in unicast mode. */
  mcastDstIp?: string;
  trackSrcIp: boolean;
  nopreempt: boolean;
  preemptDelayMs: number;
  accept: boolean;
  strictMode: boolean;
  skipCheckAdvAddr: boolean;
  garpMasterDelayMs: number;
  garpMasterRepeat: number;
  garpMasterRefreshMs: number;
  garpMasterRefreshRepeat: number;
  garpLowerPrioDelayMs: number;
  garpLowerPrioRepeat: number;
  downTimerAdverts: number;
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  promoteSecondaries: boolean;
  /** linkbeat_use_polling in the instance: deprecated (an error) but keepalived 2.2.7 still polls the interface. */
  linkbeatUsePolling: boolean;
  /**
   * use_vmac: the macvlan's name (undefined = keepalived's default, `vrrp.<vrid>` from vmac_prefix) and MAC
   * (undefined = 00:00:5e:00:01:<vrid>, IPv6 00:00:5e:00:02:<vrid>), as the parser kept them.
   */
  useVmac?: { name?: string; mac?: string };
  /**
   * use_ipvlan: an ipvlan (mode l2) on the instance's interface carries the adverts (the VIPs stay on the interface,
   * as keepalived 2.2.7 leaves them, unless use_vmac is given too).
   * name undefined = keepalived's default (as use_vmac's); address = the ipvlan's own address, the adverts' source
   * unless mcast_src_ip / unicast_src_ip says otherwise; mode = IFLA_IPVLAN_FLAGS (bridge 0, private 1, vepa 2).
   */
  useIpvlan?: { name?: string; address?: { address: string; prefix: number; family: 4 | 6 }; mode: 'bridge' | 'private' | 'vepa' };
  /**
   * use_vmac_addr: each VIP / eVIP on another interface than the instance's, or of the other family, gets a VMAC
   * of its own on its interface (keepalived 2.2.7 vrrp.c, named from vmac_addr_prefix).
   */
  useVmacAddr: boolean;
  /** vmac_xmit_base: adverts go out of the base interface, not the VMAC (only with use_vmac). */
  vmacXmitBase: boolean;
  notify: NotifyScripts & { deleted?: ScriptSpec; masterRxLowerPri?: ScriptSpec };
  smtpAlert: boolean;
  notifyPriorityChanges: boolean;
  /** Name of the sync group this instance belongs to. */
  syncGroup?: string;
  /** keepalived-ts extension: the vrrp_guard whose lock this instance takes before MASTER (a sync group's wins). */
  guard?: GuardRef;
  /** keepalived would not run this instance (missing VRID, bad interface…): the reason. */
  cannotRun?: string;
  /**
   * keepalived runs this instance but keeps it in FAULT for as long as this configuration is loaded
   * (num_config_faults): the reason. A reload checks again.
   */
  configFault?: string;
  loc: Loc;
}

export type LbAlgo = 'rr' | 'wrr' | 'lc' | 'wlc' | 'lblc' | 'sh' | 'mh' | 'dh' | 'fo' | 'ovf' | 'lblcr' | 'sed' | 'nq' | 'twos';
export type LbKind = 'NAT' | 'DR' | 'TUN';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface TunnelSpec {
  type: 'ipip' | 'gue' | 'gre';
  port?: number;
  checksum?: 'nocsum' | 'csum' | 'remcsum';
}

export interface VirtualServerGroupEntry {
  kind: 'address' | 'fwmark';
  /** First address (ranges: A.B.C.D-E or A-B, and /nn subnets are expanded lazily by the IPVS layer). */
  address?: string;
  /** Last address of a range (inclusive); same as `address` for a single one. */
  addressEnd?: string;
  family?: Family;
  port?: number;
  fwmark?: number;
  loc: Loc;
}

export interface VirtualServerGroup {
  name: string;
  entries: VirtualServerGroupEntry[];
  loc: Loc;
}

/**
 * Settings inherited VS → RS → checker. At VS and RS level `retry`, `delayBeforeRetryMs` and `warmupMs` stay
 * undefined when not written (each checker type then applies its own default); on a checker everything is resolved.
 */
export interface ServerTimers {
  connectTimeoutMs: number;
  retry?: number;
  delayBeforeRetryMs?: number;
  delayLoopMs: number;
  warmupMs?: number;
  alpha: boolean;
}

/** Fully resolved checker timing (defaults: retry 1 (MISC 0), delay_before_retry 1 s (HTTP/SSL 3 s), warmup = delay_loop). */
export interface CheckTimers {
  connectTimeoutMs: number;
  retry: number;
  delayBeforeRetryMs: number;
  delayLoopMs: number;
  warmupMs: number;
  alpha: boolean;
}

export interface CheckerCommon extends CheckTimers {
  connectIp?: string;
  connectPort?: number;
  bindTo?: string;
  bindPort?: number;
  bindIf?: string;
  fwmark?: number;
  logAllFailures: boolean;
  loc: Loc;
}

export interface TcpCheck extends CheckerCommon {
  type: 'TCP_CHECK';
}

export interface HttpUrl {
  path: string;
  /** Lower-case 32 hex digits. */
  digest?: string;
  /** Accepted status codes as inclusive ranges (default [[200, 299]]). */
  statusCodes: Array<[number, number]>;
  virtualhost?: string;
  regex?: string;
  regexNoMatch: boolean;
  regexOptions: string[];
  regexMinOffset?: number;
  regexMaxOffset?: number;
  loc: Loc;
}

export interface HttpCheck extends CheckerCommon {
  type: 'HTTP_GET' | 'SSL_GET';
  urls: HttpUrl[];
  virtualhost?: string;
  httpProtocol: '1.0' | '1.0C' | '1.1';
  fastRecovery: boolean;
  enableSni: boolean;
  sniName?: string;
}

export interface MiscCheck extends CheckerCommon {
  type: 'MISC_CHECK';
  script: ScriptSpec;
  /** misc_timeout (default = delay_loop). */
  timeoutMs: number;
  dynamic: boolean;
}

/** FILE_CHECK (check_file.c): the value in a track_file, times `weight` (negated with `reverse`), is added to the
 * real server's weight; a result at or below IPVS_WEIGHT_FAULT (INT32_MIN), or any non-zero value with weight 0,
 * puts the checker down. It has no timers of its own: the file is watched. */
export interface FileCheck extends CheckerCommon {
  type: 'FILE_CHECK';
  /** The track_file block's name. */
  trackFile: string;
  /** Its `file` path (resolved from the track_file block). */
  file: string;
  /** -2147483647..2147483647; default the track_file's weight. */
  weight: number;
  weightReverse: boolean;
}

/** PING_CHECK (check_ping.c): one ICMP / ICMPv6 echo request per check; an echo reply within connect_timeout is success. */
export interface PingCheck extends CheckerCommon {
  type: 'PING_CHECK';
}

/** UDP_CHECK (check_udp.c, layer4.c): a datagram to the real server; an ICMP unreachable is failure, silence is
 * success unless require_reply is set; with a reply pattern the reply's length and bytes are checked. */
export interface UdpCheck extends CheckerCommon {
  type: 'UDP_CHECK';
  /** Sent bytes (default: 32 bytes of "keepalived check - " repeated). */
  payload?: number[];
  requireReply: boolean;
  /** require_reply's hex pattern, if any, and its wildcard mask (bits set = any value). */
  reply?: number[];
  replyMask?: number[];
  minReplyLength: number;
  maxReplyLength: number;
}

/** DNS_CHECK (check_dns.c): one query (RD set, random id) over UDP; a reply with our id, QR set and RCODE 0 is
 * success, any other RCODE is failure. Defaults: type SOA, name "" (the root), retry 3, delay_before_retry = delay_loop. */
export interface DnsCheck extends CheckerCommon {
  type: 'DNS_CHECK';
  /** The query type's number (A 1, NS 2, CNAME 5, SOA 6, MX 15, TXT 16, AAAA 28, RRSIG 46, DNSKEY 48). */
  qtype: number;
  name: string;
}

/** SMTP_CHECK (check_smtp.c): banner 220, HELO helo_name → 250, QUIT → any line. Each `host {}` block of an older
 * configuration is one more SMTP_CHECK on that host (the first one replaces the checker's own address when the
 * checker sets no connection option itself). */
export interface SmtpCheck extends CheckerCommon {
  type: 'SMTP_CHECK';
  heloName: string;
}

export type Checker = TcpCheck | HttpCheck | MiscCheck | FileCheck | PingCheck | UdpCheck | DnsCheck | SmtpCheck;

export interface RealServer extends ServerTimers {
  address: string;
  family: Family;
  /** Resolved port (VS port for DR/TUN; 0 for fwmark). */
  port: number;
  weight: number;
  lbKind: LbKind;
  tunnel?: TunnelSpec;
  inhibitOnFailure: boolean;
  notifyUp?: ScriptSpec;
  notifyDown?: ScriptSpec;
  uthreshold?: number;
  lthreshold?: number;
  smtpAlert: boolean;
  virtualhost?: string;
  checkers: Checker[];
  loc: Loc;
}

export interface SorryServer {
  address: string;
  family: Family;
  port: number;
  inhibit: boolean;
  lbKind?: LbKind;
}

export interface VirtualServer extends ServerTimers {
  /** How it was addressed: `IP PORT`, `fwmark N` or `group NAME`. */
  kind: 'address' | 'fwmark' | 'group';
  address?: string;
  port?: number;
  fwmark?: number;
  group?: string;
  family: Family;
  /** Display key like keepalived's: `[10.0.0.1]:tcp:80`, `FWM 1`, `[grp]:tcp:0`. */
  key: string;
  protocol: Protocol;
  lbAlgo: LbAlgo;
  lbKind: LbKind;
  tunnel?: TunnelSpec;
  /** Persistence timeout in seconds, 0 = off. */
  persistenceTimeoutS: number;
  persistenceGranularity?: string;
  persistenceEngine?: string;
  /** IPVS scheduler flags: flag-1/2/3, sh-port, sh-fallback, mh-port, mh-fallback, ops, hashed. */
  schedFlags: string[];
  inhibitOnFailure: boolean;
  omega: boolean;
  quorum: number;
  hysteresis: number;
  quorumUp?: ScriptSpec;
  quorumDown?: ScriptSpec;
  sorryServer?: SorryServer;
  virtualhost?: string;
  /** Default real server weight. */
  weight: number;
  haSuspend: boolean;
  smtpAlert?: boolean;
  realServers: RealServer[];
  loc: Loc;
}

export interface SslConfig {
  password?: string;
  ca?: string;
  certificate?: string;
  key?: string;
}

/** `guard NAME` in a vrrp_instance or vrrp_sync_group. */
export interface GuardRef {
  name: string;
  loc: Loc;
}

/**
 * vrrp_guard NAME { … } (keepalived-ts extension, not a keepalived keyword): a coordination service whose lock an
 * instance or sync group must hold to be MASTER (README "Split-brain guard").
 */
export interface VrrpGuard {
  name: string;
  backend: 'zookeeper' | 'etcd';
  /** host:port (ZooKeeper) or URLs (etcd), as written. */
  endpoints: string[];
  /** Lock prefix: one lock per instance (VRID + interface) or sync group below it. */
  path: string;
  sessionTimeoutMs: number;
  /** required: no MASTER without the lock; advisory: log, metric and notify only. */
  mode: 'required' | 'advisory';
  /** required mode, service unreachable: keep the VIPs until the session's safe deadline, or release them at once. */
  unreachable: 'keep' | 'release';
  loc: Loc;
}

/**
 * A `garp_group` (keepalived vrrp_parser.c): its interfaces share one GARP/NA pacing, with these intervals instead
 * of vrrp_garp_interval / vrrp_gna_interval (an interval it does not set is 0: no spacing).
 */
export interface GarpGroup {
  garpIntervalMs?: number;
  gnaIntervalMs?: number;
  interfaces: string[];
  loc: Loc;
}

/** One linkbeat_interfaces line: `IF [MII|ETHTOOL|IOCTL]`; no method = the first that works, in that order. */
export interface LinkbeatInterface {
  interface: string;
  type?: 'MII' | 'ETHTOOL' | 'IOCTL';
  loc: Loc;
}

export interface KeepalivedConfig {
  globalDefs: GlobalDefs;
  vrrpScripts: VrrpScript[];
  trackFiles: TrackFile[];
  trackProcesses: VrrpTrackProcess[];
  syncGroups: VrrpSyncGroup[];
  vrrpInstances: VrrpInstance[];
  /** vrrp_guard blocks (keepalived-ts extension). */
  guards: VrrpGuard[];
  virtualServerGroups: VirtualServerGroup[];
  virtualServers: VirtualServer[];
  ssl?: SslConfig;
  /** static_ipaddress / static_routes / static_rules: added by the VRRP process at start, whatever the VRRP states. */
  staticAddresses: VirtualIp[];
  staticRoutes: VirtualRoute[];
  staticRules: VirtualRule[];
  /** garp_group blocks that keepalived keeps (at least one interval set), in order. */
  garpGroups: GarpGroup[];
  /** linkbeat_interfaces lines (all blocks, a later line for the same interface replacing an earlier one). */
  linkbeatInterfaces: LinkbeatInterface[];
  /** Every configured script in one list (for script-security checks and the notify layer). */
  scripts: Array<{ where: string; kind: 'notify' | 'track' | 'check' | 'fifo' | 'startup'; spec: ScriptSpec }>;
}
