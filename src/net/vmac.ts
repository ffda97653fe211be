// use_vmac's kernel side (keepalived vrrp_vmac.c, vrrp_if_config.c), run by the VRRP shell for the node's
// create-vmac / delete-vmac effects: the macvlan (mode private) with the virtual router MAC, the sysctls keepalived
// sets, and their undoing. Sysctls go through /proc/sys of the daemon's network namespace.
//
// IPv4 VMAC: on the VMAC arp_ignore=1, accept_local=1, rp_filter=0, promote_secondaries=1; on its parent arp_ignore=1
// and arp_filter=1 when either differs, restored when its last VMAC goes (a parent already at 1/1 is left alone);
// with net.ipv4.conf.all.rp_filter > 0, default and every interface are raised to it and all is set to 0, restored
// at stop (clear_rp_filter / restore_rp_filter). IPv6 is disabled on an IPv4 VMAC, address generation is off on every
// VMAC (no EUI-64 link-local, RFC 5798 §7.4), then the link goes up.
// A leftover VMAC (same name, a private macvlan with our MAC on our parent: a killed run's) is used as it is, as
// keepalived's "Found matching interface"; another macvlan with the name is replaced; a non-macvlan is left alone
// and the VMAC is not made.
//
// use_ipvlan (vrrp_vmac.c netlink_link_add_ipvlan): an l2 ipvlan with the configured flags, made up; keepalived sets
// no sysctl on it but disable_ipv6 (1 on an IPv4 one), then adds the configured address. A leftover l2 ipvlan on our
// parent with our flags (and our address when one is configured) is used as it is ("Found matching interface");
// another ipvlan or macvlan with the name is replaced.
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Rtnetlink } from './rtnetlink.js';
import { IFA_F_NODAD, IPVLAN_MODE_L2, MACVLAN_MODE_PRIVATE, type LinkInfo } from './rtnetlink-codec.js';
import { errorFields } from '../daemon/log.js';

/** One VMAC: its name, its MAC and its parent (src/vrrp/plan.ts VmacPlan has these). */
export interface VmacSpec {
  ifname: string;
  mac: string;
  base: string;
  /** use_ipvlan: an ipvlan instead of the macvlan (mac is then unused). */
  ipvlan?: { flags: number; address?: { address: string; prefix: number } };
}

const CONF4 = '/proc/sys/net/ipv4/conf';

function readSysctl(path: string): number | undefined {
  try {
    const v = parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isNaN(v) ? undefined : v;
  } catch {
    return undefined;
  }
}

export class VmacManager {
  /** VMACs this process made or adopted (only these are deleted). */
  private readonly ours = new Set<string>();
  /** Per parent: how many IPv4 VMACs use it, and the arp_ignore/arp_filter to put back (undefined: we changed nothing). */
  private readonly parents = new Map<string, { refs: number; restore?: { arpIgnore: number; arpFilter: number } }>();
  /** all/default/per-interface rp_filter before we cleared all.rp_filter (clear_rp_filter), undefined until then. */
  private rpFilter?: { all: number; default?: number; ifaces: Map<string, number> };

  /** One VMAC operation at a time: two at once ran two link dumps on one netlink socket, which answers EBUSY. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly rt: Rtnetlink, private readonly log: Logger) {}

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private set(path: string, value: number): void {
    try {
      writeFileSync(path, `${value}\n`);
    } catch (e) {
      this.log.warn({ ...errorFields(e), path }, `cannot set ${path} to ${value}: ${(e as Error).message}`);
    }
  }

  /** Makes (or adopts) the VMAC and brings it up. Returns its ifindex, or undefined when it could not be made. */
  create(name: string, v: VmacSpec, family: 4 | 6, ipv6: boolean, linkLocal?: string): Promise<number | undefined> {
    return this.serial(() => this.createNow(name, v, family, ipv6, linkLocal));
  }

