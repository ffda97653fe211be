// Custom node:test reporter: counts leaf tests per file. With KT_SUMMARY_FILE set (test/run.mjs does), it writes
// the per-file counts there and test/run.mjs prints the closing line; otherwise it prints
// "N passed, N failed, N skipped" itself. A suite that passes because its tests pass is not counted twice.
import { writeFileSync } from 'node:fs';

export default async function* summary(source) {
  const perFile = {};
  const skips = [];
  const bump = (file, key) => {
    const f = (perFile[file ?? '?'] ??= { passed: 0, failed: 0, skipped: 0 });
    f[key]++;
  };
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    const d = ev.data;
    if (d.details?.type === 'suite') continue;
    if (d.skip !== undefined && d.skip !== false) {
      bump(d.file, 'skipped');
      skips.push(`${d.name}: ${d.skip === true ? 'skipped' : d.skip}`);
      continue;
    }
    if (d.todo !== undefined && d.todo !== false) { bump(d.file, 'skipped'); continue; }
    bump(d.file, ev.type === 'test:pass' ? 'passed' : 'failed');
  }
  if (skips.length) yield `\nSkipped tests (each says why):\n${skips.map((s) => `  - ${s}`).join('\n')}\n`;
  if (process.env.KT_SUMMARY_FILE) {
    writeFileSync(process.env.KT_SUMMARY_FILE, JSON.stringify(perFile));
    return;
  }
  const t = Object.values(perFile).reduce((a, f) => ({ passed: a.passed + f.passed, failed: a.failed + f.failed, skipped: a.skipped + f.skipped }), { passed: 0, failed: 0, skipped: 0 });
  yield `\n${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped\n`;
}
