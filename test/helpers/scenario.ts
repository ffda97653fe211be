// Shared pieces of the namespace VRRP scenarios: a lab per describe block that is always torn down, and checks an
// operator would make (who holds the VIP, polled).
import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import { readdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { createLan, sleep, type Capture, type Lan, type LanOptions, type Director } from './lab.js';

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

/**
 * A suite's lab of two directors and its VRRP capture on the bridge, built before the suite's cases and torn down
 * after them: read its fields inside the cases (they are set by the suite's `before`).
 */
export function twoDirectorLab(o: { clients: number; capture: string }): { lan: Lan; d1: Director; d2: Director; vip: string; cap: Capture } {
  const lab = {} as { lan: Lan; d1: Director; d2: Director; vip: string; cap: Capture };
  let teardown: () => Promise<void> = async () => {};
  before(async () => {
    ({ lan: lab.lan, teardown } = await labFor({ directors: 2, clients: o.clients }));
    [lab.d1, lab.d2] = lab.lan.directors as [Director, Director];
    lab.vip = lab.lan.vip();
    lab.cap = await lab.lan.capture('bridge', o.capture);
  });
  after(() => teardown());
  return lab;
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

/** An executable check script in the director's directory that exits with the number in its state file. */
export function checkScript(d: Director, name = 'chk'): { path: string; set: (code: number) => void } {
  const state = join(d.dir, `${name}.state`);
  const path = join(d.dir, `${name}.sh`);
  writeFileSync(state, '0\n', { mode: 0o644 });
  writeFileSync(path, `#!/bin/sh\nexit "$(cat '${state}')"\n`, { mode: 0o755 });
  chmodSync(path, 0o755);
  return { path, set: (code) => writeFileSync(state, `${code}\n`) };
}

