// Runs the given guest files (test/vm/guest/*.guest.ts) in one qemu guest, for working on one of them:
//   node --import tsx test/vm/run-one.ts test/vm/guest/kill-storm.guest.ts
// npm test runs them all through test/vm/ipvs.test.ts.
import { runInGuest } from './harness.js';
const r = await runInGuest({
  command: `exec node --import tsx --test --test-concurrency=1 --test-reporter=spec ${process.argv.slice(2).join(' ')}`,
  timeoutMs: 30 * 60_000, log: (s) => process.stderr.write(`${s}\n`), onOutput: (c) => process.stdout.write(c),
});
process.exit(r.exitCode ?? 1);
