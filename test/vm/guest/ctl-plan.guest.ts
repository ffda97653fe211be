// Guest-only (real IPVS): `keepalived-ts ctl plan -f NEW.conf` predicts what the following SIGHUP does to the kernel's
// IPVS table (issue 12). keepalived-ts runs a config with four virtual servers; the new file changes a weight,
// removes and adds a real server, removes a virtual server, changes a scheduler, adds a virtual server and leaves a
// fwmark service alone. The table is read with `ipvsadm -Sn` before and after the SIGHUP; the services and
// destinations added, removed and changed must be exactly those the plan listed (destinations of an added or removed
// service are counted with their service on both sides).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonTestUnavailable, savedTable, settledTable, shell, startDaemon, TS_BIN, type RunningDaemon } from './daemon-lib.js';
import { waitFor } from '../../lab/lan.js';
import type { IpvsPlanOp, ReloadPlanDocument } from '../../../src/daemon/reload-plan.js';

const unavailable = await daemonTestUnavailable(false);

const vs = (head: string, body: string[]) => [`virtual_server ${head} {`, '  lb_kind NAT', ...body.map((l) => `  ${l}`), '}'].join('\n');
const rs = (addr: string, weight: number) => `real_server ${addr} {\n    weight ${weight}\n  }`;

const FIRST = [
  vs('10.30.0.1 80', ['lb_algo rr', 'protocol TCP', rs('192.168.40.1 80', 1), rs('192.168.40.2 80', 2)]),
  vs('10.30.0.2 80', ['lb_algo wlc', 'protocol TCP', rs('192.168.40.3 80', 1)]),
  vs('10.30.0.3 53', ['lb_algo rr', 'protocol UDP', rs('192.168.40.4 53', 1)]),
  vs('fwmark 31', ['lb_algo rr', rs('192.168.40.5 80', 1)]),
  '',
].join('\n');

const SECOND = [
  vs('10.30.0.1 80', ['lb_algo rr', 'protocol TCP', rs('192.168.40.1 80', 5), rs('192.168.40.6 80', 1)]),
  vs('10.30.0.3 53', ['lb_algo wrr', 'protocol UDP', rs('192.168.40.4 53', 1)]),
  vs('fwmark 31', ['lb_algo rr', rs('192.168.40.5 80', 1)]),
  vs('10.30.0.4 80', ['lb_algo rr', 'protocol TCP', rs('192.168.40.7 80', 1)]),
  '',
].join('\n');

const dir = mkdtempSync('/tmp/ktctlplan-');
const conf = join(dir, 'keepalived.conf');
const next = join(dir, 'next.conf');
const socket = join(dir, 'ctl.sock');
let daemon: RunningDaemon | undefined;

after(async () => {
  await daemon?.stop(10_000).catch(() => undefined);
  try { shell('ipvsadm -C 2>/dev/null'); } catch { /* gone */ }
  rmSync(dir, { recursive: true, force: true });
});

/** `ipvsadm -Sn` lines by the plan's names: service "TCP 10.30.0.1:80" / "FWM 31", destination "service|addr:port". */
function keyed(lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of lines) {
    const w = l.split(/\s+/);
    const kind = w[1] === '-t' ? 'TCP' : w[1] === '-u' ? 'UDP' : w[1] === '-f' ? 'FWM' : w[1];
    const service = `${kind} ${w[2]}`;
    if (w[0] === '-A') out.set(service, l);
    else if (w[0] === '-a') out.set(`${service}|${w[w.indexOf('-r') + 1]}`, l);
  }
  return out;
}

/** Changes as `add|del|edit service|dest KEY`, a destination of an added or removed service left to its service. */
function changes(entries: Array<{ kind: 'add' | 'del' | 'edit'; key: string }>): string[] {
  const whole = new Set(entries.filter((e) => e.kind !== 'edit' && !e.key.includes('|')).map((e) => `${e.kind} ${e.key}`));
  return entries
    .filter((e) => !(e.key.includes('|') && whole.has(`${e.kind} ${e.key.split('|')[0]}`)))
    .map((e) => `${e.kind} ${e.key.includes('|') ? 'dest' : 'service'} ${e.key}`)
    .sort();
}

const fromPlan = (ops: IpvsPlanOp[]) => changes(ops.map((o) => ({ kind: o.op.split('-')[0] as 'add' | 'del' | 'edit', key: o.dest ? `${o.service}|${o.dest}` : o.service })));

function fromTables(before: Map<string, string>, afterT: Map<string, string>): string[] {
  const e: Array<{ kind: 'add' | 'del' | 'edit'; key: string }> = [];
  for (const [k, l] of afterT) if (!before.has(k)) e.push({ kind: 'add', key: k }); else if (before.get(k) !== l) e.push({ kind: 'edit', key: k });
  for (const k of before.keys()) if (!afterT.has(k)) e.push({ kind: 'del', key: k });
  return changes(e);
}

const ctl = (words: string[]) => new Promise<{ code: number; out: string; err: string }>((resolve) => {
  execFile(process.execPath, [TS_BIN, 'ctl', '--socket', socket, ...words], { timeout: 120_000 }, (e, out, err) =>
    resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }));
});

test('ctl plan lists exactly the IPVS changes the following SIGHUP makes', { skip: unavailable, timeout: 600_000 }, async () => {
  shell('ipvsadm -C');
  writeFileSync(conf, FIRST);
  writeFileSync(next, SECOND);
  daemon = startDaemon('keepalived-ts', conf, ['--status-listen', socket]);
  const d = daemon;
  await waitFor(() => savedTable().length === 9, { what: `the first table (log:\n${d.log().slice(-3000)})`, timeoutMs: 180_000, intervalMs: 500 });
  const before = await settledTable(2_000, 60_000);

  const r = await ctl(['--json', 'plan', '-f', next]);
  assert.equal(r.code, 0, `${r.out}${r.err}\n${d.log().slice(-3000)}`);
  const plan = (JSON.parse(r.out) as { plan: ReloadPlanDocument }).plan;
  const ops = plan.checker?.ipvs;
  assert.ok(ops, JSON.stringify(plan));
  assert.deepEqual(savedTable(), before, 'the plan changed nothing');

  writeFileSync(conf, SECOND);
  d.proc.kill('SIGHUP');
  await waitFor(() => savedTable().join('\n').includes('10.30.0.4:80'), { what: 'the reload', timeoutMs: 180_000, intervalMs: 500 });
  const afterT = await settledTable(2_000, 60_000);

  const predicted = fromPlan(ops);
  const observed = fromTables(keyed(before), keyed(afterT));
  assert.deepEqual(observed, predicted, `plan:\n${ops.map((o) => o.text).join('\n')}\nbefore:\n${before.join('\n')}\nafter:\n${afterT.join('\n')}`);
  assert.deepEqual(observed, [
    'add dest TCP 10.30.0.1:80|192.168.40.6:80',
    'add service TCP 10.30.0.4:80',
    'del dest TCP 10.30.0.1:80|192.168.40.2:80',
    'del service TCP 10.30.0.2:80',
    'edit dest TCP 10.30.0.1:80|192.168.40.1:80',
    'edit service UDP 10.30.0.3:53',
  ]);
  assert.equal(await d.stop(), 0);
});
