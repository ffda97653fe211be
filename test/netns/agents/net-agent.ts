// Runs inside a namespace (spawned by test/helpers/ns-agent.ts). Reads {id, op, args} lines, answers
// {id, ok, result | error}, and reports asynchronous happenings as {event, ...}. Buffers travel as hex.
import { createInterface } from 'node:readline';
import { Rtnetlink, RtnlMonitor } from '../../../src/net/rtnetlink.js';
import { ksock } from '../../../src/net/ksock.js';
import { PacketSender } from '../../../src/net/packet-socket.js';
import { buildGratuitousArp } from '../../../src/net/arp.js';
import { buildUnsolicitedNa } from '../../../src/net/ndisc.js';
import { IpIdCounter } from '../../../src/net/ipv4-header.js';
import { InterfaceWatcher, ipv6Forwarding } from '../../../src/net/interfaces.js';
import { openVrrpSocket, type VrrpSocket, type VrrpSocketOptions, type VrrpSendOptions } from '../../../src/net/vrrp-socket.js';

const out = (m: unknown): void => void process.stdout.write(`${JSON.stringify(m)}\n`);
let rt: Rtnetlink | undefined;
const rtnl = (): Rtnetlink => (rt ??= new Rtnetlink());
let monitor: RtnlMonitor | undefined;
const vrrp = new Map<string, VrrpSocket>();
let watcher: InterfaceWatcher | undefined;
const advertisers = new Map<string, NodeJS.Timeout>();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Op = (...args: any[]) => unknown;
let mutedPrefix: string | undefined;
const muted = (e: object): boolean => {
  const a = (e as { address?: { address?: unknown } }).address?.address;
  return mutedPrefix !== undefined && typeof a === 'string' && a.startsWith(mutedPrefix);
};

