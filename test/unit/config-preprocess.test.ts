// The line preprocessor, feature by feature, with exact trees and golden diagnostics. Expected expansions were
// checked against Debian's keepalived 2.2.7 (`keepalived -t -f FILE -i ID` reports every top-level word it reads
// as "Unknown keyword", which shows what it expanded).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { parseConfigText, parseConfigFile } from '../../src/config/parse.js';
import { expandBraces } from '../../src/config/glob.js';
import { exitCodeFor } from '../../src/config/diagnostics.js';
import { renderTree, renderWords, renderDiags } from '../helpers/config-tree.js';

const F = 'k.conf';
const parse = (text: string, opts: Parameters<typeof parseConfigText>[2] = {}) =>
  parseConfigText(text, F, { configId: 'nodeA', random: () => 0.5, env: { HOME_DIR: '/home/x' }, ...opts });
const words = (text: string, opts = {}) => renderWords(parse(text, opts).nodes);
const diags = (text: string, opts = {}) => renderDiags(parse(text, opts).diags);

describe('comments and whitespace', () => {
  test('# and ! start comments anywhere on a line, not inside double quotes', () => {
    const r = parse('a 1 # one\n! whole line\nb "x # y" ! two\nc "a!b"#x\n');
    assert.deepEqual(renderTree(r.nodes), ['1:1 a 1', '3:1 b "x # y"', '4:1 c "a!b"']);
    assert.deepEqual(r.diags.list, []);
  });
  test('\\# and \\! outside quotes are literal characters; inside quotes the backslash stays', () => {
    assert.deepEqual(words('foo\\#bar x\\!y\nq "a\\#b"\n'), ['foo#bar x!y', 'q a\\#b']);
  });
  test('column positions survive a removed backslash', () => {
    assert.deepEqual(renderTree(parse('k a\\#b c\n').nodes), ['1:1 k a#b c']);
    const n = parse('k a\\#b c\n').nodes[0]!;
    assert.equal(n.args[1]!.loc.col, 8);
  });
  test('CRLF line ends, tabs and leading blanks', () => {
    assert.deepEqual(renderTree(parse('a 1\r\n\tb\t2\r\n   c\r\n').nodes), ['1:1 a 1', '2:2 b 2', '3:4 c']);
  });
  test('blank and comment-only lines keep line numbers', () => {
    assert.deepEqual(renderTree(parse('\n\n# c\n\n  x\n').nodes), ['5:3 x']);
  });
});

describe('MAXBUF line length', () => {
  test('a line of 1022 bytes is read; 1023 bytes is dropped with a diagnostic', () => {
    const ok = 'k ' + 'a'.repeat(1020);
    const long = 'k ' + 'b'.repeat(1021);
    const r = parse(`${ok}\n${long}\nnext\n`);
    assert.deepEqual(renderWords(r.nodes), [ok, 'next']);
    assert.deepEqual(renderDiags(r.diags), [
      'k.conf:2:1: error: line too long (1023 bytes, keepalived reads at most 1022) - ignoring [line-too-long]',
    ]);
  });
  test('the limit counts bytes, not characters', () => {
    const r = parse('k ' + 'é'.repeat(520) + '\n');
    assert.equal(r.nodes.length, 0);
    assert.equal(r.diags.list[0]!.code, 'line-too-long');
  });
  test('an embedded NUL drops the line', () => {
    assert.deepEqual(diags('a\0b\nc\n'), [
      'k.conf:1:1: error: configuration appears to have embedded NULs - ignoring line [embedded-nul]',
    ]);
  });
});

describe('braces', () => {
  test('braces anywhere on a line become their own tokens; one-line blocks work', () => {
    const r = parse('vrrp_instance VI_1 { state MASTER\n  track_script { chk }\n}\n');
    assert.deepEqual(renderTree(r.nodes), ['1:1 vrrp_instance VI_1 {', '  1:22 state MASTER', '  2:3 track_script {', '    2:18 chk']);
    assert.deepEqual(r.nodes[0]!.blockLoc, { file: F, line: 1, col: 20 });
  });
  test('the opening brace may stand on the next line', () => {
    assert.deepEqual(renderTree(parse('global_defs\n{\n  router_id x\n}\n').nodes), ['1:1 global_defs {', '  3:3 router_id x']);
  });
  test('text after a closing brace is a new statement; a brace glued to a word splits it', () => {
    assert.deepEqual(words('a {\nb }c\nd{e}\n'), ['a { b }', 'c', 'd { e }']);
  });
  test('braces inside double quotes are not structure', () => {
    assert.deepEqual(words('a "x { y }" z\n'), ['a x { y } z']);
  });
  test('what follows a brace is processed again as a line (keepalived read_line residue)', () => {
    // keepalived 2.2.7 -i nodeA reads: a { | c { d } | f { g1 } g2 } | k { } | m 1
    const text = 'a { @nodeB b }\nc { @nodeA d }\nf { ~SEQ(i,2) g$i }\nk { $Q=1\n}\nm $Q\n';
    assert.deepEqual(words(text), ['a { c { d }; f { g1 }; g2 }', 'k {  }', 'm 1']);
  });
  test('empty blocks', () => {
    assert.deepEqual(renderTree(parse('a {}\nb {\n}\n').nodes), ['1:1 a {', '2:1 b {']);
  });
});

