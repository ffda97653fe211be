// The one script decision (src/notify/script-user.ts): who runs a script, in keepalived's order, and whether it may
// run at all (check_script_secure); what the VRRP plan and the checker input make of a removed script; and the
// environment a script gets. Host facts are a fake file system and account database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decideScript, scriptPolicy, scriptUserResolver, lookupIdentity, SC_INSECURE, type ScriptFs,
} from '../../src/notify/script-user.js';
import { scriptEnvironment } from '../../src/notify/run.js';
import { CheckVerdict } from '../../src/check/verdict.js';
import { vrrpPlan } from '../../src/vrrp/plan.js';
import { build, VI } from '../helpers/model.js';
import type { FileFacts } from '../../src/util/file-facts.js';

const dir = (uid = 0, mode = 0o755, gid = 0): FileFacts => ({ uid, gid, mode: 0o040000 | mode, nlink: 1, isDirectory: true, isFile: false, isSymbolicLink: false });
const file = (uid = 0, mode = 0o755, gid = 0): FileFacts => ({ uid, gid, mode: 0o100000 | mode, nlink: 1, isDirectory: false, isFile: true, isSymbolicLink: false });
const link: FileFacts = { uid: 0, gid: 0, mode: 0o120777, nlink: 1, isDirectory: false, isFile: false, isSymbolicLink: true };

const USERS: Record<string, { uid: number; gid: number }> = { root: { uid: 0, gid: 0 }, nobody: { uid: 65534, gid: 65534 }, alice: { uid: 1000, gid: 1000 } };
const GROUPS: Record<string, number> = { root: 0, nogroup: 65534, adm: 4 };

function fakeFs(tree: Record<string, FileFacts>, extraUsers: Record<string, { uid: number; gid: number }> = {}, links: Record<string, string> = {}): ScriptFs {
  const real = (p: string): string => links[p] ?? p;
  return {
    stat: (p) => tree[real(p)] ?? null,
    lstat: (p) => tree[p] ?? null,
    realpath: (p) => (tree[real(p)] ? real(p) : null),
    which: (n) => (tree[`/usr/bin/${n}`] ? `/usr/bin/${n}` : null),
    user: (n) => ({ ...USERS, ...extraUsers })[n] ?? null,
    group: (n) => GROUPS[n] ?? null,
  };
}

const tree = {
  '/': dir(), '/etc': dir(), '/etc/ka': dir(), '/etc/ka/ok.sh': file(), '/etc/ka/gw.sh': file(0, 0o775, 100),
  '/etc/ka/rootonly.sh': file(0, 0o700), '/etc/ka/plain.txt': file(0, 0o644),
  '/home': dir(), '/home/alice': dir(1000, 0o755, 1000), '/home/alice/mine.sh': file(1000, 0o755, 1000),
  '/usr': dir(), '/usr/bin': dir(), '/usr/bin/check': file(),
};
const fs = fakeFs(tree);
const pol = (g: Parameters<typeof scriptPolicy>[0], f: ScriptFs = fs) => scriptPolicy(g, f);

test('user order: the script\'s own user, else script_user, else keepalived_script, else root (only without enable_script_security)', () => {
  const own = decideScript({ argv: ['/etc/ka/ok.sh'], user: 'alice' }, 'notify', 'x', pol({ scriptUser: { user: 'nobody' }, enableScriptSecurity: true }), fs);
  assert.deepEqual(own.run && [own.uid, own.gid, own.source], [1000, 1000, 'script']);
  const su = decideScript({ argv: ['/etc/ka/ok.sh'] }, 'notify', 'x', pol({ scriptUser: { user: 'nobody' }, enableScriptSecurity: true }), fakeFs(tree, { keepalived_script: { uid: 998, gid: 998 } }));
  assert.deepEqual(su.run && [su.uid, su.gid, su.source], [65534, 65534, 'script_user']);
  const ksFs = fakeFs(tree, { keepalived_script: { uid: 998, gid: 997 } });
  const ks = decideScript({ argv: ['/etc/ka/ok.sh'] }, 'notify', 'x', pol({ enableScriptSecurity: true }, ksFs), ksFs);
  assert.deepEqual(ks.run && [ks.uid, ks.gid, ks.source], [998, 997, 'keepalived_script']);
  const root = decideScript({ argv: ['/etc/ka/ok.sh'] }, 'notify', 'x', pol({ enableScriptSecurity: false }), fs);
  assert.deepEqual(root.run && [root.uid, root.gid, root.source], [0, 0, 'root']);
  // enable_script_security without keepalived_script or script_user: no default user, the script is removed.
  const none = decideScript({ argv: ['/etc/ka/ok.sh'] }, 'notify', '/etc/ka/ok.sh', pol({ enableScriptSecurity: true }), fs);
  assert.equal(none.run, false);
  assert.match(!none.run ? none.message : '', /^Disabling notify script \/etc\/ka\/ok\.sh: unable to set default user keepalived_script/);
});

