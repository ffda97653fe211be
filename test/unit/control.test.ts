// The control interface (issue 12): the authorisation rule, the dispatcher (table, bad requests, counting, the log
// line with the caller) and the ctl CLI's words, pure; then the real thing: the status listener's unix socket with
// POST /ctl, called by the `keepalived-ts ctl` CLI as root and as a real non-root user (nobody, through
// SO_PEERCRED), refused for nobody unless --ctl-allow-uid names it, and counted in /metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { authorise, ControlCounters, dispatchControl, registerControlCommand, CONTROL_COMMANDS, DEFAULT_CONTROL_POLICY, type ControlEnv, type ControlPolicy } from '../../src/daemon/control.js';
import '../../src/daemon/control-vrrp.js';
import { parseCtlArgv, runCtl } from '../../src/daemon/ctl-cli.js';
import { startStatusServer, stopStatusServer, type StatusDocument } from '../../src/daemon/status.js';
import { formatMetrics } from '../../src/daemon/metrics.js';
import { createLogger } from '../../src/daemon/log.js';
import { getOverUnixSocket } from '../helpers/unix-http.js';

const NOBODY = 65534;

test('authorise (pure): unix root yes, other uids only when allowed by uid or primary gid; TCP only when allowed and from loopback', () => {
  const u = (uid: number, gid = uid) => ({ kind: 'unix' as const, pid: 1, uid, gid });
  const t = (address: string) => ({ kind: 'tcp' as const, address, port: 40000 });
  const p = DEFAULT_CONTROL_POLICY;
  assert.equal(authorise(u(0), p).ok, true);
  assert.equal(authorise(u(1000), p).ok, false);
  assert.match((authorise(u(1000), p) as { why: string }).why, /uid 1000 .*only root/);
  assert.equal(authorise(u(1000), { ...p, allowUids: [1000] }).ok, true);
  assert.equal(authorise(u(1000, 4), { ...p, allowGids: [4] }).ok, true);
  assert.equal(authorise(t('127.0.0.1'), p).ok, false);
  const tcp: ControlPolicy = { ...p, allowTcp: true };
  assert.equal(authorise(t('127.0.0.1'), tcp).ok, true);
  assert.equal(authorise(t('::1'), tcp).ok, true);
  assert.equal(authorise(t('::ffff:127.0.0.1'), tcp).ok, true);
  assert.equal(authorise(t('10.0.0.1'), tcp).ok, false);
});

test('parseCtlArgv (pure): ctl options before the command, positional words into _, --name VALUE and --flag into args', () => {
  assert.deepEqual(parseCtlArgv(['--socket', '/x.sock', 'switchover', 'VI_1', '--hold', '30']), {
    target: { socketPath: '/x.sock' }, json: false, command: 'switchover', args: { _: ['VI_1'], hold: '30' },
  });
  assert.deepEqual(parseCtlArgv(['--connect=127.0.0.1:9660', 'maintenance', 'on', '--json']), {
    target: { host: '127.0.0.1', port: 9660 }, json: true, command: 'maintenance', args: { _: ['on'] },
  });
  assert.deepEqual(parseCtlArgv(['x', '--force']), { target: { socketPath: '/run/keepalived-ts.sock' }, json: false, command: 'x', args: { _: [], force: true } });
  assert.ok('error' in parseCtlArgv([]));
  assert.ok('error' in parseCtlArgv(['--connect', 'nope', 'status']));
  assert.ok('help' in parseCtlArgv(['help']));
});

const doc = (): StatusDocument => ({
  version: 'test', pid: process.pid, startedAt: new Date(0).toISOString(), children: [], reloads: { ok: 0, refused: 0 },
  vrrp: [], scripts: [], checkers: [], keepalivedJson: [],
});

function logCapture() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.setEncoding('utf8').on('data', (c: string) => lines.push(...c.split('\n').filter(Boolean)));
  return { log: createLogger({ stream, json: true }), lines };
}

