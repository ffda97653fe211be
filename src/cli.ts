// keepalived-ts command line. Options follow keepalived's long and short forms (keepalived/core/main.c); this file
// only parses argv and dispatches: config test and dump (config/check-config.ts), --signum, and the daemon
// (daemon/launch.ts). keepalived options keepalived-ts does not implement are refused with the reason.
import { parseArgs } from 'node:util';
import { VERSION } from './version.js';
import { constants as osConstants } from 'node:os';
import { keepalivedRtSignals } from './daemon/rt-signals.js';
import { DEFAULT_CHECKERS_PID_FILE, DEFAULT_CONFIG_FILE, DEFAULT_LOG_FILE, DEFAULT_PID_FILE, DEFAULT_VRRP_PID_FILE } from './daemon/options.js';
import { CONFIG_TEST_OK, EXIT_FATAL, EXIT_OK } from './util/exit-codes.js';
import { restoreExtraCaCerts } from './util/extra-ca-certs.js';

// Loaded on demand: `-t` must not pay for the daemon's modules (pino, the addon, notify, VRRP); a daemon loads the
// parser in launch.ts, which reads the configuration first to open the VRRP sockets.
const loadDaemon = () => import('./daemon/launch.js');
// -t / -d: the bundled checker with its code cache when the build made one (config/check-bundle.ts).
const loadCheck = () => import('./config/check-bundle.js').then((b) => b.loadConfigChecker());

const USAGE = `Usage: keepalived-ts [OPTION...]
  -f, --use-file=FILE          Use the specified configuration file (default ${DEFAULT_CONFIG_FILE})
  -P, --vrrp                   Only run with VRRP subsystem
  -C, --check                  Only run with Health-checker subsystem
  -B, --no_bfd                 Don't run BFD subsystem (keepalived-ts has none: accepted, no BFD child ever runs)
  -b, --bfd_pid=FILE           Accepted for scripts written for keepalived; unused (no BFD child)
  -l, --log-console            Log messages to the console (stderr) as well
  -D, --log-detail             Detailed log messages
  -S, --log-facility=[0-7]     Set syslog facility to LOG_LOCAL[0-7], user or daemon (default)
  -g, --log-file[=FILE]        Also log to FILE (default /tmp/keepalived.log; children add _vrrp/_checkers)
      --flush-log-file         Accepted: log file lines are written as they come
  -G, --no-syslog              Don't log via syslog
      --syslog-socket=PATH     Send syslog lines to this unix datagram socket (default /dev/log)
  -u, --umask=MASK             umask for file creation (in octal)
  -X, --release-vips           Drop VIPs on leaving MASTER even if this run did not add them (always so here)
  -V, --dont-release-vrrp      Don't remove VRRP VIPs and VROUTEs on daemon stop
  -I, --dont-release-ipvs      Don't remove IPVS topology on daemon stop
  -R, --dont-respawn           Don't respawn child processes
  -n, --dont-fork              Don't fork the daemon process
  -d, --dump-conf              Print the resolved configuration (JSON) on stdout
  -p, --pid=FILE               Use specified pidfile for parent process (default ${DEFAULT_PID_FILE})
  -r, --vrrp_pid=FILE          Use specified pidfile for VRRP child process (default ${DEFAULT_VRRP_PID_FILE})
  -c, --checkers_pid=FILE      Use specified pidfile for checkers child process (default ${DEFAULT_CHECKERS_PID_FILE})
  -e, --all-config             Fail if any configuration file is missing
  -i, --config-id ID           Skip any configuration lines beginning '@' that don't match ID
      --ignore-sigint          Ignore SIGINT (only SIGTERM stops the daemon)
      --reset-overrides        A reload (SIGHUP) clears the real-server overrides set with ctl drain/disable/weight
      --signum=SIGFUNC         Print the signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR or JSON
  -t, --config-test[=FILE]     Check the configuration for obvious errors and exit
      --status-listen=ADDR:PORT|PATH
                               Serve GET /status, /metrics (Prometheus) and /keepalived.json (loopback or unix socket)
      --status-listen-force    Allow a non-loopback --status-listen address (the endpoint has no authentication)
      --ctl-allow-uid=UID      Also let this uid use the control interface (POST /ctl) on the unix socket (repeatable)
      --ctl-allow-gid=GID      Also let callers with this primary gid control (repeatable)
      --ctl-allow-tcp          Allow control over a loopback TCP --status-listen (any local user could then control)
      --maintenance-file=PATH  Where \`ctl maintenance on\` is kept over a restart (default: the -p file's name
                               with .maintenance for .pid: /run/keepalived.maintenance)
      --log-json               Log JSON lines (pino) instead of text
  -T, --genhash ...            Genhash mode (must come first): MD5 of a URL for HTTP_GET digest (--genhash -h)
  -v, --version                Display the version number
      ctl ...                  (first word) Control a running daemon: keepalived-ts ctl help
  -h, --help                   Display this help message

Signals: HUP reload, TERM/INT stop, USR1 data dump ($TMPDIR/keepalived.data), USR2 stats (keepalived.stats);
SIGRTMIN+2 the JSON dump and SIGRTMAX-1 clears the stats, as keepalived (WINCH and URG do the same).

Exit status of -t: 0 clean, 4 fatal (missing file, bad interface, instance cannot run), 5 other errors or
warnings, 6 script security. keepalived reports the least severe level seen; keepalived-ts the most severe.
`;

