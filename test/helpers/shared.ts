// The reference folder `shared/` sits beside the project root (CI: a fresh clone with shared/ beside it).
// KT_SHARED overrides; otherwise walk up from the repo looking for shared/vectors.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function sharedDir(): string {
  if (process.env.KT_SHARED) return process.env.KT_SHARED;
  let dir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  for (let i = 0; i < 5; i++) {
    const cand = join(dir, '..', 'shared');
    if (existsSync(join(cand, 'vectors'))) return resolve(cand);
    dir = dirname(dir);
  }
  throw new Error('shared/ reference folder not found beside the project (set KT_SHARED)');
}

export const sharedPath = (...parts: string[]): string => join(sharedDir(), ...parts);

/** The golden packet captures, copied from shared/vectors into test/fixtures/vectors (tests never depend on where
 * the clone sits). */
export const vectorPath = (file: string): string => fileURLToPath(new URL(`../fixtures/vectors/${file}`, import.meta.url));
