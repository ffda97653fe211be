// The generic syntax tree every keepalived.conf reduces to: `keyword args… [{ block }]`.
// The preprocessor and grammar produce it; the model (model/*.ts) interprets it. Every node keeps its position.

/** A position in a source file (1-based line and column, as editors show them). */
export interface Loc {
  file: string;
  line: number;
  col: number;
}

export interface Arg {
  /** Argument text with quotes removed. */
  text: string;
  /** True when it was written in double quotes (keepalived's scripts re-tokenise quoted strings). */
  quoted: boolean;
  loc: Loc;
}

export interface ConfigNode {
  keyword: string;
  loc: Loc;
  args: Arg[];
  /** Present when the keyword opened a `{ … }` block (possibly empty). */
  block?: ConfigNode[];
  /** Where the block's `{` stood, when there is a block. */
  blockLoc?: Loc;
  /**
   * For keywords whose value keepalived re-tokenises shell-style (notify*, script, misc_path, quorum_up/down, …):
   * the raw text after the keyword, up to the end of the logical line, as written (quotes kept).
   */
  rawArgs?: string;
}
