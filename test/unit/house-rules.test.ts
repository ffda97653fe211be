// The house rules a reviewer should not have to remember (issue 14), checked over the source text:
// - one name per concept: an exported name is defined once across src/, test/ and bench/;
// - file names say what they hold: no two files under src/ share a name (two `engine.ts` meant two things);
// - one error base: every error class under src/ and test/ extends KtError (src/util/errors.ts), whose codes are
//   KT_<AREA>_<WHAT>;
// - one exit-code table: process exit codes are named in src/util/exit-codes.ts, nowhere else.
// ESLint (eslint.config.js) checks the import boundaries of the pure cores; tsc checks the types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts') && !p.endsWith('grammar.generated.ts')) out.push(p);
    }
  };
  walk(join(root, dir));
  return out;
}

const rel = (p: string): string => relative(root, p);
const src = tsFiles('src');
const everywhere = [...src, ...tsFiles('test'), ...tsFiles('bench')];

test('every exported name is defined once across src, test and bench', () => {
  const where = new Map<string, string[]>();
  const decl = /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:const|let|function\*?|async\s+function|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm;
  for (const f of everywhere) {
    for (const m of readFileSync(f, 'utf8').matchAll(decl)) {
      const list = where.get(m[1]!) ?? [];
      if (!list.includes(rel(f))) list.push(rel(f)); // overloads and a type beside its const are one definition
      where.set(m[1]!, list);
    }
  }
  const twice = [...where].filter(([, fs]) => fs.length > 1).map(([n, fs]) => `${n}: ${fs.join(', ')}`);
  assert.deepEqual(twice, [], `names exported from more than one file (one concept, one name, one definition):\n${twice.join('\n')}`);
});

test('no two files under src/ share a file name', () => {
  const byName = new Map<string, string[]>();
  for (const f of src) {
    const b = basename(f);
    if (b === 'index.ts') continue; // a folder's entry point, named by its folder
    byName.set(b, [...(byName.get(b) ?? []), rel(f)]);
  }
  const clashes = [...byName].filter(([, fs]) => fs.length > 1).map(([b, fs]) => `${b}: ${fs.join(', ')}`);
  assert.deepEqual(clashes, [], `file names that mean different things in different folders:\n${clashes.join('\n')}`);
});

test('every error class extends KtError (or another error class that does)', () => {
  const classes = new Map<string, { base: string; file: string }>();
  for (const f of everywhere) {
    for (const m of readFileSync(f, 'utf8').matchAll(/class\s+(\w+)\s+extends\s+(\w+)/g)) classes.set(m[1]!, { base: m[2]!, file: rel(f) });
  }
  const reachesKt = (name: string, seen = new Set<string>()): boolean => {
    if (name === 'KtError') return true;
    const c = classes.get(name);
    if (!c || seen.has(name)) return false;
    seen.add(name);
    return reachesKt(c.base, seen);
  };
  const errorClasses = [...classes].filter(([name, c]) => /Error$/.test(name) || c.base === 'Error');
  const loose = errorClasses.filter(([name]) => name !== 'KtError' && !reachesKt(name)).map(([n, c]) => `${n} extends ${c.base} (${c.file})`);
  assert.deepEqual(loose, [], `error classes outside the one base:\n${loose.join('\n')}`);
});

test('KtError codes are KT_<AREA>_<WHAT>', () => {
  const bad: string[] = [];
  for (const f of everywhere) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/['`](KT_[A-Za-z0-9_]*)['`]/g)) {
      if (!/^KT_[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]$/.test(m[1]!)) bad.push(`${m[1]} (${rel(f)})`);
    }
  }
  assert.deepEqual(bad, []);
});

test('exit codes are named in one table', () => {
  const outside = src
    .filter((f) => !f.endsWith(join('util', 'exit-codes.ts')))
    .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/^export const (EXIT_\w+)/gm)].map((m) => `${m[1]} (${rel(f)})`));
  assert.deepEqual(outside, [], 'EXIT_* constants belong in src/util/exit-codes.ts');
});

test('the lint boundary names files that exist (a renamed core must not drop out of it silently)', async () => {
  const { CORE_FILES, CORE_EXCEPTIONS } = (await import(pathToFileURL(join(root, 'eslint.config.js')).href)) as { CORE_FILES: string[]; CORE_EXCEPTIONS: string[] };
  const missing = [...CORE_FILES, ...CORE_EXCEPTIONS].filter((f) => {
    if (!f.includes('*')) return !existsSync(join(root, f));
    const dirPart = f.slice(0, f.indexOf('*')).replace(/\/$/, '');
    return !src.some((x) => rel(x).startsWith(`${dirPart}/`));
  });
  assert.deepEqual(missing, [], 'eslint.config.js CORE_FILES / CORE_EXCEPTIONS entries that match no file');
});
