// SSL, virtual_server_group, virtual_server, real_server and checkers (check_parser.c, check_api.c, check_http.c,
// check_misc.c) with check_data.c validate_check_config's defaults and inheritance VS → RS → checker.
import type { ConfigNode, Loc } from '../tree.js';
import type {
  SslConfig, VirtualServerGroup, VirtualServerGroupEntry, VirtualServer, RealServer, Checker, HttpUrl,
  LbAlgo, LbKind, Protocol, TunnelSpec, ServerTimers, CheckerCommon, Family, SorryServer, TrackFile, SmtpCheck,
} from './types.js';
import { Ctx, readBool, readInt, readIp, readTimerMs } from './values.js';
import { isLinkLocal6, parseCidr } from '../../net/address.js';
import { otherKeyword, notSupported } from './keywords.js';
import { rawOf, readScript } from './script.js';
import { scanScriptLine } from '../script-words.js';
import { compilePcre, PCRE_OPTION_NAMES } from '../../check/pcre.js';
import { readHexString } from '../../check/udp-reply.js';
import { SMTP_DEFAULT_HELO } from '../../check/smtp-dialogue.js';
import { DNS_TYPES, dnsNameRejected, dnsTypeNumber } from '../../net/dns-message.js';

const INT32_MAX = 2147483647;
const UINT_MAX = 4294967295;
const LB_ALGOS = new Set(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'sh', 'mh', 'dh', 'fo', 'ovf', 'lblcr', 'sed', 'nq', 'twos']);
/** What lb_algo expects, made once (it was joined again for every lb_algo line read). */
const LB_ALGOS_EXPECTED = [...LB_ALGOS].join('|');
const SCHED_FLAGS = new Set(['hashed', 'ops', 'flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback']);

export function buildSsl(ctx: Ctx, n: ConfigNode, prev: SslConfig | undefined): SslConfig {
  if (prev) ctx.diags.error('duplicate', 'SSL context already specified - replacing', n.loc, { keyword: 'SSL' });
  const s: SslConfig = {};
  for (const k of n.block ?? []) {
    if (k.keyword === 'password' || k.keyword === 'ca' || k.keyword === 'certificate' || k.keyword === 'key') {
      if (!ctx.need(k, 1, k.keyword === 'password' ? 'PASSWORD' : 'PATH')) continue;
      if (s[k.keyword]) ctx.diags.error('duplicate', `SSL ${k.keyword} already specified - replacing`, k.loc, { keyword: k.keyword });
      s[k.keyword] = k.args[0]!.text;
    } else otherKeyword(ctx, k, 'SSL');
  }
  return s;
}

function parsePort(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const p = Number(text);
  return p <= 65535 ? p : undefined;
}

export function buildVsGroup(ctx: Ctx, n: ConfigNode): VirtualServerGroup | undefined {
  const name = n.args[0]?.text;
  if (!name) { ctx.diags.error('missing-parameter', 'virtual_server_group must have a name', n.loc, { keyword: n.keyword }); return undefined; }
  const g: VirtualServerGroup = { name, entries: [], loc: n.loc };
  for (let li = 0, lList = n.block ?? []; li < lList.length; li++) { const l = lList[li]!;
    if (l.keyword === 'fwmark') {
      if (!ctx.need(l, 1, 'MARK [inet|inet6]')) continue;
      const m = readInt(ctx, l, 0, 0, UINT_MAX);
      if (m === undefined) continue;
      const e: VirtualServerGroupEntry = { kind: 'fwmark', fwmark: m, loc: l.loc };
      if (l.args[1]) {
        if (l.args[1].text === 'inet') e.family = 4; else if (l.args[1].text === 'inet6') e.family = 6;
        else { ctx.bad(l, 1, 'invalid-value', `(${name}): fwmark '${m}' family ${l.args[1].text} unknown - ignoring`, 'expected inet or inet6'); continue; }
      }
      g.entries.push(e);
      continue;
    }
    const text = l.keyword;
    let e: VirtualServerGroupEntry | undefined;
    const dash = text.indexOf('-');
    if (dash > 0) {
      const start = parseCidr(text.slice(0, dash), false);
      const endText = text.slice(dash + 1);
      if (!start) { ctx.diags.error('invalid-address', `invalid virtual server group IP address ${text} - skipping`, l.loc); continue; }
      let end: string | undefined;
      if (start.family === 4 && /^\d{1,3}$/.test(endText)) {
        const parts = start.address.split('.');
        if (Number(endText) > 255) { ctx.diags.error('invalid-address', `invalid range end ${text} - skipping`, l.loc); continue; }
        parts[3] = endText; end = parts.join('.');
        if (Number(endText) < Number(start.address.split('.')[3])) { ctx.diags.error('invalid-address', `address range end is less than address range start - ${text} - skipping`, l.loc); continue; }
      } else if (start.family === 6 && /^[0-9a-fA-F]{1,4}$/.test(endText)) {
        end = start.address.replace(/[0-9a-f]*$/, endText.toLowerCase());
      } else {
        const ep = parseCidr(endText, false);
        if (!ep) { ctx.diags.error('invalid-address', `invalid range end ${text} - skipping`, l.loc); continue; }
        if (ep.family !== start.family) { ctx.diags.error('invalid-address', `range address families do not match ${text} - skipping`, l.loc); continue; }
        end = ep.address;
      }
      e = { kind: 'address', address: start.address, addressEnd: end, family: start.family, loc: l.loc };
    } else {
      const ip = parseCidr(text, true);
      if (!ip) { ctx.diags.error('invalid-address', `invalid virtual server group IP address ${text} - skipping`, l.loc, { suggestion: 'expected IP [PORT], A.B.C.D-E [PORT], IP/NN [PORT] or fwmark N' }); continue; }
      e = { kind: 'address', address: ip.prefix !== undefined ? `${ip.address}/${ip.prefix}` : ip.address, addressEnd: ip.address, family: ip.family, loc: l.loc };
    }
    if (l.args[0]) {
      const p = parsePort(l.args[0].text);
      if (p === undefined) { ctx.bad(l, 0, 'invalid-value', `invalid port '${l.args[0].text}' for ${text} - skipping`); continue; }
      e.port = p;
    }
    g.entries.push(e);
  }
  if (!g.entries.length) ctx.diags.error('empty-block', `virtual server group ${name} has no entries - removing`, n.loc);
  return g;
}

/** `lb_kind NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`. */
function readLbKind(ctx: Ctx, k: ConfigNode, role: string): { kind: LbKind; tunnel?: TunnelSpec } | undefined {
  if (!ctx.need(k, 1, 'NAT|DR|TUN')) return undefined;
  const m = k.args[0]!.text;
  if (m !== 'NAT' && m !== 'DR' && m !== 'TUN') {
    ctx.bad(k, 0, 'invalid-value', `unknown [${m}] routing method for ${role} server`, 'expected NAT, DR or TUN');
    return undefined;
  }
  // keepalived reads tunnel options after any method (an unknown word is an error even after NAT/DR).
  const t: TunnelSpec = { type: 'ipip' };
  for (let i = 1; i < k.args.length; i++) {
    const w = k.args[i]!.text;
    if (w === 'type') {
      const v = k.args[i + 1]?.text;
      if (v !== 'ipip' && v !== 'gue' && v !== 'gre') { ctx.bad(k, i + 1, 'invalid-value', `unknown tunnel type ${v ?? '(missing)'} for ${role} server`, 'expected ipip, gue or gre'); return undefined; }
      t.type = v; i++;
      if (v === 'gue') {
        if (k.args[i + 1]?.text !== 'port' || !k.args[i + 2]) { ctx.bad(k, i, 'missing-parameter', `missing port for ${role} server gue tunnel`, 'write: TUN type gue port N'); return undefined; }
        const p = readInt(ctx, k, i + 2, 1, 65535);
        if (p === undefined) return undefined;
        t.port = p; i += 2;
      }
    } else if (w === 'nocsum' || w === 'csum' || w === 'remcsum') t.checksum = w;
    else { ctx.bad(k, i, 'invalid-value', `invalid tunnel option ${w} for ${role} server`); return undefined; }
  }
  if (m !== 'TUN') return { kind: m };
  if (t.type === 'ipip' && t.checksum) { ctx.bad(k, 0, 'invalid-value', 'ipip tunnels do not support checksum option.'); return undefined; }
  if (t.type === 'gre' && t.checksum === 'remcsum') { ctx.bad(k, 0, 'invalid-value', 'gre tunnels do not support remote checksum option.'); return undefined; }
  return { kind: 'TUN', tunnel: t };
}

