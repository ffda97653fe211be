// PING_CHECK, UDP_CHECK, DNS_CHECK and SMTP_CHECK: the pure codecs (ICMP echo, DNS message, UDP hex patterns, the
// SMTP dialogue), their retry rules in the verdict core, their config model, and the DNS / UDP probes against
// loopback servers that answer with malformed datagrams (counted in the real server's status and on /metrics).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { decodeEchoReply, encodeEchoRequest, keepalivedFill, parsePingGroupRange, widenPingGroupRange } from '../../src/net/icmp-echo.js';
import { decodeDnsReply, dnsNameRejected, dnsTypeNumber, encodeDnsQuery } from '../../src/net/dns-message.js';
import { readHexString, udpReplyMatches } from '../../src/check/udp-reply.js';
import { smtpNext, smtpStatus } from '../../src/check/smtp-dialogue.js';
import { CheckVerdict, type CheckEvent } from '../../src/check/verdict.js';
import { probeDns, probeUdp } from '../../src/check/probe-udp.js';
import type { Checker } from '../../src/config/model/index.js';
import { realServer, tcpCheck, virtualServer } from '../helpers/check-model.js';
import { build } from '../helpers/model.js';
import { pino } from 'pino';
import { CheckerService } from '../../src/check/service.js';
import { IpvsUnavailableError } from '../../src/ipvs/client.js';
import { formatMetrics } from '../../src/daemon/metrics.js';
import { waitForCondition } from '../helpers/process.js';
import { parsePrometheusText } from '../helpers/prom-parse.js';

test('ICMP echo request: keepalived\'s layout, 128 bytes of "keepalived check - "; replies read by type and sequence', () => {
  const b = encodeEchoRequest(4, 0x1234);
  assert.equal(b.length, 136);
  assert.deepEqual([...b.subarray(0, 8)], [8, 0, 0, 0, 0, 0, 0x12, 0x34]);
  assert.equal(b.subarray(8, 46).toString('latin1'), 'keepalived check - keepalived check - ');
  assert.equal(encodeEchoRequest(6, 1)[0], 128);
  assert.equal(keepalivedFill(32).toString('latin1'), 'keepalived check - keepalived ch');
  const reply = Buffer.from(b);
  reply[0] = 0;
  assert.deepEqual(decodeEchoReply(4, reply), { kind: 'reply', seq: 0x1234 });
  const r6 = Buffer.from(reply);
  r6[0] = 129;
  assert.deepEqual(decodeEchoReply(6, r6), { kind: 'reply', seq: 0x1234 });
  assert.deepEqual(decodeEchoReply(4, Buffer.from([0, 0, 0])), { kind: 'short', len: 3 });
  assert.deepEqual(decodeEchoReply(4, Buffer.from([3, 3, 0, 0, 0, 0, 0, 0])), { kind: 'other-type', type: 3 });
});

test('ping_group_range: read, and widened to group 0 only when needed (keepalived writes "0<TAB>high<TAB>\\n")', () => {
  assert.deepEqual(parsePingGroupRange('1\t0\n'), { low: 1, high: 0 });
  assert.equal(parsePingGroupRange('garbage'), undefined);
  assert.equal(widenPingGroupRange({ low: 1, high: 0 }), '0\t0\t\n');
  assert.equal(widenPingGroupRange({ low: 0, high: 2147483647 }), undefined);
});

test('DNS query: RD set, one question, labels, zero label unless the name is "."; class IN', () => {
  const q = encodeDnsQuery(0xbeef, 'www.kt.test', 1);
  assert.equal(q.toString('hex'), 'beef01000001000000000000' + '03777777026b740474657374' + '00' + '0001' + '0001');
  assert.equal(encodeDnsQuery(1, '', 6).toString('hex'), '000101000001000000000000' + '00' + '0006' + '0001');
  assert.equal(encodeDnsQuery(1, '.', 6).toString('hex'), '000101000001000000000000' + '00' + '0006' + '0001');
  assert.equal(encodeDnsQuery(1, 'ab.', 1).subarray(12).toString('hex'), '026162' + '00' + '0001' + '0001');
  assert.equal(dnsTypeNumber('aaaa'), 28);
  assert.equal(dnsTypeNumber('SRV'), undefined);
});

test('DNS name check is keepalived\'s, quirks included (a second character "." is refused)', () => {
  for (const n of ['', '.', 'example.com', 'example.com.', 'ab.']) assert.equal(dnsNameRejected(n), false, n);
  for (const n of ['.a', 'a..b', 'a.', 'a.example.com', '..']) assert.equal(dnsNameRejected(n), true, n);
});

