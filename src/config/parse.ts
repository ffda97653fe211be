// Reads keepalived.conf into the generic tree (tree.ts): preprocessor → words per logical line (moo) → brace
// checker (reports and repairs structure errors) → nearley grammar (block structure, exactly one parse).
import { createRequire } from 'node:module';
import type nearleyModule from 'nearley';
import { Diagnostics } from './diagnostics.js';
import type { Arg, ConfigNode, Loc } from './tree.js';
import type { PosText } from './postext.js';
import { Preprocessor, type LogicalLine, type PreprocessOptions, type PreprocessResult } from './preprocess.js';
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
  /** A runaway expansion stopped reading: nothing read counts (nodes is empty; discard what went to a sink). */
  truncated?: boolean;
}

/** Keywords keepalived installs with install_keyword_quoted(): their value is re-tokenised shell-style. */
export const SCRIPT_KEYWORDS: ReadonlySet<string> = new Set([
  'notify', 'notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'notify_deleted',
  'notify_master_rx_lower_pri', 'script', 'misc_path', 'quorum_up', 'quorum_down', 'startup_script',
  'shutdown_script', 'notify_fifo_script', 'vrrp_notify_fifo_script', 'lvs_notify_fifo_script', 'notify_up',
  'notify_down',
]);

/**
 * What a statement of the checked stream carries (its kind is in a parallel array): the built node of a `line`
 * (without block yet), where an `open` brace stood (the node's blockLoc), null for a `close`.
 */
type Statement = ConfigNode | Loc | null;

const locOf = (l: LogicalLine, offset = 0): Loc => ({ file: l.text.file, line: l.text.line, col: l.text.colAt(offset) });

/**
 * An argument of the tree. Its position is worked out when asked (a diagnostic, or a position the model keeps),
 * not made for every word: most words of a large configuration are never asked where they stood, and a Loc per
 * word was a sixth of the tree's allocation. `loc` is a fresh plain object each time, as before.
 */
class TreeArg implements Arg {
  constructor(readonly text: string, readonly quoted: boolean, private readonly at: PosText, private readonly offset: number) {}
  get loc(): Loc {
    return { file: this.at.file, line: this.at.line, col: this.at.colAt(this.offset) };
  }
}

/** A node of the tree, its keyword's position worked out when asked (see TreeArg). */
class TreeNode implements ConfigNode {
  declare block?: ConfigNode[];
  declare blockLoc?: Loc;
  declare rawArgs?: string;
  constructor(readonly keyword: string, readonly args: Arg[], private readonly at: PosText, private readonly offset: number) {}
  get loc(): Loc {
    return { file: this.at.file, line: this.at.line, col: this.at.colAt(this.offset) };
  }
}

/** What the word lexer makes of one line's text (offsets into the text): the same for every line of that text. */
export interface LineWords {
  texts: string[];
  offsets: number[];
  quoted: boolean[];
  /** Offset of an unmatched `"` (the rest of the line is ignored), or -1. */
  unmatchedAt: number;
  /** Offset just after the first word's token (where rawArgs starts looking). */
  keywordEnd: number;
}

/** Blanks that separate words (keepalived's isspace(); moo's `ws`). */
const isWordBlank = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

/**
 * The words of a line without a `"`: what moo's `word` and `ws` rules make of it (the same texts and offsets; a
 * unit test compares the two), without a token object, a regex match and four property lookups per word. Most
 * lines of a configuration have no quote; the line lexer is then this scan, and moo lexes the others.
 */
function splitPlainWords(s: string): LineWords {
  const n = s.length;
  let k = 0;
  for (let i = 0; i < n;) {
    while (i < n && isWordBlank(s.charCodeAt(i))) i++;
    if (i === n) break;
    k++;
    while (i < n && !isWordBlank(s.charCodeAt(i))) i++;
  }
  // Exact-size arrays (see lexWordsMoo); no quoted words: one shared array of falses per word count.
  const texts = new Array<string>(k);
  const offsets = new Array<number>(k);
  for (let i = 0, j = 0; j < k; j++) {
    while (isWordBlank(s.charCodeAt(i))) i++;
    const a = i;
    while (i < n && !isWordBlank(s.charCodeAt(i))) i++;
    texts[j] = a === 0 && i === n ? s : s.slice(a, i);
    offsets[j] = a;
  }
  return { texts, offsets, quoted: notQuoted(k), unmatchedAt: -1, keywordEnd: k ? offsets[0]! + texts[0]!.length : 0 };
}

const NOT_QUOTED: boolean[][] = [];
/** `quoted` of a line of k plain words (read only, shared). */
function notQuoted(k: number): boolean[] {
  return NOT_QUOTED[k] ??= new Array<boolean>(k).fill(false);
}

