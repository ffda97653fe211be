// Block structure (nearley grammar + brace checker), words and quoting, script strings, structural diagnostics.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { lexWords, lexWordsMoo, parseConfigText, SCRIPT_KEYWORDS } from '../../src/config/parse.js';
import { splitScriptLine, scanScriptLine, scanQuotedWords, parseScriptKeyword } from '../../src/config/script-words.js';
import { exitCodeFor, formatDiagnostic } from '../../src/config/diagnostics.js';
import { plainTree, renderTree, renderWords, renderDiags } from '../helpers/config-tree.js';

const F = 'k.conf';
const parse = (text: string) => parseConfigText(text, F, { configId: 'n' });

describe('statements and blocks', () => {
  test('keyword args [{ block }] with positions of keyword, args and braces', () => {
    const r = parse('vrrp_instance VI_1 {\n    interface eth0\n    virtual_ipaddress {\n        10.0.0.1/24 dev eth0\n    }\n}\n');
    assert.deepEqual(plainTree(r.nodes), [
      {
        keyword: 'vrrp_instance',
        loc: { file: F, line: 1, col: 1 },
        args: [{ text: 'VI_1', quoted: false, loc: { file: F, line: 1, col: 15 } }],
        block: [
          { keyword: 'interface', loc: { file: F, line: 2, col: 5 }, args: [{ text: 'eth0', quoted: false, loc: { file: F, line: 2, col: 15 } }] },
          {
            keyword: 'virtual_ipaddress',
            loc: { file: F, line: 3, col: 5 },
            args: [],
            block: [
              {
                keyword: '10.0.0.1/24',
                loc: { file: F, line: 4, col: 9 },
                args: [
                  { text: 'dev', quoted: false, loc: { file: F, line: 4, col: 21 } },
                  { text: 'eth0', quoted: false, loc: { file: F, line: 4, col: 25 } },
                ],
              },
            ],
            blockLoc: { file: F, line: 3, col: 23 },
          },
        ],
        blockLoc: { file: F, line: 1, col: 20 },
      },
    ]);
    assert.deepEqual(r.diags.list, []);
  });
  test('deep nesting and long flat runs parse to one tree', () => {
    const depth = 200;
    const text = Array.from({ length: depth }, (_, i) => `b${i} {`).join('\n') + '\nleaf\n' + '}\n'.repeat(depth);
    let n = parse(text).nodes;
    for (let i = 0; i < depth; i++) {
      assert.equal(n.length, 1);
      assert.equal(n[0]!.keyword, `b${i}`);
      n = n[0]!.block!;
    }
    assert.deepEqual(renderWords(n), ['leaf']);
    const flat = Array.from({ length: 5000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join('\n');
    const r = parse(`virtual_ipaddress {\n${flat}\n}\n`);
    assert.equal(r.nodes[0]!.block!.length, 5000);
    assert.equal(r.nodes[0]!.block![4999]!.loc.line, 5001);
  });
  test('absurd nesting is bounded instead of overflowing the stack', () => {
    const r = parse('a {\n'.repeat(20000) + 'leaf\n' + '}\n'.repeat(20000));
    assert.deepEqual(renderDiags(r.diags), [`k.conf:257:3: error: blocks nested more than 256 deep - deeper '{' are ignored [too-deep]`]);
    let n = r.nodes;
    let depth = 0;
    while (n[0]?.block) {
      n = n[0].block;
      depth++;
    }
    assert.equal(depth, 256);
    assert.equal(n.length, 20000 - 256 + 1);
  });
  test('mixed runs of plain lines and blocks keep their order', () => {
    assert.deepEqual(renderWords(parse('a\nb\nc { d\ne }\nf\ng {\n}\nh\n').nodes), ['a', 'b', 'c { d; e }', 'f', 'g {  }', 'h']);
  });
  test('empty input and comment-only input give no nodes and no diagnostics', () => {
    for (const t of ['', '\n\n', '# x\n! y\n']) {
      const r = parse(t);
      assert.deepEqual([r.nodes, r.diags.list], [[], []]);
    }
  });
});

describe('words and quotes', () => {
  test('"…" is one word without its quotes; a quote also ends a word; single quotes are ordinary', () => {
    const r = parse(`k "a b" c"d e" 'x y' "" z\n`);
    assert.deepEqual(renderTree(r.nodes), [`1:1 k "a b" c "d e" 'x y' "" z`]);
    assert.deepEqual(r.nodes[0]!.args.map((a) => a.loc.col), [3, 9, 10, 16, 19, 22, 25]);
  });
  test('a quoted keyword is still the keyword', () => {
    assert.deepEqual(renderWords(parse('"router_id" x\n').nodes), ['router_id x']);
  });
});

describe('structural diagnostics', () => {
  test('unmatched quote: the rest of the line is dropped', () => {
    const r = parse('router_id "abc def\nnext 1\n');
    assert.deepEqual(renderWords(r.nodes), ['router_id', 'next 1']);
    assert.deepEqual(renderDiags(r.diags), [
      `k.conf:1:11: error: unmatched quote: no closing '"' on this line - the rest of the line is ignored [unmatched-quote]`,
    ]);
    assert.equal(exitCodeFor(r.diags.list), 5);
  });
  test("extra '}'", () => {
    const r = parse('a {\n}\n}\nb\n');
    assert.deepEqual(renderWords(r.nodes), ['a {  }', 'b']);
    assert.deepEqual(renderDiags(r.diags), [`k.conf:3:1: error: Extra '}' found: no block is open here [extra-brace]`]);
  });
  test("missing '}' says which blocks are unclosed and where they opened", () => {
    const r = parse('vrrp_instance VI_1 {\n  state MASTER\n  virtual_ipaddress {\n    10.0.0.1\n');
    assert.deepEqual(renderWords(r.nodes), ['vrrp_instance VI_1 { state MASTER; virtual_ipaddress { 10.0.0.1 } }']);
    assert.deepEqual(renderDiags(r.diags), [
      `k.conf:3:21: error: missing '}': the block of 'virtual_ipaddress' opened at k.conf:3:21 is never closed (configuration ends at k.conf:4) [missing-brace]`,
      `k.conf:1:20: error: missing '}': the block of 'vrrp_instance VI_1' opened at k.conf:1:20 is never closed (configuration ends at k.conf:4) [missing-brace]`,
    ]);
    assert.equal(r.diags.list[1]!.keyword, 'vrrp_instance');
  });
  test("'{' with no keyword: reported, its contents read in the enclosing block, its '}' matched", () => {
    const r = parse('{\n a\n}\nb {\n c {\n }\n {\n  d\n }\n e\n}\n');
    assert.deepEqual(renderWords(r.nodes), ['a', 'b { c {  }; d; e }']);
    assert.deepEqual(renderDiags(r.diags), [
      `k.conf:1:1: error: '{' with no keyword before it - ignoring it; what it encloses is read as part of the enclosing block [unexpected-brace]`,
      `k.conf:7:2: error: '{' with no keyword before it - ignoring it; what it encloses is read as part of the enclosing block [unexpected-brace]`,
    ]);
  });
  test('a keyword line followed by a brace on the next line owns the block (the model decides if it may)', () => {
    assert.deepEqual(renderWords(parse('a 1\n{\nb\n}\n').nodes), ['a 1 { b }']);
  });
  test('brace errors never lose the lines around them', () => {
    const r = parse('}\n}\na {\n{\n}\nb\n');
    assert.deepEqual(renderWords(r.nodes), ['a { b }']);
    assert.deepEqual(r.diags.list.map((d) => d.code), ['extra-brace', 'extra-brace', 'unexpected-brace', 'missing-brace']);
  });
});

describe('script keywords', () => {
  test('rawArgs keeps the text after the keyword as written (quotes kept), args as usual', () => {
    const r = parse(`vrrp_instance V {\n  notify_master "/usr/bin/x.sh 'a b'" arg2   # c\n  notify /bin/n\\ x\n}\nvrrp_script s {\n script "/bin/chk"\n}\n`);
    const [master, notify] = r.nodes[0]!.block!;
    assert.equal(master!.rawArgs, `"/usr/bin/x.sh 'a b'" arg2`);
    assert.deepEqual(master!.args.map((a) => a.text), [`/usr/bin/x.sh 'a b'`, 'arg2']);
    assert.deepEqual(splitScriptLine(master!.rawArgs!), ['/usr/bin/x.sh \'a b\'', 'arg2']);
    assert.equal(notify!.rawArgs, '/bin/n\\ x');
    assert.deepEqual(splitScriptLine(notify!.rawArgs!), ['/bin/n x']);
    assert.equal(r.nodes[1]!.block![0]!.rawArgs, '"/bin/chk"');
    assert.equal(r.nodes[0]!.rawArgs, undefined);
  });
  test('every keyword keepalived re-tokenises is covered', () => {
    for (const k of ['notify', 'notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'notify_deleted',
      'notify_master_rx_lower_pri', 'script', 'misc_path', 'quorum_up', 'quorum_down', 'startup_script',
      'shutdown_script', 'notify_fifo_script', 'vrrp_notify_fifo_script', 'lvs_notify_fifo_script', 'notify_up',
      'notify_down']) {
      assert.ok(SCRIPT_KEYWORDS.has(k), k);
      assert.equal(parse(`${k}  a "b c"\n`).nodes[0]!.rawArgs, 'a "b c"');
    }
  });
  test('an odd double quote is reported for script keywords too, rawArgs keeps the whole text', () => {
    // keepalived 2.2.7 -t: "(Line 1) Unmatched quote: 'notify /bin/x "it's'" although notify is a quoted keyword.
    const r = parse(`notify /bin/x "it's\n`);
    assert.deepEqual(renderDiags(r.diags), [
      `k.conf:1:15: error: unmatched quote: no closing '"' on this line - the rest of the line is ignored [unmatched-quote]`,
    ]);
    assert.deepEqual(r.nodes[0]!.args.map((a) => a.text), ['/bin/x']);
    assert.equal(r.nodes[0]!.rawArgs, `/bin/x "it's`);
    assert.deepEqual(scanScriptLine(r.nodes[0]!.rawArgs!), {
      words: [],
      error: { code: 'unmatched-quote', message: `String '/bin/x "it's': missing terminating "` },
    });
  });
});

describe('parseScriptKeyword (keepalived notify_script_init: quoted command, then user and group)', () => {
  test('the command string is word 1; words 2 and 3 are user and group', () => {
    assert.deepEqual(parseScriptKeyword(`"/usr/bin/notify.sh master 'a b'" nobody nogroup`), {
      argv: ['/usr/bin/notify.sh', 'master', 'a b'], user: 'nobody', group: 'nogroup',
    });
    assert.deepEqual(parseScriptKeyword('/bin/x arg'), { argv: ['/bin/x'], user: 'arg' });
    assert.deepEqual(parseScriptKeyword(''), { argv: [] });
  });
  test('escapes are applied once, in the command string', () => {
    assert.deepEqual(parseScriptKeyword(String.raw`"/bin/echo a\tb \"q\""`), { argv: ['/bin/echo', 'a\tb', '"q"'] });
    assert.deepEqual(parseScriptKeyword(String.raw`/bin/a\ b`), { argv: ['/bin/a b'] });
  });
  test('stage-1 quoting keeps backslashes for stage 2', () => {
    assert.deepEqual(scanQuotedWords(String.raw`"a\"b" c\ d`), { words: [String.raw`a\"b`, String.raw`c\ d`] });
  });
  test('an unmatched quote rejects the script', () => {
    assert.deepEqual(parseScriptKeyword(`"/bin/x`).argv, []);
    assert.equal(parseScriptKeyword(`"/bin/x`).error?.code, 'unmatched-quote');
  });
});

describe('splitScriptLine (keepalived alloc_strvec_quoted_escaped)', () => {
  test('quotes of both kinds, also mid-word', () => {
    assert.deepEqual(splitScriptLine(`/bin/echo "a b" 'c d' x"y z"w ''`), ['/bin/echo', 'a b', 'c d', 'xy zw', '']);
    assert.deepEqual(splitScriptLine(`  a\t b  `), ['a', 'b']);
    assert.deepEqual(splitScriptLine(`'say "hi"' "it's"`), ['say "hi"', "it's"]);
  });
  test('escapes, also inside quotes', () => {
    assert.deepEqual(splitScriptLine('a\\tb \\x41\\x4a \\101 \\cA \\q \\\\ "\\"" \'\\n\' \\E'), [
      'a\tb', 'AJ', 'A', '\x01', 'q', '\\', '"', '\n', '\x1b',
    ]);
    assert.deepEqual(splitScriptLine('a\\ b'), ['a b']);
    assert.deepEqual(splitScriptLine('\\x4g \\7 \\1234'), ['\x04g', '\x07', 'S4']);
  });
  test('errors reject the whole string, as keepalived does', () => {
    assert.deepEqual(splitScriptLine(`a 'b`), []);
    assert.deepEqual(scanScriptLine('a b\\'), { words: [], error: { code: 'trailing-backslash', message: "Missing escape char at end: 'a b\\'" } });
  });
});

test('notice prints as a warning and does not change the exit code', () => {
  const d = { severity: 'notice' as const, code: 'not-implemented', message: 'x is not implemented', loc: { file: F, line: 1, col: 2 } };
  assert.equal(formatDiagnostic(d), 'k.conf:1:2: warning: x is not implemented [not-implemented]');
  assert.equal(exitCodeFor([d]), 0);
});

test('every sample configuration parses without diagnostics', () => {
  const dir = '/usr/share/doc/keepalived/samples';
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.startsWith('keepalived.conf')).map((f) => join(dir, f));
  } catch {
    /* samples not installed */
  }
  for (const f of files) {
    const r = parseConfigText(readFileSync(f, 'utf8'), f, { configId: 'n' });
    assert.deepEqual(renderDiags(r.diags), [], f);
    assert.ok(r.nodes.length > 0, f);
  }
});

test('a line without a quote is split as moo splits it (texts, offsets, keyword end)', () => {
  // lexWords scans such lines itself; moo's word lexer stays the reference (issue 11).
  const line = fc.array(fc.constantFrom('a', 'real_server', '10.0.0.1', ' ', '  ', '\t', '\f', '\v', '\r', '\n', '{', '}', '#', '!', '$X', '\\', 'é', '~SEQ(i,1,2)'), { maxLength: 24 }).map((p) => p.join(''));
  fc.assert(fc.property(line, (s) => {
    assert.deepEqual(lexWords(s), lexWordsMoo(s));
  }), { seed: 11, numRuns: 3000 });
  for (const s of ['', ' ', 'k', '  k  v\t', 'k\fv\vw\rx']) assert.deepEqual(lexWords(s), lexWordsMoo(s), JSON.stringify(s));
});
