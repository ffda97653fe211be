// Maps the resolved config model onto the checker subsystem's input (CheckConfig). Pure. The model already applied
// keepalived's VS → RS → checker inheritance and defaults, so this only renames and reshapes.
import type { Checker, KeepalivedConfig, ScriptSpec, VirtualServer } from '../config/model/index.js';
import type { CheckConfig, CheckedVirtualServer, CheckerConfig, ScriptRef } from './types.js';

const script = (s: ScriptSpec | undefined): ScriptRef | undefined => s && { cmd: s.raw, argv: s.argv, user: s.user, group: s.group };

/** Stable identity of a virtual server across the checker, IPVS and notify layers: keepalived's display key. */
export const vsKeyOf = (vs: VirtualServer): string => vs.key;

function checker(c: Checker, cfg: KeepalivedConfig): CheckerConfig {
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
          regexNoMatch: u.regexNoMatch,
        })),
        virtualhost: c.virtualhost, httpProtocol: c.httpProtocol, fastRecovery: c.fastRecovery, enableSni: c.enableSni,
        sniName: c.sniName,
        tls: c.type === 'SSL_GET' && cfg.ssl
          ? { certificate: cfg.ssl.certificate, key: cfg.ssl.key, ca: cfg.ssl.ca, password: cfg.ssl.password }
          : undefined,
      };
    case 'MISC_CHECK':
      return {
        kind: 'MISC_CHECK', ...timing, path: c.script.raw, argv: c.script.argv, timeoutMs: c.timeoutMs, dynamic: c.dynamic,
        user: c.script.user, group: c.script.group,
      };
  }
}

export function checkConfigFrom(cfg: KeepalivedConfig): CheckConfig {
  const virtualServers: CheckedVirtualServer[] = cfg.virtualServers.map((vs) => ({
    key: vsKeyOf(vs),
    protocol: vs.protocol.toLowerCase() as CheckedVirtualServer['protocol'],
    addr: vs.address,
    port: vs.port,
    fwmark: vs.fwmark,
    group: vs.group,
    quorum: vs.quorum,
    hysteresis: vs.hysteresis,
    quorumUp: script(vs.quorumUp),
    quorumDown: script(vs.quorumDown),
    sorryServer: vs.sorryServer && {
      addr: vs.sorryServer.address, port: vs.sorryServer.port, weight: 1, inhibit: vs.sorryServer.inhibit,
    },
    virtualhost: vs.virtualhost,
    omega: vs.omega,
    haSuspend: vs.haSuspend,
    realServers: vs.realServers.map((rs) => ({
      addr: rs.address, port: rs.port, weight: rs.weight, inhibitOnFailure: rs.inhibitOnFailure,
      notifyUp: script(rs.notifyUp), notifyDown: script(rs.notifyDown), virtualhost: rs.virtualhost,
      checkers: rs.checkers.map((c) => checker(c, cfg)),
    })),
  }));
  return { virtualServers };
}