/** The words of one line text: moo's word lexer, or the plain scan when the text has no quote. */
export function lexWords(s: string): LineWords {
  if (s.indexOf('"') < 0) return splitPlainWords(s);
  return lexWordsMoo(s);
}

/** moo's reading of a line (any line; lexWords takes it for lines with a quote). */
export function lexWordsMoo(s: string): LineWords {
  const w: LineWords = { texts: [], offsets: [], quoted: [], unmatchedAt: -1, keywordEnd: 0 };
  wordLexer.reset(s);
  let tok: moo.Token | undefined;
  while ((tok = wordLexer.next())) {
    const type = tok.type;
    if (type === 'ws') continue;
    const lead = leadingBlanks(tok.text);
    const offset = tok.offset + lead;
    if (type === 'unmatched') {
      w.unmatchedAt = offset;
      break;
    }
    const quoted = type === 'qstring';
    if (!w.texts.length) w.keywordEnd = tok.offset + tok.text.length;
    w.texts.push(quoted ? tok.text.slice(lead + 1, -1) : lead ? tok.text.slice(lead) : tok.text);
    w.offsets.push(offset);
    w.quoted.push(quoted);
  }
  // Exact-size copies: a pushed-to array keeps room for 17 elements, and this one lives as long as the cache.
  w.texts = w.texts.slice();
  w.offsets = w.offsets.slice();
  w.quoted = w.quoted.slice();
  return w;
}

/**
 * Bound on remembered line texts. A big configuration repeats most of its lines (`weight 1`, `TCP_CHECK {`,
 * `connect_timeout 3`): moo lexes each distinct text once; the cache only stops growing past the bound.
 */
const MAX_LEXED_LINES = 1 << 16;

/** Splits one logical line into keyword and args; null when nothing is left (e.g. a lone unmatched quote). */
function lineToNode(l: LogicalLine, diags: Diagnostics, lexed: Map<string, LineWords | null>): ConfigNode | null {
  const t = l.text;
  let w = lexed.get(t.s);
  if (!w) {
    // Kept from the second time a text is seen: the words of a line that never repeats (a real_server's
    // address) would only be live data for the garbage collector to copy, twice.
    const seen = w === null;
    w = lexWords(t.s);
    if (lexed.size < MAX_LEXED_LINES) lexed.set(t.s, seen ? w : null);
  }
  let node: ConfigNode | null = null;
  const n = w.texts.length;
  if (n) {
    // Sized up front: the tree lives until the model is built, and arrays grown by push() keep spare room (most
    // of the tree's memory, and so of the garbage collector's copying, on a 100,000-line config).
    const args: Arg[] = n > 1 ? new Array<Arg>(n - 1) : [];
    for (let i = 1; i < n; i++) args[i - 1] = new TreeArg(w.texts[i]!, w.quoted[i]!, t, w.offsets[i]!);
    node = new TreeNode(w.texts[0]!, args, t, w.offsets[0]!);
  }
  // keepalived -t reports it for every keyword (script keywords too, verified with 2.2.7).
  if (w.unmatchedAt >= 0) diags.error('unmatched-quote', `unmatched quote: no closing '"' on this line - the rest of the line is ignored`, locOf(l, w.unmatchedAt));
  if (node && SCRIPT_KEYWORDS.has(node.keyword)) {
    let a = w.keywordEnd;
    while (a < t.s.length && /[ \t\f\v\r\n]/.test(t.s[a]!)) a++;
    node.rawArgs = t.s.slice(a);
  }
  return node;
}

const MAX_BLOCK_DEPTH = 256;
/** Bound on remembered statement shapes (a configuration of all-different blocks just parses each one). */
const MAX_SHAPES = 4096;

const describe = (n: ConfigNode): string => [n.keyword, ...n.args.map((a) => (a.quoted ? `"${a.text}"` : a.text))].join(' ');
const fmtLoc = (l: Loc): string => `${l.file}:${l.line}:${l.col}`;

/**
 * Logical lines in, tree out, one top-level statement at a time. It reports brace errors as keepalived does (but
 * saying where) and repairs the stream so that every `{` follows a keyword line and every block is closed, so the
 * grammar has exactly one parse; each completed top-level statement goes through the grammar at once (or takes the
 * grammar's parse of an earlier statement of the same shape).
 * Streaming matters for speed: the preprocessor hands lines over as it makes them, so lines and statements die
 * young instead of all surviving to the end (on the 78,000-line benchmark that survival was most of the GC work).
 * Diagnostics keep the order of the former batch passes: brace errors, then grammar errors, after the
 * preprocessor's (the caller appends `braceDiags` and `grammarDiags` when the preprocessor is done).
 */
