// Custom node:test reporter: prints the closing line "N passed, N failed, N skipped" that CI reads.
// Counts leaf tests only (a suite that passes because its tests pass is not counted twice).
export default async function* summary(source) {
  let passed = 0, failed = 0, skipped = 0;
  const skips = [];
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    const d = ev.data;
    if (d.details?.type === 'suite') continue;
    if (d.skip !== undefined && d.skip !== false) { skipped++; skips.push(`${d.name}: ${d.skip === true ? 'skipped' : d.skip}`); continue; }
    if (d.todo !== undefined && d.todo !== false) { skipped++; continue; }
    if (ev.type === 'test:pass') passed++; else failed++;
  }
  if (skips.length) yield `\nSkipped tests (each says why):\n${skips.map((s) => `  - ${s}`).join('\n')}\n`;
  yield `\n${passed} passed, ${failed} failed, ${skipped} skipped\n`;
}
