// A cache of links and their addresses, fed by an rtnetlink dump and the monitor, so the VRRP shell can ask
// "is eth0 up", "what is eth0's primary address / link-local / MAC" and hear changes.
// `InterfaceTable` is pure (it applies events and reports what changed); `InterfaceWatcher` is the socket shell.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { Rtnetlink, RtnlMonitor } from './rtnetlink.js';
import { IFA_F_DADFAILED, IFA_F_SECONDARY, IFA_F_TENTATIVE, type AddressInfo, type LinkInfo, type RtnlEvent } from './rtnetlink-codec.js';
import { isLinkLocal6 } from './address.js';

export interface InterfaceState {
  link: LinkInfo;
  /** Addresses in kernel order (the first non-secondary IPv4 one is the primary). */
  addresses: AddressInfo[];
}

export type InterfaceChange =
  | { kind: 'link-added'; ifindex: number; name: string }
  | { kind: 'link-removed'; ifindex: number; name: string }
  /** keepalived's notion of "up": IFF_UP and IFF_RUNNING. */
  | { kind: 'link-up'; ifindex: number; name: string }
  | { kind: 'link-down'; ifindex: number; name: string }
  | { kind: 'link-renamed'; ifindex: number; name: string; oldName: string }
  | { kind: 'mac-changed'; ifindex: number; name: string; mac?: string; oldMac?: string }
  | { kind: 'address-added'; ifindex: number; name: string; address: AddressInfo }
  | { kind: 'address-removed'; ifindex: number; name: string; address: AddressInfo }
  /** Same address, new flags: DAD finished (tentative → usable), promoted from secondary. */
  | { kind: 'address-changed'; ifindex: number; name: string; address: AddressInfo };

/** Interface "up" as keepalived tests it (IF_ISUP: IFF_UP && IFF_RUNNING). */
export const linkIsUp = (l: LinkInfo): boolean => l.up && l.running;

const sameAddress = (x: AddressInfo, y: AddressInfo): boolean =>
  x.family === y.family && x.address === y.address && x.prefixlen === y.prefixlen && x.peer === y.peer;

/** Pure table of interfaces; `apply*` return the changes they made. */
export class InterfaceTable {
  private byIndex = new Map<number, InterfaceState>();

  /** Replaces everything with a fresh dump; returns the differences from the previous contents. */
  load(links: LinkInfo[], addresses: AddressInfo[]): InterfaceChange[] {
    const next = new InterfaceTable();
    for (const l of links) next.byIndex.set(l.ifindex, { link: l, addresses: [] });
    for (const a of addresses) next.byIndex.get(a.ifindex)?.addresses.push(a);
    const changes: InterfaceChange[] = [];
    for (const [idx, old] of this.byIndex)
      if (!next.byIndex.has(idx)) changes.push({ kind: 'link-removed', ifindex: idx, name: old.link.name });
    for (const [idx, st] of next.byIndex) {
      const old = this.byIndex.get(idx);
      if (!old) {
        changes.push({ kind: 'link-added', ifindex: idx, name: st.link.name });
        if (linkIsUp(st.link)) changes.push({ kind: 'link-up', ifindex: idx, name: st.link.name });
        for (const a of st.addresses) changes.push({ kind: 'address-added', ifindex: idx, name: st.link.name, address: a });
        continue;
      }
      changes.push(...linkDiff(old.link, st.link));
      for (const a of old.addresses)
        if (!st.addresses.some((b) => sameAddress(a, b))) changes.push({ kind: 'address-removed', ifindex: idx, name: st.link.name, address: a });
      for (const a of st.addresses)
        if (!old.addresses.some((b) => sameAddress(a, b))) changes.push({ kind: 'address-added', ifindex: idx, name: st.link.name, address: a });
    }
    this.byIndex = next.byIndex;
    return changes;
  }