/** keepalived options keepalived-ts does not implement: refused with the reason, never ignored. */
const UNSUPPORTED: Array<[RegExp, string]> = [
  [/^(-a|--address-monitoring)$/, '-a/--address-monitoring is not supported'],
  [/^(-s|--namespace)(=|$)|^-s./, '-s/--namespace is not supported: run keepalived-ts with `ip netns exec NAME`'],
  [/^(-m|--core-dump)$/, '-m/--core-dump is not supported'],
  [/^(-M|--core-dump-pattern)(=|$)|^-M./, '-M/--core-dump-pattern is not supported'],
  [/^(-x|--snmp)$/, '-x/--snmp: keepalived-ts has no SNMP agent (see --status-listen for metrics)'],
  [/^(-A|--snmp-agent-socket)(=|$)|^-A./, '-A/--snmp-agent-socket: keepalived-ts has no SNMP agent'],
  [/^--all$/, '--all is not supported: children start only when the configuration has work for them'],
  [/^--config-fd(=|$)/, '--config-fd is internal to keepalived'],
  [/^--(perf|debug|no-mem-check|mem-check-log|openssl-mem-check)(=|$)|^-L$/, 'debugging and memory-check build options are not supported'],
];

/** keepalived's --signum functions. JSON and STATS_CLEAR are keepalived's real-time signals (see rt-signals.ts). */
const SIGNUMS: Record<string, () => number> = {
  STOP: () => osConstants.signals.SIGTERM,
  RELOAD: () => osConstants.signals.SIGHUP,
  DATA: () => osConstants.signals.SIGUSR1,
  STATS: () => osConstants.signals.SIGUSR2,
  STATS_CLEAR: () => keepalivedRtSignals().statsClear,
  JSON: () => keepalivedRtSignals().json,
};

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** keepalived's optional-argument forms (-g, --log-file, --config-test=FILE) turned into what parseArgs reads. */
function normalizeArgv(argv: string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    if (a === '-g' || a === '--log-file') out.push(`--log-file=${DEFAULT_LOG_FILE}`);
    else if (a.startsWith('--config-test=')) out.push('--config-test', `--use-file=${a.slice('--config-test='.length)}`);
    else out.push(a);
  }
  return out;
}

