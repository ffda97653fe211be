// vrrp_instance / vrrp_script / vrrp_sync_group / track_file: keepalived's defaults and diagnostics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build, VI } from '../helpers/model.js';
import { exitCodeFor } from '../../src/config/diagnostics.js';

test('a minimal instance gets keepalived defaults and no diagnostics', () => {
  const { model, golden } = build(VI());
  assert.deepEqual(golden, []);
  const v = model.vrrpInstances[0]!;
  assert.equal(v.state, 'BACKUP');
  assert.equal(v.priority, 100);
  assert.equal(v.advertIntMs, 1000);
  assert.equal(v.version, 2);
  assert.equal(v.family, 4);
  assert.equal(v.mcastDstIp, '224.0.0.18');
  assert.equal(v.accept, true);
  assert.equal(v.nopreempt, false);
  assert.equal(v.preemptDelayMs, 0);
  assert.deepEqual([v.garpMasterDelayMs, v.garpMasterRepeat, v.garpMasterRefreshMs, v.garpMasterRefreshRepeat], [5000, 5, 0, 1]);
  assert.deepEqual([v.garpLowerPrioDelayMs, v.garpLowerPrioRepeat, v.downTimerAdverts], [5000, 5, 3]);
  assert.equal(v.lowerPrioNoAdvert, false);
  assert.equal(v.smtpAlert, false);
  assert.equal(v.unicast, false);
  assert.deepEqual(v.virtualIpaddresses.map((x) => [x.address, x.prefix, x.dev, x.scope]), [['10.0.0.1', 32, 'eth0', 0]]);
});

test('state MASTER without priority means priority 255 (address owner)', () => {
  const { model, golden } = build(VI('  state MASTER'));
  assert.deepEqual(golden, []);
  assert.equal(model.vrrpInstances[0]!.priority, 255);
  assert.equal(model.vrrpInstances[0]!.state, 'MASTER');
});

test('priority 255 without state starts as MASTER; priority out of range falls back to 100 with an error', () => {
  assert.equal(build(VI('  priority 255')).model.vrrpInstances[0]!.state, 'MASTER');
  const b = build(VI('  priority 300'));
  assert.deepEqual(b.golden, ['error out-of-range @7']);
  assert.equal(b.model.vrrpInstances[0]!.priority, 100);
  assert.match(b.diags[0]!.message, /300.*\[1, 255\]/);
  assert.equal(exitCodeFor(b.diags), 5);
});

test('missing virtual_router_id is fatal: the instance cannot run', () => {
  const b = build('vrrp_instance VI_1 {\n  interface eth0\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n');
  assert.deepEqual(b.golden, ['fatal missing-vrid @1']);
  assert.equal(b.model.vrrpInstances[0]!.cannotRun, 'the virtual router id must be set');
  assert.equal(exitCodeFor(b.diags), 4);
});

test('a keyword without its argument is reported with what was expected (keepalived exits 2)', () => {
  const b = build(VI('  priority'));
  assert.deepEqual(b.golden, ['error missing-parameter @7']);
  assert.match(b.diags[0]!.message, /'priority' needs PRIORITY \(1\.\.255\)/);
});

test('nopreempt with initial MASTER, preempt_delay with nopreempt: cleared with errors like keepalived', () => {
  let b = build(VI('  state MASTER\n  priority 150\n  nopreempt'));
  assert.deepEqual(b.golden, ['error conflict @1']);
  assert.equal(b.model.vrrpInstances[0]!.nopreempt, false);
  b = build(VI('  nopreempt\n  preempt_delay 30'));
  assert.deepEqual(b.golden, ['error conflict @1']);
  assert.equal(b.model.vrrpInstances[0]!.preemptDelayMs, 0);
  b = build(VI('  priority 255\n  nopreempt'));
  assert.ok(b.golden.includes('error conflict @1'));
  b = build(VI('  preempt_delay 2.5'));
  assert.deepEqual(b.golden, []);
  assert.equal(b.model.vrrpInstances[0]!.preemptDelayMs, 2500);
});

