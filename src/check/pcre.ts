// PCRE2 → JavaScript regex translation for HTTP_GET / SSL_GET `regex` (keepalived compiles it with PCRE2, 8-bit,
// no UTF, default tables; check_http.c). Pure: the config model (-t) and the probe call the same function, so `-t`
// reports exactly what the checker will run.
//
// What "faithful" means here: the translated JS regex, run over the body decoded as latin1 (one char per byte),
// matches exactly where PCRE2 would match the raw bytes. So the translation never hands JS a construct whose
// meaning differs and instead rewrites it explicitly:
//   - the pattern is taken as the UTF-8 bytes keepalived sees (one latin1 char per byte);
//   - `.` `^` `$` `\s` `\h` `\v` `\R` `\N` `\A` `\Z` `\z` and POSIX classes are spelled out (JS's `.` also stops at
//     \r, its `$` ignores a final newline, its `\s` includes \xa0, its `\v` is one char…), so no JS m/s flag is used;
//   - leading `(?i)` `(?m)` `(?s)` `(?x)` `(?n)` `(?U)` (and combinations like `(?im)` or `(?i-s)`) are options
//     of the whole pattern, like `regex_options caseless multiline …`; caseless folds ASCII letters by hand ([aA]),
//     exactly PCRE2's default tables; only a caseless backreference needs JS's `i` flag, and then a pattern that
//     reaches Latin-1 letters is refused (`i` folds é/É, PCRE2 does not);
//   - option settings inside the pattern, `a(?i)b` or `(?i:…)`, apply to the rest of their group as in PCRE2: every
//     option is spelled out per token anyway, and where caseless changes inside the pattern, letters are folded by
//     hand ([bB]; PCRE2's default tables fold only ASCII, so this is exact);
//   - constructs JavaScript (Node 20) cannot express are errors that name the construct: possessive quantifiers,
//     atomic groups, recursion, conditionals, verbs, \p, \G, \K, a backreference under hand-folded caseless…
// Checked against pcre2test (PCRE2 10.42, Debian 12) with curated and generated patterns. A backreference to a
// group that may not have participated is refused unless `match_unset_backref` (JS matches the empty string there,
// PCRE2 fails), as is one to a group a loop may reset. Known, accepted difference: PCRE2 10.42's auto-possessification assumes \h and \v are inside \s, so e.g.
// `\S+?\v` can fail on a \x85 or \xa0 byte (UTF-8 continuation bytes of à, Å…) where JS matches (the \R case,
// `.*\R`, is refused instead, see possessR).

import vm from 'node:vm';
import { KtError } from '../util/errors.js';

export type PcreResult =
  | { ok: true; source: string; flags: string }
  | { ok: false; error: string; offset: number };

interface Opts {
  caseless: boolean;
  dotall: boolean;
  multiline: boolean;
  extended: boolean;
  dollarEndonly: boolean;
  ungreedy: boolean;
  noAutoCapture: boolean;
  allowEmptyClass: boolean;
  altCircumflex: boolean;
  noAutoPossess: boolean;
  matchUnsetBackref: boolean;
}

/** keepalived's regex_options that change matching and how they map; the rest do not change what matches. */
const OPTION_FIELDS: Record<string, keyof Opts> = {
  caseless: 'caseless', dotall: 'dotall', multiline: 'multiline', extended: 'extended', dollar_endonly: 'dollarEndonly',
  ungreedy: 'ungreedy', no_auto_capture: 'noAutoCapture', allow_empty_class: 'allowEmptyClass', alt_circumflex: 'altCircumflex',
  no_auto_possess: 'noAutoPossess', match_unset_backref: 'matchUnsetBackref',
};
const NEUTRAL_OPTIONS = new Set([
  'auto_callout', 'dupnames', 'never_ucp', 'never_utf', 'no_dotstar_anchor',
  'no_start_optimize', 'never_backslash_c', 'alt_verbnames', 'use_offset_limit',
]);
const REFUSED_OPTIONS: Record<string, string> = {
  utf: 'keepalived-ts matches the body byte by byte (PCRE2 without UTF)',
  ucp: 'Unicode properties for \\d \\w \\s are not available on bytes',
  alt_bsux: 'JavaScript-style \\u \\U \\x escapes are not translated',
  firstline: 'a match limited to the first line has no JavaScript equivalent',
};

/** Every option name keepalived 2.2.7 accepts in `regex_options` (it silently ignores any other word). */
export const PCRE_OPTION_NAMES: ReadonlySet<string> = new Set([...Object.keys(OPTION_FIELDS), ...NEUTRAL_OPTIONS, ...Object.keys(REFUSED_OPTIONS)]);

/** KT_CHECK_PCRE_SYNTAX, with the offset in the pattern where translation stopped. */
class PcreError extends KtError {
  constructor(message: string, readonly offset: number) {
    super('KT_CHECK_PCRE_SYNTAX', message);
  }
}