test('DNS reply: short, foreign-id and query datagrams are skipped; RCODE decides', () => {
  const id = 0x4242;
  const reply = (flags: number, rid = id) => { const b = Buffer.alloc(12); b.writeUInt16BE(rid, 0); b.writeUInt16BE(flags, 2); return b; };
  assert.deepEqual(decodeDnsReply(id, Buffer.alloc(7)), { kind: 'ignore', why: 'short' });
  assert.deepEqual(decodeDnsReply(id, reply(0x8180, 0x4243)), { kind: 'ignore', why: 'id' });
  assert.deepEqual(decodeDnsReply(id, reply(0x0100)), { kind: 'ignore', why: 'not-a-response' });
  assert.deepEqual(decodeDnsReply(id, reply(0x8180)), { kind: 'answer', rcode: 0 });
  assert.deepEqual(decodeDnsReply(id, reply(0x8183)), { kind: 'answer', rcode: 3 });
  // 8 bytes are enough for keepalived (it compares with the size of a pointer).
  assert.deepEqual(decodeDnsReply(id, reply(0x8180).subarray(0, 8)), { kind: 'answer', rcode: 0 });
});

test('UDP hex strings as keepalived\'s read_hex_str reads them', () => {
  assert.deepEqual(readHexString('01 02 0a', false), { data: [1, 2, 10] });
  assert.deepEqual(readHexString('0102AbcD', false), { data: [1, 2, 0xab, 0xcd] });
  assert.deepEqual(readHexString('1 2 3', false), { data: [1, 2, 3] });
  assert.deepEqual(readHexString('6b 7X', true), { data: [0x6b, 0x70], mask: [0, 0x0f] });
  assert.deepEqual(readHexString('xx', true), { data: [0], mask: [0xff] });
  assert.equal(readHexString('xx', false), undefined, 'no wildcards in a payload');
  assert.equal(readHexString('zz', false), undefined);
  assert.equal(readHexString('   ', false), undefined);
  // keepalived's end-of-string test mistakes a last byte 0xff for an invalid digit: refused there, refused here.
  assert.equal(readHexString('ff', false), undefined);
  assert.equal(readHexString('01ff', true), undefined);
  assert.deepEqual(readHexString('ff 01', false), { data: [0xff, 1] });
});

test('UDP reply test: length bounds, then the pattern over the shorter of the two, wildcards skipped', () => {
  const pat = { data: [0x6b, 0x70], mask: [0, 0x0f] };
  assert.equal(udpReplyMatches(Buffer.from('kt\n'), pat, 0, 255), true);
  assert.equal(udpReplyMatches(Buffer.from('k'), pat, 0, 255), true, 'only the received bytes are compared');
  assert.equal(udpReplyMatches(Buffer.from('xt'), pat, 0, 255), false);
  assert.equal(udpReplyMatches(Buffer.from('kt'), pat, 3, 255), false, 'shorter than min_reply_length');
  assert.equal(udpReplyMatches(Buffer.from('kt\n'), pat, 0, 2), false, 'longer than max_reply_length');
});

test('SMTP status: exactly three digits then a blank; the dialogue HELO → QUIT', () => {
  assert.equal(smtpStatus('220 mail ESMTP\r\n'), 220);
  assert.equal(smtpStatus('220-multi\r\n'), -1);
  assert.equal(smtpStatus('220\r\n'), -1);
  assert.equal(smtpStatus('2200 x\r\n'), -1);
  assert.equal(smtpStatus('garbage\r\n'), -1);
  assert.deepEqual(smtpNext('banner', '220 hi\r\n', 'h.example'), { kind: 'send', line: 'HELO h.example\r\n', expect: 'helo' });
  assert.deepEqual(smtpNext('banner', '554 no\r\n', 'h'), { kind: 'fail', reason: 'Bad greeting banner' });
  assert.deepEqual(smtpNext('helo', '250 ok\r\n', 'h'), { kind: 'send', line: 'QUIT\r\n', expect: 'quit' });
  assert.deepEqual(smtpNext('helo', '501 bad\r\n', 'h'), { kind: 'fail', reason: 'Bad HELO response' });
  assert.deepEqual(smtpNext('quit', 'anything\n', 'h'), { kind: 'done' });
});

// ---- retry rules -------------------------------------------------------------------------------------------------

const ok = { ok: true, reason: 'ok' };
const fail = { ok: false, reason: 'no' };

