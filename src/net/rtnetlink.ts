// rtnetlink's socket shell: `Rtnetlink` sends the requests rtnetlink-codec.ts encodes and decodes the answers;
// `RtnlMonitor` turns the kernel's multicast events into typed events. No message layout lives here.
import { EventEmitter } from 'node:events';
import { NETLINK_ROUTE } from './ksock.js';
import { NetlinkError, NetlinkSocket } from './netlink-socket.js';
import type { Family } from './address.js';
import { AddressInfo, AddressSpec, IFF_UP, IFLA_IFNAME, LinkInfo, RTM_DELADDR, RTM_DELROUTE, RTM_DELRULE, RTM_GETADDR, RTM_GETLINK, RTM_GETROUTE, RTM_GETRULE, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE, RTM_NEWRULE, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV6_ROUTE, RTNLGRP_LINK, RouteInfo, RouteSpec, RtnlEvent, RuleInfo, RuleSpec, RTM_DELLINK, type MacvlanSpec, type IpvlanSpec, decodeAddress, decodeEvent, decodeLink, decodeRoute, decodeRule, encodeDelAddress, encodeGetAddress, encodeGetRoute, encodeNewAddress, encodeNewMacvlan, encodeNewIpvlan, encodeDelLink, encodeAddrGenModeNone, encodeRoute, encodeRule, ifinfomsg } from './rtnetlink-codec.js';
import { NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NetlinkMessage, attrStr } from './netlink-codec.js';

// --- the client ------------------------------------------------------------------------------------------------

/** Outcome of an add: the kernel answered EEXIST → 'exists' (the VRRP shell treats both as success). */
export type AddOutcome = 'added' | 'exists';
/** Outcome of a delete: the kernel said the object was not there (EADDRNOTAVAIL/ENOENT/ESRCH) → 'absent'. */
export type DelOutcome = 'deleted' | 'absent';

export const isExistsError = (e: unknown): boolean => e instanceof NetlinkError && e.errnoName === 'EEXIST';
/** Addresses answer EADDRNOTAVAIL, routes ESRCH, rules ENOENT when what is deleted is not there. */
export const isAbsentError = (e: unknown): boolean =>
  e instanceof NetlinkError && (e.errnoName === 'ENOENT' || e.errnoName === 'EADDRNOTAVAIL' || e.errnoName === 'ESRCH');

async function add(p: Promise<unknown>): Promise<AddOutcome> {
  try {
    await p;
    return 'added';
  } catch (e) {
    if (isExistsError(e)) return 'exists';
    throw e;
  }
}

async function del(p: Promise<unknown>): Promise<DelOutcome> {
  try {
    await p;
    return 'deleted';
  } catch (e) {
    if (isAbsentError(e)) return 'absent';
    throw e;
  }
}

const defined = <T>(x: T | undefined): x is T => x !== undefined;

/**
 * Request side of rtnetlink. Other kernel refusals reject with NetlinkError (errno name in `.errnoName`, the kernel's
 * own text in `.kernelMessage`).
 */
export class Rtnetlink {
  readonly sock: NetlinkSocket;

  constructor(sock?: NetlinkSocket) {
    this.sock = sock ?? new NetlinkSocket(NETLINK_ROUTE);
  }

  addAddress(spec: AddressSpec): Promise<AddOutcome> {
    return add(this.sock.request(RTM_NEWADDR, encodeNewAddress(spec), { flags: NLM_F_CREATE | NLM_F_EXCL }));
  }

  deleteAddress(spec: Pick<AddressSpec, 'ifindex' | 'address' | 'prefixlen' | 'peer'>): Promise<DelOutcome> {
    return del(this.sock.request(RTM_DELADDR, encodeDelAddress(spec)));
  }

  async listAddresses(family?: Family): Promise<AddressInfo[]> {
    const msgs = await this.sock.request(RTM_GETADDR, encodeGetAddress(family), { dump: true });
    return msgs.filter((m) => m.type === RTM_NEWADDR).map((m) => decodeAddress(m.payload)).filter(defined);
  }

  async listLinks(): Promise<LinkInfo[]> {
    const msgs = await this.sock.request(RTM_GETLINK, ifinfomsg(), { dump: true });
    return msgs.filter((m) => m.type === RTM_NEWLINK).map((m) => decodeLink(m.payload)).filter(defined);
  }

  /** One link by index or name; undefined when it does not exist. */
  async getLink(which: number | string): Promise<LinkInfo | undefined> {
    const payload =
      typeof which === 'number'
        ? ifinfomsg(which)
        : Buffer.concat([ifinfomsg(), attrStr(IFLA_IFNAME, which)]);
    try {
      const msgs = await this.sock.request(RTM_GETLINK, payload);
      return msgs.length ? decodeLink(msgs[0].payload) : undefined;
    } catch (e) {
      if (e instanceof NetlinkError && e.errnoName === 'ENODEV') return undefined;
      throw e;
    }
  }

  /** `ip link set X up|down`. */
  async setLinkUp(ifindex: number, up: boolean): Promise<void> {
    await this.sock.request(RTM_NEWLINK, ifinfomsg(ifindex, up ? IFF_UP : 0, IFF_UP));
  }

