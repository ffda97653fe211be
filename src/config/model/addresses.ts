// ip-address / ip-route / ip-rule style lines inside virtual_ipaddress, virtual_routes and virtual_rules
// (vrrp_ipaddress.c parse_ipaddress, vrrp_iproute.c, vrrp_iprule.c).
import type { ConfigNode } from '../tree.js';
import type { VirtualIp, VirtualRoute, VirtualRule, UnicastPeer } from './types.js';
import { Ctx, readInt } from './values.js';
import { parseCidr, type Family } from '../../net/address.js';

/** A block line as [keyword, ...args] words with per-word locations. */
function lineWords(n: ConfigNode): Array<{ text: string; loc: ConfigNode['loc'] }> {
  return [{ text: n.keyword, loc: n.loc }, ...n.args.map((a) => ({ text: a.text, loc: a.loc }))];
}

const SCOPES: Record<string, number> = { global: 0, universe: 0, site: 200, link: 253, host: 254, nowhere: 255 };

/**
 * A missing interface is reported by the caller (it knows about dynamic_interfaces). `staticAddr`: a static_ipaddress
 * line, where keepalived takes track_group and not use_vmac (a VIP the other way round: the other is an unknown entry).
 */
export function parseVipLine(ctx: Ctx, n: ConfigNode, defaultDev: string, onDev: (dev: string, loc: ConfigNode['loc']) => void, staticAddr = false): VirtualIp | undefined {
  const ws = lineWords(n);
  const ip = parseCidr(ws[0]!.text, true);
  if (!ip) {
    ctx.diags.error('invalid-address', `invalid IP address '${ws[0]!.text}' in ${'virtual_ipaddress'} - skipping`, n.loc, {
      keyword: ws[0]!.text, suggestion: 'expected ADDRESS[/PREFIX] [brd IP] [dev IF] [scope SCOPE] [label LABEL] …',
    });
    return undefined;
  }
  const vip: VirtualIp = {
    address: ip.address, family: ip.family, prefix: ip.prefix ?? (ip.family === 4 ? 32 : 128), dev: defaultDev, scope: 0,
    home: false, noDad: false, mngtmpaddr: false, noprefixroute: false, autojoin: false, noTrack: false, useVmac: false,
    loc: n.loc,
  };
  const need = (i: number): string | undefined => {
    const v = ws[i + 1];
    if (!v) ctx.diags.error('missing-parameter', `no ${ws[i]!.text} parameter specified for ${ws[0]!.text}`, ws[i]!.loc, { keyword: ws[i]!.text });
    return v?.text;
  };
  let devSeen = false;
  const unknown = (w: string, loc: ConfigNode['loc']): void => {
    ctx.diags.error('unknown-keyword', `unknown configuration entry '${w}' for ip address - ignoring`, loc, {
      keyword: w, suggestion: `options: brd dev scope label peer home -nodad mngtmpaddr noprefixroute autojoin no_track preferred_lft ${staticAddr ? 'track_group' : 'use_vmac'}`,
    });
  };
  for (let i = 1; i < ws.length; i++) {
    const w = ws[i]!.text;
    switch (w) {
      case 'dev': { const v = need(i); if (v === undefined) break; i++; if (devSeen) { ctx.diags.error('duplicate', `cannot specify ipaddress device more than once for ${ws[0]!.text}`, ws[i]!.loc); break; } devSeen = true; vip.dev = v; onDev(v, ws[i]!.loc); break; }
      case 'scope': {
        const v = need(i); if (v === undefined) break; i++;
        const s = /^\d+$/.test(v) ? Number(v) : SCOPES[v];
        if (s === undefined || s > 255) ctx.diags.error('invalid-value', `invalid scope '${v}' specified for ${ws[0]!.text} - ignoring`, ws[i]!.loc, { suggestion: 'expected global|site|link|host|nowhere|0..255' });
        else vip.scope = s;
        break;
      }
      case 'brd': case 'broadcast': {
        const v = need(i); if (v === undefined) break; i++;
        if (ip.family === 6) { ctx.diags.error('invalid-value', `cannot assign a broadcast address to the IPv6 address ${ip.address}`, ws[i]!.loc); break; }
        if (v === '+' || v === '-') { vip.brd = v; break; }
        const b = parseCidr(v, false);
        if (!b || b.family !== 4) ctx.diags.error('invalid-address', `invalid broadcast address '${v}'`, ws[i]!.loc);
        else vip.brd = b.address;
        break;
      }
      case 'label': { const v = need(i); if (v === undefined) break; i++; if (v.length > 15) ctx.diags.error('invalid-value', `address label ${v} is longer than 15 characters - removing address`, ws[i]!.loc); else vip.label = v; break; }
      case 'peer': {
        const v = need(i); if (v === undefined) break; i++;
        const p = parseCidr(v, true);
        if (!p) ctx.diags.error('invalid-address', `invalid peer address ${v}`, ws[i]!.loc);
        else if (p.family !== ip.family) ctx.diags.error('invalid-address', `peer address ${v} does not match address family`, ws[i]!.loc);
        else vip.peer = p.address;
        break;
      }
      case 'home': vip.home = true; break;
      case '-nodad': case 'nodad': vip.noDad = true; break;
      case 'mngtmpaddr': vip.mngtmpaddr = true; break;
      case 'noprefixroute': vip.noprefixroute = true; break;
      case 'autojoin': vip.autojoin = true; break;
      case 'no_track': vip.noTrack = true; break;
      case 'use_vmac':
        // keepalived makes an extra VMAC on the address's own interface for it (vrrp.c, vmac_addr_prefix; the VRRP
        // plan builds it).
        if (staticAddr) { unknown(w, ws[i]!.loc); break; }
        vip.useVmac = true;
        break;
      case 'preferred_lft': {
        const v = need(i); if (v === undefined) break; i++;
        if (v === 'forever') break;
        if (!/^\d+$/.test(v)) ctx.diags.error('invalid-value', `preferred_lft ${v} is invalid`, ws[i]!.loc, { suggestion: 'expected SECONDS or forever' });
        else vip.preferredLftS = Number(v);
        break;
      }
      case 'track_group':
        if (!staticAddr) { unknown(w, ws[i]!.loc); break; }
        i++;
        ctx.diags.notice('not-supported', 'track_group on addresses is not supported yet by keepalived-ts; ignored', ws[i - 1]!.loc, { keyword: 'track_group' });
        break;
      default: unknown(w, ws[i]!.loc);
    }
  }
  if (vip.peer && vip.brd) {
    ctx.diags.error('conflict', 'cannot specify broadcast and peer addresses - ignoring broadcast address', n.loc);
    delete vip.brd;
  }
  if (ip.family === 6 && vip.label) {
    ctx.diags.error('invalid-value', `cannot specify label for IPv6 addresses (${ip.address}) - ignoring label`, n.loc);
    delete vip.label;
  }
  return vip;
}

