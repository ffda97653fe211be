// Shell-like re-tokenisation of script keyword values (notify*, script, misc_path, …), as keepalived's
// alloc_strvec_quoted_escaped() does it: words split on blanks, '…' and "…" quote (quotes removed, may sit inside a
// word), backslash escapes \a \b \E \f \n \r \t \v, \nnn (octal, up to 3 digits), \xXX (up to 2 hex digits), \cC
// (control char), and \C = C for anything else — inside single and double quotes alike.

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

export function scanScriptLine(raw: string): ScriptWords {
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
        if (e === 'x' && isHex(raw[i + 1])) {
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