function core(ck: Checker): { v: CheckVerdict; run: (r: typeof ok) => { delay: number; events: CheckEvent[] } } {
  const vs = virtualServer({ key: 'vs1', realServers: [realServer('192.168.1.1', { checkers: [ck] })] });
  const v = new CheckVerdict([vs]);
  v.takeInitialEvents();
  let now = 0;
  return {
    v,
    run: (r) => {
      const out = v.onResult(0, r, now, now);
      now += out.nextDelayMs;
      return { delay: out.nextDelayMs, events: out.events };
    },
  };
}
const kinds = (e: CheckEvent[]) => e.map((x) => x.kind).filter((k) => k !== 'pool' && !k.startsWith('quorum'));
const timers = { delayLoopMs: 10_000, delayBeforeRetryMs: 2000, retry: 2 };

test('PING_CHECK and UDP_CHECK follow tcp_epilog: down at the first failure before any success, retries once up', () => {
  for (const type of ['PING_CHECK', 'UDP_CHECK'] as const) {
    const base = tcpCheck(timers);
    const ck = (type === 'PING_CHECK' ? { ...base, type } : { ...base, type, requireReply: false, minReplyLength: 0, maxReplyLength: 255 }) as Checker;
    const c = core(ck);
    assert.deepEqual(kinds(c.run(fail).events), ['checker-down', 'rs-down'], type);
    assert.deepEqual(kinds(c.run(ok).events), ['checker-up', 'rs-up']);
    assert.deepEqual([c.run(fail).delay, c.run(fail).delay], [2000, 2000], 'retry twice, delay_before_retry apart');
    const last = c.run(fail);
    assert.deepEqual([kinds(last.events), last.delay], [['checker-down', 'rs-down'], 10_000]);
  }
});

test('DNS_CHECK follows dns_final: down at the first failure before any success, retries once up', () => {
  const c = core({ ...tcpCheck(timers), type: 'DNS_CHECK', qtype: 1, name: 'x' } as Checker);
  // check_data.c starts every checker with its retries used up ("one failure is enough initially").
  const first = c.run(fail);
  assert.deepEqual([kinds(first.events), first.delay], [['checker-down', 'rs-down'], 10_000]);
  assert.equal(c.run(fail).delay, 10_000, 'while down: no retries, delay_loop');
  assert.deepEqual(kinds(c.run(ok).events), ['checker-up', 'rs-up']);
  const retries = [c.run(fail), c.run(fail)];
  assert.deepEqual(retries.map((r) => [kinds(r.events), r.delay]), [[['checker-failure'], 2000], [['checker-failure'], 2000]]);
  const down = c.run(fail);
  assert.deepEqual([kinds(down.events), down.delay], [['checker-down', 'rs-down'], 10_000]);
});

test('SMTP_CHECK follows smtp_final: retry + 1 attempts every round, also while down', () => {
  const c = core({ ...tcpCheck(timers), type: 'SMTP_CHECK', heloName: 'h' } as Checker);
  assert.deepEqual([c.run(fail).delay, c.run(fail).delay], [2000, 2000]);
  const third = c.run(fail);
  assert.deepEqual([kinds(third.events), third.delay], [['checker-down', 'rs-down'], 10_000]);
  // Down: the next round again tries three times before waiting delay_loop, without a new state change.
  const round = [c.run(fail), c.run(fail), c.run(fail)];
  assert.deepEqual(round.map((r) => r.delay), [2000, 2000, 10_000]);
  assert.deepEqual(round.flatMap((r) => kinds(r.events)), ['checker-failure', 'checker-failure']);
  // A failure then a success in the next attempt: up, and the retry count starts again.
  c.run(fail);
  assert.deepEqual(kinds(c.run(ok).events), ['checker-up', 'rs-up']);
  assert.deepEqual([c.run(fail).delay, c.run(fail).delay, c.run(fail).delay], [2000, 2000, 10_000]);
});

// ---- config model --------------------------------------------------------------------------------------------

const VS = (rs: string) => `virtual_server 10.0.0.100 25 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  delay_loop 10\n  real_server 192.168.1.10 25 {\n${rs}\n  }\n}\n`;

