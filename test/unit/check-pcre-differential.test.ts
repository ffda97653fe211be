// The PCRE2 → JS translation against PCRE2 itself: Debian 12's pcre2test (PCRE2 10.42, the library keepalived
// 2.2.7 links) runs each pattern, 8-bit and without UTF like keepalived, over the same bytes. For every pattern we
// accept, match / no match and the matched text are the same; every pattern PCRE2 rejects we reject too; the
// patterns we refuse although PCRE2 compiles them are exactly the listed constructs JavaScript cannot express.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { compilePcre } from '../../src/check/pcre.js';

let pcre2test: string | undefined;
try {
  execFileSync('pcre2test', ['-C', 'version'], { stdio: 'ignore' });
  pcre2test = 'pcre2test';
} catch { /* not installed */ }
const skip = pcre2test ? false : 'needs pcre2test (Debian package pcre2-utils; scripts/setup-system.sh installs it)';

type Case = [pattern: string, options: string[], subjects: string[]];

/** Subjects are byte strings (one char per byte); patterns are written as an operator would in keepalived.conf. */
const SAME: Case[] = [
  ['status: ok', [], ['status: ok', 'STATUS: OK', 'xstatus: okx', 'status:ok']],
  ['(?i)status: ok', [], ['status: ok', 'STATUS: OK', 'Status: Ok\r\n', 'status:ok']],
  ['status: ok', ['caseless'], ['STATUS: OK']],
  ['a.b', [], ['a\nb', 'a\rb', 'axb', 'a\x85b', 'a\x00b']],
  ['(?s)a.b', [], ['a\nb', 'a\rb']],
  ['a.b', ['dotall'], ['a\nb']],
  ['ok$', [], ['ok', 'ok\n', 'ok\n\n', 'ok\nx', 'ok\r\n']],
  ['ok$', ['dollar_endonly'], ['ok', 'ok\n']],
  ['(?m)ok$', [], ['ok', 'ok\n', 'ok\nx', 'ok\r\n', 'ok\rx']],
  ['^ok', [], ['ok', 'x\nok']],
  ['(?m)^ok', [], ['ok', 'x\nok', 'x\rok']],
  ['(?m)^$', [], ['a\n', '\n\n', 'a\n\nb', '']],
  ['^$', ['multiline', 'alt_circumflex'], ['a\n', 'a']],
  ['(?im)^STATUS: ok$', [], ['x\nstatus: OK\ny']],
  ['a\\sb', [], ['a b', 'a\tb', 'a\x0bb', 'a\xa0b', 'a\x85b', 'a\rb']],
  ['a\\Sb', [], ['axb', 'a b', 'a\xa0b']],
  ['a\\hb', [], ['a b', 'a\xa0b', 'a\nb']],
  ['a\\Hb', [], ['a b', 'axb']],
  ['a\\vb', [], ['a\nb', 'a\x0bb', 'a\x85b', 'avb', 'a b']],
  ['a\\Vb', [], ['a\nb', 'axb']],
  ['a\\Rb', [], ['a\r\nb', 'a\nb', 'a\rb', 'a\x85b', 'a\n\nb']],
  ['a\\Nb', [], ['a\nb', 'a\rb']],
  ['[[:alpha:]]+[[:digit:]]', [], ['ab1', '1a', '\xe9a1']],
  ['[[:punct:]][[:space:]][[:xdigit:]]{2}', [], ['!\x0bfF', '! fg', '~ 09']],
  ['[[:upper:][:lower:]_]+', [], ['Ab_', '12']],
  ['[]a]+', [], [']a]', 'b']],
  ['[^]a]', [], [']', 'a', 'b']],
  ['\\Aok\\Z', [], ['ok', 'ok\n', 'ok\n\n']],
  ['\\Aok\\z', [], ['ok', 'ok\n']],
  ['(a)\\1', [], ['aa', 'ab']],
  ['(?<n>x)\\k<n>', [], ['xx', 'xy']],
  ['(?P<n>x)(?P=n)', [], ['xx']],
  ["(?'n'x)\\k{n}\\g{n}", [], ['xxx', 'xx']],
  ['(a)(b)\\g{-1}\\g1', [], ['abba', 'abab']],
  ['(a)\\10', [], ['a\x08', 'a1']],
  ['\\x41\\101\\x{42}\\cA\\e\\a\\o{102}', [], ['AAB\x01\x1b\x07B']],
  ['\\Q.*+\\E!', [], ['.*+!', 'ab!']],
  ['(?x) a b c # comment', [], ['abc', 'a b c']],
  ['(?x)[ ]a\\ b', [], [' a b', 'ab']],
  ['a b', ['extended'], ['ab']],
  ['x{1, 3}', ['extended'], ['x{1,3}', 'xx']],
  ['a{2,3}', [], ['aaaa', 'a']],
  ['a{,3}', [], ['a{,3}', 'aaa']],
  ['a{2}b{1,}', [], ['aabbb', 'ab']],
  ['(?U)a+', [], ['aaa']],
  ['a+?', ['ungreedy'], ['aaa']],
  ['<.+>', ['ungreedy'], ['<a><b>']],
  ['(a)(?<x>b)\\k<x>', ['no_auto_capture'], ['abb']],
  ['(?n)(a)(b)', [], ['ab']],
  ['café', [], ['un caf\xc3\xa9', 'caf\xe9']],
  ['caf.\\x{a9}', [], ['caf\xc3\xa9']],
  ['\\bok\\b', [], ['ok', 'nok', 'ok!']],
  ['\\d+\\w*\\W', [], ['12ab!', 'ab']],
  ['(?=ok)o', [], ['ok', 'ox']],
  ['(?<=x)ok', [], ['xok', 'yok']],
  ['(?<!x)ok', [], ['xok', 'yok']],
  ['(?!a)b', [], ['b']],
  ['a|b|', [], ['c', 'b']],
  ['(?:ab)+c', [], ['ababc', 'ac']],
  ['[a-f\\d]+', [], ['abc1g']],
  ['[\\s\\S]', [], ['\xa0']],
  ['[\\S][\\H][\\V]', [], ['x\xa0\n', 'x\xa0y', '\xa0\xa0y']],
  ['[\\w-]+', [], ['a-b_c!']],
  ['[a\\-z]+', [], ['a-z', 'b']],
  ['[\\1]', [], ['\x01', '1']],
  ['\\012', [], ['\n']],
  ['(?i)[a-z]+', [], ['ABC']],
  ['(?i)[^a]', [], ['A', '\xc9', 'b']],
  ['(?i)\\x41', [], ['a']],
  ['(?#comment)ok', [], ['ok']],
  ['\\.\\*\\[\\]\\(\\)\\{\\}\\^\\$\\|\\?\\+\\/', [], ['.*[](){}^$|?+/']],
  ['a\\E\\Eb', [], ['ab']],
  ['[\\Qa]\\E]+', [], ['a]]', 'b']],
  ['\\x{e9}', [], ['\xe9']],
  ['[\\x{c0}-\\x{ff}]+', [], ['\xe9\xc0', 'a']],
  ['\\w+\\d', [], ['\xe9a1', '\xb2']],
  ['status(?i): ok', [], ['status: OK', 'STATUS: ok', 'status: Ok']],
  ['a(?i)b|c', [], ['aB', 'C', 'Ab']],
  ['(a(?i)b|c)d', [], ['aBd', 'CD', 'Cd', 'cd']],
  ['(?i:a)b', [], ['Ab', 'AB']],
  ['(?i)a(?-i)b', [], ['Ab', 'AB']],
  ['(?i)a(?-i:b)c', [], ['AbC', 'ABc']],
  ['x(?i)[a-c]+[^d][[:upper:]]', [], ['xBcAe', 'xbD1', 'xaaa']],
  ['x(?i)[0-Z]', [], ['xz', 'x[']],
  ['a(?i)\\x41\\Qb\\E', [], ['aaB', 'AaB']],
  ['a(?s).b', [], ['a\nb']],
  ['(?m:^x)|^y', [], ['a\nx', 'a\ny', 'y']],
  ['(?x: a b )c d', [], ['abc d', 'abcd']],
  ['(?i)(a)\\1', [], ['aA', 'ab']],
  ['a(?i)\xc3\xa9', [], ['a\xc3\xa9', 'a\xe3\xa9']],
  ['(?i)x(?U)a+', [], ['XAAA']],
  ['(?i)caf\u00e9', [], ['CAF\xc3\xa9', 'caf\xc3\x89', 'caf\xe3\xa9']],
  ['(?i)[\\S][\\x{c0}-\\x{ff}]', [], ['a\xe9', 'A\xc9']],
  ['.*\\R', ['no_auto_possess'], ['ab\r', 'ab\r\n', 'a\x85', 'ab']],
  ['\\R{2}', [], ['\r\n', '\r\n\r\n', '\n\r']],
  ['(a?)*b', [], ['aab', 'b']],
  ['(a|b?)+c', [], ['abc', 'c']],
  ['(a)?\\1b', ['match_unset_backref'], ['aab', 'b', 'ab']],
  ['(?:(a)|b)\\1c', ['match_unset_backref'], ['aac', 'bc']],
  ['(a)(?=(b))\\2', [], ['ab', 'ac']],
  ['(?<=a|bc)d', [], ['ad', 'bcd', 'cd']],
  ['(?<=(ab|cd))e', [], ['abe', 'cde', 'be']],
  ['(?<=a{2}\\bq)b', [], ['aaqb', 'aqb']],
  ['(?<=\\Qa.\\E)c', [], ['a.c', 'abc']],
  ['(?<=x(?=y)y)z', [], ['xyz']],
  ['[%--]+', [], ['%+-', 'a']],
  ['ab\\Qcd\\E+', [], ['abcddd', 'abcdcd']],
  ['[\\Q\\E]]', [], [']']],
];

