// Desired IPVS state (pure): virtual-server specs expanded into kernel services and destinations with
// keepalived's rules (check_data.c, check_parser.c, ipvswrapper.c):
//   - a group expands into one IPVS service per address / range address / fwmark, all sharing the real servers;
//   - DR/TUN destinations use the virtual server's port, fwmark services with non-NAT destinations use port 0;
//   - `persistence_timeout` sets IP_VS_SVC_F_PERSISTENT; a zero-port service is forced persistent (360 s);
//   - scheduler flags map onto IP_VS_SVC_F_SCHED1/2/3 (sh-/mh-fallback = 1, sh-/mh-port = 2) and ops = ONEPACKET;
//   - when quorum is down the sorry server replaces the real servers; with `inhibit` it otherwise sits at weight 0.
import { bigIntToIpv6, canonicalAddr, familyOf, ipv4ToNumber, ipv6ToBigInt, numberToIpv4, prefixToMask, type Family } from '../net/address.js';
import { AF_INET6, familyToAf, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, type Af } from '../net/constants.js';
import { destId, serviceId } from './describe.js';
import {
  FWD_DROUTE, FWD_MASQ, FWD_TUNNEL, IPVS_SVC_PERSISTENT_TIMEOUT,
  IPVS_WEIGHT_MAX, SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3, TUN_GRE,
  TUN_GUE, TUN_IPIP, TUN_FLAG_CSUM, TUN_FLAG_NOCSUM, TUN_FLAG_REMCSUM,
  type DestSpec, type IpvsProtocol, type ServiceKey, type ServiceSpec,
} from './kernel-table.js';
import type { RealServerSpec, SchedulerFlag, VirtualServerSpec, VirtualTarget } from './virtual-server-spec.js';
import type { LbKind, TunnelSpec } from '../config/model/types.js';
import { KtError } from '../util/errors.js';

export interface DesiredService {
  service: ServiceSpec;
  /** By destId. */
  dests: Map<string, DestSpec>;
}

/** By serviceId. */
export type IpvsState = Map<string, DesiredService>;

const PROTOCOLS: Record<VirtualServerSpec['protocol'], IpvsProtocol> = { TCP: IPPROTO_TCP, UDP: IPPROTO_UDP, SCTP: IPPROTO_SCTP };
const FWD: Record<LbKind, number> = { NAT: FWD_MASQ, DR: FWD_DROUTE, TUN: FWD_TUNNEL };
/** Longest range keepalived-ts expands (a typo like 10.0.0.1-10.0.255.255 must not make 65k services). */
export const MAX_RANGE = 256;

/** Addresses of a virtual_server_group entry (check_data.c alloc_vsg_entry): `A.B.C.D-E` (last octet),
 *  `A.B.C.D-W.X.Y.Z`, `x::a-b` (last group, hex), `x::a-x::b`, `A.B.C.D/nn` and `x::/nn` (the whole subnet,
 *  host bits must be zero), or a single address. */
export function expandRange(text: string): string[] {
  const slash = text.indexOf('/');
  let start: bigint;
  let end: bigint;
  let family: Family;
  if (slash >= 0) {
    const base = text.slice(0, slash);
    family = familyOf(base);
    const bits = family === 4 ? 32 : 128;
    const p = Number(text.slice(slash + 1));
    if (!/^\d+$/.test(text.slice(slash + 1)) || p < 1 || p > bits) throw new KtError('KT_IPVS_BAD_SPEC', `invalid netmask in '${text}'`);
    start = family === 4 ? BigInt(ipv4ToNumber(base)) : ipv6ToBigInt(base);
    const host = (1n << BigInt(bits - p)) - 1n;
    if (start & host) throw new KtError('KT_IPVS_BAD_SPEC', `address mask bits not empty in '${text}'`);
    end = start | host;
  } else {
    const dash = text.lastIndexOf('-');
    if (dash < 0) return [canonicalAddr(text)];
    const first = text.slice(0, dash);
    const endText = text.slice(dash + 1);
    family = familyOf(first);
    if (family === 4) {
      start = BigInt(ipv4ToNumber(first));
      end = /^\d{1,3}$/.test(endText) ? (start & ~0xffn) | BigInt(Number(endText)) : BigInt(ipv4ToNumber(endText));
      if (/^\d{1,3}$/.test(endText) && Number(endText) > 255) throw new KtError('KT_IPVS_BAD_SPEC', `bad address range '${text}'`);
    } else {
      start = ipv6ToBigInt(first);
      if (/^[0-9a-f]{1,4}$/i.test(endText)) end = (start & ~0xffffn) | BigInt(parseInt(endText, 16));
      else if (endText.includes(':')) end = ipv6ToBigInt(endText);
      else throw new KtError('KT_IPVS_BAD_SPEC', `bad IPv6 range '${text}'`);
    }
  }
  if (end < start) throw new KtError('KT_IPVS_BAD_SPEC', `bad address range '${text}' (the end is before the start)`);
  if (end - start >= BigInt(MAX_RANGE)) throw new KtError('KT_IPVS_BAD_SPEC', `address range '${text}' has more than ${MAX_RANGE} addresses`);
  const out: string[] = [];
  for (let n = start; n <= end; n++) out.push(family === 4 ? numberToIpv4(Number(n)) : bigIntToIpv6(n));
  return out;
}