/** Runs the CLI and returns the exit code (no process.exit inside, so tests call it directly). */
export function main(argv: string[], io: CliIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): number | Promise<number> {
  // keepalived: --genhash / -T must come first; the rest are genhash's own options.
  if (argv[0] === '--genhash' || argv[0] === '-T') return import('./check/genhash.js').then((g) => g.runGenhash(argv.slice(1), io));
  if (argv[0] === 'ctl') return import('./daemon/ctl-cli.js').then((c) => c.runCtl(argv.slice(1), io));
  for (const a of argv) {
    const hit = UNSUPPORTED.find(([re]) => re.test(a));
    if (hit) {
      io.err(`keepalived-ts: ${hit[1]}\n`);
      return EXIT_FATAL;
    }
  }
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: normalizeArgv(argv),
      strict: true,
      allowPositionals: false,
      options: {
        'use-file': { type: 'string', short: 'f' },
        vrrp: { type: 'boolean', short: 'P' },
        check: { type: 'boolean', short: 'C' },
        no_bfd: { type: 'boolean', short: 'B' },
        'config-test': { type: 'boolean', short: 't' },
        'dump-conf': { type: 'boolean', short: 'd' },
        'config-id': { type: 'string', short: 'i' },
        'all-config': { type: 'boolean', short: 'e' },
        version: { type: 'boolean', short: 'v' },
        'dont-fork': { type: 'boolean', short: 'n' },
        'log-console': { type: 'boolean', short: 'l' },
        'log-detail': { type: 'boolean', short: 'D' },
        'log-facility': { type: 'string', short: 'S' },
        'log-file': { type: 'string', short: 'g' },
        'flush-log-file': { type: 'boolean' },
        'no-syslog': { type: 'boolean', short: 'G' },
        'syslog-socket': { type: 'string' },
        umask: { type: 'string', short: 'u' },
        pid: { type: 'string', short: 'p' },
        vrrp_pid: { type: 'string', short: 'r' },
        checkers_pid: { type: 'string', short: 'c' },
        bfd_pid: { type: 'string', short: 'b' },
        'release-vips': { type: 'boolean', short: 'X' },
        'dont-release-vrrp': { type: 'boolean', short: 'V' },
        'dont-release-ipvs': { type: 'boolean', short: 'I' },
        'dont-respawn': { type: 'boolean', short: 'R' },
        'ignore-sigint': { type: 'boolean' },
        'reset-overrides': { type: 'boolean' },
        signum: { type: 'string' },
        'status-listen': { type: 'string' },
        'status-listen-force': { type: 'boolean' },
        'ctl-allow-uid': { type: 'string', multiple: true },
        'ctl-allow-gid': { type: 'string', multiple: true },
        'ctl-allow-tcp': { type: 'boolean' },
        'maintenance-file': { type: 'string' },
        'log-json': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.err(`keepalived-ts: ${(e as Error).message}\n${USAGE}`);
    return EXIT_FATAL;
  }
  if (values['help']) { io.out(USAGE); return EXIT_OK; }
  if (values['version']) { io.out(`keepalived-ts ${VERSION}\n`); return EXIT_OK; }
  if (values['signum'] !== undefined) {
    const name = String(values['signum']).toUpperCase();
    const sig = SIGNUMS[name];
    if (!sig) {
      io.err(`keepalived-ts: --signum=${values['signum']}: unknown or unsupported signal function (${Object.keys(SIGNUMS).join(', ')})\n`);
      return EXIT_FATAL;
    }
    io.out(`${sig()}\n`);
    return EXIT_OK;
  }
  if (values['vrrp'] && values['check']) {
    io.err('keepalived-ts: -P/--vrrp and -C/--check exclude each other\n');
    return EXIT_FATAL;
  }
  const facility = values['log-facility'] as string | undefined;
  if (facility !== undefined && !/^([0-7]|local[0-7]|user|daemon)$/.test(facility)) {
    io.err(`keepalived-ts: -S ${facility}: expected 0-7, local0-local7, user or daemon\n`);
    return EXIT_FATAL;
  }
  const umask = values['umask'] as string | undefined;
  if (umask !== undefined) {
    if (!/^0?[0-7]{1,3}$/.test(umask)) {
      io.err(`keepalived-ts: -u ${umask}: expected an octal umask\n`);
      return EXIT_FATAL;
    }
    process.umask(Number.parseInt(umask, 8));
  }
  const ids = (name: string): number[] | undefined => {
    const v = values[name] as string[] | undefined;
    if (!v) return undefined;
    const out = v.map((x) => (/^\d+$/.test(x) ? Number(x) : NaN));
    if (out.some((n) => Number.isNaN(n))) throw new Error(`--${name}: expected numeric ids, got ${v.join(', ')}`);
    return out;
  };
  let ctlAllowUids: number[] | undefined;
  let ctlAllowGids: number[] | undefined;
  try {
    ctlAllowUids = ids('ctl-allow-uid');
    ctlAllowGids = ids('ctl-allow-gid');
  } catch (e) {
    io.err(`keepalived-ts: ${(e as Error).message}\n`);
    return EXIT_FATAL;
  }
  const file = (values['use-file'] as string | undefined) ?? DEFAULT_CONFIG_FILE;
  if (values['config-test'] || values['dump-conf']) {
    return loadCheck().then(({ checkConfig, formatDiagnostic }) => {
      const r = checkConfig(file, { configId: values['config-id'] as string | undefined, allConfig: Boolean(values['all-config']) });
      for (const d of r.diags) io.err(formatDiagnostic(d) + '\n');
      if (values['dump-conf']) io.out(JSON.stringify(r.model, null, 2) + '\n');
      return values['config-test'] ? r.exitCode : r.exitCode === CONFIG_TEST_OK ? EXIT_OK : r.exitCode;
    });
  }
  if (!values['dont-fork']) {
    return loadDaemon().then((d) => d.detach(argv, {
      configFile: file, configId: values['config-id'] as string | undefined, allConfig: Boolean(values['all-config']), checkOnly: Boolean(values['check']),
    }));
  }
  if (values['ignore-sigint']) process.on('SIGINT', () => undefined);
  return loadDaemon().then((d) => d.runDaemon({
    configFile: file,
    configId: values['config-id'] as string | undefined,
    allConfig: Boolean(values['all-config']),
    foreground: true,
    logConsole: Boolean(values['log-console']),
    logDetail: Boolean(values['log-detail']),
    logJson: Boolean(values['log-json']),
    logFile: values['log-file'] as string | undefined,
    logFacility: facility,
    noSyslog: Boolean(values['no-syslog']),
    syslogSocket: values['syslog-socket'] as string | undefined,
    pidFile: (values['pid'] as string | undefined) ?? DEFAULT_PID_FILE,
    vrrpPidFile: (values['vrrp_pid'] as string | undefined) ?? DEFAULT_VRRP_PID_FILE,
    checkersPidFile: (values['checkers_pid'] as string | undefined) ?? DEFAULT_CHECKERS_PID_FILE,
    dontReleaseVrrp: Boolean(values['dont-release-vrrp']),
    dontReleaseIpvs: Boolean(values['dont-release-ipvs']),
    releaseVips: Boolean(values['release-vips']),
    noRespawn: Boolean(values['dont-respawn']),
    vrrpOnly: Boolean(values['vrrp']),
    checkOnly: Boolean(values['check']),
    statusListen: values['status-listen'] as string | undefined,
    statusListenForce: Boolean(values['status-listen-force']),
    ctlAllowUids,
    ctlAllowGids,
    ctlAllowTcp: Boolean(values['ctl-allow-tcp']),
    maintenanceFile: values['maintenance-file'] as string | undefined,
    ignoreSigint: Boolean(values['ignore-sigint']),
    resetOverrides: Boolean(values['reset-overrides']),
    argv,
  }));
}

// Entry point when run as a program (bin/keepalived-ts.js imports the compiled file).
const isMain = process.argv[1] && /(^|\/)(cli\.(ts|js)|keepalived-ts(\.js)?)$/.test(process.argv[1]);
if (isMain) {
  // The environment as the operator started us (bin/keepalived-ts moved NODE_EXTRA_CA_CERTS aside for Node's start).
  restoreExtraCaCerts();
  void Promise.resolve(main(process.argv.slice(2))).then((code) => {
    process.exitCode = code;
    // The daemon's sockets and watchers are closed on stop; exit explicitly so nothing lingers.
    if (code !== undefined) setImmediate(() => process.exit(code));
  });
}