/** Timer/retry keywords shared by VS, RS and checkers; returns true when consumed. */
function timerKeyword(ctx: Ctx, k: ConfigNode, t: Partial<ServerTimers>): boolean {
  switch (k.keyword) {
    case 'connect_timeout': { if (!ctx.need(k, 1, 'SECONDS')) return true; const v = readTimerMs(ctx, k, 0, 0.000001, UINT_MAX / 1e6); if (v !== undefined) t.connectTimeoutMs = v; return true; }
    case 'delay_loop': { if (!ctx.need(k, 1, 'SECONDS')) return true; const v = readTimerMs(ctx, k, 0, 0.000001, UINT_MAX); if (v !== undefined) t.delayLoopMs = v; return true; }
    case 'delay_before_retry': { if (!ctx.need(k, 1, 'SECONDS')) return true; const v = readTimerMs(ctx, k, 0, 0, UINT_MAX); if (v !== undefined) t.delayBeforeRetryMs = v; return true; }
    case 'warmup': { if (!ctx.need(k, 1, 'SECONDS')) return true; const v = readTimerMs(ctx, k, 0, 0, UINT_MAX); if (v !== undefined) t.warmupMs = v; return true; }
    case 'retry': { if (!ctx.need(k, 1, 'COUNT')) return true; const v = readInt(ctx, k, 0, 0, UINT_MAX - 1); if (v !== undefined) t.retry = v; return true; }
    case 'alpha': { const b = readBool(ctx, k); if (b !== undefined) t.alpha = b; return true; }
    default: return false;
  }
}

interface RsDraft {
  rs: Omit<RealServer, keyof ServerTimers | 'checkers' | 'lbKind' | 'smtpAlert' | 'inhibitOnFailure' | 'weight'> & { portGiven: boolean };
  timers: Partial<ServerTimers>;
  lbKind?: { kind: LbKind; tunnel?: TunnelSpec };
  weight?: number;
  inhibit?: boolean;
  smtpAlert?: boolean;
  checkers: Array<{ node: ConfigNode; timers: Partial<ServerTimers>; build: (t: ServerTimers & { retry: number; delayBeforeRetryMs: number; warmupMs: number }) => Checker }>;
}

// The real server and checker objects are copied field by field (buildVirtualServer, parseChecker's finish): these
// tables make the compiler point there when a field is added to RealServer or CheckerCommon.
const RS_DRAFT_FIELDS: Record<keyof RsDraft['rs'], true> = {
  address: true, family: true, port: true, portGiven: true, loc: true, tunnel: true, notifyUp: true, notifyDown: true,
  uthreshold: true, lthreshold: true, virtualhost: true,
};
const CHECKER_COMMON_FIELDS: Record<Exclude<keyof CheckerCommon, keyof ResolvedTimers>, true> = {
  connectIp: true, connectPort: true, bindTo: true, bindPort: true, bindIf: true, fwmark: true, logAllFailures: true, loc: true,
};
void RS_DRAFT_FIELDS; void CHECKER_COMMON_FIELDS;

function checkerCommon(ctx: Ctx, k: ConfigNode, c: Partial<CheckerCommon>, t: Partial<ServerTimers>, family: Family): boolean {
  if (timerKeyword(ctx, k, t)) return true;
  switch (k.keyword) {
    case 'connect_ip': case 'bindto': {
      if (!ctx.need(k, 1, 'IP-ADDRESS')) return true;
      const ip = readIp(ctx, k, 0);
      if (!ip) return true;
      if (ip.family !== family) { ctx.bad(k, 0, 'family-mismatch', `${k.keyword} address ${ip.address} does not match the address family - skipping`); return true; }
      if (k.keyword === 'connect_ip') c.connectIp = ip.address; else c.bindTo = ip.address;
      return true;
    }
    case 'connect_port': case 'bind_port': {
      if (!ctx.need(k, 1, 'PORT')) return true;
      const v = readInt(ctx, k, 0, 0, 65535);
      if (v !== undefined) { if (k.keyword === 'connect_port') c.connectPort = v; else c.bindPort = v; }
      return true;
    }
    case 'bind_if': if (ctx.need(k, 1, 'INTERFACE')) c.bindIf = k.args[0]!.text; return true;
    case 'fwmark': { if (!ctx.need(k, 1, 'MARK')) return true; const v = readInt(ctx, k, 0, 0, UINT_MAX); if (v !== undefined) c.fwmark = v; return true; }
    case 'log_all_failures': { const b = readBool(ctx, k); if (b !== undefined) c.logAllFailures = b; return true; }
    default: return false;
  }
}

function parseStatusCodes(ctx: Ctx, k: ConfigNode, into: Array<[number, number]>): void {
  for (let i = 0; i < k.args.length; i++) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(k.args[i]!.text);
    const a = m ? Number(m[1]) : NaN, b = m?.[2] ? Number(m[2]) : a;
    if (!m || a < 100 || b > 599 || b < a) { ctx.bad(k, i, 'invalid-value', `invalid HTTP_GET status code '${k.args[i]!.text}'`, 'expected codes 100..599 or ranges like 200-299'); continue; }
    into.push([a, b]);
  }
}

/**
 * The pattern PCRE2 receives from a `regex` line. keepalived re-reads the whole raw line with
 * alloc_strvec_quoted_escaped (check_http.c regex_handler): quotes group, and backslash escapes are applied before
 * PCRE2 sees the pattern (`"a\\.b"` reaches it as `a.b`, `"\\\\d"` as `\\d`); the line must be exactly two words;
 * PCRE2 reads the pattern up to a NUL.
 */
export function regexPattern(k: ConfigNode): string | { message: string } {
  const scanned = scanScriptLine(`regex ${rawOf(k)}`);
  if (scanned.error) return { message: scanned.error.message };
  if (scanned.words.length !== 2) return { message: `regex missing or too many fields (${scanned.words.length - 1} words; a pattern with blanks needs quotes)` };
  const w = scanned.words[1]!;
  const nul = w.indexOf('\0');
  return nul < 0 ? w : w.slice(0, nul);
}

