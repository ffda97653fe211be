// Human-readable names for services and destinations in logs and errors, in ipvsadm's notation.
import type { DestKey, ServiceKey } from './kernel-table.js';
import type { Op } from './reconcile.js';
import { AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../net/constants.js';

const PROTO: Record<number, string> = { [IPPROTO_TCP]: 'TCP', [IPPROTO_UDP]: 'UDP', [IPPROTO_SCTP]: 'SCTP' };

export const hostPort = (af: number, addr: string, port: number): string => (af === AF_INET6 ? `[${addr}]:${port}` : `${addr}:${port}`);

/** "TCP 10.0.0.1:80", "UDP [2001:db8::1]:53", "FWM 7", "FWM 7 IPv6". */
export function describeService(k: ServiceKey): string {
  if (k.fwmark !== undefined) return `FWM ${k.fwmark}${k.af === AF_INET6 ? ' IPv6' : ''}`;
  return `${PROTO[k.protocol] ?? `proto ${k.protocol}`} ${hostPort(k.af, k.addr, k.port)}`;
}

export const describeDest = (d: DestKey): string => hostPort(d.af, d.addr, d.port);

/** A stable identity string for maps (not for display). */
export function serviceId(k: ServiceKey): string {
  return k.fwmark !== undefined ? `fwm/${k.af}/${k.fwmark}` : `${k.protocol}/${k.af}/${k.addr}/${k.port}`;
}

export const destId = (d: DestKey): string => `${d.af}/${d.addr}/${d.port}`;

/** One reconcile operation as the logs and `ctl plan` say it. */
export function describeOp(o: Op): string {
  switch (o.op) {
    case 'add-service': return `add service ${describeService(o.service)}`;
    case 'edit-service': return `edit service ${describeService(o.service)}`;
    case 'del-service': return `delete service ${describeService(o.service)}`;
    case 'add-dest': return `add ${describeDest(o.dest)} to ${describeService(o.service)}`;
    case 'edit-dest': return `edit ${describeDest(o.dest)} in ${describeService(o.service)}`;
    case 'del-dest': return `delete ${describeDest(o.dest)} from ${describeService(o.service)}`;
  }
}