test('DNS_CHECK defaults: type SOA, name "" (the root), retry 3, delay_before_retry = delay_loop', () => {
  const b = build(VS('    DNS_CHECK {\n    }\n    DNS_CHECK {\n      type aaaa\n      name www.example.com\n      retry 1\n      delay_before_retry 2\n    }'));
  assert.deepEqual(b.golden, []);
  const [a, c] = b.model.virtualServers[0]!.realServers[0]!.checkers as Array<Checker & { qtype: number; name: string }>;
  assert.deepEqual([a!.qtype, a!.name, a!.retry, a!.delayBeforeRetryMs], [6, '', 3, 10_000]);
  assert.deepEqual([c!.qtype, c!.name, c!.retry, c!.delayBeforeRetryMs], [28, 'www.example.com', 1, 2000]);
});

test('UDP_CHECK: payload and reply pattern, lengths, and keepalived\'s errors', () => {
  const b = build(VS('    UDP_CHECK {\n      payload 01 02\n      require_reply 0x ab\n      min_reply_length 2\n    }\n    UDP_CHECK {\n      payload ff\n      min_reply_length 9\n      max_reply_length 3\n    }'));
  assert.deepEqual(b.golden, ['error invalid-value @13', 'error conflict @12']);
  const [u] = b.model.virtualServers[0]!.realServers[0]!.checkers as Array<Checker & { payload: number[]; reply: number[]; replyMask: number[]; requireReply: boolean; minReplyLength: number; maxReplyLength: number }>;
  assert.deepEqual([u!.payload, u!.reply, u!.replyMask, u!.requireReply, u!.minReplyLength, u!.maxReplyLength], [[1, 2], [0, 0xab], [0x0f, 0], true, 2, 255]);
});

test('SMTP_CHECK: default helo, and host {} blocks become one checker each', () => {
  const b = build(VS('    SMTP_CHECK {\n      retry 4\n      host {\n        connect_ip 192.168.1.11\n        connect_port 2525\n      }\n      host {\n        connect_ip 192.168.1.12\n        connect_timeout 2\n      }\n    }\n    SMTP_CHECK {\n      helo_name me.example\n      connect_port 587\n      host {\n        connect_ip 192.168.1.13\n      }\n    }'));
  assert.deepEqual(b.golden, ['notice deprecated @9', 'notice deprecated @21']);
  const cks = b.model.virtualServers[0]!.realServers[0]!.checkers.map((c) => c as Checker & { heloName: string });
  assert.deepEqual(cks.map((c) => [c.type, c.connectIp, c.connectPort, c.connectTimeoutMs, c.retry, c.heloName]), [
    // No connection option of its own: the first host's; the second host is one more checker, with the RS's timers.
    ['SMTP_CHECK', '192.168.1.11', 2525, 5000, 4, 'smtpchecker.keepalived.org'],
    ['SMTP_CHECK', '192.168.1.12', undefined, 2000, 1, 'smtpchecker.keepalived.org'],
    // Its own connect_port: the checker keeps its own connection, the host is one more checker.
    ['SMTP_CHECK', undefined, 587, 5000, 1, 'me.example'],
    ['SMTP_CHECK', '192.168.1.13', undefined, 5000, 1, 'me.example'],
  ]);
});

test('PING_CHECK takes only the common keywords', () => {
  const b = build(VS('    PING_CHECK {\n      retry 2\n      payload 01\n    }'));
  assert.deepEqual(b.golden, ['error unknown-keyword @9']);
});

// ---- probes against loopback servers -------------------------------------------------------------------------

async function udpServer(answer: (s: dgram.Socket, m: Buffer, r: dgram.RemoteInfo) => void): Promise<{ port: number; close: () => void }> {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => answer(s, m, r));
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  return { port: s.address().port, close: () => s.close() };
}

/** Answers each query (RCODE 0) after a short datagram, the query itself sent back when `echoQuery` (not a
 *  response) and a response with another id. */
function noisyDnsServer(echoQuery: boolean): ReturnType<typeof udpServer> {
  return udpServer((s, m, r) => {
    s.send(Buffer.from([1, 2, 3]), r.port, r.address);
    if (echoQuery) s.send(m, r.port, r.address);
    const other = Buffer.from(m);
    other.writeUInt16BE(m.readUInt16BE(0) ^ 1, 0);
    other[2] = 0x81;
    s.send(other, r.port, r.address);
    const ans = Buffer.from(m);
    ans[2] = 0x81; ans[3] = 0x80;
    s.send(ans, r.port, r.address);
  });
}

