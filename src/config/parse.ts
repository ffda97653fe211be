// Reads keepalived.conf into the generic tree (tree.ts): preprocessor → words per logical line (moo) → brace
// checker (reports and repairs structure errors) → nearley grammar (block structure, exactly one parse).
import nearley from 'nearley';
import { Diagnostics } from './diagnostics.js';
import type { ConfigNode, Loc } from './tree.js';
import { Preprocessor, type LogicalLine, type PreprocessOptions } from './preprocess.js';
import { wordLexer, leadingBlanks } from './line-lexer.js';
import { StatementLexer, type StatementKind } from './line-lexer.js';
import grammar, { type RawStatement, type StatementList } from './grammar.generated.js';

export interface ParseOptions extends PreprocessOptions {
  /** keepalived -i: the id `@ID` lines are compared with (default: short host name). */
  configId?: string;
  /** Passed through for the model (keepalived --all); the reader itself reads every line either way. */
  allConfig?: boolean;
}

export interface ParseResult {
  nodes: ConfigNode[];
  diags: Diagnostics;
  /** Every file read, root first. */
  files: string[];
}

/** Keywords keepalived installs with install_keyword_quoted(): their value is re-tokenised shell-style. */
export const SCRIPT_KEYWORDS: ReadonlySet<string> = new Set([
  'notify', 'notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'notify_deleted',
  'notify_master_rx_lower_pri', 'script', 'misc_path', 'quorum_up', 'quorum_down', 'startup_script',
  'shutdown_script', 'notify_fifo_script', 'vrrp_notify_fifo_script', 'lvs_notify_fifo_script', 'notify_up',
  'notify_down',
]);

interface Statement {
  kind: 'line' | 'open' | 'close';
  line: LogicalLine;
  /** Built node for a `line` (without block yet). */
  node?: ConfigNode;
}

const locOf = (l: LogicalLine, offset = 0): Loc => ({ file: l.text.file, line: l.text.line, col: l.text.colAt(offset) });

/** Splits one logical line into keyword and args; null when nothing is left (e.g. a lone unmatched quote). */
function lineToNode(l: LogicalLine, diags: Diagnostics): ConfigNode | null {
  const t = l.text;
  wordLexer.reset(t.s);
  let node: ConfigNode | null = null;
  let keywordEnd = 0;
  let tok: moo.Token | undefined;
  while ((tok = wordLexer.next())) {
    const type = tok.type;
    if (type === 'ws') continue;
    const lead = leadingBlanks(tok.text);
    const offset = tok.offset + lead;
    if (type === 'unmatched') {
      // keepalived -t reports it for every keyword (script keywords too, verified with 2.2.7).
      diags.error('unmatched-quote', `unmatched quote: no closing '"' on this line - the rest of the line is ignored`, locOf(l, offset));
      break;
    }
    const quoted = type === 'qstring';
    const text = quoted ? tok.text.slice(lead + 1, -1) : lead ? tok.text.slice(lead) : tok.text;
    if (!node) {
      node = { keyword: text, loc: locOf(l, offset), args: [] };
      keywordEnd = tok.offset + tok.text.length;
    } else node.args.push({ text, quoted, loc: locOf(l, offset) });
  }
  if (node && SCRIPT_KEYWORDS.has(node.keyword)) {
    let a = keywordEnd;
    while (a < t.s.length && /[ \t\f\v\r\n]/.test(t.s[a]!)) a++;
    node.rawArgs = t.s.slice(a);
  }
  return node;
}

const MAX_BLOCK_DEPTH = 256;

const describe = (n: ConfigNode): string => [n.keyword, ...n.args.map((a) => (a.quoted ? `"${a.text}"` : a.text))].join(' ');
const fmtLoc = (l: Loc): string => `${l.file}:${l.line}:${l.col}`;

/**
 * Reports brace errors as keepalived does (but saying where) and returns a stream in which every `{` follows a
 * keyword line and every block is closed, so the grammar has exactly one parse.
 */
