// Maps the config model plus the checkers' verdict (which destinations are wanted, at what weight) onto the IPVS
// desired-state input. Pure. The checker core already swapped in the sorry server when quorum was lost, so every
// wanted destination arrives in `dests`; here we only add what the kernel needs to know about each one.
import type { KeepalivedConfig, VirtualServer } from '../config/model/index.js';
import type { DesiredDest } from '../check/types.js';
import type { RealServerSpec, SchedulerFlag, VirtualServerSpec, VirtualTarget } from './types.js';

function targets(vs: VirtualServer, cfg: KeepalivedConfig): VirtualTarget[] {
  if (vs.kind === 'fwmark') return [{ fwmark: vs.fwmark!, family: vs.family === 6 ? 6 : 4 }];
  if (vs.kind === 'address') return [{ addr: vs.address!, port: vs.port ?? 0 }];
  const group = cfg.virtualServerGroups.find((g) => g.name === vs.group);
  if (!group) return [];
  return group.entries.map((e): VirtualTarget => {
    if (e.kind === 'fwmark') return { fwmark: e.fwmark!, family: e.family };
    const port = e.port ?? vs.port ?? 0;
    return e.addressEnd && e.addressEnd !== e.address ? { range: `${e.address}-${e.addressEnd}`, port } : { addr: e.address!, port };
  });
}

/** One virtual server's IPVS spec for the destinations the checkers want now. */
export function ipvsSpecFor(vs: VirtualServer, dests: readonly DesiredDest[], cfg: KeepalivedConfig): VirtualServerSpec {
  const realServers: RealServerSpec[] = dests.map((d) => {
    const rs = vs.realServers.find((r) => r.address === d.addr && r.port === d.port);
    const sorry = vs.sorryServer && vs.sorryServer.address === d.addr && vs.sorryServer.port === d.port;
    return {
      addr: d.addr,
      port: d.port,
      weight: d.weight,
      lbKind: rs?.lbKind ?? (sorry ? vs.sorryServer!.lbKind : undefined) ?? vs.lbKind,
      tunnel: rs?.tunnel ?? vs.tunnel,
      uThreshold: rs?.uthreshold,
      lThreshold: rs?.lthreshold,
    };
  });
  const granularity = vs.persistenceGranularity;
  return {
    targets: targets(vs, cfg),
    protocol: vs.protocol,
    scheduler: vs.lbAlgo,
    schedulerFlags: vs.schedFlags.filter((f): f is SchedulerFlag => f !== 'hashed'),
    persistenceTimeout: vs.persistenceTimeoutS > 0 ? vs.persistenceTimeoutS : undefined,
    persistenceGranularity: granularity === undefined ? undefined : /^\d+$/.test(granularity) ? Number(granularity) : granularity,
    persistenceEngine: vs.persistenceEngine,
    lbKind: vs.lbKind,
    tunnel: vs.tunnel,
    realServers,
    quorumUp: true,
  };
}