test('groups: USER GROUP and USER:GROUP override the primary group; unknown users and groups are reasons, not throws', () => {
  assert.deepEqual(lookupIdentity('nobody', 'adm', fs), { ok: true, id: { uid: 65534, gid: 4 } });
  assert.deepEqual(lookupIdentity('nobody:adm', undefined, fs), { ok: true, id: { uid: 65534, gid: 4 } });
  assert.deepEqual(lookupIdentity('alice', undefined, fs), { ok: true, id: { uid: 1000, gid: 1000 } });
  assert.deepEqual(lookupIdentity('ghost', undefined, fs), { ok: false, reason: "unknown user 'ghost'" });
  assert.deepEqual(lookupIdentity('nobody', 'ghosts', fs), { ok: false, reason: "unknown group 'ghosts'" });
  const p = pol({ scriptUser: { user: 'nobody', group: 'adm' }, enableScriptSecurity: true });
  const d = decideScript({ argv: ['/etc/ka/ok.sh'] }, 'notify', 'x', p, fs);
  assert.deepEqual(d.run && [d.uid, d.gid], [65534, 4]);
});

test('an unknown script_user or script user removes the script (never root)', () => {
  const bad = pol({ scriptUser: { user: 'ghost' }, enableScriptSecurity: false });
  assert.equal(bad.default.ok, false);
  const d = decideScript({ argv: ['/etc/ka/ok.sh'] }, 'notify', '/etc/ka/ok.sh', bad, fs);
  assert.equal(d.run, false);
  const m = decideScript({ argv: ['/etc/ka/ok.sh'], user: 'ghost' }, 'misc', '/etc/ka/ok.sh', pol({ enableScriptSecurity: false }), fs);
  assert.equal(m.run, false);
  assert.match(!m.run ? m.message : '', /^Disabling misc script \/etc\/ka\/ok\.sh: unable to set uid\/gid \(unknown user 'ghost'\) - removing$/);
});

test('security: as root with enable_script_security a writable path removes the script with keepalived\'s message', () => {
  const secure = pol({ enableScriptSecurity: true, scriptUser: { user: 'root' } });
  const gw = decideScript({ argv: ['/etc/ka/gw.sh'] }, 'misc', '/etc/ka/gw.sh', secure, fs);
  assert.equal(gw.run, false);
  assert.equal(!gw.run && gw.message, 'Disabling misc script /etc/ka/gw.sh due to insecure');
  const home = decideScript({ argv: ['/home/alice/mine.sh'] }, 'track', 'chk', secure, fs);
  assert.equal(!home.run && home.message, 'Disabling track script chk due to insecure');
  // Without enable_script_security keepalived runs it anyway (the -t SECURITY VIOLATION covers it).
  const lax = decideScript({ argv: ['/etc/ka/gw.sh'] }, 'misc', 'x', pol({ enableScriptSecurity: false }), fs);
  assert.ok(lax.run && lax.flags & SC_INSECURE);
  // Run as a non-root user no path check is needed: the user cannot gain anything.
  const asAlice = decideScript({ argv: ['/home/alice/mine.sh'], user: 'alice' }, 'notify', 'x', secure, fs);
  assert.equal(asAlice.run, true);
});

