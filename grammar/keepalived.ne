# keepalived.conf block structure over logical lines: `keyword args… [{ block }]`.
# Tokens come from StatementLexer (src/config/line-lexer.ts): one `line` token per logical line of words, and
# `open` / `close` for braces, which the preprocessor already put on logical lines of their own. The brace checker
# in parse.ts repairs the stream first (extra '}', '{' with no keyword, missing '}'), so every input has exactly
# one parse: a statement list is left-recursive, and a `line` followed by `open` can only be a block because no
# statement starts with `open`.
@preprocessor typescript

@{%
import { StatementLexer } from './line-lexer.js';
import type { StatementToken } from './line-lexer.js';

export interface RawStatement {
  head: StatementToken;
  open?: StatementToken;
  body?: StatementList;
  close?: StatementToken;
}
/** A persistent (cons) list, newest first: Earley may extend one prefix in several ways, so never mutate. */
export type StatementList = { prev: StatementList; last: RawStatement } | null;

const lexer = new StatementLexer([]);
%}

@lexer lexer

main -> statements {% id %}

statements -> null {% () => null %}
  | statements statement {% ([prev, last]) => ({ prev, last }) as StatementList %}

statement -> %line {% ([head]) => ({ head }) as RawStatement %}
  | %line %open statements %close {% ([head, open, body, close]) => ({ head, open, body, close }) as RawStatement %}