const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'multicast', 'throw', 'unreachable', 'prohibit', 'blackhole', 'nat']);
const ROUTE_VALUE_OPTS = new Set(['src', 'via', 'gw', 'or', 'dev', 'oif', 'table', 'metric', 'priority', 'preference', 'scope',
  'proto', 'protocol', 'tos', 'dsfield', 'realm', 'realms', 'mtu', 'advmss', 'rtt', 'rttvar', 'reordering', 'window',
  'cwnd', 'ssthresh', 'initcwnd', 'initrwnd', 'features', 'quickack', 'congctl', 'rto_min', 'pref', 'hoplimit',
  'fastopen_no_cookie', 'encap', 'expires', 'ttl-propagate', 'from', 'as']);
const ROUTE_FLAG_OPTS = new Set(['onlink', 'no_track', 'pervasive', 'lock', 'inet', 'inet6']);

/** ip-route line (vrrp_iproute.c alloc_route): typed fields for what the engine uses, every word kept. */
export function parseRouteLine(ctx: Ctx, n: ConfigNode, onDev: (dev: string, loc: ConfigNode['loc']) => void): VirtualRoute | undefined {
  const ws = lineWords(n);
  let i = 0;
  let type: string | undefined;
  let to: string | undefined, family: Family | undefined;
  let hasOif = false;
  const r: Partial<VirtualRoute> = { noTrack: false, words: ws.map((w) => w.text), loc: n.loc };
  if (ROUTE_TYPES.has(ws[0]!.text)) { type = ws[0]!.text; i = 1; }
  for (; i < ws.length; i++) {
    const w = ws[i]!.text;
    if (ROUTE_FLAG_OPTS.has(w)) { if (w === 'no_track') r.noTrack = true; continue; }
    if (w === 'nexthop') {
      // nexthop [via IP] [dev IF] [weight N] [onlink] … repeated
      for (i++; i < ws.length; i++) {
        const o = ws[i]!.text;
        if (o === 'nexthop' || o === 'onlink') continue;
        const v = ws[i + 1];
        if (!v || !['via', 'dev', 'weight', 'realms', 'encap'].includes(o)) {
          ctx.diags.error('invalid-value', `route has trailing nonsense after nexthops - ${o}`, ws[i]!.loc);
          break;
        }
        i++;
        if (o === 'via') { const ip = parseCidr(v.text, false); if (!ip) ctx.diags.error('invalid-address', `invalid nexthop address ${v.text}`, v.loc); else family ??= ip.family; }
        else if (o === 'dev') { hasOif = true; onDev(v.text, v.loc); }
        else if (o === 'weight' && (!/^\d+$/.test(v.text) || Number(v.text) < 1 || Number(v.text) > 256)) ctx.diags.error('invalid-value', `invalid weight ${v.text} specified for route`, v.loc);
      }
      break;
    }
    if (ROUTE_VALUE_OPTS.has(w)) {
      const v = ws[i + 1];
      if (!v) { ctx.diags.error('missing-parameter', `route option '${w}' needs a value`, ws[i]!.loc, { keyword: w }); break; }
      i++;
      if (w === 'src' || w === 'via' || w === 'gw' || w === 'or' || w === 'from') {
        if (w === 'gw') ctx.diags.error('deprecated', '"gw" for routes is deprecated. Please use "via"', ws[i - 1]!.loc, { keyword: w, suggestion: "replace 'gw' with 'via'" });
        if (w === 'or') ctx.diags.error('deprecated', '"or" for routes is deprecated. Please use "nexthop"', ws[i - 1]!.loc, { keyword: w, suggestion: 'write: nexthop via IP1 nexthop via IP2' });
        const ip = parseCidr(v.text, w === 'from');
        if (!ip) { ctx.diags.error('invalid-address', `invalid route ${w} address ${v.text}`, v.loc); continue; }
        if (family && ip.family !== family) ctx.diags.error('family-mismatch', 'cannot mix IPv4 and IPv6 addresses for route', v.loc);
        if (w === 'src') r.src = ip.address; else if (w === 'via' || w === 'gw') r.via = ip.address;
        family ??= ip.family;
      } else if (w === 'dev' || w === 'oif') { r.dev = v.text; hasOif = true; onDev(v.text, v.loc); }
      else if (w === 'table') r.table = v.text;
      else if (w === 'metric' || w === 'priority' || w === 'preference') {
        if (/^\d+$/.test(v.text)) r.metric = Number(v.text); else ctx.diags.error('invalid-number', `route ${w}: '${v.text}' is not a number`, v.loc);
      } else if (w === 'scope') {
        if (!/^\d+$/.test(v.text) && !(v.text in SCOPES)) ctx.diags.error('invalid-value', `scope ${v.text} not found or invalid for route`, v.loc);
        r.scope = v.text;
      }
      continue;
    }
    if (w === 'to') continue;
    if (to === undefined) {
      if (w === 'default') { to = 'default'; continue; }
      const ip = parseCidr(w, true);
      if (!ip) { ctx.diags.error('invalid-address', `invalid route destination '${w}'`, ws[i]!.loc, { suggestion: 'expected [TYPE] [to] PREFIX|default [via IP] [dev IF] [src IP] [table T] [metric N] …' }); return undefined; }
      to = ip.prefix === undefined ? ip.address : `${ip.address}/${ip.prefix}`;
      if (family && ip.family !== family) ctx.diags.error('family-mismatch', 'cannot mix IPv4 and IPv6 addresses for route', ws[i]!.loc);
      family = ip.family;
      continue;
    }
    ctx.diags.error('invalid-value', `route has trailing nonsense - ${w}`, ws[i]!.loc, { keyword: w });
    break;
  }
  if (to === undefined) { ctx.diags.error('missing-parameter', 'route must have a destination', n.loc); return undefined; }
  if (!r.noTrack && !hasOif) {
    ctx.diags.error('route-not-tracked', `Warning - cannot track route ${to} with no interface specified, not tracking`, n.loc, { suggestion: "add 'dev IF', or 'no_track' if the route should not be tracked" });
    r.noTrack = true;
  }
  return { ...r, type, to, family: family ?? 4 } as VirtualRoute;
}