test('dispatchControl: unknown command and bad JSON are bad requests, a throwing handler is an error reply, each is counted and logged with the caller', async () => {
  const { log, lines } = logCapture();
  const counters = new ControlCounters();
  const env: ControlEnv = { forward: async () => ({ ok: true, message: 'x' }), status: async () => doc() };
  const commands = new Map(CONTROL_COMMANDS);
  commands.set('boom', { name: 'boom', usage: 'boom', handler: async () => { throw new Error('kaput'); } });
  const o = { policy: DEFAULT_CONTROL_POLICY, env, log, counters, commands };
  const root = { kind: 'unix' as const, pid: 4242, uid: 0, gid: 0 };
  const r1 = await dispatchControl('{"command":"nope"}', root, o);
  assert.equal(r1.refusal, 'bad-request');
  assert.match(r1.message, /unknown command 'nope': try .*status/);
  assert.equal((await dispatchControl('not json', root, o)).refusal, 'bad-request');
  const r3 = await dispatchControl('{"command":"boom"}', root, o);
  assert.equal(r3.ok, false);
  assert.match(r3.message, /kaput/);
  assert.equal((await dispatchControl('{"command":"status"}', root, o)).ok, true);
  assert.equal((await dispatchControl('{"command":"status"}', { ...root, uid: 1000, gid: 1000 }, o)).refusal, 'forbidden');
  assert.deepEqual(counters.list().sort((a, b) => a.command.localeCompare(b.command) || a.result.localeCompare(b.result)), [
    { command: 'boom', result: 'error', count: 1 },
    { command: 'status', result: 'forbidden', count: 1 },
    { command: 'status', result: 'ok', count: 1 },
    { command: 'unknown', result: 'bad_request', count: 2 },
  ]);
  await new Promise((r) => setImmediate(r));
  const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const ok = logged.find((l) => l['ctl'] === 'status' && l['result'] === 'ok')!;
  assert.equal(ok['peerPid'], 4242);
  assert.equal(ok['peerUid'], 0);
  assert.match(String(ok['msg']), /control: status .*from pid 4242 uid 0 gid 0: ok/);
});

test('the VRRP commands check their words and forward normalised args to the VRRP process (switchover waits longer)', async () => {
  const { log } = logCapture();
  const sent: unknown[] = [];
  const env: ControlEnv = {
    forward: async (child, command, args, timeoutMs) => { sent.push([child, command, args, timeoutMs]); return { ok: true, message: 'done' }; },
    status: async () => doc(),
  };
  const o = { policy: DEFAULT_CONTROL_POLICY, env, log, counters: new ControlCounters() };
  const root = { kind: 'unix' as const, pid: 1, uid: 0, gid: 0 };
  const call = (command: string, args: object) => dispatchControl(JSON.stringify({ command, args }), root, o);
  assert.equal((await call('switchover', { _: [] })).refusal, 'bad-request');
  assert.match((await call('switchover', { _: ['VI_1'], hold: 'soon' })).message, /--hold soon: expected a positive number of seconds/);
  assert.equal((await call('maintenance', { _: ['maybe'] })).refusal, 'bad-request');
  assert.equal((await call('resume', {})).refusal, 'bad-request');
  assert.deepEqual(sent, []);
  await call('switchover', { _: ['VI_1'], hold: '2.5', force: true });
  await call('switchover', { _: ['G1'] });
  await call('resume', { _: ['G1'] });
  await call('maintenance', { _: ['on'] });
  assert.deepEqual(sent, [
    ['vrrp', 'switchover', { target: 'VI_1', holdMs: 2500, force: true }, 30_000],
    ['vrrp', 'switchover', { target: 'G1' }, 30_000],
    ['vrrp', 'resume', { target: 'G1' }, undefined],
    ['vrrp', 'maintenance', { on: true }, undefined],
  ]);
});

test('registerControlCommand refuses a second command of the same name', () => {
  assert.throws(() => registerControlCommand({ name: 'status', usage: 'status', handler: async () => ({ ok: true, message: '' }) }), /twice/);
});

/** Runs the real CLI (src/cli.ts under tsx) as `uid`, returns its exit code and output. */
function ctlAs(uid: number, socket: string, words: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../src/cli.ts'), 'ctl', '--socket', socket, ...words], {
      uid, gid: uid, cwd: join(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'], HOME: '/' },
    });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    p.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