/** PCRE2 compiles these; JavaScript cannot express them, so -t refuses them naming the construct. */
const REFUSED: Array<[string, RegExp]> = [
  ['a++', /possessive/], ['a*+', /possessive/], ['a{2}+', /possessive/], ['(?>a)', /atomic/], ['a(?i)(b)\\1', /backreference with caseless/],
  ['(a??)*', /quantified group that can match the empty string/], ['(b?|a)*c', /quantified group/], ['(a??)?b', /quantified group/],
  ['.*\\R', /\\R next to a quantifier/],
  ['(a)?\\1', /may not have participated/], ['(a)|b\\1', /may not have participated/], ['(?!(a))\\1', /may not have participated/],
  ['(?:(a)|b)+\\1', /loop may leave unset/], ['(a\\1)', /before or inside that group/], ['\\k<n>(?<n>a)', /defined later/], ['\\R?\\N', /\\R next to a quantifier/],
  ['(?|(a)|(b))', /branch-reset/], ['(a)(?1)', /recursion/], ['(a)(?R)?', /recursion/],
  ['(a)?(?(1)b|c)', /conditional/], ['\\p{L}', /Unicode property/], ['a\\Kb', /\\K/], ['(*UTF)a', /\(\*UTF\)/], ['(*FAIL)|a', /\(\*FAIL\)/], ['a(*ACCEPT)', /backtracking verb/],
  ['(?i)(caf\u00e9)\\1', /Latin-1 letter/], ['\\Ga', /\\G/], ['[[:^alpha:]]', /negated POSIX/], ['(?J)(?<n>a)', /inline option letter 'J'/],
  ['(?&n)(?<n>a)', /named subroutine/], ['(?<=(a)\\1)b', /backreference inside a lookbehind/], ['\\X', /grapheme/], ['\\C', /code unit/],
];

