import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { probeTcp } from '../../src/check/probe-tcp.js';

const server = net.createServer((s) => s.on('error', () => {}).end());
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as net.AddressInfo).port;
after(() => server.close());

test('TCP_CHECK succeeds against a listening port', async () => {
  const r = await probeTcp({ host: '127.0.0.1', port, timeoutMs: 2000 });
  assert.equal(r.ok, true);
});

test('TCP_CHECK fails with connection refused', async () => {
  const free = net.createServer();
  await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
  const p = (free.address() as net.AddressInfo).port;
  await new Promise<void>((r) => free.close(() => r()));
  const r = await probeTcp({ host: '127.0.0.1', port: p, timeoutMs: 2000 });
  assert.equal(r.ok, false);
  assert.match(r.reason, /ECONNREFUSED/);
});

test('TCP_CHECK binds to bindto/bind_port as the server sees it', async () => {
  const seen = new Promise<string>((resolve) => {
    server.once('connection', (s) => resolve(`${s.remoteAddress}`));
  });
  const r = await probeTcp({ host: '127.0.0.1', port, bindTo: '127.0.0.2', timeoutMs: 2000 });
  assert.equal(r.ok, true);
  assert.equal(await seen, '127.0.0.2');
});

test('TCP_CHECK fails (timeout or unreachable) against TEST-NET-1', async () => {
  // 192.0.2.0/24 (TEST-NET-1) is never answered; the SYN goes nowhere or fails fast as unreachable.
  const r = await probeTcp({ host: '192.0.2.1', port: 80, timeoutMs: 300 });
  assert.equal(r.ok, false);
  assert.match(r.reason, /timeout|connect error/);
});
