// `keepalived-ts ctl [--socket PATH | --connect HOST:PORT] [--json] COMMAND [ARGS...]`: the control interface's
// client (control.ts). It turns the words into `{"command", "args": {"_": [...positional], name: value}}`, POSTs it
// to /ctl on the daemon's status listener and prints the reply's message (or the whole JSON with --json).
// Exit: 0 ok, 1 refused (409/403), 2 bad usage (400) or the daemon unreachable.
import { request } from 'node:http';
import type { CliIo } from '../cli.js';
import { CTL_OK, CTL_REFUSED, CTL_USAGE_OR_UNREACHABLE } from '../util/exit-codes.js';
import type { ControlArgs } from './control.js';
import { absolutePlanArgs } from './control-plan-file.js';

/** Where `ctl` looks without --socket/--connect: the path the README suggests for --status-listen. */
export const DEFAULT_CTL_SOCKET = '/run/keepalived-ts.sock';

const CTL_USAGE = `Usage: keepalived-ts ctl [--socket PATH | --connect HOST:PORT] [--json] COMMAND [ARGS...]
  --socket PATH        The daemon's --status-listen unix socket (default ${DEFAULT_CTL_SOCKET})
  --connect HOST:PORT  The daemon's --status-listen TCP address (loopback; the daemon needs --ctl-allow-tcp)
  --json               Print the whole JSON reply
Commands (the daemon lists those it knows when given an unknown one):
  status                               one line per VRRP instance
  switchover INSTANCE|GROUP [--hold S] [--force]
                                       hand MASTER over to the peer; stay BACKUP S seconds or until resume
                                       (--force: even if no other router was ever heard on it)
  resume INSTANCE|GROUP                end a switchover's hold
  maintenance on|off                   the whole director BACKUP (priority 0 from masters), kept over reloads
  plan -f FILE                         what a SIGHUP with FILE would change here (nothing is applied)
  drain VS RS                          real server at weight 0, established connections kept (VS: VIP:PORT,
                                       fwmark N or group NAME; RS: RIP[:PORT]; IPv6 in brackets)
  disable VS RS                        real server out of the IPVS table
  weight VS RS N                       real server at weight N while healthy
  enable VS RS                         clear the override: the checkers and the config decide again
Exit status: 0 done, 1 refused, 2 bad usage or daemon unreachable.
`;

export interface CtlInvocation {
  target: { socketPath: string } | { host: string; port: number };
  json: boolean;
  command: string;
  args: ControlArgs;
}

/** Parses the ctl words (pure). Options before the command are ctl's; after it, `--name [VALUE]` go into args. */
export function parseCtlArgv(argv: readonly string[]): CtlInvocation | { error: string } | { help: true } {
  let target: CtlInvocation['target'] = { socketPath: DEFAULT_CTL_SOCKET };
  let json = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help' || a === 'help') return { help: true };
    if (a === '--json') json = true;
    else if (a === '--socket' || a.startsWith('--socket=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (!v) return { error: '--socket needs a path' };
      target = { socketPath: v };
    } else if (a === '--connect' || a.startsWith('--connect=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const m = v ? /^\[?([^\]]+?)\]?:(\d+)$/.exec(v) : null;
      if (!m) return { error: '--connect needs HOST:PORT' };
      target = { host: m[1]!, port: Number(m[2]) };
    } else if (a.startsWith('-')) return { error: `unknown option ${a}` };
    else break;
  }
  const command = argv[i];
  if (!command) return { error: 'no command' };
  const args: ControlArgs = { _: [] };
  for (i++; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      if (eq > 0) args[a.slice(2, eq)] = a.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) args[a.slice(2)] = argv[++i];
      else args[a.slice(2)] = true;
    } else (args._ as unknown[]).push(a);
  }
  return { target, json, command, args };
}

/** The exit status for an HTTP status of /ctl. */
export function ctlExitCode(status: number): number {
  if (status === 200) return CTL_OK;
  if (status === 403 || status === 409) return CTL_REFUSED;
  return CTL_USAGE_OR_UNREACHABLE;
}

function post(inv: CtlInvocation, timeoutMs: number): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ command: inv.command, args: inv.args });
  const where = 'socketPath' in inv.target ? { socketPath: inv.target.socketPath } : { host: inv.target.host, port: inv.target.port };
  return new Promise((resolve, reject) => {
    const req = request(
      { ...where, method: 'POST', path: '/ctl', agent: false, timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `keepalived-ts ctl ...`; resolves with the exit code. */
export async function runCtl(argv: string[], io: CliIo): Promise<number> {
  const inv = parseCtlArgv(argv);
  if ('help' in inv) {
    io.out(CTL_USAGE);
    return CTL_OK;
  }
  if ('error' in inv) {
    io.err(`keepalived-ts ctl: ${inv.error}\n${CTL_USAGE}`);
    return CTL_USAGE_OR_UNREACHABLE;
  }
  if (inv.command === 'plan') inv.args = absolutePlanArgs(inv.args, process.cwd());
  const where = 'socketPath' in inv.target ? inv.target.socketPath : `${inv.target.host}:${inv.target.port}`;
  let r: { status: number; body: string };
  try {
    // A plan waits for each child's part (bounded by the daemon, PLAN_TIMEOUT_MS); other commands answer at once.
    r = await post(inv, inv.command === 'plan' ? 60_000 : 15_000);
  } catch (e) {
    io.err(`keepalived-ts ctl: cannot reach the daemon at ${where}: ${(e as Error).message} (is it running with --status-listen ${where}?)\n`);
    return CTL_USAGE_OR_UNREACHABLE;
  }
  let reply: { ok?: unknown; message?: unknown } | undefined;
  try {
    reply = JSON.parse(r.body) as typeof reply;
  } catch {
    reply = undefined;
  }
  if (r.status === 404 || r.status === 405 || !reply) {
    io.err(`keepalived-ts ctl: ${where} does not speak the control interface (HTTP ${r.status})\n`);
    return CTL_USAGE_OR_UNREACHABLE;
  }
  const text = inv.json ? JSON.stringify(reply, null, 2) : String(reply.message ?? '');
  (r.status === 200 ? io.out : io.err)(`${text}\n`);
  return ctlExitCode(r.status);
}
