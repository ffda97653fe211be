// Maps the resolved config model onto the checker subsystem's input (CheckConfig). Pure. The model already applied
// keepalived's VS → RS → checker inheritance and defaults, so this only renames and reshapes.
import type { Checker, KeepalivedConfig, ScriptSpec, VirtualServer } from '../config/model/index.js';
import type { CheckConfig, CheckedVirtualServer, CheckerConfig, ScriptRef } from './types.js';

/** Who runs a script, or null when keepalived would remove it (src/notify/script-user.ts scriptUserResolver). */
export type CheckScriptUsers = (s: ScriptSpec, role: 'notify' | 'misc') => { uid: number; gid: number } | null;

/** With `users`, the decided ids travel as numeric `user`/`group` (they resolve to themselves, so the runner never
 * looks a name up again and never throws); a removed script is left out. Without, the names pass through as written. */
function script(s: ScriptSpec | undefined, users?: CheckScriptUsers, role: 'notify' | 'misc' = 'notify'): ScriptRef | undefined {
  if (!s) return undefined;
  if (!users) return { cmd: s.raw, argv: s.argv, user: s.user, group: s.group };
  const who = users(s, role);
  return who ? { cmd: s.raw, argv: s.argv, user: String(who.uid), group: String(who.gid) } : undefined;
}

/** Stable identity of a virtual server across the checker, IPVS and notify layers: keepalived's display key. */
export const vsKeyOf = (vs: VirtualServer): string => vs.key;

function checker(c: Checker, cfg: KeepalivedConfig, users?: CheckScriptUsers): CheckerConfig | undefined {
  const timing = {
    delayLoopMs: c.delayLoopMs, delayBeforeRetryMs: c.delayBeforeRetryMs, retry: c.retry, warmupMs: c.warmupMs,
    alpha: c.alpha, logAllFailures: c.logAllFailures,
  };
  const connect = {
    connectIp: c.connectIp, connectPort: c.connectPort, bindTo: c.bindTo, bindPort: c.bindPort, connectTimeoutMs: c.connectTimeoutMs,
  };
  switch (c.type) {
    case 'TCP_CHECK':
      return { kind: 'TCP_CHECK', ...timing, ...connect };
    case 'HTTP_GET':
    case 'SSL_GET':
      return {
        kind: c.type, ...timing, ...connect,
        urls: c.urls.map((u) => ({
          path: u.path, digest: u.digest, statusCodes: u.statusCodes, virtualhost: u.virtualhost, regex: u.regex,
          regexNoMatch: u.regexNoMatch, regexOptions: u.regexOptions, regexMinOffset: u.regexMinOffset, regexMaxOffset: u.regexMaxOffset,
        })),
        virtualhost: c.virtualhost, httpProtocol: c.httpProtocol, fastRecovery: c.fastRecovery, enableSni: c.enableSni,
        sniName: c.sniName,
        tls: c.type === 'SSL_GET' && cfg.ssl
          ? { certificate: cfg.ssl.certificate, key: cfg.ssl.key, ca: cfg.ssl.ca, password: cfg.ssl.password }
          : undefined,
      };
    case 'MISC_CHECK': {
      // keepalived removes a MISC_CHECK whose script fails the security check (check_misc_script_security).
      const run = script(c.script, users, 'misc');
      if (!run) return undefined;
      return {
        kind: 'MISC_CHECK', ...timing, path: c.script.raw, argv: c.script.argv, timeoutMs: c.timeoutMs, dynamic: c.dynamic,
        user: run.user, group: run.group,
      };
    }
  }
}

export function checkConfigFrom(cfg: KeepalivedConfig, users?: CheckScriptUsers): CheckConfig {
  const virtualServers: CheckedVirtualServer[] = cfg.virtualServers.map((vs) => ({
    key: vsKeyOf(vs),
    protocol: vs.protocol.toLowerCase() as CheckedVirtualServer['protocol'],
    addr: vs.address,
    port: vs.port,
    fwmark: vs.fwmark,
    group: vs.group,
    quorum: vs.quorum,
    hysteresis: vs.hysteresis,
    quorumUp: script(vs.quorumUp, users),
    quorumDown: script(vs.quorumDown, users),
    sorryServer: vs.sorryServer && {
      addr: vs.sorryServer.address, port: vs.sorryServer.port, weight: 1, inhibit: vs.sorryServer.inhibit,
    },
    virtualhost: vs.virtualhost,
    omega: vs.omega,
    haSuspend: vs.haSuspend,
    realServers: vs.realServers.map((rs) => ({
      addr: rs.address, port: rs.port, weight: rs.weight, inhibitOnFailure: rs.inhibitOnFailure,
      notifyUp: script(rs.notifyUp, users), notifyDown: script(rs.notifyDown, users), virtualhost: rs.virtualhost,
      checkers: rs.checkers.flatMap((c) => checker(c, cfg, users) ?? []),
    })),
  }));
  return { virtualServers };
}