test('security: symlinks are resolved first, missing and non-executable scripts are removed', () => {
  const lfs = fakeFs({ ...tree, '/etc/ka/link.sh': link }, {}, { '/etc/ka/link.sh': '/home/alice/mine.sh' });
  const secure = pol({ enableScriptSecurity: true, scriptUser: { user: 'root' } }, lfs);
  const viaLink = decideScript({ argv: ['/etc/ka/link.sh'] }, 'notify', '/etc/ka/link.sh', secure, lfs);
  assert.equal(!viaLink.run && viaLink.message, 'Disabling notify script /etc/ka/link.sh due to insecure');
  const missing = decideScript({ argv: ['/etc/ka/none.sh'] }, 'notify', '/etc/ka/none.sh', secure, fs);
  assert.equal(!missing.run && missing.message, 'Disabling notify script /etc/ka/none.sh since not found/accessible');
  const nobody = pol({ enableScriptSecurity: true, scriptUser: { user: 'nobody' } });
  const rootOnly = decideScript({ argv: ['/etc/ka/rootonly.sh'] }, 'notify', 'x', nobody, fs);
  assert.equal(rootOnly.run, false);
  assert.match(!rootOnly.run ? rootOnly.message : '', /not executable for uid:gid 65534:65534/);
  assert.equal(decideScript({ argv: ['/etc/ka/plain.txt'] }, 'notify', 'x', nobody, fs).run, false);
  // keepalived resolves the path as the script's user: a directory nobody cannot search hides the script.
  const closed = fakeFs({ ...tree, '/etc/ka': dir(0, 0o700) });
  const hidden = decideScript({ argv: ['/etc/ka/ok.sh'] }, 'notify', '/etc/ka/ok.sh', scriptPolicy({ enableScriptSecurity: true, scriptUser: { user: 'nobody' } }, closed), closed);
  assert.equal(!hidden.run && hidden.message, 'Disabling notify script /etc/ka/ok.sh since not found/accessible');
  assert.match(!hidden.run ? hidden.reasons.join() : '', /'\/etc\/ka' is not searchable by uid:gid 65534:65534/);
  // A bare name is found through PATH and checked there.
  const bare = decideScript({ argv: ['check', 'arg'] }, 'notify', 'x', nobody, fs);
  assert.ok(bare.run && bare.path === '/usr/bin/check');
});

test('the children\'s resolver logs each removal once and answers null', () => {
  const lines: string[] = [];
  const users = scriptUserResolver({ globalDefs: { enableScriptSecurity: true, scriptUser: { user: 'root' } } }, { error: (m) => lines.push(m) }, fs);
  assert.equal(users({ argv: ['/etc/ka/gw.sh'] }, 'track', 'chk'), null);
  assert.equal(users({ argv: ['/etc/ka/gw.sh'] }, 'track', 'chk'), null);
  assert.deepEqual(users({ argv: ['/etc/ka/ok.sh'] }), { uid: 0, gid: 0 });
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^Disabling track script chk due to insecure \(unsafe permissions found for script '\/etc\/ka\/gw\.sh' at '\/etc\/ka\/gw\.sh'/);
});

test('checker input: MISC_CHECK and RS/VS scripts carry the decided ids; a removed MISC_CHECK is dropped', () => {
  const conf = `global_defs {
  enable_script_security
  script_user nobody
}
virtual_server 10.0.0.1 80 {
  quorum_up /etc/ka/ok.sh
  real_server 10.0.1.1 80 {
    notify_up /etc/ka/ok.sh
    notify_down /etc/ka/rootonly.sh
    MISC_CHECK {
      misc_path /etc/ka/ok.sh
    }
    MISC_CHECK {
      misc_path "/etc/ka/ok.sh"
      user ghost
    }
  }
}
`;
  const { model } = build(conf);
  const users = scriptUserResolver(model, { error: () => undefined }, fs);
  // The checkers' state holds the model objects and, beside them, who runs each script (decided once).
  const core = new CheckVerdict(model.virtualServers, { users: (s, role) => users(s, role) });
  const vs = core.vss[0]!;
  const rs = vs.rs[0]!;
  assert.deepEqual([vs.scripts.up?.runAs?.uid, vs.scripts.up?.runAs?.gid], [65534, 65534]);
  assert.deepEqual([rs.scripts.up?.runAs?.uid, rs.scripts.up?.runAs?.gid], [65534, 65534]);
  assert.equal(rs.scripts.down, undefined, 'not executable for nobody: removed');
  const checkers = core.checkers.filter((c) => c.rs === rs);
  assert.equal(checkers.length, 1, 'the MISC_CHECK with an unknown user is removed, the other stays');
  const misc = checkers[0]!;
  assert.ok(misc.cfg.type === 'MISC_CHECK' && misc.run?.runAs?.uid === 65534 && misc.run.runAs.gid === 65534);
});

