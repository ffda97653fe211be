// Input model of the health-checker subsystem. The lead maps the config model onto these types;
// every value here is already resolved (inheritance VS → RS → checker applied, defaults filled in,
// all durations in milliseconds). Everything must be JSON-serialisable: it crosses the IPC boundary
// to the checker child process.

export type LvsProtocol = 'tcp' | 'udp' | 'sctp';

/** A script as keepalived runs it: a command line (split like keepalived does) and an optional user/group. */
export interface ScriptRef {
  cmd: string;
  /** The words already split by the config reader (keepalived's script-string rules); preferred over `cmd`. */
  argv?: string[];
  user?: string;
  group?: string;
}

/** Timer and retry settings of one checker, resolved with keepalived's inheritance and defaults. */
export interface CheckerTiming {
  /** delay_loop: interval between checks while settled (keepalived default 60 s). */
  delayLoopMs: number;
  /** delay_before_retry: interval before a retry while the checker is UP (1 s; HTTP/SSL 3 s). */
  delayBeforeRetryMs: number;
  /** retry: failed retries tolerated before DOWN (1; MISC 0). */
  retry: number;
  /** warmup: the first run happens after 1 s + random(0..warmup) (default = delay_loop). */
  warmupMs: number;
  /** alpha: the checker starts failed; its real server is not in IPVS until the first success. */
  alpha: boolean;
  /** log_all_failures: log every failed attempt, not only state changes. */
  logAllFailures?: boolean;
}

/** Connection options shared by TCP_CHECK, HTTP_GET and SSL_GET. */
export interface ConnectOptions {
  /** connect_ip (default: the real server address). */
  connectIp?: string;
  /** connect_port (default: the real server port). */
  connectPort?: number;
  /** bindto: local source address. */
  bindTo?: string;
  /** bind_port: local source port. */
  bindPort?: number;
  /** connect_timeout (default 5 s); for HTTP/SSL the whole-request timeout. */
  connectTimeoutMs: number;
}

export interface TcpCheckerConfig extends CheckerTiming, ConnectOptions {
  kind: 'TCP_CHECK';
}

/** Inclusive status code range; a single code N is [N, N]. */
export type StatusRange = [number, number];

export interface HttpUrlConfig {
  path: string;
  /** 32 hex digits: MD5 of the body. */
  digest?: string;
  /** Empty/absent = keepalived's default 200-299. */
  statusCodes?: StatusRange[];
  virtualhost?: string;
  /** PCRE2 regex applied to the body (translated to JavaScript by pcre.ts, as keepalived-ts -t checks it). */
  regex?: string;
  /** regex_options words (caseless, multiline, dotall, extended, …). */
  regexOptions?: string[];
  /** regex_min_offset: the match is searched from this body offset on. */
  regexMinOffset?: number;
  /** regex_max_offset: the match must start at or before this body offset. */
  regexMaxOffset?: number;
  /** regex_no_match: success when the regex does NOT match. */
  regexNoMatch?: boolean;
}

export interface TlsFiles {
  /** SSL { certificate } — client certificate file (PEM). */
  certificate?: string;
  /** SSL { key } — client key file (PEM). */
  key?: string;
  /** SSL { ca } — CA file; loaded but, like keepalived, never used to verify the server. */
  ca?: string;
  /** SSL { password } — key passphrase. */
  password?: string;
}

export interface HttpCheckerConfig extends CheckerTiming, ConnectOptions {
  kind: 'HTTP_GET' | 'SSL_GET';
  urls: HttpUrlConfig[];
  /** Checker-level virtualhost (url > checker > RS > VS). */
  virtualhost?: string;
  /** http_protocol: 1.0 (default), 1.0C (1.0 + Connection: close), 1.1 (+ Connection: close). */
  httpProtocol?: '1.0' | '1.0C' | '1.1';
  fastRecovery?: boolean;
  /** SSL_GET only. */
  enableSni?: boolean;
  sniName?: string;
  tls?: TlsFiles;
}

export interface MiscCheckerConfig extends CheckerTiming {
  kind: 'MISC_CHECK';
  /** misc_path: command line. */
  path: string;
  /** misc_path already split by the config reader; preferred over `path`. */
  argv?: string[];
  /** misc_timeout (default: VS delay_loop). */
  timeoutMs: number;
  /** misc_dynamic: exit 2..255 sets the weight to status − 2. */
  dynamic?: boolean;
  user?: string;
  group?: string;
}

export type CheckerConfig = TcpCheckerConfig | HttpCheckerConfig | MiscCheckerConfig;

export interface CheckedRealServer {
  addr: string;
  port: number;
  /** Configured weight (iweight), default 1. */
  weight: number;
  inhibitOnFailure?: boolean;
  notifyUp?: ScriptRef;
  notifyDown?: ScriptRef;
  virtualhost?: string;
  checkers: CheckerConfig[];
}

export interface SorryServer {
  addr: string;
  port: number;
  weight: number;
  /** sorry_server_inhibit: kept in IPVS with weight 0 while not needed. */
  inhibit?: boolean;
}

export interface CheckedVirtualServer {
  /** Stable identity, used in desired-state output (the lead chooses it, e.g. "tcp:10.0.0.1:80"). */
  key: string;
  protocol: LvsProtocol;
  /** Address VS: addr + port; fwmark VS: fwmark; group VS: group + port. */
  addr?: string;
  port?: number;
  fwmark?: number;
  group?: string;
  /** Already clamped by the config model (quorum ≤ Σ weights, hysteresis < quorum). Default 1 / 0. */
  quorum: number;
  hysteresis: number;
  quorumUp?: ScriptRef;
  quorumDown?: ScriptRef;
  sorryServer?: SorryServer;
  virtualhost?: string;
  /** omega: run quorum_down / notify_down scripts on shutdown. */
  omega?: boolean;
  /** ha_suspend: checkers run only while `addr` is a local address (see CheckEngine.setLocalAddresses). */
  haSuspend?: boolean;
  realServers: CheckedRealServer[];
}

export interface CheckConfig {
  virtualServers: CheckedVirtualServer[];
  /** Upper bound of probes in flight at once (engine). */
  maxConcurrent?: number;
}

/** One destination as it must be in IPVS. */
export interface DesiredDest {
  addr: string;
  port: number;
  weight: number;
  /** Present only because of inhibit_on_failure / sorry_server_inhibit (weight 0). */
  inhibited: boolean;
}

export interface DesiredVs {
  vsKey: string;
  dests: DesiredDest[];
}

/** Result of one probe. `exitStatus` is set by MISC_CHECK when the script exited normally. */
export interface ProbeResult {
  ok: boolean;
  reason: string;
  exitStatus?: number;
}

