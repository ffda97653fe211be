// Script security: keepalived's rules over file-system facts (no real files needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkScriptSecure, checkModelScriptSecurity, SC_ISSCRIPT, SC_EXECUTABLE, SC_INSECURE, SC_INHIBIT, SC_NOTFOUND, type ScriptFs } from '../../src/config/script-security.js';
import type { FileFacts } from '../../src/util/file-facts.js';
import { Diagnostics, exitCodeFor } from '../../src/config/diagnostics.js';
import { build, VI } from '../helpers/model.js';

const dir = (uid = 0, mode = 0o755): FileFacts => ({ uid, gid: 0, mode: 0o040000 | mode, nlink: 1, isDirectory: true, isFile: false, isSymbolicLink: false });
const file = (uid = 0, mode = 0o755, gid = 0): FileFacts => ({ uid, gid, mode: 0o100000 | mode, nlink: 1, isDirectory: false, isFile: true, isSymbolicLink: false });

function fakeFs(tree: Record<string, FileFacts>, users: Record<string, { uid: number; gid: number }> = {}): ScriptFs {
  return {
    stat: (p) => tree[p] ?? null,
    lstat: (p) => tree[p] ?? null,
    realpath: (p) => (tree[p] ? p : null),
    which: (n) => (tree[`/usr/bin/${n}`] ? `/usr/bin/${n}` : null),
    user: (n) => users[n] ?? null,
    group: () => 0,
  };
}

const secureTree = { '/': dir(), '/usr': dir(), '/usr/bin': dir(), '/usr/bin/check': file() };

test('a root-owned script in root-owned directories is a secure script', () => {
  const v = checkScriptSecure('/usr/bin/check', { uid: 0, gid: 0 }, true, fakeFs(secureTree));
  assert.equal(v.flags, SC_ISSCRIPT | SC_EXECUTABLE);
  assert.equal(checkScriptSecure('check', { uid: 0, gid: 0 }, true, fakeFs(secureTree)).flags, SC_ISSCRIPT | SC_EXECUTABLE);
});

test('a world-writable directory makes it insecure; with enable_script_security it is also inhibited', () => {
  const tree = { ...secureTree, '/usr/bin': dir(0, 0o777) };
  assert.equal(checkScriptSecure('/usr/bin/check', { uid: 0, gid: 0 }, false, fakeFs(tree)).flags, SC_ISSCRIPT | SC_EXECUTABLE | SC_INSECURE);
  const v = checkScriptSecure('/usr/bin/check', { uid: 0, gid: 0 }, true, fakeFs(tree));
  assert.equal(v.flags, SC_ISSCRIPT | SC_EXECUTABLE | SC_INSECURE | SC_INHIBIT);
  assert.match(v.reasons[0]!, /unsafe permissions.*\/usr\/bin/);
  // A sticky world-writable directory (like /tmp) is fine; a non-root owned file is not.
  assert.equal(checkScriptSecure('/usr/bin/check', { uid: 0, gid: 0 }, true, fakeFs({ ...secureTree, '/usr/bin': dir(0, 0o1777) })).flags, SC_ISSCRIPT | SC_EXECUTABLE);
  assert.ok(checkScriptSecure('/usr/bin/check', { uid: 0, gid: 0 }, true, fakeFs({ ...secureTree, '/usr/bin/check': file(1000) })).flags & SC_INHIBIT);
});

test('missing scripts are not scripts (no security violation), a non-root user needs no path check', () => {
  assert.equal(checkScriptSecure('/nope', { uid: 0, gid: 0 }, false, fakeFs(secureTree)).flags, SC_NOTFOUND);
  assert.equal(checkScriptSecure('nope', { uid: 0, gid: 0 }, false, fakeFs(secureTree)).flags, SC_NOTFOUND);
  const tree = { ...secureTree, '/usr/bin': dir(0, 0o777), '/usr/bin/check': file(0, 0o755) };
  assert.equal(checkScriptSecure('/usr/bin/check', { uid: 1000, gid: 1000 }, true, fakeFs(tree)).flags, SC_ISSCRIPT | SC_EXECUTABLE);
});

test('model: scripts without enable_script_security give the SECURITY VIOLATION (exit 6)', () => {
  const b = build(VI('  notify_master /usr/bin/check'));
  const d = new Diagnostics();
  checkModelScriptSecurity(b.model, fakeFs(secureTree), d);
  assert.deepEqual(d.list.map((x) => `${x.severity} ${x.code}`), ['security script-security']);
  assert.match(d.list[0]!.message, /^SECURITY VIOLATION - scripts are being executed but script_security not enabled\.$/);
  assert.equal(exitCodeFor(d.list), 6);
});

test('model: with enable_script_security and no keepalived_script user, keepalived cannot set the default user', () => {
  const b = build('global_defs {\n  enable_script_security\n}\nvrrp_script s {\n  script /usr/bin/check\n}\n' + VI('  track_script {\n    s\n  }'));
  let d = new Diagnostics();
  checkModelScriptSecurity(b.model, fakeFs(secureTree), d);
  assert.deepEqual(d.list.map((x) => `${x.severity} ${x.code}`), ['error bad-script-user', 'error bad-script-user']);
  d = new Diagnostics();
  checkModelScriptSecurity(b.model, fakeFs(secureTree, { keepalived_script: { uid: 998, gid: 998 } }), d);
  assert.deepEqual(d.list, []);
});

test('model: a missing track script is disabled with an error; missing notify scripts only a notice', () => {
  const b = build('vrrp_script s {\n  script /opt/missing\n}\n' + VI('  track_script {\n    s\n  }\n  notify /opt/also-missing'));
  const d = new Diagnostics();
  checkModelScriptSecurity(b.model, fakeFs(secureTree), d);
  assert.deepEqual(d.list.map((x) => `${x.severity} ${x.code}`), ['error script-not-found', 'notice script-disabled']);
  assert.equal(exitCodeFor(d.list), 5);
});
