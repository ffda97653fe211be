// The control interface's dispatcher (issue 12): `POST /ctl` on the status listener carries
// `{"command": NAME, "args": {...}}`; this module decides who may control (authorise), finds the command in one
// table (CONTROL_COMMANDS; other files add theirs with registerControlCommand), runs it, logs it with the caller
// and counts it (keepalived_ts_ctl_commands_total{command,result}). The HTTP side (body, peer credentials) is in
// status.ts; forwarding to the child that owns the state is the ControlEnv the parent passes in (parent.ts).
import type { Logger } from './log.js';
import { KtError } from '../util/errors.js';
import type { StatusDocument } from './status.js';
import type { ReloadPlanDocument } from './reload-plan.js';

/** Who sent a request: SO_PEERCRED of a unix socket connection, or the TCP peer. */
export type ControlCaller =
  | { kind: 'unix'; pid: number; uid: number; gid: number }
  | { kind: 'tcp'; address: string; port: number };

/**
 * A command's answer. `ok` and `message` (one line for the operator) always; `refusal` says why not ok (HTTP 400
 * bad-request: unknown command or bad args; 409 refused: the state does not allow it; 403 forbidden); further
 * fields are the command's own and go into the JSON reply as they are.
 */
export interface ControlReply {
  ok: boolean;
  message: string;
  refusal?: 'bad-request' | 'refused' | 'forbidden';
  [field: string]: unknown;
}

/** What a handler can reach beyond its args: the children that own the state and the status document. */
export interface ControlEnv {
  /** Sends a command to a child (`vrrp` or `checker`) and waits for its reply (bounded; a refusal when it cannot). */
  forward(child: string, command: string, args: ControlArgs, timeoutMs?: number): Promise<ControlReply>;
  /** The status document /status serves. */
  status(): Promise<StatusDocument>;
  /** `ctl plan`: what a SIGHUP with `file` would change (reload-plan.ts); absent where no daemon runs the children. */
  planReload?(file: string): Promise<ReloadPlanDocument>;
}

/**
 * A command's arguments: `_` holds the positional words (`ctl switchover VI_1` → `{_: ['VI_1']}`), every
 * `--name VALUE` is `name: 'VALUE'` (a flag alone is `true`); JSON callers may send numbers.
 */
export type ControlArgs = { _?: unknown[] } & Record<string, unknown>;

export type ControlHandler = (args: ControlArgs, caller: ControlCaller, env: ControlEnv) => Promise<ControlReply>;

export interface ControlCommand {
  name: string;
  /** One line of usage shown by `ctl help` and in a bad-request reply (`switchover INSTANCE|GROUP [--hold S]`). */
  usage: string;
  handler: ControlHandler;
}

/** The command table. */
export const CONTROL_COMMANDS = new Map<string, ControlCommand>();

export function registerControlCommand(c: ControlCommand): void {
  if (CONTROL_COMMANDS.has(c.name)) throw new KtError('KT_CTL_DUPLICATE_COMMAND', `control command ${c.name} registered twice`);
  CONTROL_COMMANDS.set(c.name, c);
}

/** Who may control, from --ctl-allow-uid / --ctl-allow-gid / --ctl-allow-tcp. */
export interface ControlPolicy {
  allowUids: readonly number[];
  /** Matched against the caller's primary gid (SO_PEERCRED carries no supplementary groups). */
  allowGids: readonly number[];
  allowTcp: boolean;
}

export const DEFAULT_CONTROL_POLICY: ControlPolicy = { allowUids: [], allowGids: [], allowTcp: false };

function isLoopbackPeer(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a.startsWith('127.') || a === '::1';
}

/**
 * The authorisation rule (pure). Unix socket: root, or a uid/gid the operator allowed. TCP: only with
 * --ctl-allow-tcp and only from a loopback peer (anyone on the host can connect: the operator opts in).
 */
export function authorise(caller: ControlCaller, policy: ControlPolicy): { ok: true } | { ok: false; why: string } {
  if (caller.kind === 'unix') {
    if (caller.uid === 0 || policy.allowUids.includes(caller.uid) || policy.allowGids.includes(caller.gid)) return { ok: true };
    return { ok: false, why: `uid ${caller.uid} (gid ${caller.gid}) may not control this daemon: only root, or --ctl-allow-uid / --ctl-allow-gid` };
  }
  if (!policy.allowTcp) return { ok: false, why: 'control over TCP is off: use the unix socket, or start the daemon with --ctl-allow-tcp' };
  if (!isLoopbackPeer(caller.address)) return { ok: false, why: `control over TCP only from loopback, not from ${caller.address}` };
  return { ok: true };
}

