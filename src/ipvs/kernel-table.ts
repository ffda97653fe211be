// The kernel's IPVS table as data, shared by the codec, the client, the desired-state builder and the reconciler:
// services, destinations, their stats, timeouts, sync daemons, and the <linux/ip_vs.h> constants. (What we want in
// it, the desired-state input, is VirtualServerSpec in virtual-server-spec.ts.)
// Values are kernel values (numbers from <linux/ip_vs.h>, AF_*/IPPROTO_* from src/net/constants.ts), addresses are
// canonical strings (src/net/address.ts).
import type { Af, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../net/constants.js';

export type IpvsProtocol = typeof IPPROTO_TCP | typeof IPPROTO_UDP | typeof IPPROTO_SCTP;

/** Forwarding methods (IP_VS_CONN_F_*, masked with IP_VS_CONN_F_FWD_MASK). */
export const FWD_MASQ = 0;
export const FWD_LOCALNODE = 1;
export const FWD_TUNNEL = 2;
export const FWD_DROUTE = 3;
export const FWD_BYPASS = 4;
export const FWD_MASK = 7;

export const TUN_IPIP = 0;
export const TUN_GUE = 1;
export const TUN_GRE = 2;
export const TUN_FLAG_NOCSUM = 0;
export const TUN_FLAG_CSUM = 1;
export const TUN_FLAG_REMCSUM = 2;

/** Service flags (IP_VS_SVC_F_*). HASHED is set by the kernel itself and never compared. */
export const SVC_F_PERSISTENT = 0x1;
export const SVC_F_HASHED = 0x2;
export const SVC_F_ONEPACKET = 0x4;
export const SVC_F_SCHED1 = 0x8;
export const SVC_F_SCHED2 = 0x10;
export const SVC_F_SCHED3 = 0x20;

export const IP_VS_STATE_MASTER = 1;
export const IP_VS_STATE_BACKUP = 2;

/** Default persistence timeout when `persistence_timeout` is given without a value (libipvs.h). */
export const IPVS_SVC_PERSISTENT_TIMEOUT = 360;
export const IPVS_WEIGHT_MAX = 0x7fffffff;

/** What identifies a virtual service in the kernel. */
export type ServiceKey =
  | { af: Af; protocol: IpvsProtocol; addr: string; port: number; fwmark?: undefined }
  | { af: Af; fwmark: number; protocol?: undefined; addr?: undefined; port?: undefined };

export interface ServiceSettings {
  scheduler: string;
  /** IP_VS_SVC_F_* without HASHED. */
  flags: number;
  /** Persistence timeout in seconds (meaningful with SVC_F_PERSISTENT). */
  timeout: number;
  /** IPv4: the mask as an unsigned 32-bit number (0xffffffff = /32). IPv6: the prefix length (128). */
  netmask: number;
  /** Persistence engine name ("sip"), or undefined. */
  peName?: string;
}

export type ServiceSpec = ServiceKey & ServiceSettings;

export interface DestKey {
  af: Af;
  addr: string;
  port: number;
}

export interface DestSettings {
  /** FWD_MASQ | FWD_TUNNEL | FWD_DROUTE (| FWD_LOCALNODE, FWD_BYPASS as the kernel reports them). */
  fwd: number;
  weight: number;
  uThreshold: number;
  lThreshold: number;
  /** Tunnel encapsulation, only meaningful with FWD_TUNNEL. */
  tunType?: number;
  tunPort?: number;
  tunFlags?: number;
}

export type DestSpec = DestKey & DestSettings;

export interface IpvsStats {
  conns: bigint;
  inpkts: bigint;
  outpkts: bigint;
  inbytes: bigint;
  outbytes: bigint;
  cps: bigint;
  inpps: bigint;
  outpps: bigint;
  inbps: bigint;
  outbps: bigint;
}

/** A service as the kernel reports it (dump). */
export type ServiceEntry = ServiceSpec & { kernelFlags: number; stats?: IpvsStats };
/** A destination as the kernel reports it (dump). */
export type DestEntry = DestSpec & {
  activeConns: number;
  inactConns: number;
  persistConns: number;
  stats?: IpvsStats;
};

export interface IpvsInfo {
  version: number;
  /** "1.2.1" */
  versionString: string;
  connTabSize: number;
}

export interface IpvsTimeouts {
  tcp?: number;
  tcpFin?: number;
  udp?: number;
}

export interface SyncDaemonSpec {
  state: typeof IP_VS_STATE_MASTER | typeof IP_VS_STATE_BACKUP;
  mcastIfn: string;
  syncId: number;
  syncMaxLen?: number;
  mcastGroup?: string;
  mcastPort?: number;
  mcastTtl?: number;
}

export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'] as const;