/** A url, undefined when it is ignored (no path), 'invalid' when its regex cannot run (the checker is ignored). */
function buildUrl(ctx: Ctx, n: ConfigNode): HttpUrl | 'invalid' | undefined {
  let regexNode: ConfigNode | undefined;
  const u: Partial<HttpUrl> & { statusCodes: Array<[number, number]>; regexOptions: string[] } = { statusCodes: [], regexNoMatch: false, regexOptions: [], loc: n.loc };
  for (let ki = 0, kList = n.block ?? []; ki < kList.length; ki++) { const k = kList[ki]!;
    switch (k.keyword) {
      case 'path': if (ctx.need(k, 1, 'PATH')) u.path = k.args[0]!.text; break;
      case 'digest': {
        if (!ctx.need(k, 1, 'MD5-HEX')) break;
        const dg = k.args[0]!.text;
        if (dg.length !== 32) { ctx.bad(k, 0, 'invalid-value', `digest '${dg}' character length should be 32 rather than ${dg.length}`, "compute it with 'genhash'"); break; }
        if (!/^[0-9a-fA-F]{32}$/.test(dg)) { ctx.bad(k, 0, 'invalid-value', `unable to interpret hex digits in digest '${dg}'`); break; }
        u.digest = dg.toLowerCase();
        break;
      }
      case 'status_code': if (ctx.need(k, 1, 'CODE|FROM-TO …')) parseStatusCodes(ctx, k, u.statusCodes); break;
      case 'virtualhost': if (ctx.need(k, 1, 'HOSTNAME')) u.virtualhost = k.args[0]!.text; break;
      case 'regex': {
        if (!ctx.need(k, 1, '"REGEX"')) break;
        const r = regexPattern(k);
        if (typeof r === 'string') { u.regex = r; regexNode = k; }
        else { ctx.diags.notice('regex-fields', `${r.message} - regex ignored (as keepalived does)`, k.loc, { keyword: k.keyword, suggestion: 'quote the pattern: regex "…"' }); delete u.regex; }
        break;
      }
      case 'regex_no_match': u.regexNoMatch = true; break;
      case 'regex_options':
        k.args.forEach((a, i) => {
          // keepalived ignores an unknown word silently; say so, since the operator meant something by it.
          if (!PCRE_OPTION_NAMES.has(a.text)) ctx.diags.notice('unknown-regex-option', `unknown regex_options word '${a.text}' (ignored, as keepalived does)`, ctx.argLoc(k, i), { keyword: k.keyword });
          else u.regexOptions.push(a.text);
        });
        break;
      case 'regex_min_offset': { if (!ctx.need(k, 1, 'N')) break; const v = readInt(ctx, k, 0, 0, UINT_MAX); if (v !== undefined) u.regexMinOffset = v; break; }
      case 'regex_max_offset': { if (!ctx.need(k, 1, 'N')) break; const v = readInt(ctx, k, 0, 0, UINT_MAX); if (v !== undefined) u.regexMaxOffset = v; break; }
      default: otherKeyword(ctx, k, 'url');
    }
  }
  if (!u.path) { ctx.diags.error('missing-parameter', 'HTTP/SSL_GET checker url has no path - ignoring', n.loc, { keyword: 'path', suggestion: 'add: path /URI' }); return undefined; }
  if (!u.statusCodes.length) u.statusCodes.push([200, 299]);
  // keepalived's url_check: regex parameters without a regex, or a min offset past the max, are dropped (logged).
  if (u.regex === undefined && (u.regexOptions.length || u.regexNoMatch || u.regexMinOffset !== undefined || u.regexMaxOffset !== undefined)) {
    ctx.diags.notice('regex-without-regex', 'regex parameters specified without regex - ignoring them', n.loc, { keyword: 'regex' });
    u.regexOptions = []; u.regexNoMatch = false; delete u.regexMinOffset; delete u.regexMaxOffset;
  }
  if (u.regexMaxOffset !== undefined && (u.regexMinOffset ?? 0) > u.regexMaxOffset) {
    ctx.diags.notice('regex-offsets', `regex min offset ${u.regexMinOffset} > regex_max_offset ${u.regexMaxOffset} - ignoring`, n.loc, { keyword: 'regex_min_offset' });
    delete u.regexMinOffset; delete u.regexMaxOffset;
  }
  if (u.regex !== undefined && regexNode) {
    // The same translation the probe runs (check/pcre.ts): what fails here would fail the checker at start.
    const r = compilePcre(u.regex, u.regexOptions);
    if (!r.ok) {
      ctx.bad(regexNode, 0, 'invalid-regex', `regex "${u.regex}": ${r.error} - ignoring the checker`,
        'keepalived-ts translates PCRE2 to JavaScript: use regex_options (caseless, multiline, dotall, extended, …) or leading (?i)/(?m)/(?s)/(?x) instead of inline options inside the pattern');
      return 'invalid';
    }
  }
  return u as HttpUrl;
}

type ResolvedTimers = ServerTimers & { retry: number; delayBeforeRetryMs: number; warmupMs: number };

