// The test runner's counting (test/helpers/tally.mjs) and its reporter, run over fixture files the way
// test/run.mjs runs the suite: what the closing line and the skip list say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain JS module without type declarations (the runner is plain node)
import { addEvent, closingLine, emptyTally, skipReport, strictSkips, totals } from '../helpers/tally.mjs';

const repo = join(import.meta.dirname, '..', '..');
const fixture = (name: string): string => join(repo, 'test', 'unit', 'fixtures', 'runner', name);

/** The environment of an inner test runner: ours without NODE_TEST_CONTEXT (which would make it report to our
 * runner instead of running its own reporters) and without the runner's variables, plus `env`. */
function innerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _ctx, KT_SUMMARY_FILE: _file, KT_ALLOW_SKIP: _allow, ...base } = process.env;
  return { ...base, ...env };
}

/** Runs node's test runner on `files` with the summary reporter alone (it prints the skips and the closing line). */
function report(files: string[], env: NodeJS.ProcessEnv): { out: string; status: number | null } {
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=./test/helpers/summary-reporter.mjs', ...files], {
    cwd: repo,
    encoding: 'utf8',
    env: innerEnv(env),
  });
  return { out: r.stdout, status: r.status };
}
const lastLine = (out: string): string => out.trim().split('\n').at(-1) ?? '';

test('a skipped suite is counted and listed with its reason (developer mode: skips allowed)', () => {
  const { out } = report([fixture('skips.fixture.mjs')], { KT_ALLOW_SKIP: '1' });
  // passes: 'passes', 'passes too'; skipped: the suite, 'skips', the todo.
  assert.equal(lastLine(out), '2 passed, 0 failed, 3 skipped');
  assert.match(out, /suite 'a suite that skips': needs tshark/);
  assert.match(out, /'skips': needs qemu/);
  assert.doesNotMatch(out, /counted as failed/);
});

test('as root each skip is counted as failed with its reason, unless KT_ALLOW_SKIP=1', () => {
  const { out, status } = report([fixture('skips.fixture.mjs')], {});
  if (process.getuid?.() === 0) {
    assert.equal(lastLine(out), '2 passed, 2 failed, 1 skipped');
    assert.match(out, /suite 'a suite that skips': needs tshark {2}\[counted as failed\]/);
  } else {
    assert.equal(lastLine(out), '2 passed, 0 failed, 3 skipped');
  }
  assert.equal(status, 0, "node's own status does not see the strict rule; test/run.mjs exits on the closing line");
});

test('strict mode (as root): each skip is a failure with its reason; a todo stays skipped', () => {
  const t = [
    { type: 'test:pass', data: { file: '/r/test/netns/a.test.ts', name: 'suite A', skip: 'needs tshark', details: { type: 'suite' } } },
    { type: 'test:pass', data: { file: '/r/test/netns/a.test.ts', name: 'x', details: {} } },
    { type: 'test:pass', data: { file: '/r/test/unit/b.test.ts', name: 'later', todo: true, details: {} } },
  ].reduce((acc, ev) => addEvent(acc, ev, { strict: true }), emptyTally());
  assert.deepEqual(totals(t), { passed: 1, failed: 1, skipped: 1 });
  assert.deepEqual(t.failedByTests, [], 'a strict skip is not a test failure');
  const list = skipReport(t.skips);
  assert.match(list, /1 counted as failed: running as root/);
  assert.match(list, /KT_ALLOW_SKIP=1/);
  assert.match(list, /suite 'suite A': needs tshark {2}\[counted as failed\]/);
});

test('strict mode follows root and KT_ALLOW_SKIP', () => {
  assert.equal(strictSkips({ uid: 0, env: {} }), true);
  assert.equal(strictSkips({ uid: 0, env: { KT_ALLOW_SKIP: '1' } }), false);
  assert.equal(strictSkips({ uid: 0, env: { KT_ALLOW_SKIP: '0' } }), true);
  assert.equal(strictSkips({ uid: 1000, env: {} }), false);
});

test('tests declared by a helper count under the test file that ran them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-tally-'));
  try {
    const summary = join(dir, 'summary.json');
    const a = fixture('uses-helper-a.fixture.mjs');
    const b = fixture('uses-helper-b.fixture.mjs');
    spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=./test/helpers/summary-reporter.mjs', a, b], {
      cwd: repo,
      env: innerEnv({ KT_SUMMARY_FILE: summary, KT_ALLOW_SKIP: '1' }),
    });
    const t = JSON.parse(readFileSync(summary, 'utf8'));
    assert.deepEqual(t.perFile, { [a]: { passed: 0, failed: 1, skipped: 0 }, [b]: { passed: 2, failed: 0, skipped: 0 } });
    assert.deepEqual(t.failedByTests, [a]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a suite whose body throws counts as a failure; a failing test counts once', () => {
  const { out, status } = report([fixture('fails.fixture.mjs')], { KT_ALLOW_SKIP: '1' });
  assert.equal(lastLine(out), '0 passed, 2 failed, 0 skipped');
  assert.notEqual(status, 0);
});

test('the closing line is the counts', () => {
  assert.equal(closingLine({ passed: 612, failed: 0, skipped: 0 }), '612 passed, 0 failed, 0 skipped');
});

test('test/run.mjs retries nothing: a real-kernel file that fails once is a failure', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-retry-'));
  try {
    // Fails on its first run and would pass on a second (a marker file remembers the first run).
    mkdirSync(join(dir, 'netns'));
    const marker = join(dir, 'ran-once');
    writeFileSync(
      join(dir, 'netns', 'flaky.test.ts'),
      `import { test } from 'node:test';\nimport { existsSync, writeFileSync } from 'node:fs';\n` +
        `test('flaky', () => { if (!existsSync(${JSON.stringify(marker)})) { writeFileSync(${JSON.stringify(marker)}, ''); throw new Error('first run'); } });\n`,
    );
    const r = spawnSync(process.execPath, ['test/run.mjs', dir], { cwd: repo, encoding: 'utf8', env: innerEnv({ KT_ALLOW_SKIP: '1' }) });
    assert.doesNotMatch(r.stdout, /Retr/);
    assert.equal(lastLine(r.stdout), '0 passed, 1 failed, 0 skipped');
    assert.notEqual(r.status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
