// The two lexers of the config reader.
//  * wordLexer (moo) splits one logical line into words and "quoted strings", as keepalived's alloc_strvec_r():
//    words end at blanks or at a `"`; a quoted string is one word without its quotes; an unmatched `"` is reported.
//  * StatementLexer feeds nearley one token per logical line (`line`, `open` = `{`, `close` = `}`), so the grammar
//    only decides the block structure and a 100,000-line config parses in a few tens of milliseconds.
import moo from 'moo';
import type { LogicalLine } from './preprocess.js';

export const wordLexer = moo.compile({
  ws: { match: /[ \t\f\v\r\n]+/, lineBreaks: true },
  qstring: { match: /"[^"]*"/, lineBreaks: true },
  unmatched: { match: /"[^"]*/, lineBreaks: true },
  word: /[^ \t\f\v\r\n"]+/,
});

export interface StatementToken {
  type: 'line' | 'open' | 'close';
  value: string;
  text: string;
  /** Index of the logical line in the preprocessor's output. */
  index: number;
  line: number;
  col: number;
  offset: number;
  lineBreaks: number;
}

/** nearley's lexer interface over an array of logical lines (an explicit object: nearley calls these methods). */
export class StatementLexer {
  private i = 0;
  constructor(private readonly lines: readonly LogicalLine[]) {}
  reset(_chunk?: string, state?: { i: number }): void {
    this.i = state ? state.i : 0;
  }
  next(): StatementToken | undefined {
    const l = this.lines[this.i];
    if (!l) return undefined;
    const index = this.i++;
    return { type: l.kind === 'words' ? 'line' : l.kind, value: l.text.s, text: l.text.s, index, line: l.text.line, col: l.text.colAt(0), offset: index, lineBreaks: 0 };
  }
  save(): { i: number } {
    return { i: this.i };
  }
  formatError(token: StatementToken | undefined, message = "Syntax error"): string {
    return token ? `${message} at line ${token.line} col ${token.col}: ${JSON.stringify(token.text)}` : message;
  }
  has(type: string): boolean {
    return type === 'line' || type === 'open' || type === 'close';
  }
}
