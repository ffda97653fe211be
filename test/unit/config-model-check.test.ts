// virtual_server / real_server / checkers / virtual_server_group / SSL: keepalived's defaults, inheritance and
// diagnostics (check_data.c validate_check_config).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from '../helpers/model.js';
import { exitCodeFor } from '../../src/config/diagnostics.js';

const VS = (body: string, head = '10.0.0.100 80') => `virtual_server ${head} {\n${body}\n}\n`;
const RS = (body = '', head = '192.168.1.10 8080') => `  real_server ${head} {\n${body}\n  }`;

test('a complete virtual server: no diagnostics, keepalived defaults, inheritance VS → RS → checker', () => {
  const b = build(VS(`  delay_loop 10\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  retry 2\n` +
    RS('    weight 5\n    connect_timeout 3\n    TCP_CHECK {\n      connect_port 81\n    }\n    HTTP_GET {\n      url {\n        path /health\n        status_code 200-204 301\n        digest 0123456789ABCDEF0123456789ABCDEF\n      }\n      delay_loop 20\n    }')));
  assert.deepEqual(b.golden, []);
  const vs = b.model.virtualServers[0]!;
  assert.deepEqual([vs.key, vs.protocol, vs.lbAlgo, vs.lbKind, vs.persistenceTimeoutS, vs.quorum, vs.hysteresis, vs.weight], ['[10.0.0.100]:tcp:80', 'TCP', 'rr', 'NAT', 0, 1, 0, 1]);
  assert.deepEqual([vs.delayLoopMs, vs.connectTimeoutMs, vs.retry, vs.alpha], [10_000, 5000, 2, false]);
  const rs = vs.realServers[0]!;
  assert.deepEqual([rs.address, rs.port, rs.weight, rs.lbKind, rs.connectTimeoutMs, rs.delayLoopMs, rs.retry, rs.smtpAlert], ['192.168.1.10', 8080, 5, 'NAT', 3000, 10_000, 2, true]);
  const [tcp, http] = rs.checkers;
  assert.deepEqual([tcp!.type, tcp!.connectPort, tcp!.connectTimeoutMs, tcp!.retry, tcp!.delayBeforeRetryMs, tcp!.delayLoopMs, tcp!.warmupMs], ['TCP_CHECK', 81, 3000, 2, 1000, 10_000, 10_000]);
  assert.equal(http!.type, 'HTTP_GET');
  if (http!.type !== 'HTTP_GET') return;
  assert.deepEqual([http.delayLoopMs, http.warmupMs, http.delayBeforeRetryMs, http.httpProtocol], [20_000, 20_000, 3000, '1.0']);
  assert.deepEqual(http.urls[0]!.statusCodes, [[200, 204], [301, 301]]);
  assert.equal(http.urls[0]!.digest, '0123456789abcdef0123456789abcdef');
});

test('no protocol ⇒ UDP, no lb_algo ⇒ wlc, no lb_kind ⇒ NAT: each with a warning', () => {
  const b = build(VS(RS('    TCP_CHECK {\n    }')));
  assert.deepEqual(b.golden, ['warning default-protocol @1', 'warning default-lb-algo @1', 'warning default-lb-kind @1']);
  const vs = b.model.virtualServers[0]!;
  assert.deepEqual([vs.protocol, vs.lbAlgo, vs.lbKind, vs.realServers[0]!.lbKind], ['UDP', 'wlc', 'NAT', 'NAT']);
  assert.equal(exitCodeFor(b.diags), 5);
});

