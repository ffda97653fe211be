// Shell-like re-tokenisation of script keyword values (notify*, script, misc_path, …). keepalived does it in two
// stages (keepalived/core/notify.c notify_script_init → set_script_params_array):
//  1. the raw line is split by alloc_strvec_quoted(): blanks separate words, '…' and "…" group (quotes removed,
//     may sit inside a word), a backslash keeps itself and the next character. Word 1 is the command string,
//     words 2 and 3 the optional user and group.
//  2. the command string is split again by alloc_strvec_quoted_escaped(): the same quoting, plus escapes
//     \a \b \E \f \n \r \t \v, \nnn (octal, up to 3 digits), \xXX (up to 2 hex digits), \cC (control char) and
//     \C = C for anything else, inside single and double quotes alike.
// So `notify /bin/x arg` runs /bin/x as user "arg"; a command with arguments must be quoted.

const BLANK = ' \t\n\r\f\v';

export interface ScriptWords {
  words: string[];
  /** Set when keepalived would reject the whole string (it then keeps no words at all). */
  error?: { code: 'unmatched-quote' | 'trailing-backslash'; message: string };
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
};

const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const isOct = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';

/** Stage 2 (alloc_strvec_quoted_escaped): the words of a command string, escapes applied. */
export function scanScriptLine(raw: string): ScriptWords {
  return scanWords(raw, true);
}

/** Stage 1 (alloc_strvec_quoted): quoting only; a backslash and the character after it are kept as written. */
export function scanQuotedWords(raw: string): ScriptWords {
  return scanWords(raw, false);
}

export interface ScriptKeyword {
  /** argv of the script (stage 2 words of the command string); empty on error. */
  argv: string[];
  user?: string;
  group?: string;
  error?: ScriptWords['error'];
}

/** What keepalived makes of a script keyword's value (`rawArgs` of the node): argv, and the optional user/group. */
export function parseScriptKeyword(rawArgs: string): ScriptKeyword {
  const outer = scanQuotedWords(rawArgs);
  if (outer.error) return { argv: [], error: outer.error };
  if (!outer.words.length) return { argv: [] };
  const inner = scanScriptLine(outer.words[0]!);
  const cmd: ScriptKeyword = { argv: inner.words };
  if (inner.error) cmd.error = inner.error;
  if (outer.words.length > 1) cmd.user = outer.words[1];
  if (outer.words.length > 2) cmd.group = outer.words[2];
  return cmd;
}

function scanWords(raw: string, escapes: boolean): ScriptWords {
  const words: string[] = [];
  let i = 0;
  const n = raw.length;
  while (i < n) {
    while (i < n && BLANK.includes(raw[i]!)) i++;
    if (i >= n) break;
    let word = '';
    let quote = '';
    while (i < n) {
      const c = raw[i]!;
      if (c === '\\') {
        i++;
        if (i >= n) {
          return { words: [], error: { code: 'trailing-backslash', message: `Missing escape char at end: '${raw}'` } };
        }
        const e = raw[i]!;
        if (!escapes) {
          word += '\\' + e;
          i++;
        } else if (e === 'x' && isHex(raw[i + 1])) {
          let v = 0;
          i++;
          for (let k = 0; k < 2 && isHex(raw[i]); k++, i++) v = (v << 4) | parseInt(raw[i]!, 16);
          word += String.fromCharCode(v & 0xff);
        } else if (e === 'c' && i + 1 < n) {
          word += String.fromCharCode(raw.charCodeAt(i + 1) & 0x1f);
          i += 2;
        } else if (isOct(e)) {
          let v = 0;
          for (let k = 0; k < 3 && isOct(raw[i]); k++, i++) v = (v << 3) + (raw.charCodeAt(i) - 48);
          word += String.fromCharCode(v & 0xff);
        } else {
          word += SIMPLE_ESCAPES[e] ?? e;
          i++;
        }
        continue;
      }
      if (quote) {
        if (c === quote) quote = '';
        else word += c;
        i++;
        continue;
      }
      if (c === '"' || c === "'") {
        quote = c;
        i++;
        continue;
      }
      if (BLANK.includes(c)) break;
      word += c;
      i++;
    }
    if (quote) {
      return {
        words: [],
        error: { code: 'unmatched-quote', message: `String '${raw}': missing terminating ${quote}` },
      };
    }
    words.push(word);
  }
  return { words };
}

/** The words of a script string; empty when keepalived would reject it (see scanScriptLine for the reason). */
export function splitScriptLine(raw: string): string[] {
  return scanScriptLine(raw).words;
}
