// Pure counting for the test runner: node:test events in, per-file counts and skip reasons out, and the closing
// line. The summary reporter feeds it events; test/run.mjs merges runs and prints the line. No I/O here.
//
// Rules (what a user reads in the closing line):
// - A leaf test counts once as passed, failed or skipped; a describe-suite that passes because its tests pass is
//   not counted again.
// - A skipped suite counts as one skipped test: node does not run its body, so its tests are never announced.
// - A suite that fails by itself (its body threw, a hook failed) counts as one failure; one that fails only because
//   a test inside failed does not count again.
// - Strict mode (as root, see strictSkips): a skip is a failure, listed with its reason. Todo tests stay skipped.

/** @typedef {{ passed: number, failed: number, skipped: number }} Counts */
/** @typedef {{ file: string, name: string, reason: string, suite: boolean, asFailure: boolean }} Skip */
/** @typedef {{ perFile: Record<string, Counts>, failedByTests: string[], skips: Skip[], current?: string }} Tally */

export const ALLOW_SKIP_ENV = 'KT_ALLOW_SKIP';

/**
 * Whether a skip counts as a failure: when running as root (the setup script has installed every tool and the
 * kernel tests can run), unless the developer sets KT_ALLOW_SKIP=1 (e.g. no qemu on a laptop).
 * @param {{ uid: number | undefined, env: Record<string, string | undefined> }} ctx
 */
export function strictSkips({ uid, env }) {
  const allow = env[ALLOW_SKIP_ENV];
  return uid === 0 && !(allow !== undefined && allow !== '' && allow !== '0');
}

/** @returns {Tally} */
export function emptyTally() {
  return { perFile: {}, failedByTests: [], skips: [] };
}

const isSet = (v) => v !== undefined && v !== false;
const reasonOf = (v) => (v === true || v === '' ? 'skipped (no reason given)' : String(v));

/**
 * Folds one node:test event into the tally (returns a new tally; the input is not changed).
 * @param {Tally} t
 * @param {{ type: string, data?: any }} ev
 * @param {{ strict: boolean }} opts
 * @returns {Tally}
 */
export function addEvent(t, ev, { strict }) {
  const d = ev.data ?? {};
  // A test's own `file` is where it was declared (a helper such as two-directors.ts declares whole suites), so
  // tests are counted under the test file being run: with --test-concurrency=1 that is the file whose top-level
  // test node dequeued last (its name is its path).
  if (ev.type === 'test:dequeue' && d.nesting === 0 && d.file && d.name === d.file) return { ...t, current: d.file };
  if (ev.type !== 'test:pass' && ev.type !== 'test:fail') return t;
  const file = t.current ?? d.file ?? '?';
  const suite = d.details?.type === 'suite';
  const bump = (key) => {
    const counted = count(t, file, key);
    // failedByTests names the files with real test failures, not strict skips.
    return key === 'failed' && !t.failedByTests.includes(file) ? { ...counted, failedByTests: [...t.failedByTests, file] } : counted;
  };
  if (isSet(d.skip)) {
    const skip = { file, name: d.name, reason: reasonOf(d.skip), suite, asFailure: strict };
    return { ...count(t, file, strict ? 'failed' : 'skipped'), skips: [...t.skips, skip] };
  }
  if (isSet(d.todo)) return bump('skipped');
  if (suite) {
    if (ev.type === 'test:fail' && d.details?.error?.failureType !== 'subtestsFailed') return bump('failed');
    return t;
  }
  return bump(ev.type === 'test:pass' ? 'passed' : 'failed');
}

/** @param {Tally} t @param {string} file @param {keyof Counts} key @returns {Tally} */
function count(t, file, key) {
  const c = t.perFile[file] ?? { passed: 0, failed: 0, skipped: 0 };
  return { ...t, perFile: { ...t.perFile, [file]: { ...c, [key]: c[key] + 1 } } };
}

/** @param {Tally} t @returns {Counts} */
export function totals(t) {
  return Object.values(t.perFile).reduce((a, c) => ({ passed: a.passed + c.passed, failed: a.failed + c.failed, skipped: a.skipped + c.skipped }), {
    passed: 0,
    failed: 0,
    skipped: 0,
  });
}

/**
 * The list of skips, each with its reason; skips counted as failures say so.
 * @param {Skip[]} skips
 * @param {(file: string) => string} show how a file path is printed
 */
export function skipReport(skips, show = (f) => f) {
  if (!skips.length) return '';
  const strict = skips.filter((s) => s.asFailure);
  const lines = skips.map((s) => `  - ${show(s.file)}: ${s.suite ? 'suite ' : ''}'${s.name}': ${s.reason}${s.asFailure ? '  [counted as failed]' : ''}`);
  const head = strict.length
    ? `Skipped tests (${strict.length} counted as failed: running as root, where every prerequisite is installed by scripts/setup-system.sh; set ${ALLOW_SKIP_ENV}=1 to allow skips):`
    : 'Skipped tests (each says why):';
  return `${head}\n${lines.join('\n')}\n`;
}

/**
 * The closing line, `N passed, N failed, N skipped` (CI parses it).
 * @param {Counts} c
 */
export function closingLine(c) {
  return `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;
}
