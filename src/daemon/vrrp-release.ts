// What the parent releases when its VRRP child dies without releasing anything itself (SIGKILL, the OOM killer): the
// VIPs of every configured instance, at once, before the child is respawned. The dead child cannot advertise any
// more, so the peer takes over after its master-down interval; a VIP left on our interface meanwhile would be held
// by both directors until the respawned child cleared it at its start (about a second of two holders, measured by
// test/netns/kill-storm.test.ts). keepalived's parent does not do this; its respawned child clears them at start.
import type { KeepalivedConfig, VirtualIp } from '../config/model/index.js';
import { Rtnetlink } from '../net/rtnetlink.js';
import { errorFields, type Logger } from './log.js';

/** What deleting an address needs of a VIP (its kernel identity). */
export type ReleasableVip = Pick<VirtualIp, 'address' | 'prefix' | 'dev' | 'peer'>;

/** Every address a VRRP instance of this configuration may add (VIPs and excluded VIPs), the model's own. Pure. */
export function configuredVips(cfg: KeepalivedConfig): VirtualIp[] {
  return cfg.vrrpInstances.flatMap((i) => [...i.virtualIpaddresses, ...i.virtualIpaddressesExcluded]);
}

/** Removes those of `vips` that are present; bounded by `timeoutMs`; never throws. Returns what it removed. */
export async function releaseVips(vips: readonly ReleasableVip[], log: Logger, timeoutMs = 1000): Promise<string[]> {
  if (!vips.length) return [];
  let rt: Rtnetlink | undefined;
  const removed: string[] = [];
  const work = (async () => {
    rt = new Rtnetlink();
    const ifindex = new Map<string, number | undefined>();
    for (const v of vips) {
      if (!ifindex.has(v.dev)) ifindex.set(v.dev, (await rt.getLink(v.dev).catch(() => undefined))?.ifindex);
      const idx = ifindex.get(v.dev);
      if (!idx) continue;
      const r = await rt.deleteAddress({ ifindex: idx, address: v.address, prefixlen: v.prefix, peer: v.peer }).catch(() => undefined);
      if (r === 'deleted') removed.push(`${v.address}/${v.prefix} on ${v.dev}`);
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), timeoutMs)));
  try {
    if ((await Promise.race([work.then(() => 'done' as const), deadline])) === 'late') log.error(`releasing the VIPs took longer than ${timeoutMs} ms`);
  } catch (e) {
    log.error(errorFields(e), `releasing the VIPs: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
    rt?.close();
  }
  if (removed.length) log.info(`removed ${removed.join(', ')} left by the VRRP child`);
  return removed;
}