function schedulerFlags(scheduler: string, flags: SchedulerFlag[] = []): number {
  let f = 0;
  for (const x of flags) {
    if (x === 'flag-1') f |= SVC_F_SCHED1;
    else if (x === 'flag-2') f |= SVC_F_SCHED2;
    else if (x === 'flag-3') f |= SVC_F_SCHED3;
    else if (x === 'ops') f |= SVC_F_ONEPACKET;
    else if ((x === 'sh-fallback' && scheduler === 'sh') || (x === 'mh-fallback' && scheduler === 'mh')) f |= SVC_F_SCHED1;
    else if ((x === 'sh-port' && scheduler === 'sh') || (x === 'mh-port' && scheduler === 'mh')) f |= SVC_F_SCHED2;
  }
  return f;
}

function netmaskFor(af: Af, g: string | number | undefined): number {
  if (af === AF_INET6) {
    if (g === undefined) return 128;
    const p = Number(g);
    if (!Number.isInteger(p) || p < 1 || p > 128) throw new KtError('KT_IPVS_BAD_SPEC', `bad IPv6 persistence granularity '${g}'`);
    return p;
  }
  if (g === undefined) return 0xffffffff;
  if (typeof g === 'number' || /^\d+$/.test(g)) {
    const p = Number(g);
    if (p < 1 || p > 32) throw new KtError('KT_IPVS_BAD_SPEC', `bad persistence granularity '${g}'`);
    return prefixToMask(p);
  }
  return ipv4ToNumber(g);
}

function tunnelFields(t: TunnelSpec | undefined): Pick<DestSpec, 'tunType' | 'tunPort' | 'tunFlags'> {
  const type = t?.type === 'gue' ? TUN_GUE : t?.type === 'gre' ? TUN_GRE : TUN_IPIP;
  const out: Pick<DestSpec, 'tunType' | 'tunPort' | 'tunFlags'> = { tunType: type };
  if (type === TUN_GUE) {
    if (!t?.port) throw new KtError('KT_IPVS_BAD_SPEC', 'a GUE tunnel needs a port');
    out.tunPort = t.port;
  }
  if (type !== TUN_IPIP) out.tunFlags = t?.checksum === 'csum' ? TUN_FLAG_CSUM : t?.checksum === 'remcsum' ? TUN_FLAG_REMCSUM : TUN_FLAG_NOCSUM;
  return out;
}

function destFor(vs: VirtualServerSpec, key: ServiceKey, rs: RealServerSpec, weight: number): DestSpec {
  const af = familyToAf(familyOf(rs.addr));
  const kind = rs.lbKind ?? vs.lbKind ?? 'NAT';
  const fwd = FWD[kind];
  const vsPort = key.fwmark !== undefined ? 0 : key.port;
  // keepalived: non-NAT destinations take the service port; fwmark services have none, so 0.
  const port = fwd === FWD_MASQ ? (rs.port ?? vsPort) : vsPort;
  if (!Number.isInteger(weight) || weight < 0) throw new KtError('KT_IPVS_BAD_SPEC', `bad weight ${weight} for ${rs.addr}`);
  const d: DestSpec = {
    af,
    addr: canonicalAddr(rs.addr),
    port,
    fwd,
    weight: Math.min(weight, IPVS_WEIGHT_MAX),
    uThreshold: rs.uThreshold ?? 0,
    lThreshold: rs.lThreshold ?? 0,
  };
  if (fwd === FWD_TUNNEL) Object.assign(d, tunnelFields(rs.tunnel ?? vs.tunnel));
  return d;
}

