import { sharedPath } from '../helpers/shared.js';
// Property test: random mutations of real configurations never make the reader throw, never produce an internal
// error, and everything it returns carries a position. Seeded, so a failure names a case that can be replayed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigFile } from '../../src/config/parse.js';
import type { ConfigNode, Loc } from '../../src/config/tree.js';

const CASES = 3000;
const SEED = 0x6b656570;

/** mulberry32: small, fast, reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const JUNK = [
  '{', '}', '{ }', '"', '""', '$', '$X', '${X}', '${', '$X=1', '$M=a \\', '\\', '\\#', '#', '!', '@n ', '@^n ',
  '~SEQ(i,1,3) ', '~SEQ(', '~SEQx(i,3,1) ', '~LST(a,b,c) ', '~LST({a,b},{1,2}) x$a', '${_RANDOM 1}', '${_ENV}',
  '${_RANDOM 9 1}', 'include x*.conf', 'include {a,b}.conf', 'includea none', '\t', '\r', '\0', 'x'.repeat(1100),
  "'", 'notify "a', '$A=$A', 'include self.conf', 'include [z-a]*', '{'.repeat(700), '}'.repeat(700),
  '${_RANDOM 99999999999999999999 1}', '~SEQ(i,0,1,99999999999) x', '$A={ ~SEQ(i,1,2) $A', '$A',
];

function loadCorpus(): { name: string; lines: string[] }[] {
  const out: { name: string; lines: string[] }[] = [];
  // Debian's samples, the seeds extracted into test/fixtures/seeds, and shared/seeds when it sits beside the clone.
  const dirs = ['/usr/share/doc/keepalived/samples', new URL('../fixtures/seeds', import.meta.url).pathname];
  try {
    dirs.push(sharedPath('seeds'));
  } catch {
    /* no shared/ beside this clone */
  }
  for (const dir of dirs) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => n.startsWith('keepalived.conf') || n.endsWith('.txt') || n.endsWith('.conf'));
    } catch {
      continue;
    }
    for (const n of names.sort()) out.push({ name: join(dir, n), lines: readFileSync(join(dir, n), 'utf8').split('\n') });
  }
  if (!out.length) out.push({ name: 'builtin', lines: ['vrrp_instance V {', ' state MASTER', ' virtual_ipaddress {', '  10.0.0.1', ' }', '}'] });
  return out;
}

function mutate(lines: string[], rnd: () => number): string[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const ls = lines.slice();
  const n = 1 + Math.floor(rnd() * 6);
  for (let k = 0; k < n && ls.length; k++) {
    const i = Math.floor(rnd() * ls.length);
    const line = ls[i]!;
    const c = Math.floor(rnd() * (line.length + 1));
    switch (Math.floor(rnd() * 9)) {
      case 0: ls[i] = line.slice(0, c) + line.slice(c + 1); break; // delete char
      case 1: ls[i] = line.slice(0, c) + line.slice(c, c + 1) + line.slice(c); break; // duplicate char
      case 2: { const d = Math.floor(rnd() * (line.length + 1)); const a = Math.min(c, d); const b = Math.max(c, d);
        ls[i] = line.slice(0, a) + line.slice(b, b + 1) + line.slice(a + 1, b) + line.slice(a, a + 1) + line.slice(b + 1); break; } // swap chars
      case 3: ls.splice(i, 1); break; // delete line
      case 4: ls.splice(i, 0, line); break; // duplicate line
      case 5: { const j = Math.floor(rnd() * ls.length); [ls[i], ls[j]] = [ls[j]!, ls[i]!]; break; } // swap lines
      case 6: ls.splice(i, 0, pick(JUNK)); break; // junk line
      default: ls[i] = line.slice(0, c) + pick(JUNK) + line.slice(c); // junk inside a line
    }
  }
  return ls;
}

function checkLoc(l: Loc | undefined, what: string): void {
  assert.ok(l, `${what}: no position`);
  assert.ok(typeof l.file === 'string' && l.file.length > 0, `${what}: file`);
  assert.ok(Number.isInteger(l.line) && l.line >= 1, `${what}: line ${l.line}`);
  assert.ok(Number.isInteger(l.col) && l.col >= 1, `${what}: col ${l.col}`);
}

function checkNodes(nodes: readonly ConfigNode[], maxLine: number): void {
  for (const n of nodes) {
    checkLoc(n.loc, `node ${n.keyword}`);
    assert.ok(n.loc.line <= maxLine, `node line ${n.loc.line} beyond the input (${maxLine})`);
    for (const a of n.args) checkLoc(a.loc, `arg ${a.text}`);
    if (n.block) {
      checkLoc(n.blockLoc, `block of ${n.keyword}`);
      checkNodes(n.block, maxLine);
    }
  }
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kt-fuzz-'));
  writeFileSync(join(dir, 'a.conf'), 'included_a 1\n');
  writeFileSync(join(dir, 'xy.conf'), 'included_xy {\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test(`${CASES} mutated configurations: no throw, no internal error, positions everywhere`, () => {
  const corpus = loadCorpus();
  const rnd = prng(SEED);
  let withDiags = 0;
  const stats = new Map<string, number>();
  for (let k = 0; k < CASES; k++) {
    const src = corpus[k % corpus.length]!;
    // Large files: a random window keeps the run fast while still covering their whole text over many cases.
    const start = src.lines.length > 150 ? Math.floor(rnd() * (src.lines.length - 150)) : 0;
    const lines = mutate(src.lines.slice(start, start + 150), rnd);
    const text = lines.join('\n');
    const file = join(dir, 'self.conf');
    // On disk, so that `include self.conf` junk really includes itself (a cycle).
    writeFileSync(file, text);
    let r;
    try {
      r = parseConfigFile(file, { configId: 'n', random: rnd, env: {} });
    } catch (e) {
      assert.fail(`case ${k} (${src.name}) threw: ${(e as Error).stack}\n--- input ---\n${text}`);
    }
    const internal = r.diags.list.filter((d) => d.code === 'internal-error');
    assert.deepEqual(internal, [], `case ${k} (${src.name})`);
    for (const d of r.diags.list) checkLoc(d.loc, `case ${k} diagnostic ${d.code}`);
    // Included files have their own line numbers; bound by the longest input seen.
    checkNodes(r.nodes, Math.max(lines.length, 200));
    if (r.diags.list.length) withDiags++;
    if (process.env.FUZZ_STATS) for (const d of r.diags.list) stats.set(d.code, (stats.get(d.code) ?? 0) + 1);
  }
  if (process.env.FUZZ_STATS) console.log(JSON.stringify([...stats]));
  assert.ok(withDiags > CASES / 10, `mutations should often produce diagnostics (${withDiags})`);
});