describe('@id conditional lines', () => {
  test('@ID keeps the line only on that config id, @^ID only elsewhere', () => {
    const text = '@nodeA a1\n@^nodeA na\n@nodeB b1\n@^nodeB nb\n@nodeA\n@nodeAx ax\n';
    assert.deepEqual(renderTree(parse(text).nodes), ['1:8 a1', '4:9 nb']);
    assert.deepEqual(words(text, { configId: 'nodeB' }), ['na', 'b1']);
  });
  test('the default config id is the short host name', () => {
    const id = hostname().split('.')[0]!;
    const r = parseConfigText(`@${id} mine\n@^${id} other\n`, F);
    assert.deepEqual(renderWords(r.nodes), ['mine']);
  });
});

describe('$NAME definitions', () => {
  test('definition, $NAME and ${NAME}, recursion at use time, undefined left untouched', () => {
    const text = '$A=hello\n$B=${A}_x\nk $B ${A}y $UNDEF ${NOPE} $A,\n$A=bye\nk2 $B\n';
    // keepalived 2.2.7 agrees: an undefined ${NOPE} stays, and its braces then split the line.
    assert.deepEqual(words(text), ['k hello_x helloy $UNDEF $ { NOPE }', 'hello,', 'k2 bye_x']);
  });
  test('$NAME must be followed by a blank, "," , ")" or the end of the line', () => {
    assert.deepEqual(words('$A=1\nk $Ab $A-x $A\n'), ['k $Ab $A-x 1']);
  });
  test('substituted text points at the column of its $', () => {
    const r = parse('$V=10.0.0.1 eth0\nvip ${V} x\n');
    assert.deepEqual(renderTree(r.nodes), ['2:1 vip 10.0.0.1 eth0 x']);
    assert.deepEqual(r.nodes[0]!.args.map((a) => a.loc.col), [5, 5, 10]);
  });
  test('a definition may be empty and may be redefined; spaces before = make it not a definition', () => {
    assert.deepEqual(words('$E=\nk a${E}b\n$E=2\nk $E\n$S =1\n'), ['k ab', 'k 2', '$S =1']);
  });
  test('definitions may be conditional', () => {
    assert.deepEqual(words('@nodeA $V=10\n@^nodeA $V=20\nvrid $V\n'), ['vrid 10']);
    assert.deepEqual(words('@nodeA $V=10\n@^nodeA $V=20\nvrid $V\n', { configId: 'n2' }), ['vrid 20']);
  });
  test('a multi-line definition (trailing \\) expands to several lines at the end of a line', () => {
    const text = '$ML=l1 \\\n  l2a l2b \\\n  # comment lines do not end it\n  l3\nvirtual_ipaddress {\n$ML\n}\nk $ML x\n';
    const r = parse(text);
    assert.deepEqual(renderWords(r.nodes), ['virtual_ipaddress { l1; l2a l2b; l3 }', 'k $ML x']);
    assert.deepEqual(renderTree(r.nodes), ['5:1 virtual_ipaddress {', '  6:1 l1', '  6:1 l2a l2b', '  6:1 l3', '8:1 k $ML x']);
  });
  test('a blank line ends a multi-line definition', () => {
    assert.deepEqual(words('$M=a \\\nb \\\n\nc\nk $M\n'), ['c', 'k a', 'b']);
  });
  test('a definition that grows into itself stops at the line length limit', () => {
    const r = parse('$A=x $A\nk $A\n');
    assert.deepEqual(renderDiags(r.diags), [
      'k.conf:2:3: error: parameter substitution of $A would exceed the maximum line length (1023) [line-too-long]',
    ]);
  });
  test('a definition that expands into itself unchanged is stopped with a diagnostic', () => {
    const r = parse('$A=$A\nk $A\n');
    assert.equal(r.diags.list.length, 1);
    assert.equal(r.diags.list[0]!.code, 'recursive-definition');
    assert.deepEqual(r.diags.list[0]!.loc, { file: F, line: 2, col: 3 });
  });
  test('substitution output is decommented again', () => {
    assert.deepEqual(words('$C=a # b\nk $C\n$H=${_HASH}x\nk2 y $H z\n'), ['k a', 'k2 y']);
  });
});

