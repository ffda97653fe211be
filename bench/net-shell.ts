// Figures for the network shell: VIP add+delete through our rtnetlink client (and `ip` for scale), GARP frames
// per second through the AF_PACKET sender, VRRP IPv4/IPv6 send→receive latency over a veth pair.
// Run as root: `node --import tsx bench/net-shell.ts` (it creates and removes its own namespace).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const INNER = process.argv[2] === '--inner';

if (!INNER) {
  const ns = `ktb${randomBytes(3).toString('hex')}`;
  const ip = (...a: string[]): string => execFileSync('ip', ['-n', ns, ...a], { encoding: 'utf8' });
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0',
      // va and vb share the namespace: let vb accept packets whose source is va's (local) address.
      'net.ipv4.conf.all.accept_local=1', 'net.ipv4.conf.default.accept_local=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
    ip('addr', 'add', '10.98.0.1/24', 'dev', 'va');
    ip('addr', 'add', '10.98.0.2/24', 'dev', 'vb');
    ip('addr', 'add', 'fe80::a/64', 'dev', 'va', 'nodad');
    ip('addr', 'add', 'fe80::b/64', 'dev', 'vb', 'nodad');
    ip('link', 'set', 'va', 'up');
    ip('link', 'set', 'vb', 'up');
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), '--inner'], { stdio: 'inherit', timeout: 120_000 });
    process.exitCode = r.status ?? 1;
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
} else {
  const { Rtnetlink } = await import('../src/net/rtnetlink.js');
  const { ksock } = await import('../src/net/ksock.js');
  const { PacketSender } = await import('../src/net/packet-socket.js');
  const { buildGratuitousArp } = await import('../src/net/arp.js');
  const { openVrrpSocket } = await import('../src/net/vrrp-socket.js');
  const { IpIdCounter } = await import('../src/net/ipv4-header.js');
  const now = (): number => Number(process.hrtime.bigint()) / 1e6;
  const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
  const ifa = ksock().ifNameToIndex('va');

  const rt = new Rtnetlink();
  const N = 2000;
  const lat: number[] = [];
  for (let i = 0; i < N; i++) {
    const vip = { ifindex: ifa, address: `10.98.${1 + (i >> 8)}.${i & 255}`, prefixlen: 32, label: 'va:vip' };
    const t0 = now();
    await rt.addAddress(vip);
    await rt.deleteAddress(vip);
    lat.push(now() - t0);
  }
  console.log(`VIP add+delete (rtnetlink, ${N}x): median ${pct(lat, 0.5).toFixed(3)} ms, p99 ${pct(lat, 0.99).toFixed(3)} ms`);
  const ipLat: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = now();
    execFileSync('ip', ['addr', 'add', '10.98.9.9/32', 'dev', 'va']);
    execFileSync('ip', ['addr', 'del', '10.98.9.9/32', 'dev', 'va']);
    ipLat.push(now() - t0);
  }
  console.log(`VIP add+delete (two \`ip\` execs, 50x, for scale): median ${pct(ipLat, 0.5).toFixed(3)} ms`);
  rt.close();

  const ps = new PacketSender(ifa);
  const G = 20000;
  const t0 = now();
  let sent = 0;
  for (let i = 0; i < G; i++) if (ps.send(buildGratuitousArp('02:00:00:00:00:01', '10.98.0.50'))) sent++;
  const dt = now() - t0;
  console.log(`GARP build+send: ${G} frames in ${dt.toFixed(1)} ms (${Math.round((G / dt) * 1000)} frames/s, ${G - sent} dropped)`);
  ps.close();

  for (const family of [4, 6] as const) {
    const a = openVrrpSocket(family, { ifname: 'va', mode: 'multicast', src: family === 4 ? '10.98.0.1' : 'fe80::a' });
    const b = openVrrpSocket(family, { ifname: 'vb', mode: 'multicast', src: family === 4 ? '10.98.0.2' : 'fe80::b' });
    const payload = family === 4 ? Buffer.from('2133960100013e350a6300320000000000000000', 'hex') : Buffer.from('313396010064000020010db8009900000000000000000050', 'hex');
    const ids = new IpIdCounter();
    const M = 2000;
    const rtt: number[] = [];
    let ttlOk = 0;
    for (let i = 0; i < M; i++) {
      const t = now();
      const got = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`IPv${family} advert not received within 2 s`)), 2000);
        b.once('message', (m) => (clearTimeout(timer), resolve(m.ttl)));
      });
      await a.send(payload, { id: ids.next() });
      if ((await got) === 255) ttlOk++;
      rtt.push(now() - t);
    }
    console.log(`VRRP IPv${family} multicast send→receive over veth (${M}x): median ${pct(rtt, 0.5).toFixed(3)} ms, p99 ${pct(rtt, 0.99).toFixed(3)} ms, TTL/HL 255 on ${ttlOk}/${M}`);
    a.close();
    b.close();
  }
  const mem = process.memoryUsage();
  console.log(`process RSS after all of the above: ${(mem.rss / 1024 / 1024).toFixed(1)} MB`);
}
