import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { createHash } from 'node:crypto';
import { buildRequest, compileRegex, hostHeader, probeHttp, tlsContext, type HttpProbeTarget } from '../../src/check/probe-http.js';
import type { HttpUrl } from '../../src/config/model/index.js';
import { makeCert } from '../helpers/tls-cert.js';

interface Seen {
  requestLine: string;
  headers: string[];
  servername?: string | false | null;
  clientCert?: string | string[];
}
let lastSeen: Seen | undefined;

function handler(req: http.IncomingMessage, res: http.ServerResponse) {
  const sock = req.socket as tls.TLSSocket;
  lastSeen = {
    requestLine: `${req.method} ${req.url} HTTP/${req.httpVersion}`,
    headers: req.rawHeaders,
    servername: sock.servername,
    clientCert: typeof sock.getPeerCertificate === 'function' ? sock.getPeerCertificate()?.subject?.CN : undefined,
  };
  if (req.url === '/404') {
    res.writeHead(404);
    return res.end('nope');
  }
  if (req.url === '/backtrack') return res.end(`${'a'.repeat(40)}!`);
  if (req.url === '/chunked') {
    res.write('part1-');
    return res.end('part2');
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello keepalived');
}

const plain = http.createServer(handler);
await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
const plainPort = (plain.address() as net.AddressInfo).port;

const serverCert = makeCert('server');
const clientCert = makeCert('client-cn');
const secure = https.createServer({ cert: serverCert.cert, key: serverCert.key, requestCert: true, rejectUnauthorized: false }, handler);
await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
const securePort = (secure.address() as net.AddressInfo).port;

// Accepts and never answers.
const silentSockets: net.Socket[] = [];
const silent = net.createServer((s) => silentSockets.push(s));
await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
const silentPort = (silent.address() as net.AddressInfo).port;

after(() => {
  plain.close();
  secure.close();
  for (const s of silentSockets) s.destroy();
  silent.close();
  plain.closeAllConnections();
  secure.closeAllConnections();
  serverCert.cleanup();
  clientCert.cleanup();
});

function target(url: Pick<HttpUrl, 'path'> & Partial<HttpUrl>, over: Partial<HttpProbeTarget> = {}, proto?: '1.0' | '1.0C' | '1.1', vhost?: string): HttpProbeTarget {
  const port = over.port ?? plainPort;
  return {
    host: '127.0.0.1', port, timeoutMs: 3000, ssl: false, url,
    request: buildRequest(url.path, proto, hostHeader(vhost, '127.0.0.1', port)),
    regex: compileRegex(url),
    ...over,
  };
}
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

test('HTTP_GET default: HTTP/1.0 request line, KeepAliveClient, Host ip:port, status 200-299', async () => {
  const r = await probeHttp(target({ path: '/' }));
  assert.equal(r.ok, true, r.reason);
  assert.equal(lastSeen!.requestLine, 'GET / HTTP/1.0');
  assert.deepEqual(lastSeen!.headers, ['User-Agent', 'KeepAliveClient', 'Host', `127.0.0.1:${plainPort}`]);
});

test('http_protocol 1.1 and 1.0C send Connection: close; virtualhost goes into Host', async () => {
  assert.equal((await probeHttp(target({ path: '/x' }, {}, '1.1', 'www.example.org'))).ok, true);
  assert.equal(lastSeen!.requestLine, 'GET /x HTTP/1.1');
  assert.deepEqual(lastSeen!.headers, ['User-Agent', 'KeepAliveClient', 'Connection', 'close', 'Host', 'www.example.org']);
  assert.equal((await probeHttp(target({ path: '/' }, {}, '1.0C'))).ok, true);
  assert.equal(lastSeen!.requestLine, 'GET / HTTP/1.0');
  assert.ok(lastSeen!.headers.includes('Connection'));
});

test('status_code sets and ranges', async () => {
  assert.equal((await probeHttp(target({ path: '/404' }))).ok, false);
  assert.match((await probeHttp(target({ path: '/404' }))).reason, /status code error.*404/);
  assert.equal((await probeHttp(target({ path: '/404', statusCodes: [[200, 200], [400, 404]] }))).ok, true);
  assert.equal((await probeHttp(target({ path: '/', statusCodes: [[404, 404]] }))).ok, false);
});

test('digest = MD5 of the body (raw bytes, as keepalived reads them)', async () => {
  assert.equal((await probeHttp(target({ path: '/', digest: md5('hello keepalived') }))).ok, true);
  const bad = await probeHttp(target({ path: '/', digest: md5('other') }));
  assert.equal(bad.ok, false);
  assert.match(bad.reason, /MD5 digest error/);
  // HTTP/1.1 chunked body: keepalived hashes the raw chunked stream, not the decoded body.
  const chunkedRaw = '6\r\npart1-\r\n5\r\npart2\r\n0\r\n\r\n';
  assert.equal((await probeHttp(target({ path: '/chunked', digest: md5(chunkedRaw) }, {}, '1.1'))).ok, true);
  // Over HTTP/1.0 node answers with a close-delimited body.
  assert.equal((await probeHttp(target({ path: '/chunked', digest: md5('part1-part2') }))).ok, true);
});

test('regex and regex_no_match', async () => {
  assert.equal((await probeHttp(target({ path: '/', regex: 'keep.live' }))).ok, true);
  assert.equal((await probeHttp(target({ path: '/', regex: 'absent' }))).ok, false);
  assert.equal((await probeHttp(target({ path: '/', regex: 'absent', regexNoMatch: true }))).ok, true);
  assert.equal((await probeHttp(target({ path: '/', regex: 'hello', regexNoMatch: true }))).ok, false);
});

test('regex in PCRE2 syntax with regex_options and offsets, against the body "hello keepalived"', async () => {
  assert.equal((await probeHttp(target({ path: '/', regex: '(?i)HELLO\\s+KEEP' }))).ok, true);
  assert.equal((await probeHttp(target({ path: '/', regex: 'HELLO', regexOptions: ['caseless'] }))).ok, true);
  assert.equal((await probeHttp(target({ path: '/', regex: 'HELLO' }))).ok, false);
  assert.equal((await probeHttp(target({ path: '/', regex: 'keepalived', regexMaxOffset: 6 }))).ok, true);
  assert.equal((await probeHttp(target({ path: '/', regex: 'keepalived', regexMaxOffset: 5 }))).ok, false);
  assert.equal((await probeHttp(target({ path: '/', regex: 'hello', regexMinOffset: 1 }))).ok, false);
});

test('a regex that backtracks without end fails that check after its budget instead of stalling the process', async () => {
  const r = await probeHttp(target({ path: '/backtrack', regex: '(a+)+$' }));
  assert.equal(r.ok, false);
  // The budget stopped the search (the reason says so); how long the machine took to get there is not the point.
  assert.match(r.reason, /regex did not finish within 250 ms/);
  assert.equal((await probeHttp(target({ path: '/backtrack', regex: 'a{40}!$' }))).ok, true);
});

test('timeout against a server that accepts and never answers', async () => {
  const r = await probeHttp(target({ path: '/' }, { port: silentPort, timeoutMs: 300 }));
  assert.equal(r.ok, false);
  assert.match(r.reason, /timeout/);
});

test('connection refused', async () => {
  const tmp = net.createServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  const p = (tmp.address() as net.AddressInfo).port;
  await new Promise<void>((r) => tmp.close(() => r()));
  const r = await probeHttp(target({ path: '/' }, { port: p }));
  assert.equal(r.ok, false);
  assert.match(r.reason, /ECONNREFUSED/);
});

test('SSL_GET: self-signed server accepted (never verified), SNI name and client certificate seen', async () => {
  const ctx = tlsContext({ certificate: clientCert.certFile, key: clientCert.keyFile, ca: clientCert.certFile });
  const r = await probeHttp(target({ path: '/', digest: md5('hello keepalived') }, { port: securePort, ssl: true, secureContext: ctx, servername: 'sni.example.org' }));
  assert.equal(r.ok, true, r.reason);
  assert.equal(lastSeen!.servername, 'sni.example.org');
  assert.equal(lastSeen!.clientCert, 'client-cn');
  const r2 = await probeHttp(target({ path: '/' }, { port: securePort, ssl: true }));
  assert.equal(r2.ok, true, r2.reason);
  assert.equal(lastSeen!.servername, false, 'no SNI without enable_sni');
  assert.equal(lastSeen!.clientCert, undefined);
});

test('SSL_GET and HTTP_GET over a socket opened with fwmark, bind_if and bindto (the addon\'s fd): same answers', async () => {
  const opts = { fwmark: 7, bindIf: 'lo', bindTo: '127.0.0.3' };
  const r = await probeHttp(target({ path: '/', digest: md5('hello keepalived') }, { port: securePort, ssl: true, servername: 'sni.example.org', ...opts }));
  assert.equal(r.ok, true, r.reason);
  assert.equal(lastSeen!.servername, 'sni.example.org');
  assert.equal((await probeHttp(target({ path: '/', digest: md5('hello keepalived') }, opts))).ok, true);
  // An option the kernel refuses fails the check with keepalived's words, before any connection.
  const bad = await probeHttp(target({ path: '/' }, { bindIf: 'kt-no-such-if' }));
  assert.equal(bad.ok, false);
  assert.match(bad.reason, /Checker can't bind to device kt-no-such-if/);
});

test('SSL_GET against a plain HTTP port fails', async () => {
  const r = await probeHttp(target({ path: '/' }, { ssl: true, timeoutMs: 1000 }));
  assert.equal(r.ok, false);
});

test('IPv6 real server: Host is [addr]:port', async () => {
  assert.equal(hostHeader(undefined, '2001:db8::1', 8080), '[2001:db8::1]:8080');
  const v6 = http.createServer(handler);
  const ok = await new Promise<boolean>((r) => v6.once('error', () => r(false)).listen(0, '::1', () => r(true)));
  if (!ok) return; // no IPv6 loopback on this host
  const port = (v6.address() as net.AddressInfo).port;
  try {
    const t = target({ path: '/' }, { host: '::1', port });
    t.request = buildRequest('/', undefined, hostHeader(undefined, '::1', port));
    assert.equal((await probeHttp(t)).ok, true);
    assert.deepEqual(lastSeen!.headers.slice(2), ['Host', `[::1]:${port}`]);
  } finally {
    v6.closeAllConnections();
    v6.close();
  }
});