class StatementReader {
  /** Where each completed top-level node goes. */
  constructor(private readonly sink: (n: ConfigNode) => void) {}
  readonly braceDiags = new Diagnostics();
  readonly grammarDiags = new Diagnostics();
  /** Statements of the top-level statement being read (repaired stream), and their kinds for the lexer. */
  private stmts: Statement[] = [];
  private kinds: StatementKind[] = [];
  /**
   * The grammar's parse of each top-level statement shape seen so far. The parse depends on the token kinds only
   * (toNodes takes the nodes from the statements), and a large configuration repeats a few shapes thousands of
   * times (every `real_server` with one TCP_CHECK alike): nearley runs once per shape, not once per statement.
   */
  private readonly shapes = new Map<string, StatementList>();
  /** Words of each line text seen more than once, null for a text seen once (see lineToNode). */
  private readonly lexed = new Map<string, LineWords | null>();
  /** Depth of the repaired stream (phantom braces excluded). */
  private depth = 0;
  private readonly stack: { phantom: boolean; head?: ConfigNode; open: LogicalLine }[] = [];
  private last: LogicalLine | undefined;
  private tooDeepReported = false;
  private failed = false;

  push(l: LogicalLine): void {
    this.last = l;
    const diags = this.braceDiags;
    if (l.kind === 'words') {
      const node = lineToNode(l, diags, this.lexed);
      if (node) this.add('line', node);
    } else if (l.kind === 'open') {
      const last = this.stmts.length - 1;
      const depth = this.stack.length;
      if (depth >= MAX_BLOCK_DEPTH) {
        // Real configurations nest 4 deep; this bound keeps the tree builder's recursion safe.
        if (!this.tooDeepReported) diags.error('too-deep', `blocks nested more than ${MAX_BLOCK_DEPTH} deep - deeper '{' are ignored`, locOf(l));
        this.tooDeepReported = true;
        this.stack.push({ phantom: true, open: l });
      } else if (last >= 0 && this.kinds[last] === 'line') {
        this.stack.push({ phantom: false, head: this.stmts[last] as ConfigNode, open: l });
        this.add('open', locOf(l));
      } else {
        diags.error('unexpected-brace', `'{' with no keyword before it - ignoring it; what it encloses is read as part of the enclosing block`, locOf(l));
        this.stack.push({ phantom: true, open: l });
      }
    } else {
      const top = this.stack.pop();
      if (!top) diags.error('extra-brace', `Extra '}' found: no block is open here`, locOf(l));
      else if (!top.phantom) this.add('close', null);
    }
  }

  /** Closes what is still open (reporting it) and parses the last statement. */
  finish(): void {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const b = this.stack[i]!;
      if (b.phantom) continue;
      const at = locOf(b.open);
      const head = b.head!;
      const last = this.last;
      const endAt = last ? ` (configuration ends at ${last.text.file}:${last.text.line})` : '';
      this.braceDiags.error('missing-brace', `missing '}': the block of '${describe(head)}' opened at ${fmtLoc(at)} is never closed${endAt}`, at, { keyword: head.keyword });
      this.add('close', null);
    }
    this.stack.length = 0;
    if (this.stmts.length) this.flush(this.stmts.length);
  }

  private add(kind: StatementKind, st: Statement): void {
    // A depth-0 line ends a top-level statement unless a '{' follows it: decided when the next statement comes.
    if (this.depth === 0 && this.stmts.length && kind !== 'open') this.flush(this.stmts.length);
    this.stmts.push(st);
    this.kinds.push(kind);
    if (kind === 'open') this.depth++;
    else if (kind === 'close') {
      this.depth--;
      if (this.depth === 0) this.flush(this.stmts.length);
    }
  }

  private flush(to: number): void {
    if (!this.failed) {
      // The kinds joined: one string per statement (built a letter at a time it was a string per line).
      const shape = this.kinds.join();
      let list = this.shapes.get(shape);
      if (list === undefined) {
        const parsed = parseRange(this.kinds, 0, to, this.grammarDiags);
        if (parsed === undefined) this.failed = true; // as the batch reader did: nothing after an internal parser error
        else {
          list = parsed;
          if (this.shapes.size < MAX_SHAPES) this.shapes.set(shape, list);
        }
      }
      if (list !== undefined) {
        const nodes = toNodes(list, this.stmts);
        for (let i = 0; i < nodes.length; i++) this.sink(nodes[i]!);
      }
    }
    this.stmts = [];
    this.kinds = [];
  }
}

