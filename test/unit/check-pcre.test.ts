// PCRE2 → JS translation for HTTP_GET regex: what PCRE2 (keepalived) matches on the raw body bytes, the translated
// regex matches on the latin1-decoded body; what JS cannot express is refused with the construct named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePcre, matchWithin, matchWithinBounded, translatePcre } from '../../src/check/pcre.js';

const re = (p: string, opts: string[] = []) => {
  const r = compilePcre(p, opts);
  if (!r.ok) throw new Error(r.error);
  return r.regex;
};
const matches = (p: string, body: string, opts: string[] = []) => re(p, opts).test(Buffer.from(body, 'utf8').toString('latin1'));
/** The body given byte by byte (one latin1 char per byte). */
const matchesBytes = (p: string, bytes: string, opts: string[] = []) => re(p, opts).test(bytes);
const refused = (p: string, opts: string[] = []) => {
  const r = compilePcre(p, opts);
  assert.equal(r.ok, false, `${p} should be refused`);
  return r.ok ? '' : r.error;
};

test('leading inline options become options of the whole pattern', () => {
  // ASCII letters folded by hand: exactly PCRE2's default tables (no Latin-1 folding).
  assert.deepEqual(translatePcre('(?i)ok: 1'), { ok: true, source: '[oO][kK]: 1', flags: '' });
  // A caseless backreference needs JS's i flag for the whole pattern.
  assert.deepEqual(translatePcre('(?i)(a)\\1'), { ok: true, source: '(a)(?:\\1)', flags: 'i' });
  assert.ok(matches('(?i)status: ok', 'HTTP/1.0 200\r\n\r\nSTATUS: OK\n'));
  assert.ok(matches('(?im)^ok$', 'a\nOK\nb'));
  assert.ok(!matches('(?i)(?-i)ok', 'OK'));
  assert.ok(matches('(?s)a.b', 'a\nb'));
  assert.ok(!matches('a.b', 'a\nb'));
  assert.ok(matches('(?x) st a tus  # comment\n : \\ ok', 'status: ok'));
  assert.ok(matches('(?U)a+', 'aaa') && re('(?U)<.+>').exec('<a><b>')![0] === '<a>');
});

test('option settings inside the pattern apply to the rest of their group, as in PCRE2', () => {
  assert.ok(matches('status(?i): ok', 'status: OK') && !matches('status(?i): ok', 'STATUS: ok'));
  assert.deepEqual(translatePcre('a(?i)b'), { ok: true, source: 'a[bB]', flags: '' });
  assert.ok(matches('(a(?i)b|c)d', 'Cd') && !matches('(a(?i)b|c)d', 'CD'), 'carried into later alternatives, ended by the group');
  assert.ok(matches('(?i:a)b', 'Ab') && !matches('(?i:a)b', 'AB'));
  assert.ok(matches('x(?s).', 'x\n') && !matches('(?s:x)y.', 'xy\n'));
  assert.ok(matches('a(?i)[b-c]', 'aC') && !matches('a(?i)[^b]', 'aB'));
  assert.ok(matches('a(?i)\xc3\xa9', 'a\xc3\xa9'), 'hand folding leaves Latin-1 bytes alone, like PCRE2');
});

test('regex_options words map like the inline letters; unknown words are ignored as keepalived does', () => {
  assert.ok(matches('^ok$', 'x\nok\ny', ['multiline']));
  assert.ok(matches('ok', 'OK', ['caseless', 'no_start_optimize', 'bogus']));
  assert.ok(matches('a.b', 'a\nb', ['dotall']));
  assert.match(refused('ok', ['utf']), /utf.*not supported/);
});

