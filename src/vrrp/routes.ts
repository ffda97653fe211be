// virtual_routes (ip-route syntax in keepalived.conf) → rtnetlink route specs. Pure: interface indexes and
// table names are resolved through the functions passed in.
import type { VirtualRoute, VirtualRule } from '../config/model/index.js';
import { type RuleSpec, ROUTE_TYPES, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_NOWHERE, RT_SCOPE_SITE, RT_SCOPE_UNIVERSE, type RouteSpec, type RouteType } from '../net/rtnetlink-codec.js';
import { KtError } from '../util/errors.js';
import { AddressError, parseCidr, type Family } from '../net/address.js';

const SCOPES: Record<string, number> = {
  global: RT_SCOPE_UNIVERSE, universe: RT_SCOPE_UNIVERSE, site: RT_SCOPE_SITE, link: RT_SCOPE_LINK, host: RT_SCOPE_HOST,
  nowhere: RT_SCOPE_NOWHERE,
};
const TABLES: Record<string, number> = { default: 253, main: 254, local: 255 };

/** `/etc/iproute2/rt_tables` style text → name → id. */
export function parseRtTables(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const t = line.replace(/#.*/, '').trim().split(/\s+/);
    if (t.length >= 2 && /^\d+$/.test(t[0]!)) m.set(t[1]!, Number(t[0]));
  }
  return m;
}

export function routeSpec(
  r: VirtualRoute,
  ifindexOf: (dev: string) => number | undefined,
  tables: ReadonlyMap<string, number> = new Map(),
): RouteSpec {
  const family = r.family;
  const spec: RouteSpec = { family };
  if (r.to !== 'default') {
    const [addr, len] = r.to.split('/');
    spec.dst = addr;
    spec.dstLen = len === undefined ? (family === 4 ? 32 : 128) : Number(len);
  }
  if (r.via) spec.gateway = r.via;
  if (r.src) spec.prefsrc = r.src;
  if (r.dev) {
    const idx = ifindexOf(r.dev);
    if (!idx) throw new KtError('KT_VRRP_BAD_ROUTE', `no interface ${r.dev}`);
    spec.oif = idx;
  }
  if (r.metric !== undefined) spec.metric = r.metric;
  if (r.table !== undefined) {
    const t = /^\d+$/.test(r.table) ? Number(r.table) : TABLES[r.table] ?? tables.get(r.table);
    if (t === undefined) throw new KtError('KT_VRRP_BAD_ROUTE', `unknown routing table '${r.table}'`);
    spec.table = t;
  }
  if (r.scope !== undefined) {
    const sc = /^\d+$/.test(r.scope) ? Number(r.scope) : SCOPES[r.scope];
    if (sc === undefined) throw new KtError('KT_VRRP_BAD_ROUTE', `unknown scope '${r.scope}'`);
    spec.scope = sc;
  }
  // Unlike `ip route add PREFIX dev IF` (scope link), keepalived leaves an unset scope at universe: the
  // differential test against keepalived 2.2.7 (test/netns/vrrp-routes.test.ts) pins this.
  if (r.type) {
    if (!(r.type in ROUTE_TYPES)) throw new KtError('KT_VRRP_BAD_ROUTE', `unsupported route type '${r.type}'`);
    spec.type = r.type as RouteType;
  }
  return spec;
}

/** Text for logs: `10.1.0.0/16 via 10.99.0.1 dev eth0 table 100`. */
export function describeRoute(r: VirtualRoute): string {
  return r.words.join(' ');
}

/** A virtual or static rule as its config line: its identity across reloads. */
export function describeRule(r: VirtualRule): string {
  return r.words.join(' ');
}

/** `ADDR[/LEN]` → address and prefix length (the full length when none is written). Throws AddressError. */
const prefix = (text: string, family: Family): [string, number] => {
  const c = parseCidr(text);
  if (!c) throw new AddressError(text, family);
  return [c.address, c.prefix ?? (family === 4 ? 32 : 128)];
};

/** virtual_rules (ip-rule syntax) → rtnetlink rule specs: from/to prefixes, table, preference, fwmark, iif/oif. */
export function ruleSpec(r: VirtualRule, tables: ReadonlyMap<string, number> = new Map()): RuleSpec {
  const w = r.words;
  const arg = (...names: string[]) => {
    const i = w.findIndex((x) => names.includes(x));
    return i >= 0 ? w[i + 1] : undefined;
  };
  const addrText = r.from ?? r.to;
  const family: Family = addrText?.includes(':') ? 6 : 4;
  const tableText = r.table ?? arg('table', 'lookup');
  if (tableText === undefined) throw new KtError('KT_VRRP_BAD_ROUTE', 'a virtual rule needs a table');
  const table = /^\d+$/.test(tableText) ? Number(tableText) : TABLES[tableText] ?? tables.get(tableText);
  if (table === undefined) throw new KtError('KT_VRRP_BAD_ROUTE', `unknown routing table '${tableText}'`);
  const spec: RuleSpec = { family, table };
  if (r.from && r.from !== 'all') [spec.from, spec.fromLen] = prefix(r.from, family);
  if (r.to && r.to !== 'all') [spec.to, spec.toLen] = prefix(r.to, family);
  if (r.priority !== undefined) spec.priority = r.priority;
  const mark = arg('fwmark');
  if (mark !== undefined) {
    const [m, mask] = mark.split('/');
    spec.fwmark = Number(m);
    if (mask !== undefined) spec.fwmask = Number(mask);
  }
  const iif = arg('iif', 'dev');
  if (iif) spec.iif = iif;
  const oif = arg('oif');
  if (oif) spec.oif = oif;
  return spec;
}
