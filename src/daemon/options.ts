// The daemon's run options, as parsed from keepalived's command line (cli.ts). Plain data: it is passed to child
// processes as JSON.
import { syslogFacility } from './syslog-format.js';
export interface DaemonOptions {
  configFile: string;
  configId?: string;
  allConfig?: boolean;
  /** -n: stay in the foreground (otherwise the daemon detaches itself). */
  foreground: boolean;
  /** -l: log to the console (stderr) in text form. */
  logConsole: boolean;
  /** -D: detailed (debug) logging. */
  logDetail: boolean;
  logJson: boolean;
  /** -g[FILE]: also log to this file (children add _vrrp / _checkers before the extension, as keepalived). */
  logFile?: string;
  /** -S: syslog facility (0-7 = local0-7, user, daemon; default daemon). */
  logFacility?: string;
  /** -G: no syslog. */
  noSyslog?: boolean;
  /** --syslog-socket: where syslog lines go (default /dev/log, as glibc's syslog(3)). */
  syslogSocket?: string;
  /** -p */
  pidFile: string;
  /** -r */
  vrrpPidFile: string;
  /** -c */
  checkersPidFile: string;
  /** -V: leave VIPs in place on stop. */
  dontReleaseVrrp: boolean;
  /** -I: leave IPVS services in place on stop (checker child). */
  dontReleaseIpvs: boolean;
  /** --reset-overrides: a reload clears the real-server overrides (ctl drain/disable/weight) instead of keeping them. */
  resetOverrides?: boolean;
  /** -X: remove VIPs on leaving MASTER even if this run did not add them (keepalived-ts always does). */
  releaseVips: boolean;
  /** -R: do not respawn children; a child's death stops the daemon. */
  noRespawn: boolean;
  /** -P: run the VRRP child only. */
  vrrpOnly: boolean;
  /** -C: run the checker child only. */
  checkOnly: boolean;
  /** --status-listen ADDR:PORT | /path.sock */
  statusListen?: string;
  /** --status-listen-force: allow a non-loopback status address. */
  statusListenForce?: boolean;
  /** --ctl-allow-uid UID (repeatable): a non-root uid that may use the control interface on the unix socket. */
  ctlAllowUids?: number[];
  /** --ctl-allow-gid GID (repeatable): callers whose primary gid is this may control. */
  ctlAllowGids?: number[];
  /** --ctl-allow-tcp: control over a loopback TCP --status-listen (anyone on the host could then control). */
  ctlAllowTcp?: boolean;
  /** --maintenance-file PATH: where `ctl maintenance on` is kept over a restart (default: maintenanceFileOf). */
  maintenanceFile?: string;
  /** --ignore-sigint: only SIGTERM stops the daemon. */
  ignoreSigint?: boolean;
  /** argv to re-run in the foreground when detaching. */
  argv: string[];
}

/** keepalived's default paths (lib/paths: KEEPALIVED_PID_FILE …, with --runstatedir=/run as Debian builds). */
export const DEFAULT_CONFIG_FILE = '/etc/keepalived/keepalived.conf';
export const DEFAULT_PID_FILE = '/run/keepalived.pid';
export const DEFAULT_VRRP_PID_FILE = '/run/keepalived_vrrp.pid';
export const DEFAULT_CHECKERS_PID_FILE = '/run/keepalived_checkers.pid';
/** The socket glibc's syslog(3) writes to (_PATH_LOG). */
export const DEFAULT_SYSLOG_SOCKET = '/dev/log';

/** The logger's targets for a process of the daemon from its options: console with -l, syslog unless -G, -g file. */
export function logTargets(o: DaemonOptions): { console: boolean; syslog?: { socket: string; facility: number } } {
  return {
    console: o.logConsole,
    syslog: o.noSyslog ? undefined : { socket: o.syslogSocket ?? DEFAULT_SYSLOG_SOCKET, facility: syslogFacility(o.logFacility) },
  };
}

/** keepalived's -g default. */
export const DEFAULT_LOG_FILE = '/tmp/keepalived.log';

/** keepalived's per-process log file name: /tmp/keepalived.log → /tmp/keepalived_vrrp.log. */
export function childLogFile(file: string, kind: string): string {
  const slash = file.lastIndexOf('/');
  const dot = file.lastIndexOf('.');
  return dot > slash + 1 ? `${file.slice(0, dot)}_${kind}${file.slice(dot)}` : `${file}_${kind}`;
}

/**
 * Where `ctl maintenance on` is kept so that a restarted daemon stays in maintenance: --maintenance-file, else
 * beside the -p pid file (/run/keepalived.pid → /run/keepalived.maintenance). /run is emptied at boot, so a reboot
 * ends maintenance, as it ends everything else under /run.
 */
export function maintenanceFileOf(o: Pick<DaemonOptions, 'maintenanceFile' | 'pidFile'>): string {
  return o.maintenanceFile ?? `${o.pidFile.replace(/\.pid$/, '')}.maintenance`;
}
