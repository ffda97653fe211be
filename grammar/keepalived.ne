# keepalived.conf block structure over logical lines: `keyword args… [{ block }]`.
# Tokens come from StatementLexer (src/config/line-lexer.ts): `head` = a keyword line followed by `{`, `open` /
# `close` = braces (the preprocessor put each on a logical line of its own), `lines` = a maximal run of keyword
# lines without a block, `leaf` = a whole block that holds plain lines only (`TCP_CHECK { … }`): like folding
# whitespace runs, folding these keeps nearley's per-token work (its cost) small. The brace checker in parse.ts
# repairs the stream first (extra '}', '{' with no keyword, missing '}'), so every input has exactly one parse:
# the list is left-recursive, a `head` is always followed by `open`, two `lines` tokens are never adjacent, and
# the lexer's choice between `leaf` and `head` is deterministic.
@preprocessor typescript

@{%
import { StatementLexer } from './line-lexer.js';
import type { StatementToken } from './line-lexer.js';

/** A `lines` or `leaf` token on its own, or `head` + `open` + `body` + `close`. */
export interface RawStatement {
  head: StatementToken;
  open?: StatementToken;
  body?: StatementList;
  close?: StatementToken;
}
/** A persistent (cons) list, newest first: Earley may extend one prefix in several ways, so never mutate. */
export type StatementList = { prev: StatementList; last: RawStatement } | null;

// Stands for the token types only: parse.ts gives every Parser its own StatementLexer over the real stream.
const lexer = new StatementLexer([]);
%}

@lexer lexer

main -> statements {% id %}

statements -> null {% () => null %}
  | statements statement {% ([prev, last]) => ({ prev, last }) as StatementList %}

statement -> %lines {% ([head]) => ({ head }) as RawStatement %}
  | %leaf {% ([head]) => ({ head }) as RawStatement %}
  | %head %open statements %close {% ([head, open, body, close]) => ({ head, open, body, close }) as RawStatement %}
