// Compact, exact renderings of config trees and diagnostics for golden assertions.
import type { ConfigNode } from '../../src/config/tree.js';
import { formatDiagnostic, type Diagnostics } from '../../src/config/diagnostics.js';

/** One line per node: `LINE:COL keyword arg arg…` (quoted args in "…"), children indented by two spaces. */
export function renderTree(nodes: readonly ConfigNode[], depth = 0): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    const args = n.args.map((a) => (a.quoted ? `"${a.text}"` : a.text));
    out.push(`${'  '.repeat(depth)}${n.loc.line}:${n.loc.col} ${[n.keyword, ...args].join(' ')}${n.block ? ' {' : ''}`);
    if (n.block) out.push(...renderTree(n.block, depth + 1));
  }
  return out;
}

/**
 * The tree as plain data, positions included (the parser's nodes and args work out `loc` when asked, so they are not
 * plain objects themselves): for assertions on the whole tree.
 */
export function plainTree(nodes: readonly ConfigNode[]): ConfigNode[] {
  return nodes.map((n) => {
    const p: ConfigNode = { keyword: n.keyword, loc: n.loc, args: n.args.map((a) => ({ text: a.text, quoted: a.quoted, loc: a.loc })) };
    if (n.block) p.block = plainTree(n.block);
    if (n.blockLoc) p.blockLoc = n.blockLoc;
    if (n.rawArgs !== undefined) p.rawArgs = n.rawArgs;
    return p;
  });
}

/** Keywords and args only (no positions), blocks as nested `{ … }`, for expansion tests. */
export function renderWords(nodes: readonly ConfigNode[]): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    const words = [n.keyword, ...n.args.map((a) => a.text)].join(' ');
    out.push(n.block ? `${words} { ${renderWords(n.block).join('; ')} }` : words);
  }
  return out;
}

export function renderDiags(d: Diagnostics): string[] {
  return d.list.map(formatDiagnostic);
}