function parseChecker(ctx: Ctx, k: ConfigNode, family: Family): RsDraft['checkers'][number] | undefined {
  const type = k.keyword;
  const c: Partial<CheckerCommon> = { logAllFailures: false, loc: k.loc };
  const t: Partial<ServerTimers> = {};
  const defaults = { retry: type === 'MISC_CHECK' ? 0 : 1, dbr: type === 'HTTP_GET' || type === 'SSL_GET' ? 3000 : 1000 };
  // Plain assignments onto one literal, not `{ ...c, … }`: after a spread of an object of unknown shape V8 adds
  // every further property on its slow generic path, which was a fifth of `-t` on 10,000 checkers.
  const finish = (rt: ServerTimers & { retry?: number; delayBeforeRetryMs?: number; warmupMs?: number }): ResolvedTimers & Partial<CheckerCommon> & { type: string } => {
    const delayLoopMs = t.delayLoopMs ?? rt.delayLoopMs;
    const o: ResolvedTimers & Partial<CheckerCommon> & { type: string } = {
      type, logAllFailures: c.logAllFailures, loc: c.loc,
      connectTimeoutMs: t.connectTimeoutMs ?? rt.connectTimeoutMs,
      delayLoopMs,
      retry: t.retry ?? rt.retry ?? defaults.retry,
      delayBeforeRetryMs: t.delayBeforeRetryMs ?? rt.delayBeforeRetryMs ?? defaults.dbr,
      warmupMs: t.warmupMs ?? rt.warmupMs ?? delayLoopMs,
      alpha: t.alpha ?? rt.alpha,
    };
    if (c.connectIp !== undefined) o.connectIp = c.connectIp;
    if (c.connectPort !== undefined) o.connectPort = c.connectPort;
    if (c.bindTo !== undefined) o.bindTo = c.bindTo;
    if (c.bindPort !== undefined) o.bindPort = c.bindPort;
    if (c.bindIf !== undefined) o.bindIf = c.bindIf;
    if (c.fwmark !== undefined) o.fwmark = c.fwmark;
    return o;
  };
  if (type === 'TCP_CHECK') {
    for (let si = 0, sList = k.block ?? []; si < sList.length; si++) { const s = sList[si]!; if (!checkerCommon(ctx, s, c, t, family)) otherKeyword(ctx, s, 'TCP_CHECK'); }
    return { node: k, timers: t, build: (rt) => finish(rt) as Checker };
  }
  if (type === 'HTTP_GET' || type === 'SSL_GET') {
    const urls: HttpUrl[] = [];
    let badRegex = false;
    const h = { httpProtocol: '1.0' as '1.0' | '1.0C' | '1.1', fastRecovery: false, enableSni: false, virtualhost: undefined as string | undefined, sniName: undefined as string | undefined };
    for (let si = 0, sList = k.block ?? []; si < sList.length; si++) { const s = sList[si]!;
      if (checkerCommon(ctx, s, c, t, family)) continue;
      switch (s.keyword) {
        case 'url': { const u = buildUrl(ctx, s); if (u === 'invalid') badRegex = true; else if (u) urls.push(u); break; }
        case 'nb_get_retry': {
          ctx.diags.error('deprecated', "nb_get_retry is deprecated - please use 'retry'", s.loc, { keyword: s.keyword, suggestion: 'replace with: retry N' });
          if (ctx.need(s, 1, 'COUNT')) { const v = readInt(ctx, s, 0, 0, UINT_MAX - 1); if (v !== undefined) t.retry = v; }
          break;
        }
        case 'virtualhost': if (ctx.need(s, 1, 'HOSTNAME')) h.virtualhost = s.args[0]!.text; break;
        case 'http_protocol': {
          if (!ctx.need(s, 1, '1.0|1.0C|1.1')) break;
          const v = s.args[0]!.text;
          if (v === '1.0' || v === '1.1') h.httpProtocol = v;
          else if (v === '1.0C' || v === '1.0c') h.httpProtocol = '1.0C';
          else ctx.bad(s, 0, 'invalid-value', `invalid http_protocol version ${v}`, 'expected 1.0, 1.0C or 1.1');
          break;
        }
        case 'fast_recovery': { const b = readBool(ctx, s); if (b !== undefined) h.fastRecovery = b; break; }
        case 'enable_sni': if (type === 'SSL_GET') { const b = readBool(ctx, s); if (b !== undefined) h.enableSni = b; } else otherKeyword(ctx, s, type); break;
        case 'sni_name': if (type === 'SSL_GET') { if (ctx.need(s, 1, 'NAME')) { h.sniName = s.args[0]!.text; h.enableSni = true; } } else otherKeyword(ctx, s, type); break;
        default: otherKeyword(ctx, s, type);
      }
    }
    if (badRegex) return undefined;
    if (!urls.length) {
      ctx.diags.error('missing-url', `${type} checker has no urls specified - ignoring`, k.loc, { keyword: 'url', suggestion: 'add: url { path / }' });
      return undefined;
    }
    // Object.assign onto finish()'s fresh object, not a spread into another: the same keys in the same order, and
    // the spread of an object of varying shape was two thirds of the model's time on 10,000 HTTP_GET (issue 11).
    return { node: k, timers: t, build: (rt) => Object.assign(finish(rt), { urls }, h) as Checker };
  }
  if (type === 'MISC_CHECK') {
    let script: ReturnType<typeof readScript>;
    let timeoutMs: number | undefined, dynamic = false, user: string | undefined, group: string | undefined;
    for (let si = 0, sList = k.block ?? []; si < sList.length; si++) { const s = sList[si]!;
      if (['warmup', 'delay_loop', 'alpha', 'retry', 'delay_before_retry'].includes(s.keyword)) { timerKeyword(ctx, s, t); continue; }
      switch (s.keyword) {
        case 'misc_path': script = readScript(ctx, s, false) ?? script; break;
        case 'misc_timeout': { if (!ctx.need(s, 1, 'SECONDS')) break; const v = readInt(ctx, s, 0, 0, UINT_MAX / 1e6); if (v !== undefined) timeoutMs = v * 1000; break; }
        case 'misc_dynamic': dynamic = true; break;
        case 'user': if (ctx.need(s, 1, 'USER [GROUP]')) { user = s.args[0]!.text; group = s.args[1]?.text; } break;
        case 'log_all_failures': { const b = readBool(ctx, s); if (b !== undefined) c.logAllFailures = b; break; }
        default: otherKeyword(ctx, s, 'MISC_CHECK');
      }
    }
    if (!script) { ctx.diags.error('missing-script', 'no script path has been specified for MISC_CHECK - skipping', k.loc, { keyword: 'misc_path' }); return undefined; }
    if (user) { script.user = user; if (group) script.group = group; }
    const sc = script;
    return { node: k, timers: t, build: (rt) => { const f = finish(rt); return Object.assign(f, { script: sc, timeoutMs: timeoutMs || f.delayLoopMs, dynamic }) as Checker; } };
  }
  if (type === 'FILE_CHECK') {
    // check_file.c: only track_file and weight; the file path and the default weight come from the track_file block
    // (resolveFileChecks, once every block is read).
    let trackFile: string | undefined, weight: number | undefined, weightReverse = false;
    for (let si = 0, sList = k.block ?? []; si < sList.length; si++) { const s = sList[si]!;
      switch (s.keyword) {
        case 'track_file': if (ctx.need(s, 1, 'NAME')) trackFile = s.args[0]!.text; break;
        case 'weight': {
          if (!ctx.need(s, 1, `N (-${INT32_MAX}..${INT32_MAX}) [reverse]`)) break;
          let rev = false;
          const opt = s.args[1]?.text;
          if (opt !== undefined && opt !== 'reverse' && opt !== 'noreverse') { ctx.bad(s, 1, 'invalid-value', `unknown track file weight option ${opt} - ignoring`); break; }
          if (opt === 'reverse') rev = true;
          const v = readInt(ctx, s, 0, -INT32_MAX, INT32_MAX);
          if (v !== undefined) { weight = v; weightReverse = rev; }
          break;
        }
        default: otherKeyword(ctx, s, 'FILE_CHECK');
      }
    }
    if (trackFile === undefined) { ctx.diags.error('missing-parameter', 'FILE_CHECK has no track_file specified - ignoring', k.loc, { keyword: 'track_file' }); return undefined; }
    const name = trackFile;
    return {
      node: k, timers: t,
      build: (rt) => Object.assign(finish(rt), { trackFile: name, file: '', weight: weight ?? NaN, weightReverse }) as Checker,
    };
  }
  if (type === 'PING_CHECK' || type === 'SMTP_CHECK') {
    // SMTP_CHECK arrives here only with an empty block, from smtpDraft (parseSmtpChecker reads its block).
    for (let si = 0, sList = k.block ?? []; si < sList.length; si++) { const s = sList[si]!; if (!checkerCommon(ctx, s, c, t, family)) otherKeyword(ctx, s, type); }
    return { node: k, timers: t, build: (rt) => finish(rt) as Checker };
  }
  if (type === 'UDP_CHECK') {
    const u: { payload?: number[]; requireReply: boolean; reply?: number[]; replyMask?: number[]; minReplyLength: number; maxReplyLength: number } = {
      requireReply: false, minReplyLength: 0, maxReplyLength: 255,
    };
    for (let si = 0, sList = k.block ?? []; si < sList.length; si++) { const s = sList[si]!;
      if (checkerCommon(ctx, s, c, t, family)) continue;
      // keepalived joins the rest of the line with single blanks before reading it as hex (make_strvec_str).
      const hex = s.args.map((a) => a.text).join(' ');
      switch (s.keyword) {
        case 'payload': {
          if (!s.args.length) { ctx.diags.error('missing-parameter', 'UDP_CHECK payload requires a payload', s.loc, { keyword: s.keyword, suggestion: 'payload HEX-BYTES, e.g. payload 01 02 ab' }); break; }
          const b = readHexString(hex, false);
          if (!b) { ctx.bad(s, 0, 'invalid-value', 'Invalid hex string for UDP_CHECK payload', 'hex bytes separated by blanks; a last byte ff is refused by keepalived too'); break; }
          u.payload = b.data;
          break;
        }
        case 'require_reply': {
          u.requireReply = true;
          if (!s.args.length) break;
          const b = readHexString(hex, true);
          if (!b) { ctx.bad(s, 0, 'invalid-value', 'Invalid hex string for UDP_CHECK reply', 'hex bytes separated by blanks, x for any nibble; a last byte ff is refused by keepalived too'); break; }
          u.reply = b.data;
          if (b.mask) u.replyMask = b.mask;
          break;
        }
        case 'min_reply_length': case 'max_reply_length': {
          if (!ctx.need(s, 1, 'LENGTH (0..65535)')) break;
          const v = readInt(ctx, s, 0, 0, 65535, `UDP_CHECK ${s.keyword === 'min_reply_length' ? 'min' : 'max'} length ${s.args[0]!.text} not valid - must be between 0 & 65535`);
          if (v === undefined) break;
          if (s.keyword === 'min_reply_length') u.minReplyLength = v; else u.maxReplyLength = v;
          break;
        }
        default: otherKeyword(ctx, s, type);
      }
    }
    if (u.minReplyLength > u.maxReplyLength)
      ctx.diags.error('conflict', `UDP_CHECK min_reply length ${u.minReplyLength} > max_reply_length ${u.maxReplyLength} - will always fail`, k.loc, { keyword: 'min_reply_length' });
    return { node: k, timers: t, build: (rt) => Object.assign(finish(rt), u) as Checker };
  }
  if (type === 'DNS_CHECK') {
    let qtype = 6, name: string | undefined;
    for (let si = 0, sList = k.block ?? []; si < sList.length; si++) { const s = sList[si]!;
      if (checkerCommon(ctx, s, c, t, family)) continue;
      switch (s.keyword) {
        case 'type': {
          if (!ctx.need(s, 1, [...DNS_TYPES.keys()].join('|'))) break;
          const n = dnsTypeNumber(s.args[0]!.text);
          if (n === undefined) ctx.bad(s, 0, 'invalid-value', `Unknown DNS check type ${s.args[0]!.text} - ignoring`, `expected one of ${[...DNS_TYPES.keys()].join(', ')}`);
          else qtype = n;
          break;
        }
        case 'name': {
          if (!ctx.need(s, 1, 'NAME')) break;
          if (name !== undefined) { ctx.diags.error('duplicate', 'DNS_CHECK name already specified - ignoring', s.loc, { keyword: s.keyword }); break; }
          const v = s.args[0]!.text;
          if (dnsNameRejected(v)) { ctx.bad(s, 0, 'invalid-value', `DNS_CHECK name '${v}' has empty label - ignoring`, "keepalived also refuses a name whose second character is '.'"); break; }
          name = v;
          break;
        }
        default: otherKeyword(ctx, s, type);
      }
    }
    const nm = name ?? '';
    // check_dns.c: retry 3 unless set; delay_before_retry unset means delay_loop.
    return {
      node: k, timers: t,
      build: (rt) => {
        const f = finish(rt);
        if (t.retry === undefined && rt.retry === undefined) f.retry = 3;
        if (t.delayBeforeRetryMs === undefined && rt.delayBeforeRetryMs === undefined) f.delayBeforeRetryMs = f.delayLoopMs;
        return Object.assign(f, { qtype, name: nm }) as Checker;
      },
    };
  }
  return undefined;
}

