// Custom node:test reporter: counts tests per file with test/helpers/tally.mjs. With KT_SUMMARY_FILE set
// (test/run.mjs does), it writes the tally there and test/run.mjs prints the skips and the closing line after any
// retry; otherwise it prints them itself. As root a skip counts as a failure unless KT_ALLOW_SKIP=1 (tally.mjs).
import { writeFileSync } from 'node:fs';
import { addEvent, closingLine, emptyTally, skipReport, strictSkips, totals } from './tally.mjs';

export default async function* summary(source) {
  const strict = strictSkips({ uid: process.getuid?.(), env: process.env });
  let t = emptyTally();
  for await (const ev of source) t = addEvent(t, ev, { strict });
  if (process.env.KT_SUMMARY_FILE) {
    writeFileSync(process.env.KT_SUMMARY_FILE, JSON.stringify(t));
    return;
  }
  const skips = skipReport(t.skips);
  yield `${skips ? `\n${skips}` : ''}\n${closingLine(totals(t))}\n`;
}
