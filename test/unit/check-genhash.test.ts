import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { parseGenhashArgs, runGenhash } from '../../src/check/genhash.js';
import { needsCommand } from '../helpers/root.js';
import { makeCert } from '../helpers/tls-cert.js';

const BODY = 'genhash body\n';
let lastHost: string | undefined;
const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
  lastHost = req.headers.host;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(BODY) });
  res.end(BODY);
};
const server = http.createServer(handler);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as net.AddressInfo).port;
const cert = makeCert();
const secure = https.createServer({ cert: cert.cert, key: cert.key }, handler);
await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
const sport = (secure.address() as net.AddressInfo).port;
after(() => {
  server.close();
  secure.close();
  cert.cleanup();
});

async function gen(args: string[]) {
  let out = '';
  let err = '';
  const code = await runGenhash(args, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}
const md5 = createHash('md5').update(BODY).digest('hex');

test('prints the MD5 of the body', async () => {
  const r = await gen(['-s', '127.0.0.1', '-p', String(port), '-u', '/x']);
  assert.equal(r.code, 0);
  assert.equal(r.out, `${md5}\n`);
  assert.equal(lastHost, `127.0.0.1:${port}`);
});

test('-S over TLS (self-signed accepted), -V virtual host', async () => {
  const r = await gen(['-S', '-s', '127.0.0.1', '-p', String(sport), '-u', '/', '-V', 'www.example.org']);
  assert.equal(r.out, `${md5}\n`);
  assert.equal(lastHost, 'www.example.org');
});

test('usage errors and connection failures exit 1 with a message', async () => {
  assert.equal((await gen(['-s', '127.0.0.1', '-u', '/'])).code, 1);
  assert.equal((await gen(['--bogus'])).code, 1);
  const free = net.createServer();
  await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
  const p = (free.address() as net.AddressInfo).port;
  await new Promise<void>((r) => free.close(() => r()));
  const r = await gen(['-s', '127.0.0.1', '-p', String(p), '-u', '/']);
  assert.equal(r.code, 1);
  assert.match(r.err, /Connection failed/);
});

test('long options and -P/-t parsing', () => {
  const o = parseGenhashArgs(['--server=10.0.0.1', '--port', '8080', '--url', '/a', '-P', '1.0c', '-t', '2.5', '--use-ssl']);
  assert.deepEqual([o.server, o.port, o.url, o.protocol, o.timeoutMs, o.ssl], ['10.0.0.1', 8080, '/a', '1.0C', 2500, true]);
});

test('-m sets the fwmark (keepalived: decimal after blanks, nothing else); the fetch with a mark still gets the page', async () => {
  assert.equal(parseGenhashArgs(['-m', ' 7']).fwmark, 7);
  assert.equal(parseGenhashArgs(['--fwmark=4294967295']).fwmark, 4294967295);
  for (const bad of ['-1', '7x', '0x10', '']) assert.throws(() => parseGenhashArgs(['-m', bad]), /invalid fwmark/);
  // On loopback a mark changes no route: the digest is the one without it (SO_MARK needs root; the suite runs as root).
  assert.equal((await gen(['-s', '127.0.0.1', '-p', String(port), '-u', '/page', '-m', '9'])).out.trim(), md5);
});

test('same hash and same verbose dump as keepalived --genhash', { skip: needsCommand('keepalived') }, async () => {
  const args = ['-s', '127.0.0.1', '-p', String(port), '-u', '/page', '-v'];
  const theirs = await new Promise<string>((resolve) => execFile('keepalived', ['--genhash', ...args], (_e, stdout) => resolve(stdout)));
  const ours = (await gen(args)).out;
  const strip = (s: string) => s.split('\n').filter((l) => !/Date|^0[01]\d\d {2}/.test(l)).join('\n').replace(/= \d+ usecs/, '');
  assert.ok(theirs.includes(md5), 'keepalived computed the same digest');
  assert.equal(strip(ours), strip(theirs));
});
