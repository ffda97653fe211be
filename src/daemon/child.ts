// Entry point of every child process (fork-child.ts forks it; the body is child-main.ts). The VRRP child runs from
// the bundle the build made of its modules, with V8's code cache (util/code-bundle.ts; dist/vrrp-child.cjs from
// scripts/build-config-check.mjs), while its manifest matches: its start sets when the first decision can come
// (issue 11), and Node's ES module loader spent ~50-80 ms finding, reading and compiling its ~100 modules. Any other
// child, and the VRRP child without a fresh bundle, imports the modules.
import { fileURLToPath } from 'node:url';
import { loadFreshBundle } from '../util/code-bundle.js';
import { CHILD_KIND_ENV, VRRP_CHILD_BUNDLE } from './fork-child.js';
import { restoreExtraCaCerts } from '../util/extra-ca-certs.js';

// The parent's environment, for the scripts this child runs (fork-child.ts moved NODE_EXTRA_CA_CERTS aside).
restoreExtraCaCerts();

interface ChildBody {
  runChildProcess(): void;
}

const bundled = process.env[CHILD_KIND_ENV] === 'vrrp'
  ? loadFreshBundle<ChildBody>(fileURLToPath(new URL('../../', import.meta.url)), VRRP_CHILD_BUNDLE, (e) => typeof e.runChildProcess === 'function')
  : undefined;
(bundled ?? (await import('./child-main.js'))).runChildProcess();
