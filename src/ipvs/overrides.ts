// Operator overrides of real servers (pure): `drain`, `disable`, `weight N` set at run time over the control
// interface, `enable` clears them. They are data applied on top of the checkers' verdict when the IPVS desired
// state is computed (virtual-server-spec.ts ipvsSpecFor), so the one reconcile diff programs them. Rules:
//   - drain: a destination the verdict puts in the table is kept at weight 0 (keepalived's inhibit_on_failure
//     semantics: established connections keep flowing, no new ones are scheduled);
//   - disable: the destination is left out of the table;
//   - weight N: a destination the verdict puts in with its weight (alive) gets N instead of the config weight and of
//     any MISC_CHECK / FILE_CHECK dynamic weight (those are still tracked and apply again after `enable`);
//   - an override never adds what the verdict leaves out: a failed server is still removed, or kept at weight 0 by
//     inhibit_on_failure, whatever the override says.
// The verdict itself (notify_up/down, quorum, sorry server) is untouched: it says whether servers are healthy,
// an override says where an operator wants traffic.
import { canonicalAddr, familyOf } from '../net/address.js';
import { KtError } from '../util/errors.js';
import { IPVS_WEIGHT_MAX } from './kernel-table.js';
import type { KeepalivedConfig, VirtualServer } from '../config/model/index.js';
import type { DesiredDest } from '../check/checker-types.js';

export type RsOverrideKind = 'drain' | 'disable' | 'weight';
export type RsCommand = RsOverrideKind | 'enable';
export const RS_COMMANDS: readonly RsCommand[] = ['drain', 'disable', 'enable', 'weight'];

/** Which virtual server(s) a command names: an address and port (every protocol there), a fwmark, or a group. */
export type VsSelector = { addr: string; port: number } | { fwmark: number } | { group: string };

/** A real server as the operator names it; `port` undefined: every real server at that address. */
export interface RsTarget {
  vs: VsSelector;
  addr: string;
  port?: number;
}

/** One override in force. */
export interface RsOverride {
  /** The virtual server's key (`[10.0.0.1]:tcp:80`, `FWM 1`, `[grp]:tcp:0`). */
  vsKey: string;
  addr: string;
  port: number;
  kind: RsOverrideKind;
  /** The weight of a `weight` override. */
  weight?: number;
  /** ISO time it was set. */
  since: string;
  /** Who asked (the control caller's description). */
  by: string;
}

/** The weight a `weight` override may set: keepalived's real_server weight range, 0..IPVS_WEIGHT_LIMIT. */
export const RS_OVERRIDE_WEIGHT_MAX = IPVS_WEIGHT_MAX;

const bad = (msg: string): KtError => new KtError('KT_CTL_BAD_ARGS', msg);