test('VRRP plan: a removed track script is untracked, a removed notify script is absent', () => {
  const conf = `global_defs {
  enable_script_security
  script_user nobody
}
vrrp_script good {
  script /etc/ka/ok.sh
}
vrrp_script bad {
  script /etc/ka/rootonly.sh
}
` + VI('  track_script {\n    good\n    bad\n  }\n  notify_master /etc/ka/ok.sh\n  notify_backup /etc/ka/rootonly.sh');
  const { model } = build(conf);
  const lines: string[] = [];
  const plan = vrrpPlan(model, scriptUserResolver(model, { error: (m) => lines.push(m) }, fs));
  const inst = plan.instances[0]!;
  assert.deepEqual(inst.trackers.map((t) => t.spec.name), ['script:good']);
  assert.deepEqual(inst.trackers[0]!.command && [inst.trackers[0]!.command.uid, inst.trackers[0]!.command.gid], [65534, 65534]);
  assert.deepEqual(inst.notify.master && [inst.notify.master.uid, inst.notify.master.gid], [65534, 65534]);
  assert.equal(inst.notify.backup, undefined);
  assert.ok(lines.some((l) => l.startsWith('Disabling track script bad')), lines.join('\n'));
});

test('environment: the daemon\'s, minus IFS / LD_PRELOAD / LD_LIBRARY_PATH and everything internal', () => {
  const env = scriptEnvironment({
    PATH: '/usr/bin', HOME: '/root', IFS: ' ', LD_PRELOAD: '/x.so', LD_LIBRARY_PATH: '/x', KEEPALIVED_TS_CHILD: 'vrrp',
    KEEPALIVED_TS_OPTIONS: '{}', NODE_CHANNEL_FD: '3', NODE_CHANNEL_SERIALIZATION_MODE: 'json', UNSET: undefined,
  }, { EXTRA: '1', HOME: undefined });
  assert.deepEqual(env, { PATH: '/usr/bin', EXTRA: '1' });
});

test('-t removes exactly the scripts the daemon removes (same decision, same lines)', async () => {
  const { checkModelScriptSecurity } = await import('../../src/config/script-security.js');
  const { Diagnostics } = await import('../../src/config/diagnostics.js');
  const conf = `global_defs {
  enable_script_security
  script_user nobody
}
vrrp_script good {
  script /etc/ka/ok.sh
}
vrrp_script bad {
  script /etc/ka/rootonly.sh
}
vrrp_script asroot {
  script /etc/ka/gw.sh
  user root
}
` + VI('  track_script {\n    good\n    bad\n    asroot\n  }\n  notify_master /etc/ka/ok.sh\n  notify_backup /etc/ka/none.sh\n  notify_fault "/etc/ka/ok.sh x" ghost') + `
virtual_server 10.0.0.1 80 {
  quorum_down "/etc/ka/gw.sh q" root
  real_server 10.0.1.1 80 {
    notify_up /etc/ka/ok.sh
    MISC_CHECK {
      misc_path /etc/ka/gw.sh
      user root
    }
    MISC_CHECK {
      misc_path /etc/ka/ok.sh
    }
  }
}
`;
  const { model } = build(conf);
  const d = new Diagnostics();
  checkModelScriptSecurity(model, fs, d);
  const removedAtT = new Set(d.list.filter((x) => x.code !== 'script-security').map((x) => x.loc?.line));
  const users = scriptUserResolver(model, { error: () => undefined }, fs);
  const removedByDaemon = new Set(model.scripts.filter(({ spec, kind, where }) =>
    users(spec, kind === 'track' ? 'track' : where.endsWith('MISC_CHECK') ? 'misc' : 'notify', where) === null).map(({ spec }) => spec.loc.line));
  assert.deepEqual([...removedAtT].sort(), [...removedByDaemon].sort());
  assert.equal(removedByDaemon.size, 6, [...removedByDaemon].join(','));
});
