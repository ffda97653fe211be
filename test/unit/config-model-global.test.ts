// global_defs: defaults, typed values, propagation into instances, recognised-only keywords.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build, VI } from '../helpers/model.js';
import { exitCodeFor } from '../../src/config/diagnostics.js';

test('global_defs defaults (what -d prints without a global_defs block)', () => {
  const g = build('').model.globalDefs;
  assert.deepEqual([g.routerId, g.notificationEmailFrom, g.smtpHeloName, g.smtpConnectTimeoutMs], ['node1', 'keepalived@node1', 'node1', 30_000]);
  assert.deepEqual([g.vrrpMcastGroup4, g.vrrpMcastGroup6, g.vrrpVersion], ['224.0.0.18', 'ff02::12', 2]);
  assert.deepEqual([g.vrrpGarpMasterDelayMs, g.vrrpGarpMasterRepeat, g.vrrpGarpLowerPrioDelayMs, g.vrrpGarpLowerPrioRepeat], [5000, 5, 5000, 5]);
  assert.deepEqual([g.enableScriptSecurity, g.vrrpStrict, g.dynamicInterfaces, g.startupScriptTimeoutMs], [false, false, false, 10_000]);
});

test('typed global values flow into instances', () => {
  const b = build('global_defs {\n  router_id LVS_1\n  notification_email {\n    a@b.c\n    d@e.f\n  }\n  smtp_server 10.0.0.5 2525\n' +
    '  vrrp_version 3\n  vrrp_garp_master_delay 2\n  vrrp_garp_master_repeat 3\n  vrrp_mcast_group4 224.0.0.99\n  vrrp_skip_check_adv_addr\n  smtp_alert\n}\n' + VI());
  assert.deepEqual(b.golden, []);
  const g = b.model.globalDefs;
  assert.deepEqual([g.routerId, g.notificationEmail, g.smtpServer], ['LVS_1', ['a@b.c', 'd@e.f'], { host: '10.0.0.5', port: 2525 }]);
  const v = b.model.vrrpInstances[0]!;
  assert.deepEqual([v.version, v.garpMasterDelayMs, v.garpMasterRepeat, v.garpLowerPrioDelayMs, v.garpLowerPrioRepeat, v.mcastDstIp, v.skipCheckAdvAddr, v.smtpAlert],
    [3, 2000, 3, 2000, 3, '224.0.0.99', true, true]);
});

test('bad global values are errors with the expected form', () => {
  const b = build('global_defs {\n  vrrp_version 4\n  vrrp_mcast_group4 10.0.0.1\n  vrrp_garp_master_delay soon\n  router_id\n}\n');
  assert.deepEqual(b.golden, ['error out-of-range @2', 'error invalid-address @3', 'error invalid-number @4', 'error missing-parameter @5']);
});

test('lvs_sync_daemon takes its sync id from the instance it follows', () => {
  const b = build('global_defs {\n  lvs_sync_daemon eth0 VI_1 maxlen 1200 port 8849\n}\n' + VI());
  assert.deepEqual(b.golden, []);
  assert.deepEqual(b.model.globalDefs.lvsSyncDaemon, { interface: 'eth0', vrrpInstance: 'VI_1', syncId: 51, port: 8849, maxlen: 1200 });
  const c = build('global_defs {\n  lvs_sync_daemon eth0 VI_9\n}\n' + VI());
  assert.deepEqual(c.golden, ['notice unknown-reference @-']);
  assert.equal(c.model.globalDefs.lvsSyncDaemon, undefined);
});

test('recognised-only keywords are kept in `other`; unimplemented ones are notices; unknown ones errors', () => {
  const b = build('global_defs {\n  vrrp_priority -10\n  enable_snmp_vrrp\n  nftables_ipvs keepalived\n  rooter_id x\n}\n');
  assert.deepEqual(b.golden, ['notice not-supported @3', 'notice not-supported @4', 'error unknown-keyword @5']);
  assert.deepEqual(b.model.globalDefs.other['vrrp_priority'], ['-10']);
  assert.match(b.diags[2]!.suggestion!, /did you mean 'router_id'/);
  assert.equal(exitCodeFor(b.diags), 5);
});

