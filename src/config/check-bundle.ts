// Loads the configuration checker for `-t` / `-d` from one CommonJS file with V8's code cache, when the build made
// them (scripts/build-config-check.mjs: dist/config-check.cjs, .cache, .json; util/code-bundle.ts loads them). A cold
// `-t` otherwise spends ~30 ms in Node's ES module loader and compiling the ~30 modules' functions; from the bundle
// with its cache the bytecode of every function the build's training run compiled is deserialized instead. Falls
// back to the ES modules (the same code, compiled by tsc) whenever the bundle is absent or older than what tsc wrote
// since. `-t` / `-d` load it; the daemon's first read has a bundle of its own with the VRRP socket open in it
// (daemon/launch-read.ts), and the parent's reloads import the modules, as every other module of the daemon does.
import { fileURLToPath } from 'node:url';
import type { Script } from 'node:vm';
import { bundleFresh, compileBundle, loadFreshBundle } from '../util/code-bundle.js';
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
const FILES = { bundle: CONFIG_CHECK_BUNDLE, cache: CONFIG_CHECK_CACHE, manifest: CONFIG_CHECK_MANIFEST };

export interface CompiledChecker {
  checker: ConfigChecker;
  script: Script;
  /** A cache was given and V8 refused it (another V8, other flags, another source). */
  cacheRejected: boolean;
}

const isChecker = (e: Partial<ConfigChecker>): boolean => typeof e.checkConfig === 'function' && typeof e.formatDiagnostic === 'function';

/** Compiles and runs the bundle (util/code-bundle.ts), with `cachedData` when given. */
export function compileCheckerBundle(bundlePath: string, cachedData?: Buffer): CompiledChecker {
  const { exports, script, cacheRejected } = compileBundle<Partial<ConfigChecker>>(bundlePath, cachedData);
  if (!isChecker(exports)) throw new Error(`${bundlePath} does not export checkConfig and formatDiagnostic`);
  return { checker: { checkConfig: exports.checkConfig!, formatDiagnostic: exports.formatDiagnostic! }, script, cacheRejected };
}

/** True when every file the manifest lists still has the size and modification time it had when the bundle was made. */
export function checkerBundleFresh(distDir: string): boolean {
  return bundleFresh(distDir, CONFIG_CHECK_MANIFEST);
}

/** The checker: from the fresh bundle with its cache, else from the ES modules. */
export async function loadConfigChecker(distDir = fileURLToPath(new URL('../../', import.meta.url))): Promise<ConfigChecker> {
  const bundled = loadFreshBundle<ConfigChecker>(distDir, FILES, isChecker);
  if (bundled) return { checkConfig: bundled.checkConfig, formatDiagnostic: bundled.formatDiagnostic };
  const [{ checkConfig: check }, { formatDiagnostic: format }] = await Promise.all([import('./check-config.js'), import('./diagnostics.js')]);
  return { checkConfig: check, formatDiagnostic: format };
}
