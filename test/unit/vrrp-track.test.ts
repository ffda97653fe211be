import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trackVerdict, type TrackerStatus } from '../../src/vrrp/track.js';
import type { TrackerSpec } from '../../src/vrrp/spec.js';

const t = (kind: TrackerSpec['kind'], weight: number, st: { ok?: boolean; value?: number }, reverse = false, name = `${kind}${weight}`): TrackerStatus =>
  ({ spec: { name, kind, weight, reverse }, ...st });

test('positive weight is added while OK, nothing while failed', () => {
  assert.equal(trackVerdict(100, [t('script', 20, { ok: true })]).effectivePriority, 120);
  assert.equal(trackVerdict(100, [t('script', 20, { ok: false })]).effectivePriority, 100);
});

test('negative weight is added (subtracted) while failed, nothing while OK', () => {
  assert.equal(trackVerdict(100, [t('interface', -30, { ok: false })]).effectivePriority, 70);
  assert.equal(trackVerdict(100, [t('interface', -30, { ok: true })]).effectivePriority, 100);
});

test('reverse flips the direction', () => {
  assert.equal(trackVerdict(100, [t('script', 20, { ok: true }, true)]).effectivePriority, 80);
  assert.equal(trackVerdict(100, [t('script', 20, { ok: false }, true)]).effectivePriority, 100);
  assert.equal(trackVerdict(100, [t('script', -20, { ok: false }, true)]).effectivePriority, 120);
});

test('weight 0 failure means FAULT (reverse: FAULT while OK); unknown script state changes nothing', () => {
  assert.deepEqual(trackVerdict(100, [t('script', 0, { ok: false }, false, 'chk')]).faults, ['chk']);
  assert.deepEqual(trackVerdict(100, [t('script', 0, { ok: true })]).faults, []);
  assert.deepEqual(trackVerdict(100, [t('interface', 0, { ok: true }, true, 'eth1')]).faults, ['eth1']);
  assert.deepEqual(trackVerdict(100, [t('script', 0, {}), t('script', 50, {})]), { totalPriority: 100, effectivePriority: 100, faults: [] });
});

test('clamped to 1..254; owner 255 never changes but still faults on weight 0', () => {
  assert.equal(trackVerdict(250, [t('script', 50, { ok: true })]).effectivePriority, 254);
  assert.equal(trackVerdict(10, [t('script', -50, { ok: false })]).effectivePriority, 1);
  assert.equal(trackVerdict(10, [t('script', -50, { ok: false })]).totalPriority, -40);
  const o = trackVerdict(255, [t('script', -50, { ok: false }), t('interface', 0, { ok: false }, false, 'eth0')]);
  assert.equal(o.effectivePriority, 255);
  assert.deepEqual(o.faults, ['eth0']);
});

test('track_file: value × weight (× -1 reversed), capped at 253, ≤ -254 faults; weight 0 faults on non-zero', () => {
  assert.equal(trackVerdict(100, [t('file', 2, { value: 10 })]).effectivePriority, 120);
  assert.equal(trackVerdict(100, [t('file', -1, { value: 30 })]).effectivePriority, 70);
  assert.equal(trackVerdict(1, [t('file', 1, { value: 1000 })]).totalPriority, 254);
  assert.deepEqual(trackVerdict(100, [t('file', 1, { value: -254 }, false, 'f')]).faults, ['f']);
  assert.deepEqual(trackVerdict(100, [t('file', 0, { value: 3 }, false, 'f')]).faults, ['f']);
  assert.deepEqual(trackVerdict(100, [t('file', 0, { value: 0 }, false, 'f')]).faults, []);
  assert.deepEqual(trackVerdict(100, [t('file', 0, { value: 0 }, true, 'f')]).faults, ['f']);
});