  /** Applies one monitor event. Idempotent: an address already known is not "added" twice. */
  apply(ev: RtnlEvent): InterfaceChange[] {
    if (ev.kind === 'link') {
      const old = this.byIndex.get(ev.link.ifindex);
      if (ev.change === 'del') {
        if (!old) return [];
        this.byIndex.delete(ev.link.ifindex);
        return [{ kind: 'link-removed', ifindex: ev.link.ifindex, name: old.link.name }];
      }
      if (!old) {
        this.byIndex.set(ev.link.ifindex, { link: ev.link, addresses: [] });
        const c: InterfaceChange[] = [{ kind: 'link-added', ifindex: ev.link.ifindex, name: ev.link.name }];
        if (linkIsUp(ev.link)) c.push({ kind: 'link-up', ifindex: ev.link.ifindex, name: ev.link.name });
        return c;
      }
      const prev = old.link;
      old.link = ev.link;
      return linkDiff(prev, ev.link);
    }
    if (ev.kind === 'address') {
      const st = this.byIndex.get(ev.address.ifindex);
      if (!st) return [];
      const i = st.addresses.findIndex((a) => sameAddress(a, ev.address));
      if (ev.change === 'added') {
        if (i >= 0) {
          const flagsChanged = st.addresses[i]!.flags !== ev.address.flags;
          st.addresses[i] = ev.address; // flags may change (tentative → permanent, promotion from secondary)
          return flagsChanged ? [{ kind: 'address-changed', ifindex: st.link.ifindex, name: st.link.name, address: ev.address }] : [];
        }
        st.addresses.push(ev.address);
        return [{ kind: 'address-added', ifindex: st.link.ifindex, name: st.link.name, address: ev.address }];
      }
      if (i < 0) return [];
      st.addresses.splice(i, 1);
      return [{ kind: 'address-removed', ifindex: st.link.ifindex, name: st.link.name, address: ev.address }];
    }
    return [];
  }

  get(which: number | string): InterfaceState | undefined {
    if (typeof which === 'number') return this.byIndex.get(which);
    for (const st of this.byIndex.values()) if (st.link.name === which) return st;
    return undefined;
  }

  list(): InterfaceState[] {
    return [...this.byIndex.values()];
  }

  /** IFF_UP && IFF_RUNNING; false for an unknown interface. */
  isUp(which: number | string): boolean {
    const st = this.get(which);
    return !!st && linkIsUp(st.link);
  }

  mac(which: number | string): string | undefined {
    return this.get(which)?.link.mac;
  }

  /**
   * The IPv4 addresses keepalived would take as the source, best first: the non-secondary ones, then the
   * secondaries (a real address can be the kernel's "secondary" when a VIP in the same subnet was added before it).
   */
  ipv4Sources(which: number | string): string[] {
    const v4 = this.get(which)?.addresses.filter((a) => a.family === 4) ?? [];
    return [...v4.filter((a) => !(a.flags & IFA_F_SECONDARY)), ...v4.filter((a) => a.flags & IFA_F_SECONDARY)].map((a) => a.address);
  }

  /** The usable (not tentative, not DAD-failed) IPv6 link-local addresses, in kernel order. */
  linkLocal6Sources(which: number | string): string[] {
    return (this.get(which)?.addresses ?? [])
      .filter((a) => a.family === 6 && isLinkLocal6(a.address) && !(a.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)))
      .map((a) => a.address);
  }

  /** The interface's primary IPv4 address, skipping `exclude` (our own VIPs, which keepalived never takes). */
  primaryIpv4(which: number | string, exclude: Iterable<string> = []): string | undefined {
    const ex = new Set(exclude);
    return this.ipv4Sources(which).find((a) => !ex.has(a));
  }

  /** The first usable IPv6 link-local address, skipping `exclude`. */
  linkLocal6(which: number | string, exclude: Iterable<string> = []): string | undefined {
    const ex = new Set(exclude);
    return this.linkLocal6Sources(which).find((a) => !ex.has(a));
  }

  hasAddress(which: number | string, address: string): boolean {
    return !!this.get(which)?.addresses.some((a) => a.address === address);
  }
}

