// Shared pieces of the namespace VRRP scenarios: a lab per describe block that is always torn down, and checks an
// operator would make (who holds the VIP, polled).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createLan, sleep, type Lan, type LanOptions } from './lab.js';

/** Creates the lab; returns a teardown that also asserts no namespace of it is left. */
export async function labFor(o: LanOptions): Promise<{ lan: Lan; teardown: () => Promise<void> }> {
  const lan = await createLan(o);
  const names = lan.namespaceNames.slice();
  return {
    lan,
    teardown: async () => {
      await lan.teardown();
      let left: string[] = [];
      try {
        left = readdirSync('/run/netns').filter((n) => names.includes(n));
      } catch {
        /* no /run/netns: nothing left */
      }
      assert.deepEqual(left, [], 'no namespace of this test is left');
    },
  };
}

/** Polls the VIP holders every intervalMs for durationMs; returns every distinct answer seen. */
export async function pollHolders(lan: Lan, vip: string, durationMs: number, intervalMs = 50): Promise<string[][]> {
  const seen = new Map<string, string[]>();
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    const h = await lan.vipHolders(vip);
    seen.set(h.join(','), h);
    await sleep(intervalMs);
  }
  return [...seen.values()];
}