describe('predefined definitions', () => {
  test('${_INSTANCE} ${_HASH} ${_BANG} ${_ENV} ${_PWD}', () => {
    const r = parseConfigText('k ${_INSTANCE} "${_HASH}${_BANG}" ${_ENV HOME_DIR} ${_ENV NOPE}x ${_PWD}\n', '/etc/keepalived/k.conf', {
      configId: 'n1', env: { HOME_DIR: '/home/x' },
    });
    assert.deepEqual(renderWords(r.nodes), ['k n1 #! /home/x x /etc/keepalived']);
  });
  test('${_RANDOM [MIN [MAX]]}', () => {
    assert.deepEqual(words('k ${_RANDOM} ${_RANDOM 10} ${_RANDOM 5 7}\n', { random: () => 0 }), ['k 0 10 5']);
    assert.deepEqual(words('k ${_RANDOM} ${_RANDOM 5 7}\n', { random: () => 0.99999999 }), ['k 32767 7']);
  });
  test('${_RANDOM} parameter errors', () => {
    assert.deepEqual(diags('k ${_RANDOM a}\nk ${_RANDOM 1 2 3}\nk ${_RANDOM 9 3}\n'), [
      'k.conf:1:3: error: Definition _RANDOM requires numeric parameters only. [bad-definition-params]',
      'k.conf:2:3: error: Definition _RANDOM requires between 0 and 2 parameters, 3 specified. [bad-definition-params]',
      'k.conf:3:3: error: ${_RANDOM}: min 9 exceeds max 3, using 9 [random-range]',
    ]);
  });
  test('${_ENV} reads only the environment own variables', () => {
    assert.deepEqual(words('k ${_ENV __proto__}x ${_ENV constructor}y\n'), ['k x y']);
  });
  test('predefined names can be overridden', () => {
    assert.deepEqual(words('$_HASH=h\nk ${_HASH}\n'), ['k h']);
  });
});

describe('runaway expansions', () => {
  test('a definition that re-enters itself through ~SEQ stops with one diagnostic per cause', () => {
    const r = parse('$A={ ~SEQ(i,1,2) $A\n$A\n');
    assert.deepEqual(r.nodes, []);
    assert.deepEqual(renderDiags(r.diags), [
      'k.conf:2:1: error: parameter substitution of $A would exceed the maximum line length (1023) [line-too-long]',
      'k.conf:2:1: error: reading stopped: ~SEQ/~LST/definition expansions are nested more than 10000 deep (a self-repeating ~SEQ or definition?) [expansion-limit]',
    ]);
  });
  test('nested ~SEQ expanding to millions of lines is stopped', () => {
    assert.deepEqual(diags('~SEQ(i,3000) ~SEQ(j,3000) x\n'), [
      'k.conf:1:27: error: reading stopped: the configuration expands to more than 1000000 lines (a self-repeating ~SEQ or definition?) [expansion-limit]',
    ]);
  });
  test('a repeated bad line is reported once', () => {
    assert.deepEqual(diags('~SEQ(i,50) k ${_RANDOM a}\n'), [
      'k.conf:1:14: error: Definition _RANDOM requires numeric parameters only. [bad-definition-params]',
    ]);
  });
});