test('advert_int: VRRPv2 rounds to whole seconds, VRRPv3 to 10 ms, both with an error', () => {
  let b = build(VI('  advert_int 1.5'));
  assert.deepEqual(b.golden, ['error advert-int @1']);
  assert.equal(b.model.vrrpInstances[0]!.advertIntMs, 2000);
  b = build(VI('  advert_int 0.1'));
  assert.equal(b.model.vrrpInstances[0]!.advertIntMs, 1000);
  b = build(VI('  version 3\n  advert_int 0.123'));
  assert.deepEqual(b.golden, ['error advert-int @1']);
  assert.equal(b.model.vrrpInstances[0]!.advertIntMs, 120);
  b = build(VI('  version 3\n  advert_int 50'));
  assert.equal(b.model.vrrpInstances[0]!.advertIntMs, 40950);
  b = build(VI('  version 3\n  advert_int 0.25'));
  assert.deepEqual(b.golden, []);
  assert.equal(b.model.vrrpInstances[0]!.advertIntMs, 250);
});

test('authentication: first 8 characters, v2 IPv4 only', () => {
  let b = build(VI('  authentication {\n    auth_type PASS\n    auth_pass 0123456789\n  }'));
  assert.deepEqual(b.golden, ['error truncated @9']);
  assert.deepEqual(b.model.vrrpInstances[0]!.authentication, { type: 'PASS', pass: '01234567' });
  b = build(VI('  version 3\n  authentication {\n    auth_type PASS\n    auth_pass secret\n  }'));
  assert.deepEqual(b.golden, ['error auth-v3 @8']);
  assert.equal(b.model.vrrpInstances[0]!.authentication, undefined);
  b = build(VI('  authentication {\n    auth_type PASS\n  }'));
  assert.deepEqual(b.golden, ['error auth-no-pass @7']);
});

test('IPv6 VIPs make a VRRPv3 instance on ff02::12', () => {
  const b = build('vrrp_instance V6 {\n  interface eth0\n  virtual_router_id 9\n  virtual_ipaddress {\n    fe80::1/64\n    2001:db8::1\n  }\n}\n');
  assert.deepEqual(b.golden, []);
  const v = b.model.vrrpInstances[0]!;
  assert.deepEqual([v.family, v.version, v.mcastDstIp], [6, 3, 'ff02::12']);
  assert.deepEqual(v.virtualIpaddresses.map((x) => `${x.address}/${x.prefix}`), ['fe80::1/64', '2001:db8::1/128']);
});

test('virtual_ipaddress options are parsed (ip-address syntax)', () => {
  const b = build(VI('  virtual_ipaddress_excluded {\n    10.0.1.2/24 brd 10.0.1.255 dev eth1 scope link label eth1:1 no_track\n    10.0.1.3 frobnicate\n  }'));
  assert.deepEqual(b.golden, ['error unknown-keyword @9']);
  const e = b.model.vrrpInstances[0]!.virtualIpaddressesExcluded;
  assert.equal(e.length, 2);
  assert.deepEqual({ a: e[0]!.address, p: e[0]!.prefix, b: e[0]!.brd, d: e[0]!.dev, s: e[0]!.scope, l: e[0]!.label, n: e[0]!.noTrack },
    { a: '10.0.1.2', p: 24, b: '10.0.1.255', d: 'eth1', s: 253, l: 'eth1:1', n: true });
});

test('an interface that does not exist is fatal unless dynamic_interfaces', () => {
  let b = build(VI().replace('eth0', 'eth9'));
  assert.deepEqual(b.golden, ['fatal bad-interface @2']);
  assert.match(b.diags[0]!.suggestion!, /existing: eth0, eth1, lo/);
  assert.equal(exitCodeFor(b.diags), 4);
  b = build('global_defs {\n  dynamic_interfaces\n}\n' + VI().replace('eth0', 'eth9'));
  assert.deepEqual(b.golden, []);
  assert.equal(b.model.vrrpInstances[0]!.interfaceExists, false);
  b = build(VI('  track_interface {\n    eth7 weight 10\n  }'));
  assert.deepEqual(b.golden, ['fatal bad-interface @8']);
});

