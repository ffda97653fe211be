// The start-up bundles with their code caches (scripts/build-config-check.mjs buildVrrpChild and buildLaunchRead;
// daemon/child.ts and daemon/launch.ts load them through util/code-bundle.ts), built here from the TypeScript sources
// into a temporary directory: V8 accepts the caches, the VRRP child's bundle runs the child's body and holds the VRRP
// process's modules but not the checker's, every module keeps its own location (import.meta.url), the first read's
// bundle finds the sockets the modules find, and a stale manifest sends the process back to the modules.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFresh, compileBundle, loadFreshBundle } from '../../src/util/code-bundle.js';
import { LAUNCH_READ_BUNDLE, VRRP_CHILD_BUNDLE } from '../../src/daemon/fork-child.js';
import * as launchRead from '../../src/daemon/launch-read.js';
import type { ChildKind } from '../../src/daemon/children.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildLaunchRead, buildVrrpChild, trainingConfig } from '../../scripts/build-config-check.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
let out: string;

interface ChildBundle {
  runChildProcess(): void;
  CHILD_KINDS: ChildKind[];
}

before(async () => {
  out = mkdtempSync(join(tmpdir(), 'kt-vrrp-bundle-'));
  await buildVrrpChild({ entryDir: root, outDir: out, ext: 'ts' });
  await buildLaunchRead({ entryDir: root, outDir: out, ext: 'ts' });
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

test('the first read\'s bundle: V8 accepts its cache, and it reads and finds the sockets the modules do', () => {
  const r = compileBundle<typeof launchRead>(join(out, LAUNCH_READ_BUNDLE.bundle), readFileSync(join(out, LAUNCH_READ_BUNDLE.cache)));
  assert.equal(r.cacheRejected, false);
  assert.equal(bundleFresh(out, LAUNCH_READ_BUNDLE.manifest), true);
  const dir = mkdtempSync(join(tmpdir(), 'kt-launch-read-'));
  try {
    const file = join(dir, 'keepalived.conf');
    writeFileSync(file, trainingConfig());
    const opts = { configId: 'train', hostname: 'train', interfaces: new Set(['lo', 'eth0']) };
    const theirs = r.exports.checkConfig(file, opts);
    const mine = launchRead.checkConfig(file, opts);
    assert.equal(theirs.exitCode, mine.exitCode);
    assert.equal(JSON.stringify(theirs.model), JSON.stringify(mine.model));
    assert.deepEqual(r.exports.presetSpecs(theirs.model), launchRead.presetSpecs(mine.model));
    assert.ok(launchRead.presetSpecs(mine.model).length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