describe('~SEQ and ~LST', () => {
  test('~SEQ(var,end) ~SEQ(var,start,end) ~SEQ(var,start,step,end), rest of line repeated', () => {
    assert.deepEqual(words('~SEQ(i,3) a$i\n~SEQ(i, 5, 3) b$i\n~SEQ(i,0,5,12) c${i}\n~SEQ(i,0) d$i\n'), [
      'a1', 'a2', 'a3', 'b5', 'b4', 'b3', 'c0', 'c5', 'c10', 'd1', 'd0',
    ]);
  });
  test('~SEQx formats in hex; parameters may be definitions and C numbers', () => {
    assert.deepEqual(words('$N=0x0b\n~SEQx(j,9,$N) h_$j\n'), ['h_9', 'h_a', 'h_b']);
  });
  test('nested ~SEQ on one line, inside a block, positions point at the line', () => {
    // `$i.` is not a reference ($NAME must be followed by a blank, ',' or ')'), so ${i} is needed (as in keepalived).
    assert.deepEqual(words('~SEQ(i,2) n10.$i.0\n'), ['n10.$i.0', 'n10.$i.0']);
    const r = parse('virtual_ipaddress {\n~SEQ(i,2) ~SEQ(k,1,2) 10.${i}.0.${k}/32\n}\n');
    assert.deepEqual(renderTree(r.nodes), [
      '1:1 virtual_ipaddress {', '  2:23 10.1.0.1/32', '  2:23 10.1.0.2/32', '  2:23 10.2.0.1/32', '  2:23 10.2.0.2/32',
    ]);
  });
  test('~LST with one variable and with grouped variables', () => {
    assert.deepEqual(words('~LST(v,p,q) l_$v\n~LST({a,b},{1,2},{3,4},{5}) m_${a}_$b\n'), ['l_p', 'l_q', 'm_1_2', 'm_3_4', 'm_5_']);
  });
  test('~LST combined with ~SEQ', () => {
    assert.deepEqual(words('~LST(d,eth0,eth1) ~SEQ(n,2) ${d}.$n\n'), ['eth0.1', 'eth0.2', 'eth1.1', 'eth1.2']);
  });
  test('bad ~SEQ / ~LST specifications', () => {
    assert.deepEqual(diags('~SEQ(i) x\n~SEQ(i,1,-1,5) x\n~SEQ(i,1,3 x\n~SEQx(i,-1,3) x\n~LST(a) x\n~LST({a},{1,2}) x\n'), [
      "k.conf:1:1: error: Invalid ~SEQ definition '~SEQ(i) x' [bad-seq]",
      "k.conf:2:1: error: Invalid ~SEQ values '~SEQ(i,1,-1,5) x' [bad-seq]",
      "k.conf:3:1: error: ~SEQ missing terminating ')' '~SEQ(i,1,3 x' [bad-seq]",
      "k.conf:4:1: error: ~SEQx is only valid for positive numbers '~SEQx(i,-1,3) x' [bad-seq]",
      "k.conf:5:1: error: Invalid ~LST specification '~LST(a) x' [bad-lst]",
      "k.conf:6:1: error: ~LST specification has too many values '~LST({a},{1,2}) x' [bad-lst]",
    ]);
    assert.deepEqual(diags('~SEQ(i,0,2,4000000) x\n'), [
      "k.conf:1:1: error: ~SEQ would repeat the line 2000001 times (limit 1000000) - ignoring '~SEQ(i,0,2,4000000) x' [bad-seq]",
    ]);
  });
});