/** `ADDR:PORT`, `[V6]:PORT`, or (port optional) `ADDR` / `[V6]`. */
function parseHostPort(text: string, portOptional: boolean): { addr: string; port?: number } {
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else if ((text.match(/:/g) ?? []).length === 1) [host, portText] = text.split(':') as [string, string];
  else host = text;
  let addr: string;
  try {
    addr = canonicalAddr(host);
  } catch {
    throw bad(`'${text}' is not an address${portOptional ? '[:port]' : ':port'} (IPv6 in brackets: [2001:db8::1]:80)`);
  }
  if (portText === undefined) {
    if (!portOptional) throw bad(`'${text}' has no port (write ${familyOf(addr) === 6 ? `[${addr}]:PORT` : `${addr}:PORT`})`);
    return { addr };
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw bad(`bad port in '${text}'`);
  return { addr, port };
}

/**
 * The real server named by words: `VIP:PORT RIP[:PORT]`, `fwmark N RIP[:PORT]`, `group NAME RIP[:PORT]`
 * (IPv6 in brackets). Returns the target and the words after it.
 */
export function parseRsTarget(words: readonly string[]): { target: RsTarget; rest: string[] } {
  let vs: VsSelector;
  let i: number;
  if (words[0] === 'fwmark') {
    const n = Number(words[1]);
    if (!/^\d+$/.test(words[1] ?? '') || n < 1 || n > 0xffffffff) throw bad(`fwmark needs a number 1..4294967295, got '${words[1] ?? ''}'`);
    vs = { fwmark: n };
    i = 2;
  } else if (words[0] === 'group') {
    if (!words[1]) throw bad('group needs a virtual_server_group name');
    vs = { group: words[1] };
    i = 2;
  } else {
    if (!words[0]) throw bad('no real server given: VIP:PORT RIP[:PORT] | fwmark N RIP[:PORT] | group NAME RIP[:PORT]');
    const v = parseHostPort(words[0], false);
    vs = { addr: v.addr, port: v.port! };
    i = 1;
  }
  if (!words[i]) throw bad('no real server address given after the virtual server');
  const rs = parseHostPort(words[i]!, true);
  return { target: { vs, addr: rs.addr, ...(rs.port !== undefined ? { port: rs.port } : {}) }, rest: words.slice(i + 1) };
}

const hostPort = (a: string, p?: number): string => {
  const h = a.includes(':') ? `[${a}]` : a;
  return p === undefined ? h : `${h}:${p}`;
};

const formatVsSelector = (s: VsSelector): string => ('fwmark' in s ? `fwmark ${s.fwmark}` : 'group' in s ? `group ${s.group}` : hostPort(s.addr, s.port));

/** How a target is written back (messages, logs). */
export function formatRsTarget(t: RsTarget): string {
  return `${formatVsSelector(t.vs)} ${hostPort(t.addr, t.port)}`;
}

function vsMatches(vs: VirtualServer, sel: VsSelector): boolean {
  if ('fwmark' in sel) return vs.kind === 'fwmark' && vs.fwmark === sel.fwmark;
  if ('group' in sel) return vs.kind === 'group' && vs.group === sel.group;
  return vs.kind === 'address' && vs.address !== undefined && canonicalAddr(vs.address) === sel.addr && (vs.port ?? 0) === sel.port;
}

/** The configured real servers a target names: (virtual server key, address, port), in config order. */
export function resolveRsTarget(cfg: Pick<KeepalivedConfig, 'virtualServers'>, t: RsTarget): Array<{ vsKey: string; addr: string; port: number }> {
  const out: Array<{ vsKey: string; addr: string; port: number }> = [];
  const vss = cfg.virtualServers.filter((vs) => vsMatches(vs, t.vs));
  if (!vss.length) throw new KtError('KT_CTL_NO_SUCH_SERVER', `no virtual server ${formatVsSelector(t.vs)} in the configuration`);
  for (const vs of vss) {
    for (const rs of vs.realServers) {
      if (canonicalAddr(rs.address) === t.addr && (t.port === undefined || rs.port === t.port)) out.push({ vsKey: vs.key, addr: canonicalAddr(rs.address), port: rs.port });
    }
  }
  if (!out.length) throw new KtError('KT_CTL_NO_SUCH_SERVER', `no real server ${formatRsTarget(t)} in the configuration`);
  return out;
}

export interface RsCommandRequest {
  command: RsCommand;
  target: RsTarget;
  /** `weight` only. */
  weight?: number;
}

/** Checks a `weight` value: an integer 0..2147483647. */
export function parseOverrideWeight(text: string | number | undefined): number {
  const n = typeof text === 'number' ? text : Number(text);
  if (text === undefined || text === '' || !Number.isInteger(n) || n < 0 || n > RS_OVERRIDE_WEIGHT_MAX) {
    throw bad(`weight needs an integer 0..${RS_OVERRIDE_WEIGHT_MAX}, got '${text ?? ''}'`);
  }
  return n;
}

/** How the real server of every override command is written (usage lines, errors). */
export const RS_TARGET_USAGE = 'VIP:PORT RIP[:PORT] | fwmark N RIP[:PORT] | group NAME RIP[:PORT]';

export const isRsCommand = (name: string): name is RsCommand => (RS_COMMANDS as readonly string[]).includes(name);

/**
 * A command's request from its words (`drain 10.0.0.1:80 192.168.1.2:80`, `weight 10.0.0.1:80 192.168.1.2 5`);
 * the weight may also come as a named argument (a JSON caller's `"weight": 5`). Throws KT_CTL_BAD_ARGS.
 */
export function rsRequestFromWords(command: RsCommand, words: readonly string[], weightArg?: unknown): RsCommandRequest {
  const { target, rest } = parseRsTarget(words);
  if (command === 'weight') {
    const w = rest.length ? rest.shift() : weightArg;
    if (rest.length) throw bad(`unexpected '${rest.join(' ')}' after the weight`);
    return { command, target, weight: parseOverrideWeight(typeof w === 'number' || typeof w === 'string' ? w : undefined) };
  }
  if (rest.length) throw bad(`unexpected '${rest.join(' ')}' after the real server`);
  return { command, target };
}

const sameRs = (o: { vsKey: string; addr: string; port: number }, r: { vsKey: string; addr: string; port: number }): boolean =>
  o.vsKey === r.vsKey && o.addr === r.addr && o.port === r.port;

/**
 * The overrides after a command: a new override replaces the one on the same real server, `enable` removes it.
 * `touched` are the real servers the command named; `message` is the line for the operator.
 */
export function applyRsCommand(
  overrides: readonly RsOverride[],
  req: RsCommandRequest,
  cfg: Pick<KeepalivedConfig, 'virtualServers'>,
  now: string,
  by: string,
): { overrides: RsOverride[]; touched: Array<{ vsKey: string; addr: string; port: number }>; message: string } {
  const touched = resolveRsTarget(cfg, req.target);
  let next = overrides.filter((o) => !touched.some((t) => sameRs(o, t)));
  if (req.command !== 'enable') {
    const weight = req.command === 'weight' ? parseOverrideWeight(req.weight) : undefined;
    next = [...next, ...touched.map((t): RsOverride => ({ ...t, kind: req.command as RsOverrideKind, ...(weight !== undefined ? { weight } : {}), since: now, by }))];
  }
  const where = touched.map((t) => `${hostPort(t.addr, t.port)} of VS ${t.vsKey}`).join(', ');
  const what = req.command === 'drain' ? 'drained (weight 0, established connections kept)'
    : req.command === 'disable' ? 'disabled (out of the table)'
    : req.command === 'weight' ? `weight set to ${req.weight}`
    : 'enabled (override cleared, the checkers decide)';
  const was = req.command === 'enable' && touched.every((t) => !overrides.some((o) => sameRs(o, t))) ? ' (there was no override)' : '';
  return { overrides: next, touched, message: `real server ${where}: ${what}${was}` };
}

/**
 * The destinations of one virtual server after its overrides: the verdict's `dests` with drained ones at weight
 * 0, disabled ones left out, weighted ones at their weight while alive (an inhibited one stays at 0).
 */
export function overrideDests(vs: Pick<VirtualServer, 'key' | 'realServers'>, dests: readonly DesiredDest[], overrides: readonly RsOverride[]): DesiredDest[] {
  const mine = overrides.filter((o) => o.vsKey === vs.key);
  if (!mine.length) return [...dests];
  const out: DesiredDest[] = [];
  for (const d of dests) {
    const addr = canonicalAddr(d.addr);
    const o = mine.find((x) => x.addr === addr && x.port === d.port);
    // Only configured real servers are overridden (not a sorry server at another address).
    if (!o || !vs.realServers.some((r) => canonicalAddr(r.address) === addr && r.port === d.port)) out.push(d);
    else if (o.kind === 'disable') continue;
    else if (o.kind === 'drain') out.push({ ...d, weight: 0 });
    else out.push(d.inhibited ? d : { ...d, weight: o.weight ?? d.weight });
  }
  return out;
}

/**
 * Overrides across a reload: kept for the real servers still in the new configuration (same virtual server key,
 * address and port), all dropped with `reset` (--reset-overrides).
 */
export function overridesAfterReload(overrides: readonly RsOverride[], cfg: Pick<KeepalivedConfig, 'virtualServers'>, reset: boolean): { kept: RsOverride[]; dropped: RsOverride[] } {
  if (reset) return { kept: [], dropped: [...overrides] };
  const kept: RsOverride[] = [];
  const dropped: RsOverride[] = [];
  for (const o of overrides) {
    const vs = cfg.virtualServers.find((v) => v.key === o.vsKey);
    const still = vs?.realServers.some((r) => canonicalAddr(r.address) === o.addr && r.port === o.port);
    (still ? kept : dropped).push(o);
  }
  return { kept, dropped };
}

/** The one-line description of an override (status, logs). */
export function describeOverride(o: RsOverride): string {
  return `${o.kind}${o.kind === 'weight' ? ` ${o.weight}` : ''} ${hostPort(o.addr, o.port)} of VS ${o.vsKey} since ${o.since} by ${o.by}`;
}