test('DNS probe: malformed and foreign datagrams are skipped, the real answer counts; garbage alone times out', async () => {
  const good = await noisyDnsServer(false);
  const bad = await udpServer((s, _m, r) => s.send(Buffer.from('not dns at all'), r.port, r.address));
  const nx = await udpServer((s, m, r) => { const a = Buffer.from(m); a[2] = 0x81; a[3] = 0x83; s.send(a, r.port, r.address); });
  try {
    const base = { family: 4 as const, host: '127.0.0.1', timeoutMs: 500, name: 'www.kt.test', qtype: 1 };
    const ok = await probeDns({ ...base, port: good.port });
    assert.equal(ok.ok, true);
    assert.deepEqual(ok.dropped, { short: 1, id: 1 });
    const g = await probeDns({ ...base, port: bad.port });
    assert.equal(g.ok, false);
    assert.match(g.reason, /timeout/);
    assert.equal(Object.values(g.dropped ?? {}).reduce((a, b) => a + b, 0), 1, 'the garbage datagram is counted');
    assert.match((await probeDns({ ...base, port: nx.port })).reason, /rcode = 3/);
  } finally {
    good.close(); bad.close(); nx.close();
  }
});

test('DNS_CHECK: dropped replies are counted per real server in its status and keepalived_ts_checker_replies_dropped_total', async () => {
  // The check succeeds and the three datagrams before the answer are counted by reason.
  const srv = await noisyDnsServer(true);
  const { model } = build(`virtual_server 10.0.0.1 53 {
  protocol UDP
  lb_algo rr
  lb_kind NAT
  delay_loop 3600
  real_server 127.0.0.1 ${srv.port} {
    DNS_CHECK {
      type A
      name www.kt.test
      warmup 0
      connect_timeout 5
    }
  }
}
`);
  const service = new CheckerService(model, { log: pino({ level: 'silent' }), openIpvs: () => Promise.reject(new IpvsUnavailableError()) });
  try {
    await service.start();
    await waitForCondition('the first DNS check', () => service.realServerStatus()[0]?.droppedReplies !== undefined, 20_000, () => JSON.stringify(service.realServerStatus()));
    const st = service.realServerStatus();
    assert.equal(st[0]!.up, true);
    assert.deepEqual(st[0]!.droppedReplies, { short: 1, 'not-a-response': 1, id: 1 });
    const fams = parsePrometheusText(formatMetrics({
      version: '1', pid: 1, startedAt: new Date(0).toISOString(), children: [], reloads: { ok: 0, refused: 0 }, vrrp: [], scripts: [],
      checkers: st, keepalivedJson: [],
    }));
    const samples = fams.get('keepalived_ts_checker_replies_dropped_total')!.samples;
    assert.deepEqual(samples.map((x) => [x.labels['real_server'], x.labels['reason'], x.value]).sort(),
      [[`127.0.0.1:${srv.port}`, 'id', 1], [`127.0.0.1:${srv.port}`, 'not-a-response', 1], [`127.0.0.1:${srv.port}`, 'short', 1]]);
  } finally {
    await service.stop();
    srv.close();
  }
});

test('UDP probe: silence is success unless a reply is required; a closed port (ICMP unreachable) is failure', async () => {
  const sink = await udpServer(() => {});
  const echo = await udpServer((s, m, r) => s.send(m, r.port, r.address));
  const closed = await udpServer(() => {});
  const closedPort = closed.port;
  closed.close();
  try {
    const base = { family: 4 as const, host: '127.0.0.1', timeoutMs: 300, payload: Buffer.from('kt'), requireReply: false, minReplyLength: 0, maxReplyLength: 255 };
    assert.equal((await probeUdp({ ...base, port: sink.port })).ok, true);
    assert.equal((await probeUdp({ ...base, port: sink.port, requireReply: true })).ok, false);
    // A reply (or the ICMP unreachable) is awaited with a timeout no loaded machine reaches (a 300 ms one once
    // failed under load); silence still costs only the short one above.
    const replied = { ...base, timeoutMs: 10_000 };
    assert.match((await probeUdp({ ...replied, port: closedPort })).reason, /ECONNREFUSED/);
    assert.equal((await probeUdp({ ...replied, port: echo.port, requireReply: true, reply: { data: [0x6b] } })).ok, true);
    // The same over a socket opened with fwmark, bind_if and bindto (probe-socket.ts).
    assert.equal((await probeUdp({ ...replied, port: echo.port, requireReply: true, reply: { data: [0x6b] }, fwmark: 5, bindIf: 'lo', bindTo: '127.0.0.4' })).ok, true);
    assert.equal((await probeUdp({ ...base, port: echo.port, requireReply: true, reply: { data: [0x00] } })).ok, false);
  } finally {
    sink.close(); echo.close();
  }
});