/** A connection option (conn_opts_t) is set in the checker's own block: keepalived then ignores `host {}` for it. */
function hasConnOpts(c: Partial<CheckerCommon>, t: Partial<ServerTimers>): boolean {
  return c.connectIp !== undefined || c.connectPort !== undefined || c.bindTo !== undefined || c.bindPort !== undefined
    || c.bindIf !== undefined || c.fwmark !== undefined || t.connectTimeoutMs !== undefined;
}

/**
 * SMTP_CHECK with its deprecated `host {}` blocks (check_smtp.c, WITH_HOST_ENTRIES is on in 2.2.7). Each host holds
 * connection options only (its timer keywords apply to the SMTP_CHECK itself). With hosts and no connection option of
 * its own, the checker takes the first host's; every other host is one more SMTP_CHECK with the real server's timers.
 */
function parseSmtpChecker(ctx: Ctx, k: ConfigNode, family: Family): RsDraft['checkers'] {
  let helo: string | undefined;
  const c: Partial<CheckerCommon> = {};
  const t: Partial<ServerTimers> = {};
  const hosts: Array<{ c: Partial<CheckerCommon>; t: Partial<ServerTimers>; node: ConfigNode }> = [];
  for (const s of k.block ?? []) {
    if (checkerCommon(ctx, s, c, t, family)) continue;
    switch (s.keyword) {
      case 'helo_name':
        if (!s.args.length) { ctx.diags.error('missing-parameter', 'SMTP_CHECK helo name missing', s.loc, { keyword: s.keyword, suggestion: 'helo_name NAME' }); break; }
        helo = s.args[0]!.text;
        break;
      case 'host': {
        const hc: Partial<CheckerCommon> = {};
        const ht: Partial<ServerTimers> = {};
        for (const h of s.block ?? []) {
          const timers: Partial<ServerTimers> = {};
          if (checkerCommon(ctx, h, hc, timers, family)) {
            // connect_timeout belongs to the host's connection; retry, delay_loop… to the SMTP_CHECK (its current checker).
            const { connectTimeoutMs, ...rest } = timers;
            if (connectTimeoutMs !== undefined) ht.connectTimeoutMs = connectTimeoutMs;
            Object.assign(t, rest);
            if (hc.logAllFailures !== undefined) { c.logAllFailures = hc.logAllFailures; delete hc.logAllFailures; }
          } else otherKeyword(ctx, h, 'host');
        }
        hosts.push({ c: hc, t: ht, node: s });
        break;
      }
      default: otherKeyword(ctx, s, 'SMTP_CHECK');
    }
  }
  if (hosts.length) ctx.diags.notice('deprecated', 'The SMTP_CHECK host block is deprecated. Please define additional checkers.', hosts[0]!.node.loc, { keyword: 'host', suggestion: 'one SMTP_CHECK per host, with connect_ip / connect_port' });
  const heloName = helo ?? SMTP_DEFAULT_HELO;
  const first = hosts.length > 0 && !hasConnOpts(c, t) ? hosts.shift()! : undefined;
  const own = first ? { ...t, ...first.t } : t;
  const out = [smtpDraft(ctx, k, family, first ? { ...first.c, logAllFailures: c.logAllFailures } : c, own, heloName)];
  for (const h of hosts) out.push(smtpDraft(ctx, h.node, family, h.c, h.t, heloName));
  return out;
}

/** One SMTP checker: its connection options and the timers set for it, the rest inherited like any checker. */
function smtpDraft(ctx: Ctx, node: ConfigNode, family: Family, cc: Partial<CheckerCommon>, tt: Partial<ServerTimers>, heloName: string): RsDraft['checkers'][number] {
  const base = parseChecker(ctx, { keyword: 'SMTP_CHECK', loc: node.loc, args: node.args, block: [] }, family)!;
  return {
    node, timers: tt,
    build: (rt) => {
      const delayLoopMs = tt.delayLoopMs ?? rt.delayLoopMs;
      const o = base.build({
        connectTimeoutMs: tt.connectTimeoutMs ?? rt.connectTimeoutMs,
        delayLoopMs,
        alpha: tt.alpha ?? rt.alpha,
        retry: tt.retry ?? rt.retry,
        delayBeforeRetryMs: tt.delayBeforeRetryMs ?? rt.delayBeforeRetryMs,
        warmupMs: tt.warmupMs ?? rt.warmupMs ?? delayLoopMs,
      } as ResolvedTimers) as SmtpCheck;
      if (cc.connectIp !== undefined) o.connectIp = cc.connectIp;
      if (cc.connectPort !== undefined) o.connectPort = cc.connectPort;
      if (cc.bindTo !== undefined) o.bindTo = cc.bindTo;
      if (cc.bindPort !== undefined) o.bindPort = cc.bindPort;
      if (cc.bindIf !== undefined) o.bindIf = cc.bindIf;
      if (cc.fwmark !== undefined) o.fwmark = cc.fwmark;
      if (cc.logAllFailures !== undefined) o.logAllFailures = cc.logAllFailures;
      o.heloName = heloName;
      return o;
    },
  };
}

function buildRealServer(ctx: Ctx, n: ConfigNode, family: Family): RsDraft | undefined {
  if (!ctx.need(n, 1, 'IP [PORT] { … }')) return undefined;
  const ip = readIp(ctx, n, 0);
  if (!ip) return undefined;
  let port = 0, portGiven = false;
  if (n.args[1]) {
    const p = parsePort(n.args[1].text);
    if (p === undefined) { ctx.bad(n, 1, 'invalid-value', `invalid real server ip address/port ${n.args[0]!.text}/${n.args[1].text} - skipping`); return undefined; }
    port = p; portGiven = p !== 0;
  }
  if (ip.family !== family) { ctx.bad(n, 0, 'family-mismatch', `address family of virtual server and real server ${ip.address} don't match - skipping real server.`); return undefined; }
  const d: RsDraft = { rs: { address: ip.address, family: ip.family, port, portGiven, loc: n.loc }, timers: {}, checkers: [] };
  for (let ki = 0, kList = n.block ?? []; ki < kList.length; ki++) { const k = kList[ki]!;
    if (timerKeyword(ctx, k, d.timers)) continue;
    switch (k.keyword) {
      case 'weight': { if (!ctx.need(k, 1, `N (0..${INT32_MAX})`)) break; const v = readInt(ctx, k, 0, 0, INT32_MAX); if (v !== undefined) d.weight = v; break; }
      case 'lvs_method': { const m = readLbKind(ctx, k, 'real'); if (m) d.lbKind = m; break; }
      case 'uthreshold': { if (!ctx.need(k, 1, 'N')) break; const v = readInt(ctx, k, 0, 0, UINT_MAX); if (v !== undefined) d.rs.uthreshold = v; break; }
      case 'lthreshold': { if (!ctx.need(k, 1, 'N')) break; const v = readInt(ctx, k, 0, 0, UINT_MAX); if (v !== undefined) d.rs.lthreshold = v; break; }
      case 'inhibit_on_failure': { const b = readBool(ctx, k); if (b !== undefined) d.inhibit = b; break; }
      case 'notify_up': case 'notify_down': {
        const f = k.keyword === 'notify_up' ? 'notifyUp' : 'notifyDown';
        if (d.rs[f]) { ctx.diags.error('duplicate', `${k.keyword} script already specified - ignoring`, k.loc, { keyword: k.keyword }); break; }
        const s = readScript(ctx, k, true); if (s) d.rs[f] = s;
        break;
      }
      case 'smtp_alert': { const b = readBool(ctx, k); if (b !== undefined) d.smtpAlert = b; break; }
      case 'virtualhost': if (ctx.need(k, 1, 'HOSTNAME')) d.rs.virtualhost = k.args[0]!.text; break;
      case 'snmp_name': ctx.need(k, 1, 'NAME'); break;
      case 'SMTP_CHECK': d.checkers.push(...parseSmtpChecker(ctx, k, family)); break;
      case 'TCP_CHECK': case 'HTTP_GET': case 'SSL_GET': case 'MISC_CHECK': case 'FILE_CHECK': case 'PING_CHECK': case 'UDP_CHECK': case 'DNS_CHECK': {
        const c = parseChecker(ctx, k, family);
        if (c) d.checkers.push(c);
        break;
      }
      default: otherKeyword(ctx, k, 'real_server');
    }
  }
  return d;
}

