// Gratuitous ARP and unsolicited NA through the AF_PACKET sender: the peer's neighbour table moves to the new MAC,
// and tshark decodes the frames as a valid gratuitous ARP and a valid NA (checksum good).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsCommand, needsRoot } from '../helpers/root.js';
import { Lab, ipIn, ipJson, sh, startCapture, type Agent } from '../helpers/ns-agent.js';

const skip = needsRoot() || needsCommand('tshark') || needsCommand('tcpdump');
const lab = new Lab();
let lan: string, a: string, b: string;
let agent: Agent;
const dir = mkdtempSync(join(tmpdir(), 'kt-garp-'));
const MAC_A = '02:00:00:99:00:11';

before(async () => {
  if (skip) return;
  ({ lan, nodes: [a, b] } = lab.bridged([
    { ip4: '10.99.0.11/24', ip6: '2001:db8:99::11/64', mac: MAC_A },
    { ip4: '10.99.0.12/24', ip6: '2001:db8:99::12/64', mac: '02:00:00:99:00:12' },
  ], { ipv6: true }));
  agent = await lab.agent(a);
});
after(() => {
  lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const neighMac = (ns: string, dst: string): string | undefined =>
  ipJson<{ dst: string; lladdr?: string }[]>(ns, 'neigh', 'show', 'dev', 'eth0').find((n) => n.dst === dst)?.lladdr;

async function until(pred: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (pred()) return true;
  return pred();
}

test('GARP moves the peer neighbour entry for the VIP to our MAC; tshark sees a gratuitous ARP request', { skip }, async () => {
  ipIn(b, 'neigh', 'replace', '10.99.0.50', 'lladdr', '02:00:00:00:00:aa', 'dev', 'eth0', 'nud', 'stale');
  const pcap = join(dir, 'garp.pcap');
  const cap = await startCapture(lan, 'br0', pcap, ['arp']);
  assert.equal(await agent.call('sendGarp', 'eth0', MAC_A, '10.99.0.50'), true);
  const moved = await until(() => neighMac(b, '10.99.0.50') === MAC_A);
  await cap.stop();
  assert.ok(moved, `neighbour entry is ${neighMac(b, '10.99.0.50')}`);
  const fields = sh('tshark', ['-r', pcap, '-T', 'fields', '-E', 'separator=,', '-e', 'eth.dst', '-e', 'arp.opcode', '-e', 'arp.isgratuitous',
    '-e', 'arp.src.hw_mac', '-e', 'arp.src.proto_ipv4', '-e', 'arp.dst.hw_mac', '-e', 'arp.dst.proto_ipv4', '-e', 'frame.len']).trim().split('\n');
  assert.deepEqual(fields[0].split(','), ['ff:ff:ff:ff:ff:ff', '1', '1', MAC_A, '10.99.0.50', 'ff:ff:ff:ff:ff:ff', '10.99.0.50', '42']);
});

test('unsolicited NA moves the peer IPv6 neighbour entry; tshark: NA, override, hop limit 255, checksum good', { skip }, async () => {
  ipIn(b, '-6', 'neigh', 'replace', '2001:db8:99::50', 'lladdr', '02:00:00:00:00:aa', 'dev', 'eth0', 'nud', 'stale');
  const pcap = join(dir, 'na.pcap');
  const cap = await startCapture(lan, 'br0', pcap, ['icmp6']);
  assert.equal(await agent.call('sendNa', 'eth0', MAC_A, '2001:db8:99::50', true), true);
  const moved = await until(() => neighMac(b, '2001:db8:99::50') === MAC_A);
  await cap.stop();
  assert.ok(moved, `neighbour entry is ${neighMac(b, '2001:db8:99::50')}`);
  const out = sh('tshark', ['-r', pcap, '-Y', 'icmpv6.type == 136', '-T', 'fields', '-E', 'separator=,',
    '-e', 'eth.dst', '-e', 'ipv6.dst', '-e', 'ipv6.hlim', '-e', 'icmpv6.nd.na.flag.r', '-e', 'icmpv6.nd.na.flag.o',
    '-e', 'icmpv6.nd.na.target_address', '-e', 'icmpv6.opt.linkaddr', '-e', 'icmpv6.checksum.status']).trim().split('\n');
  assert.deepEqual(out[0].split(','), ['33:33:00:00:00:01', 'ff02::1', '255', '1', '1', '2001:db8:99::50', MAC_A, '1']);
  assert.match(sh('tshark', ['-r', pcap, '-Y', 'icmpv6.type == 136', '-V']), /\[Checksum Status: Good\]/);
});
