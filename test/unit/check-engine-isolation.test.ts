// One bad checker disables itself with an error; the others keep probing. Real HTTP server on 127.0.0.0/8, the
// engine in this process (the sink is what the checker service logs and programs IPVS from).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { BOOTSTRAP_DELAY_MS } from '../../src/check/verdict.js';
import { CheckEngine } from '../../src/check/engine.js';
import type { CheckConfig, CheckerConfig } from '../../src/check/types.js';

const server = http.createServer((_req, res) => res.end('status: OK'));
await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
const port = (server.address() as net.AddressInfo).port;
after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));

const timing = { delayLoopMs: 50, delayBeforeRetryMs: 50, retry: 0, warmupMs: 0, alpha: false, connectTimeoutMs: 500 };
const rs = (n: number, checker: CheckerConfig) => ({ addr: `127.0.0.${n}`, port, weight: 1, inhibitOnFailure: false, checkers: [checker] });

test('a checker whose regex or TLS files cannot be used is disabled with an error; the rest keeps running', async () => {
  const config: CheckConfig = {
    virtualServers: [{
      key: 'web', protocol: 'tcp', addr: '10.1.1.1', port: 80, quorum: 1, hysteresis: 0,
      realServers: [
        rs(1, { kind: 'HTTP_GET', urls: [{ path: '/', regex: '(?i)status: ok' }], ...timing }),
        rs(2, { kind: 'HTTP_GET', urls: [{ path: '/', regex: '(?>status): ok' }], ...timing }),
        rs(3, { kind: 'SSL_GET', urls: [{ path: '/' }], tls: { certificate: '/nonexistent/cert.pem' }, ...timing }),
        rs(4, { kind: 'TCP_CHECK', ...timing }),
      ],
    }],
  };
  const errors: string[] = [];
  const failures: string[] = [];
  const engine = new CheckEngine(config, {
    desired: () => undefined,
    events: (ev) => { for (const e of ev) if (e.kind === 'checker-failure' || e.kind === 'checker-down') failures.push(e.message); },
    error: (m) => errors.push(m),
  });
  assert.equal(errors.length, 2, errors.join('\n'));
  assert.match(errors[0]!, /HTTP_GET on 127\.0\.0\.2:\d+ of web: url \/: regex "\(\?>status\): ok": atomic group .* - checker disabled/);
  assert.match(errors[1]!, /SSL_GET on 127\.0\.0\.3:\d+ of web: .*nonexistent.* - checker disabled/);
  assert.deepEqual(engine.disabled, [1, 2]);
  engine.start();
  await new Promise((r) => setTimeout(r, 400 + BOOTSTRAP_DELAY_MS));
  const done = engine.stats().checksDone;
  engine.stop();
  // Two working checkers at a 50 ms delay_loop over 400 ms: several probes each, and the (?i) regex matched.
  assert.ok(done >= 6, `only ${done} checks done`);
  assert.deepEqual(failures, []);
});

test('delay_loop 3000000 (above 2^31-1 ms): one probe, then silence; Node alone would re-probe every 1 ms', async () => {
  const config: CheckConfig = {
    virtualServers: [{
      key: 'slow', protocol: 'tcp', addr: '10.1.1.2', port: 80, quorum: 1, hysteresis: 0,
      realServers: [rs(1, { kind: 'TCP_CHECK', ...timing, delayLoopMs: 3_000_000_000, delayBeforeRetryMs: 3_000_000_000 })],
    }],
  };
  const engine = new CheckEngine(config, { desired: () => undefined, events: () => undefined });
  engine.start();
  await new Promise((r) => setTimeout(r, BOOTSTRAP_DELAY_MS + 1000));
  const done = engine.stats().checksDone;
  engine.stop();
  assert.equal(done, 1);
});

test('MISC_CHECK with misc_timeout defaulting to delay_loop 3000000: the script runs to its end, not killed after 1 ms', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const dir = mkdtempSync('/tmp/kt-misc-long-');
  try {
    const script = `${dir}/slow-ok.sh`;
    writeFileSync(script, '#!/bin/sh\nsleep 0.3\nexit 0\n', { mode: 0o755 });
    const config: CheckConfig = {
      virtualServers: [{
        key: 'misc', protocol: 'tcp', addr: '10.1.1.3', port: 80, quorum: 1, hysteresis: 0,
        realServers: [rs(5, { kind: 'MISC_CHECK', path: script, argv: [script], timeoutMs: 3_000_000_000, ...timing, delayLoopMs: 3_000_000_000 })],
      }],
    };
    const failures: string[] = [];
    const engine = new CheckEngine(config, {
      desired: () => undefined,
      events: (ev) => { for (const e of ev) if (e.kind === 'checker-failure' || e.kind === 'checker-down') failures.push(e.message); },
    });
    engine.start();
    await new Promise((r) => setTimeout(r, BOOTSTRAP_DELAY_MS + 800));
    const done = engine.stats().checksDone;
    engine.stop();
    assert.equal(done, 1);
    assert.deepEqual(failures, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
