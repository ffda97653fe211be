// The bundled checker with its code cache (scripts/build-config-check.mjs, src/config/check-bundle.ts), built here
// from the TypeScript sources into a temporary directory: V8 accepts the cache it made, the bundle reports what the
// modules report (diagnostics, verdict, model) on every sample, fuzz seed and fixture configuration, and a stale or
// missing manifest sends `-t` back to the modules.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkConfig } from '../../src/config/check-config.js';
import { formatDiagnostic } from '../../src/config/diagnostics.js';
import {
  CONFIG_CHECK_BUNDLE, CONFIG_CHECK_CACHE, CONFIG_CHECK_MANIFEST, checkerBundleFresh, compileCheckerBundle, loadConfigChecker,
} from '../../src/config/check-bundle.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildConfigCheck, trainingConfig } from '../../scripts/build-config-check.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
let out: string;

before(async () => {
  out = mkdtempSync(join(tmpdir(), 'kt-bundle-'));
  await buildConfigCheck({ entryDir: root, outDir: out, ext: 'ts' });
});
after(() => rmSync(out, { recursive: true, force: true }));

function corpus(): string[] {
  const files: string[] = [];
  const add = (dir: string, pick: (f: string) => boolean): void => {
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir).sort()) if (pick(f)) files.push(join(dir, f));
  };
  add(join(root, 'fuzz/seeds/config'), () => true);
  add(join(root, 'test/fixtures/seeds'), (f) => f.endsWith('.conf'));
  add('/usr/share/doc/keepalived/samples', (f) => f.startsWith('keepalived.conf'));
  return files;
}

test('V8 accepts the code cache the build made for the bundle', () => {
  const r = compileCheckerBundle(join(out, CONFIG_CHECK_BUNDLE), readFileSync(join(out, CONFIG_CHECK_CACHE)));
  assert.equal(r.cacheRejected, false);
  assert.equal(checkerBundleFresh(out), true);
});

test('the bundle reports what the modules report, on every sample, seed and fixture', () => {
  const { checker } = compileCheckerBundle(join(out, CONFIG_CHECK_BUNDLE), readFileSync(join(out, CONFIG_CHECK_CACHE)));
  const dir = mkdtempSync(join(tmpdir(), 'kt-bundle-cfg-'));
  try {
    const train = join(dir, 'train.conf');
    writeFileSync(train, trainingConfig());
    const files = [...corpus(), train];
    assert.ok(files.length > 50, `corpus of ${files.length} configurations`);
    for (const f of files) {
      const opts = { configId: 'nodeA', hostname: 'nodeA' };
      const mine = checkConfig(f, opts);
      const theirs = checker.checkConfig(f, opts);
      assert.deepEqual(theirs.diags.map((d) => checker.formatDiagnostic(d)), mine.diags.map((d) => formatDiagnostic(d)), f);
      assert.equal(theirs.exitCode, mine.exitCode, f);
      assert.equal(JSON.stringify(theirs.model), JSON.stringify(mine.model), f);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stale or missing manifest sends -t back to the modules', async () => {
  const manifest = JSON.parse(readFileSync(join(out, CONFIG_CHECK_MANIFEST), 'utf8')) as { inputs: Array<[string, number, number]> };
  // An input rewritten after the bundle (tsc run again): its modification time no longer matches.
  const [rel] = manifest.inputs[0]!;
  const copy = mkdtempSync(join(tmpdir(), 'kt-bundle-stale-'));
  try {
    writeFileSync(join(copy, CONFIG_CHECK_MANIFEST), JSON.stringify({ inputs: [[relative(copy, join(out, rel)), 1, 1]] }));
    assert.equal(checkerBundleFresh(copy), false);
    assert.equal(checkerBundleFresh(join(out, 'nowhere')), false);
    const fallback = await loadConfigChecker(copy);
    assert.equal(fallback.checkConfig, checkConfig);
    const fresh = await loadConfigChecker(out);
    assert.notEqual(fresh.checkConfig, checkConfig);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(out, CONFIG_CHECK_BUNDLE), later, later);
    assert.equal(checkerBundleFresh(out), false);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
