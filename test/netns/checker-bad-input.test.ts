// Bad checker input never stops the daemon (issue 9). One keepalived.conf with a VRRP instance and three real
// servers, in its own network namespace (this host has no IPVS, so the checks run without a table):
// - HTTP_GET `regex "(?i)status: ok"` (valid PCRE; used to throw at start and stop the whole daemon): runs, and
//   the (?i) is honoured: the real server goes DOWN on "status: fail" and UP on "Status: OK";
// - HTTP_GET `regex "(?>status): ok"` (an atomic group, which JavaScript cannot express): `-t` reports it at its line and
//   column naming the construct, and the daemon starts without that checker;
// - TCP_CHECK `delay_loop 3000000` (above Node's 2^31-1 ms timer limit): one probe, not one per millisecond.
// The VRRP instance stays MASTER with its VIP throughout and SIGTERM stops everything cleanly.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { needsRoot } from '../helpers/root.js';
import { stopProcess, waitForCondition } from '../helpers/process.js';

const skip = needsRoot();
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ns = `ktbad${Math.random().toString(36).slice(2, 6)}`;
const dir = mkdtempSync('/tmp/ktbadinput-');
const procs: ChildProcess[] = [];

after(async () => {
  for (const p of procs.reverse()) await stopProcess(p);
  try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* not created */ }
  rmSync(dir, { recursive: true, force: true });
});

const waitFor = waitForCondition;

/** HTTP on 127.0.0.1:8080 answering the body file; TCP on 127.0.0.1:8081 counting connections in a file. */
const SERVERS = `
const http = require('node:http'), net = require('node:net'), fs = require('node:fs');
const [body, count] = process.argv.slice(1);
http.createServer((q, r) => r.end(fs.readFileSync(body))).listen(8080, '127.0.0.1');
let n = 0;
net.createServer((s) => { fs.writeFileSync(count, String(++n)); s.end(); }).listen(8081, '127.0.0.1', () => console.log('listening'));
`;

test('a PCRE (?i) regex runs, an untranslatable one is reported and skipped, a 3,000,000 s delay_loop probes once; VRRP unaffected', { skip, timeout: 120_000 }, async () => {
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  // A veth pair inside the namespace (no dummy module on this kernel): d0 carries the VRRP instance.
  execFileSync('ip', ['-n', ns, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd0p']);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'd0p', 'up']);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'd0', 'up']);
  execFileSync('ip', ['-n', ns, 'addr', 'add', '10.98.0.1/24', 'dev', 'd0']);
  const body = join(dir, 'body');
  const count = join(dir, 'count');
  const notifyLog = join(dir, 'notify.log');
  writeFileSync(body, 'status: fail\n');
  writeFileSync(join(dir, 'notify.sh'), `#!/bin/sh\necho "$*" >> ${notifyLog}\n`);
  chmodSync(join(dir, 'notify.sh'), 0o755);
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(conf, `global_defs {
  router_id ktbad
  enable_script_security
  script_user root
}
vrrp_instance VI_1 {
  state MASTER
  interface d0
  virtual_router_id 51
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.98.0.100/24 dev d0
  }
}
virtual_server 10.98.0.1 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 127.0.0.1 8080 {
    notify_up "${dir}/notify.sh UP"
    notify_down "${dir}/notify.sh DOWN"
    HTTP_GET {
      url {
        path /health
        regex "(?i)status: ok"
      }
      connect_timeout 1
      retry 0
      delay_before_retry 1
    }
  }
  real_server 127.0.0.2 8080 {
    HTTP_GET {
      url {
        path /
        regex "(?>status): ok"
      }
    }
  }
  real_server 127.0.0.1 8081 {
    TCP_CHECK {
      delay_loop 3000000
      warmup 0
      connect_timeout 1
    }
  }
}
`);
  const cli = [process.execPath, '--import', 'tsx', join(repo, 'src', 'cli.ts')];

  // -t: the untranslatable regex is an error at its line and column, naming the construct; exit 5 like any error.
  let t = { code: 0, out: '' };
  try {
    execFileSync('ip', ['netns', 'exec', ns, ...cli, '-t', '-f', conf], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    t = { code: err.status, out: err.stdout + err.stderr };
  }
  assert.equal(t.code, 5, t.out);
  assert.match(t.out, /keepalived\.conf:38:15: error: regex "\(\?>status\): ok": atomic group/);
  assert.equal(t.out.match(/error:/g)?.length, 1, `only that error:\n${t.out}`);

  const servers = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVERS, body, count], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(servers);
  await new Promise<void>((r) => servers.stdout!.once('data', () => r()));

  const daemon = spawn('ip', ['netns', 'exec', ns, ...cli, '-n', '-l', '-f', conf, '-p', join(dir, 'k.pid'), '-r', join(dir, 'v.pid'), '-c', join(dir, 'c.pid')],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } });
  procs.push(daemon);
  let log = '';
  daemon.stdout!.on('data', (d) => { log += d; });
  daemon.stderr!.on('data', (d) => { log += d; });
  const getLog = () => log;
  const notifies = () => (existsSync(notifyLog) ? readFileSync(notifyLog, 'utf8').split('\n').filter(Boolean) : []);
  const vipPresent = () => execFileSync('ip', ['-n', ns, '-o', 'addr', 'show', 'dev', 'd0'], { encoding: 'utf8' }).includes('10.98.0.100/24');

  await waitFor('the VRRP instance to hold its VIP', vipPresent, 30_000, getLog);
  // "status: fail" does not match: DOWN; "Status: OK" matches case-insensitively: UP.
  await waitFor('notify_down (regex not matched)', () => notifies().includes('DOWN'), 30_000, getLog);
  writeFileSync(body, 'Status: OK\n');
  await waitFor('notify_up (the (?i) regex matched)', () => notifies().includes('UP'), 30_000, getLog);
  await waitFor('the TCP_CHECK probe', () => existsSync(count), 30_000, getLog);
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(readFileSync(count, 'utf8'), '1', 'delay_loop 3000000: exactly one TCP probe');
  assert.ok(vipPresent(), 'VRRP kept its VIP');
  assert.equal(daemon.exitCode, null, `the daemon exited; log:\n${log.slice(-3000)}`);
  assert.match(log, /regex "\(\?>status\): ok"/, 'the daemon logs the skipped checker');
  assert.doesNotMatch(log, /uncaught|unhandled|child process\(\d+\) (died|exited)/, log.slice(-3000));

  const exited = new Promise<number | null>((r) => daemon.once('exit', (c) => r(c)));
  daemon.kill('SIGTERM');
  assert.equal(await exited, 0, log.slice(-3000));
  assert.ok(!vipPresent(), 'VIP removed on stop');
});
