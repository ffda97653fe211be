// InterfaceWatcher against a real kernel: initial dump, then link down/up, address add/remove (including a VIP
// removed from outside) and MAC change arrive as changes, and the queries follow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from '../helpers/root.js';
import { execFileSync } from 'node:child_process';
import { Lab, ipIn, ipJson, sh, type Agent, type AgentEvent } from '../helpers/ns-agent.js';

const skip = needsRoot();
const lab = new Lab();
let ns: string;
let agent: Agent;

interface Q { isUp: boolean; primaryIpv4: string | null; linkLocal6: string | null; mac: string | null; ifindex: number | null }

before(async () => {
  if (skip) return;
  ({ nodes: [ns] } = lab.bridged([{ ip4: '10.99.0.11/24', mac: '02:00:00:99:00:11' }], { ipv6: true }));
  agent = await lab.agent(ns);
  await agent.call('watchInterfaces');
});
after(() => lab.cleanup());

const change = (kind: string, pred: (e: AgentEvent) => boolean = () => true) => (e: AgentEvent): boolean => e.event === 'ifchange' && e.kind === kind && e.name === 'eth0' && pred(e);

test('initial state from the dump: up, primary address, link-local, MAC', { skip }, async () => {
  let q = await agent.call<Q>('ifQuery', 'eth0');
  for (let i = 0; i < 50 && !q.linkLocal6; i++) {
    await agent.waitEvent(change('address-added', (e) => (e.address as { address: string }).address.startsWith('fe80')), 5000).catch(() => undefined);
    q = await agent.call<Q>('ifQuery', 'eth0');
  }
  assert.equal(q.isUp, true);
  assert.equal(q.primaryIpv4, '10.99.0.11');
  assert.equal(q.mac, '02:00:00:99:00:11');
  assert.match(q.linkLocal6 ?? '', /^fe80::/);
});

test('link down and up are heard, and isUp follows', { skip }, async () => {
  ipIn(ns, 'link', 'set', 'eth0', 'down');
  await agent.waitEvent(change('link-down'));
  assert.equal((await agent.call<Q>('ifQuery', 'eth0')).isUp, false);
  ipIn(ns, 'link', 'set', 'eth0', 'up');
  await agent.waitEvent(change('link-up'));
  assert.equal((await agent.call<Q>('ifQuery', 'eth0')).isUp, true);
});

test('a VIP deleted from outside is reported as address-removed; primary excludes VIPs', { skip }, async () => {
  ipIn(ns, 'link', 'set', 'eth0', 'down');
  ipIn(ns, 'addr', 'flush', 'dev', 'eth0');
  ipIn(ns, 'addr', 'add', '10.99.0.50/24', 'dev', 'eth0');
  ipIn(ns, 'addr', 'add', '10.99.0.11/24', 'dev', 'eth0');
  ipIn(ns, 'link', 'set', 'eth0', 'up');
  await agent.waitEvent(change('address-added', (e) => (e.address as { address: string }).address === '10.99.0.11'));
  assert.equal((await agent.call<Q>('ifQuery', 'eth0')).primaryIpv4, '10.99.0.50');
  assert.equal((await agent.call<Q>('ifQuery', 'eth0', ['10.99.0.50'])).primaryIpv4, '10.99.0.11');
  ipIn(ns, 'addr', 'del', '10.99.0.50/24', 'dev', 'eth0');
  const ev = await agent.waitEvent(change('address-removed', (e) => (e.address as { address: string }).address === '10.99.0.50'));
  assert.equal((ev.address as { prefixlen: number }).prefixlen, 24);
});

test('MAC change is heard', { skip }, async () => {
  ipIn(ns, 'link', 'set', 'eth0', 'address', '02:00:00:99:00:99');
  const ev = await agent.waitEvent(change('mac-changed'));
  assert.deepEqual([ev.mac, ev.oldMac], ['02:00:00:99:00:99', '02:00:00:99:00:11']);
  assert.equal((await agent.call<Q>('ifQuery', 'eth0')).mac, '02:00:00:99:00:99');
});

test('a new link appears and a deleted one goes', { skip }, async () => {
  ipIn(ns, 'link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'x1');
  await agent.waitEvent((e) => e.event === 'ifchange' && e.kind === 'link-added' && e.name === 'x0');
  ipIn(ns, 'link', 'del', 'x0');
  await agent.waitEvent((e) => e.event === 'ifchange' && e.kind === 'link-removed' && e.name === 'x0');
  assert.equal((await agent.call<Q>('ifQuery', 'x0')).ifindex, null);
});

test('IPv6 forwarding flag per interface (for the NA Router flag)', { skip }, async () => {
  assert.equal(await agent.call('ipv6Forwarding', 'eth0'), false);
  sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.eth0.forwarding=1']);
  assert.equal(await agent.call('ipv6Forwarding', 'eth0'), true);
  assert.equal(await agent.call('ipv6Forwarding', 'nosuch0'), false);
});

test('after the kernel drops notifications (ENOBUFS) the interface watcher keeps hearing link and address changes', { skip }, async () => {
  // The watcher says when it overran, so the test knows the path ran; the flood itself is not forwarded.
  await agent.call('muteAddresses', '10.98.');
  const overrun = agent.waitEvent((e) => e.event === 'ifoverrun', 20_000);
  // Block the agent's event loop while 12,000 address changes are made: its netlink buffers overflow.
  const busy = agent.call('busy', 4000);
  await new Promise((r) => setTimeout(r, 300));
  const lines: string[] = [];
  for (let i = 0; i < 6000; i++) lines.push(`addr add 10.98.${i >> 8}.${i & 255}/32 dev eth0`);
  for (let i = 0; i < 6000; i++) lines.push(`addr del 10.98.${i >> 8}.${i & 255}/32 dev eth0`);
  execFileSync('ip', ['-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n' });
  await busy;
  await overrun;
  // Only events can bring these into the table now (the resync after the overrun happened before them). Before the
  // fix, libuv had stopped the poll handle on POLLERR and the table never changed again.
  const table = async (want: (q: Q) => boolean, what: string, exclude: string[] = []) => {
    for (let i = 0; i < 200; i++) {
      if (want(await agent.call<Q>('ifQuery', 'eth0', exclude))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`the watcher never heard ${what}: ${JSON.stringify(await agent.call<Q>('ifQuery', 'eth0', exclude))}, excluding ${exclude.join(' ')}`);
  };
  await new Promise((r) => setTimeout(r, 1000)); // let the resync finish
  ipIn(ns, 'link', 'set', 'eth0', 'down');
  await table((q) => !q.isUp, 'link down');
  ipIn(ns, 'link', 'set', 'eth0', 'up');
  await table((q) => q.isUp, 'link up');
  // The table matches the kernel again (the flood's addresses are gone from it too), and hears a new address.
  const kernel = (ipJson<{ addr_info: { family: string; local: string }[] }[]>(ns, 'addr', 'show', 'dev', 'eth0')[0]?.addr_info ?? [])
    .filter((a) => a.family === 'inet').map((a) => a.local);
  await table((q) => (q.primaryIpv4 === null ? kernel.length === 0 : kernel.includes(q.primaryIpv4)), 'the flood addresses go');
  ipIn(ns, 'addr', 'add', '10.99.0.77/24', 'dev', 'eth0');
  await table((q) => q.primaryIpv4 === '10.99.0.77', 'the new address', kernel);
});
