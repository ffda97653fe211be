// Text that remembers where each character came from, so tokens keep file/line/column through comment removal,
// `$NAME` substitution and `~SEQ` expansion. Most lines are never rewritten in the middle: they keep a plain
// column offset and only lines that were edited carry a per-character column table.

export class PosText {
  constructor(
    readonly s: string,
    readonly file: string,
    readonly line: number,
    /** 1-based column of s[0] when `cols` is null. */
    private readonly base: number,
    /** Column of every character, when the text was edited in the middle. */
    private readonly cols: readonly number[] | null = null,
  ) {}

  static of(s: string, file: string, line: number, col = 1): PosText {
    return new PosText(s, file, line, col);
  }

  /** Column of character i (one past the end maps to just after the last character). */
  colAt(i: number): number {
    if (!this.cols) return this.base + i;
    if (this.cols.length === 0) return this.base;
    if (i < this.cols.length) return this.cols[i]!;
    return this.cols[this.cols.length - 1]! + 1;
  }

  get length(): number {
    return this.s.length;
  }

  slice(a: number, b = this.s.length): PosText {
    if (a === 0 && b === this.s.length) return this;
    if (!this.cols) return new PosText(this.s.slice(a, b), this.file, this.line, this.base + a);
    const cols = this.cols.slice(a, b);
    return new PosText(this.s.slice(a, b), this.file, this.line, cols.length ? cols[0]! : this.colAt(a), cols);
  }

  /** Strips spaces and tabs (keepalived's notion of blanks for line edges). */
  trimBlanks(): PosText {
    let a = 0;
    let b = this.s.length;
    while (a < b && (this.s[a] === ' ' || this.s[a] === '\t')) a++;
    while (b > a && (this.s[b - 1] === ' ' || this.s[b - 1] === '\t')) b--;
    return this.slice(a, b);
  }

  trimEndBlanks(): PosText {
    let b = this.s.length;
    while (b > 0 && (this.s[b - 1] === ' ' || this.s[b - 1] === '\t')) b--;
    return this.slice(0, b);
  }

  private allCols(): number[] {
    if (this.cols) return this.cols.slice();
    const out = new Array<number>(this.s.length);
    for (let i = 0; i < out.length; i++) out[i] = this.base + i;
    return out;
  }

  /** Replaces s[a, b) with `text`; every inserted character is attributed to column `atCol`. */
  splice(a: number, b: number, text: string, atCol: number): PosText {
    const cols = this.allCols();
    const ins = new Array<number>(text.length).fill(atCol);
    cols.splice(a, b - a, ...ins);
    return new PosText(this.s.slice(0, a) + text + this.s.slice(b), this.file, this.line, cols[0] ?? atCol, cols);
  }

  /** Removes the single character at i. */
  remove(i: number): PosText {
    const cols = this.allCols();
    cols.splice(i, 1);
    return new PosText(this.s.slice(0, i) + this.s.slice(i + 1), this.file, this.line, cols[0] ?? this.base, cols);
  }

  append(ch: string): PosText {
    const cols = this.allCols();
    cols.push(this.colAt(this.s.length));
    return new PosText(this.s + ch, this.file, this.line, cols[0] ?? this.base, cols);
  }
}
