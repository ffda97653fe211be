// HTTP_GET / SSL_GET probe.
//
// Why a raw socket and not undici: keepalived's request is a fixed byte string
//   GET <path> HTTP/1.0|1.1\r\nUser-Agent: KeepAliveClient\r\n[Connection: close\r\n]Host: <h>\r\n\r\n
// and its default is HTTP/1.0. undici always writes `HTTP/1.1`, adds its own headers (host with port,
// connection: keep-alive) and decodes chunked bodies, while keepalived reads the raw stream until the
// server closes and hashes the raw bytes after the header (up to Content-Length). A `digest` computed by
// keepalived's genhash would not match an undici-decoded chunked body. So the request is written and the
// response parsed here, byte for byte like keepalived; undici is not needed for the checker.
import { compilePcre, matchWithinBounded } from './pcre.js';
import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import type { HttpUrl, SslConfig } from '../config/model/types.js';
import type { ProbeResult } from './checker-types.js';
import { addressFamily } from '../net/address.js';
import { connectTcp, type ConnOptions } from './probe-socket.js';
import { probeDeadline } from './probe-deadline.js';

/** Inclusive status code range; a single code N is [N, N]. */
type StatusRange = HttpUrl['statusCodes'][number];

export interface HttpProbeTarget extends ConnOptions {
  host: string;
  port: number;
  /** Whole request timeout (connect + TLS + request + response). */
  timeoutMs: number;
  ssl: boolean;
  /** Server name sent in the TLS ClientHello (SNI), if any. */
  servername?: string;
  /** Prepared with tlsContext() once per checker. */
  secureContext?: tls.SecureContext;
  /** Prepared with buildRequest() once per URL. */
  request: Buffer;
  /** The model's url (genhash, which has no config, gives only a path; an unset check is not made). */
  url: Pick<HttpUrl, 'path'> & Partial<HttpUrl>;
  /** Prepared with compileUrl() once per URL. */
  regex?: RegExp;
}

/** Body bytes kept for regex matching (keepalived matches within its 4 KiB read buffers). */
const MAX_REGEX_BODY = 1 << 20;
/** Longest a regex search may take: a pattern that backtracks without end must not stall every other check. */
export const REGEX_BUDGET_MS = 250;
/** A header larger than this is a failure (keepalived: MAX_BUFFER_LENGTH-bound reads). */
const MAX_HEADER = 64 * 1024;

export const DEFAULT_STATUS: StatusRange[] = [[200, 299]];