/** ip-rule line (vrrp_iprule.c alloc_rule). A rule without preference gets one with an error, as in keepalived. */
export function parseRuleLine(ctx: Ctx, n: ConfigNode, onDev: (dev: string, loc: ConfigNode['loc']) => void = () => {}): VirtualRule {
  const ws = lineWords(n);
  const r: VirtualRule = { noTrack: false, words: ws.map((w) => w.text), loc: n.loc };
  const valued = new Set(['from', 'to', 'table', 'lookup', 'priority', 'preference', 'pref', 'fwmark', 'iif', 'oif',
    'tos', 'dsfield', 'realms', 'goto', 'suppress_prefixlength', 'suppress_ifgroup', 'uidrange', 'ipproto', 'sport',
    'dport', 'protocol', 'action', 'tunnel-id', 'track_group']);
  let family: Family | undefined;
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i]!.text;
    if (w === 'no_track') { r.noTrack = true; continue; }
    if (['not', 'blackhole', 'prohibit', 'unreachable', 'nop', 'l3mdev', 'inet', 'inet6'].includes(w)) continue;
    if (!valued.has(w)) { ctx.diags.error('unknown-keyword', `unknown rule option ${w}`, ws[i]!.loc, { keyword: w }); continue; }
    const v = ws[i + 1];
    if (!v) { ctx.diags.error('missing-parameter', `rule option '${w}' needs a value`, ws[i]!.loc, { keyword: w }); break; }
    i++;
    if (w === 'from' || w === 'to') {
      if (v.text === 'all') { if (w === 'from') r.from = 'all'; else r.to = 'all'; continue; }
      const ip = parseCidr(v.text, true);
      if (!ip) { ctx.diags.error('invalid-address', `invalid rule ${w} address ${v.text}`, v.loc); continue; }
      if (family && family !== ip.family) ctx.diags.error('family-mismatch', 'rule specification has mixed IPv4 and IPv6', v.loc);
      family = ip.family;
      const txt = ip.prefix === undefined ? ip.address : `${ip.address}/${ip.prefix}`;
      if (w === 'from') r.from = txt; else r.to = txt;
    } else if (w === 'table' || w === 'lookup') {
      if (v.text === '0') ctx.diags.error('invalid-value', 'table 0 is not valid', v.loc);
      r.table = v.text;
    } else if (w === 'priority' || w === 'preference' || w === 'pref') {
      if (/^\d+$/.test(v.text)) r.priority = Number(v.text); else ctx.diags.error('invalid-number', `invalid rule preference ${v.text} specified`, v.loc);
    } else if (w === 'iif' || w === 'oif') onDev(v.text, v.loc);
  }
  if (r.priority === undefined)
    ctx.diags.error('rule-no-preference', 'rule has no preference specified - keepalived picks one (16384 downwards). This is probably not what you want.', n.loc, { suggestion: 'add: preference N' });
  return r;
}