  private async createNow(name: string, v: VmacSpec, family: 4 | 6, ipv6: boolean, linkLocal?: string): Promise<number | undefined> {
    const log = this.log.child({ instance: name, vmac: v.ifname });
    const base = await this.rt.getLink(v.base);
    if (!base) {
      log.error(`(${name}) cannot create VMAC ${v.ifname}: no interface ${v.base}`);
      return undefined;
    }
    if (v.ipvlan) return this.createIpvlan(name, v, v.ipvlan, base, ipv6, log);
    const matches = (l: LinkInfo): boolean => l.kind === 'macvlan' && l.linkIndex === base.ifindex && l.mac === v.mac && l.macvlanMode === MACVLAN_MODE_PRIVATE;
    let link = await this.rt.getLink(v.ifname);
    if (link && matches(link)) {
      log.info(`(${name}) Found matching interface ${v.ifname}`);
      this.ours.add(v.ifname);
      if (!link.up) await this.rt.setLinkUp(link.ifindex, true);
      if (linkLocal) await this.addLinkLocal(link.ifindex, linkLocal, log);
      return link.ifindex;
    }
    if (link && link.kind !== 'macvlan') {
      log.error(`VMAC ${v.ifname} conflicts with existing interface`);
      return undefined;
    }
    if (link) {
      log.info(`(${name}) Removing old VMAC interface ${v.ifname} due to conflicting interface`);
      await this.rt.deleteLink(link.ifindex);
    }
    // A killed run's VMAC under another name (the configuration changed since): keepalived adopts it and deletes it
    // at stop; this one is replaced by the configured name now.
    for (const l of await this.rt.listLinks()) {
      if (l.name !== v.ifname && matches(l)) {
        log.info(`(${name}) Removing old VMAC interface ${l.name}: ${v.ifname} replaces it`);
        await this.rt.deleteLink(l.ifindex);
      }
    }
    await this.rt.createMacvlan({ name: v.ifname, parent: base.ifindex, mac: v.mac, mode: MACVLAN_MODE_PRIVATE });
    link = await this.rt.getLink(v.ifname);
    if (!link) {
      log.error(`(${name}) VMAC ${v.ifname} vanished after its creation`);
      return undefined;
    }
    this.ours.add(v.ifname);
    if (family === 4) this.setIpv4Parameters(v);
    this.set(`/proc/sys/net/ipv6/conf/${v.ifname}/disable_ipv6`, ipv6 ? 0 : 1);
    await this.rt.setAddrGenModeNone(link.ifindex).catch((e: Error) => log.warn(errorFields(e), `(${name}) Error setting ADDR_GEN_MODE to NONE on ${v.ifname}: ${e.message}`));
    await this.rt.setLinkUp(link.ifindex, true);
    if (linkLocal) await this.addLinkLocal(link.ifindex, linkLocal, log);
    log.info(`(${name}) created VMAC ${v.ifname} (${v.mac}) on ${v.base}`);
    return link.ifindex;
  }

  private async createIpvlan(name: string, v: VmacSpec, ip: NonNullable<VmacSpec['ipvlan']>, base: LinkInfo, ipv6: boolean, log: Logger): Promise<number | undefined> {
    const isOurs = (l: LinkInfo): boolean => l.kind === 'ipvlan' && l.linkIndex === base.ifindex && l.ipvlanMode === IPVLAN_MODE_L2 && l.ipvlanFlags === ip.flags;
    const hasAddress = async (l: LinkInfo): Promise<boolean> =>
      !ip.address || (await this.rt.listAddresses(4)).some((a) => a.ifindex === l.ifindex && a.address === ip.address!.address);
    let link = await this.rt.getLink(v.ifname);
    if (link && isOurs(link) && (await hasAddress(link))) {
      log.info(`(${name}) Found matching interface ${v.ifname}`);
      this.ours.add(v.ifname);
      if (!link.up) await this.rt.setLinkUp(link.ifindex, true);
      return link.ifindex;
    }
    if (link && link.kind !== 'ipvlan' && link.kind !== 'macvlan') {
      log.error(`(${name}) IPVLAN interface name ${v.ifname} already exists as a non IPVLAN interface`);
      return undefined;
    }
    if (link) {
      log.info(`(${name}) IPVLAN ${v.ifname} already exists but is incompatible. It will be deleted/updated`);
      await this.rt.deleteLink(link.ifindex);
    }
    // A killed run's ipvlan under another name (the configuration changed since): replaced by the configured name.
    for (const l of await this.rt.listLinks()) {
      if (l.name !== v.ifname && isOurs(l) && ip.address && (await hasAddress(l))) {
        log.info(`(${name}) Removing old IPVLAN interface ${l.name}: ${v.ifname} replaces it`);
        await this.rt.deleteLink(l.ifindex);
      }
    }
    await this.rt.createIpvlan({ name: v.ifname, parent: base.ifindex, flags: ip.flags });
    link = await this.rt.getLink(v.ifname);
    if (!link) {
      log.error(`(${name}) ipvlan ${v.ifname} vanished after its creation`);
      return undefined;
    }
    this.ours.add(v.ifname);
    this.set(`/proc/sys/net/ipv6/conf/${v.ifname}/disable_ipv6`, ipv6 ? 0 : 1);
    if (ip.address) {
      await this.rt.addAddress({ ifindex: link.ifindex, address: ip.address.address, prefixlen: ip.address.prefix })
        .catch((e: Error) => log.warn(errorFields(e), `${name}: Failed to add interface address to ${v.ifname}: ${e.message}`));
    }
    log.info(`(${name}) created ipvlan ${v.ifname} on ${v.base}`);
    return link.ifindex;
  }

