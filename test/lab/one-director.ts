// The one-director LAN most namespace suites start from, as a node:test fixture of the calling describe(): the LAN is
// made in its before() hook and torn down in its after() hook (later hooks of the suite run after these).
import { before, after } from 'node:test';
import { createLan, type Director, type Lan } from './lan.js';

/** One director and `clients` clients (default 1); `ready` gets the LAN and its director once made. */
export function oneDirectorLan(ready: (lan: Lan, d1: Director) => void, opts: { clients?: number } = {}): void {
  let lan: Lan | undefined;
  before(async () => {
    lan = await createLan({ directors: 1, clients: opts.clients ?? 1 });
    ready(lan, lan.directors[0]!);
  });
  after(async () => {
    await lan?.teardown();
  });
}
