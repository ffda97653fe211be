// Split-brain guard (issue 10): the vrrp_guard block as the model reads it, and the timing argument that makes a
// master drop its VIPs before the server can expire its session and pass the lock on (vrrp/guard.ts safeDeadline).
// The node's behaviour with the lock is in the transcripts 15–17.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { build, VI } from '../helpers/model.js';
import { GUARD_DRIFT, guardMarginMs, safeDeadline } from '../../src/vrrp/guard.js';
import { vrrpPlan } from '../../src/vrrp/plan.js';

const GUARD = `vrrp_guard ZK {
  zookeeper 10.0.0.5:2181,10.0.0.6:2181
  path /keepalived-ts/lvs-prod
  session_timeout 6
  mode required
  unreachable release
}
`;

test('vrrp_guard is read with its defaults; an instance names it; the plan gives it a lock per VRID and interface', () => {
  const { model, golden } = build(GUARD + VI('  guard ZK'));
  assert.deepEqual(golden, []);
  assert.deepEqual(model.guards.map((g) => [g.name, g.backend, g.endpoints, g.path, g.sessionTimeoutMs, g.mode, g.unreachable]),
    [['ZK', 'zookeeper', ['10.0.0.5:2181', '10.0.0.6:2181'], '/keepalived-ts/lvs-prod', 6000, 'required', 'release']]);
  assert.equal(model.vrrpInstances[0]!.guard?.name, 'ZK');
  const plan = vrrpPlan(model, () => ({ uid: 0, gid: 0 }));
  assert.deepEqual(plan.instances[0]!.guard, { guard: 'ZK', key: 'vrid-51-eth0' });
  assert.deepEqual(plan.guards.map((g) => g.name), ['ZK']);
  const d = build('vrrp_guard D {\n  zookeeper zk:2181\n  path /a\n}\n' + VI('  guard D')).model.guards[0]!;
  assert.deepEqual([d.sessionTimeoutMs, d.mode, d.unreachable], [6000, 'required', 'keep']);
});

test('a sync group takes one lock for its members; a member\'s own guard is ignored with a warning', () => {
  const text = `${GUARD}vrrp_sync_group G1 {
  group {
    VI_1
    VI_2
  }
  guard ZK
}
${VI('  guard ZK')}${VI('', 'VI_2', 52)}`;
  const { model, golden } = build(text);
  assert.deepEqual(golden, ['warning guard-in-sync-group @21']);
  const plan = vrrpPlan(model, () => ({ uid: 0, gid: 0 }));
  assert.deepEqual(plan.groups[0]!.guard, { guard: 'ZK', key: 'group-G1' });
  assert.deepEqual(plan.instances.map((i) => i.guard), [undefined, undefined]);
});

test('vrrp_guard mistakes name the keyword, what was expected and where', () => {
  const bad = build(`vrrp_guard ZK {
  zookeeper 10.0.0.5
  path keepalived
  session_timeout 0
  mode strict
  unreachable maybe
  ttl 3
}
${VI('  guard ZK')}`);
  assert.deepEqual(bad.golden, [
    'error invalid-value @2', 'error invalid-value @3', 'error out-of-range @4', 'error invalid-value @5',
    'error invalid-value @6', 'error unknown-keyword @7', 'error missing-parameter @1', 'error unknown-reference @15',
  ]);
  assert.match(bad.diags[0]!.suggestion ?? '', /HOST:PORT/);
  const typo = build(GUARD + VI('  guard ZQ'));
  assert.deepEqual(typo.golden, ['error unknown-reference @14']);
  assert.match(typo.diags[0]!.suggestion ?? '', /did you mean 'ZK'/);
  // etcd: http endpoints; TLS is refused (no CA/certificate options yet) rather than a guard that cannot connect.
  const etcd = build('vrrp_guard E {\n  etcd http://10.0.0.5:2379,http://10.0.0.6:2379/\n  path /a\n}\n');
  assert.deepEqual(etcd.golden, []);
  assert.deepEqual(etcd.model.guards.map((g) => [g.backend, g.endpoints]), [['etcd', ['http://10.0.0.5:2379', 'http://10.0.0.6:2379/']]]);
  const tls = build('vrrp_guard E {\n  etcd https://10.0.0.5:2379\n  path /a\n}\n');
  assert.deepEqual(tls.golden, ['error not-supported @2', 'error missing-parameter @1']);
  assert.deepEqual(build('vrrp_guard E {\n  etcd 10.0.0.5:2379\n  path /a\n}\n').golden, ['error invalid-value @2', 'error missing-parameter @1']);
});

test('configs without a guard plan no guard (the same behaviour as before)', () => {
  const { model } = build(VI());
  const plan = vrrpPlan(model, () => ({ uid: 0, gid: 0 }));
  assert.deepEqual(plan.guards, []);
  assert.equal(plan.instances[0]!.guard, undefined);
});

test('safeDeadline: with 6 s the VIPs go 5.58 s after the last confirmed request was sent', () => {
  assert.equal(guardMarginMs(6000), 300);
  assert.equal(safeDeadline(1000, 6000), 1000 + 5880 - 300);
  assert.equal(guardMarginMs(1000), 100);
  assert.equal(guardMarginMs(60_000), 1000);
});

test('safeDeadline: the local drop comes at least the margin before the earliest server expiry, for any clock rates within the allowance', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 1e9 }), // sentAt (our clock)
    fc.integer({ min: 1000, max: 3_600_000 }), // granted session timeout
    fc.double({ min: -GUARD_DRIFT, max: GUARD_DRIFT, noNaN: true }), // our clock's rate error
    fc.double({ min: -GUARD_DRIFT, max: GUARD_DRIFT, noNaN: true }), // the server's clock's rate error
    fc.double({ min: 0, max: 5000, noNaN: true }), // real time from our send to the server's receipt
    (sentAt, T, ours, theirs, transit) => {
      // Real time: our clock reads sentAt at real 0 and runs at (1 + ours); the server renews the session when the
      // request arrives (real `transit`) and expires it when its clock, running at (1 + theirs), has measured T.
      const dropReal = (safeDeadline(sentAt, T) - sentAt) / (1 + ours);
      const expiryReal = transit + T / (1 + theirs);
      return dropReal <= expiryReal - guardMarginMs(T);
    },
  ));
});