const ops: Record<string, Op> = {
  addAddress: (spec) => rtnl().addAddress(spec),
  deleteAddress: (spec) => rtnl().deleteAddress(spec),
  listAddresses: (family) => rtnl().listAddresses(family),
  listLinks: () => rtnl().listLinks(),
  getLink: (which) => rtnl().getLink(which),
  setLinkUp: (ifindex, up) => rtnl().setLinkUp(ifindex, up),
  addRoute: (spec, opts) => rtnl().addRoute(spec, opts),
  deleteRoute: (spec) => rtnl().deleteRoute(spec),
  listRoutes: (family) => rtnl().listRoutes(family),
  addRule: (spec) => rtnl().addRule(spec),
  deleteRule: (spec) => rtnl().deleteRule(spec),
  listRules: (family) => rtnl().listRules(family),
  rawError: async (spec) => {
    // The NetlinkError for a duplicate add, to check what callers see when they do not use the outcome API.
    try {
      await rtnl().sock.request(20, (await import('../../../src/net/rtnetlink-codec.js')).encodeNewAddress(spec), { flags: 0x600 });
      return null;
    } catch (e) {
      const n = e as { code?: string; errno?: number; errnoName?: string; kernelMessage?: string };
      return { code: n.code, errno: n.errno, errnoName: n.errnoName, kernelMessage: n.kernelMessage, name: (e as Error).constructor.name };
    }
  },
  sendGarp: (ifname: string, mac: string, vip: string, count = 1) => {
    const s = new PacketSender(ksock().ifNameToIndex(ifname));
    try {
      for (let i = 0; i < count; i++) s.send(buildGratuitousArp(mac, vip));
    } finally {
      s.close();
    }
    return true;
  },
  sendNa: (ifname: string, mac: string, vip: string, router = false) => {
    // The unbound form, as one shared sender would be used for every interface.
    const s = new PacketSender();
    try {
      return s.sendOn(ksock().ifNameToIndex(ifname), buildUnsolicitedNa(mac, vip, { router }));
    } finally {
      s.close();
    }
  },
  ipv6Forwarding: (ifname: string) => ipv6Forwarding(ifname),
  openVrrp: (name: string, family: 4 | 6, opts: VrrpSocketOptions) => {
    const sock = openVrrpSocket(family, opts);
    sock.on('message', (m) => out({ event: 'vrrp', socket: name, ...m, payload: m.payload.toString('hex'), packet: m.packet.toString('hex') }));
    sock.on('error', (e) => out({ event: 'vrrp-error', socket: name, error: e.message }));
    vrrp.set(name, sock);
    return true;
  },
  sendVrrp: (name: string, payloadHex: string, opts: VrrpSendOptions) => vrrp.get(name)!.send(Buffer.from(payloadHex, 'hex'), opts),
  /** Sends `payloadHex` `count` times at once, IP ids 1, 2, …, without yielding between the sends. */
  sendVrrpBurst: (name: string, payloadHex: string, count: number) => {
    const sock = vrrp.get(name)!;
    for (let id = 1; id <= count; id++) sock.sendNow(Buffer.from(payloadHex, 'hex'), { id });
    return true;
  },
  /** Holds this agent's event loop for `ms` (what it receives meanwhile queues in the kernel), after saying so. */
  block: (ms: number) => {
    out({ event: 'blocked' });
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    return true;
  },
  /** Sends `payloadHex` every `intervalMs` with keepalived's IP id counter until stopAdvertising. */
  advertise: (name: string, payloadHex: string, intervalMs: number, opts: VrrpSendOptions = {}) => {
    const ids = new IpIdCounter();
    const send = (): void => void vrrp.get(name)?.send(Buffer.from(payloadHex, 'hex'), { ...opts, id: ids.next() }).catch((e) => out({ event: 'vrrp-error', socket: name, error: String(e) }));
    send();
    advertisers.set(name, setInterval(send, intervalMs));
    return true;
  },
  stopAdvertising: (name: string) => {
    clearInterval(advertisers.get(name));
    advertisers.delete(name);
    return true;
  },
  closeVrrp: (name: string) => {
    vrrp.get(name)?.close();
    vrrp.delete(name);
    return true;
  },
  watchInterfaces: async () => {
    watcher = await InterfaceWatcher.open();
    watcher.on('change', (c) => { if (!muted(c)) out({ event: 'ifchange', ...c }); });
    watcher.on('overrun', () => out({ event: 'ifoverrun' }));
    return true;
  },
  ifQuery: (name: string, exclude: string[] = []) => {
    const t = watcher!.table;
    return { isUp: t.isUp(name), primaryIpv4: t.primaryIpv4(name, exclude) ?? null, linkLocal6: t.linkLocal6(name) ?? null, mac: t.mac(name) ?? null, ifindex: t.get(name)?.link.ifindex ?? null };
  },
  /** Address events under this prefix are not forwarded (a flood of them would queue every later event). */
  muteAddresses: (prefix: string) => {
    mutedPrefix = prefix;
    return true;
  },
  /** Blocks the event loop (so kernel notifications pile up in the socket buffers). */
  busy: (ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) { /* spin */ }
    return true;
  },
  monitor: () => {
    monitor = new RtnlMonitor();
    monitor.on('event', (ev) => { if (!muted(ev)) out({ event: ev.kind, ...ev }); });
    monitor.on('overrun', () => out({ event: 'overrun' }));
    return true;
  },
};

createInterface({ input: process.stdin }).on('line', async (line) => {
  const { id, op, args } = JSON.parse(line) as { id: number; op: string; args: unknown[] };
  try {
    const fn = ops[op];
    if (!fn) throw new Error(`unknown op ${op}`);
    const result = await fn(...args);
    out({ id, ok: true, result: result === undefined ? null : result });
  } catch (e) {
    const n = e as Error & { code?: string; errnoName?: string };
    out({ id, ok: false, error: `${n.code ?? n.name}${n.errnoName ? ` (${n.errnoName})` : ''}: ${n.message}` });
  }
}).on('close', () => process.exit(0));
out({ event: 'ready' });