/** Invalid for PCRE2: refused by us too. */
const BOTH_REFUSE = ['(a', '[a', 'a{2,1}', '[z-a]', '(a)\\2', '\\y', '*a', 'a)', '(?<n>a)(?<n>b)', '\\x{100}', '[[:foo:]]',
  '[\\d-z]', '[a-\\d]', '(?<=a+)b', '(?<=(a|bc))d', '(?<=\\R)a', 'a{3}{2}', 'x**', '\\8', '(a)|\\2', '[\\Q\\E]',
  '(?<n>a)\\k<m>', '\\N{U+41}', '\\c', '(?<=a*)b', '(?<=a?)b', 'a^*', 'a\\b?', 'a$+'];

const MOD: Record<string, string> = {
  caseless: 'caseless', dotall: 'dotall', multiline: 'multiline', extended: 'extended', dollar_endonly: 'dollar_endonly',
  ungreedy: 'ungreedy', no_auto_capture: 'no_auto_capture', alt_circumflex: 'alt_circumflex', allow_empty_class: 'allow_empty_class',
  no_auto_possess: 'no_auto_possess', match_unset_backref: 'match_unset_backref',
};

interface PcreOutcome { compiled: boolean; error?: string; results: Array<string | null> }

/** Runs pcre2test on one pattern (as the UTF-8 bytes keepalived reads) over byte-string subjects. */
function runPcre(pattern: string, options: string[], subjects: string[]): PcreOutcome {
  const delim = ['/', '!', '%', '"', '=', '@', '~', ';'].find((d) => !pattern.includes(d))!;
  const mods = options.map((o) => MOD[o]!).join(',');
  // Every subject byte as \x{hh}; an empty subject is a lone backslash (an empty line would end the list).
  const esc = (s: string) => (s === '' ? '\\' : [...s].map((c) => `\\x{${c.charCodeAt(0).toString(16)}}`).join(''));
  const input = `${delim}${pattern}${delim}${mods}\n${subjects.map((s) => `    ${esc(s)}\n`).join('')}`;
  // pcre2test exits non-zero when a pattern fails to compile; its output says so either way.
  const out = spawnSync(pcre2test!, ['-q'], { input: Buffer.from(input, 'utf8') }).stdout.toString('latin1');
  const lines = out.split('\n');
  const failed = lines.find((l) => l.startsWith('Failed:'));
  if (failed) return { compiled: false, error: failed, results: [] };
  const results: Array<string | null> = [];
  for (const l of lines) {
    if (l === 'No match') results.push(null);
    else if (l.startsWith(' 0: ')) results.push(l.slice(4).replace(/\\x\{([0-9a-f]+)\}|\\x([0-9a-f]{2})/g, (_m, a, b) => String.fromCharCode(parseInt(a ?? b, 16))));
  }
  return { compiled: true, results };
}