test('unicast: peers switch to unicast; strict mode notes it (2.2.7 accepts it); a unicast keyword without peers is deprecated', () => {
  let b = build(VI('  unicast_src_ip 10.0.0.10\n  unicast_peer {\n    10.0.0.11\n    10.0.0.12 min_ttl 250 max_ttl 255\n  }'));
  assert.deepEqual(b.golden, []);
  const v = b.model.vrrpInstances[0]!;
  assert.equal(v.unicast, true);
  assert.equal(v.mcastDstIp, undefined);
  assert.equal(v.checkUnicastSrc, true);
  assert.deepEqual(v.unicastPeers.map((p) => [p.address, p.minTtl, p.maxTtl]), [['10.0.0.11', undefined, undefined], ['10.0.0.12', 250, 255]]);
  b = build('global_defs {\n  vrrp_strict\n}\n' + VI('  unicast_peer {\n    10.0.0.11\n  }'));
  assert.ok(b.golden.includes('notice strict-mode @4'));
  assert.equal(exitCodeFor(b.diags), 0);
  b = build(VI('  unicast_src_ip 10.0.0.10'));
  assert.deepEqual(b.golden, ['warning deprecated @1']);
});

test('strict mode: accept off, lower-prio adverts off, no auth, MASTER only as owner', () => {
  const b = build('global_defs {\n  vrrp_strict\n}\n' + VI('  state MASTER\n  priority 200\n  authentication {\n    auth_type PASS\n    auth_pass x\n  }'));
  assert.deepEqual(b.golden, ['error strict-mode @4', 'error strict-mode @12']);
  const v = b.model.vrrpInstances[0]!;
  assert.deepEqual([v.state, v.accept, v.lowerPrioNoAdvert, v.garpLowerPrioRepeat, v.authentication], ['BACKUP', false, true, 0, undefined]);
});

test('duplicate VRIDs on one interface are an error; different interfaces are fine', () => {
  let b = build(VI('', 'A', 7) + VI('', 'B', 7));
  assert.deepEqual(b.golden, ['error duplicate-vrid @9']);
  b = build(VI('', 'A', 7) + VI('', 'B', 7).replace('eth0', 'eth1'));
  assert.deepEqual(b.golden, []);
});

test('vrrp_script: defaults, references, unused scripts and unknown names', () => {
  const conf = `vrrp_script chk {\n  script "/bin/true arg"\n}\nvrrp_script unused {\n  script /bin/false\n  interval 3\n  weight -20 reverse\n}\n` +
    VI('  track_script {\n    chk weight 10\n    chkk\n  }');
  const b = build(conf);
  assert.deepEqual(b.golden, ['error unknown-reference @17', 'error unused-script @4']);
  assert.match(b.diags[0]!.suggestion!, /did you mean 'chk'/);
  assert.deepEqual(b.model.vrrpScripts.map((s) => s.name), ['chk']);
  const s = b.model.vrrpScripts[0]!;
  assert.deepEqual([s.intervalMs, s.timeoutMs, s.weight, s.rise, s.fall, s.script.argv], [1000, 1000, 0, 1, 1, ['/bin/true', 'arg']]);
  assert.deepEqual(b.model.vrrpInstances[0]!.trackScripts.map((t) => [t.name, t.weight]), [['chk', 10]]);
});

test('vrrp_script weight range and a script-less vrrp_script', () => {
  const b = build('vrrp_script a {\n  script /bin/true\n  weight 300\n}\nvrrp_script b {\n  interval 2\n}\n' + VI('  track_script {\n    a\n  }'));
  assert.deepEqual(b.golden, ['error out-of-range @3', 'error missing-script @5']);
});

test('sync groups: unknown members, an instance in two groups, weights of members ignored', () => {
  const conf = 'vrrp_sync_group G1 {\n  group {\n    A\n    B\n    NOPE\n  }\n}\nvrrp_sync_group G2 {\n  group {\n    A\n  }\n}\n' +
    'vrrp_script s {\n  script /bin/true\n  weight 5\n}\n' + VI('  track_script {\n    s\n  }', 'A', 1) + VI('', 'B', 2);
  const b = build(conf);
  assert.deepEqual(b.golden, ['error unknown-reference @5', 'error conflict @10', 'error empty-sync-group @8', 'error ignored-weight @24']);
  assert.deepEqual(b.model.syncGroups.map((g) => [g.name, g.group]), [['G1', ['A', 'B']]]);
  assert.equal(b.model.vrrpInstances[0]!.syncGroup, 'G1');
  assert.deepEqual(b.model.vrrpInstances[0]!.trackScripts, []);
});