describe('include', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kt-inc-'));
    mkdirSync(join(dir, 'sub'));
    mkdirSync(join(dir, 'sub', 'adir.conf'));
    writeFileSync(join(dir, 'sub', 's1.conf'), 'inc_s1\ninclude ../b.conf\n');
    writeFileSync(join(dir, 'sub', 's2.conf'), 'inc_s2 $X\n');
    writeFileSync(join(dir, 'b.conf'), 'inc_b ${_PWD}\n');
    writeFileSync(join(dir, 'exec.conf'), 'nope\n');
    chmodSync(join(dir, 'exec.conf'), 0o755);
    writeFileSync(join(dir, 'loop1.conf'), 'l1\ninclude loop2.conf\n');
    writeFileSync(join(dir, 'loop2.conf'), 'l2\ninclude loop1.conf\n');
    writeFileSync(join(dir, 'open.conf'), 'vrrp_instance V {\n  state MASTER\n');
    writeFileSync(join(dir, 'close.conf'), '}\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (text: string, opts = {}) => {
    const file = join(dir, 'main.conf');
    writeFileSync(file, text);
    return parseConfigFile(file, { configId: 'n', ...opts });
  };

  test('glob relative to the including file, nested includes relative to theirs, definitions carry over', () => {
    const r = run('$X=fromMain\ninclude sub/*.conf\nafter\n');
    assert.deepEqual(renderWords(r.nodes), ['inc_s1', `inc_b ${dir}`, 'inc_s2 fromMain', 'after']);
    assert.deepEqual(r.files, [join(dir, 'main.conf'), join(dir, 'sub/s1.conf'), join(dir, 'b.conf'), join(dir, 'sub/s2.conf')]);
    assert.deepEqual(r.nodes.map((n) => `${n.loc.file}:${n.loc.line}`), [
      join(dir, 'sub/s1.conf:1'), join(dir, 'b.conf:1'), join(dir, 'sub/s2.conf:1'), join(dir, 'main.conf:3'),
    ]);
    // The sub directory "adir.conf" matches the glob: keepalived skips it (a notice: plain include does not check).
    assert.deepEqual(renderDiags(r.diags), [
      `${join(dir, 'main.conf')}:2:9: warning: Configuration file '${join(dir, 'sub/adir.conf')}/' is a directory - skipping [include-unreadable]`,
    ]);
    assert.equal(exitCodeFor(r.diags.list), 0);
  });
  test('csh braces keep their order; blocks may span files', () => {
    assert.deepEqual(renderWords(run('include sub/{s2,s1}.conf\n').nodes), ['inc_s2 $X', 'inc_s1', `inc_b ${dir}`]);
    assert.deepEqual(renderWords(run('include {open,close}.conf\n').nodes), ['vrrp_instance V { state MASTER }']);
  });
  test('a missing file: plain include only notes it, includer/includem/includea make it an error', () => {
    const m = join(dir, 'main.conf');
    const r = run('include nothere.conf\nincluder nothere.conf\nincludem nothere.conf\nincludea no*.conf\nincludew nomatch*.conf\ninclude nomatch*.conf\n');
    assert.deepEqual(renderDiags(r.diags), [
      `${m}:1:9: warning: Config files missing 'nothere.conf'. [include-missing]`,
      `${m}:2:10: warning: Config files missing 'nothere.conf'. [include-missing]`,
      `${m}:3:10: error: Config files missing 'nothere.conf'. [include-missing]`,
      `${m}:4:10: error: No config files matched 'no*.conf'. [include-no-match]`,
      `${m}:5:10: error: No config files matched 'nomatch*.conf'. [include-no-match]`,
      // keepalived says nothing here; a notice does not change the verdict.
      `${m}:6:9: warning: No config files matched 'nomatch*.conf'. [include-no-match]`,
    ]);
    assert.deepEqual(r.diags.list.map((d) => d.severity), ['notice', 'notice', 'fatal', 'fatal', 'fatal', 'notice']);
    // keepalived 2.2.7 -t: `includea missing.conf` and `includem missing.conf` exit 6, `include missing.conf` 0.
    assert.equal(exitCodeFor(r.diags.list), 6);
    assert.equal(exitCodeFor(run('include nothere.conf\n').diags.list), 0);
  });
  test('include_check in global_defs makes plain includes checked from there on', () => {
    const r = run('global_defs {\n include_check\n}\ninclude nothere.conf\n');
    assert.deepEqual(r.diags.list.map((d) => `${d.severity} ${d.code}`), ['fatal include-missing']);
    const r2 = run('global_defs {\n include_check -match\n}\ninclude nothere.conf\n', { includeCheckAll: true });
    assert.deepEqual(r2.diags.list.map((d) => d.severity), ['notice']);
  });
  test('an executable file is skipped', () => {
    const r = run('includer exec.conf\n');
    assert.deepEqual(r.nodes, []);
    assert.deepEqual(renderDiags(r.diags), [
      `${join(dir, 'main.conf')}:1:10: error: Configuration file '${join(dir, 'exec.conf')}' is not a regular non-executable file - skipping [include-unreadable]`,
    ]);
  });
  test('include cycles are reported, not followed', () => {
    const r = run('include loop1.conf\n');
    assert.deepEqual(renderWords(r.nodes), ['l1', 'l2']);
    assert.deepEqual(renderDiags(r.diags), [
      `${join(dir, 'loop2.conf')}:2:9: error: include cycle: ${join(dir, 'loop1.conf')} -> ${join(dir, 'loop2.conf')} -> ${join(dir, 'loop1.conf')} - not including '${join(dir, 'loop1.conf')}' again [include-cycle]`,
    ]);
  });
  test('a missing root file is fatal', () => {
    const r = parseConfigFile(join(dir, 'absent.conf'), {});
    assert.deepEqual(renderDiags(r.diags), [`error: Unable to find configuration file ${join(dir, 'absent.conf')} (ENOENT) [file-not-found]`]);
    assert.equal(exitCodeFor(r.diags.list), 4);
  });
  test('"include" glued to other text is an ordinary keyword', () => {
    assert.deepEqual(renderWords(run('includes x\ninclude_check\n').nodes), ['includes x', 'include_check']);
  });
});

test('expandBraces follows csh rules', () => {
  assert.deepEqual(expandBraces('a{b,c{d,e}}f'), ['abf', 'acdf', 'acef']);
  assert.deepEqual(expandBraces('x{}y'), ['x{}y']);
  assert.deepEqual(expandBraces('p\\{q,r}'), ['p\\{q,r}']);
  assert.deepEqual(expandBraces('{a,}b'), ['ab', 'b']);
});
