// Maps the config model plus the checkers' verdict (which destinations are wanted, at what weight) and the
// operator's real-server overrides (overrides.ts) onto the IPVS desired-state input. Pure. The checker core already swapped in the sorry server when quorum was lost, so every
// wanted destination arrives in `dests`; here we only add what the kernel needs to know about each one.
import type { KeepalivedConfig, LbKind, Protocol, TunnelSpec, VirtualServer } from '../config/model/index.js';
import type { Family } from '../net/address.js';
import type { DesiredDest } from '../check/checker-types.js';
import { overrideDests, type RsOverride } from './overrides.js';

// ---- the desired-state input (desired.ts expands it into kernel services and destinations); method, tunnel and
// protocol are the config model's own types ----

/** Where a virtual server listens: one address, a group entry (`A.B.C.D-E` range), or a firewall mark. */
export type VirtualTarget =
  | { addr: string; port: number; range?: undefined; fwmark?: undefined }
  | { range: string; port: number; addr?: undefined; fwmark?: undefined }
  | { fwmark: number; family?: Family; addr?: undefined; range?: undefined };

export interface RealServerSpec {
  addr: string;
  /** Defaults to the virtual server's port; forced to it for DR/TUN, to 0 for fwmark non-NAT (keepalived). */
  port?: number;
  /** The checker's verdict: present with this weight (0 = inhibited). Absent servers are simply not listed. */
  weight: number;
  lbKind?: LbKind;
  tunnel?: TunnelSpec;
  uThreshold?: number;
  lThreshold?: number;
}

export type SchedulerFlag = 'flag-1' | 'flag-2' | 'flag-3' | 'sh-port' | 'sh-fallback' | 'mh-port' | 'mh-fallback' | 'ops';

export interface VirtualServerSpec {
  /** One entry for `virtual_server IP PORT` / `fwmark N`, the group's entries for `virtual_server group NAME`. */
  targets: VirtualTarget[];
  protocol: Protocol;
  /** Default 'wlc' (keepalived's default). */
  scheduler?: string;
  schedulerFlags?: SchedulerFlag[];
  /** Seconds; undefined = not persistent. A zero-port service is forced persistent (360 s) like keepalived. */
  persistenceTimeout?: number;
  /** IPv4 netmask text ("255.255.255.0") or IPv6 prefix length. */
  persistenceGranularity?: string | number;
  persistenceEngine?: string;
  /** Default NAT. */
  lbKind?: LbKind;
  tunnel?: TunnelSpec;
  /** Real servers currently wanted in the table (the checker output). */
  realServers: RealServerSpec[];
  /** Used while `quorumUp` is false; with `inhibit` it stays in the table at weight 0 otherwise. */
  sorryServer?: RealServerSpec & { inhibit?: boolean };
  /** Default true. When false, real servers are replaced by the sorry server (if any). */
  quorumUp?: boolean;
}

// ---- from the model ----

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

/** One virtual server's IPVS spec for the destinations the checkers want now, after the operator's overrides. */
export function ipvsSpecFor(vs: VirtualServer, dests: readonly DesiredDest[], cfg: KeepalivedConfig, overrides: readonly RsOverride[] = []): VirtualServerSpec {
  const realServers: RealServerSpec[] = overrideDests(vs, dests, overrides).map((d) => {
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