test('notify scripts: command re-split into argv, trailing words are user and group', () => {
  const b = build(VI('  notify_master "/usr/bin/logger -t ka MASTER" nobody nogroup\n  notify /bin/echo'));
  assert.deepEqual(b.golden, []);
  const n = b.model.vrrpInstances[0]!.notify;
  assert.deepEqual([n.master!.argv, n.master!.user, n.master!.group], [['/usr/bin/logger', '-t', 'ka', 'MASTER'], 'nobody', 'nogroup']);
  assert.deepEqual(n.any!.argv, ['/bin/echo']);
  assert.equal(b.model.scripts.length, 2);
});

test('unknown keywords: did-you-mean within the block, and where the keyword belongs', () => {
  const b = build(VI('  priorty 100\n  lb_algo rr\n  frobnicate { priority 1 }'));
  assert.deepEqual(b.golden, ['error unknown-keyword @7', 'error unknown-keyword @8', 'error unknown-keyword @9']);
  assert.match(b.diags[0]!.suggestion!, /did you mean 'priority'\?/);
  assert.match(b.diags[1]!.suggestion!, /'lb_algo' is valid in virtual_server/);
  assert.match(b.diags[2]!.message, /unknown block 'frobnicate'.*whole block skipped/);
  // The unknown block's content is not applied, and its '}' does not close the instance.
  assert.equal(b.model.vrrpInstances[0]!.priority, 100);
});

test('recognised but unimplemented features are one notice each and keep the verdict clean', () => {
  const b = build(VI('  native_ipv6\n  track_bfd {\n    b\n  }') + 'bfd_instance b {\n}\n');
  assert.deepEqual(b.golden, ['notice not-supported @7', 'notice not-supported @8', 'notice not-supported @12']);
  assert.equal(exitCodeFor(b.diags), 0);
});

test('track_file: defaults, reference and owner handling', () => {
  const b = build('track_file tf {\n  file "/run/tf"\n  weight -10 reverse\n  init_file 5 overwrite\n}\n' + VI('  track_file {\n    tf weight 3\n  }'));
  assert.deepEqual(b.golden, []);
  assert.deepEqual(b.model.trackFiles[0], { name: 'tf', file: '/run/tf', weight: -10, weightReverse: true, initFile: { value: 5, overwrite: true }, loc: b.model.trackFiles[0]!.loc });
  assert.deepEqual(b.model.vrrpInstances[0]!.trackFiles.map((t) => [t.name, t.weight]), [['tf', 3]]);
});

test('virtual_routes and virtual_rules: ip-route / ip-rule syntax and keepalived’s complaints', () => {
  const b = build(VI('  virtual_routes {\n    src 10.0.0.1 to 10.9.0.0/16 via 10.0.0.254 dev eth0 table 100\n    10.8.0.0/16 gw 10.0.0.254\n  }\n  virtual_rules {\n    from 10.0.0.0/24 table 100 preference 100\n    to 10.1.0./24 table 2\n  }'));
  assert.deepEqual(b.golden, ['error deprecated @9', 'error route-not-tracked @9', 'error invalid-address @13', 'error rule-no-preference @13']);
  const v = b.model.vrrpInstances[0]!;
  assert.deepEqual([v.virtualRoutes[0]!.to, v.virtualRoutes[0]!.via, v.virtualRoutes[0]!.src, v.virtualRoutes[0]!.dev, v.virtualRoutes[0]!.table], ['10.9.0.0/16', '10.0.0.254', '10.0.0.1', 'eth0', '100']);
  assert.deepEqual([v.virtualRules[0]!.from, v.virtualRules[0]!.table, v.virtualRules[0]!.priority], ['10.0.0.0/24', '100', 100]);
});

test('vrrp_script script: unquoted extra words are dropped like keepalived does, with a notice', () => {
  const b = build('vrrp_script s {\n  script /bin/check --fast\n}\n' + VI('  track_script {\n    s\n  }'));
  assert.deepEqual(b.golden, ['notice script-words-ignored @2']);
  assert.deepEqual(b.model.vrrpScripts[0]!.script.argv, ['/bin/check']);
  assert.match(b.diags[0]!.suggestion!, /script "\/bin\/check --fast"/);
});
