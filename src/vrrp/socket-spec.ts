// Which socket a VRRP instance uses, pure: the node opens one per key (instances share it), and the start-up path
// opens the ones that need no live fact before the VRRP process runs, under the very keys the node will ask for.
import type { InstancePlan, VrrpPlan } from './plan.js';
import type { InterfaceFacts } from './node.js';
import type { Family } from '../net/address.js';

export interface SocketSpec {
  key: string;
  family: Family;
  ifname: string;
  mode: 'multicast' | 'unicast';
  group: string;
  ttl: number;
  src?: string;
}

/**
 * The socket an instance sends and receives on (the node opens one per key, shared by instances): its interface,
 * family, mode and group, and its source where the socket is bound to one. `src`: the instance's source address;
 * `iface`: what is known of an interface (a VMAC's socket waits for the VMAC).
 */
export function instanceSocketSpec(p: InstancePlan, src: string | undefined, iface: (name: string) => InterfaceFacts | undefined): SocketSpec | undefined {
  const mode = p.config.unicast ? 'unicast' : 'multicast';
  // Unicast and IPv6 sockets are bound to their source (an IPv4 multicast one writes it in each header), so they
  // open once the source is known and a new source means a new socket.
  const bound = p.config.unicast || p.config.family === 6;
  if (bound && !src) return undefined;
  // use_vmac (keepalived vrrp_scheduler.c): the socket is the VMAC's, so adverts leave with the virtual MAC and the
  // peer's adverts are heard (a peer's frames from the same virtual MAC reach only the VMAC, never its parent);
  // with vmac_xmit_base it is the parent's. It opens once the VMAC exists.
  const ifname = p.vmac && !p.vmac.xmitBase ? p.vmac.ifname : p.interface;
  if (ifname !== p.interface && !iface(ifname)) return undefined;
  // An IPv6 socket binds to its source, which must be on the VMAC first.
  if (ifname !== p.interface && p.config.family === 6 && !iface(ifname)!.ipv6LinkLocal.includes(src!)) return undefined;
  return {
    key: `${ifname}|${p.config.family}|${mode}|${p.config.unicast ? '' : p.spec.mcastGroup}${bound ? `|${src}` : ''}`,
    family: p.config.family, ifname, mode, group: p.spec.mcastGroup, ttl: p.ttl, src,
  };
}

/**
 * The sockets a plan needs that depend on no live fact (an IPv4 multicast instance, or one with a configured
 * source, on its own interface): they can be opened before the VRRP process runs, with the keys its node will ask
 * for. One per key.
 */
export function presetSocketSpecs(plan: VrrpPlan): SocketSpec[] {
  const out = new Map<string, SocketSpec>();
  for (const p of plan.instances) {
    const s = instanceSocketSpec(p, p.configuredSrc, () => undefined);
    if (s && !out.has(s.key)) out.set(s.key, s);
  }
  return [...out.values()];
}