test('POST /ctl on the unix socket: root may control, nobody (a real non-root user, by SO_PEERCRED) is refused with 403 unless allowed; counted in /metrics', async () => {
  const dir = mkdtempSync('/tmp/kt-ctl-');
  chmodSync(dir, 0o755);
  const socket = join(dir, 'ctl.sock');
  const { log, lines } = logCapture();
  const counters = new ControlCounters();
  let policy: ControlPolicy = DEFAULT_CONTROL_POLICY;
  const vrrp = [{ name: 'VI_1', state: 'MASTER', priority: 150, effectivePriority: 150, interface: 'eth0', vrid: 51, faults: [] }] as unknown as StatusDocument['vrrp'];
  const collect = async (): Promise<StatusDocument> => ({ ...doc(), vrrp, ctl: { commands: counters.list() } });
  const env: ControlEnv = { forward: async () => ({ ok: false, message: 'no child here' }), status: collect };
  const server = await startStatusServer({ kind: 'unix', path: socket }, collect, { cacheMs: 0 }, (body, caller) => dispatchControl(body, caller, { policy, env, log, counters }));
  chmodSync(socket, 0o666); // so that nobody reaches the dispatcher: the rule under test is ours, not the file mode
  try {
    const asRoot = await ctlAs(0, socket, ['status']);
    assert.equal(asRoot.code, 0, asRoot.err);
    assert.equal(asRoot.out, 'VI_1 MASTER prio 150 eth0 vrid 51\n');
    const json = await ctlAs(0, socket, ['status', '--json']);
    assert.deepEqual(JSON.parse(json.out), { ok: true, message: 'VI_1 MASTER prio 150 eth0 vrid 51', maintenance: false, instances: [{ name: 'VI_1', state: 'MASTER' }] });

    const asNobody = await ctlAs(NOBODY, socket, ['status']);
    assert.equal(asNobody.code, 1, 'refused: exit 1');
    assert.match(asNobody.err, /uid 65534 .* may not control/);
    const unknown = await ctlAs(0, socket, ['frobnicate']);
    assert.equal(unknown.code, 2, 'bad request: exit 2');
    assert.match(unknown.err, /unknown command 'frobnicate'/);

    policy = { ...policy, allowUids: [NOBODY] };
    const allowed = await ctlAs(NOBODY, socket, ['status']);
    assert.equal(allowed.code, 0, allowed.err);

    const get = await getOverUnixSocket(socket, '/ctl');
    assert.equal(get.status, 405, 'GET /ctl is not a command');
    const metrics = formatMetrics({ ...(await collect()), vrrp: [] });
    assert.match(metrics, /keepalived_ts_ctl_commands_total\{command="status",result="ok"\} 3/);
    assert.match(metrics, /keepalived_ts_ctl_commands_total\{command="status",result="forbidden"\} 1/);
    assert.match(metrics, /keepalived_ts_ctl_commands_total\{command="unknown",result="bad_request"\} 1/);
    await new Promise((r) => setImmediate(r));
    const nobodyLine = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['result'] === 'forbidden')!;
    assert.equal(nobodyLine['peerUid'], NOBODY);
    assert.ok(Number(nobodyLine['peerPid']) > 1, 'the caller pid is logged');
  } finally {
    await stopStatusServer(server, { kind: 'unix', path: socket });
    rmSync(dir, { recursive: true, force: true });
  }
  const gone = await runCtl(['--socket', socket, 'status'], { out: () => undefined, err: () => undefined });
  assert.equal(gone, 2, 'unreachable: exit 2');
});

test('POST /ctl over loopback TCP: refused (403, exit 1) unless --ctl-allow-tcp; then the TCP peer is the caller', async () => {
  const { log, lines } = logCapture();
  const counters = new ControlCounters();
  let policy: ControlPolicy = DEFAULT_CONTROL_POLICY;
  const env: ControlEnv = { forward: async () => ({ ok: false, message: 'no child here' }), status: async () => doc() };
  const target = { kind: 'tcp' as const, host: '127.0.0.1', port: 0 };
  const server = await startStatusServer(target, async () => doc(), { cacheMs: 0 }, (body, caller) => dispatchControl(body, caller, { policy, env, log, counters }));
  const port = (server.address() as { port: number }).port;
  const io = () => { const o = { out: '', err: '' }; return { o, io: { out: (s: string) => { o.out += s; }, err: (s: string) => { o.err += s; } } }; };
  try {
    const a = io();
    assert.equal(await runCtl(['--connect', `127.0.0.1:${port}`, 'status'], a.io), 1);
    assert.match(a.o.err, /control over TCP is off/);
    policy = { ...policy, allowTcp: true };
    const b = io();
    assert.equal(await runCtl(['--connect', `127.0.0.1:${port}`, 'status'], b.io), 0, b.o.err);
    assert.equal(b.o.out, 'no VRRP instance\n');
    await new Promise((r) => setImmediate(r));
    const ok = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['result'] === 'ok')!;
    assert.equal(ok['peerAddress'], '127.0.0.1');
  } finally {
    await stopStatusServer(server, target);
  }
});
