// Linux address-family and IP protocol numbers, defined once (pure). Only the kernel-wire code uses the AF_*
// numbers (socket calls, rtnetlink and IPVS codecs); everywhere else a family is 4 | 6 (./address.ts).
import type { Family } from './address.js';

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
/** The kernel's number for an IP family. */
export type Af = typeof AF_INET | typeof AF_INET6;
export const familyToAf = (family: Family): Af => (family === 4 ? AF_INET : AF_INET6);
export const afToFamily = (af: number): Family | undefined => (af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined);

export const IPPROTO_IP = 0;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_VRRP = 112;
export const IPPROTO_SCTP = 132;