const hex2 = (c: number) => `\\x${c.toString(16).padStart(2, '0')}`;
/** A char as a JS regex atom outside a class. */
const litOut = (c: number) => (/[A-Za-z0-9 _,:;'"=<>@%&!~`#]/.test(String.fromCharCode(c)) ? String.fromCharCode(c) : hex2(c));

// Sets spelled out over 0x00-0xff (PCRE2 non-UTF, default tables).
const SPACE = '\\t\\n\\x0b\\f\\r ';
const HSPACE = '\\t \\xa0';
const VSPACE = '\\n\\x0b\\f\\r\\x85';
const NOT_SPACE_RANGES = '\\x00-\\x08\\x0e-\\x1f\\x21-\\uffff';
const NOT_HSPACE_RANGES = '\\x00-\\x08\\x0a-\\x1f\\x21-\\x9f\\xa1-\\uffff';
const NOT_VSPACE_RANGES = '\\x00-\\x09\\x0e-\\x84\\x86-\\uffff';
const POSIX: Record<string, string> = {
  alpha: 'A-Za-z', digit: '0-9', alnum: 'A-Za-z0-9', upper: 'A-Z', lower: 'a-z', space: SPACE, blank: '\\t ',
  punct: '!-\\/:-@\\[-`{-~', print: ' -~', graph: '!-~', cntrl: '\\x00-\\x1f\\x7f', xdigit: '0-9A-Fa-f', word: 'A-Za-z0-9_', ascii: '\\x00-\\x7f',
};

/** The other case of an ASCII letter (PCRE2's default tables fold nothing else). */
function otherCase(c: number): number | undefined {
  if (c >= 0x41 && c <= 0x5a) return c + 0x20;
  if (c >= 0x61 && c <= 0x7a) return c - 0x20;
  return undefined;
}

/** For a class range lo-hi under hand folding: the other-case images of its ASCII letters, as class ranges. */
function foldedRanges(lo: number, hi: number): string {
  let s = '';
  for (const [a, z, shift] of [[0x41, 0x5a, 0x20], [0x61, 0x7a, -0x20]] as const) {
    const l = Math.max(lo, a), h = Math.min(hi, z);
    if (l <= h) s += `${hex2(l + shift)}-${hex2(h + shift)}`;
  }
  return s;
}

/** Latin-1 letters that JS's `i` folds and PCRE2's default tables do not. */
const foldsDiffer = (lo: number, hi: number) => lo <= 0xfe && hi >= 0xc0;

/**
 * Translates a PCRE2 pattern with keepalived's `regex_options` words into a JS source + flags, or says which
 * construct cannot be translated (offset in bytes of the UTF-8 pattern). Unknown option words are ignored, as
 * keepalived does (the config model warns about them).
 */
export function translatePcre(pattern: string, options: readonly string[] = []): PcreResult {
  const o: Opts = { caseless: false, dotall: false, multiline: false, extended: false, dollarEndonly: false, ungreedy: false, noAutoCapture: false, allowEmptyClass: false, altCircumflex: false, noAutoPossess: false, matchUnsetBackref: false };
  for (const w of options) {
    if (REFUSED_OPTIONS[w]) return { ok: false, error: `regex_options '${w}' is not supported: ${REFUSED_OPTIONS[w]}`, offset: 0 };
    const f = OPTION_FIELDS[w];
    if (f) o[f] = true;
  }
  const bytes = Buffer.from(pattern, 'utf8').toString('latin1');
  try {
    // Two passes: the first counts the capture groups, which decides whether `\12` is a backreference or octal.
    // Two passes: the first counts the capture groups (whether `\12` is a backreference or octal) and sees whether
    // caseless matching changes inside the pattern, which JS's whole-pattern `i` flag cannot express: then letters
    // are folded by hand ([aA]), which is also exactly PCRE2's ASCII-only folding.
    // Letters are folded by hand unless a backreference must compare case-insensitively, which needs JS's `i` flag
    // (and then caseless must hold for the whole pattern, and Latin-1 letters, which `i` folds, are refused).
    const first = new Translator(bytes, { ...o }, Infinity, true).run();
    const manual = first.scopedCaseless || !first.caselessBackref;
    const t = new Translator(bytes, o, first.groups, manual).run();
    return { ok: true, source: t.out, flags: t.jsCaseless ? 'i' : '' };
  } catch (e) {
    if (e instanceof PcreError) return { ok: false, error: e.message, offset: e.offset };
    throw e;
  }
}

/** translatePcre + JS compile; the error says what is wrong in the pattern the operator wrote. */
export function compilePcre(pattern: string, options: readonly string[] = []): { ok: true; regex: RegExp } | { ok: false; error: string } {
  const t = translatePcre(pattern, options);
  if (!t.ok) return { ok: false, error: `${t.error} (at offset ${t.offset})` };
  try {
    // `g` so that matchWithin can start at regex_min_offset through lastIndex (no other use of g's state).
    return { ok: true, regex: new RegExp(t.source, `${t.flags}g`) };
  } catch (e) {
    // What JS finds after a faithful translation is an error in the pattern itself (unbalanced parenthesis, …).
    return { ok: false, error: `invalid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}` };
  }
}

/**
 * keepalived's regex_min_offset / regex_max_offset: the match is searched from `minOffset` on (lookbehinds still
 * see what is before it, `^` is still the start of the body) and must start at or before `maxOffset`. The regex
 * needs the `g` flag (lastIndex is set here before each search, so it carries no state between calls).
 */
export function matchWithin(re: RegExp, subject: string, minOffset = 0, maxOffset?: number): boolean {
  if (minOffset > subject.length) return false;
  re.lastIndex = minOffset;
  const m = re.exec(subject);
  re.lastIndex = 0;
  return m !== null && (maxOffset === undefined || m.index <= maxOffset);
}

// PCRE2 stops a runaway match at its match limit; a JS regex backtracks for as long as it takes, in the checker
// process's only thread. The search runs under a vm timeout instead (V8 interrupts regex backtracking), about 20 µs
// per search.
// Made on first use: `-t` loads this module for the translation and never searches.
let bounded: { context: vm.Context; script: vm.Script } | undefined;

/** matchWithin, stopped after `timeoutMs`: 'timeout' when the search did not finish (catastrophic backtracking). */
export function matchWithinBounded(re: RegExp, subject: string, minOffset: number | undefined, maxOffset: number | undefined, timeoutMs: number): boolean | 'timeout' {
  bounded ??= { context: vm.createContext({ matchWithin }), script: new vm.Script('result = matchWithin(re, subject, minOffset, maxOffset)') };
  const { context: boundedContext, script: boundedScript } = bounded;
  Object.assign(boundedContext, { re, subject, minOffset, maxOffset, result: false });
  try {
    boundedScript.runInContext(boundedContext, { timeout: timeoutMs });
    return boundedContext.result as boolean;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'timeout';
    throw e;
  } finally {
    re.lastIndex = 0;
    Object.assign(boundedContext, { re: undefined, subject: undefined });
  }
}

function newFrame(kind: Frame['kind'], at: number, saved: Opts): Frame {
  return { kind, alts: [], cur: 0, last: 0, at, saved, minAlts: [], minCur: 0, lastMin: 0, risky: false, captures: [] };
}

/** One open group, for PCRE2's rule that a lookbehind is fixed length (JS would accept any length). */
interface Frame {
  kind: 'root' | 'group' | 'ahead' | 'behind';
  /** Options in force where the group opened: restored when it closes (PCRE2 scopes option changes to the group). */
  saved: Opts;
  /** Lengths of the finished alternatives (NaN: variable). */
  alts: number[];
  cur: number;
  /** Length of the last atom, for a following quantifier. */
  last: number;
  at: number;
  /** Minimum lengths, as `alts` / `cur` / `last`: can this group match the empty string? */
  minAlts: number[];
  minCur: number;
  lastMin: number;
  /** The group may prefer an empty match to a longer one (a lazy quantifier, an empty-able alternative first). */
  risky: boolean;
  /** The last atom was a group: its minimum length, whether it is risky, the capture groups inside it. */
  lastGroup?: { min: number; risky: boolean; captures: number[] };
  /** Capture groups opened inside this group (nested ones too), and its own number when it captures. */
  captures: number[];
  num?: number;
  negative?: boolean;
}

class Translator {
  out = '';
  groups = 0;
  /** An option setting after the start turned caseless matching on or off somewhere. */
  scopedCaseless = false;
  /** A backreference where caseless matching is on. */
  caselessBackref = false;
  /** The JS `i` flag: caseless for the whole pattern (not set when letters are folded by hand). */
  jsCaseless = false;
  private i = 0;
  private readonly frames: Frame[];
  // \R next to a quantifier (see possessR).
  private pendingR = false;
  /** ^ $ \b \B \A \Z \z: PCRE2 refuses a quantifier after them (JS would take one after its lookahead spelling). */
  private pendingAssertion = false;
  private lastAssertion = false;
  private lastWasR = false;
  private lastQuantified = false;
  /**
   * PCRE2 10.42's auto-possessification treats \R as if it could not match what `.`, \S or \N match (\r, \x0b,
   * \x0c, \x85), so `.*\R` on a body ending in a lone \r, or `\S*\R` before \x85, fail there and match in
   * JavaScript (found with pcre2test). Refused unless regex_options no_auto_possess turns that optimisation off.
   */
  private possessR(at: number): void {
    if (!this.o.noAutoPossess && !this.counting)
      this.fail('\\R next to a quantifier: PCRE2 10.42 makes one of them possessive where JavaScript backtracks (add regex_options no_auto_possess, or write (?:\\r\\n|\\n))', at);
  }
  /** Length of what the last escape / group token matches (set by the token's method). */
  private len = 1;
  private opened: Frame['kind'] | undefined;
  private openedNum: number | undefined;
  private openedNegative = false;
  private noAtom = false;
  private optionSetting = false;
  // Backreferences: PCRE2 fails one to a group that did not participate; JS matches the empty string there.
  private readonly names = new Map<string, number>();
  private readonly closedGroups = new Set<number>();
  /** Groups that may not participate where a later backreference looks (alternatives, optional, negative look). */
  private readonly uncertain = new Set<number>();
  /** Groups inside a loop: JS forgets their capture at each iteration, PCRE2 keeps the previous one. */
  private readonly iterated = new Set<number>();

  private get frame(): Frame {
    return this.frames[this.frames.length - 1]!;
  }
  /** An atom of length `len` (NaN: variable) and minimum length `min` (variable atoms: 0 unless known). */
  private atom(len: number, min = Number.isNaN(len) ? 0 : len, group?: { min: number; risky: boolean; captures: number[] }): void {
    this.lastWasR = this.pendingR;
    this.pendingR = false;
    this.lastAssertion = this.pendingAssertion;
    this.pendingAssertion = false;
    this.lastQuantified = false;
    const f = this.frame;
    f.cur += len;
    f.last = len;
    f.minCur += min;
    f.lastMin = min;
    f.lastGroup = group;
  }
  /**
   * A quantifier on the last atom: `{n}` keeps a fixed length, anything else makes it variable. `minCount`: the
   * least number of repetitions; `optional`: iterations beyond the minimum allowed; `lazy`: the effective laziness.
   */
  private quantified(exact: number | undefined, minCount: number, optional: boolean, lazy: boolean, at: number, many: boolean): void {
    const f = this.frame;
    // ECMAScript rejects an optional iteration (beyond the minimum, `?` included) that matched the empty string;
    // PCRE2 accepts it and ends the loop. The two differ when a quantified group can match empty and may prefer
    // that to consuming (found by comparing with pcre2test): refused rather than silently different.
    if (optional && f.lastGroup && f.lastGroup.min === 0 && f.lastGroup.risky && !this.counting)
      this.fail('a quantified group that can match the empty string and prefers to (a lazy quantifier or an empty-able first alternative inside): ECMAScript and PCRE2 end such loops differently', at);
    if (this.lastAssertion) this.fail('quantifier does not follow a repeatable item (an anchor, \\b or an option setting)', at);
    if (lazy) f.risky = true;
    if (f.lastGroup) {
      if (minCount === 0) for (const g of f.lastGroup.captures) this.uncertain.add(g);
      if (many) for (const g of f.lastGroup.captures) this.iterated.add(g);
    }
    // An exact count {n} has nothing to give back: possessive or not, it matches the same.
    if (this.lastWasR && optional) this.possessR(at);
    this.lastWasR = false;
    this.lastQuantified = optional;
    f.cur = exact === undefined ? NaN : f.cur - f.last + f.last * exact;
    f.last = NaN;
    f.minCur = f.minCur - f.lastMin + f.lastMin * minCount;
    f.lastMin = 0;
    f.lastGroup = undefined;
  }
  private closeGroup(): void {
    if (this.frames.length === 1) return; // unbalanced ')': JavaScript's compile reports it
    const f = this.frames.pop()!;
    f.alts.push(f.cur);
    f.minAlts.push(f.minCur);
    this.o = f.saved;
    if (f.num !== undefined) this.closedGroups.add(f.num);
    if (f.negative) for (const g of f.captures) this.uncertain.add(g);
    if (f.kind === 'behind') {
      // PCRE2 10.42: each top-level alternative of a lookbehind has a fixed length (they may differ).
      if (f.alts.some(Number.isNaN)) this.fail('lookbehind assertion is not fixed length (PCRE2 refuses it)', f.at);
      this.atom(0);
    } else if (f.kind === 'ahead') this.atom(0);
    else {
      const min = Math.min(...f.minAlts);
      if (f.risky) this.frame.risky = true;
      this.atom(f.alts.every((l) => l === f.alts[0]) ? f.alts[0]! : NaN, min, { min, risky: f.risky, captures: f.captures });
    }
  }
  /**
   * `manual`: fold letters by hand where caseless is on instead of the JS `i` flag. The counting pass
   * (totalGroups Infinity) only counts and records; it refuses nothing that depends on the mode.
   */
  constructor(private readonly p: string, private o: Opts, private readonly totalGroups: number, private readonly manual: boolean) {
    this.frames = [newFrame('root', 0, o)];
  }

  private get counting(): boolean {
    return this.totalGroups === Infinity;
  }
  /** Caseless by hand-folded letters here. */
  private get fold(): boolean {
    return this.manual && this.o.caseless;
  }
  /** A char outside a class: folded to [xX] where caseless is done by hand. */
  private lit(c: number): string {
    const other = otherCase(c);
    return this.fold && other !== undefined ? `[${String.fromCharCode(c)}${String.fromCharCode(other)}]` : litOut(c);
  }

  private fail(what: string, at = this.i): never {
    throw new PcreError(what, at);
  }
  private code(c: number): void {
    if (this.jsCaseless && foldsDiffer(c, c)) this.caselessFail();
  }
  private caselessFail(): never {
    this.fail('caseless matching of a Latin-1 letter (byte 0xc0-0xfe): JavaScript folds those letters, keepalived\'s PCRE2 only folds ASCII');
  }

  run(): this {
    this.leadingOptions();
    this.jsCaseless = !this.manual && this.o.caseless && !this.counting;
    this.frames[0]!.saved = { ...this.o };
    const p = this.p;
    while (this.i < p.length) {
      const c = p[this.i]!;
      if (this.o.extended && /[ \t\n\v\f\r]/.test(c)) { this.i++; continue; }
      if (this.o.extended && c === '#') { const nl = p.indexOf('\n', this.i); this.i = nl < 0 ? p.length : nl + 1; continue; }
      const at = this.i++;
      switch (c) {
        case '\\': this.len = 1; this.out += this.escapeOutside(); this.atom(this.len); break;
        case '[': {
          const cls = this.charClass(at);
          this.out += cls;
          // allow_empty_class's [] and [^]: PCRE2 counts them as variable length (in a lookbehind: an error).
          this.atom(cls === '[]' || cls === '[\\s\\S]' ? NaN : 1, 1);
          break;
        }
        case '(': {
          this.len = 1;
          this.opened = undefined;
          this.noAtom = false;
          this.optionSetting = false;
          this.openedNum = undefined;
          this.openedNegative = false;
          const saved = { ...this.o };
          this.out += this.group(at);
          if (this.opened) {
            const f = newFrame(this.opened, at, saved);
            f.negative = this.openedNegative;
            this.frames.push(f);
            if (this.openedNum !== undefined) {
              f.num = this.openedNum;
              for (const g of this.frames) g.captures.push(this.openedNum);
            }
          }
          else if (!this.noAtom) this.atom(this.len); // (?P=name); (?#…) is not an atom: a quantifier after it applies to what precedes
          if (this.optionSetting) this.lastAssertion = true; // PCRE2 refuses a quantifier right after (?i)
          break;
        }
        case ')':
          // A lookbehind is emitted inside (?:…) so that a quantifier after it stays valid JS (PCRE2 allows one).
          this.out += this.frames.length > 1 && this.frame.kind === 'behind' ? '))' : ')';
          this.closeGroup();
          break;
        case '|': {
          const f = this.frame;
          this.out += c;
          // An alternative that can match empty, tried before another one: the group may prefer empty.
          if (f.minCur === 0) f.risky = true;
          // Groups of the alternatives so far may not participate in what follows.
          for (const g of f.captures) this.uncertain.add(g);
          f.alts.push(f.cur);
          f.minAlts.push(f.minCur);
          f.cur = 0;
          f.last = 0;
          f.minCur = 0;
          f.lastMin = 0;
          f.lastGroup = undefined;
          break;
        }
        case '.': this.out += this.o.dotall ? '[\\s\\S]' : '[^\\n]'; this.atom(1); break;
        case '^':
          this.out += !this.o.multiline ? '^' : this.o.altCircumflex ? '(?:^|(?<=\\n))' : '(?:^|(?<=\\n)(?=[\\s\\S]))';
          this.pendingAssertion = true;
          this.atom(0);
          break;
        case '$':
          this.out += this.o.multiline ? '(?=\\n|$)' : this.o.dollarEndonly ? '$' : '(?=\\n?$)';
          this.pendingAssertion = true;
          this.atom(0);
          break;
        case '*': case '+': case '?': {
          const suffix = this.quantifierSuffix();
          this.out += c + suffix;
          this.quantified(undefined, c === '+' ? 1 : 0, true, suffix === '?', at, c !== '?');
          break;
        }
        case '{': {
          const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(p.slice(at));
          if (m) {
            this.i = at + m[0].length;
            const suffix = this.quantifierSuffix();
            this.out += m[0] + suffix;
            const lo = Number(m[1]);
            const optional = !!m[2] && (m[3] === '' || Number(m[3]) > lo);
            this.quantified(!m[2] || m[3] === m[1] ? lo : undefined, lo, optional, suffix === '?', at, m[2] ? m[3] === '' || Number(m[3]) > 1 : lo > 1);
          } else {
            this.out += '\\{';
            this.atom(1);
          }
          break;
        }
        default: {
          const cc = c.charCodeAt(0);
          this.code(cc);
          this.out += this.lit(cc);
          this.atom(1);
        }
      }
    }
    return this;
  }

  /** `(?i)` `(?im)` `(?x-s)` … at the very start: options of the whole pattern. */
  private leadingOptions(): void {
    for (;;) {
      const m = /^\(\?([A-Za-z]*)(?:-([A-Za-z]*))?\)/.exec(this.p.slice(this.i));
      if (!m || (!m[1] && m[2] === undefined)) {
        if (/^\(\*/.test(this.p.slice(this.i))) this.fail(`PCRE2 start-of-pattern option or backtracking verb ${this.p.slice(this.i).match(/^\(\*[^)]*\)?/)![0]} has no JavaScript equivalent`);
        return;
      }
      this.applyOptions(m[1]!, m[2] ?? '', m[0]);
      this.i += m[0].length;
    }
  }

  /** `(?on-off)` letters: i m s x n U, as the options of the rest of the enclosing group. */
  private applyOptions(on: string, off: string, text: string): void {
    for (const [letters, value] of [[on, true], [off, false]] as const) {
      for (const l of letters) {
        const f = ({ i: 'caseless', m: 'multiline', s: 'dotall', x: 'extended', n: 'noAutoCapture', U: 'ungreedy' } as Record<string, keyof Opts>)[l];
        if (!f) this.fail(`PCRE2 inline option letter '${l}' in ${text} has no JavaScript equivalent`);
        this.o[f] = value;
      }
    }
  }

  /** After `*` `+` `?` `{n,m}`: lazy `?` (swapped by ungreedy), possessive `+` refused. */
  private quantifierSuffix(): string {
    const next = this.p[this.i];
    if (next === '+') this.fail(`possessive quantifier '${this.p[this.i - 1]}+' (JavaScript has none; drop the '+' only if backtracking does not change the match)`);
    const lazy = next === '?';
    if (lazy) this.i++;
    return lazy !== this.o.ungreedy ? '?' : '';
  }

  private group(at: number): string {
    const rest = this.p.slice(this.i);
    if (rest[0] === '*') this.fail(`PCRE2 backtracking verb or (*…) assertion ${this.p.slice(at).match(/^\(\*[^)]*\)?/)![0]} has no JavaScript equivalent`, at);
    if (rest[0] !== '?') {
      this.opened = 'group';
      if (this.o.noAutoCapture) return '(?:';
      this.openedNum = ++this.groups;
      return '(';
    }
    let m: RegExpExecArray | null;
    if ((m = /^\?(:|=|!|<=|<!)/.exec(rest))) {
      this.i += m[0].length;
      this.opened = m[1] === ':' ? 'group' : m[1]!.startsWith('<') ? 'behind' : 'ahead';
      this.openedNegative = m[1]!.endsWith('!');
      return this.opened === 'behind' ? `(?:(${m[0]}` : `(${m[0]}`;
    }
    if ((m = /^\?(?:P?<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')/.exec(rest))) {
      this.i += m[0].length;
      this.openedNum = ++this.groups;
      this.names.set(m[1] ?? m[2]!, this.openedNum);
      this.opened = 'group';
      return `(?<${m[1] ?? m[2]}>`;
    }
    if ((m = /^\?#[^)]*\)/.exec(rest))) { this.i += m[0].length; this.noAtom = true; return ''; }
    const named: Array<[RegExp, string]> = [
      [/^\?>/, 'atomic group (?>…)'],
      [/^\?\|/, 'branch-reset group (?|…)'],
      [/^\?(?:R|[+-]?\d+)\)/, 'recursion / subroutine call'],
      [/^\?(?:&|P>)/, 'named subroutine call'],
      [/^\?\(/, 'conditional group (?(…)…)'],
      [/^\?C/, 'callout (?C…)'],
      [/^\?\^/, 'option reset (?^…)'],
    ];
    for (const [re, what] of named) {
      const mm = re.exec(rest);
      if (mm) this.fail(`${what}: '(${mm[0]}' has no JavaScript equivalent`, at);
    }
    // Option settings inside the pattern: (?i) for the rest of the enclosing group, (?i:…) for the group's body.
    // Everything they change is spelled out per token, and caseless is then folded by hand.
    if ((m = /^\?([A-Za-z]*)(?:-([A-Za-z]*))?([:)])/.exec(rest)) && (m[1] || m[2] !== undefined)) {
      const text = `(${m[0]}`;
      if (/i/.test(m[1]! + (m[2] ?? ''))) this.scopedCaseless = true;
      this.applyOptions(m[1]!, m[2] ?? '', m[3] === ':' ? `${text}…)` : text);
      this.i += m[0].length;
      if (m[3] === ':') { this.opened = 'group'; return '(?:'; }
      this.noAtom = true;
      this.optionSetting = true;
      return '';
    }
    if ((m = /^\?P=([A-Za-z_]\w*)\)/.exec(rest))) { this.noBackrefInLookbehind(at); this.participates(this.names.get(m[1]!), at); this.i += m[0].length; this.len = NaN; return `\\k<${m[1]}>`; }
    return this.fail(`unknown group syntax '(${rest.slice(0, 3)}'`, at);
  }

  /** JS runs a lookbehind right to left, so a backreference in it may see its group unset where PCRE2 does not. */
  private noBackrefInLookbehind(at: number): void {
    if (this.o.caseless) this.caselessBackref = true;
    if (this.fold && !this.counting) this.fail('backreference with caseless matching set inside the pattern (JavaScript compares backreferences case-insensitively only with the i flag for the whole pattern; put (?i) at the very start)', at);
    if (this.frames.some((f) => f.kind === 'behind')) this.fail('backreference inside a lookbehind (JavaScript matches lookbehinds right to left, so the result would differ)', at);
  }

  /**
   * A backreference must see what PCRE2 sees: refused when its group may not have participated (unless
   * regex_options match_unset_backref, whose meaning is JavaScript's), is still open, or may be forgotten by a loop.
   */
  private participates(n: number | undefined, at: number): void {
    if (this.counting) return;
    if (n === undefined) this.fail('backreference to a group name defined later in the pattern (or not at all)', at);
    if (!this.closedGroups.has(n)) this.fail(`backreference to group ${n} before or inside that group (PCRE2 and JavaScript differ there)`, at);
    if (!this.uncertain.has(n)) return;
    if (this.iterated.has(n)) this.fail(`backreference to group ${n}, which a loop may leave unset in its last iteration (JavaScript forgets the capture, PCRE2 keeps the previous one)`, at);
    if (!this.o.matchUnsetBackref) this.fail(`backreference to group ${n}, which may not have participated (PCRE2 then fails, JavaScript matches the empty string; add regex_options match_unset_backref if that is meant)`, at);
  }

  private backref(n: number, at: number): string {
    this.noBackrefInLookbehind(at);
    if (n > this.totalGroups) this.fail(`backreference \\${n} to a group that does not exist`, at);
    this.participates(n, at);
    this.len = NaN;
    return `(?:\\${n})`;
  }

  /** Escapes valid both outside and inside a class that stand for one char; undefined when not one of those. */
  private charEscape(e: string, at: number, inClass: boolean): number | undefined {
    const p = this.p;
    switch (e) {
      case 'a': return 0x07;
      case 'e': return 0x1b;
      case 'f': return 0x0c;
      case 'n': return 0x0a;
      case 'r': return 0x0d;
      case 't': return 0x09;
      case 'x': {
        const m = /^\{([0-9A-Fa-f]+)\}|^[0-9A-Fa-f]{0,2}/.exec(p.slice(this.i))!;
        this.i += m[0].length;
        const v = parseInt(m[1] ?? (m[0] || '0'), 16);
        if (v > 0xff) this.fail(`character code \\x{${m[1]}} above 0xff (the body is matched byte by byte)`, at);
        return v;
      }
      case 'o': {
        const m = /^\{([0-7]+)\}/.exec(p.slice(this.i));
        if (!m) this.fail('\\o must be followed by {octal digits}', at);
        this.i += m[0].length;
        const v = parseInt(m[1]!, 8);
        if (v > 0xff) this.fail(`character code \\o{${m[1]}} above 0xff`, at);
        return v;
      }
      case 'c': {
        const x = p.charCodeAt(this.i++);
        if (!(x >= 0x20 && x < 0x7f)) this.fail('\\c must be followed by a printable ASCII character', at);
        return (x >= 0x61 && x <= 0x7a ? x - 0x20 : x) ^ 0x40;
      }
    }
    if (/[0-9]/.test(e)) {
      // Octal, or a backreference outside a class (PCRE2's rule: \1-\9 always, \10+ only when that many groups exist).
      const digits = /^[0-9]*/.exec(p.slice(this.i))![0];
      const all = e + digits;
      if (!inClass && e !== '0') {
        const n = Number(all);
        if (n < 10 || n <= this.totalGroups) return undefined;
      }
      if (inClass && (e === '8' || e === '9')) return e.charCodeAt(0);
      const oct = /^[0-7]{1,3}/.exec(all)?.[0];
      if (!oct) this.fail(`\\${all}: neither a backreference nor an octal escape`, at);
      this.i += oct.length - 1;
      const v = parseInt(oct, 8);
      if (v > 0xff) this.fail(`octal escape \\${oct} above 0xff`, at);
      return v;
    }
    if (!/[A-Za-z]/.test(e)) return e.charCodeAt(0); // escaped punctuation, space, any non-ASCII byte: itself
    return undefined;
  }

  private escapeOutside(): string {
    const at = this.i - 1;
    const p = this.p;
    if (this.i >= p.length) this.fail('\\ at end of pattern', at);
    const e = p[this.i++]!;
    const ch = this.charEscape(e, at, false);
    if (ch !== undefined) { this.code(ch); return this.lit(ch); }
    if (/[1-9]/.test(e)) {
      const digits = e + /^[0-9]*/.exec(p.slice(this.i))![0];
      this.i += digits.length - 1;
      return this.backref(Number(digits), at);
    }
    switch (e) {
      case 'd': case 'D': case 'w': case 'W': return `\\${e}`;
      case 'b': case 'B': this.len = 0; this.pendingAssertion = true; return `\\${e}`;
      case 's': return `[${SPACE}]`;
      case 'S': return `[^${SPACE}]`;
      case 'h': return `[${HSPACE}]`;
      case 'H': return `[^${HSPACE}]`;
      case 'v': return `[${VSPACE}]`;
      case 'V': return `[^${VSPACE}]`;
      // \R is atomic in PCRE2: once it took \r\n it never gives back the \n, so a lone \r must not precede \n.
      case 'R':
        if (this.lastQuantified) this.possessR(at);
        this.pendingR = true;
        this.len = NaN;
        return `(?:\\r\\n|(?!\\r\\n)[${VSPACE}])`;
      case 'N':
        if (p.startsWith('{U+', this.i)) this.fail('\\N{U+hhhh} is only valid in UTF mode (keepalived compiles without UTF)', at);
        return '[^\\n]';
      case 'A': this.len = 0; this.pendingAssertion = true; return '^';
      case 'Z': this.len = 0; this.pendingAssertion = true; return '(?=\\n?$)';
      case 'z': this.len = 0; this.pendingAssertion = true; return '$';
      case 'Q': return this.quoted(false);
      case 'E': this.len = 0; return '';
      case 'g': {
        const m = /^(?:\{(-?\d+)\}|(-?\d+)|\{([A-Za-z_]\w*)\})/.exec(p.slice(this.i));
        if (!m) this.fail(`subroutine call '\\g${p.slice(this.i, this.i + 2)}' has no JavaScript equivalent`, at);
        this.i += m[0].length;
        this.len = NaN;
        if (m[3]) { this.noBackrefInLookbehind(at); this.participates(this.names.get(m[3]), at); return `\\k<${m[3]}>`; }
        const n = Number(m[1] ?? m[2]);
        if (n === 0) this.fail('\\g0 is not a backreference', at);
        return this.backref(n < 0 ? this.groups + n + 1 : n, at);
      }
      case 'k': {
        const m = /^(?:<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)'|\{([A-Za-z_]\w*)\})/.exec(p.slice(this.i));
        if (!m) this.fail('\\k must be followed by <name>, \'name\' or {name}', at);
        this.i += m[0].length;
        this.len = NaN;
        this.noBackrefInLookbehind(at);
        this.participates(this.names.get(m[1] ?? m[2] ?? m[3]!), at);
        return `\\k<${m[1] ?? m[2] ?? m[3]}>`;
      }
    }
    return this.unsupportedEscape(e, at);
  }

  private unsupportedEscape(e: string, at: number): never {
    const what: Record<string, string> = {
      p: 'Unicode property \\p', P: 'Unicode property \\P', X: 'extended grapheme \\X', C: 'single code unit \\C',
      G: 'first-match-position assertion \\G', K: 'match-start reset \\K', u: '\\u (not PCRE2 syntax without alt_bsux)',
      U: '\\U', l: '\\l', L: '\\L',
    };
    return this.fail(what[e] ? `${what[e]} has no JavaScript equivalent` : `unrecognized escape \\${e}`, at);
  }

  /** \Q…\E: every char literal. */
  private quoted(inClass: boolean): string {
    const end = this.p.indexOf('\\E', this.i);
    const text = this.p.slice(this.i, end < 0 ? this.p.length : end);
    this.i = end < 0 ? this.p.length : end + 2;
    let s = '';
    for (const ch of text) { const c = ch.charCodeAt(0); this.code(c); s += inClass ? hex2(c) : this.lit(c); }
    // \Q…\E of n chars is n atoms: a quantifier after it applies to the last char only, like PCRE2.
    if (text.length) { this.atom(text.length - 1); }
    this.len = text.length ? 1 : 0;
    return s;
  }

  private charClass(at: number): string {
    const p = this.p;
    let neg = false;
    if (p[this.i] === '^') { neg = true; this.i++; }
    type Item = { code?: number; src: string; bareDash?: boolean };
    const items: Item[] = [];
    // A leading ']' is a literal in PCRE2 (JS would read '[]' as the empty class) unless allow_empty_class.
    while (p.startsWith('\\E', this.i) || p.startsWith('\\Q\\E', this.i)) this.i += p.startsWith('\\E', this.i) ? 2 : 4;
    if (p[this.i] === ']' && !this.o.allowEmptyClass) { items.push({ code: 0x5d, src: '\\]' }); this.i++; }
    for (;;) {
      if (this.i >= p.length) this.fail('missing terminating ] for character class', at);
      const c = p[this.i++]!;
      if (c === ']') break;
      if (c === '[') {
        const m = /^:(\^?)([a-z]+):\]/.exec(p.slice(this.i));
        if (m) {
          if (m[1]) this.fail(`negated POSIX class [:^${m[2]}:] inside a class has no JavaScript equivalent`, this.i - 1);
          // Caseless, [:upper:] and [:lower:] match both cases in PCRE2.
          const set = this.fold && (m[2] === 'upper' || m[2] === 'lower') ? 'A-Za-z' : POSIX[m[2]!];
          if (!set) this.fail(`unknown POSIX class name [:${m[2]}:]`, this.i - 1);
          this.i += m[0].length;
          items.push({ src: set });
          continue;
        }
        items.push({ code: 0x5b, src: '\\[' });
        continue;
      }
      if (c === '\\') {
        const eat = this.i - 1;
        if (this.i >= p.length) this.fail('\\ at end of pattern', eat);
        const e = p[this.i++]!;
        if (e === 'b') { items.push({ code: 8, src: '\\x08' }); continue; }
        const ch = this.charEscape(e, eat, true);
        if (ch !== undefined) { items.push({ code: ch, src: hex2(ch) }); continue; }
        const sets: Record<string, string> = {
          d: '\\d', D: '\\D', w: '\\w', W: '\\W', s: SPACE, S: NOT_SPACE_RANGES, h: HSPACE, H: NOT_HSPACE_RANGES, v: VSPACE, V: NOT_VSPACE_RANGES,
        };
        if (sets[e]) {
          if (this.jsCaseless && (e === 'S' || e === 'H' || e === 'V')) this.caselessFail();
          items.push({ src: sets[e]! });
          continue;
        }
        if (e === 'Q') {
          const end = p.indexOf('\\E', this.i);
          const text = p.slice(this.i, end < 0 ? p.length : end);
          this.i = end < 0 ? p.length : end + 2;
          for (const t of text) items.push({ code: t.charCodeAt(0), src: hex2(t.charCodeAt(0)) });
          continue;
        }
        if (e === 'E') continue;
        if (/[NRABZzXGK]/.test(e)) this.fail(`escape \\${e} is not allowed in a character class`, eat);
        this.unsupportedEscape(e, eat);
      }
      const cc = c.charCodeAt(0);
      items.push(c === '-' ? { code: cc, src: '\\-', bareDash: true } : { code: cc, src: hex2(cc) });
    }
    let s = '';
    for (let k = 0; k < items.length; k++) {
      const a = items[k]!;
      const dash = items[k + 1];
      const b = items[k + 2];
      if (dash?.bareDash && b && (a.code === undefined || b.code === undefined) && !a.bareDash) this.fail('invalid range in character class (a class escape such as \\d cannot end a range)', at);
      if (a.code !== undefined && dash?.bareDash && b?.code !== undefined && !a.bareDash) {
        if (b.code < a.code) this.fail('range out of order in character class', at);
        if (this.jsCaseless && foldsDiffer(a.code, b.code)) this.caselessFail();
        s += `${a.src}-${b.src}`;
        if (this.fold) s += foldedRanges(a.code, b.code);
        k += 2;
        continue;
      }
      if (a.code !== undefined) this.code(a.code);
      s += a.src;
      const other = a.code === undefined ? undefined : otherCase(a.code);
      if (this.fold && other !== undefined) s += hex2(other);
    }
    if (!items.length) return neg ? '[\\s\\S]' : '[]';
    return `[${neg ? '^' : ''}${s}]`;
  }
}
