// FILE_CHECK in the running daemon on this IPVS-less host: values written into a track_file flip real servers down
// and up (notify_down / notify_up), through the checker child's inotify watch. Keepalived cannot be the control
// here: its checker process stops when IPVS cannot be initialised, and this kernel has no IPVS (the qemu guest
// has). Runs in its own network namespace; scaffolding as checker-no-ipvs.test.ts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from '../helpers/root.js';
import { netnsDaemonFixture, waitForCondition } from '../helpers/process.js';
import { ipvsUnavailable } from '../helpers/ipvs.js';

const hasIpvs = (await ipvsUnavailable()) === false; // false is the expected case on this host
const skip = needsRoot() || (hasIpvs ? 'this kernel has IPVS (this test watches the no-IPVS path)' : false);

const fx = netnsDaemonFixture('ktfc');
const { dir } = fx;
const waitFor = waitForCondition;

after(() => fx.tearDown());

test('FILE_CHECK: writing values into the track files takes real servers down and up', { skip, timeout: 120_000 }, async () => {
  fx.setUp();
  const notifyLog = join(dir, 'notify.log');
  const fa = join(dir, 'a.val');
  const fb = join(dir, 'b.val');
  writeFileSync(join(dir, 'notify.sh'), `#!/bin/sh\necho "$*" >> ${notifyLog}\n`);
  chmodSync(join(dir, 'notify.sh'), 0o755);
  writeFileSync(fa, '0\n');
  writeFileSync(fb, '2\n');
  // a: weight 0 (any non-zero value is a fault); b: the checker's own weight 1 over the track_file's 0 (a fault only
  // at INT32_MIN; -254, the VRRP fault, is not one for a checker).
  writeFileSync(join(dir, 'keepalived.conf'), `
global_defs {
  router_id ktfilecheck
}
track_file fa {
  file ${fa}
  weight 0
}
track_file fb {
  file ${fb}
  weight 0
}
virtual_server 10.99.0.1 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.99.1.1 80 {
    weight 1
    notify_up "${dir}/notify.sh UP a"
    notify_down "${dir}/notify.sh DOWN a"
    FILE_CHECK {
      track_file fa
    }
  }
  real_server 10.99.1.2 80 {
    weight 1
    notify_up "${dir}/notify.sh UP b"
    notify_down "${dir}/notify.sh DOWN b"
    FILE_CHECK {
      track_file fb
      weight 1
    }
  }
}
`);
  const { proc: daemon, log: getLog } = fx.start();
  const notifies = () => (existsSync(notifyLog) ? readFileSync(notifyLog, 'utf8').split('\n').filter(Boolean) : []);
  const count = (line: string) => notifies().filter((l) => l === line).length;

  await waitFor('the checker child up', () => /Healthcheck: 1 virtual server/.test(getLog()), 60_000, getLog);
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(notifies(), [], 'both start up (a holds 0, b holds 2 × 1): no notify');

  // a: a non-zero value with weight 0 is a fault; 0 again is up.
  writeFileSync(fa, '1\n');
  await waitFor('DOWN a', () => count('DOWN a') === 1, 20_000, getLog);
  writeFileSync(fa, '0\n');
  await waitFor('UP a', () => count('UP a') === 1, 20_000, getLog);
  // A file replaced by rename (IN_MOVED_TO) is followed too; hex as strtol reads it.
  writeFileSync(`${fa}.tmp`, '0x10\n');
  renameSync(`${fa}.tmp`, fa);
  await waitFor('DOWN a after a rename', () => count('DOWN a') === 2, 20_000, getLog);
  // A deleted file reads as 0.
  unlinkSync(fa);
  await waitFor('UP a after the file is deleted', () => count('UP a') === 2, 20_000, getLog);

  // b: -254 only lowers the weight; INT32_MIN is the fault; a positive value brings it back.
  writeFileSync(fb, '-254\n');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(count('DOWN b'), 0, `-254 is not a checker fault; notifies: ${notifies().join(', ')}`);
  writeFileSync(fb, '-2147483648\n');
  await waitFor('DOWN b', () => count('DOWN b') === 1, 20_000, getLog);
  // Out of range (beyond INT32_MAX + 1): keepalived ignores it, the value stays.
  writeFileSync(fb, '99999999999\n');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(count('UP b'), 0, 'an out-of-range value is ignored');
  writeFileSync(fb, '3\n');
  await waitFor('UP b', () => count('UP b') === 1, 20_000, getLog);

  assert.equal(daemon.exitCode, null, `the daemon exited; log:\n${getLog().slice(-3000)}`);
  assert.doesNotMatch(getLog(), /Starting Healthcheck child process[\s\S]*Starting Healthcheck child process/, 'the checker child was not respawned');
  assert.deepEqual(notifies(), ['DOWN a', 'UP a', 'DOWN a', 'UP a', 'DOWN b', 'UP b']);
  const exited = new Promise<number | null>((r) => daemon.once('exit', (c) => r(c)));
  daemon.kill('SIGTERM');
  assert.equal(await exited, 0, getLog().slice(-3000));
});