test('top-level: unknown blocks are skipped whole; root keywords outside global_defs are recognised', () => {
  const b = build('frobnicate {\n  vrrp_instance X {\n  }\n}\nuse_pid_dir\nrouter_id x\n' + VI());
  assert.deepEqual(b.golden, ['error unknown-keyword @1', 'notice not-supported @5', 'error unknown-keyword @6']);
  assert.match(b.diags[2]!.suggestion!, /'router_id' is valid in global_defs/);
  assert.equal(b.model.vrrpInstances.length, 1);
});

test('vrrp_priority / checker_priority: the children\'s nice values, -20..19', () => {
  const g = build('global_defs {\n  vrrp_priority -20\n  checker_priority 10\n}\n');
  assert.deepEqual(g.golden, []);
  assert.deepEqual([g.model.globalDefs.vrrpProcessNice, g.model.globalDefs.checkerProcessNice], [-20, 10]);
  const bad = build('global_defs {\n  vrrp_priority -21\n}\n');
  assert.equal(bad.model.globalDefs.vrrpProcessNice, undefined);
  assert.ok(bad.golden.length > 0);
});

test('vrrp_/checker_rt_priority, _rlimit_rttime, _no_swap: keepalived\'s ranges and defaults', () => {
  const d = build('').model.globalDefs;
  assert.deepEqual([d.vrrpRtPriority, d.checkerRtPriority, d.vrrpRlimitRttimeUs, d.checkerRlimitRttimeUs, d.vrrpNoSwap, d.checkerNoSwap],
    [undefined, undefined, 10_000, 10_000, false, false]);
  const g = build('global_defs {\n  vrrp_rt_priority 50\n  checker_rt_priority 1\n  vrrp_rlimit_rttime 20000\n  checker_rlimit_rttime 1\n  vrrp_no_swap\n  checker_no_swap\n}\n');
  assert.deepEqual(g.golden, []);
  const m = g.model.globalDefs;
  assert.deepEqual([m.vrrpRtPriority, m.checkerRtPriority, m.vrrpRlimitRttimeUs, m.checkerRlimitRttimeUs, m.vrrpNoSwap, m.checkerNoSwap],
    [50, 1, 20_000, 2, true, true]);
  // Out of 1..99: an error (-t exits 5, as keepalived's) and the clamped value; a bad rlimit: an error and no limit.
  const bad = build('global_defs {\n  vrrp_rt_priority 200\n  checker_rt_priority 0\n  vrrp_rlimit_rttime x\n  vrrp_rt_priority\n  checker_rlimit_rtime 500\n}\n');
  assert.deepEqual(bad.golden, ['error out-of-range @2', 'error out-of-range @3', 'error invalid-number @4', 'error missing-parameter @5', 'warning deprecated @6']);
  const b = bad.model.globalDefs;
  assert.deepEqual([b.vrrpRtPriority, b.checkerRtPriority, b.vrrpRlimitRttimeUs, b.checkerRlimitRttimeUs], [99, 1, 0, 500]);
  assert.equal(exitCodeFor(bad.diags), 5);
});

test('child_wait_time (top level): seconds the parent waits for its children at stop, 5 by default', () => {
  assert.equal(build('').model.globalDefs.childWaitTimeMs, 5000);
  const b = build('child_wait_time 300\n' + VI());
  assert.deepEqual(b.golden, []);
  assert.equal(b.model.globalDefs.childWaitTimeMs, 300_000);
  const bad = build('child_wait_time soon\nchild_wait_time -1\n' + VI());
  assert.deepEqual(bad.golden, ['error invalid-number @1', 'error out-of-range @2']);
  assert.equal(bad.model.globalDefs.childWaitTimeMs, 5000);
});
