// ha_suspend in the production checker child: a virtual server's checkers run only while its address is on this
// host (keepalived's checker process follows addresses over netlink, update_checker_activity). In its own network
// namespace, with a MISC_CHECK that counts its runs: none while 10.99.0.1 is absent; runs once it is added to lo;
// still runs after a SIGHUP reload (the new engine starts from the known addresses, not from none); stops again
// once the address is removed. Before this test, nothing told the production checker child its addresses, so an
// ha_suspend virtual server was never checked at all.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from '../helpers/root.js';
import { sleep } from '../helpers/lab.js';
import { netnsDaemonFixture, waitForCondition } from '../helpers/process.js';

const skip = needsRoot();
const fx = netnsDaemonFixture('kths');
const { ns, dir } = fx;

after(() => fx.tearDown());


test('ha_suspend: checks run only while the virtual server address is local, across a reload', { skip }, async () => {
  fx.setUp();
  const runs = join(dir, 'runs');
  writeFileSync(join(dir, 'misc.sh'), `#!/bin/sh\necho run >> ${runs}\nexit 0\n`);
  chmodSync(join(dir, 'misc.sh'), 0o755);
  writeFileSync(join(dir, 'keepalived.conf'), `
global_defs {
  router_id kthasuspend
}
virtual_server 10.99.0.1 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  ha_suspend
  real_server 10.99.1.1 80 {
    weight 1
    MISC_CHECK {
      misc_path "${dir}/misc.sh"
      misc_timeout 5
    }
  }
}
`);
  const { proc: daemon, log: getLog } = fx.start();
  const count = () => (existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').filter(Boolean).length : 0);

  await waitForCondition('the checker child to start', () => /Healthcheck: 1 virtual server/.test(getLog()), 60_000, getLog);
  // Suspended: several delay_loops pass without a run.
  await sleep(4000);
  assert.equal(count(), 0, `a check ran while 10.99.0.1 was not local; log:\n${getLog().slice(-3000)}`);

  execFileSync('ip', ['-n', ns, 'addr', 'add', '10.99.0.1/32', 'dev', 'lo']);
  await waitForCondition('the check to run once the address is local', () => count() >= 2, 30_000, getLog);

  // A reload keeps the known addresses: the new engine checks without waiting for another address event.
  const before = count();
  daemon.kill('SIGHUP');
  await waitForCondition('the reload', () => /Healthcheck: reloaded/.test(getLog()), 30_000, getLog);
  await waitForCondition('checks after the reload', () => count() >= before + 3, 30_000, getLog);

  execFileSync('ip', ['-n', ns, 'addr', 'del', '10.99.0.1/32', 'dev', 'lo']);
  await sleep(2500); // a run already started may still finish
  const settled = count();
  await sleep(4000);
  assert.equal(count(), settled, `checks kept running after 10.99.0.1 was removed; log:\n${getLog().slice(-3000)}`);

  const exited = new Promise<number | null>((r) => daemon.once('exit', (c) => r(c)));
  daemon.kill('SIGTERM');
  assert.equal(await exited, 0, getLog().slice(-3000));
});