function serviceKeys(vs: VirtualServerSpec, t: VirtualTarget): ServiceKey[] {
  const protocol = PROTOCOLS[vs.protocol];
  if (protocol === undefined) throw new KtError('KT_IPVS_BAD_SPEC', `unknown protocol '${vs.protocol}'`);
  if (t.fwmark !== undefined) {
    if (!Number.isInteger(t.fwmark) || t.fwmark < 1 || t.fwmark > 0xffffffff) throw new KtError('KT_IPVS_BAD_SPEC', `bad fwmark ${t.fwmark}`);
    const af = t.family !== undefined ? familyToAf(t.family) : inferFamily(vs);
    return [{ af, fwmark: t.fwmark }];
  }
  const addrs = t.range !== undefined ? expandRange(t.range) : [canonicalAddr(t.addr)];
  if (!Number.isInteger(t.port) || t.port < 0 || t.port > 65535) throw new KtError('KT_IPVS_BAD_SPEC', `bad port ${t.port}`);
  return addrs.map((addr) => ({ af: familyToAf(familyOf(addr)), protocol, addr, port: t.port }));
}

/** A fwmark service without `family`: the real servers' family (keepalived: ip_family or the RS addresses). */
function inferFamily(vs: VirtualServerSpec): Af {
  const any = vs.realServers[0] ?? vs.sorryServer;
  return familyToAf(any ? familyOf(any.addr) : 4);
}

/** Expands virtual-server specs into the services and destinations the kernel should hold. */
export function buildDesired(specs: VirtualServerSpec[]): IpvsState {
  const state: IpvsState = new Map();
  for (const vs of specs) {
    const scheduler = vs.scheduler ?? 'wlc';
    for (const target of vs.targets) {
      for (const key of serviceKeys(vs, target)) {
        let timeout = vs.persistenceTimeout;
        if (timeout === undefined && key.fwmark === undefined && key.port === 0) timeout = IPVS_SVC_PERSISTENT_TIMEOUT;
        const persistent = timeout !== undefined;
        const service: ServiceSpec = {
          ...key,
          scheduler,
          flags: schedulerFlags(scheduler, vs.schedulerFlags) | (persistent ? SVC_F_PERSISTENT : 0),
          timeout: persistent ? timeout! : 0,
          netmask: netmaskFor(key.af, persistent ? vs.persistenceGranularity : undefined),
          ...(vs.persistenceEngine ? { peName: vs.persistenceEngine } : {}),
        } as ServiceSpec;
        const id = serviceId(key);
        if (state.has(id)) throw new KtError('KT_IPVS_BAD_SPEC', `virtual service ${id} is defined twice`);
        const dests = new Map<string, DestSpec>();
        const put = (d: DestSpec): void => {
          if (d.af !== key.af && key.fwmark === undefined && d.fwd === FWD_MASQ) {
            throw new KtError('KT_IPVS_BAD_SPEC', `NAT real server ${d.addr} is not in the service's address family`);
          }
          dests.set(destId(d), d);
        };
        const quorumUp = vs.quorumUp ?? true;
        if (quorumUp || !vs.sorryServer) {
          // Without a sorry server a lost quorum changes nothing in the table (only the quorum scripts run).
          for (const rs of vs.realServers) put(destFor(vs, key, rs, rs.weight));
          if (vs.sorryServer?.inhibit) {
            const d = destFor(vs, key, vs.sorryServer, 0);
            if (!dests.has(destId(d))) put(d);
          }
        } else {
          put(destFor(vs, key, vs.sorryServer, vs.sorryServer.weight));
        }
        state.set(id, { service, dests });
      }
    }
  }
  return state;
}
