// The VRRP child's bundle with its code cache (scripts/build-config-check.mjs buildVrrpChild, daemon/child.ts loads
// it through util/code-bundle.ts), built here from the TypeScript sources into a temporary directory: V8 accepts the
// cache it made, the bundle runs the child's body and holds the VRRP process's modules but not the checker's, every
// module keeps its own location (import.meta.url), and a stale manifest sends the child back to the modules.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFresh, compileBundle, loadFreshBundle } from '../../src/util/code-bundle.js';
import { VRRP_CHILD_BUNDLE } from '../../src/daemon/fork-child.js';
import type { ChildKind } from '../../src/daemon/children.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildVrrpChild } from '../../scripts/build-config-check.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
let out: string;

interface ChildBundle {
  runChildProcess(): void;
  CHILD_KINDS: ChildKind[];
}

before(async () => {
  out = mkdtempSync(join(tmpdir(), 'kt-vrrp-bundle-'));
  await buildVrrpChild({ entryDir: root, outDir: out, ext: 'ts' });
});
after(() => rmSync(out, { recursive: true, force: true }));

test('V8 accepts the code cache the build made, and the bundle exports the child body', () => {
  const r = compileBundle<ChildBundle>(join(out, VRRP_CHILD_BUNDLE.bundle), readFileSync(join(out, VRRP_CHILD_BUNDLE.cache)));
  assert.equal(r.cacheRejected, false);
  assert.equal(typeof r.exports.runChildProcess, 'function');
  assert.equal(bundleFresh(out, VRRP_CHILD_BUNDLE.manifest), true);
});

test('the VRRP child runs from the bundle; the checker child is not in it; modules keep their own location', async () => {
  const text = readFileSync(join(out, VRRP_CHILD_BUNDLE.bundle), 'utf8');
  assert.ok(!text.includes('import.meta'));
  assert.ok(!text.includes('function runCheckerChild'), 'the checker child stays out');
  // The addon is found from the socket module's own directory, as from the ES module.
  assert.ok(text.includes('src/net/ksock.ts'));
  const { exports } = compileBundle<ChildBundle>(join(out, VRRP_CHILD_BUNDLE.bundle), readFileSync(join(out, VRRP_CHILD_BUNDLE.cache)));
  const vrrp = exports.CHILD_KINDS.find((k) => k.kind === 'vrrp')!;
  assert.equal((await vrrp.load()).name, 'runVrrpChild');
});

test('a stale bundle is not used', () => {
  const valid = (e: Partial<ChildBundle>) => typeof e.runChildProcess === 'function';
  assert.ok(loadFreshBundle<ChildBundle>(out, VRRP_CHILD_BUNDLE, valid));
  assert.equal(loadFreshBundle<ChildBundle>(join(out, 'nowhere'), VRRP_CHILD_BUNDLE, valid), undefined);
  const later = new Date(Date.now() + 5000);
  utimesSync(join(out, VRRP_CHILD_BUNDLE.bundle), later, later);
  assert.equal(bundleFresh(out, VRRP_CHILD_BUNDLE.manifest), false);
  assert.equal(loadFreshBundle<ChildBundle>(out, VRRP_CHILD_BUNDLE, valid), undefined);
});
