// The chaos simulation (test/sim/chaos.ts) over the production VrrpNode, on a fixed set of seeds: crashes,
// partitions, loss, link and tracker flaps and reloads, with the four invariants checked after every event. The
// long run (10^6 simulated seconds, seeds printed) is `npm run bench -- vrrp-chaos`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos } from '../sim/chaos.js';

const SEEDS = Array.from({ length: 24 }, (_, i) => i + 1);

for (const seed of SEEDS) {
  test(`chaos seed ${seed}: one master per VRID once calm, no silent VIP holder, reloads keep VIPs, notifies in order`, () => {
    const r = runChaos(seed, 300_000);
    assert.deepEqual(r.violations, [], `seed ${seed} broke an invariant; the schedule that reproduces it:\n${r.schedule.join('\n')}`);
    assert.ok(r.transitions > 0 && r.events > 0);
  });
}
