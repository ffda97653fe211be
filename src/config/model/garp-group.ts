// garp_group { garp_interval S; gna_interval S; interface IF; interfaces { IF … } } (keepalived 2.2.7
// vrrp_parser.c garp_group_*_handler): the interfaces named share one GARP/NA pacing with the group's intervals.
import type { ConfigNode } from '../tree.js';
import type { GarpGroup, GlobalDefs } from './types.js';
import type { Ctx } from './values.js';
import { unknownKeyword } from './keywords.js';

/** Seconds as keepalived's read_decimal_unsigned_strvec reads them (6 decimals, 0..INT_MAX µs). */
function interval(ctx: Ctx, n: ConfigNode): number | undefined {
  if (!ctx.need(n, 1, 'SECONDS')) return undefined;
  const t = n.args[0]!.text;
  if (t.startsWith('-')) {
    ctx.bad(n, 0, 'out-of-range', `garp_group ${n.keyword} '${t}' invalid: negative`, 'expected seconds, e.g. 0.01');
    return undefined;
  }
  const m = /^\+?(\d*)(?:\.(\d*))?$/.exec(t);
  if (!m || (m[1] === '' && !m[2])) {
    // keepalived reports the word and still takes it, as 0.
    ctx.bad(n, 0, 'invalid-number', `'${n.keyword}': '${t}' is not a number`, 'expected seconds, e.g. 0.01');
    return 0;
  }
  const us = Number(m[1] || '0') * 1_000_000 + Number(((m[2] ?? '') + '000000').slice(0, 6));
  if (us > 2147483647) {
    ctx.bad(n, 0, 'out-of-range', `garp_group ${n.keyword} '${t}' invalid: outside [0, 2147.483647] seconds`);
    return undefined;
  }
  // More than 6 decimals: an error keepalived reports, keeping the value cut to µs.
  if ((m[2] ?? '').length > 6) ctx.bad(n, 0, 'invalid-number', `'${n.keyword}': number '${t}' has too many decimal places`, 'at most 6 (µs)');
  return us / 1000;
}

/**
 * One garp_group block. `assigned` holds the interfaces earlier groups took (an interface belongs to one group;
 * a later claim is an error and ignored). A group without an interval is an error and dropped (undefined).
 */
export function buildGarpGroup(ctx: Ctx, node: ConfigNode, g: GlobalDefs, assigned: Set<string>): GarpGroup | undefined {
  const grp: GarpGroup = { interfaces: [], loc: node.loc };
  const claim = (name: string, at: ConfigNode, fromBlock: boolean): void => {
    if (ctx.env.interfaces && !ctx.env.interfaces.has(name)) {
      // `interface` creates a dynamic interface; the `interfaces` block only logs it then.
      if (g.dynamicInterfaces) {
        if (fromBlock) ctx.diags.notice('bad-interface', `interface ${name} specified for garp_group doesn't exist`, at.loc, { keyword: name });
      } else {
        ctx.diags.error('bad-interface', `WARNING - interface ${name} specified for garp_group doesn't exist`, at.loc, { keyword: name });
        return;
      }
    }
    if (assigned.has(name)) {
      ctx.diags.error('duplicate', `garp_group already specified for ${name} - ignoring`, at.loc, { keyword: name, suggestion: 'an interface belongs to one garp_group' });
      return;
    }
    assigned.add(name);
    grp.interfaces.push(name);
  };
  for (const n of node.block ?? []) {
    switch (n.keyword) {
      case 'garp_interval': { const v = interval(ctx, n); if (v !== undefined) grp.garpIntervalMs = v; break; }
      case 'gna_interval': { const v = interval(ctx, n); if (v !== undefined) grp.gnaIntervalMs = v; break; }
      case 'interface': if (ctx.need(n, 1, 'INTERFACE')) claim(n.args[0]!.text, n, false); break;
      case 'interfaces': {
        const words: Array<[string, ConfigNode]> = [];
        for (const c of n.block ?? []) { words.push([c.keyword, c]); for (const a of c.args) words.push([a.text, c]); }
        if (!words.length) { ctx.diags.error('empty-block', 'Warning - empty garp_group interfaces block', n.loc, { keyword: n.keyword }); break; }
        for (const [w, at] of words) claim(w, at, true);
        break;
      }
      default: unknownKeyword(ctx, n, 'garp_group');
    }
  }
  if (grp.garpIntervalMs === undefined && grp.gnaIntervalMs === undefined) {
    ctx.diags.error('no-delay', 'garp group does not have any delay set - removing', node.loc, { keyword: 'garp_group', suggestion: 'add garp_interval and/or gna_interval' });
    for (const i of grp.interfaces) assigned.delete(i);
    return undefined;
  }
  return grp;
}
