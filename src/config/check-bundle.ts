// Loads the configuration checker for `-t` / `-d` from one CommonJS file with V8's code cache, when the build made
// them (scripts/build-config-check.mjs: dist/config-check.cjs, .cache, .json). A cold `-t` otherwise spends ~30 ms
// in Node's ES module loader and compiling the ~30 modules' functions; from the bundle with its cache the bytecode
// of every function the build's training run compiled is deserialized instead. Falls back to the ES modules (the
// same code, compiled by tsc) whenever the bundle is absent or older than what tsc wrote since; V8 itself rejects a
// cache made by another V8 or with other flags (the bundle is then compiled as usual).
// `-t` / `-d` load it, and so does the daemon's first read of the configuration (daemon/launch.ts: the VRRP sockets
// wait for it); the parent's reloads import the modules, as every other module of the daemon does.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import type { checkConfig } from './check-config.js';
import type { formatDiagnostic } from './diagnostics.js';

export interface ConfigChecker {
  checkConfig: typeof checkConfig;
  formatDiagnostic: typeof formatDiagnostic;
}

/** The build's output, in the dist directory. */
export const CONFIG_CHECK_BUNDLE = 'config-check.cjs';
export const CONFIG_CHECK_CACHE = 'config-check.cache';
/** What the bundle was made from: [path relative to dist, size, mtimeMs] of every input, the bundle and cache last. */
export const CONFIG_CHECK_MANIFEST = 'config-check.json';

export interface CompiledChecker {
  checker: ConfigChecker;
  script: Script;
  /** A cache was given and V8 refused it (another V8, other flags, another source). */
  cacheRejected: boolean;
}

/**
 * Compiles and runs the bundle as Node runs a CommonJS module (the same wrapper for the build's training run and
 * for `-t`, so the cache it makes fits), with `cachedData` when given.
 */
export function compileCheckerBundle(bundlePath: string, cachedData?: Buffer): CompiledChecker {
  const source = readFileSync(bundlePath, 'utf8');
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundlePath, cachedData });
  const module = { exports: {} as Partial<ConfigChecker> };
  (script.runInThisContext() as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void)
    .call(module.exports, module.exports, createRequire(bundlePath), module, bundlePath, dirname(bundlePath));
  const { checkConfig: check, formatDiagnostic: format } = module.exports;
  if (typeof check !== 'function' || typeof format !== 'function') throw new Error(`${bundlePath} does not export checkConfig and formatDiagnostic`);
  return { checker: { checkConfig: check, formatDiagnostic: format }, script, cacheRejected: cachedData !== undefined && script.cachedDataRejected === true };
}

/** True when every file the manifest lists still has the size and modification time it had when the bundle was made. */
export function checkerBundleFresh(distDir: string): boolean {
  let inputs: Array<[string, number, number]>;
  try {
    inputs = (JSON.parse(readFileSync(join(distDir, CONFIG_CHECK_MANIFEST), 'utf8')) as { inputs: Array<[string, number, number]> }).inputs;
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

/** The checker: from the fresh bundle with its cache, else from the ES modules. */
export async function loadConfigChecker(distDir = fileURLToPath(new URL('../../', import.meta.url))): Promise<ConfigChecker> {
  if (checkerBundleFresh(distDir)) {
    let cache: Buffer | undefined;
    try {
      cache = readFileSync(join(distDir, CONFIG_CHECK_CACHE));
    } catch {
      cache = undefined;
    }
    try {
      return compileCheckerBundle(join(distDir, CONFIG_CHECK_BUNDLE), cache).checker;
    } catch {
      // A damaged bundle: the modules are the same code.
    }
  }
  const [{ checkConfig: check }, { formatDiagnostic: format }] = await Promise.all([import('./check-config.js'), import('./diagnostics.js')]);
  return { checkConfig: check, formatDiagnostic: format };
}
