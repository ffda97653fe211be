// Who runs the scripts, beside Debian's keepalived 2.2.7 as the control on the same config (`enable_script_security`,
// `script_user nobody`, root-owned scripts in a root-owned 0755 directory): the uid, gid and `id -G` of a
// notify_master, a MISC_CHECK, notify_up / notify_down, quorum_up / quorum_down and lvs_notify_fifo_script; a
// group-writable script set to run as root (a vrrp_script, a notify_backup and a MISC_CHECK) is removed and never
// run; nothing internal to keepalived-ts is in a script's environment. Each daemon runs in its own network namespace
// with a veth pair.
//
// keepalived's checker process cannot run on this host: without IPVS in the kernel it exits with FATAL and takes the
// whole daemon down (measured: "IPVS: Can't initialize ipvs", "exited with permanent error FATAL"). So keepalived runs
// the same file with -P (VRRP only) and the checker rows have no keepalived control here; keepalived-ts's checker
// child runs without IPVS (test/netns/checker-no-ipvs.test.ts). The checker rows beside keepalived's own checker are
// in the qemu guest, which has IPVS: test/vm/guest/script-users.guest.ts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { waitForCondition } from '../helpers/process.js';
import { sleep } from '../helpers/lab.js';
import { scriptUserFixture } from '../helpers/script-user-fixture.js';

const skip = needsRoot() || needsCommand('keepalived');
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tag = Math.random().toString(36).slice(2, 6);
const namespaces: string[] = [];
const daemons: ChildProcess[] = [];
const dirs: string[] = [];