function runJs(pattern: string, options: string[], subjects: string[]): { ok: true; results: Array<string | null> } | { ok: false; error: string } {
  const r = compilePcre(pattern, options);
  if (!r.ok) return r;
  return { ok: true, results: subjects.map((s) => { r.regex.lastIndex = 0; const m = r.regex.exec(s); return m ? m[0] : null; }) };
}

test('same matches as PCRE2 10.42 on every accepted pattern', { skip }, () => {
  let n = 0;
  for (const [p, o, subjects] of SAME) {
    const pc = runPcre(p, o, subjects);
    assert.ok(pc.compiled, `PCRE2 rejects ${p}: ${pc.error}`);
    const js = runJs(p, o, subjects);
    assert.ok(js.ok, `we refuse ${p} [${o}]: ${js.ok ? '' : js.error}`);
    assert.deepEqual(js.results, pc.results, `${p} [${o}] on ${JSON.stringify(subjects)}`);
    n += subjects.length;
  }
  assert.ok(n > 150, `${n} comparisons`);
});

test('refused only where JavaScript cannot express what PCRE2 compiles, naming the construct', { skip }, () => {
  for (const [p, what] of REFUSED) {
    const pc = runPcre(p, [], ['a']);
    assert.ok(pc.compiled, `PCRE2 should compile ${p}: ${pc.error}`);
    const js = compilePcre(p);
    assert.ok(!js.ok, `${p} should be refused`);
    if (!js.ok) assert.match(js.error, what, p);
  }
});

test('every pattern PCRE2 rejects is rejected too', { skip }, () => {
  for (const p of BOTH_REFUSE) {
    const pc = runPcre(p, [], ['a']);
    assert.ok(!pc.compiled, `PCRE2 should reject ${p}`);
    assert.equal(compilePcre(p).ok, false, `${p} should be refused (PCRE2: ${pc.error})`);
  }
});

