// NotifyDispatcher and NotifyFifoWriter with real scripts and a real FIFO reader process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, chmodSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotifyDispatcher, type NotifyCommands, type NotifyOutcome } from '../../src/notify/notify.js';
import { formatTrio, formatVs, lvsRsFifoLine, lvsVsFifoLine } from '../../src/check/verdict.js';
import { NotifyFifoWriter } from '../../src/notify/fifo.js';
import { isKtError } from '../../src/util/errors.js';
import { memoryLog } from '../helpers/memory-log.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kt-notify-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/bash\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

const lines = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter((l) => l !== '') : []);

/** A deadline, not a count of sleeps: on a loaded machine a bash run can take far longer than usual. */
async function waitFor(pred: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!pred() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(pred(), what);
}

test('generic notify receives exactly the configured args then INSTANCE VI_1 MASTER 100', async () => {
  const out = join(dir, 'generic.out');
  const s = script('generic.sh', `echo "$#:$*" >> ${out}`);
  const d = new NotifyDispatcher();
  await d.dispatch({ kind: 'instance', name: 'VI_1', state: 'MASTER', priority: 100, scripts: { generic: { argv: [s, 'extra one', 'x'] } } });
  assert.deepEqual(lines(out), ['6:extra one x INSTANCE VI_1 MASTER 100']);
});

test('notifies of one instance run strictly in order, other instances in parallel', async () => {
  const log = join(dir, 'order.log');
  // each line: instance, what, phase; the slow backup script sleeps so a fast master would overtake it in keepalived
  const slow = script('slow.sh', `echo "$1 $2 start" >> ${log}; sleep 0.4; echo "$1 $2 end" >> ${log}`);
  const fast = script('fast.sh', `echo "$1 $2 start" >> ${log}; echo "$1 $2 end" >> ${log}`);
  const gen = script('gen.sh', `echo "$2 generic-$3 start" >> ${log}; echo "$2 generic-$3 end" >> ${log}`);
  const a: NotifyCommands = { backup: { argv: [slow, 'VI_A', 'backup'] }, master: { argv: [fast, 'VI_A', 'master'] }, generic: { argv: [gen] } };
  const b: NotifyCommands = { master: { argv: [fast, 'VI_B', 'master'] } };
  const d = new NotifyDispatcher();
  const all: Promise<NotifyOutcome>[] = [];
  for (let i = 0; i < 3; i++) {
    all.push(d.dispatch({ kind: 'instance', name: 'VI_A', state: 'BACKUP', priority: 100, scripts: a }));
    all.push(d.dispatch({ kind: 'instance', name: 'VI_A', state: 'MASTER', priority: 100, scripts: a }));
  }
  // VI_B is queued after VI_A's slow script started
  await waitFor(() => lines(log).length > 0, 'VI_A started');
  all.push(d.dispatch({ kind: 'instance', name: 'VI_B', state: 'MASTER', priority: 50, scripts: b }));
  await Promise.all(all);
  await d.idle();
  const got = lines(log);
  const vA = got.filter((l) => l.startsWith('VI_A '));
  const expectedA: string[] = [];
  for (let i = 0; i < 3; i++) {
    expectedA.push('VI_A backup start', 'VI_A backup end', 'VI_A generic-BACKUP start', 'VI_A generic-BACKUP end');
    expectedA.push('VI_A master start', 'VI_A master end', 'VI_A generic-MASTER start', 'VI_A generic-MASTER end');
  }
  assert.deepEqual(vA, expectedA);
  // VI_B did not wait for VI_A's queue: it ran while VI_A's first slow script was sleeping
  const bIndex = got.indexOf('VI_B master end');
  assert.ok(bIndex > 0 && bIndex < got.indexOf('VI_A backup end'), got.join('\n'));
});

test('a hung notify script is killed at the dispatcher timeout and the queue moves on', async () => {
  const out = join(dir, 'after-hang.out');
  const hang = script('hang.sh', 'sleep 100');
  const next = script('next.sh', `echo next >> ${out}`);
  const { log, lines: logs } = memoryLog();
  const d = new NotifyDispatcher({ timeoutMs: 300, log });
  const first = d.dispatch({ kind: 'instance', name: 'VI_H', state: 'BACKUP', priority: 1, scripts: { backup: { argv: [hang] } } });
  const second = d.dispatch({ kind: 'instance', name: 'VI_H', state: 'MASTER', priority: 1, scripts: { master: { argv: [next] } } });
  const r1 = await first;
  assert.equal(r1.results[0]!.result.timedOut, true);
  await second;
  assert.deepEqual(lines(out), ['next']);
  assert.ok(logs.some((m) => m.startsWith('VRRP_Instance(VI_H) BACKUP: notify script') && m.endsWith('timed out')), logs.join('\n'));
});

test('stop-time scripts are SIGKILLed after 1 s, even if they ignore SIGTERM', async () => {
  const stubborn = script('stop-stubborn.sh', `trap '' TERM; sleep 100`);
  const d = new NotifyDispatcher();
  const r = await d.dispatch({ kind: 'instance', name: 'VI_S', state: 'STOP', priority: 1, scripts: { stop: { argv: [stubborn] } } });
  assert.equal(r.results[0]!.result.timedOut, true);
  assert.equal(r.results[0]!.result.signal, 'SIGKILL');
});

