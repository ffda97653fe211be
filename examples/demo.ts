// Demo: two directors share a virtual IP on a LAN built from network namespaces. Shows the election, a failover
// when the master loses its link (timed until the backup holds the VIP and answers a client's ping), the failback,
// and tears everything down. Usage: npm run demo [-- --daemon keepalived-ts|keepalived]
// (node --import tsx examples/demo.ts; keepalived-ts itself runs from dist/, built by npm ci).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLan, probeDaemon, repoRoot, waitFor, nowMs, sleep, type DaemonKind, type Director, type Lan } from '../test/lab/index.js';

const DEMO_NOTIFY_PATH = '/etc/keepalived/notify.sh';

function parseArgs(argv: string[]): { daemon: DaemonKind } {
  let daemon: DaemonKind = 'keepalived-ts';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = a.startsWith('--daemon=') ? a.slice(9) : a === '--daemon' ? argv[++i] : undefined;
    if (a === '-h' || a === '--help') {
      console.log('usage: demo [--daemon keepalived-ts|keepalived]   (default keepalived-ts; needs root)');
      process.exit(0);
    }
    if (v === undefined) throw new Error(`unknown argument ${a} (try --help)`);
    if (v !== 'keepalived' && v !== 'keepalived-ts') throw new Error(`--daemon must be keepalived-ts or keepalived, not ${v}`);
    daemon = v;
  }
  return { daemon };
}

const secs = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
let t0 = 0;
const say = (msg: string) => console.log(`[${((nowMs() - t0) / 1000).toFixed(3).padStart(7)}] ${msg}`);

/** The example config with its notify script path pointed at the lab's script for that director. */
function exampleConfig(file: string, d: Director): string {
  return readFileSync(join(repoRoot(), 'examples', 'demo', file), 'utf8').split(DEMO_NOTIFY_PATH).join(d.notifyScript);
}

async function holds(lan: Lan, d: Director): Promise<boolean> {
  return (await lan.vipHolders(lan.vip())).join() === d.name;
}

async function main(): Promise<void> {
  const { daemon: wanted } = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the demo builds network namespaces: run it as root');
  t0 = nowMs();
  let kind = wanted;
  if (wanted === 'keepalived-ts') {
    say('checking that keepalived-ts can run a VRRP instance here…');
    const p = await probeDaemon('keepalived-ts', { prefix: 'ktdemo' });
    if (!p.ok) {
      say(`NOTICE: keepalived-ts cannot run yet (${p.reason}); this demo falls back to Debian's keepalived.`);
      kind = 'keepalived';
    }
  }
  if (kind === 'keepalived') {
    const p = await probeDaemon('keepalived', { prefix: 'ktdemo' });
    if (!p.ok) throw new Error(`keepalived cannot run either: ${p.reason} (scripts/setup-system.sh installs it)`);
  }

  const lan = await createLan({ prefix: 'ktdemo', directors: 2, clients: 1 });
  try {
    const [d1, d2] = lan.directors;
    const c1 = lan.clients[0];
    const vip = lan.vip();
    say(`LAN ready: bridge in namespace ${lan.bridgeNs}`);
    for (const n of [d1, d2, c1]) say(`  ${n.name === 'c1' ? 'client   ' : n === d1 ? 'director1' : 'director2'} ${n.ns.padEnd(14)} ${n.ip.padEnd(12)} ${n.mac}`);
    say(`VIP ${vip}, VRRP instance VI_1 (vrid 51, advert_int 1), configs examples/demo/director{1,2}.conf, daemon: ${kind}`);

    const addr1 = await lan.watchAddresses(d1);
    const addr2 = await lan.watchAddresses(d2);
    const launched = nowMs();
    await lan.startDaemon(d1, { kind, configText: exampleConfig('director1.conf', d1) });
    await lan.startDaemon(d2, { kind, configText: exampleConfig('director2.conf', d2) });
    say('started director1 (priority 150) and director2 (priority 100); both begin as BACKUP and wait 3 adverts + skew');
    await waitFor(() => holds(lan, d1), { timeoutMs: 20_000, what: 'director1 to become MASTER' });
    const won = await waitFor(() => addr1.first(vip, true, launched), { timeoutMs: 5000, what: 'the VIP on director1' });
    say(`director1 is MASTER and holds ${vip} (${secs(won.tMs - launched)} after launch); director2 stays BACKUP`);
    if (!(await lan.ping(c1, vip, { timeoutS: 2 }))) throw new Error(`client cannot ping ${vip}`);
    say(`client pings ${vip}: answered, its ARP entry says ${(await lan.neighbour(c1, vip))?.mac} (director1)`);

    // Failover: a continuous ping (every 10 ms) and a capture time the moment director2 answers.
    await sleep(1500);
    const cap = await lan.capture('bridge', 'icmp or arp or vrrp', { name: 'demo' });
    lan.spawnIn(c1, 'ping', ['-n', '-i', '0.01', vip]);
    await sleep(300);
    say("pulling director1's cable: ip link set eth0 down");
    const down = await lan.linkDown(d1);
    const reply = await cap.waitForFrame((f) => f.icmp?.type === 0 && f.ethSrc === d2.mac && f.ipv4?.src === vip, { afterMs: down, timeoutMs: 20_000, what: 'director2 to answer the client' });
    await waitFor(() => addr2.first(vip, true, down), { timeoutMs: 5000, what: 'the VIP on director2' });
    const garp = cap.frames().find((f) => f.tMs > down && f.arp && f.ethSrc === d2.mac && f.arp.senderIp === vip && f.arp.targetIp === vip);
    say(`TAKEOVER: director2 holds ${vip} after ${secs(addr2.first(vip, true, down)!.tMs - down)}; gratuitous ARP after ${garp ? secs(garp.tMs - down) : '—'};`);
    say(`          the client's ping is answered by director2 after ${secs(reply.tMs - down)} (bound: 3 × 1 s + skew 0.609 s = 3.609 s after director1's last advert)`);
    say(`client's ARP entry for ${vip} now ${(await lan.neighbour(c1, vip))?.mac} (director2), moved by the gratuitous ARPs`);

    say("plugging director1's cable back: ip link set eth0 up");
    const up = await lan.linkUp(d1);
    await waitFor(() => holds(lan, d1), { timeoutMs: 20_000, what: 'director1 to take the VIP back' });
    const back = await waitFor(() => addr1.first(vip, true, up), { timeoutMs: 5000, what: 'the VIP on director1' });
    say(`FAILBACK: director1 (higher priority, preempt) holds ${vip} again after ${secs(back.tMs - up)}; director2 is BACKUP`);
    await cap.stop();

    say('stopping both directors (SIGTERM: the master sends a priority-0 advert and releases the VIP)');
    await d1.daemon!.stop('SIGTERM');
    await d2.daemon!.stop('SIGTERM');
    say('state changes reported by the notify scripts:');
    for (const e of lan.notifyEvents()) console.log(`            ${((e.tMs - t0) / 1000).toFixed(3).padStart(7)}  ${e.node === 'd1' ? 'director1' : 'director2'} → ${e.state}`);
  } finally {
    await lan.teardown();
    say('LAN torn down: namespaces, processes and files removed');
  }
}

main().catch((e: Error) => {
  console.error(`demo failed: ${e.message}`);
  process.exitCode = 1;
});
