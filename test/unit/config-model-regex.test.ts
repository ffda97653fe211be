// HTTP_GET regex at -t: validated with the translation the probe runs (src/check/pcre.ts). A pattern the daemon
// cannot run is an error that names the construct, at the regex's file:line:col, and the checker is ignored (never
// a checker that throws at start); leading PCRE options are accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from '../helpers/model.js';
import { exitCodeFor } from '../../src/config/diagnostics.js';
import { compileRegex } from '../../src/check/probe-http.js';

const conf = (urlBody: string) => `virtual_server 10.0.0.100 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 192.168.1.10 80 {
    HTTP_GET {
      url {
        path /health
${urlBody}
      }
    }
    TCP_CHECK {
    }
  }
}
`;

test('a valid PCRE with a leading (?i) passes -t and compiles for the probe as a caseless regex', () => {
  const b = build(conf('        regex "(?i)status: ok"'));
  assert.deepEqual(b.golden, []);
  const url = b.model.virtualServers[0]!.realServers[0]!.checkers.find((c) => c.type === 'HTTP_GET');
  assert.ok(url && url.type === 'HTTP_GET');
  const re = compileRegex(url.urls[0]!)!;
  assert.ok(re.test('STATUS: OK'));
});

test('an option set inside the pattern is accepted and scoped as in PCRE2 (was an error)', () => {
  const b = build(conf('        regex "status(?i): ok"'));
  assert.deepEqual(b.golden, []);
  const ck = b.model.virtualServers[0]!.realServers[0]!.checkers[0]!;
  assert.ok(ck.type === 'HTTP_GET');
  const re = compileRegex(ck.urls[0]!)!;
  assert.ok(re.test('status: OK'));
  re.lastIndex = 0;
  assert.ok(!re.test('STATUS: ok'));
});

test('regex_options reach the probe: multiline makes ^ match after a newline', () => {
  const b = build(conf('        regex "^ok$"\n        regex_options multiline'));
  assert.deepEqual(b.golden, []);
  const ck = b.model.virtualServers[0]!.realServers[0]!.checkers[0]!;
  assert.ok(ck.type === 'HTTP_GET' && compileRegex(ck.urls[0]!)!.test('x\nok\n'));
});

test('a construct JavaScript cannot express is an error at the regex, naming it; the checker is ignored, the other kept', () => {
  const b = build(conf('        regex "(?>status): ok"'));
  assert.deepEqual(b.golden, ['error invalid-regex @9']);
  const d = b.diags[0]!;
  assert.match(d.message, /atomic group \(\?>…\)/);
  assert.match(d.message, /ignoring the checker/);
  assert.equal(d.loc?.col, 15, 'points at the pattern');
  assert.deepEqual(b.model.virtualServers[0]!.realServers[0]!.checkers.map((c) => c.type), ['TCP_CHECK']);
  assert.equal(exitCodeFor(b.diags), 5);
});

test('possessive quantifiers, atomic groups and unbalanced patterns are errors too', () => {
  for (const [p, what] of [['a++', /possessive/], ['(?>a)', /atomic group/], ['(a', /invalid regular expression/]] as const) {
    const b = build(conf(`        regex "${p}"`));
    assert.deepEqual(b.golden, ['error invalid-regex @9'], p);
    assert.match(b.diags[0]!.message, what);
  }
});

test('an unknown regex_options word is a notice (keepalived ignores it silently; the -t verdict stays 0 like keepalived)', () => {
  const b = build(conf('        regex "ok"\n        regex_options caseless frobnicate'));
  assert.deepEqual(b.golden, ['notice unknown-regex-option @10']);
  assert.equal(exitCodeFor(b.diags), 0);
});

test('regex offsets reach the probe; without a regex, or min past max, they are dropped with keepalived\'s notice', () => {
  let b = build(conf('        regex "ok"\n        regex_min_offset 10\n        regex_max_offset 20'));
  assert.deepEqual(b.golden, []);
  const ck = b.model.virtualServers[0]!.realServers[0]!.checkers[0]!;
  assert.ok(ck.type === 'HTTP_GET');
  assert.deepEqual([ck.urls[0]!.regexMinOffset, ck.urls[0]!.regexMaxOffset], [10, 20]);
  b = build(conf('        regex_no_match\n        regex_min_offset 10'));
  assert.deepEqual(b.golden, ['notice regex-without-regex @7']);
  assert.equal(exitCodeFor(b.diags), 0);
  b = build(conf('        regex "ok"\n        regex_min_offset 30\n        regex_max_offset 20'));
  assert.deepEqual(b.golden, ['notice regex-offsets @7']);
  const u = b.model.virtualServers[0]!.realServers[0]!.checkers[0]!;
  assert.ok(u.type === 'HTTP_GET' && u.urls[0]!.regexMinOffset === undefined && u.urls[0]!.regexMaxOffset === undefined);
});

test('the pattern is what keepalived hands PCRE2: the line re-read with escapes applied, exactly two words', () => {
  const regexOf = (line: string) => {
    const b = build(conf(`        ${line}`));
    const ck = b.model.virtualServers[0]!.realServers[0]!.checkers[0]!;
    return { regex: ck.type === 'HTTP_GET' ? ck.urls[0]!.regex : undefined, golden: b.golden };
  };
  // keepalived turns \. into . before PCRE2 sees it: the dot matches any character.
  assert.deepEqual(regexOf('regex "status\\.ok"'), { regex: 'status.ok', golden: [] });
  // A PCRE2 escape needs a doubled backslash in keepalived.conf.
  assert.deepEqual(regexOf('regex "\\\\d{3} OK"'), { regex: '\\d{3} OK', golden: [] });
  assert.deepEqual(regexOf("regex 'status: ok'"), { regex: 'status: ok', golden: [] });
  assert.deepEqual(regexOf('regex status\\ ok'), { regex: 'status ok', golden: [] });
  // Unquoted words: keepalived says "regex missing or too many fields" and runs without the regex.
  assert.deepEqual(regexOf('regex status: ok'), { regex: undefined, golden: ['notice regex-fields @9'] });
});