  /** Creates a macvlan (NLM_F_CREATE | NLM_F_EXCL: an existing name answers EEXIST, which rejects). */
  async createMacvlan(spec: MacvlanSpec): Promise<void> {
    await this.sock.request(RTM_NEWLINK, encodeNewMacvlan(spec), { flags: NLM_F_CREATE | NLM_F_EXCL });
  }

  /** Creates an ipvlan, up (NLM_F_CREATE | NLM_F_EXCL, as createMacvlan). */
  async createIpvlan(spec: IpvlanSpec): Promise<void> {
    await this.sock.request(RTM_NEWLINK, encodeNewIpvlan(spec), { flags: NLM_F_CREATE | NLM_F_EXCL });
  }

  /** `ip link del`; 'absent' when the link is already gone. */
  async deleteLink(ifindex: number): Promise<DelOutcome> {
    try {
      await this.sock.request(RTM_DELLINK, encodeDelLink(ifindex));
      return 'deleted';
    } catch (e) {
      if (e instanceof NetlinkError && e.errnoName === 'ENODEV') return 'absent';
      throw e;
    }
  }

  /** `ip link set X addrgenmode none`. */
  async setAddrGenModeNone(ifindex: number): Promise<void> {
    await this.sock.request(RTM_NEWLINK, encodeAddrGenModeNone(ifindex));
  }

  /**
   * Adds a route (NLM_F_EXCL; `replace` uses NLM_F_REPLACE and never answers 'exists'; `prepend` sends NLM_F_CREATE
   * alone, keepalived's default for its routes: the kernel puts it before a different route to the same prefix and
   * answers 'exists' only for an identical one).
   */
  addRoute(spec: RouteSpec, opts: { replace?: boolean; prepend?: boolean } = {}): Promise<AddOutcome> {
    const flags = NLM_F_CREATE | (opts.replace ? NLM_F_REPLACE : opts.prepend ? 0 : NLM_F_EXCL);
    return add(this.sock.request(RTM_NEWROUTE, encodeRoute(spec, 'add'), { flags }));
  }

  deleteRoute(spec: RouteSpec): Promise<DelOutcome> {
    return del(this.sock.request(RTM_DELROUTE, encodeRoute(spec, 'del')));
  }

  async listRoutes(family?: Family): Promise<RouteInfo[]> {
    const msgs = await this.sock.request(RTM_GETROUTE, encodeGetRoute(family), { dump: true });
    return msgs.filter((m) => m.type === RTM_NEWROUTE).map((m) => decodeRoute(m.payload)).filter(defined);
  }

  addRule(spec: RuleSpec): Promise<AddOutcome> {
    return add(this.sock.request(RTM_NEWRULE, encodeRule(spec, 'add'), { flags: NLM_F_CREATE | NLM_F_EXCL }));
  }

  deleteRule(spec: RuleSpec): Promise<DelOutcome> {
    return del(this.sock.request(RTM_DELRULE, encodeRule(spec, 'del')));
  }

  async listRules(family: Family): Promise<RuleInfo[]> {
    const msgs = await this.sock.request(RTM_GETRULE, encodeGetRoute(family), { dump: true });
    return msgs.filter((m) => m.type === RTM_NEWRULE).map((m) => decodeRule(m.payload)).filter(defined);
  }

  close(): void {
    this.sock.close();
  }
}

export interface RtnlMonitorEvents {
  event: [RtnlEvent];
  link: [Extract<RtnlEvent, { kind: 'link' }>];
  address: [Extract<RtnlEvent, { kind: 'address' }>];
  route: [Extract<RtnlEvent, { kind: 'route' }>];
  /** The kernel dropped notifications (ENOBUFS): re-dump to resynchronise. */
  overrun: [];
  /** A notification that did not decode (counted in `malformed`, never thrown). */
  malformed: [Error];
  /** The socket itself failed (recvmsg error other than ENOBUFS). Listen for it: an unheard 'error' throws. */
  error: [Error];
}

/**
 * Subscribes to link and address changes (and routes if asked) and emits typed events:
 * 'event' for all, and 'link' / 'address' / 'route' by kind.
 */
export class RtnlMonitor extends EventEmitter<RtnlMonitorEvents> {
  readonly sock: NetlinkSocket;
  malformed = 0;

  constructor(opts: { routes?: boolean; rcvbuf?: number } = {}) {
    super();
    const groups = [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR];
    if (opts.routes) groups.push(RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE);
    this.sock = new NetlinkSocket(NETLINK_ROUTE, { groups, rcvbuf: opts.rcvbuf ?? 1 << 20 });
    this.sock.on('notification', (m: NetlinkMessage) => {
      let ev: RtnlEvent | undefined;
      try {
        ev = decodeEvent(m);
      } catch (e) {
        this.malformed++;
        this.emit('malformed', e as Error);
        return;
      }
      if (!ev) return;
      this.emit('event', ev);
      if (ev.kind === 'link') this.emit('link', ev);
      else if (ev.kind === 'address') this.emit('address', ev);
      else this.emit('route', ev);
    });
    this.sock.on('overrun', () => this.emit('overrun'));
    this.sock.on('malformed', (e: Error) => {
      this.malformed++;
      this.emit('malformed', e);
    });
    this.sock.on('error', (e: Error) => this.emit('error', e));
  }

  close(): void {
    this.sock.close();
  }
}

