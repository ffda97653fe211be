// Line preprocessor: turns keepalived.conf files into logical lines exactly as keepalived 2.x read_line() does
// (lib/parser.c), keeping the file/line/column of every character:
//   comments (# and ! outside "…", \# \! literal), MAXBUF line limit, CRLF, `@id` / `@^id` conditional lines,
//   `$NAME=VALUE` (also multi-line with trailing `\`), `$NAME` / `${NAME}` substitution (recursive, undefined left
//   alone) with the predefined ${_PWD} ${_INSTANCE} ${_RANDOM [MIN [MAX]]} ${_ENV VAR} ${_HASH} ${_BANG},
//   `~SEQ(var,[start,][step,]end)` / `~SEQx` / `~LST(…)` line repetition, `include*` with glob and csh braces,
//   and the split of a line at `{` / `}` so each brace is its own logical line.
// Deliberate differences from keepalived (all "better, never different for a valid config"): a line longer than
// MAXBUF is dropped whole (keepalived drops the first 1023 bytes and reads the rest as a new line); include cycles
// and runaway recursive definitions are reported instead of looping.
import { readFileSync, statSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { hostname } from 'node:os';
import { Diagnostics } from './diagnostics.js';
import type { Loc } from './tree.js';
import { PosText } from './postext.js';
import { globWithBraces, hasBrace } from './glob.js';

/** keepalived's MAXBUF: fgets() buffer of 1024 bytes, so a line may hold at most 1022 bytes before its newline. */
export const MAXBUF = 1024;
export const MAX_LINE_BYTES = MAXBUF - 2;

export interface LogicalLine {
  kind: 'words' | 'open' | 'close';
  text: PosText;
}

export interface PreprocessOptions {
  /** keepalived -i; default: the host name up to its first '.'. */
  configId?: string;
  /** Random source for ${_RANDOM} (0 <= x < 1); default Math.random. */
  random?: () => number;
  /** Environment for ${_ENV VAR}; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Initial include_check flags as keepalived -e sets them (default none). */
  includeCheckAll?: boolean;
  /** Bound on files included in total, repeats counted (default MAX_INCLUDED_FILES). */
  maxIncludedFiles?: number;
  /** Bound on lines read from all files together, repeats counted (default MAX_READ_LINES). */
  maxReadLines?: number;
}

export interface PreprocessResult {
  lines: LogicalLine[];
  /** Every file that was read, in reading order (root first). */
  files: string[];
  /** The expansion limit stopped reading: the lines (also those already streamed) are to be discarded. */
  truncated?: boolean;
}

/** Receives logical lines as they are made (instead of collecting them in PreprocessResult.lines). */
export type LineSink = (line: LogicalLine) => void;

// include check bits (lib/parser.h include_t)
const INC_R = 1;
const INC_M = 2;
const INC_W = 4;
const INC_B = 8;
const INC_ALL = INC_R | INC_M | INC_W | INC_B;

/** Separates the lines of a multi-line definition value (keepalived's DEF_LINE_END). */
const DEF_LINE_END = '\n';
/** Guard against `$A=$A`-style definitions, which make keepalived loop forever. */
const MAX_SUBSTITUTIONS_PER_LINE = 1000;
const MAX_INCLUDE_DEPTH = 64;
/** A ~SEQ beyond this is a typo, not a configuration: refuse it rather than read for hours. */
const MAX_SEQ_VALUES = 1_000_000;
/** Expansion bounds that no real configuration approaches (keepalived would loop or run out of memory). */
const MAX_LOGICAL_LINES = 1_000_000;
const MAX_FRAMES = 10_000;
/**
 * Brace residues re-read from one line (emit → processLine). A line keepalived can hold splits into at most
 * MAXBUF parts; more means a definition that re-creates its own braces on every re-read (found by fuzzing: it
 * recursed until the stack overflowed).
 */
const MAX_RESIDUES = MAXBUF + 76;
/**
 * Includes that fan out without a cycle (each file including the next one twice) grow exponentially: depth 16
 * read 65,536 files in 32 s, synchronously. A total bound, repeats counted, stops that; real configurations
 * (a conf.d per virtual server) stay far below it.
 */
export const MAX_INCLUDED_FILES = 5000;
export const MAX_READ_LINES = 1_000_000;

interface Definition {
  value: string;
  multiline: boolean;
  fn?: (params: string[] | null, at: Loc) => string;
  minParams: number;
  maxParams: number;
  numbersOnly: boolean;
}

interface FileFrame {
  kind: 'file';
  path: string;
  /**
   * The file's text once opened (null before). Lines are cut from it one at a time rather than split up front:
   * an array of every line would live as long as the file is read (78,000 strings on the benchmark config).
   */
  body: string | null;
  /** Offset of the next line in body, and the number of lines (keepalived's: a final newline ends the last). */
  pos: number;
  count: number;
  /** Lines read so far (= the line number of the line just read). */
  idx: number;
  /** The text holds a NUL somewhere (its lines take the general path). */
  hasNul?: boolean;
  includeType: number;
  /** include_check as it was when the include line was read; restored when this file ends. */
  savedIncludeCheck: number;
  realpath: string;
  /** Text given directly (parseConfigText) instead of read from disk. */
  text?: string;
  /** Where the include line stood (for messages). */
  from?: Loc;
}

interface SeqFrame {
  kind: 'seq';
  text: PosText;
  /** ~SEQ: one variable counting; ~LST: parallel variables over value sets. */
  vars: string[];
  next: number;
  step: number;
  last: number;
  hex: boolean;
  sets: string[][] | null;
  setIdx: number;
}

interface MultiFrame {
  kind: 'multi';
  segments: string[];
  idx: number;
  file: string;
  line: number;
  col: number;
}

type Frame = FileFrame | SeqFrame | MultiFrame;

const isAlpha = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isNameChar = (c: string | undefined): boolean => isAlpha(c) || isDigit(c) || c === '_';
const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';
const isSpace = (c: string | undefined): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';

export function defaultConfigId(): string {
  return hostname().split('.')[0] ?? '';
}

/** C strtol(s, &end, 0) from index i: returns the value and the index after it (i itself when nothing parsed). */
function strtol0(s: string, i: number): { value: number; end: number } {
  let p = i;
  while (isSpace(s[p])) p++;
  let neg = false;
  if (s[p] === '+' || s[p] === '-') {
    neg = s[p] === '-';
    p++;
  }
  let base = 10;
  if (s[p] === '0' && (s[p + 1] === 'x' || s[p + 1] === 'X') && /[0-9a-fA-F]/.test(s[p + 2] ?? '')) {
    base = 16;
    p += 2;
  } else if (s[p] === '0') base = 8;
  const digits = base === 16 ? /[0-9a-fA-F]/ : base === 8 ? /[0-7]/ : /[0-9]/;
  const start = p;
  while (p < s.length && digits.test(s[p]!)) p++;
  if (p === start) return { value: 0, end: i };
  const v = parseInt(s.slice(start, p), base);
  return { value: neg ? -v : v, end: p };
}

/**
 * keepalived's decomment(): removes leading blanks, comments (# or ! outside quotes), the backslash of `\#` / `\!`
 * outside quotes, and trailing blanks. A line ending in an unescaped `\` keeps it (multi-line definitions).
 */
export function decomment(t: PosText): PosText {
  let s = t.s;
  let a = 0;
  while (isBlank(s[a])) a++;
  let quote = false;
  let cont = false;
  let p = a;
  let cut = s.length;
  while (p < s.length) {
    const c = s[p];
    if (c === '"') {
      quote = !quote;
      p++;
      continue;
    }
    if (c === '\\') {
      if (p + 1 < s.length) {
        if (!quote && (s[p + 1] === '#' || s[p + 1] === '!')) {
          t = t.remove(p);
          s = t.s;
          p++;
        } else p += 2;
        continue;
      }
      cut = p;
      cont = true;
      break;
    }
    if (!quote && (c === '!' || c === '#')) {
      cut = p;
      break;
    }
    p++;
  }
  let end = cut;
  while (end > a && isBlank(s[end - 1])) end--;
  if (cont) return t.slice(a, end).append('\\');
  return t.slice(a, end);
}

/** keepalived's is_include(): `include ` or `include[rmwba] `. */
function includeKind(s: string): { type: number; rest: number } | null {
  if (!s.startsWith('include') || s.length <= 7) return null;
  if (isSpace(s[7])) return { type: 0, rest: 8 };
  if (isSpace(s[8]) && 'rmwba'.includes(s[7]!)) {
    const t = s[7] === 'r' ? INC_R : s[7] === 'a' ? INC_ALL : s[7] === 'w' ? INC_R | INC_M | INC_W : s[7] === 'm' ? INC_R | INC_M : INC_R | INC_B;
    return { type: t, rest: 9 };
  }
  return null;
}

export class Preprocessor {
  private readonly frames: Frame[] = [];
  private readonly defs = new Map<string, Definition>();
  private readonly out: LogicalLine[] = [];
  private sink: LineSink | null = null;
  /** Logical lines made so far (collected or streamed), for the expansion limit. */
  private made = 0;
  private truncated = false;
  /** Depth of brace residues being re-read (see MAX_RESIDUES). */
  private residueDepth = 0;
  private readonly files: string[] = [];
  private includeCheck = 0;
  /** Files included so far and lines read from all files, repeats counted (fan-out bounds). */
  private included = 0;
  private readLines = 0;
  private readonly maxIncludedFiles: number;
  private readonly maxReadLines: number;
  /** The definition being continued over several lines, if any. */
  private multilineDef: Definition | null = null;
  private readonly configId: string;
  private readonly random: () => number;
  private readonly env: Readonly<Record<string, string | undefined>>;

  /** Diagnostics, each reported once per position: a ~SEQ repeating a bad line would otherwise repeat it. */
  private readonly diags: Diagnostics;

  constructor(
    diags: Diagnostics,
    opts: PreprocessOptions = {},
  ) {
    this.diags = dedupedDiagnostics(diags);
    this.configId = opts.configId ?? defaultConfigId();
    this.random = opts.random ?? Math.random;
    this.env = opts.env ?? process.env;
    if (opts.includeCheckAll) this.includeCheck = INC_ALL;
    this.maxIncludedFiles = opts.maxIncludedFiles ?? MAX_INCLUDED_FILES;
    this.maxReadLines = opts.maxReadLines ?? MAX_READ_LINES;
    this.setStdDefinitions();
  }

  private setStdDefinitions(): void {
    const std = (name: string, fn: Definition['fn'], min = 0, max = 0, numbersOnly = false, value = ''): void => {
      this.defs.set(name, { value, multiline: false, fn, minParams: min, maxParams: max, numbersOnly });
    };
    std('_PWD', (_p, at) => dirname(resolve(at.file)));
    std('_INSTANCE', () => this.configId);
    std('_RANDOM', (params, at) => {
      let min = 0;
      let max = 32767;
      if (params && params.length) {
        min = Number(params[0]);
        if (params.length > 1) max = Number(params[1]);
      }
      if (min > max) {
        this.diags.error('random-range', `\${_RANDOM}: min ${min} exceeds max ${max}, using ${min}`, at);
        max = min;
      }
      return String(Math.floor(this.random() * (max - min + 1)) + min);
    }, 0, 2, true);
    std('_ENV', (params) => {
      const v = params ? (Object.hasOwn(this.env, params[0]!) ? this.env[params[0]!] : undefined) : undefined;
      return typeof v === 'string' ? v : '';
    }, 1, 1);
    std('_HASH', undefined, 0, 0, false, '#');
    std('_BANG', undefined, 0, 0, false, '!');
  }

  /** Reads a file from disk as the root configuration. */
  runFile(path: string, sink?: LineSink): PreprocessResult {
    let text: string;
    try {
      const st = statSync(path);
      if (st.isDirectory()) {
        this.diags.fatal('file-not-found', `Configuration file '${path}' is a directory`);
        return { lines: [], files: [] };
      }
      text = readFileSync(path, 'utf8');
    } catch (e) {
      this.diags.fatal('file-not-found', `Unable to find configuration file ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      return { lines: [], files: [] };
    }
    return this.runText(text, path, sink);
  }

  /** Preprocesses `text` as if it were the content of `file` (includes resolve against its directory). */
  runText(text: string, file: string, sink?: LineSink): PreprocessResult {
    this.sink = sink ?? null;
    let real = resolve(file);
    try {
      real = realpathSync(file);
    } catch {
      /* text not backed by a file */
    }
    this.frames.push({ kind: 'file', path: file, body: null, pos: 0, count: 0, idx: 0, includeType: 0, savedIncludeCheck: this.includeCheck, realpath: real, text });
    this.loop();
    return this.truncated ? { lines: this.out, files: this.files, truncated: true } : { lines: this.out, files: this.files };
  }

  private loop(): void {
    while (this.frames.length) {
      if (this.made > MAX_LOGICAL_LINES || this.frames.length > MAX_FRAMES) {
        const top = this.frames[this.frames.length - 1]!;
        const at: Loc | undefined = top.kind === 'file' ? { file: top.path, line: Math.max(top.idx, 1), col: 1 }
          : top.kind === 'seq' ? { file: top.text.file, line: top.text.line, col: top.text.colAt(0) }
          : { file: top.file, line: top.line, col: top.col };
        const why = this.made > MAX_LOGICAL_LINES
          ? `the configuration expands to more than ${MAX_LOGICAL_LINES} lines`
          : `~SEQ/~LST/definition expansions are nested more than ${MAX_FRAMES} deep`;
        this.diags.fatal('expansion-limit', `reading stopped: ${why} (a self-repeating ~SEQ or definition?)`, at);
        this.stopReading();
        return;
      }
      const top = this.frames[this.frames.length - 1]!;
      let t: PosText | null;
      if (top.kind === 'file') t = this.nextFileLine(top);
      else if (top.kind === 'seq') t = this.nextSeqLine(top);
      else t = this.nextMultiLine(top);
      if (t) this.processLine(t);
    }
  }

  /** A partial configuration would only produce follow-on errors (or run half a config): nothing is kept. */
  private stopReading(): void {
    this.frames.length = 0;
    this.out.length = 0;
    this.truncated = true;
  }

  private openFile(f: FileFrame): boolean {
    if (f.text !== undefined) {
      f.body = f.text;
      f.text = undefined;
    } else {
      try {
        f.body = readFileSync(f.path, 'utf8');
      } catch (e) {
        this.fileError(INC_R, f.includeType, `Configuration file '${f.path}' open problem (${(e as NodeJS.ErrnoException).code ?? 'error'}) - skipping`, f.from, 'include-unreadable');
        return false;
      }
    }
    f.count = countLines(f.body);
    f.hasNul = f.body.includes('\0');
    this.files.push(f.path);
    this.readLines += f.count;
    if (this.readLines > this.maxReadLines) {
      const at = f.from ?? { file: f.path, line: 1, col: 1 };
      this.diags.fatal('include-limit', `reading stopped: more than ${this.maxReadLines} lines read from the configuration files in total (repeated includes counted), reached including '${f.path}'; include each file once (a fan-out of includes?)`, at);
      this.stopReading();
      return false;
    }
    return true;
  }

  private nextFileLine(f: FileFrame): PosText | null {
    if (f.body === null && !this.openFile(f)) {
      this.frames.pop();
      this.includeCheck = f.savedIncludeCheck;
      return null;
    }
    const body = f.body!;
    while (f.idx < f.count) {
      const start = f.pos;
      const nl = body.indexOf('\n', start);
      let end = nl < 0 ? body.length : nl;
      f.pos = end + 1;
      const lineNo = ++f.idx;
      while (end > start && body.charCodeAt(end - 1) === 13) end--;
      // Most lines need nothing but their blanks and comment cut off: done on the file text, so only the words
      // become a string (a config's worth of intermediate line strings was a tenth of -t's allocation).
      if (!f.hasNul && end - start <= MAX_LINE_BYTES / 3) {
        const t = this.plainLine(body, start, end, f.path, lineNo);
        if (t === undefined) {
          if (start === end && this.multilineDef) this.endMultilineDef();
          continue;
        }
        if (t !== null) {
          if (this.multilineDef) {
            this.continueMultilineDef(t);
            continue;
          }
          return t;
        }
      }
      let raw = body.slice(start, end);
      if (raw.includes('\0')) {
        this.diags.error('embedded-nul', 'configuration appears to have embedded NULs - ignoring line', { file: f.path, line: lineNo, col: 1 });
        raw = '';
      } else if (raw.length > MAX_LINE_BYTES / 3 && Buffer.byteLength(raw) > MAX_LINE_BYTES) {
        this.diags.error('line-too-long', `line too long (${Buffer.byteLength(raw)} bytes, keepalived reads at most ${MAX_LINE_BYTES}) - ignoring`, { file: f.path, line: lineNo, col: 1 });
        raw = '';
      }
      if (!raw.length) {
        if (this.multilineDef) this.endMultilineDef();
        continue;
      }
      const t = decomment(PosText.of(raw, f.path, lineNo));
      if (!t.length) continue;
      if (this.multilineDef) {
        this.continueMultilineDef(t);
        continue;
      }
      return t;
    }
    this.frames.pop();
    this.includeCheck = f.savedIncludeCheck;
    if (this.multilineDef) this.endMultilineDef();
    return null;
  }

  /**
   * decomment() on body[start, end) without making the raw line a string first: the trimmed, decommented text
   * (what decomment(PosText.of(raw)) gives), undefined when nothing is left, or null for a line with a backslash
   * (the general path handles `\#`, `\!` and a continuation).
   */
  private plainLine(body: string, start: number, end: number, file: string, lineNo: number): PosText | null | undefined {
    let a = start;
    while (a < end && (body.charCodeAt(a) === 32 || body.charCodeAt(a) === 9)) a++;
    let quote = false;
    let cut = end;
    for (let p = a; p < end; p++) {
      const c = body.charCodeAt(p);
      if (c === 34) quote = !quote; // "
      else if (c === 92) return null; // backslash
      else if (!quote && (c === 33 || c === 35)) { // ! #
        cut = p;
        break;
      }
    }
    while (cut > a && (body.charCodeAt(cut - 1) === 32 || body.charCodeAt(cut - 1) === 9)) cut--;
    if (cut === a) return undefined;
    return new PosText(body.slice(a, cut), file, lineNo, 1 + a - start);
  }

  private nextSeqLine(q: SeqFrame): PosText | null {
    if (q.sets) {
      const set = q.sets[q.setIdx++]!;
      q.vars.forEach((v, i) => this.setDefinition(v, set[i] ?? ''));
      if (q.setIdx >= q.sets.length) this.frames.splice(this.frames.indexOf(q), 1);
      return q.text;
    }
    this.setDefinition(q.vars[0]!, q.hex ? q.next.toString(16) : String(q.next));
    q.next += q.step;
    if ((q.step > 0 && q.next > q.last) || (q.step < 0 && q.next < q.last)) this.frames.splice(this.frames.indexOf(q), 1);
    return q.text;
  }

  private nextMultiLine(m: MultiFrame): PosText | null {
    const seg = m.segments[m.idx++]!;
    if (m.idx >= m.segments.length) this.frames.splice(this.frames.indexOf(m), 1);
    if (!seg.length) return null;
    // Every line of a multi-line definition points at the `$` that used it.
    return new PosText(seg, m.file, m.line, m.col, new Array<number>(seg.length).fill(m.col));
  }

  private setDefinition(name: string, value: string): void {
    const d = this.defs.get(name);
    if (d) {
      d.value = value;
      d.fn = undefined;
      d.multiline = false;
    } else this.defs.set(name, { value, multiline: false, minParams: 0, maxParams: 0, numbersOnly: false });
  }

  private endMultilineDef(): void {
    const d = this.multilineDef;
    if (d && !d.value.length) d.multiline = false;
    this.multilineDef = null;
  }

  private continueMultilineDef(t: PosText): void {
    const d = this.multilineDef!;
    let s = t.s;
    let more = false;
    if (s.endsWith('\\')) {
      let len = s.length - 1;
      while (len >= 1 && isBlank(s[len - 1])) len--;
      s = s.slice(0, len) + DEF_LINE_END;
      more = true;
    }
    if (s.length >= 2 || (s.length && !more)) d.value += s;
    if (!more) this.endMultilineDef();
  }

  /** `$NAME=VALUE` (keepalived check_definition()); returns false when the line is not a definition. */
  private checkDefinition(t: PosText): boolean {
    const s = t.s;
    if (s[0] !== '$' || !(isAlpha(s[1]) || s[1] === '_')) return false;
    let p = 2;
    while (p < s.length && s[p] !== '=') {
      if (!isNameChar(s[p])) return false;
      p++;
    }
    if (s[p] !== '=') return false;
    const name = s.slice(1, p);
    p++;
    while (isBlank(s[p])) p++;
    let value = s.slice(p);
    let multiline = false;
    if (value.endsWith('\\')) {
      let len = value.length;
      while (len >= 2 && isBlank(value[len - 2])) len--;
      value = len < 2 ? '' : value.slice(0, len - 1) + DEF_LINE_END;
      multiline = true;
    }
    const existing = this.defs.get(name);
    const d: Definition = existing ?? { value: '', multiline: false, minParams: 0, maxParams: 0, numbersOnly: false };
    d.value = value;
    d.multiline = multiline;
    d.fn = undefined;
    if (!existing) this.defs.set(name, d);
    if (multiline) this.multilineDef = d;
    return true;
  }

  /**
   * keepalived's replace_param(): substitutes `$NAME` (followed by blank, ',', ')' or end) and `${NAME [params]}`.
   * The replacement is rescanned (recursive definitions); undefined names stay as written. A multi-line
   * definition is only used at the end of a line: its first line replaces the reference, the rest follow as lines.
   */
  private substitute(t: PosText, allowMultiline: boolean): { text: PosText; changed: boolean; rest: string[] | null; restCol: number } {
    let pos = 0;
    let changed = false;
    let rest: string[] | null = null;
    let restCol = 0;
    let count = 0;
    while ((pos = t.s.indexOf('$', pos)) !== -1 && pos + 1 < t.s.length) {
      const s = t.s;
      const m = this.matchReference(s, pos + 1, t);
      if (!m) {
        pos++;
        continue;
      }
      const d = m.def;
      if (++count > MAX_SUBSTITUTIONS_PER_LINE) {
        this.diags.error('recursive-definition', `definition $${m.name} keeps expanding into itself - substitution stopped`, { file: t.file, line: t.line, col: t.colAt(pos) });
        break;
      }
      const at: Loc = { file: t.file, line: t.line, col: t.colAt(pos) };
      let value = d.fn ? d.fn(m.params, at) : d.value;
      if (d.multiline && allowMultiline) {
        const parts = value.split(DEF_LINE_END);
        value = parts[0]!;
        rest = parts.slice(1);
        restCol = at.col;
      }
      if (s.length - (m.end - pos) + value.length > MAXBUF - 1) {
        this.diags.error('line-too-long', `parameter substitution of $${m.name} would exceed the maximum line length (${MAXBUF - 1})`, at);
        break;
      }
      t = t.splice(pos, m.end, value, at.col);
      changed = true;
      if (value.trimStart().startsWith('~') || /^[ \t]*~/.test(d.value)) break;
    }
    return { text: t, changed, rest, restCol };
  }

  private matchReference(s: string, i: number, t: PosText): { name: string; end: number; def: Definition; params: string[] | null } | null {
    const braces = s[i] === '{';
    if (braces) i++;
    if (!(isAlpha(s[i]) || s[i] === '_')) return null;
    let j = i + 1;
    while (isNameChar(s[j])) j++;
    const name = s.slice(i, j);
    let params: string[] | null = null;
    let numbersOnly = true;
    let end: number;
    if (braces) {
      let pStart = -1;
      let pEnd = -1;
      while (j < s.length && (isBlank(s[j]) || isNameChar(s[j]))) {
        if (!isBlank(s[j])) {
          if (pStart < 0) pStart = j;
          pEnd = j;
          if (!isDigit(s[j])) numbersOnly = false;
        }
        j++;
      }
      if (pStart >= 0 && pEnd + 1 !== j) return null;
      if (s[j] !== '}') return null;
      if (pStart >= 0) params = s.slice(pStart, pEnd + 1).split(/[ \t]+/);
      end = j + 1;
    } else {
      if (j < s.length && !(isBlank(s[j]) || s[j] === ',' || s[j] === ')')) return null;
      end = j;
    }
    const allowMultiline = end === s.length;
    const def = this.defs.get(name);
    if (!def || (def.multiline && !allowMultiline)) return null;
    if (params) {
      const at: Loc = { file: t.file, line: t.line, col: t.colAt(i - (braces ? 2 : 1)) };
      if (!def.maxParams) return null;
      if (def.numbersOnly && !numbersOnly) {
        this.diags.error('bad-definition-params', `Definition ${name} requires numeric parameters only.`, at);
        return null;
      }
      if (params.length > def.maxParams || params.length < def.minParams) {
        this.diags.error('bad-definition-params', `Definition ${name} requires between ${def.minParams} and ${def.maxParams} parameters, ${params.length} specified.`, at);
        return null;
      }
    } else if (def.minParams > 0) {
      return null;
    }
    return { name, end, def, params };
  }

  private processLine(t: PosText): void {
    if (this.truncated) return;
    // @ID / @^ID conditional lines
    if (t.s[0] === '@') {
      const rev = t.s[1] === '^';
      const ofs = rev ? 2 : 1;
      const m = /[ \t]/.exec(t.s.slice(ofs));
      if (!m) return;
      const id = t.s.slice(ofs, ofs + m.index);
      if ((id !== this.configId) !== rev) return;
      t = t.slice(ofs + m.index).trimBlanks();
      if (!t.length) return;
    }
    if (t.s[0] === '$' && this.checkDefinition(t)) return;
    if (t.s.startsWith('~SEQ') || t.s.startsWith('~LST')) {
      if (t.s[1] === 'S') this.addSeq(t);
      else this.addLst(t);
      return;
    }
    let rest: string[] | null = null;
    let restCol = 0;
    if (t.s[0] !== '~' && t.s.includes('$')) {
      const r = this.substitute(t, true);
      if (r.changed) {
        t = decomment(r.text);
        rest = r.rest;
        restCol = r.restCol;
      }
    }
    const inc = includeKind(t.s);
    if (inc) {
      this.include(t, inc.type, inc.rest);
    } else if (t.length) {
      this.emit(t);
    }
    if (rest && rest.length) {
      this.frames.push({ kind: 'multi', segments: rest, idx: 0, file: t.file, line: t.line, col: restCol });
    }
  }

  /** ~SEQ(var, [start,] [step,] end) rest-of-line (keepalived add_seq()). */
  private addSeq(t: PosText): void {
    const s = t.s;
    const at: Loc = { file: t.file, line: t.line, col: t.colAt(0) };
    const bad = (msg: string): void => this.diags.error('bad-seq', `${msg} '${s}'`, at);
    let p = 4;
    let hex = false;
    if (s[p] === 'x') {
      hex = true;
      p++;
    }
    while (isBlank(s[p])) p++;
    if (s[p++] !== '(') return bad('Invalid ~SEQ specification');
    while (isBlank(s[p])) p++;
    const varStart = p;
    while (p < s.length && !' \t,)'.includes(s[p]!)) p++;
    const varName = s.slice(varStart, p);
    while (isBlank(s[p])) p++;
    if (p >= s.length || s[p] === ')' || !varName.length || varName[0] === '{') return bad('Invalid ~SEQ definition');
    p++;
    while (isBlank(s[p])) p++;
    const close = s.indexOf(')', p);
    if (close < 0) return bad("~SEQ missing terminating ')'");
    const sub = this.substitute(t.slice(p, close + 1), false);
    if (sub.rest) return bad('~SEQ parameter is multiline definition');
    const ps = sub.text.s;
    let start: number;
    let step: number;
    let end: number;
    let r = strtol0(ps, 0);
    const one = r.value;
    let q = r.end;
    while (isBlank(ps[q])) q++;
    if (ps[q] === ')') {
      end = one;
      step = end < 1 ? -1 : 1;
      start = end < 0 ? -1 : 1;
    } else {
      if (ps[q] !== ',') return bad('Invalid ~SEQ definition');
      r = strtol0(ps, q + 1);
      const two = r.value;
      q = r.end;
      while (isBlank(ps[q])) q++;
      if (ps[q] === ')') {
        start = one;
        end = two;
        step = start <= end ? 1 : -1;
      } else {
        if (ps[q] !== ',') return bad('Invalid ~SEQ definition');
        r = strtol0(ps, q + 1);
        q = r.end;
        while (isBlank(ps[q])) q++;
        if (ps[q] !== ')') return bad('Invalid ~SEQ definition');
        start = one;
        step = two;
        end = r.value;
        if (!step || (start < end && step < 0) || (start > end && step > 0)) return bad('Invalid ~SEQ values');
      }
    }
    if (hex && (start < 0 || end < 0)) return bad('~SEQx is only valid for positive numbers');
    const count = Math.floor(Math.abs(end - start) / Math.abs(step)) + 1;
    if (count > MAX_SEQ_VALUES) {
      this.diags.error('bad-seq', `~SEQ would repeat the line ${count} times (limit ${MAX_SEQ_VALUES}) - ignoring '${s}'`, at);
      return;
    }
    let textStart = close + 1;
    while (isBlank(s[textStart])) textStart++;
    this.frames.push({ kind: 'seq', text: t.slice(textStart), vars: [varName], next: start, step, last: end, hex, sets: null, setIdx: 0 });
  }

  /** ~LST(var, v1, v2, …) or ~LST({a,b}, {1,2}, {3,4}) rest-of-line (keepalived add_lst()). */
  private addLst(t: PosText): void {
    const s = t.s;
    const at: Loc = { file: t.file, line: t.line, col: t.colAt(0) };
    const bad = (msg = 'Invalid ~LST specification'): void => this.diags.error('bad-lst', `${msg} '${s}'`, at);
    let p = 4;
    const skip = (): void => {
      while (isBlank(s[p])) p++;
    };
    skip();
    if (s[p++] !== '(') return bad();
    skip();
    let endChar = ',';
    if (s[p] === '{') {
      endChar = '}';
      p++;
      skip();
    }
    const vars: string[] = [];
    for (;;) {
      const a = p;
      while (p < s.length && !' \t,}'.includes(s[p]!)) p++;
      vars.push(s.slice(a, p));
      skip();
      if (s[p] === endChar) break;
      if (s[p] !== ',') return bad();
      p++;
      skip();
    }
    if (s[p] === '}') {
      p++;
      skip();
    }
    if (s[p++] !== ',') return bad();
    skip();
    const sets: string[][] = [];
    for (;;) {
      let ec = ',';
      if (s[p] === '{') {
        ec = '}';
        p++;
        skip();
      }
      const values: string[] = [];
      for (;;) {
        const a = p;
        while (p < s.length && !' \t,})'.includes(s[p]!)) p++;
        values.push(s.slice(a, p));
        skip();
        if (s[p] === ec || (s[p] === ')' && ec === ',')) break;
        if (s[p] !== ',') return bad();
        p++;
        skip();
        if (values.length > vars.length - 1) return bad('~LST specification has too many values');
      }
      while (values.length < vars.length) values.push('');
      sets.push(values);
      if (s[p] === '}' && ec === '}') {
        p++;
        skip();
      }
      if (s[p] === ')') break;
      if (s[p] !== ',') return bad();
      p++;
      skip();
    }
    if (!vars.length || !sets.length) return bad();
    p++;
    skip();
    this.frames.push({ kind: 'seq', text: t.slice(p), vars, next: 0, step: 0, last: 0, hex: false, sets, setIdx: 0 });
  }

  /** file_config_error(): an include problem is an error only when its check is enabled, otherwise a notice. */
  private fileError(errType: number, includeType: number, message: string, at: Loc | undefined, code: string): void {
    if ((this.includeCheck | includeType) & errType) this.diags.fatal(code, message, at);
    else this.diags.notice(code, message, at);
  }

  private include(t: PosText, type: number, restAt: number): void {
    let p = restAt;
    while (isBlank(t.s[p])) p++;
    const pattern = t.s.slice(p);
    const at: Loc = { file: t.file, line: t.line, col: t.colAt(0) };
    if (!pattern.length) {
      this.diags.error('include-missing', 'include with no file name', at);
      return;
    }
    const activeChain = this.frames.filter((f): f is FileFrame => f.kind === 'file' && f.body !== null);
    if (activeChain.length >= MAX_INCLUDE_DEPTH) {
      this.diags.error('include-depth', `includes nested more than ${MAX_INCLUDE_DEPTH} deep - ignoring '${pattern}'`, at);
      return;
    }
    // Relative to the including file's directory, spelled relative when the including file was (messages stay short).
    const g = globWithBraces(pattern, dirname(t.file));
    const patLoc: Loc = { ...at, col: t.colAt(p) };
    if (!g.matches.length) {
      if (g.missingFiles || g.missingDirs) {
        this.fileError(hasBrace(pattern) ? INC_B : INC_M, type, `Config files missing '${pattern}'.`, patLoc, 'include-missing');
      } else if (g.hadWildcards) {
        this.fileError(INC_W, type, `No config files matched '${pattern}'.`, patLoc, 'include-no-match');
      }
      return;
    }
    if (g.missingFiles || g.missingDirs) {
      this.fileError(INC_B, type, `Some config files missing: "${pattern}".`, patLoc, 'include-missing');
      if ((this.includeCheck | type) & INC_B) return;
    }
    const frames: FileFrame[] = [];
    for (const m of g.matches) {
      if (m.endsWith('/')) {
        this.fileError(INC_R, type, `Configuration file '${m}' is a directory - skipping`, patLoc, 'include-unreadable');
        continue;
      }
      let st;
      try {
        st = statSync(m);
      } catch {
        st = null;
      }
      if (!st || !st.isFile() || st.mode & 0o111) {
        this.fileError(INC_R, type, `Configuration file '${m}' is not a regular non-executable file - skipping`, patLoc, 'include-unreadable');
        continue;
      }
      let real = m;
      try {
        real = realpathSync(m);
      } catch {
        /* keep m */
      }
      const cycle = activeChain.find((f) => f.realpath === real);
      if (cycle) {
        const chain = [...activeChain.slice(activeChain.indexOf(cycle)).map((f) => f.path), m].join(' -> ');
        this.diags.error('include-cycle', `include cycle: ${chain} - not including '${m}' again`, patLoc);
        continue;
      }
      frames.push({ kind: 'file', path: m, body: null, pos: 0, count: 0, idx: 0, includeType: type, savedIncludeCheck: this.includeCheck, realpath: real, from: patLoc });
    }
    this.included += frames.length;
    if (this.included > this.maxIncludedFiles) {
      this.diags.fatal('include-limit', `reading stopped: more than ${this.maxIncludedFiles} files included in total (repeated includes counted) at '${pattern}'; include each file once (a fan-out of includes without a cycle?)`, patLoc);
      this.stopReading();
      return;
    }
    // Push in reverse so the first match is read first.
    for (let i = frames.length - 1; i >= 0; i--) this.frames.push(frames[i]!);
  }

  /**
   * Splits a processed line at its first brace outside quotes. As in keepalived's read_line(), what follows the
   * split (the "residue") is processed again as a line of its own: `a { @id b }` drops `b }` on other hosts,
   * `f { ~SEQ(i,2) g$i }` repeats `g$i }`.
   */
  private emit(t: PosText): void {
    const s = t.s;
    let p = -1;
    if (s[0] === '{' || s[0] === '}') p = 0;
    else {
      for (let i = 0; i < s.length; i++) {
        const c = s[i];
        if (c === '"') {
          const close = s.indexOf('"', i + 1);
          if (close < 0) break;
          i = close;
        } else if (c === '{' || c === '}') {
          p = i;
          break;
        }
      }
    }
    if (p < 0) {
      const w = t.trimEndBlanks();
      if (w.length) this.emitWords(w);
      return;
    }
    if (p === 0) {
      this.put({ kind: s[0] === '{' ? 'open' : 'close', text: t.slice(0, 1) });
      let q = 1;
      while (isBlank(s[q])) q++;
      if (q < s.length) this.residue(t.slice(q).trimEndBlanks());
    } else {
      let q = p;
      while (q > 0 && isBlank(s[q - 1])) q--;
      if (q) this.emitWords(t.slice(0, q));
      // `keyword … {` (or `}`) at the end of the line: the residue is the brace alone, whose reading is known.
      if (p === s.length - 1 && this.residueDepth < MAX_RESIDUES) this.put({ kind: s[p] === '{' ? 'open' : 'close', text: t.slice(p) });
      else this.residue(t.slice(p).trimEndBlanks());
    }
  }

  private residue(t: PosText): void {
    if (this.residueDepth >= MAX_RESIDUES) {
      this.diags.fatal('expansion-limit', `reading stopped: the line splits at braces into more than ${MAX_RESIDUES} parts (a definition that expands to its own braces?)`, { file: t.file, line: t.line, col: t.colAt(0) });
      this.stopReading();
      return;
    }
    this.residueDepth++;
    try {
      this.processLine(t);
    } finally {
      this.residueDepth--;
    }
  }

  private put(l: LogicalLine): void {
    this.made++;
    if (this.sink) this.sink(l);
    else this.out.push(l);
  }

  private emitWords(t: PosText): void {
    this.put({ kind: 'words', text: t });
    if (t.s.startsWith('include_check') && (t.length === 13 || isSpace(t.s[13]))) this.applyIncludeCheck(t);
  }

  /** global_defs `include_check [[+|-]read|match|wildcard_match|brace_match …]` changes include checks from here on. */
  private applyIncludeCheck(t: PosText): void {
    const words = t.s.split(/[ \t]+/).slice(1).filter((w) => w.length);
    if (!words.length) {
      this.includeCheck = INC_ALL;
      return;
    }
    words.forEach((w, i) => {
      let mode = 0;
      let name = w;
      if (w[0] === '-' || w[0] === '+') {
        mode = w[0] === '-' ? -1 : 1;
        name = w.slice(1);
      } else if (i === 0) this.includeCheck = 0;
      else return;
      const flag = name === 'read' ? INC_R : name === 'match' ? INC_M : name === 'wildcard_match' ? INC_W : name === 'brace_match' ? INC_B : 0;
      if (!flag) return;
      if (mode === 0) this.includeCheck = INC_R | flag;
      else if (mode === 1) this.includeCheck |= flag;
      else this.includeCheck &= ~flag;
    });
  }
}

function dedupedDiagnostics(target: Diagnostics): Diagnostics {
  const seen = new Set<string>();
  const d = new Diagnostics();
  d.add = (x) => {
    const key = `${x.code}\0${x.loc?.file}:${x.loc?.line}:${x.loc?.col}\0${x.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    target.add(x);
  };
  return d;
}

/** How many lines text.split('\n') gives, not counting the empty one after a final newline. */
function countLines(text: string): number {
  if (!text.length) return 0;
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return text.charCodeAt(text.length - 1) === 10 ? n - 1 : n;
}

export function preprocessFile(path: string, diags: Diagnostics, opts: PreprocessOptions = {}): PreprocessResult {
  return new Preprocessor(diags, opts).runFile(path);
}

export function preprocessText(text: string, file: string, diags: Diagnostics, opts: PreprocessOptions = {}): PreprocessResult {
  return new Preprocessor(diags, opts).runText(text, file);
}