function linkDiff(prev: LinkInfo, next: LinkInfo): InterfaceChange[] {
  const c: InterfaceChange[] = [];
  const id = { ifindex: next.ifindex, name: next.name };
  if (prev.name !== next.name) c.push({ kind: 'link-renamed', ...id, oldName: prev.name });
  if (prev.mac !== next.mac) c.push({ kind: 'mac-changed', ...id, mac: next.mac, oldMac: prev.mac });
  if (linkIsUp(prev) !== linkIsUp(next)) c.push({ kind: linkIsUp(next) ? 'link-up' : 'link-down', ...id });
  return c;
}

/** Whether IPv6 forwarding is on for `ifname` (keepalived sets the NA Router flag then). */
export function ipv6Forwarding(ifname: string): boolean {
  try {
    return readFileSync(`/proc/sys/net/ipv6/conf/${ifname}/forwarding`, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

export interface InterfaceWatcherEvents {
  change: [InterfaceChange];
  error: [Error];
  /** The kernel dropped notifications (ENOBUFS); the table is being reloaded from a dump. */
  overrun: [];
}

/**
 * Keeps an InterfaceTable in step with the kernel: subscribes first, dumps, then replays what arrived meanwhile.
 * After a monitor overrun (ENOBUFS) it dumps again and emits the differences.
 */
export class InterfaceWatcher extends EventEmitter<InterfaceWatcherEvents> {
  readonly table = new InterfaceTable();
  private monitor: RtnlMonitor;
  private rt: Rtnetlink;
  private buffered: RtnlEvent[] | undefined = [];
  private resyncAgain = false;
  private discarding = false;
  private closed = false;

  private constructor() {
    super();
    this.monitor = new RtnlMonitor();
    this.rt = new Rtnetlink();
    this.monitor.on('event', (ev) => {
      if (this.discarding) return;
      if (this.buffered) this.buffered.push(ev);
      else this.emitAll(this.table.apply(ev));
    });
    // After an overrun the messages still queued are older than the ones the kernel dropped: applied (or replayed
    // after the dump) they would bring back addresses whose deletion was lost — 2,519 stale addresses after a flood
    // of 12,000 changes. Everything up to the dump request is discarded (the dump has its effect), and the dump
    // starts once the socket has been read dry.
    this.monitor.on('overrun', () => {
      this.emit('overrun');
      if (this.discarding) return;
      this.discarding = true;
      if (this.buffered) this.buffered = [];
      setImmediate(() => {
        this.discarding = false;
        void this.resync();
      });
    });
    this.monitor.on('error', (e) => this.emit('error', e));
  }

  /** Opens the sockets and loads the first dump (no 'change' events for what the dump finds). */
  static async open(): Promise<InterfaceWatcher> {
    const w = new InterfaceWatcher();
    try {
      const [links, addrs] = [await w.rt.listLinks(), await w.rt.listAddresses()];
      w.table.load(links, addrs);
      const pending = w.buffered ?? [];
      w.buffered = undefined;
      for (const ev of pending) w.emitAll(w.table.apply(ev));
      return w;
    } catch (e) {
      w.close();
      throw e;
    }
  }

  private async resync(): Promise<void> {
    if (this.closed) return;
    // An overrun while a resync runs lost events the running dump may already have missed: dump once more after it.
    if (this.buffered) {
      this.resyncAgain = true;
      return;
    }
    this.buffered = [];
    try {
      const [links, addrs] = [await this.rt.listLinks(), await this.rt.listAddresses()];
      this.emitAll(this.table.load(links, addrs));
    } catch (e) {
      if (!this.closed) this.emit('error', e as Error);
    }
    const pending = this.buffered ?? [];
    this.buffered = undefined;
    for (const ev of pending) this.emitAll(this.table.apply(ev));
    if (this.resyncAgain) {
      this.resyncAgain = false;
      await this.resync();
    }
  }

  private emitAll(changes: InterfaceChange[]): void {
    for (const c of changes) this.emit('change', c);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.monitor.close();
    this.rt.close();
  }
}