export function describeCaller(c: ControlCaller): string {
  return c.kind === 'unix' ? `pid ${c.pid} uid ${c.uid} gid ${c.gid}` : `${c.address}:${c.port}`;
}

export function callerFields(c: ControlCaller): Record<string, string | number> {
  return c.kind === 'unix' ? { peerPid: c.pid, peerUid: c.uid, peerGid: c.gid } : { peerAddress: c.address, peerPort: c.port };
}

/** The HTTP status of a reply: 200 ok, 400 bad request, 403 forbidden, 409 refused. */
export function httpStatusOf(r: ControlReply): number {
  if (r.ok) return 200;
  return r.refusal === 'bad-request' ? 400 : r.refusal === 'forbidden' ? 403 : 409;
}

export type ControlResult = 'ok' | 'refused' | 'bad_request' | 'forbidden' | 'error';

function resultOf(r: ControlReply): ControlResult {
  if (r.ok) return 'ok';
  return r.refusal === 'bad-request' ? 'bad_request' : r.refusal === 'forbidden' ? 'forbidden' : 'refused';
}

/** Counts per (command, result); unknown command names count as `unknown` so a caller cannot grow the label set. */
export class ControlCounters {
  private readonly counts = new Map<string, number>();
  add(command: string, result: ControlResult): void {
    const k = `${command}\u0000${result}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }
  list(): Array<{ command: string; result: ControlResult; count: number }> {
    return [...this.counts].map(([k, count]) => {
      const [command, result] = k.split('\u0000') as [string, ControlResult];
      return { command, result, count };
    });
  }
}

export const badRequest = (message: string): ControlReply => ({ ok: false, refusal: 'bad-request', message });
export const refused = (message: string): ControlReply => ({ ok: false, refusal: 'refused', message });

/** Parses a request body: `{"command": "...", "args": {...}}`. */
export function parseControlRequest(body: string): { command: string; args: ControlArgs } | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return { error: 'the body is not JSON: expected {"command": NAME, "args": {...}}' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: 'expected a JSON object {"command": NAME, "args": {...}}' };
  const { command, args } = v as { command?: unknown; args?: unknown };
  if (typeof command !== 'string' || command === '') return { error: 'missing "command"' };
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) return { error: '"args" must be an object' };
  const a = (args ?? {}) as ControlArgs;
  if (a._ !== undefined && !Array.isArray(a._)) return { error: '"args._" must be an array of words' };
  return { command, args: a };
}

function firstLine(text: string): string {
  const nl = text.indexOf('\n');
  return nl < 0 ? text : `${text.slice(0, nl)} (…)`;
}

/** The positional words of args, as strings. */
export function positionalArgs(args: ControlArgs): string[] {
  return (args._ ?? []).map((w) => String(w));
}

/**
 * The dispatcher: authorises, parses, runs the command, logs the request with its caller and counts it. Never
 * throws: a handler's exception is an `error` reply (HTTP 409 with the message).
 */
export async function dispatchControl(
  body: string,
  caller: ControlCaller,
  o: { policy: ControlPolicy; env: ControlEnv; log: Logger; counters: ControlCounters; commands?: ReadonlyMap<string, ControlCommand> },
): Promise<ControlReply> {
  const table = o.commands ?? CONTROL_COMMANDS;
  const req = parseControlRequest(body);
  const cmd = 'command' in req ? table.get(req.command) : undefined;
  const name = cmd ? cmd.name : 'unknown';
  let reply: ControlReply;
  let result: ControlResult | undefined;
  const auth = authorise(caller, o.policy);
  if (!auth.ok) reply = { ok: false, refusal: 'forbidden', message: auth.why };
  else if ('error' in req) reply = badRequest(req.error);
  else if (!cmd) reply = badRequest(`unknown command '${req.command}': try ${[...table.keys()].sort().join(', ')}`);
  else {
    try {
      reply = await cmd.handler(req.args, caller, o.env);
    } catch (e) {
      reply = refused(`${name} failed: ${(e as Error)?.message ?? String(e)}`);
      result = 'error';
    }
  }
  result ??= resultOf(reply);
  o.counters.add(name, result);
  const shown = 'command' in req ? req.command : '(unparsed)';
  const fields = { ctl: shown, result, ...callerFields(caller) };
  const line = `control: ${shown} ${'args' in req ? JSON.stringify(req.args) : ''} from ${describeCaller(caller)}: ${result}: ${firstLine(reply.message)}`;
  if (result === 'ok') o.log.info(fields, line);
  else o.log.warn(fields, line);
  return reply;
}
