// Guest-only (needs IPVS, which this host's kernel lacks): the checker rows of test/netns/script-users.test.ts with
// Debian's keepalived 2.2.7 as the control. One checker-only keepalived.conf (`enable_script_security`,
// `script_user nobody`, root-owned scripts in a root-owned 0755 directory) run by keepalived and then by
// keepalived-ts: the uid, gid and `id -G` of the MISC_CHECK script and of notify_down / notify_up and quorum_down /
// quorum_up when its exit code flips, and a group-writable MISC_CHECK set to `user root` that neither daemon runs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonTestUnavailable, shell, startDaemon, type RunningDaemon } from './daemon-lib.js';
import { sleep, waitFor } from '../../lab/lan.js';
import { scriptUserFixture } from '../../helpers/script-user-fixture.js';

const unavailable = await daemonTestUnavailable(true);
const dirs: string[] = [];
const running: RunningDaemon[] = [];

after(async () => {
  for (const d of running) await d.stop(10_000).catch(() => undefined);
  try { shell('ipvsadm -C 2>/dev/null'); } catch { /* nothing */ }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup(): { dir: string; out: string; conf: string } {
  const { dir, out } = scriptUserFixture('/tmp/ktsuvm-');
  dirs.push(dir);
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(conf, `global_defs {
  router_id ktsuvm
  enable_script_security
  script_user nobody
}
virtual_server 10.41.0.100 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  quorum 2
  quorum_up "${dir}/id.sh qup"
  quorum_down "${dir}/id.sh qdown"
  real_server 10.41.0.2 80 {
    weight 1
    notify_up "${dir}/id.sh up"
    notify_down "${dir}/id.sh down"
    MISC_CHECK {
      misc_path "${dir}/misc.sh"
      misc_timeout 5
    }
  }
  real_server 10.41.0.3 80 {
    weight 1
    MISC_CHECK {
      misc_path "${dir}/gw.sh misc"
      user root
    }
  }
}
`);
  return { dir, out, conf };
}

async function measure(which: 'keepalived' | 'keepalived-ts'): Promise<{ rows: Record<string, string | undefined>; all: string[]; log: string }> {
  const s = setup();
  const lines = (): string[] => (existsSync(join(s.out, 'log')) ? readFileSync(join(s.out, 'log'), 'utf8').split('\n').filter(Boolean) : []);
  const row = (what: string): string | undefined => lines().find((l) => l.startsWith(`${what} `))?.slice(what.length + 1);
  const d = startDaemon(which, s.conf, ['-D']);
  running.push(d);
  const fail = (e: Error) => { throw new Error(`${which}: ${e.message}\nscripts:\n${lines().join('\n')}\nlog:\n${d.log().slice(-3000)}`); };
  await waitFor(() => row('misc') !== undefined, { what: `${which}: MISC_CHECK run`, timeoutMs: 60_000, intervalMs: 250 }).catch(fail);
  await waitFor(() => row('down') !== undefined, { what: `${which}: notify_down`, timeoutMs: 60_000, intervalMs: 250 }).catch(fail);
  writeFileSync(join(s.out, 'code'), '0\n');
  await waitFor(() => row('up') !== undefined, { what: `${which}: notify_up`, timeoutMs: 60_000, intervalMs: 250 }).catch(fail);
  await waitFor(() => row('qdown') !== undefined && row('qup') !== undefined, { what: `${which}: quorum_down and quorum_up`, timeoutMs: 60_000, intervalMs: 250 }).catch(fail);
  await sleep(3000);
  const log = d.log();
  assert.equal(await d.stop(), 0, `${which} did not stop cleanly:\n${log.slice(-3000)}`);
  return { rows: { misc: row('misc'), down: row('down'), up: row('up'), qdown: row('qdown'), qup: row('qup') }, all: lines(), log };
}

const TITLE = 'MISC_CHECK, notify_up/down and quorum_up/down run as script_user nobody, an insecure MISC_CHECK never: keepalived-ts as keepalived 2.2.7';
test(TITLE, { skip: unavailable, timeout: 300_000 }, async () => {
  const ka = await measure('keepalived');
  const kt = await measure('keepalived-ts');
  const table = ['| script | keepalived 2.2.7 | keepalived-ts |'];
  for (const k of ['misc', 'down', 'up', 'qdown', 'qup']) table.push(`| ${k} | ${ka.rows[k]} | ${kt.rows[k]} |`);
  table.push(`| group-writable MISC_CHECK as root: runs | ${ka.all.filter((l) => l.startsWith('gw ')).length} | ${kt.all.filter((l) => l.startsWith('gw ')).length} |`);
  console.log(table.join('\n'));
  const NOBODY = 'uid=65534 gid=65534 groups=65534 internal=0';
  for (const k of ['misc', 'down', 'up', 'qdown', 'qup']) {
    assert.equal(ka.rows[k], NOBODY, `keepalived's ${k}`);
    assert.equal(kt.rows[k], ka.rows[k], `keepalived-ts's ${k}`);
  }
  assert.deepEqual(ka.all.filter((l) => l.startsWith('gw ')), []);
  assert.deepEqual(kt.all.filter((l) => l.startsWith('gw ')), []);
  assert.match(ka.log, /Disabling misc script .*gw\.sh.* due to insecure/);
  assert.match(kt.log, /Disabling misc script .*gw\.sh misc due to insecure/);
});
