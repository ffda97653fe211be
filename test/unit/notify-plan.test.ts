// keepalived's notify conventions as data: which scripts run with which argv, and the FIFO lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  planNotify, genericNotifyArgv, notifyEventFromEngine, vrrpFifoLine, type NotifyCommands,
} from '../../src/notify/notify.js';
import { formatTrio, formatVs, lvsRsFifoLine, lvsVsFifoLine } from '../../src/check/verdict.js';

const scripts: NotifyCommands = {
  master: { argv: ['/etc/keepalived/notify.sh', 'master-only'] },
  backup: { argv: ['/etc/keepalived/notify.sh', 'backup'] },
  fault: { argv: ['/etc/keepalived/fault.sh'] },
  stop: { argv: ['/etc/keepalived/stop.sh'] },
  generic: { argv: ['/etc/keepalived/notify.sh', 'extra1'] },
  masterRxLowerPri: { argv: ['/etc/keepalived/lower.sh', 'x'] },
};

test('per-state scripts get only their configured args; generic notify gets TYPE NAME STATE PRIO appended', () => {
  const plan = planNotify({ kind: 'instance', name: 'VI_1', state: 'MASTER', priority: 100, scripts });
  assert.deepEqual(plan.scripts.map((s) => [s.role, s.argv]), [
    ['state', ['/etc/keepalived/notify.sh', 'master-only']],
    ['generic', ['/etc/keepalived/notify.sh', 'extra1', 'INSTANCE', 'VI_1', 'MASTER', '100']],
  ]);
  assert.equal(plan.fifoLine, 'INSTANCE "VI_1" MASTER 100\n');
  assert.equal(plan.scripts.every((s) => !s.stopTime), true);
});

test('groups report priority 0 and GROUP', () => {
  const plan = planNotify({ kind: 'group', name: 'G1', state: 'BACKUP', priority: 200, scripts: { generic: { argv: ['/n.sh'] } } });
  assert.deepEqual(plan.scripts[0]!.argv, ['/n.sh', 'GROUP', 'G1', 'BACKUP', '0']);
  assert.equal(plan.fifoLine, 'GROUP "G1" BACKUP 0\n');
  assert.deepEqual(genericNotifyArgv([], 'group', 'G1', 'MASTER', 99), ['GROUP', 'G1', 'MASTER', '0']);
});

test('STOP scripts are stop-time (killed after 1 s)', () => {
  const plan = planNotify({ kind: 'instance', name: 'VI_3', state: 'STOP', priority: 200, scripts });
  assert.deepEqual(plan.scripts.map((s) => [s.argv, s.stopTime]), [
    [['/etc/keepalived/stop.sh'], true],
    [['/etc/keepalived/notify.sh', 'extra1', 'INSTANCE', 'VI_3', 'STOP', '200'], true],
  ]);
});

test('a deleted instance reports FAULT without notify_deleted, runs no per-state script', () => {
  const plan = planNotify({ kind: 'instance', name: 'VI_1', state: 'DELETED', priority: 50, scripts });
  assert.deepEqual(plan.scripts.map((s) => s.argv), [['/etc/keepalived/notify.sh', 'extra1', 'INSTANCE', 'VI_1', 'FAULT', '50']]);
  assert.equal(plan.fifoLine, 'INSTANCE "VI_1" FAULT 50\n');
  assert.equal(plan.reportedState, 'FAULT');
});

test('with notify_deleted a deleted instance reports DELETED and runs its script', () => {
  const plan = planNotify({
    kind: 'instance', name: 'VI_1', state: 'DELETED', priority: 50,
    scripts: { ...scripts, notifyDeleted: true, deleted: { argv: ['/del.sh', 'gone'] } },
  });
  assert.deepEqual(plan.scripts.map((s) => s.argv), [['/del.sh', 'gone'], ['/etc/keepalived/notify.sh', 'extra1', 'INSTANCE', 'VI_1', 'DELETED', '50']]);
  assert.equal(plan.fifoLine, 'INSTANCE "VI_1" DELETED 50\n');
});

test('MASTER_RX_LOWER_PRI runs only its script; priority events are FIFO-only', () => {
  const rx = planNotify({ kind: 'instance', name: 'VI_1', state: 'MASTER_RX_LOWER_PRI', priority: 100, scripts });
  assert.deepEqual(rx.scripts.map((s) => s.argv), [['/etc/keepalived/lower.sh', 'x']]);
  assert.equal(rx.fifoLine, 'INSTANCE "VI_1" MASTER_RX_LOWER_PRI 100\n');
  const mp = planNotify({ kind: 'instance', name: 'VI_1', state: 'MASTER_PRIORITY', priority: 90, scripts });
  assert.deepEqual(mp.scripts, []);
  assert.equal(mp.fifoLine, 'INSTANCE "VI_1" MASTER_PRIORITY 90\n');
  assert.equal(vrrpFifoLine('instance', 'VI_2', 'BACKUP_PRIORITY', 80), 'INSTANCE "VI_2" BACKUP_PRIORITY 80\n');
});

test('no scripts configured: only the FIFO line', () => {
  const plan = planNotify({ kind: 'instance', name: 'VI_9', state: 'FAULT', priority: 1, scripts: {} });
  assert.deepEqual(plan.scripts, []);
  assert.equal(plan.fifoLine, 'INSTANCE "VI_9" FAULT 1\n');
});

test('uid/gid carried to the planned scripts', () => {
  const plan = planNotify({ kind: 'instance', name: 'VI_1', state: 'BACKUP', priority: 100, scripts: { backup: { argv: ['/b'], uid: 65534, gid: 65534 } } });
  assert.equal(plan.scripts[0]!.uid, 65534);
  assert.equal(plan.scripts[0]!.gid, 65534);
});

test('LVS FIFO lines end with a NUL byte', () => {
  // The checkers' verdict core writes these lines (check/verdict.ts); formatVs is keepalived's FMT_VS.
  const vs = formatVs({ address: '10.0.0.1', protocol: 'TCP', port: 80 });
  assert.deepEqual(Buffer.from(lvsVsFifoLine(vs, true)), Buffer.from('VS [10.0.0.1]:tcp:80 UP\n\0'));
  assert.deepEqual(Buffer.from(lvsRsFifoLine(formatTrio('192.168.1.2', 'tcp', 8080), vs, false)), Buffer.from('RS [192.168.1.2]:tcp:8080 [10.0.0.1]:tcp:80 DOWN\n\0'));
  assert.equal(formatVs({ group: 'web', port: 443, protocol: 'TCP' }), '[web]:443');
  assert.equal(formatVs({ fwmark: 7, protocol: 'TCP' }), 'FWM 7');
  assert.equal(formatVs({ address: '2001:db8::1', protocol: 'UDP', port: 53 }), '[2001:db8::1]:udp:53');
  assert.deepEqual(Buffer.from(lvsVsFifoLine(formatVs({ fwmark: 7, protocol: 'TCP' }), false)), Buffer.from('VS FWM 7 DOWN\n\0'));
});

test('engine notify effects map onto dispatcher events', () => {
  const ev = notifyEventFromEngine({ scope: 'GROUP', name: 'G1', state: 'FAULT', priority: 0 }, scripts);
  assert.deepEqual(ev, { kind: 'group', name: 'G1', state: 'FAULT', priority: 0, scripts });
  assert.equal(notifyEventFromEngine({ scope: 'INSTANCE', name: 'VI_1', state: 'MASTER', priority: 9 }, {}).kind, 'instance');
});