/** A small deterministic generator of patterns over the constructs the translation handles. */
function generator(seed: number) {
  let x = seed;
  const rnd = () => { x = (x * 48271) % 2147483647; return x / 2147483647; };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const atoms = ['(?<n>a)', '\\k<n>', '\\1', '[a-c\\d-]', '[]a]', '[^]b]', '\\012', '\\e', '\\cA', '[\\Qa-\\E]', '#', 'a b', '(?<=ab|c)', '(?<!a)', 'a', 'b', 'A', '.', '\\s', '\\S', '\\d', '\\w', '\\W', '\\h', '\\v', '\\R', '\\N', '[ab]', '[^a]', '[a-c]',
    '[[:alpha:]]', '[[:upper:]]', '\\x41', '\\n', '\\r', ' ', '\\Qa.\\E', '\\b', '^', '$', '\\A', '\\Z', '\\z', 'é', '[\\x{c0}-\\x{ff}]', '[\\H]', ':'];
  const zeroWidth = new Set(['^', '$', '\\b', '\\A', '\\Z', '\\z']);
  const quants = ['', '', '', '*', '+', '?', '{2}', '{1,2}', '*?', '+?', '??'];
  const gen = (depth: number): string => {
    let out = '';
    for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) {
      const r = rnd();
      if (r < 0.1 && depth < 3) out += `(${gen(depth + 1)}${rnd() < 0.3 ? `|${gen(depth + 1)}` : ''})${pick(quants)}`;
      else if (r < 0.15 && depth < 3) out += `${pick(['(?=', '(?!', '(?<=', '(?<!'])}${pick(atoms.filter((a) => a !== '\\R' && !zeroWidth.has(a)))})`;
      else if (r < 0.22) out += pick(['(?i)', '(?m)', '(?s)', '(?x)', '(?-i)', '(?U)']);
      else if (r < 0.26 && depth < 3) out += `${pick(['(?i:', '(?s:', '(?-i:'])}${gen(depth + 1)})`;
      else { const a = pick(atoms); out += a + (zeroWidth.has(a) ? '' : pick(quants)); }
    }
    return out;
  };
  const chars = [']', '#', '\x1b', '\x01', 'c', 'a', 'b', 'A', '\n', '\r', ' ', '\t', '\xa0', '\x85', '\x0b', '1', '.', '\xc3', '\xa9', '\xc9', '\xe9', ':'];
  const subject = () => Array.from({ length: Math.floor(rnd() * 7) }, () => pick(chars)).join('');
  const allOptions = ['caseless', 'multiline', 'dotall', 'extended', 'dollar_endonly', 'ungreedy', 'allow_empty_class', 'alt_circumflex', 'no_auto_capture'];
  const options = () => allOptions.filter(() => rnd() < 0.15);
  return { pattern: () => gen(0), subject, options };
}

// One seed in the suite; PCRE_DIFF_SEEDS=50 explores more (what was run while writing the translation).
const SEEDS = Number(process.env.PCRE_DIFF_SEEDS ?? 1);

test('generated patterns: PCRE2 and the translation agree on every subject, or the translation refuses', { skip }, () => {
  let compared = 0;
  let refused = 0;
  for (let seed = 0; seed < SEEDS; seed++) {
  const g = generator(20261206 + seed);
  for (let k = 0; k < 250; k++) {
    const p = g.pattern();
    const opts = g.options();
    const subjects = Array.from({ length: 6 }, g.subject);
    const pc = runPcre(p, opts, subjects);
    const js = runJs(p, opts, subjects);
    if (!pc.compiled) { assert.ok(!js.ok, `PCRE2 rejects ${JSON.stringify(p)} [${opts}] (${pc.error}) but we accept it`); continue; }
    if (!js.ok) { refused++; continue; }
    assert.deepEqual(js.results, pc.results, `${JSON.stringify(p)} [${opts}] on ${JSON.stringify(subjects)}`);
    compared += subjects.length;
  }
  }
  assert.ok(compared > 1000 * SEEDS, `${compared} comparisons (${refused} patterns refused)`);
});
