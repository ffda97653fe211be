// Builds the seed corpus of each fuzz target into fuzz/seeds/<target>/ from what the repo already trusts:
// keepalived 2.2.7's captured adverts (test/fixtures/vectors), the encoders' own output (the same messages the
// unit tests pin byte for byte), Debian's sample configs, test/fixtures/seeds and the examples.
// Run after `npm run build` to rebuild the committed seeds (deterministic; the sample configs come from
// Debian's keepalived package when installed).
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => join(root, 'dist/src', p);
const { encodeAdvert, encodeIpv4Advert, passAuthData } = await import(dist('vrrp/packet.js'));
const nl = await import(dist('net/netlink-codec.js'));
const rt = await import(dist('net/rtnetlink.js'));
const genl = await import(dist('net/genetlink.js'));
const ipvs = await import(dist('ipvs/codec.js'));

function writeSeeds(target, seeds) {
  const dir = join(root, 'fuzz/seeds', target);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const s of seeds) writeFileSync(join(dir, createHash('sha1').update(s).digest('hex').slice(0, 16)), s);
  return seeds.length;
}

// --- VRRP: [policy flags, vrid, hop limit] + the bytes the socket read (see targets/vrrp-advert.mjs) ----------
function framesFrom(file) {
  const frames = [];
  for (const line of readFileSync(join(root, 'test/fixtures/vectors', file), 'utf8').split('\n')) {
    const m = /^\s+0x([0-9a-f]{4}):\s+((?:[0-9a-f]{2,4}\s?)+)/.exec(line);
    if (!m) continue;
    if (m[1] === '0000') frames.push('');
    frames[frames.length - 1] += m[2].replace(/\s+/g, '');
  }
  return frames.map((f) => Buffer.from(f, 'hex').subarray(14));
}
const vrrp = [];
const pre = (flags, vrid, hl, b) => Buffer.concat([Buffer.from([flags, vrid, hl]), Buffer.from(b)]);
for (const f of framesFrom('v2-vrrp-adverts.hex.txt')) vrrp.push(pre(0, 51, 0, f), pre(4, 51, 0, f));
for (const f of framesFrom('v3-vrrp-adverts.hex.txt')) vrrp.push(pre(2, 51, 0, f), pre(2 | 32, 51, 0, f));
const v4 = { src: '10.99.0.11', dst: '224.0.0.18' };
vrrp.push(pre(4, 51, 0, encodeIpv4Advert({ version: 2, type: 1, vrid: 51, priority: 150, advertIntMs: 1000, addresses: ['10.99.0.50', '10.99.0.51'], authType: 1, authData: passAuthData('secret') }, v4)));
vrrp.push(pre(8 | 16, 51, 0, encodeIpv4Advert({ version: 3, type: 1, vrid: 51, priority: 0, advertIntMs: 100, addresses: ['10.99.0.50'] }, { src: '10.99.0.11', dst: '10.99.0.12', ttl: 64 })));
vrrp.push(pre(1 | 2, 51, 255, encodeAdvert({ version: 3, type: 1, vrid: 51, priority: 100, advertIntMs: 100, addresses: ['fe80::50', '2001:db8::50'] }, { family: 6, src: 'fe80::11', dst: 'ff02::12' })));
vrrp.push(pre(1, 51, 255, encodeAdvert({ version: 2, type: 1, vrid: 51, priority: 100, advertIntMs: 1000, addresses: ['fe80::50'], authType: 0, authData: new Uint8Array(8) }, { family: 6, src: 'fe80::11', dst: 'ff02::12' })));

