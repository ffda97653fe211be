// The checker engine on config-model objects, against real HTTP servers on 127.0.0.1: desired IPVS state and
// events over time, reload, omega, ha_suspend. The engine runs in this process here (its logic is what is tested);
// check-engine-isolation.test.ts runs the production checker child as the daemon forks it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { CheckEngine } from '../../src/check/engine.js';
import type { CheckEvent } from '../../src/check/verdict.js';
import type { CheckInput, DesiredVs } from '../../src/check/checker-types.js';
import type { VirtualServer } from '../../src/config/model/index.js';
import { httpCheck, realServer, script, url, virtualServer } from '../helpers/check-model.js';

class Backend {
  server?: http.Server;
  constructor(public port = 0) {}
  async start(): Promise<void> {
    this.server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

const backends = [new Backend(), new Backend(), new Backend()];
for (const b of backends) await b.start();
const engines: CheckEngine[] = [];
after(async () => {
  for (const e of engines) e.stop();
  for (const b of backends) await b.stop();
});

function vsConfig(over: Partial<VirtualServer> = {}, inhibit = false): CheckInput {
  return {
    virtualServers: [virtualServer({
      key: 'web', protocol: 'TCP', address: '10.1.1.1', port: 80, quorum: 1, hysteresis: 0,
      realServers: backends.map((b) => realServer('127.0.0.1', {
        port: b.port, weight: 1, inhibitOnFailure: inhibit,
        checkers: [httpCheck({
          urls: [url({ path: '/health' })],
          delayLoopMs: 200, delayBeforeRetryMs: 100, retry: 1, warmupMs: 0, alpha: false, connectTimeoutMs: 500,
        })],
      })),
      ...over,
    })],
  };
}

/** Runs a config in an engine and keeps the latest desired state and all events. */
function run(config: CheckInput) {
  const state = new Map<string, DesiredVs>();
  const events: CheckEvent[] = [];
  const waiters: (() => void)[] = [];
  const sink = {
    desired: (changes: DesiredVs[]) => {
      for (const c of changes) state.set(c.vsKey, c);
      for (const w of waiters) w();
    },
    events: (e: CheckEvent[]) => {
      events.push(...e);
      for (const w of waiters) w();
    },
  };
  /** What the engine in charge is: a reload replaces it, carrying unchanged checkers' state over. */
  const proc = {
    engine: new CheckEngine(config, sink),
    reload(next: CheckInput): void {
      const previous = this.engine;
      this.engine = new CheckEngine(next, sink, { previous });
      previous.halt();
      engines.push(this.engine);
      this.engine.start();
    },
    stop: (): CheckEvent[] => proc.engine.stop(),
    stats: () => proc.engine.stats(),
    setLocalAddresses: (a: string[]) => proc.engine.setLocalAddresses(a),
  };
  engines.push(proc.engine);
  proc.engine.start();
  const dests = () => (state.get('web')?.dests ?? []).map((d) => `${d.port}:${d.weight}${d.inhibited ? 'i' : ''}`).sort();
  const until = (pred: () => boolean, what: string, ms = 15000) =>
    new Promise<void>((resolve, reject) => {
      if (pred()) return resolve();
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; dests now ${dests().join(',')}`)), ms);
      waiters.push(() => {
        if (pred()) {
          clearTimeout(t);
          resolve();
        }
      });
    });
  return { proc, state, events, dests, until };
}

const p = (i: number) => backends[i]!.port;

test('a stopped server leaves the desired set and comes back when it restarts', async () => {
  const r = run(vsConfig());
  await r.until(() => r.state.has('web'), 'initial state');
  assert.deepEqual(r.dests(), [`${p(0)}:1`, `${p(1)}:1`, `${p(2)}:1`].sort());
  await backends[1]!.stop();
  await r.until(() => r.dests().length === 2, 'removal');
  assert.ok(!r.dests().includes(`${p(1)}:1`));
  await r.until(() => r.events.some((e) => e.kind === 'rs-down' && e.port === p(1)), 'rs-down event');
  await backends[1]!.start();
  await r.until(() => r.dests().length === 3, 'return');
  await r.until(() => r.events.some((e) => e.kind === 'rs-up' && e.port === p(1)), 'rs-up event');
  r.proc.stop();
});

test('inhibit_on_failure: weight 0 instead of removal', async () => {
  const r = run(vsConfig({}, true));
  await r.until(() => r.state.has('web'), 'initial state');
  await backends[2]!.stop();
  await r.until(() => r.dests().includes(`${p(2)}:0i`), 'inhibited');
  assert.equal(r.dests().length, 3);
  await backends[2]!.start();
  await r.until(() => r.dests().includes(`${p(2)}:1`), 'weight back');
  r.proc.stop();
});

test('quorum loss swaps in the sorry server; regain swaps it out', async () => {
  const r = run(vsConfig({ quorum: 3, sorryServer: { address: '127.0.0.9', family: 4, port: 8080, inhibit: false }, quorumDown: script('/bin/true down') }));
  await r.until(() => r.state.has('web'), 'initial state');
  assert.equal(r.dests().length, 3);
  await backends[0]!.stop();
  await r.until(() => r.dests().join() === '8080:1', 'sorry server alone');
  await r.until(() => r.events.some((e) => e.kind === 'quorum-down'), 'quorum-down event');
  const qd = r.events.find((e) => e.kind === 'quorum-down');
  assert.ok(qd && 'fifoLine' in qd && qd.fifoLine === 'VS [10.1.1.1]:tcp:80 DOWN\n\0');
  await backends[0]!.start();
  await r.until(() => r.dests().length === 3 && !r.dests().includes('8080:1'), 'real servers back');
  await r.until(() => r.events.some((e) => e.kind === 'quorum-up'), 'quorum-up event');
  r.proc.stop();
});

test('omega: stop returns shutdown events', async () => {
  const r = run(vsConfig({ omega: true }));
  await r.until(() => r.state.has('web'), 'initial state');
  const ev = r.proc.stop();
  assert.deepEqual(ev.map((e) => e.kind), ['rs-down', 'rs-down', 'rs-down', 'quorum-down']);
});

test('reload keeps a down server down and adds a new one', async () => {
  const cfg = vsConfig();
  const r = run(cfg);
  await r.until(() => r.state.has('web'), 'initial state');
  await backends[1]!.stop();
  await r.until(() => r.dests().length === 2, 'removal');
  const extra = new Backend();
  await extra.start();
  try {
    const vs0 = cfg.virtualServers[0]!;
    const cfg2: CheckInput = { virtualServers: [{ ...vs0, realServers: [...vs0.realServers, { ...vs0.realServers[0]!, port: extra.port }] }] };
    r.state.clear();
    r.proc.reload(cfg2);
    await r.until(() => r.state.has('web'), 'state after reload');
    assert.equal(r.dests().length, 3, 'down server stays out, new one in');
    assert.ok(!r.dests().includes(`${p(1)}:1`));
    assert.ok(r.dests().includes(`${extra.port}:1`));
    await backends[1]!.start();
    await r.until(() => r.dests().length === 4, 'restarted server back after reload');
  } finally {
    r.proc.stop();
    await extra.stop();
  }
});

test('ha_suspend: checkers run only while the VS address is local', async () => {
  const r = run(vsConfig({ haSuspend: true, address: '10.9.9.9' }));
  await r.until(() => r.state.has('web'), 'initial state');
  await backends[0]!.stop();
  try {
    // Suspended: the dead server is never probed, so it stays in the pool.
    await new Promise((res) => setTimeout(res, 1500));
    assert.equal(r.dests().length, 3);
    assert.equal(r.proc.stats().checksDone, 0);
    r.proc.setLocalAddresses(['10.9.9.9']);
    await r.until(() => r.dests().length === 2, 'checks resumed and found the dead server');
  } finally {
    await backends[0]!.start();
    r.proc.stop();
  }
});
