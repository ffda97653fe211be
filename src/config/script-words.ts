// TEMPORARY stand-in until config-front's script-words.ts is merged (same signature); replaced at merge.
export function splitScriptLine(raw: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '"' || c === "'") {
      const end = raw.indexOf(c, i + 1);
      if (end < 0) throw new Error('unmatched quote');
      cur += raw.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '\\' && i + 1 < raw.length) {
      cur += raw[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}
