// Loading a CommonJS bundle the build made from tsc's output (scripts/build-config-check.mjs: esbuild, then V8's
// code cache taken after a training run, and a manifest of every input), as Node runs a CommonJS module but with
// `cachedData`: the bytecode of what the training compiled is deserialized instead of Node's module loader finding,
// reading and compiling the ES modules one by one. Used while the manifest matches the files (a later tsc run makes
// the bundle stale); the caller falls back to the ES modules otherwise. V8 itself refuses a cache made by another V8
// or with other flags (the bundle is then compiled as usual). The configuration checker (config/check-bundle.ts),
// the daemon's first read (daemon/launch.ts) and the VRRP child (daemon/child.ts) load theirs through this.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** A bundle's three files, in the dist directory. */
export interface BundleFiles {
  bundle: string;
  cache: string;
  /** What the bundle was made from: [path relative to dist, size, mtimeMs] of every input, the bundle and cache last. */
  manifest: string;
}

export interface CompiledBundle<T> {
  exports: T;
  script: Script;
  /** A cache was given and V8 refused it (another V8, other flags, another source). */
  cacheRejected: boolean;
}

/**
 * Compiles and runs the bundle in the wrapper Node gives a CommonJS module (the same for the build's training run
 * and for a later load, so the cache made by one fits the other), with `cachedData` when given.
 */
export function compileBundle<T extends object>(bundlePath: string, cachedData?: Buffer): CompiledBundle<T> {
  const source = readFileSync(bundlePath, 'utf8');
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundlePath, cachedData });
  const module = { exports: {} as T };
  (script.runInThisContext() as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void)
    .call(module.exports, module.exports, createRequire(bundlePath), module, bundlePath, dirname(bundlePath));
  return { exports: module.exports, script, cacheRejected: cachedData !== undefined && script.cachedDataRejected === true };
}

/** True when every file the manifest lists still has the size and modification time it had when the bundle was made. */
export function bundleFresh(distDir: string, manifest: string): boolean {
  let inputs: Array<[string, number, number]>;
  try {
    inputs = (JSON.parse(readFileSync(join(distDir, manifest), 'utf8')) as { inputs: Array<[string, number, number]> }).inputs;
  } catch {
    return false;
  }
  if (!Array.isArray(inputs) || !inputs.length) return false;
  for (const [rel, size, mtimeMs] of inputs) {
    try {
      const st = statSync(join(distDir, rel));
      if (st.size !== size || st.mtimeMs !== mtimeMs) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The fresh bundle's exports, compiled with its cache when there is one; undefined when it is absent, stale, or
 * fails to load or `valid` refuses its exports (the ES modules are the same code).
 */
export function loadFreshBundle<T extends object>(distDir: string, files: BundleFiles, valid: (exports: Partial<T>) => boolean): T | undefined {
  if (!bundleFresh(distDir, files.manifest)) return undefined;
  let cache: Buffer | undefined;
  try {
    cache = readFileSync(join(distDir, files.cache));
  } catch {
    cache = undefined;
  }
  try {
    const { exports } = compileBundle<Partial<T>>(join(distDir, files.bundle), cache);
    return valid(exports) ? (exports as T) : undefined;
  } catch {
    return undefined;
  }
}