export function fmtVs(vs: Pick<VirtualServer, 'kind' | 'address' | 'port' | 'fwmark' | 'group'> & { protocol?: Protocol }): string {
  const proto = vs.protocol ? `${vs.protocol.toLowerCase()}:` : '';
  if (vs.kind === 'fwmark') return `FWM ${vs.fwmark}`;
  if (vs.kind === 'group') return `[${vs.group}]:${proto}${vs.port ?? 0}`;
  return `[${vs.address}]:${proto}${vs.port ?? 0}`;
}

export function buildVirtualServer(ctx: Ctx, n: ConfigNode, groups: ReadonlyMap<string, VirtualServerGroup>): VirtualServer | undefined {
  if (!ctx.need(n, 1, 'IP PORT | fwmark N | group NAME')) return undefined;
  const a0 = n.args[0]!.text;
  const base: Partial<VirtualServer> = { loc: n.loc, schedFlags: [] };
  let family: Family = 4;
  let groupRef: VirtualServerGroup | undefined;
  if (a0 === 'fwmark') {
    if (!ctx.need(n, 2, 'fwmark MARK')) return undefined;
    const m = readInt(ctx, n, 1, 0, UINT_MAX);
    if (m === undefined) return undefined;
    base.kind = 'fwmark'; base.fwmark = m;
  } else if (a0 === 'group') {
    if (!ctx.need(n, 2, 'group NAME')) return undefined;
    base.kind = 'group'; base.group = n.args[1]!.text;
    groupRef = groups.get(base.group);
    if (!groupRef) {
      // keepalived -t accepts this silently (the service just has no addresses); we say so without changing the verdict.
      ctx.diags.notice('unknown-reference', `virtual server group ${base.group} not found - virtual server ignored`, ctx.argLoc(n, 1), {
        keyword: 'group', suggestion: groups.size ? `defined groups: ${[...groups.keys()].join(', ')}` : 'define it with virtual_server_group NAME { … }',
      });
      return undefined;
    }
    family = groupRef.entries.find((e) => e.family)?.family ?? 4;
  } else {
    const ip = readIp(ctx, n, 0);
    if (!ip) return undefined;
    base.kind = 'address'; base.address = ip.address; family = ip.family;
    base.port = 0;
    if (n.args[1]) {
      const p = parsePort(n.args[1].text);
      if (p === undefined) { ctx.bad(n, 1, 'invalid-value', `invalid virtual server IP address/port ${a0}/${n.args[1].text} - skipping`); return undefined; }
      base.port = p;
    }
  }
  base.family = family;
  const timers: Partial<ServerTimers> = {};
  let protocol: Protocol | undefined, lbAlgo: LbAlgo | undefined, lbKind: { kind: LbKind; tunnel?: TunnelSpec } | undefined;
  let persistence: number | undefined;
  let quorum = 1, hysteresis = 0, weight = 1;
  let inhibit = false, omega = false, haSuspend = false, smtpAlert: boolean | undefined;
  let sorry: SorryServer | undefined;
  const rsDrafts: RsDraft[] = [];
  for (let ki = 0, kList = n.block ?? []; ki < kList.length; ki++) { const k = kList[ki]!;
    if (timerKeyword(ctx, k, timers)) continue;
    if (SCHED_FLAGS.has(k.keyword)) { base.schedFlags!.push(k.keyword); continue; }
    switch (k.keyword) {
      case 'ip_family': {
        if (!ctx.need(k, 1, 'inet|inet6')) break;
        const f = k.args[0]!.text === 'inet' ? 4 : k.args[0]!.text === 'inet6' ? 6 : undefined;
        if (!f) ctx.bad(k, 0, 'invalid-value', `unknown address family ${k.args[0]!.text}`, 'expected inet or inet6');
        else if (base.kind === 'address' && f !== family) ctx.bad(k, 0, 'family-mismatch', `virtual server specified family ${k.args[0]!.text} conflicts with server family`);
        else family = base.family = f;
        break;
      }
      case 'lb_algo': case 'lvs_sched': {
        if (!ctx.need(k, 1, LB_ALGOS_EXPECTED)) break;
        const v = k.args[0]!.text;
        if (!LB_ALGOS.has(v)) ctx.bad(k, 0, 'invalid-value', `invalid lvs_scheduler '${v}' - ignoring`, `expected one of ${[...LB_ALGOS].join(', ')}`);
        else lbAlgo = v as LbAlgo;
        break;
      }
      case 'lb_kind': case 'lvs_method': { const m = readLbKind(ctx, k, 'virtual'); if (m) lbKind = m; break; }
      case 'protocol': {
        if (!ctx.need(k, 1, 'TCP|UDP|SCTP')) break;
        const v = k.args[0]!.text.toUpperCase();
        if (v === 'TCP' || v === 'UDP' || v === 'SCTP') protocol = v;
        else ctx.bad(k, 0, 'invalid-value', `unknown protocol ${k.args[0]!.text} - ignoring`, 'expected TCP, UDP or SCTP');
        break;
      }
      case 'persistence_timeout': {
        if (!k.args[0]) { persistence = 360; break; }
        const v = readInt(ctx, k, 0, 1, 2678400, 'persistence_timeout must be 1..2678400 seconds');
        if (v !== undefined) persistence = v;
        break;
      }
      case 'persistence_granularity': {
        if (!ctx.need(k, 1, 'NETMASK|PREFIX')) break;
        base.persistenceGranularity = k.args[0]!.text;
        break;
      }
      case 'persistence_engine': notSupported(ctx, k, 'virtual_server'); break;
      case 'ha_suspend': haSuspend = true; break;
      case 'smtp_alert': { const b = readBool(ctx, k); if (b !== undefined) smtpAlert = b; break; }
      case 'virtualhost': if (ctx.need(k, 1, 'HOSTNAME')) base.virtualhost = k.args[0]!.text; break;
      case 'snmp_name': ctx.need(k, 1, 'NAME'); break;
      case 'inhibit_on_failure': { const b = readBool(ctx, k); if (b !== undefined) inhibit = b; break; }
      case 'omega': { const b = readBool(ctx, k); if (b !== undefined) omega = b; break; }
      case 'quorum_up': case 'quorum_down': {
        const f = k.keyword === 'quorum_up' ? 'quorumUp' : 'quorumDown';
        if (base[f]) { ctx.diags.error('duplicate', `${k.keyword} script already specified - ignoring`, k.loc, { keyword: k.keyword }); break; }
        const s = readScript(ctx, k, true); if (s) base[f] = s;
        break;
      }
      case 'quorum': {
        if (!ctx.need(k, 1, 'N (>= 1)')) break;
        const v = readInt(ctx, k, 0, 1, UINT_MAX, 'quorum must be in [1, 4294967295]; setting to 1');
        quorum = v ?? 1;
        break;
      }
      case 'hysteresis': { if (!ctx.need(k, 1, 'N')) break; const v = readInt(ctx, k, 0, 0, UINT_MAX); if (v !== undefined) hysteresis = v; break; }
      case 'weight': { if (!ctx.need(k, 1, `N (1..${INT32_MAX})`)) break; const v = readInt(ctx, k, 0, 1, INT32_MAX); if (v !== undefined) weight = v; break; }
      case 'sorry_server': {
        if (!ctx.need(k, 1, 'IP [PORT]')) break;
        const ip = readIp(ctx, k, 0);
        if (!ip) break;
        if (ip.family !== family) { ctx.bad(k, 0, 'family-mismatch', `address family of virtual server and sorry server ${ip.address} don't match - skipping sorry server.`); break; }
        const p = k.args[1] ? parsePort(k.args[1].text) : 0;
        if (p === undefined) { ctx.bad(k, 1, 'invalid-value', `invalid sorry server port '${k.args[1]!.text}'`); break; }
        sorry = { address: ip.address, family: ip.family, port: p, inhibit: false };
        break;
      }
      case 'sorry_server_inhibit':
        if (!sorry) ctx.diags.error('order', 'ignoring sorry_server_inhibit used before or without sorry_server', k.loc, { keyword: k.keyword, suggestion: 'put sorry_server_inhibit after sorry_server' });
        else sorry.inhibit = readBool(ctx, k) ?? sorry.inhibit;
        break;
      case 'sorry_server_lvs_method': {
        if (!sorry) { ctx.diags.error('order', 'sorry_server forwarding used without sorry_server', k.loc, { keyword: k.keyword }); break; }
        const m = readLbKind(ctx, k, 'sorry'); if (m) sorry.lbKind = m.kind;
        break;
      }
      case 'real_server': { const r = buildRealServer(ctx, k, family); if (r) rsDrafts.push(r); break; }
      case 'alpha': break; // handled by timerKeyword
      default: otherKeyword(ctx, k, 'virtual_server');
    }
  }
  const keyVs = { kind: base.kind!, address: base.address, port: base.port, fwmark: base.fwmark, group: base.group, protocol };
  const E = (code: string, msg: string, loc: Loc = n.loc, suggestion?: string): void => ctx.diags.error(code, msg, loc, { suggestion });
  let key = fmtVs(keyVs);
  if (!rsDrafts.length) {
    E('no-real-servers', `virtual server ${key} has no real servers - ignoring`, n.loc, 'add real_server IP PORT { … }');
    return undefined;
  }
  const byAddress = base.kind === 'address' || (base.kind === 'group' && groupRef!.entries.some((e) => e.kind === 'address'));
  const byFwmark = base.kind === 'fwmark' || (base.kind === 'group' && groupRef!.entries.every((e) => e.kind === 'fwmark'));
  if (haSuspend && (base.kind === 'fwmark' || groupRef?.entries.some((e) => e.kind === 'fwmark'))) {
    E('conflict', `virtual server ${key}: cannot use ha_suspend with fwmarks - clearing ha_suspend`);
    haSuspend = false;
  }
  if (byAddress) {
    if (!protocol) {
      ctx.diags.warning('default-protocol', `virtual server ${key}: no protocol set - defaulting to UDP`, n.loc, { keyword: 'protocol', suggestion: "add 'protocol TCP' (keepalived's default is UDP)" });
      protocol = 'UDP';
    }
    if (base.schedFlags!.includes('ops') && protocol !== 'UDP') {
      E('conflict', `virtual server ${key}: one packet scheduling requires UDP - resetting`);
      base.schedFlags = base.schedFlags!.filter((f) => f !== 'ops');
    }
    if (!persistence && base.kind === 'address' && !base.port) {
      E('zero-port', `virtual server ${key}: zero port only valid for persistent services - setting`, n.loc, 'give a port, or set persistence_timeout');
      persistence = 360;
    }
  }
  if (!persistence && groupRef && groupRef.entries.some((e) => e.kind === 'address' && !e.port)) {
    E('zero-port', `virtual server ${key}: zero port only valid for persistent services - setting`);
    persistence = 360;
  }
  if (protocol && byFwmark) {
    E('conflict', `Warning: virtual server ${key}: protocol specified for fwmark - protocol will be ignored`);
  }
  if (!lbAlgo) {
    ctx.diags.warning('default-lb-algo', `virtual server ${key}: no scheduler set, setting default 'wlc'`, n.loc, { keyword: 'lb_algo', suggestion: 'add: lb_algo wlc (or rr, wrr, lc, …)' });
    lbAlgo = 'wlc';
  }
  key = fmtVs({ ...keyVs, protocol });
  const vsTimers: ServerTimers = {
    connectTimeoutMs: timers.connectTimeoutMs ?? 5000, delayLoopMs: timers.delayLoopMs ?? 60_000, alpha: timers.alpha ?? false,
    ...(timers.retry !== undefined ? { retry: timers.retry } : {}),
    ...(timers.delayBeforeRetryMs !== undefined ? { delayBeforeRetryMs: timers.delayBeforeRetryMs } : {}),
    ...(timers.warmupMs !== undefined ? { warmupMs: timers.warmupMs } : {}),
  };
  const realServers: RealServer[] = [];
  let weightSum = 0;
  let noLbKindWarned = false;
  // Ports of the real servers kept so far, per address: a duplicate has the address and, when it gives a port, that
  // port (a search of the servers kept so far made a virtual server of n real servers cost n² / 2 comparisons).
  // One port is kept as a number: a Set per real server was a tenth of this function's time.
  const keptPorts = new Map<string, number | Set<number>>();
  for (let di = 0; di < rsDrafts.length; di++) { const d = rsDrafts[di]!;
    const ports = keptPorts.get(d.rs.address);
    if (ports !== undefined && (!d.rs.portGiven || (typeof ports === 'number' ? ports === d.rs.port : ports.has(d.rs.port)))) {
      E('duplicate', `VS ${key}: real server [${d.rs.address}]:${d.rs.port} is duplicated - removing second rs`, d.rs.loc);
      continue;
    }
    let kind = d.lbKind;
    if (!kind) {
      if (!lbKind && !noLbKindWarned) {
        ctx.diags.warning('default-lb-kind', `virtual server ${key}: no forwarding method set, setting default NAT`, n.loc, { keyword: 'lb_kind', suggestion: 'add: lb_kind NAT|DR|TUN' });
        noLbKindWarned = true;
      }
      kind = lbKind ?? { kind: 'NAT' };
    }
    const w = d.weight ?? weight;
    weightSum += w;
    // Ports: fwmark services carry port 0 unless NAT; DR/TUN use the VS port.
    let port = d.rs.port;
    if (base.kind === 'fwmark' || (groupRef && byFwmark)) {
      if (kind.kind !== 'NAT' && d.rs.portGiven) { E('port-ignored', `WARNING - fwmark virtual server ${key}, real server ${d.rs.address} has port specified - clearing`, d.rs.loc); port = 0; }
    } else if (base.kind === 'address') {
      if (!d.rs.portGiven) port = base.port ?? 0;
      else if (kind.kind !== 'NAT' && port !== base.port) { E('port-mismatch', `WARNING - virtual server ${key} and real server ${d.rs.address} ports don't match - resetting`, d.rs.loc, 'DR and TUN cannot change the port'); port = base.port ?? 0; }
    }
    const rs = resolveRealServer(d, vsTimers, port, w, kind, inhibit);
    // Here, not in resolveRealServer: it reports (in the order of the real servers).
    if (rs.checkers.length) rs.checkers = rs.checkers.filter((c) => linkLocalHasInterface(ctx, c, rs.address));
    realServers.push(rs);
    if (ports === undefined) keptPorts.set(rs.address, port);
    else if (typeof ports !== 'number') ports.add(port);
    else if (ports !== port) keptPorts.set(rs.address, new Set([ports, port]));
  }
  if (sorry && !sorry.lbKind) sorry.lbKind = lbKind?.kind ?? 'NAT';
  if (quorum > weightSum) {
    E('quorum-clamped', `Warning - quorum ${quorum} for ${key} exceeds total weight of real servers ${weightSum}, reducing quorum to ${weightSum}`, n.loc);
    quorum = weightSum;
  }
  if (hysteresis >= quorum && (hysteresis > 0 || quorum === 0)) {
    const nh = Math.max(0, quorum - 1);
    if (hysteresis !== nh) E('hysteresis-clamped', `virtual server ${key}: hysteresis ${hysteresis} >= quorum ${quorum}; setting hysteresis to ${nh}`);
    hysteresis = nh;
  }
  // The draft completed in place, in the order a spread `{ ...base, family, key, … }` gave (the same keys, so the
  // same -d dump): that spread of an object of varying shape was two thirds of this function's time (issue 11).
  const vs = base as VirtualServer;
  vs.family = family;
  vs.key = key;
  vs.protocol = protocol ?? 'TCP';
  vs.lbAlgo = lbAlgo;
  vs.lbKind = lbKind?.kind ?? 'NAT';
  if (lbKind?.tunnel) vs.tunnel = lbKind.tunnel;
  vs.persistenceTimeoutS = persistence ?? 0;
  vs.inhibitOnFailure = inhibit;
  vs.omega = omega;
  vs.quorum = quorum;
  vs.hysteresis = hysteresis;
  if (sorry) vs.sorryServer = sorry;
  vs.weight = weight;
  vs.haSuspend = haSuspend;
  if (smtpAlert !== undefined) vs.smtpAlert = smtpAlert;
  assignTimers(vs, vsTimers);
  vs.realServers = realServers;
  return vs;
}