after(async () => {
  for (const d of daemons) {
    if (d.exitCode !== null || d.signalCode !== null) continue;
    const gone = new Promise((r) => d.once('exit', r));
    d.kill('SIGTERM');
    const t = setTimeout(() => d.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
  }
  for (const ns of namespaces) try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* gone */ }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Setup {
  dir: string;
  out: string;
  conf: string;
}

/** A root-owned 0755 directory with root-owned scripts; the output goes to a sticky 1777 directory beside it. */
function setup(): Setup {
  const { dir, out } = scriptUserFixture('/tmp/ktsu-');
  dirs.push(dir);
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(conf, `global_defs {
  router_id ktsu
  enable_script_security
  script_user nobody
  lvs_notify_fifo ${out}/lvs.fifo
  lvs_notify_fifo_script "${dir}/id.sh fifo"
}
vrrp_script chk_gw {
  script "${dir}/gw.sh track"
  interval 1
  user root
}
vrrp_instance VI_1 {
  state BACKUP
  interface ka0
  virtual_router_id 77
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.77.0.100/24
  }
  track_script {
    chk_gw
  }
  notify_master "${dir}/id.sh master"
  notify_backup "${dir}/gw.sh notify" root
}
virtual_server 10.77.0.100 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  quorum 2
  quorum_up "${dir}/id.sh qup"
  quorum_down "${dir}/id.sh qdown"
  real_server 10.77.0.2 80 {
    weight 1
    notify_up "${dir}/id.sh up"
    notify_down "${dir}/id.sh down"
    MISC_CHECK {
      misc_path "${dir}/misc.sh"
      misc_timeout 5
    }
  }
  real_server 10.77.0.3 80 {
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

function netns(): string {
  const ns = `ktsu${tag}${namespaces.length}`;
  namespaces.push(ns);
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  execFileSync('ip', ['-n', ns, 'link', 'add', 'ka0', 'type', 'veth', 'peer', 'name', 'ka1']);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'ka0', 'up']);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'ka1', 'up']);
  execFileSync('ip', ['-n', ns, 'addr', 'add', '10.77.0.1/24', 'dev', 'ka0']);
  return ns;
}

interface Running {
  log: () => string;
  stop: () => Promise<number | null>;
  proc: ChildProcess;
}

function start(kind: 'keepalived' | 'keepalived-ts', s: Setup, extra: string[] = []): Running {
  const ns = netns();
  const files = ['-p', join(s.dir, `${kind}.pid`), '-r', join(s.dir, `${kind}-vrrp.pid`), '-c', join(s.dir, `${kind}-check.pid`)];
  const cmd = kind === 'keepalived'
    ? ['keepalived', '-n', '-l', '-D', ...extra, '-f', s.conf, ...files]
    : [process.execPath, '--import', 'tsx', join(repo, 'src', 'cli.ts'), '-n', '-l', '-D', ...extra, '-f', s.conf, ...files];
  const proc = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: s.dir }, cwd: repo });
  daemons.push(proc);
  let log = '';
  proc.stdout!.on('data', (d) => { log += d; });
  proc.stderr!.on('data', (d) => { log += d; });
  return {
    proc,
    log: () => log,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

const lines = (s: Setup): string[] => (existsSync(join(s.out, 'log')) ? readFileSync(join(s.out, 'log'), 'utf8').split('\n').filter(Boolean) : []);
const row = (s: Setup, what: string): string | undefined => lines(s).find((l) => l.startsWith(`${what} `));
/** "uid=… gid=… groups=… internal=…" of the first run of a kind. */
const who = (s: Setup, what: string): string | undefined => row(s, what)?.slice(what.length + 1);

test('scripts run as script_user nobody, insecure ones never run: keepalived-ts beside keepalived 2.2.7', { skip, timeout: 180_000 }, async () => {
  const NOBODY = 'uid=65534 gid=65534 groups=65534 internal=0';

  // The control: keepalived, VRRP only (its checker process cannot run without IPVS on this host, see above).
  const ka = setup();
  const k = start('keepalived', ka, ['-P']);
  await waitForCondition('keepalived notify_master', () => row(ka, 'master') !== undefined, 30_000, k.log);
  await sleep(2500); // a few more track-script intervals
  assert.equal(await k.stop(), 0, k.log().slice(-3000));
  const kaMaster = who(ka, 'master');
  const kaGw = lines(ka).filter((l) => l.startsWith('gw '));

  // keepalived-ts on the same file, both children.
  const kt = setup();
  const t = start('keepalived-ts', kt);
  await waitForCondition('keepalived-ts notify_master', () => row(kt, 'master') !== undefined, 30_000, t.log);
  await waitForCondition('keepalived-ts MISC_CHECK run', () => row(kt, 'misc') !== undefined, 30_000, t.log);
  await waitForCondition('keepalived-ts notify_down (the MISC_CHECK exits 1)', () => row(kt, 'down') !== undefined, 30_000, t.log);
  writeFileSync(join(kt.out, 'code'), '0\n');
  await waitForCondition('keepalived-ts notify_up (the MISC_CHECK exits 0)', () => row(kt, 'up') !== undefined, 30_000, t.log);
  await waitForCondition('keepalived-ts lvs_notify_fifo_script', () => row(kt, 'fifo') !== undefined, 30_000, t.log);
  await waitForCondition('keepalived-ts quorum_down and quorum_up', () => row(kt, 'qdown') !== undefined && row(kt, 'qup') !== undefined, 30_000, t.log);
  await sleep(2500);
  const ktLog = t.log();
  assert.equal(await t.stop(), 0, ktLog.slice(-3000));
  const ktGw = lines(kt).filter((l) => l.startsWith('gw '));

  const table = [
    ['check', 'keepalived 2.2.7', 'keepalived-ts'],
    ['notify_master', kaMaster ?? '(none)', who(kt, 'master') ?? '(none)'],
    ['MISC_CHECK', 'n/a: checker exits without IPVS', who(kt, 'misc') ?? '(none)'],
    ['notify_down', 'n/a: checker exits without IPVS', who(kt, 'down') ?? '(none)'],
    ['notify_up', 'n/a: checker exits without IPVS', who(kt, 'up') ?? '(none)'],
    ['lvs_notify_fifo_script', 'n/a: checker exits without IPVS', who(kt, 'fifo') ?? '(none)'],
    ['quorum_down', 'n/a: checker exits without IPVS', who(kt, 'qdown') ?? '(none)'],
    ['quorum_up', 'n/a: checker exits without IPVS', who(kt, 'qup') ?? '(none)'],
    ['group-writable script as root: runs', String(kaGw.length), String(ktGw.length)],
  ];
  console.log(table.map((r) => `| ${r.join(' | ')} |`).join('\n'));

  // The control says what is right.
  assert.equal(kaMaster, NOBODY, `keepalived's notify_master:\n${readFileSync(join(ka.out, 'log'), 'utf8')}`);
  assert.deepEqual(kaGw, [], 'keepalived never runs the insecure scripts');
  assert.match(k.log(), /Disabling track script chk_gw due to insecure/);
  // keepalived-ts does the same, for every script kind.
  assert.equal(who(kt, 'master'), kaMaster);
  for (const kind of ['misc', 'down', 'up', 'fifo', 'qdown', 'qup']) {
    assert.ok(lines(kt).filter((l) => l.startsWith(`${kind} `)).every((l) => l === `${kind} ${NOBODY}`), `${kind}:\n${lines(kt).join('\n')}`);
  }
  assert.deepEqual(ktGw, [], `keepalived-ts ran an insecure script:\n${lines(kt).join('\n')}`);
  assert.match(ktLog, /Disabling track script chk_gw due to insecure/);
  assert.match(ktLog, /Disabling misc script .*gw\.sh misc due to insecure/);
  assert.match(ktLog, /Disabling notify script .*gw\.sh notify due to insecure/);
});

test('an unknown user on a MISC_CHECK removes that checker at start and at SIGHUP; the rest keeps running', { skip, timeout: 120_000 }, async () => {
  const s = setup();
  writeFileSync(join(s.out, 'code'), '0\n');
  writeFileSync(s.conf, `global_defs {
  router_id ktsu
  enable_script_security
  script_user nobody
}
virtual_server 10.77.0.100 80 {
  delay_loop 1
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.77.0.2 80 {
    MISC_CHECK {
      misc_path "${s.dir}/gw.sh ghost"
      user ghost
    }
  }
  real_server 10.77.0.3 80 {
    MISC_CHECK {
      misc_path "${s.dir}/misc.sh"
    }
  }
}
`);
  const t = start('keepalived-ts', s);
  const miscRuns = () => lines(s).filter((l) => l.startsWith('misc ')).length;
  await waitForCondition('the other MISC_CHECK running', () => miscRuns() >= 2, 30_000, t.log);
  assert.match(t.log(), /Disabling misc script .*gw\.sh ghost: unable to set uid\/gid \(unknown user 'ghost'\) - removing/);
  const before = miscRuns();
  t.proc.kill('SIGHUP');
  await waitForCondition('the reload', () => /reload applied|reloaded/i.test(t.log()), 30_000, t.log);
  await waitForCondition('more MISC_CHECK runs after the reload', () => miscRuns() >= before + 2, 30_000, t.log);
  assert.equal(t.proc.exitCode, null, t.log().slice(-3000));
  // The checker child says it at start and at the reload (the config reader's warnings come on top).
  const removals = t.log().split('\n').filter((l) => /healthcheckers.*ERROR: Disabling misc script .*unknown user 'ghost'/.test(l));
  assert.equal(removals.length, 2, t.log().split('\n').filter((l) => l.includes('ghost')).join('\n'));
  assert.ok(lines(s).every((l) => !l.startsWith('gw ')), lines(s).join('\n'));
  assert.ok(lines(s).filter((l) => l.startsWith('misc ')).every((l) => l === 'misc uid=65534 gid=65534 groups=65534 internal=0'));
  assert.equal(await t.stop(), 0, t.log().slice(-3000));
});