/** Host header value with keepalived's rule: vhost as is, else `ip:port` (`[v6]:port`). */
export function hostHeader(vhost: string | undefined, ip: string, port: number): string {
  if (vhost) return vhost;
  return addressFamily(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function buildRequest(path: string, protocol: '1.0' | '1.0C' | '1.1' | undefined, host: string): Buffer {
  const minor = protocol === '1.1' ? 1 : 0;
  const close = protocol === '1.0C' || protocol === '1.1' ? 'Connection: close\r\n' : '';
  return Buffer.from(`GET ${path} HTTP/1.${minor}\r\nUser-Agent: KeepAliveClient\r\n${close}Host: ${host}\r\n\r\n`, 'latin1');
}

/** The url's PCRE2 regex as JavaScript (the translation `-t` validates); throws a clear error when it cannot run. */
export function compileRegex(url: HttpProbeTarget['url']): RegExp | undefined {
  if (url.regex === undefined) return undefined;
  const r = compilePcre(url.regex, url.regexOptions ?? []);
  if (!r.ok) throw new Error(`url ${url.path}: regex "${url.regex}": ${r.error}`);
  return r.regex;
}

/**
 * TLS context from SSL{}. The CA is loaded like keepalived does, but the server certificate is never
 * verified (keepalived sets no SSL_CTX_set_verify): the probe connects with rejectUnauthorized: false.
 */
export function tlsContext(files: SslConfig | undefined): tls.SecureContext {
  const opts: tls.SecureContextOptions = {};
  if (files?.certificate) opts.cert = fs.readFileSync(files.certificate);
  if (files?.key) opts.key = fs.readFileSync(files.key);
  if (files?.ca) opts.ca = fs.readFileSync(files.ca);
  if (files?.password) opts.passphrase = files.password;
  return tls.createSecureContext(opts);
}

function statusOk(code: number, ranges: StatusRange[] | undefined): boolean {
  const rs = ranges && ranges.length ? ranges : DEFAULT_STATUS;
  for (const [lo, hi] of rs) if (code >= lo && code <= hi) return true;
  return false;
}

export interface HttpFetchResult {
  status: number;
  /** MD5 hex of the body (up to Content-Length, like keepalived); '' when not asked for. */
  md5: string;
  body: Buffer;
  /** Raw header bytes including the blank line (only when asked for). */
  header?: Buffer;
}

/** Fetch and parse; rejects with a reason string. Used by the probe and by genhash. */
export function httpFetch(t: HttpProbeTarget, keepBody: boolean, keepHeader = false, wantMd5 = true): Promise<HttpFetchResult> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let header: Buffer | null = Buffer.alloc(0);
    let status = 0;
    let contentLength = -1;
    let rawHeader: Buffer | undefined;
    let bodyLen = 0;
    // Hashing is skipped when no digest is configured: most checks only look at the status code.
    const hash = wantMd5 ? createHash('md5') : null;
    const kept: Buffer[] = [];
    let keptLen = 0;

    let plain: net.Socket;
    try {
      plain = connectTcp(t.host, t.port, t);
    } catch (e) {
      return reject(e);
    }
    let sock: net.Socket;
    if (t.ssl) {
      // TLS over the socket opened with the connection options; it starts once the TCP connect completes.
      sock = tls.connect({
        socket: plain,
        secureContext: t.secureContext ?? tlsContext(undefined),
        // keepalived never verifies the server certificate (check_ssl.c): neither do we.
        rejectUnauthorized: false,
        ...(t.servername ? { servername: t.servername } : {}),
      });
      sock.once('secureConnect', () => sock.write(t.request));
    } else {
      sock = plain;
      sock.once('connect', () => sock.write(t.request));
    }
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      deadline.clear();
      sock.destroy();
      reject(new Error(reason));
    };
    // Yields to pending I/O once before failing (probe-deadline.ts): a reply that came in time is read first.
    const deadline = probeDeadline(t.timeoutMs, () => fail(`timeout after ${t.timeoutMs} ms`));

    const onBody = (chunk: Buffer) => {
      let part = chunk;
      if (contentLength >= 0 && bodyLen + part.length > contentLength) part = part.subarray(0, Math.max(0, contentLength - bodyLen));
      hash?.update(part);
      bodyLen += chunk.length;
      if (keepBody && keptLen < MAX_REGEX_BODY) {
        kept.push(part);
        keptLen += part.length;
      }
    };
    sock.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (header === null) return onBody(chunk);
      header = header.length ? Buffer.concat([header, chunk]) : chunk;
      const end = header.indexOf('\r\n\r\n');
      if (end < 0) {
        if (header.length > MAX_HEADER) fail('HTTP header too large');
        return;
      }
      const head = header.subarray(0, end).toString('latin1');
      const rest = header.subarray(end + 4);
      if (keepHeader) rawHeader = Buffer.from(header.subarray(0, end + 4));
      header = null;
      const m = /^HTTP\/\d\.\d +(\d{3})/.exec(head);
      if (!m) return fail('malformed HTTP status line');
      status = Number(m[1]);
      const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (cl) contentLength = Number(cl[1]);
      if (rest.length) onBody(rest);
    });
    sock.once('end', () => {
      if (settled) return;
      if (header !== null) return fail(header.length ? 'connection closed inside the HTTP header' : 'no data received');
      settled = true;
      deadline.clear();
      sock.destroy();
      const res: HttpFetchResult = { status, md5: hash ? hash.digest('hex') : '', body: keepBody ? Buffer.concat(kept) : Buffer.alloc(0) };
      if (rawHeader) res.header = rawHeader;
      resolve(res);
    });
    sock.once('error', (e: NodeJS.ErrnoException) => fail(`${t.ssl ? 'SSL' : 'HTTP'} error: ${e.code ?? e.message}`));
    sock.once('close', () => fail('connection closed'));
  });
}

/** One HTTP_GET / SSL_GET check of one URL, in keepalived's order: data, status, digest, regex. */
export async function probeHttp(t: HttpProbeTarget): Promise<ProbeResult> {
  let r: HttpFetchResult;
  try {
    r = await httpFetch(t, t.regex !== undefined, false, t.url.digest !== undefined);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const what = `${t.url.path}`;
  if (!statusOk(r.status, t.url.statusCodes)) return { ok: false, reason: `HTTP status code error to ${what}: ${r.status}` };
  if (t.url.digest && r.md5 !== t.url.digest.toLowerCase())
    return { ok: false, reason: `MD5 digest error to ${what}: ${r.md5} != ${t.url.digest}` };
  if (t.regex) {
    const matched = matchWithinBounded(t.regex, r.body.toString('latin1'), t.url.regexMinOffset, t.url.regexMaxOffset, REGEX_BUDGET_MS);
    if (matched === 'timeout') return { ok: false, reason: `regex did not finish within ${REGEX_BUDGET_MS} ms on ${what} (runaway backtracking; PCRE2 stops at its match limit)` };
    if (matched === (t.url.regexNoMatch === true))
      return { ok: false, reason: `regex ${t.url.regexNoMatch ? 'matched' : 'did not match'} on ${what}` };
  }
  return { ok: true, reason: `HTTP status ${r.status} on ${what}` };
}
