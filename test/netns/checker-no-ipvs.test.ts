// On a kernel without IPVS (this host's), a checker-only keepalived.conf: keepalived-ts says once that no IPVS
// table is programmed, keeps running, and its health checks keep running (notify_down / notify_up scripts fire as
// a MISC_CHECK's exit code flips). Runs in its own network namespace.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from '../helpers/root.js';
import { netnsDaemonFixture, waitForCondition } from '../helpers/process.js';
import { ipvsUnavailable } from '../helpers/ipvs.js';

const hasIpvs = (await ipvsUnavailable()) === false; // false is the expected case on this host
const skip = needsRoot() || (hasIpvs ? 'this kernel has IPVS (the no-IPVS path cannot be shown here)' : false);

const fx = netnsDaemonFixture('ktni');
const { dir } = fx;

after(() => fx.tearDown());

const waitFor = waitForCondition;

test('no IPVS in the kernel: a checker-only config runs, says so once, and its checks keep running', { skip, timeout: 120_000 }, async () => {
  fx.setUp();
  const notifyLog = join(dir, 'notify.log');
  const code = join(dir, 'code');
  writeFileSync(join(dir, 'notify.sh'), `#!/bin/sh\necho "$*" >> ${notifyLog}\n`);
  writeFileSync(join(dir, 'misc.sh'), `#!/bin/sh\nexit $(cat ${code})\n`);
  chmodSync(join(dir, 'notify.sh'), 0o755);
  chmodSync(join(dir, 'misc.sh'), 0o755);
  writeFileSync(code, '0\n');
  writeFileSync(join(dir, 'keepalived.conf'), `
global_defs {
  router_id ktnoipvs
}
virtual_server 10.99.0.1 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.99.1.1 80 {
    weight 1
    notify_up "${dir}/notify.sh UP"
    notify_down "${dir}/notify.sh DOWN"
    MISC_CHECK {
      misc_path "${dir}/misc.sh"
      misc_timeout 5
    }
  }
}
`);
  const { proc: daemon, log: getLog } = fx.start();
  const notifies = () => (existsSync(notifyLog) ? readFileSync(notifyLog, 'utf8').split('\n').filter(Boolean) : []);

  await waitFor('the IPVS-unavailable message', () => /no IPVS table is programmed/.test(getLog()), 60_000, getLog);
  // The check flips: down, then up again — the checker child is alive and checking.
  writeFileSync(code, '1\n');
  await waitFor('notify_down', () => notifies().includes('DOWN'), 30_000, getLog);
  writeFileSync(code, '0\n');
  await waitFor('notify_up', () => notifies().includes('UP'), 30_000, getLog);
  // A few more check cycles: still running, no respawn, the message said once.
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(daemon.exitCode, null, `the daemon exited; log:\n${getLog().slice(-3000)}`);
  assert.equal(getLog().match(/no IPVS table is programmed/g)?.length, 1, getLog().slice(-3000));
  assert.doesNotMatch(getLog(), /Starting Healthcheck child process[\s\S]*Starting Healthcheck child process/, 'the checker child was not respawned');
  assert.doesNotMatch(getLog(), /IPVS: reconcile failed/);

  const exited = new Promise<number | null>((r) => daemon.once('exit', (c) => r(c)));
  daemon.kill('SIGTERM');
  assert.equal(await exited, 0, getLog().slice(-3000));
});