test('default retry per checker type: TCP 1, MISC 0; HTTP delay_before_retry 3 s; URL default status 200-299', () => {
  const b = build(VS('  lb_algo rr\n  lb_kind DR\n  protocol TCP\n' + RS('    MISC_CHECK {\n      misc_path "/bin/check --fast"\n      misc_dynamic\n    }\n    SSL_GET {\n      url {\n        path /\n      }\n    }\n    TCP_CHECK {\n    }', '192.168.1.11')));
  assert.deepEqual(b.golden, []);
  const rs = b.model.virtualServers[0]!.realServers[0]!;
  assert.equal(rs.port, 80, 'DR real server without port takes the VS port');
  const [misc, ssl, tcp] = rs.checkers;
  assert.equal(misc!.type, 'MISC_CHECK');
  if (misc!.type === 'MISC_CHECK') assert.deepEqual([misc.retry, misc.timeoutMs, misc.dynamic, misc.script.argv], [0, 60_000, true, ['/bin/check', '--fast']]);
  if (ssl!.type === 'SSL_GET') assert.deepEqual([ssl.retry, ssl.delayBeforeRetryMs, ssl.urls[0]!.statusCodes], [1, 3000, [[200, 299]]]);
  assert.deepEqual([tcp!.retry, tcp!.delayBeforeRetryMs, tcp!.warmupMs], [1, 1000, 60_000]);
});

test('quorum above the total weight is reduced; hysteresis >= quorum is reduced', () => {
  const b = build(VS('  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  quorum 10\n  hysteresis 10\n' + RS('    weight 3') + '\n' + RS('    weight 2', '192.168.1.11 80')));
  assert.deepEqual(b.golden, ['error quorum-clamped @1', 'error hysteresis-clamped @1']);
  assert.deepEqual([b.model.virtualServers[0]!.quorum, b.model.virtualServers[0]!.hysteresis], [5, 4]);
});

test('a virtual server without real servers is ignored with an error', () => {
  const b = build(VS('  lb_algo rr\n  protocol TCP'));
  assert.deepEqual(b.golden, ['error no-real-servers @1']);
  assert.equal(b.model.virtualServers.length, 0);
});

test('fwmark and group virtual servers', () => {
  const b = build('virtual_server_group G {\n  10.0.0.1-10 80\n  10.0.1.0/24 443\n  fwmark 7\n}\n' +
    VS('  lb_algo rr\n  lb_kind DR\n  protocol TCP\n' + RS('', '192.168.1.10'), 'group G') +
    VS('  lb_algo sh\n  lb_kind DR\n' + RS('', '192.168.1.10 80'), 'fwmark 3'));
  assert.deepEqual(b.golden, ['error port-ignored @17']);
  const [g, f] = b.model.virtualServers;
  assert.deepEqual([g!.kind, g!.group, g!.key], ['group', 'G', '[G]:tcp:0']);
  assert.deepEqual(b.model.virtualServerGroups[0]!.entries.map((e) => [e.kind, e.address, e.addressEnd, e.port, e.fwmark]),
    [['address', '10.0.0.1', '10.0.0.10', 80, undefined], ['address', '10.0.1.0/24', '10.0.1.0', 443, undefined], ['fwmark', undefined, undefined, undefined, 7]]);
  assert.deepEqual([f!.kind, f!.fwmark, f!.key, f!.realServers[0]!.port], ['fwmark', 3, 'FWM 3', 0]);
});

test('virtual server referring to an unknown group, bad scheduler, bad lb_kind', () => {
  const b = build(VS(RS(), 'group NOPE') + VS('  lb_algo roundrobin\n  lb_kind FOO\n  protocol TCP\n' + RS()));
  assert.deepEqual(b.golden, ['notice unknown-reference @1', 'error invalid-value @7', 'error invalid-value @8', 'warning default-lb-algo @6', 'warning default-lb-kind @6']);
});

test('persistence: bare keyword is 360 s; a zero-port service becomes persistent with an error', () => {
  let b = build(VS('  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  persistence_timeout\n' + RS()));
  assert.equal(b.model.virtualServers[0]!.persistenceTimeoutS, 360);
  b = build(VS('  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n' + RS(), '10.0.0.100 0'));
  assert.deepEqual(b.golden, ['error zero-port @1']);
  assert.equal(b.model.virtualServers[0]!.persistenceTimeoutS, 360);
});

