// keepalived-ts command line. Options follow keepalived's long and short forms (keepalived/core/main.c); this file
// only parses argv and dispatches. Config test and dump live in config/check-config.ts; daemon modes (-n, -l, -D,
// -p, …) are added here later as further dispatch targets.
import { parseArgs } from 'node:util';
import { formatDiagnostic } from './config/diagnostics.js';
import { checkConfig, DEFAULT_CONFIG_FILE } from './config/check-config.js';
import { VERSION } from './version.js';
import { detach, runDaemon } from './daemon/run.js';

const USAGE = `Usage: keepalived-ts [OPTION...]
  -f, --use-file=FILE          Use the specified configuration file (default ${DEFAULT_CONFIG_FILE})
  -t, --config-test            Check the configuration for obvious errors and exit
  -d, --dump-conf              Print the resolved configuration (JSON) on stdout
  -i, --config-id ID           Skip any configuration lines beginning '@' that don't match ID
  -e, --all-config             Fail if any configuration file is missing
  -n, --dont-fork              Don't fork the daemon process
  -l, --log-console            Log messages to the console (stderr)
  -D, --log-detail             Detailed log messages
  -G, --no-syslog              Don't log via syslog (keepalived-ts logs to stderr / the journal)
  -p, --pid=FILE               Use specified pidfile for parent process (default /run/keepalived.pid)
  -r, --vrrp_pid=FILE          Use specified pidfile for VRRP child process (default /run/keepalived_vrrp.pid)
  -c, --checkers_pid=FILE      Use specified pidfile for checkers child process
  -b, --bfd_pid=FILE           Accepted for keepalived compatibility (keepalived-ts has no BFD child)
  -V, --dont-release-vrrp      Don't remove VRRP VIPs and VROUTEs on daemon stop
  -I, --dont-release-ipvs      Don't remove IPVS topology on daemon stop
      --log-json               Log JSON lines (pino) instead of text
  -v, --version                Display the version number
  -h, --help                   Display this help message

Exit status of -t: 0 clean, 4 fatal (missing file, bad interface, instance cannot run), 5 other errors or
warnings, 6 script security. keepalived reports the least severe level seen; keepalived-ts the most severe.
`;

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Runs the CLI and returns the exit code (no process.exit inside, so tests call it directly). */
export function main(argv: string[], io: CliIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): number | Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'use-file': { type: 'string', short: 'f' },
        'config-test': { type: 'boolean', short: 't' },
        'dump-conf': { type: 'boolean', short: 'd' },
        'config-id': { type: 'string', short: 'i' },
        'all-config': { type: 'boolean', short: 'e' },
        version: { type: 'boolean', short: 'v' },
        'dont-fork': { type: 'boolean', short: 'n' },
        'log-console': { type: 'boolean', short: 'l' },
        'log-detail': { type: 'boolean', short: 'D' },
        'no-syslog': { type: 'boolean', short: 'G' },
        pid: { type: 'string', short: 'p' },
        vrrp_pid: { type: 'string', short: 'r' },
        checkers_pid: { type: 'string', short: 'c' },
        bfd_pid: { type: 'string', short: 'b' },
        'dont-release-vrrp': { type: 'boolean', short: 'V' },
        'dont-release-ipvs': { type: 'boolean', short: 'I' },
        'log-json': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.err(`keepalived-ts: ${(e as Error).message}\n${USAGE}`);
    return 1;
  }
  if (values['help']) { io.out(USAGE); return 0; }
  if (values['version']) { io.out(`keepalived-ts ${VERSION}\n`); return 0; }
  const file = (values['use-file'] as string | undefined) ?? DEFAULT_CONFIG_FILE;
  if (values['config-test'] || values['dump-conf']) {
    const r = checkConfig(file, { configId: values['config-id'] as string | undefined, allConfig: Boolean(values['all-config']) });
    for (const d of r.diags) io.err(formatDiagnostic(d) + '\n');
    if (values['dump-conf']) io.out(JSON.stringify(r.model, null, 2) + '\n');
    return values['config-test'] ? r.exitCode : r.exitCode === 0 ? 0 : r.exitCode;
  }
  if (!values['dont-fork']) return detach(argv);
  return runDaemon({
    configFile: file,
    configId: values['config-id'] as string | undefined,
    allConfig: Boolean(values['all-config']),
    foreground: true,
    logConsole: Boolean(values['log-console']),
    logDetail: Boolean(values['log-detail']),
    logJson: Boolean(values['log-json']),
    pidFile: (values['pid'] as string | undefined) ?? '/run/keepalived.pid',
    vrrpPidFile: (values['vrrp_pid'] as string | undefined) ?? '/run/keepalived_vrrp.pid',
    dontReleaseVrrp: Boolean(values['dont-release-vrrp']),
    dontReleaseIpvs: Boolean(values['dont-release-ipvs']),
    checkersPidFile: values['checkers_pid'] as string | undefined,
    argv,
  });
}

// Entry point when run as a program (bin/keepalived-ts.js imports the compiled file).
const isMain = process.argv[1] && /(^|\/)(cli\.(ts|js)|keepalived-ts(\.js)?)$/.test(process.argv[1]);
if (isMain) {
  void Promise.resolve(main(process.argv.slice(2))).then((code) => {
    process.exitCode = code;
    // The daemon's sockets and watchers are closed on stop; exit explicitly so nothing lingers.
    if (code !== undefined) setImmediate(() => process.exit(code));
  });
}