/** The timers onto a virtual or real server, by assignment in one order (the model's key order, which -d prints). */
function assignTimers(dst: ServerTimers, t: ServerTimers): void {
  dst.connectTimeoutMs = t.connectTimeoutMs;
  dst.delayLoopMs = t.delayLoopMs;
  dst.alpha = t.alpha;
  if (t.retry !== undefined) dst.retry = t.retry;
  if (t.delayBeforeRetryMs !== undefined) dst.delayBeforeRetryMs = t.delayBeforeRetryMs;
  if (t.warmupMs !== undefined) dst.warmupMs = t.warmupMs;
}

/** The checkers with connection options (keepalived's conn_opts_t): the ones check_conn_opts looks at. */
const CONN_OPTS_CHECKERS = new Set(['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'SMTP_CHECK', 'DNS_CHECK', 'UDP_CHECK', 'PING_CHECK']);

/**
 * keepalived's check_conn_opts: a checker whose destination (connect_ip, else the real server) is IPv6 link-local
 * cannot say which link without bind_if, so it is dropped with a config error (`-t` exit 5).
 */
function linkLocalHasInterface(ctx: Ctx, c: Checker, rsAddress: string): boolean {
  if (!CONN_OPTS_CHECKERS.has(c.type) || c.bindIf !== undefined) return true;
  const dst = c.connectIp ?? rsAddress;
  // An IPv4 address is never IPv6 link-local: no failed IPv6 parse per IPv4 checker.
  if (!dst.includes(':') || !isLinkLocal6(dst)) return true;
  ctx.diags.error('link-local-needs-bind-if', `Checker link local address ${dst} requires a bind_if`, c.loc, {
    keyword: c.type, suggestion: `add bind_if INTERFACE (the link ${dst} is on) to the ${c.type} block`,
  });
  return false;
}

/**
 * A real server from its draft, with the timers it inherits from its virtual server. Its own small function: it
 * runs once per real server, and V8 compiles a small hot function to optimized code long before the whole of
 * buildVirtualServer (whose first optimized compile took ~50 ms, all the while running unoptimized).
 */
function resolveRealServer(d: RsDraft, vsTimers: ServerTimers, port: number, w: number, kind: { kind: LbKind; tunnel?: TunnelSpec }, inhibit: boolean): RealServer {
  const t: ServerTimers = {
    connectTimeoutMs: d.timers.connectTimeoutMs ?? vsTimers.connectTimeoutMs,
    delayLoopMs: d.timers.delayLoopMs ?? vsTimers.delayLoopMs,
    alpha: d.timers.alpha ?? vsTimers.alpha,
  };
  const retry = d.timers.retry ?? vsTimers.retry;
  const dbr = d.timers.delayBeforeRetryMs ?? vsTimers.delayBeforeRetryMs;
  const warm = d.timers.warmupMs ?? vsTimers.warmupMs;
  if (retry !== undefined) t.retry = retry;
  if (dbr !== undefined) t.delayBeforeRetryMs = dbr;
  if (warm !== undefined) t.warmupMs = warm;
  // Built by assignment rather than `{ ...rsBase, port, ...t, … }` (see finish() in parseChecker: spreads of
  // objects of varying shape are V8's slow path, and this runs once per real server).
  const rs = { address: d.rs.address, family: d.rs.family, port, loc: d.rs.loc } as RealServer;
  if (d.rs.uthreshold !== undefined) rs.uthreshold = d.rs.uthreshold;
  if (d.rs.lthreshold !== undefined) rs.lthreshold = d.rs.lthreshold;
  if (d.rs.notifyUp !== undefined) rs.notifyUp = d.rs.notifyUp;
  if (d.rs.notifyDown !== undefined) rs.notifyDown = d.rs.notifyDown;
  if (d.rs.virtualhost !== undefined) rs.virtualhost = d.rs.virtualhost;
  assignTimers(rs, t);
  rs.weight = w;
  rs.lbKind = kind.kind;
  if (kind.tunnel) rs.tunnel = kind.tunnel;
  rs.inhibitOnFailure = d.inhibit ?? inhibit;
  // Without its own smtp_alert: global_defs' default, filled in by the model builder (global_defs may come later).
  rs.smtpAlert = d.smtpAlert as boolean;
  const rt = { connectTimeoutMs: t.connectTimeoutMs, delayLoopMs: t.delayLoopMs, alpha: t.alpha, retry: t.retry, delayBeforeRetryMs: t.delayBeforeRetryMs, warmupMs: t.warmupMs };
  rs.checkers = d.checkers.map((c) => c.build(rt as ResolvedTimers));
  return rs;
}

/**
 * FILE_CHECK's track_file: its path, and its weight when the checker sets none (file_end_handler). An unknown name
 * drops the checker with keepalived's "track_file NAME not found".
 */
export function resolveFileChecks(ctx: Ctx, virtualServers: readonly VirtualServer[], trackFiles: readonly TrackFile[]): void {
  const byName = new Map(trackFiles.map((t) => [t.name, t]));
  const hasFileCheck = (cs: readonly Checker[]): boolean => {
    for (let i = 0; i < cs.length; i++) if (cs[i]!.type === 'FILE_CHECK') return true;
    return false;
  };
  // Indexed loops: this runs once per real server, cold (an array iterator allocates a result per element there).
  for (let v = 0; v < virtualServers.length; v++) {
    const rss = virtualServers[v]!.realServers;
    for (let r = 0; r < rss.length; r++) {
      const rs = rss[r]!;
      // A new array only for the servers it can change (it was one per real server).
      if (hasFileCheck(rs.checkers)) rs.checkers = rs.checkers.filter((c) => {
        if (c.type !== 'FILE_CHECK') return true;
        const tf = byName.get(c.trackFile);
        if (!tf) {
          ctx.diags.error('unknown-reference', `track_file ${c.trackFile} not found`, c.loc, { keyword: c.trackFile, suggestion: 'define it with track_file NAME { file … }' });
          return false;
        }
        c.file = tf.file;
        if (Number.isNaN(c.weight)) { c.weight = tf.weight; c.weightReverse = tf.weightReverse; }
        return true;
      });
    }
  }
}
