// The running daemon's --status-listen endpoint under slow clients (issue 9): 40 connections dripping header
// bytes and never finishing (more than the 32-connection limit) do not keep a /metrics scrape out; the slow
// clients are cut off by the header timeout. keepalived has no such endpoint, so there is no control here.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { needsRoot } from '../helpers/root.js';
import { createLan, vrrpConfig, waitFor, repoRoot, type Lan, type Director, type Daemon } from '../helpers/lab.js';
import { parsePrometheusText } from '../helpers/prom-parse.js';
import { getOverUnixSocket } from '../helpers/unix-http.js';

const skip = needsRoot();
const WAIT = { timeoutMs: 30_000, intervalMs: 50 };

const get = getOverUnixSocket;

describe('status endpoint of a running daemon under slow clients', { skip }, () => {
  let lan: Lan;
  let d1: Director;
  let ts: Daemon;
  let namespaces: readonly string[] = [];
  const sock = () => join(d1.dir, 'status.sock');

  before(async () => {
    lan = await createLan({ directors: 1, clients: 0 });
    namespaces = lan.namespaceNames.slice();
    d1 = lan.directors[0]!;
    ts = await lan.startDaemon(d1, {
      kind: 'keepalived-ts',
      configText: vrrpConfig({ vrid: 75, priority: 150, state: 'MASTER', advertInt: 1, vip: [lan.vipCidr(0)], iface: 'eth0' }),
      command: [process.execPath, '--import', 'tsx', join(repoRoot(), 'src', 'cli.ts')],
      extraArgs: ['--status-listen', sock()],
    });
    await waitFor(async () => (await lan.addresses(d1)).includes(lan.vip(0)), { ...WAIT, what: 'the VIP on d1' });
  });

  after(async () => {
    await ts?.stop('SIGTERM');
    await lan?.teardown();
    const left = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => namespaces.includes(n)) : [];
    assert.deepEqual(left, [], 'no namespace of this test is left');
  });

  it('40 slow clients: a /metrics scrape still answers at once; the slow ones are cut off', async () => {
    const slow: { sock: Socket; closedAt: Promise<number>; timer?: NodeJS.Timeout }[] = [];
    const t0 = performance.now();
    try {
      for (let i = 0; i < 40; i++) {
        const s = connect(sock());
        s.on('error', () => {});
        const entry: (typeof slow)[number] = { sock: s, closedAt: new Promise((r) => s.on('close', () => r(performance.now() - t0))) };
        s.on('connect', () => {
          s.write('GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ');
          entry.timer = setInterval(() => s.writable && s.write('a'), 200);
        });
        slow.push(entry);
      }
      await new Promise((r) => setTimeout(r, 500));
      const m = await get(sock(), '/metrics');
      assert.equal(m.status, 200);
      assert.ok(m.ms < 2000, `the scrape took ${Math.round(m.ms)} ms`);
      const fams = parsePrometheusText(m.body);
      assert.equal(fams.get('keepalived_ts_vrrp_state')!.samples.find((s) => s.labels['state'] === 'MASTER')!.value, 1);
      // Beyond the limit some were displaced at once; all of them are gone by the 5 s header timeout (+1 s check).
      const closed = await Promise.all(slow.map((e) => e.closedAt));
      assert.ok(Math.max(...closed) < 8000, `slow clients closed after up to ${Math.round(Math.max(...closed))} ms`);
      assert.ok(closed.filter((ms) => ms < 1000).length >= 8, 'the connections beyond the limit of 32 were closed at once');
    } finally {
      for (const e of slow) {
        clearInterval(e.timer);
        e.sock.destroy();
      }
    }
    // The daemon is unharmed.
    assert.equal((await get(sock(), '/status')).status, 200);
  });
});
