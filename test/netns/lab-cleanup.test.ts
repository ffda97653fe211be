// The lab never leaves anything behind: on SIGINT its handlers tear it down, and after a crash (SIGKILL, no
// handler runs) the next lab of the same prefix family sweeps the leftovers, and only those.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from '../helpers/root.js';
import { createLan, sweepStale, waitFor, within } from '../helpers/lab.js';

const skip = needsRoot();
const netns = () => (existsSync('/run/netns') ? readdirSync('/run/netns') : []);
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSafe(`/proc/${pid}/status`));
function readFileSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

interface ChildInfo {
  namespaces: string[];
  dir: string;
  sleepPid: number;
}

async function startChild(prefix: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'lab-child.ts'), prefix], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const info = await waitFor(() => (out.includes('\n') ? (JSON.parse(out.split('\n')[0]) as ChildInfo) : undefined), { timeoutMs: 20_000, what: 'the child lab' });
  return { child, info, exited };
}

describe('lab cleanup', { skip }, () => {
  it('tears the lab down when its process gets SIGINT', async () => {
    const { child, info, exited } = await startChild('ktcint');
    assert.ok(info.namespaces.every((n) => netns().includes(n)));
    assert.ok(alive(info.sleepPid));
    child.kill('SIGINT');
    await within(exited, 15_000);
    assert.equal(child.signalCode ?? child.exitCode, 130);
    assert.deepEqual(netns().filter((n) => info.namespaces.includes(n)), []);
    assert.equal(existsSync(info.dir), false);
    await waitFor(() => !alive(info.sleepPid), { timeoutMs: 5000, what: 'the sleep to end' });
  });

  it('sweeps what a crashed run of the same prefix left, and nothing of other prefixes', async () => {
    const crashed = await startChild('ktcrash');
    const bystander = await startChild('ktcby');
    try {
      crashed.child.kill('SIGKILL');
      await within(crashed.exited, 10_000);
      // Nothing ran on SIGKILL: the namespaces, the sleep inside and the ownership record are still there.
      assert.ok(crashed.info.namespaces.every((n) => netns().includes(n)));
      assert.ok(alive(crashed.info.sleepPid));
      assert.ok(existsSync(join(crashed.info.dir, 'owner.json')));
      const removed = sweepStale('ktcrash');
      assert.deepEqual([...removed].sort(), [...crashed.info.namespaces].sort());
      assert.deepEqual(netns().filter((n) => crashed.info.namespaces.includes(n)), []);
      await waitFor(() => !alive(crashed.info.sleepPid), { timeoutMs: 5000, what: 'the orphaned sleep to end' });
      assert.equal(existsSync(crashed.info.dir), false);
      // A lab of another prefix, and a live one, is left alone.
      assert.deepEqual(sweepStale('ktcby'), []);
      assert.ok(bystander.info.namespaces.every((n) => netns().includes(n)));
    } finally {
      bystander.child.kill('SIGINT');
      await within(bystander.exited, 15_000);
    }
    assert.deepEqual(netns().filter((n) => bystander.info.namespaces.includes(n)), []);
  });

  it('builds an IPv6 LAN on request (ULA addresses, no DAD)', async () => {
    const lan = await createLan({ prefix: 'ktv6', directors: 1, clients: 1, ipv6: true });
    try {
      const [d1] = lan.directors;
      assert.ok((await lan.addresses(d1)).includes(lan.host6(11)));
      assert.ok(await lan.ping(lan.clients[0], lan.host6(11), { timeoutS: 3 }), 'c1 reaches d1 over IPv6');
      assert.ok(await lan.ping('c1', d1.ip), 'and over IPv4');
    } finally {
      await lan.teardown();
    }
    assert.deepEqual(netns().filter((n) => lan.namespaceNames.includes(n)), []);
  });
});