  /** keepalived's set_link_local_address: IPv6 adverts from the VMAC leave from the parent's link-local address. */
  private async addLinkLocal(ifindex: number, address: string, log: Logger): Promise<void> {
    // No DAD: the address is the parent's own, and the VRRP socket binds to it at once.
    await this.rt.addAddress({ ifindex, address, prefixlen: 64, flags: IFA_F_NODAD }).catch((e: Error) => log.warn(errorFields(e), `Adding link-local address to vmac failed: ${e.message}`));
  }

  private setIpv4Parameters(v: VmacSpec): void {
    if (!this.rpFilter) this.clearRpFilter();
    const conf = `${CONF4}/${v.ifname}`;
    this.set(`${conf}/arp_ignore`, 1);
    this.set(`${conf}/accept_local`, 1);
    this.set(`${conf}/rp_filter`, 0);
    this.set(`${conf}/promote_secondaries`, 1);
    const p = this.parents.get(v.base);
    if (p) {
      p.refs++;
      return;
    }
    const arpIgnore = readSysctl(`${CONF4}/${v.base}/arp_ignore`) ?? 1;
    const arpFilter = readSysctl(`${CONF4}/${v.base}/arp_filter`) ?? 1;
    if (arpIgnore === 1 && arpFilter === 1) {
      this.parents.set(v.base, { refs: 1 });
      return;
    }
    this.set(`${CONF4}/${v.base}/arp_ignore`, 1);
    this.set(`${CONF4}/${v.base}/arp_filter`, 1);
    this.parents.set(v.base, { refs: 1, restore: { arpIgnore, arpFilter } });
  }

  /** keepalived's clear_rp_filter: all.rp_filter > 0 would override the VMAC's 0, so it moves to every interface. */
  private clearRpFilter(): void {
    const all = readSysctl(`${CONF4}/all/rp_filter`);
    if (!all) return;
    const saved: NonNullable<typeof this.rpFilter> = { all, ifaces: new Map() };
    const def = readSysctl(`${CONF4}/default/rp_filter`);
    if (def !== undefined && def < all) {
      this.log.info(`NOTICE: setting sysctl net.ipv4.conf.default.rp_filter from ${def} to ${all}`);
      this.set(`${CONF4}/default/rp_filter`, all);
      saved.default = def;
    }
    for (const ifname of readdirSync(CONF4)) {
      if (ifname === 'all' || ifname === 'default') continue;
      const v = readSysctl(`${CONF4}/${ifname}/rp_filter`);
      if (v !== undefined && v < all) {
        this.set(`${CONF4}/${ifname}/rp_filter`, all);
        saved.ifaces.set(ifname, v);
      }
    }
    this.log.info(`NOTICE: setting sysctl net.ipv4.conf.all.rp_filter from ${all} to 0`);
    this.set(`${CONF4}/all/rp_filter`, 0);
    this.rpFilter = saved;
  }

  /** keepalived's restore_rp_filter (at stop): each value back, where it is still what we set. */
  restoreRpFilter(): void {
    const s = this.rpFilter;
    if (!s) return;
    this.rpFilter = undefined;
    if (readSysctl(`${CONF4}/all/rp_filter`) === 0) {
      this.log.info(`NOTICE: resetting sysctl net.ipv4.conf.all.rp_filter to ${s.all}`);
      this.set(`${CONF4}/all/rp_filter`, s.all);
    }
    if (s.default !== undefined && readSysctl(`${CONF4}/default/rp_filter`) === s.all) this.set(`${CONF4}/default/rp_filter`, s.default);
    for (const [ifname, v] of s.ifaces) if (readSysctl(`${CONF4}/${ifname}/rp_filter`) === s.all) this.set(`${CONF4}/${ifname}/rp_filter`, v);
  }

  /** Deletes a VMAC we made or adopted; its parent's arp_ignore/arp_filter go back when its last VMAC goes. */
  remove(name: string, v: VmacSpec, family: 4 | 6): Promise<void> {
    return this.serial(() => this.removeNow(name, v, family));
  }

  private async removeNow(name: string, v: VmacSpec, family: 4 | 6): Promise<void> {
    if (!this.ours.has(v.ifname)) return;
    this.ours.delete(v.ifname);
    const p = family === 4 ? this.parents.get(v.base) : undefined;
    if (p && --p.refs === 0) {
      this.parents.delete(v.base);
      if (p.restore) {
        this.set(`${CONF4}/${v.base}/arp_ignore`, p.restore.arpIgnore);
        this.set(`${CONF4}/${v.base}/arp_filter`, p.restore.arpFilter);
      }
    }
    const link = await this.rt.getLink(v.ifname);
    if (!link) return;
    await this.rt.deleteLink(link.ifindex);
    this.log.info({ instance: name, vmac: v.ifname }, `(${name}) removed VMAC ${v.ifname}`);
  }
}
