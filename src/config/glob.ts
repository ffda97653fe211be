// glob(3) with GLOB_BRACE | GLOB_MARK as keepalived's include uses it, written over node:fs (Node 20 has no
// fs.glob): csh braces first, then `*` `?` `[…]` per path segment; results sorted per brace alternative; counts of
// missing literal files and unreadable directories, which keepalived's include checks report.
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/** csh-style brace expansion as glob(3) GLOB_BRACE does it (nested, `\` escapes, `{}` is literal). */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') {
      if (depth === 0) {
        if (pattern[i + 1] === '}') {
          i++;
          continue;
        }
        open = i;
      }
      depth++;
    } else if (c === '}' && depth > 0) {
      depth--;
      if (depth === 0) {
        const inner = pattern.slice(open + 1, i);
        const alts: string[] = [];
        let d = 0;
        let start = 0;
        for (let j = 0; j < inner.length; j++) {
          const cj = inner[j];
          if (cj === '\\') {
            j++;
            continue;
          }
          if (cj === '{') d++;
          else if (cj === '}') d--;
          else if (cj === ',' && d === 0) {
            alts.push(inner.slice(start, j));
            start = j + 1;
          }
        }
        alts.push(inner.slice(start));
        const pre = pattern.slice(0, open);
        const post = pattern.slice(i + 1);
        const out: string[] = [];
        for (const alt of alts) for (const e of expandBraces(pre + alt + post)) out.push(e);
        return out;
      }
    }
  }
  return [pattern];
}

const hasWildcard = (seg: string): boolean => /(^|[^\\])[*?[]/.test(seg);
const unescape = (seg: string): string => seg.replace(/\\(.)/g, '$1');

function segmentRegex(seg: string): RegExp {
  let re = '^';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '\\' && i + 1 < seg.length) re += seg[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = seg.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let body = seg.slice(i + 1, close);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = close;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  try {
    return new RegExp(re + '$');
  } catch {
    // e.g. a reversed range [z-a]: glob(3) matches nothing there either.
    return /(?!)/;
  }
}

export interface GlobOutcome {
  matches: string[];
  missingFiles: number;
  missingDirs: number;
  hadWildcards: boolean;
}

/** glob(3) for one brace-free absolute pattern, with GLOB_MARK (directories get a trailing '/'). */
function globOne(pattern: string, out: GlobOutcome): string[] {
  const segs = pattern.split('/').filter((s) => s !== '');
  let bases = [pattern.startsWith('/') ? '/' : ''];
  for (let k = 0; k < segs.length; k++) {
    const seg = segs[k]!;
    const next: string[] = [];
    if (hasWildcard(seg)) {
      const re = segmentRegex(seg);
      for (const b of bases) {
        out.hadWildcards = true;
        let names: string[];
        try {
          names = readdirSync(b || '.');
        } catch {
          out.missingDirs++;
          continue;
        }
        for (const n of names.sort()) {
          if (n.startsWith('.') && !seg.startsWith('.')) continue;
          if (re.test(n)) next.push(join(b, n));
        }
      }
    } else {
      const lit = unescape(seg);
      for (const b of bases) next.push(join(b, lit));
    }
    bases = next;
  }
  const result: string[] = [];
  const literal = !hasWildcard(pattern);
  for (const p of bases) {
    try {
      const st = statSync(p);
      result.push(st.isDirectory() ? p + '/' : p);
    } catch {
      try {
        lstatSync(p); // a dangling symlink still matches (glob uses lstat)
        result.push(p);
      } catch {
        if (literal) out.missingFiles++;
      }
    }
  }
  return result;
}

export function globWithBraces(pattern: string, dir: string): GlobOutcome {
  const out: GlobOutcome = { matches: [], missingFiles: 0, missingDirs: 0, hadWildcards: false };
  for (const p of expandBraces(pattern)) {
    const full = isAbsolute(p) ? p : join(dir, p);
    for (const m of globOne(full, out)) out.matches.push(m);
  }
  return out;
}

export function hasBrace(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === '{') return true;
  }
  return false;
}
