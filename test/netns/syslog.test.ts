// Logs where keepalived's go: keepalived-ts in a network namespace sends its lines to a unix datagram socket this
// test binds (`--syslog-socket`, the place of /dev/log), and each datagram is checked as rsyslog/journald would parse
// it: priority = facility from -S × 8 + severity, glibc's timestamp, the keepalived ident of the process that logged
// (Keepalived_vrrp) with its pid, and keepalived's text. Debian's keepalived runs the same config in a namespace of
// its own; its "(VI_S) Entering … STATE" lines (console, -l) are the ones ours must equal. With --log-json the
// datagram carries pino's JSON with the instance, vrid and state as fields.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { netnsDaemonFixture, stopProcess, waitForCondition } from '../helpers/process.js';
import { ksock } from '../../src/net/ksock.js';
import { AF_UNIX, sockaddrUn } from '../../src/daemon/syslog.js';

const skip = needsRoot() || needsCommand('keepalived');
const ours = netnsDaemonFixture('ktsl');
const ka = netnsDaemonFixture('kasl');
let kaProc: ChildProcess | undefined;
after(async () => {
  await stopProcess(kaProc);
  await ours.tearDown();
  await ka.tearDown();
});

/** A bound unix datagram socket, read every 50 ms: the test's /dev/log. */
function syslogSink(path: string): { lines: string[]; close(): void } {
  const k = ksock();
  const fd = k.socket(AF_UNIX, 2, 0);
  k.bind(fd, sockaddrUn(path));
  const lines: string[] = [];
  const t = setInterval(() => {
    for (let m = k.recvmsg(fd, 8192); m; m = k.recvmsg(fd, 8192)) lines.push(m.data.toString('utf8'));
  }, 50);
  return { lines, close: () => { clearInterval(t); k.close(fd); } };
}

const config = (dir: string) => `
global_defs {
  router_id ktsyslog
}
vrrp_instance VI_S {
  interface vm0
  state BACKUP
  virtual_router_id 88
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.88.0.100/24
  }
}
# ${dir}
`;

function lan(ns: string): void {
  execFileSync('ip', ['-n', ns, 'link', 'add', 'vm0', 'type', 'veth', 'peer', 'name', 'vm1']);
  execFileSync('ip', ['-n', ns, 'addr', 'add', '10.88.0.1/24', 'dev', 'vm0']);
  for (const l of ['vm0', 'vm1']) execFileSync('ip', ['-n', ns, 'link', 'set', l, 'up']);
}

const stateLines = (text: string) => text.split('\n').map((l) => /(\(VI_S\) Entering \w+ STATE.*)$/.exec(l)?.[1]).filter((l): l is string => !!l);

test('syslog datagrams: priority from -S, ident and pid of the VRRP child, keepalived\'s state lines', { skip }, async () => {
  // keepalived first, the reference for the same event: start as BACKUP, no peer, MASTER after the down timer.
  ka.setUp();
  lan(ka.ns);
  writeFileSync(join(ka.dir, 'keepalived.conf'), config(ka.dir));
  let kaLog = '';
  kaProc = spawn('ip', ['netns', 'exec', ka.ns, 'keepalived', '-n', '-l', '-G', '-f', join(ka.dir, 'keepalived.conf'),
    '-p', join(ka.dir, 'k.pid'), '-r', join(ka.dir, 'v.pid'), '-c', join(ka.dir, 'c.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  kaProc.stdout!.on('data', (d) => (kaLog += d));
  kaProc.stderr!.on('data', (d) => (kaLog += d));
  await waitForCondition('keepalived to become MASTER', () => /\(VI_S\) Entering MASTER STATE/.test(kaLog), 60_000, () => kaLog);
  await stopProcess(kaProc);

  ours.setUp();
  lan(ours.ns);
  writeFileSync(join(ours.dir, 'keepalived.conf'), config(ours.dir));
  const sink = syslogSink(join(ours.dir, 'log.sock'));
  try {
    const { proc, log } = ours.start(['-S', '3', '--syslog-socket', join(ours.dir, 'log.sock')]);
    const all = () => sink.lines.join('\n');
    await waitForCondition('MASTER in the syslog datagrams', () => /\(VI_S\) Entering MASTER STATE/.test(all()), 60_000, () => `${all()}\n--- console ---\n${log()}`);
    const vrrpPid = Number(readFileSync(join(ours.dir, 'v.pid'), 'utf8').trim());
    const master = sink.lines.find((l) => l.includes('(VI_S) Entering MASTER STATE'))!;
    // local3 (19) × 8 + LOG_INFO (6)
    assert.match(master, new RegExp(`^<158>[A-Z][a-z]{2} [ \\d]\\d \\d{2}:\\d{2}:\\d{2} Keepalived_vrrp\\[${vrrpPid}\\]: \\(VI_S\\) Entering MASTER STATE$`));
    // The parent logs under its own ident and pid (`ip netns exec` execs node: the spawned pid is the parent's).
    assert.ok(sink.lines.some((l) => new RegExp(`^<\\d+>.{15} Keepalived\\[${proc.pid}\\]: `).test(l)), all());
    assert.ok(sink.lines.every((l) => /^<(15[2-9])>/.test(l)), `every line has facility local3:\n${all()}`);
    assert.deepEqual(stateLines(all()), stateLines(kaLog), `ours (syslog):\n${all()}\nkeepalived (console):\n${kaLog}`);
    await stopProcess(proc);

    // --log-json: the same datagram framing, pino's JSON as the message, the fields for machines.
    sink.lines.length = 0;
    const json = ours.start(['--log-json', '--syslog-socket', join(ours.dir, 'log.sock')]);
    await waitForCondition('MASTER (JSON) in the syslog datagrams', () => /Entering MASTER STATE/.test(all()), 60_000, () => `${all()}\n--- console ---\n${json.log()}`);
    const line = sink.lines.find((l) => l.includes('Entering MASTER STATE'))!;
    // No -S: LOG_DAEMON (3) × 8 + LOG_INFO.
    const m = /^<30>.{15} Keepalived_vrrp\[\d+\]: (\{.*\})$/.exec(line);
    assert.ok(m, line);
    const o = JSON.parse(m[1]!) as Record<string, unknown>;
    assert.equal(o['msg'], '(VI_S) Entering MASTER STATE');
    assert.equal(o['instance'], 'VI_S');
    assert.equal(o['vrid'], 88);
    assert.equal(o['state'], 'MASTER');
    await stopProcess(json.proc);
  } finally {
    sink.close();
  }
});