function checkBraces(lines: readonly LogicalLine[], diags: Diagnostics): Statement[] {
  const out: Statement[] = [];
  const stack: { phantom: boolean; head?: Statement; open: LogicalLine }[] = [];
  let last: LogicalLine | undefined;
  let tooDeepReported = false;
  for (const l of lines) {
    last = l;
    if (l.kind === 'words') {
      const node = lineToNode(l, diags);
      if (node) out.push({ kind: 'line', line: l, node });
    } else if (l.kind === 'open') {
      const prev = out[out.length - 1];
      const depth = stack.length;
      if (depth >= MAX_BLOCK_DEPTH) {
        // Real configurations nest 4 deep; this bound keeps the tree builder's recursion safe.
        if (!tooDeepReported) diags.error('too-deep', `blocks nested more than ${MAX_BLOCK_DEPTH} deep - deeper '{' are ignored`, locOf(l));
        tooDeepReported = true;
        stack.push({ phantom: true, open: l });
      } else if (prev && prev.kind === 'line') {
        stack.push({ phantom: false, head: prev, open: l });
        out.push({ kind: 'open', line: l });
      } else {
        diags.error('unexpected-brace', `'{' with no keyword before it - ignoring it; what it encloses is read as part of the enclosing block`, locOf(l));
        stack.push({ phantom: true, open: l });
      }
    } else {
      const top = stack.pop();
      if (!top) diags.error('extra-brace', `Extra '}' found: no block is open here`, locOf(l));
      else if (!top.phantom) out.push({ kind: 'close', line: l });
    }
  }
  for (let i = stack.length - 1; i >= 0; i--) {
    const b = stack[i]!;
    if (b.phantom) continue;
    const at = locOf(b.open);
    const head = b.head!.node!;
    const endAt = last ? ` (configuration ends at ${last.text.file}:${last.text.line})` : '';
    diags.error('missing-brace', `missing '}': the block of '${describe(head)}' opened at ${fmtLoc(at)} is never closed${endAt}`, at, { keyword: head.keyword });
    out.push({ kind: 'close', line: b.open });
  }
  return out;
}

function toNodes(list: StatementList, stmts: readonly Statement[]): ConfigNode[] {
  const rev: RawStatement[] = [];
  for (let p = list; p; p = p.prev) rev.push(p.last);
  const nodes: ConfigNode[] = [];
  for (let i = rev.length - 1; i >= 0; i--) {
    const r = rev[i]!;
    if (r.head.type === 'leaf') {
      // head, '{', plain lines…, '}'
      const node = stmts[r.head.index]!.node!;
      const block: ConfigNode[] = [];
      for (let k = r.head.index + 2; k < r.head.index + r.head.count - 1; k++) block.push(stmts[k]!.node!);
      node.block = block;
      node.blockLoc = locOf(stmts[r.head.index + 1]!.line);
      nodes.push(node);
      continue;
    }
    if (!r.open) {
      for (let k = 0; k < r.head.count; k++) nodes.push(stmts[r.head.index + k]!.node!);
      continue;
    }
    const node = stmts[r.head.index]!.node!;
    node.block = toNodes(r.body ?? null, stmts);
    node.blockLoc = locOf(stmts[r.open.index]!.line);
    nodes.push(node);
  }
  return nodes;
}

const compiled = nearley.Grammar.fromCompiled(grammar);

/**
 * Runs the grammar over stmts[from, to) and returns its statements. Exactly one parse is required.
 * Callers feed one top-level statement at a time: nearley keeps a table column per token, and a short table keeps
 * a 78,000-line config well inside the speed budget (the brace checker already knows where top-level ends).
 */
function parseRange(stmts: readonly Statement[], kinds: readonly StatementKind[], from: number, to: number, diags: Diagnostics): ConfigNode[] | null {
  // keepHistory: without it nearley `delete`s each finished column from its table array, which turns the array
  // into a slow dictionary; the table only lives for one top-level statement, so keeping it costs nothing.
  const parser = new nearley.Parser(compiled, { lexer: new StatementLexer(kinds, from, to), keepHistory: true } as nearley.ParserOptions);
  try {
    parser.feed('');
  } catch (e) {
    diags.fatal('internal-error', `internal parser error: ${(e as Error).message.split('\n')[0]}`);
    return null;
  }
  if (parser.results.length !== 1) {
    diags.fatal('internal-error', `internal parser error: ${parser.results.length} parses instead of exactly one`);
    return null;
  }
  return toNodes(parser.results[0] as StatementList, stmts);
}

/** Builds the tree from preprocessed logical lines. */
export function parseLogicalLines(lines: readonly LogicalLine[], diags: Diagnostics): ConfigNode[] {
  const stmts = checkBraces(lines, diags);
  const kinds = stmts.map((s) => s.kind);
  const nodes: ConfigNode[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < stmts.length; i++) {
    const k = stmts[i]!.kind;
    if (k === 'open') depth++;
    else if (k === 'close') depth--;
    // A top-level statement ends after a depth-0 line not followed by '{', or after the '}' back to depth 0.
    if (depth === 0 && (k === 'close' || stmts[i + 1]?.kind !== 'open')) {
      const part = parseRange(stmts, kinds, start, i + 1, diags);
      if (!part) return nodes;
      for (const n of part) nodes.push(n);
      start = i + 1;
    }
  }
  return nodes;
}

export function parseConfigFile(path: string, opts: ParseOptions = {}): ParseResult {
  const diags = new Diagnostics();
  const pre = new Preprocessor(diags, opts).runFile(path);
  const nodes = parseLogicalLines(pre.lines, diags);
  return { nodes, diags, files: pre.files };
}

export function parseConfigText(text: string, file: string, opts: ParseOptions = {}): ParseResult {
  const diags = new Diagnostics();
  const pre = new Preprocessor(diags, opts).runText(text, file);
  const nodes = parseLogicalLines(pre.lines, diags);
  return { nodes, diags, files: pre.files };
}
