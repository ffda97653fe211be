// The VRRP IPv4 socket against Debian's keepalived 2.2.7: we hear its adverts as sent (TTL 255, its payload), and
// it accepts ours (a higher-priority advert from our socket makes the keepalived master step down and drop the VIP).
// The advert bytes are keepalived's own from shared/vectors (vrid 51, prio 150), so only the socket layer and our
// IPv4 header are under test here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsCommand, needsRoot } from '../helpers/root.js';
import { Lab, ipJson, type Agent } from '../helpers/ns-agent.js';

const skip = needsRoot() || needsCommand('keepalived');
const lab = new Lab();
let a: string, b: string;
let A: Agent;
let ka: ChildProcess | undefined;
let kaLog = '';
let llA = '';
const dir = mkdtempSync(join(tmpdir(), 'kt-ka-'));
const PRIO150 = '213396010001 3e35 0a630032 0000000000000000'.replace(/ /g, '');

before(async () => {
  if (skip) return;
  ({ nodes: [a, b] } = lab.bridged([
    { ip4: '10.99.0.11/24', ip6: '2001:db8:99::11/64', mac: '02:00:00:99:00:11' },
    { ip4: '10.99.0.12/24', ip6: '2001:db8:99::12/64', mac: '02:00:00:99:00:12' },
  ], { ipv6: true }));
  A = await lab.agent(a);
  llA = ipJson<{ addr_info: { family: string; scope: string; local: string }[] }[]>(a, 'addr', 'show', 'dev', 'eth0')[0]
    .addr_info.find((x) => x.family === 'inet6' && x.scope === 'link')!.local;
});

/** Starts keepalived in namespace b with one instance (BACKUP, prio 100, vrid 51, advert 1 s). */
function startKeepalived(name: string, instance: string, vip: string): void {
  const conf = join(dir, `${name}.conf`);
  writeFileSync(conf, `global_defs {\n  router_id kt_b\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n${instance}  virtual_ipaddress {\n    ${vip}\n  }\n}\n`);
  const p = (n: string): string => join(dir, `${name}-${n}`);
  kaLog = '';
  // stdbuf: keepalived's console log is block-buffered on a pipe otherwise.
  ka = spawn('ip', ['netns', 'exec', b, 'stdbuf', '-oL', '-eL', 'keepalived', '-n', '-l', '-D', '-f', conf, '-p', p('k.pid'), '-r', p('v.pid'), '-c', p('c.pid'), '-b', p('b.pid')], {
    env: { ...process.env, TMPDIR: dir }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  everyKa.push(ka);
  ka.stdout!.on('data', (d) => (kaLog += d));
  ka.stderr!.on('data', (d) => (kaLog += d));
}

const everyKa: ChildProcess[] = [];

async function stopKeepalived(): Promise<void> {
  if (ka && ka.exitCode === null) {
    const gone = new Promise((r) => ka!.on('exit', r));
    ka.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    if (ka.exitCode === null) ka.kill('SIGKILL');
  }
  ka = undefined;
}

after(async () => {
  await stopKeepalived();
  // A test that failed before its own stop left its keepalived running (and this file's process alive with it).
  for (const k of everyKa) if (k.exitCode === null && k.signalCode === null) k.kill('SIGKILL');
  lab.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const hasAddr = (addr: string) => (): boolean =>
  ipJson<{ addr_info: { local: string }[] }[]>(b, 'addr', 'show', 'dev', 'eth0')[0].addr_info.some((x) => x.local === addr);
const hasVip = hasAddr('10.99.0.50');

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (pred()) return true;
  return pred();
}

test('we receive keepalived adverts with TTL 255; keepalived accepts ours and yields to the higher priority', { skip, timeout: 60_000 }, async () => {
  await A.call('openVrrp', 'm4', 4, { ifname: 'eth0', mode: 'multicast', src: '10.99.0.11' });
  startKeepalived('v2', '', '10.99.0.50/24');
  // keepalived becomes master on its own (nobody else advertises) and we hear its adverts.
  const adv = await A.waitEvent((e) => e.event === 'vrrp' && e.src === '10.99.0.12', 20_000);
  assert.deepEqual([adv.dst, adv.ttl], ['224.0.0.18', 255]);
  const p = Buffer.from(adv.payload as string, 'hex');
  assert.deepEqual([p[0], p[1], p[2], p[3]], [0x21, 51, 100, 1], 'v2 advert, vrid 51, prio 100, 1 address');
  assert.equal((adv.packet as string).slice(0, 4), '45c0');
  assert.ok(await until(hasVip, 10_000), `keepalived holds the VIP; log:\n${kaLog}`);
  // Our socket sends keepalived's own prio-150 advert; keepalived must take it as a higher-priority master.
  await A.call('advertise', 'm4', PRIO150, 1000);
  assert.ok(await until(() => !hasVip(), 10_000), `keepalived dropped the VIP; log:\n${kaLog}`);
  // The log lines come through a pipe: give the event loop a chance to read them.
  assert.ok(await until(() => /Master received advert from 10\.99\.0\.11 with higher priority 150/.test(kaLog), 5000), kaLog);
  // "Entering BACKUP STATE" is logged just after that line and may still be in the pipe.
  assert.ok(await until(() => /Entering MASTER STATE[\s\S]*Entering BACKUP STATE/.test(kaLog), 5000), kaLog);
  await A.call('stopAdvertising', 'm4');
  await A.call('closeVrrp', 'm4');
  await stopKeepalived();
});

test('IPv6 VRRPv3: keepalived adverts heard from its link-local with hop limit 255; ours make it yield', { skip, timeout: 60_000 }, async () => {
  await A.call('openVrrp', 'm6', 6, { ifname: 'eth0', mode: 'multicast', src: llA });
  startKeepalived('v3', '  version 3\n', '2001:db8:99::50/64');
  const adv = await A.waitEvent((e) => e.event === 'vrrp' && e.socket === 'm6', 20_000);
  assert.match(adv.src as string, /^fe80::/);
  assert.deepEqual([adv.dst, adv.ttl], ['ff02::12', 255]);
  const p = Buffer.from(adv.payload as string, 'hex');
  assert.deepEqual([p[0], p[1], p[2], p[3], p.readUInt16BE(4)], [0x31, 51, 100, 1, 100], 'v3 advert, vrid 51, prio 100, 1 address, 100 cs');
  const vip6 = hasAddr('2001:db8:99::50');
  assert.ok(await until(vip6, 10_000), `keepalived holds the IPv6 VIP; log:\n${kaLog}`);
  // VRRPv3 prio 150, 100 cs, checksum left 0: the kernel fills it (IPV6_CHECKSUM 6).
  await A.call('advertise', 'm6', '3133960100640000' + '20010db8009900000000000000000050', 1000);
  assert.ok(await until(() => !vip6(), 10_000), `keepalived dropped the IPv6 VIP; log:\n${kaLog}`);
  assert.ok(await until(() => /higher priority 150/.test(kaLog), 5000), kaLog);
  await A.call('stopAdvertising', 'm6');
});