// --- netlink: whole datagrams (nlmsghdr + payload), as the sockets read them --------------------------------
const msg = (type, payload, flags = 0) => nl.encodeMessage({ type, flags, seq: 1, pid: 0, payload });
const netlink = [];
const addrs = [
  { ifindex: 3, address: '10.99.0.50', prefixlen: 24, label: 'eth0:vip', broadcast: '10.99.0.255' },
  { ifindex: 3, address: '2001:db8::50', prefixlen: 64, nodad: true },
  { ifindex: 3, address: '10.0.0.1', prefixlen: 32, peer: '10.0.0.2' },
];
for (const a of addrs) {
  netlink.push(msg(rt.RTM_NEWADDR, rt.encodeNewAddress(a)));
}
const routes = [
  { family: 4, dst: '10.1.0.0', dstLen: 16, gateway: '10.99.0.1', oif: 3, table: 254, metric: 10 },
  { family: 6, dst: '2001:db8:1::', dstLen: 48, oif: 3, table: 1000, type: 'blackhole' },
];
for (const r of routes) {
  netlink.push(msg(rt.RTM_NEWROUTE, rt.encodeRoute(r, 'add')));
}
netlink.push(msg(rt.RTM_NEWRULE, rt.encodeRule({ family: 4, from: '10.0.0.0', fromLen: 8, table: 1000, priority: 100, fwmark: 7, fwmask: 255, iif: 'eth0' }, 'add')));
netlink.push(msg(rt.RTM_NEWRULE, rt.encodeRule({ family: 6, to: '2001:db8::', toLen: 32, table: 10, oif: 'eth1' }, 'add')));
// A link message the way the kernel sends one: ifinfomsg + name, mtu, operstate, address, linkinfo{kind}.
netlink.push(msg(rt.RTM_NEWLINK, Buffer.concat([
  rt.ifinfomsg(3, 0x11043), nl.attrStr(rt.IFLA_IFNAME, 'eth0'), nl.attrU32(rt.IFLA_MTU, 1500), nl.attrU8(rt.IFLA_OPERSTATE, 6),
  nl.attr(rt.IFLA_ADDRESS, Buffer.from([2, 0, 0, 0x99, 0, 0x11])), nl.nest(rt.IFLA_LINKINFO, [nl.attrStr(rt.IFLA_INFO_KIND, 'veth')]),
  nl.attrU32(rt.IFLA_MASTER, 5),
])));
// An extended ack: errno EEXIST, the echoed header (capped), the kernel's message.
const errPayload = Buffer.alloc(4 + 16);
errPayload.writeInt32LE(-17, 0);
errPayload.writeUInt32LE(40, 4);
netlink.push(msg(nl.NLMSG_ERROR, Buffer.concat([errPayload, nl.attrStr(nl.NLMSGERR_ATTR_MSG, 'ipv4: Address already assigned')]), nl.NLM_F_CAPPED | nl.NLM_F_ACK_TLVS));
netlink.push(msg(nl.NLMSG_DONE, Buffer.alloc(4)));
// genl: a controller reply and IPVS messages (replies carry the same nests as requests).
netlink.push(msg(genl.GENL_ID_CTRL, genl.genlPayload(1, 2, [
  nl.attrU16(genl.CTRL_ATTR_FAMILY_ID, 0x1c), nl.attrStr(genl.CTRL_ATTR_FAMILY_NAME, 'IPVS'), nl.attrU32(genl.CTRL_ATTR_VERSION, 1),
  nl.nest(genl.CTRL_ATTR_MCAST_GROUPS, [nl.nest(1, [nl.attrStr(genl.CTRL_ATTR_MCAST_GRP_NAME, 'mc'), nl.attrU32(genl.CTRL_ATTR_MCAST_GRP_ID, 9)])]),
])));
const tcp80 = { af: 2, protocol: 6, addr: '10.99.0.50', port: 80 };
const ipvsReqs = [
  ipvs.newServiceRequest({ ...tcp80, scheduler: 'wlc', flags: 0, timeout: 0, netmask: 0xffffffff }),
  ipvs.newServiceRequest({ af: 10, fwmark: 7, scheduler: 'sh', flags: 0x19, timeout: 360, netmask: 64, peName: 'sip' }),
  ipvs.newDestRequest(tcp80, { af: 2, addr: '192.168.1.10', port: 8080, fwd: 0, weight: 5, uThreshold: 100, lThreshold: 10 }),
  ipvs.newDestRequest(tcp80, { af: 2, addr: '192.168.1.11', port: 80, fwd: 2, weight: 1, uThreshold: 0, lThreshold: 0, tunType: 1, tunPort: 6080, tunFlags: 1 }),
  ipvs.newDaemonRequest({ state: 1, mcastIfn: 'eth0', syncId: 3, syncMaxLen: 1400, mcastGroup: '224.0.0.81', mcastPort: 8848, mcastTtl: 2 }),
  ipvs.setConfigRequest({ tcp: 900, tcpFin: 120, udp: 300 }),
  ipvs.getInfoRequest(),
];
for (const r of ipvsReqs) netlink.push(msg(0x1c, r.payload));
// An info reply and a service reply with 64-bit stats.
netlink.push(msg(0x1c, genl.genlPayload(15, 1, [nl.attrU32(ipvs.IPVS_INFO_ATTR_VERSION, 0x010203), nl.attrU32(ipvs.IPVS_INFO_ATTR_CONN_TAB_SIZE, 4096)])));
const stats = nl.nest(ipvs.IPVS_SVC_ATTR_STATS64, [1, 2, 3, 4, 5].map((t) => nl.attr(t, Buffer.alloc(8, t))));
const svcWithStats = Buffer.concat([ipvsReqs[0].payload.subarray(0, 4), nl.nest(1, [...nl.decodeAttrs(nl.decodeAttrs(ipvsReqs[0].payload.subarray(4))[0].value).map((a) => nl.attr(a.type, a.value)), stats])]);
netlink.push(msg(0x1c, svcWithStats));
// Two messages in one datagram, as dumps arrive.
netlink.push(Buffer.concat([netlink[0], netlink[netlink.length - 1]]));

// --- config: whole files ---------------------------------------------------------------------------------------
const config = [];
const confDirs = ['/usr/share/doc/keepalived/samples', join(root, 'test/fixtures/seeds'), join(root, 'examples/demo'), join(root, 'test/fixtures/keepalived-2.2.7-dumps')];
for (const d of confDirs) {
  if (!existsSync(d)) continue;
  for (const n of readdirSync(d).sort()) {
    if (!/\.conf|^keepalived\.conf/.test(n)) continue;
    const b = readFileSync(join(d, n));
    if (b.length <= 16384) config.push(b);
  }
}
config.push(Buffer.from('include a.conf\ninclude b*.conf\nincludeb {a,b}.conf\n'));
config.push(Buffer.from('$X=eth0\n~SEQ(i,1,3) vrrp_instance V$i {\n  interface $X\n  virtual_router_id $i\n  virtual_ipaddress {\n    10.0.0.$i/24 dev ${X} label ${X}:$i\n  }\n}\n'));
config.push(Buffer.from('@h1 global_defs {\n  enable_script_security\n  script_user nobody\n}\nvrrp_script chk {\n  script "/bin/true"\n  interval 1\n  weight -20\n}\nvirtual_server 10.0.0.1 80 {\n  lb_algo rr\n  real_server 10.0.0.2 80 {\n    HTTP_GET {\n      url {\n        path /\n        status_code 200-299\n        regex "ok"\n      }\n    }\n  }\n}\n'));

const counts = { 'vrrp-advert': writeSeeds('vrrp-advert', vrrp), netlink: writeSeeds('netlink', netlink), config: writeSeeds('config', config) };
console.log(Object.entries(counts).map(([k, v]) => `${k}: ${v} seeds`).join(', '));