/** `unicast_peer { IP [min_ttl N] [max_ttl N] }` line. */
export function parsePeerLine(ctx: Ctx, n: ConfigNode, instance: string): UnicastPeer | undefined {
  const ip = parseCidr(n.keyword, false);
  if (!ip) {
    ctx.diags.error('invalid-address', `(${instance}) malformed unicast peer address '${n.keyword}'`, n.loc, { keyword: n.keyword });
    return undefined;
  }
  const p: UnicastPeer = { address: ip.address, family: ip.family, loc: n.loc };
  for (let i = 0; i < n.args.length; i++) {
    const w = n.args[i]!.text;
    if (w !== 'min_ttl' && w !== 'max_ttl') { ctx.bad(n, i, 'unknown-keyword', `(${instance}) unknown unicast_peer option ${w}`, 'options: min_ttl N, max_ttl N'); continue; }
    if (!n.args[i + 1]) { ctx.bad(n, i, 'missing-parameter', `(${instance}) ${w} is missing a value`); break; }
    const v = readInt(ctx, n, i + 1, 0, 255);
    i++;
    if (v === undefined) continue;
    if (w === 'min_ttl') p.minTtl = v; else p.maxTtl = v;
  }
  if (p.minTtl !== undefined && p.maxTtl !== undefined && p.minTtl > p.maxTtl)
    ctx.diags.error('conflict', `(${instance}) min_ttl ${p.minTtl} > max_ttl ${p.maxTtl} - all packets will be discarded`, n.loc);
  return p;
}