test('PCRE2 semantics spelled out where JS differs: ., $, ^ in multiline, \\s, \\v, \\h, \\R, \\A \\Z \\z', () => {
  assert.ok(matches('a.b', 'a\rb'), 'PCRE2 . matches \\r (newline is LF)');
  assert.ok(matches('ok$', 'ok\n'), '$ matches before a final newline');
  assert.ok(!matches('ok$', 'ok\n', ['dollar_endonly']));
  assert.ok(!matches('ok$', 'ok\nx'));
  assert.ok(!matches('^$', 'a\n', ['multiline']), 'multiline ^ does not match after the final newline');
  assert.ok(matches('^$', 'a\n', ['multiline', 'alt_circumflex']));
  assert.ok(!matchesBytes('a\\sb', 'a\xa0b'), '\\s does not include 0xa0 without UCP');
  assert.ok(matchesBytes('a\\hb', 'a\xa0b') && matchesBytes('a\\vb', 'a\x85b'));
  assert.ok(matches('a\\vb', 'a\nb') && !matches('a\\vb', 'avb'));
  assert.ok(matches('a\\Rb', 'a\r\nb'));
  assert.ok(matches('\\Aok\\Z', 'ok\n') && !matches('\\Aok\\z', 'ok\n'));
  assert.ok(matches('[[:digit:]]{3}', 'code 200') && !matches('[[:alpha:]]', '123'));
  assert.ok(matches('[]x]', ']'), 'a leading ] is a literal');
  assert.ok(matches('\\Q1+1\\E', '1+1') && !matches('\\Q1+1\\E', '11'));
  assert.ok(matches('\\x{41}\\101\\cA', 'AA\x01'));
});

test('the pattern is the UTF-8 bytes keepalived sees, matched against the body bytes', () => {
  assert.ok(matches('café', 'un café'));
  assert.ok(matches('caf.\\x{a9}', 'café'), 'é is two bytes: . takes the first');
});

test('captures and backreferences, PCRE2 group syntax translated', () => {
  assert.ok(matches('(a)\\1', 'aa'));
  assert.ok(matches('(?P<n>x)(?P=n)\\k{n}\\g{-1}', 'xxxx'));
  assert.ok(matches("(?'q'y)\\k<q>", 'yy'));
  assert.match(refused('(a)\\2'), /backreference \\2/);
});

test('constructs JavaScript cannot express are refused, naming the construct', () => {
  assert.match(refused('a(?i)(b)\\1'), /backreference with caseless/);
  assert.match(refused('a++'), /possessive quantifier/);
  assert.match(refused('(?>a)'), /atomic group/);
  assert.match(refused('(?|a)'), /branch-reset/);
  assert.match(refused('(a)(?1)'), /recursion/);
  assert.match(refused('(?(1)a|b)'), /conditional/);
  assert.match(refused('(*UTF)ok'), /\(\*UTF\)/);
  assert.match(refused('\\p{L}'), /Unicode property/);
  assert.match(refused('a\\Kb'), /\\K/);
  assert.match(refused('\\y'), /unrecognized escape \\y/);
  assert.match(refused('(?i)(é)\\1'), /Latin-1 letter/);
  assert.ok(matches('(?i)café', 'CAFé') && !matches('(?i)café', 'CAFÉ'), 'é and É differ in bytes other than ASCII case');
  assert.match(refused('a('), /invalid regular expression/);
  assert.match(refused('[a'), /missing terminating \]/);
  assert.match(refused('[z-a]'), /range out of order/);
});

test('regex_min_offset / regex_max_offset: searched from the min offset, the match must start by the max offset', () => {
  const r = re('ok');
  assert.ok(matchWithin(r, 'ok..ok', 1), 'the second ok, found from offset 1');
  assert.ok(!matchWithin(r, 'ok....', 1));
  assert.ok(matchWithin(r, '....ok', 0, 4) && !matchWithin(r, '....ok', 0, 3));
  assert.ok(matchWithin(re('(?<=x)ok'), 'xok', 1), 'a lookbehind still sees what is before the min offset');
  assert.ok(!matchWithin(re('^ok'), 'ok ok', 1), '^ stays the start of the body');
  assert.ok(matchWithin(r, 'ok', 0) && matchWithin(r, 'ok', 0), 'no state carried between calls');
});

test('a bounded search stops runaway backtracking and says so; a normal one answers as matchWithin', () => {
  // 2^40 steps cannot finish within any bound; the normal searches get a bound no loaded machine reaches, so
  // the test asserts answers, not times (a 100 ms bound once timed out a trivial search under load).
  assert.equal(matchWithinBounded(re('(a+)+$'), `${'a'.repeat(40)}!`, undefined, undefined, 100), 'timeout');
  assert.equal(matchWithinBounded(re('ok'), 'x ok', 1, undefined, 10_000), true);
  assert.equal(matchWithinBounded(re('ok'), 'x ok', 3, undefined, 10_000), false);
});
