// The two lexers of the config reader.
//  * wordLexer (moo) splits one logical line into words and "quoted strings", as keepalived's alloc_strvec_r():
//    words end at blanks or at a `"`; a quoted string is one word without its quotes; an unmatched `"` is reported.
//  * StatementLexer feeds nearley the block structure: `head` (a keyword line followed by `{`), `open`, `close`,
//    `lines` (a maximal run of keyword lines without blocks) and `leaf` (a block of plain lines only). Folding
//    keeps the token count — and nearley's per-token work — small: the benchmark config (97,000 logical lines) is 54,000
//    tokens.
import { createRequire } from 'node:module';
import type mooModule from 'moo';

// required, not imported: see parse.ts (nearley) for why.
const moo = createRequire(import.meta.url)('moo') as typeof mooModule;

/**
 * Blanks before a word are part of its token (`leadingBlanks` tells how many): half the token objects of a
 * separate whitespace token, which matters on 100,000-line configs. `ws` only matches trailing blanks.
 */
export const wordLexer = moo.compile({
  word: /[ \t\f\v\r]*[^ \t\f\v\r\n"]+/,
  qstring: /[ \t\f\v\r]*"[^"\n]*"/,
  unmatched: /[ \t\f\v\r]*"[^"\n]*/,
  ws: { match: /[ \t\f\v\r\n]+/, lineBreaks: true },
});

export function leadingBlanks(text: string): number {
  let i = 0;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\f' || text[i] === '\v' || text[i] === '\r')) i++;
  return i;
}

export type StatementKind = 'line' | 'open' | 'close';

export interface StatementToken {
  type: 'head' | 'lines' | 'leaf' | 'open' | 'close';
  value: string;
  text: string;
  /** Index of the (first) statement in the checked statement stream. */
  index: number;
  /** Number of statements the token stands for (> 1 only for `lines`). */
  count: number;
  line: number;
  col: number;
  offset: number;
  lineBreaks: number;
}

/** nearley's lexer interface over kinds[from, to) (an explicit object: nearley calls these methods). */
export class StatementLexer {
  private i: number;
  constructor(
    private readonly kinds: readonly StatementKind[],
    private readonly from = 0,
    private readonly to = kinds.length,
  ) {
    this.i = from;
  }
  reset(_chunk?: string, state?: { i: number }): void {
    this.i = state ? state.i : this.from;
  }
  next(): StatementToken | undefined {
    if (this.i >= this.to) return undefined;
    const index = this.i;
    const k = this.kinds[index]!;
    let type: StatementToken['type'] = k === 'line' ? 'lines' : k;
    let end = index + 1;
    if (k === 'line') {
      if (end < this.to && this.kinds[end] === 'open') {
        type = 'head';
        // A block of plain lines only (`TCP_CHECK { … }`, `virtual_ipaddress { … }`) is one `leaf` token.
        let j = end + 1;
        while (j < this.to && this.kinds[j] === 'line') j++;
        if (j < this.to && this.kinds[j] === 'close') {
          type = 'leaf';
          end = j + 1;
        }
      }
      else while (end < this.to && this.kinds[end] === 'line' && !(end + 1 < this.to && this.kinds[end + 1] === 'open')) end++;
    }
    this.i = end;
    return { type, value: type, text: type, index, count: end - index, line: index, col: 0, offset: index, lineBreaks: 0 };
  }
  save(): { i: number } {
    return { i: this.i };
  }
  formatError(token: StatementToken | undefined, message = 'Syntax error'): string {
    return token ? `${message} at statement ${token.index} (${token.type})` : message;
  }
  has(type: string): boolean {
    return type === 'head' || type === 'lines' || type === 'leaf' || type === 'open' || type === 'close';
  }
}