function toNodes(list: StatementList, stmts: readonly Statement[]): ConfigNode[] {
  const rev: RawStatement[] = [];
  let count = 0;
  for (let p = list; p; p = p.prev) {
    rev.push(p.last);
    count += p.last.head.type === 'lines' ? p.last.head.count : 1;
  }
  // Sized up front, as the args in lineToNode.
  const nodes = new Array<ConfigNode>(count);
  let at = 0;
  for (let i = rev.length - 1; i >= 0; i--) {
    const r = rev[i]!;
    if (r.head.type === 'leaf') {
      // head, '{', plain lines…, '}'
      const node = stmts[r.head.index] as ConfigNode;
      const first = r.head.index + 2;
      const block = new Array<ConfigNode>(r.head.count - 3);
      for (let k = 0; k < block.length; k++) block[k] = stmts[first + k] as ConfigNode;
      node.block = block;
      node.blockLoc = stmts[r.head.index + 1] as Loc;
      nodes[at++] = node;
      continue;
    }
    if (!r.open) {
      for (let k = 0; k < r.head.count; k++) nodes[at++] = stmts[r.head.index + k] as ConfigNode;
      continue;
    }
    const node = stmts[r.head.index] as ConfigNode;
    node.block = toNodes(r.body ?? null, stmts);
    node.blockLoc = stmts[r.open.index] as Loc;
    nodes[at++] = node;
  }
  return nodes;
}

const nearley = createRequire(import.meta.url)('nearley') as typeof nearleyModule;
const compiled = nearley.Grammar.fromCompiled(grammar);

/**
 * Runs the grammar over kinds[from, to) and returns its parse (statement indices). Exactly one parse is required.
 * Callers feed one top-level statement at a time: nearley keeps a table column per token, and a short table keeps
 * a 78,000-line config well inside the speed budget (the brace checker already knows where top-level ends).
 */
function parseRange(kinds: readonly StatementKind[], from: number, to: number, diags: Diagnostics): StatementList | undefined {
  // keepHistory: without it nearley `delete`s each finished column from its table array, which turns the array
  // into a slow dictionary; the table only lives for one top-level statement, so keeping it costs nothing.
  const parser = new nearley.Parser(compiled, { lexer: new StatementLexer(kinds, from, to), keepHistory: true } as nearley.ParserOptions);
  try {
    parser.feed('');
  } catch (e) {
    diags.fatal('internal-error', `internal parser error: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
  if (parser.results.length !== 1) {
    diags.fatal('internal-error', `internal parser error: ${parser.results.length} parses instead of exactly one`);
    return undefined;
  }
  return parser.results[0] as StatementList;
}

/** Builds the tree from preprocessed logical lines. */
export function parseLogicalLines(lines: readonly LogicalLine[], diags: Diagnostics): ConfigNode[] {
  const nodes: ConfigNode[] = [];
  const reader = new StatementReader((n) => nodes.push(n));
  for (const l of lines) reader.push(l);
  reader.finish();
  appendDiags(diags, reader);
  return nodes;
}

function appendDiags(diags: Diagnostics, reader: StatementReader): void {
  for (const d of reader.braceDiags.list) diags.add(d);
  for (const d of reader.grammarDiags.list) diags.add(d);
}

/**
 * Reads a configuration file into its tree. With `sink`, each top-level node goes there as soon as it is complete
 * (and `nodes` stays empty): the model builder takes them one by one, so the tree need not outlive its block.
 * When `truncated` is set, what went to the sink is to be discarded (as `nodes` is).
 */
export function parseConfigFile(path: string, opts: ParseOptions = {}, sink?: (n: ConfigNode) => void): ParseResult {
  const diags = new Diagnostics();
  const nodes: ConfigNode[] = [];
  const reader = new StatementReader(sink ?? ((n) => nodes.push(n)));
  const pre = new Preprocessor(diags, opts).runFile(path, (l) => reader.push(l));
  return finishParse(diags, reader, pre, nodes);
}

export function parseConfigText(text: string, file: string, opts: ParseOptions = {}, sink?: (n: ConfigNode) => void): ParseResult {
  const diags = new Diagnostics();
  const nodes: ConfigNode[] = [];
  const reader = new StatementReader(sink ?? ((n) => nodes.push(n)));
  const pre = new Preprocessor(diags, opts).runText(text, file, (l) => reader.push(l));
  return finishParse(diags, reader, pre, nodes);
}

function finishParse(diags: Diagnostics, reader: StatementReader, pre: PreprocessResult, nodes: ConfigNode[]): ParseResult {
  // A runaway expansion discards everything read (it would only produce follow-on errors).
  if (pre.truncated) return { nodes: [], diags, files: pre.files, truncated: true };
  reader.finish();
  appendDiags(diags, reader);
  return { nodes, diags, files: pre.files };
}
