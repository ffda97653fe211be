// linkbeat_interfaces { IF [MII|ETHTOOL|IOCTL] … } (keepalived 2.2.7 vrrp_parser.c alloc_linkbeat_interface): the
// interfaces whose link state the VRRP process polls instead of hearing it from rtnetlink (vrrp/linkbeat.ts).
import type { ConfigNode } from '../tree.js';
import type { GlobalDefs, LinkbeatInterface } from './types.js';
import type { Ctx } from './values.js';

const TYPES = new Set(['MII', 'ETHTOOL', 'IOCTL']);

/** Adds the block's lines to `out` (a later line for an interface replaces its method, as keepalived's does). */
export function buildLinkbeatInterfaces(ctx: Ctx, node: ConfigNode, g: GlobalDefs, out: LinkbeatInterface[]): void {
  for (const l of node.block ?? []) {
    const name = l.keyword;
    // keepalived: an unknown interface is fatal for -t unless dynamic_interfaces (then it is polled once it exists);
    // the daemon logs it, drops the line and runs (diagnostics.ts refusesToRun).
    if (ctx.env.interfaces && !ctx.env.interfaces.has(name) && !g.dynamicInterfaces) {
      ctx.diags.fatal('bad-linkbeat-interface', `unknown interface ${name} specified for linkbeat interface`, l.loc, {
        keyword: name,
        suggestion: ctx.env.interfaces.size ? `existing: ${[...ctx.env.interfaces].sort().join(', ')}; or set dynamic_interfaces in global_defs` : 'or set dynamic_interfaces in global_defs',
      });
      continue;
    }
    let type: LinkbeatInterface['type'];
    const word = l.args[0]?.text;
    if (word !== undefined) {
      if (TYPES.has(word)) type = word as LinkbeatInterface['type'];
      // keepalived names the method word even when the extra one follows it; the line still counts (auto method).
      if (!type || l.args.length > 1)
        ctx.bad(l, type ? 1 : 0, 'bad-value', `extra characters ${word} in linkbeat interface`,
          `expected the interface and at most one of MII, ETHTOOL, IOCTL (upper case): ${name}${type ? ` ${type}` : ''}`);
    }
    const i = out.findIndex((x) => x.interface === name);
    const entry: LinkbeatInterface = { interface: name, ...(type ? { type } : {}), loc: l.loc };
    if (i >= 0) out[i] = entry;
    else out.push(entry);
  }
}
