// What the daemon's first process needs before its VRRP sockets are open (launch.ts): the configuration checker,
// the sockets a configuration's plan can open before the VRRP process runs, and the socket open itself. One module,
// so the build bundles it with its code cache (scripts/build-config-check.mjs buildLaunchRead, loaded through
// util/code-bundle.ts): this path is the start of the master-down wait, and Node's ES module loader spent ~25 ms here
// on the checker bundle plus the plan's and the socket's ~15 modules. launch.ts imports this module when the bundle
// is absent or stale.
import { checkConfig } from '../config/check-config.js';
import type { KeepalivedConfig } from '../config/model/index.js';
import { vrrpPlan } from '../vrrp/plan.js';
import { presetSocketSpecs, type SocketSpec } from '../vrrp/socket-spec.js';
import { openVrrpSocketFd } from '../net/vrrp-socket.js';

export { checkConfig };

/** The preset sockets of a configuration's plan (vrrp/socket-spec.ts); scripts play no part, nobody's is resolved. */
export function presetSpecs(cfg: KeepalivedConfig): SocketSpec[] {
  return cfg.vrrpInstances.length ? presetSocketSpecs(vrrpPlan(cfg, () => null)) : [];
}

/** Opens one preset socket; its descriptor (throws when it cannot be opened here). */
export function openPresetFd(spec: SocketSpec): number {
  return openVrrpSocketFd(spec.family, spec);
}