test('a notify script that cannot run is logged as a failure with the reason', async () => {
  const { log, lines: logs } = memoryLog((l) => `${l.level} ${l.msg}`);
  const d = new NotifyDispatcher({ log });
  const r = await d.dispatch({ kind: 'group', name: 'G1', state: 'FAULT', priority: 0, scripts: { fault: { argv: [join(dir, 'absent.sh'), 'a'] } } });
  assert.match(r.results[0]!.result.spawnError ?? '', /no such file/);
  assert.ok(logs.some((m) => m.startsWith('error VRRP_Group(G1) FAULT: notify script') && m.includes('could not be run')), logs.join('\n'));
});

test('shutdown() gives running notify scripts 1 s, then terminates their group', async () => {
  const hang = script('hang2.sh', 'sleep 100');
  const d = new NotifyDispatcher({ timeoutMs: 0 });
  const p = d.dispatch({ kind: 'instance', name: 'VI_X', state: 'MASTER', priority: 1, scripts: { master: { argv: [hang] } } });
  await new Promise((r) => setTimeout(r, 100));
  await d.shutdown();
  const r = await p;
  assert.equal(r.results[0]!.result.signal, 'SIGTERM');
});

test('FIFO: created 0644, lines read back by the fifo script, unlinked on close', async () => {
  const fifoPath = join(dir, 'notify.fifo');
  const out = join(dir, 'fifo-reader.out');
  // sample_notify_fifo.sh style reader: the FIFO path arrives as the last argument
  const reader = script('reader.sh', `while read -r line; do echo "$line" >> ${out}; done < "$1"`);
  const fifo = await NotifyFifoWriter.open(fifoPath, { script: { argv: [reader] } });
  assert.equal(statSync(fifoPath).isFIFO(), true);
  assert.equal(statSync(fifoPath).mode & 0o777, 0o644);
  const d = new NotifyDispatcher({ fifos: [fifo] });
  await d.dispatch({ kind: 'instance', name: 'VI_1', state: 'BACKUP', priority: 100, scripts: {} });
  await d.dispatch({ kind: 'instance', name: 'VI_1', state: 'MASTER', priority: 100, scripts: {} });
  await d.dispatch({ kind: 'group', name: 'G1', state: 'MASTER', priority: 100, scripts: {} });
  await d.dispatch({ kind: 'instance', name: 'VI_1', state: 'MASTER_PRIORITY', priority: 90, scripts: {} });
  await waitFor(() => lines(out).length === 4, 'reader got 4 lines');
  assert.deepEqual(lines(out), ['INSTANCE "VI_1" BACKUP 100', 'INSTANCE "VI_1" MASTER 100', 'GROUP "G1" MASTER 0', 'INSTANCE "VI_1" MASTER_PRIORITY 90']);
  await fifo.close();
  assert.equal(existsSync(fifoPath), false);
});

test('LVS FIFO lines reach a reader with their trailing NUL', async () => {
  const fifoPath = join(dir, 'lvs.fifo');
  const out = join(dir, 'lvs-reader.out');
  const reader = script('lvs-reader.sh', `exec cat "$1" > ${out}`);
  const fifo = await NotifyFifoWriter.open(fifoPath, { script: { argv: [reader] }, label: 'lvs ' });
  const vs = formatVs({ address: '10.0.0.1', protocol: 'TCP', port: 80 });
  assert.equal(fifo.write(lvsVsFifoLine(vs, true)), true);
  assert.equal(fifo.write(lvsRsFifoLine(formatTrio('192.168.1.2', 'tcp', 80), vs, false)), true);
  const expected = 'VS [10.0.0.1]:tcp:80 UP\n\0RS [192.168.1.2]:tcp:80 [10.0.0.1]:tcp:80 DOWN\n\0';
  await waitFor(() => existsSync(out) && readFileSync(out, 'latin1') === expected, 'reader got both lines with NULs');
  await fifo.close();
});

test('FIFO: writes never block without a reader; a full FIFO drops lines and counts them', async () => {
  const fifoPath = join(dir, 'noreader.fifo');
  const { log, lines: logs } = memoryLog();
  const fifo = await NotifyFifoWriter.open(fifoPath, { log });
  const line = `INSTANCE "${'V'.repeat(100)}" MASTER 100\n`;
  let ok = 0;
  for (let i = 0; i < 2000; i++) if (fifo.write(line)) ok++;
  assert.ok(ok > 0 && ok < 2000, `some written (${ok}), the rest dropped`);
  assert.equal(fifo.dropped, 2000 - ok);
  assert.ok(logs.some((m) => m.includes('full') && m.includes('dropped')));
  await fifo.close();
});

test('FIFO: an existing non-FIFO path is refused with a clear error', async () => {
  const p = join(dir, 'regular');
  writeFileSync(p, '');
  await assert.rejects(NotifyFifoWriter.open(p), (e: unknown) => isKtError(e, 'KT_NOTIFY_FIFO_NOT_FIFO') && /is not a fifo/.test(e.message));
  await assert.rejects(NotifyFifoWriter.open(join(dir, 'no-such-dir', 'x.fifo')), (e: unknown) => isKtError(e, 'KT_NOTIFY_FIFO_CREATE'));
});

test('FIFO: an existing FIFO is reused and not unlinked on close', async () => {
  const p = join(dir, 'existing.fifo');
  const first = await NotifyFifoWriter.open(p);
  // simulate a pre-existing FIFO: close the first without its unlink by opening a second one on the same path
  const second = await NotifyFifoWriter.open(p);
  await second.close();
  assert.equal(existsSync(p), true);
  await first.close();
  assert.equal(existsSync(p), false);
});