test('TUN lvs_method with tunnel options; real server weight range', () => {
  const b = build(VS('  lb_algo rr\n  lvs_method TUN type gue port 6080 csum\n  protocol TCP\n' + RS('    weight -1')));
  // TUN cannot change the port: the RS port is reset to the VS port, with an error.
  assert.deepEqual(b.golden, ['error out-of-range @6', 'error port-mismatch @5']);
  const vs = b.model.virtualServers[0]!;
  assert.equal(vs.realServers[0]!.port, 80);
  assert.deepEqual([vs.lbKind, vs.tunnel], ['TUN', { type: 'gue', port: 6080, checksum: 'csum' }]);
  assert.equal(vs.realServers[0]!.weight, 1);
});

test('HTTP_GET without url is dropped; bad digest and status codes are reported', () => {
  const b = build(VS('  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n' + RS('    HTTP_GET {\n      nb_get_retry 2\n    }\n    HTTP_GET {\n      url {\n        path /\n        digest 123\n        status_code 99 200\n      }\n    }')));
  assert.deepEqual(b.golden, ['error deprecated @7', 'error missing-url @6', 'error invalid-value @12', 'error invalid-value @13']);
  assert.equal(b.model.virtualServers[0]!.realServers[0]!.checkers.length, 1);
});

test('unsupported checkers are a notice, unknown ones an error with a hint', () => {
  const b = build(VS('  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n' + RS('    BFD_CHECK {\n      name b\n    }\n    TCP_CHEK {\n    }')));
  assert.deepEqual(b.golden, ['notice not-supported @6', 'error unknown-keyword @9']);
  assert.match(b.diags[1]!.suggestion!, /did you mean 'TCP_CHECK'/);
});

test('SSL block', () => {
  const b = build('SSL {\n  password secret\n  ca /etc/ca.pem\n  certificate /etc/c.pem\n  key /etc/k.pem\n  cipher x\n}\n');
  assert.deepEqual(b.golden, ['error unknown-keyword @6']);
  assert.deepEqual(b.model.ssl, { password: 'secret', ca: '/etc/ca.pem', certificate: '/etc/c.pem', key: '/etc/k.pem' });
});

// The model is built block by block as the reader completes them (model/build.ts ModelBuilder): a virtual_server
// read before the global_defs or the virtual_server_group it depends on, and its diagnostics, come out as when
// every block is built at the end (keepalived's order: global_defs first, virtual servers after the VRRP checks).
test('a virtual_server before its global_defs and its group: same defaults, group and diagnostic order', () => {
  const vs = VS('  lb_algo rr\n  protocol TCP\n' + RS('    TCP_CHECK {\n    }'), 'group G1') + VS('  lb_algo rr\n  protocol TCP\n' + RS('    smtp_alert on\n    TCP_CHECK {\n    }'), '10.0.0.1 80');
  const rest = 'virtual_server_group G1 {\n  10.0.0.2 80\n}\nglobal_defs {\n  smtp_alert_checker off\n}\nvrrp_script unused {\n  script /bin/true\n}\n';
  const early = build(vs + rest);
  const late = build(rest + vs);
  const noLoc = (m: unknown): unknown => JSON.parse(JSON.stringify(m, (k, v: unknown) => (k === 'loc' ? undefined : v)));
  assert.deepEqual(noLoc(early.model), noLoc(late.model));
  assert.deepEqual(early.diags.map((d) => [d.code, d.message]), late.diags.map((d) => [d.code, d.message]));
  assert.deepEqual(early.golden, ['error unused-script @24', 'warning default-lb-kind @1', 'warning default-lb-kind @9']);
  assert.deepEqual(early.model.virtualServers.map((v) => [v.key, v.realServers[0]!.smtpAlert]), [['[G1]:tcp:0', false], ['[10.0.0.1]:tcp:80', true]]);
});
