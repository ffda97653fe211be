// Chaos simulation of the VRRP node: at least 10^6 simulated seconds over consecutive seeds (2–5 directors with
// crashes, partitions, loss, link and tracker flaps, reloads, GARP pacing, v2/v3, unicast/multicast), with the four
// invariants of test/sim/chaos.ts checked after every event. Prints the seeds, the simulated time, the rate, and
// every violation with the schedule that reproduces it. CHAOS_SECONDS sets the target (default 1,000,000).
import { runChaos } from '../test/sim/chaos.js';

const target = Number(process.env.CHAOS_SECONDS ?? 1_000_000) * 1000;
const perSeed = 3_600_000; // one simulated hour per seed
const started = Date.now();
let simulated = 0, seed = 0, violations = 0, transitions = 0, events = 0;
while (simulated < target) {
  seed++;
  const r = runChaos(seed, perSeed);
  simulated += r.simulatedMs;
  transitions += r.transitions;
  events += r.events;
  if (r.violations.length) {
    violations += r.violations.length;
    console.log(`seed ${seed}: ${r.violations.length} violation(s)`);
    for (const v of r.violations) console.log(`  t=${v.at.toFixed(1)} invariant ${v.invariant}: ${v.detail}`);
    console.log(r.schedule.join('\n'));
  }
}
const secs = (Date.now() - started) / 1000;
console.log(`vrrp-chaos: seeds 1..${seed}, ${(simulated / 1000).toLocaleString('en')} simulated s, ${events.toLocaleString('en')} chaos events, ` +
  `${transitions.toLocaleString('en')} state changes, ${violations} invariant violations, ${secs.toFixed(0)} s wall (${Math.round(simulated / 1000 / secs)}× real time)`);
process.exit(violations ? 1 : 0);
