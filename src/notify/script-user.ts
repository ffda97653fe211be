// Who runs a script, and whether it may run at all: one decision for every script kind (vrrp_script, notify_* of
// instances and sync groups, MISC_CHECK, notify_up/down, quorum_up/down, *_fifo_script), used by `-t`
// (src/config/script-security.ts) and by both children, so `-t` says exactly what the daemon will do.
//
// keepalived's order (lib/notify.c, vrrp_parser.c, check_misc.c): `user USER [GROUP]` on the script, else global
// `script_user`, else the `keepalived_script` account if it exists, else root — but not with
// `enable_script_security`, which then has no default user and removes every script without its own `user`.
// The script then passes check_script_secure: the path is resolved (symlinks removed), and when it runs as root (or
// is set-uid/gid root) every component must be root-owned and not group/world writable (sticky directories
// excepted). A script that fails (not found, not executable for its user, insecure with enable_script_security, or
// whose user cannot be resolved) is removed with keepalived's message and never run.
//
// Pure: the file system and the account database come in as ScriptFs; nodeScriptFs() is the real adapter.
import { lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileFacts, type FileFacts } from '../util/file-facts.js';

/** The account database: names (or numeric ids) to ids. */
export interface AccountDb {
  /** User name → ids; null when there is no such user. */
  user(name: string): { uid: number; gid: number } | null;
  /** Group name → gid; null when there is no such group. */
  group(name: string): number | null;
}

/** What the decision needs to know about the host. */
export interface ScriptFs extends AccountDb {
  stat(path: string): FileFacts | null;
  lstat(path: string): FileFacts | null;
  realpath(path: string): string | null;
  /** PATH search for a bare command name; null when not found. */
  which(name: string): string | null;
}

export const SC_ISSCRIPT = 0x01;
export const SC_INHIBIT = 0x02;
export const SC_NOTFOUND = 0x04;
export const SC_EXECUTABLE = 0x08;
export const SC_INSECURE = 0x10;
export const SC_SYSTEM = 0x20;

export interface ScriptVerdict {
  flags: number;
  /** Human-readable reasons (keepalived logs them). */
  reasons: string[];
  /** Resolved path of the program when found. */
  path?: string;
}

export interface Identity {
  uid: number;
  gid: number;
}

const S_ISVTX = 0o1000, S_ISUID = 0o4000, S_ISGID = 0o2000, S_IWGRP = 0o020, S_IWOTH = 0o002, S_IXUSR = 0o100, S_IXGRP = 0o010;

function isExecutable(f: FileFacts, uid: number, gid: number): boolean {
  if (uid === 0) return (f.mode & 0o111) !== 0;
  if (f.uid === uid) return (f.mode & 0o100) !== 0;
  if (f.gid === gid) return (f.mode & 0o010) !== 0;
  return (f.mode & 0o001) !== 0;
}

/** The first directory of a resolved path that uid:gid may not search (x), or null. */
function unsearchableDir(path: string, runAs: Identity, fs: ScriptFs): string | null {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/') || '/';
    const f = fs.stat(dir);
    if (f && f.isDirectory && !isExecutable(f, runAs.uid, runAs.gid)) return dir;
  }
  return null;
}

/** Every path prefix must be root-owned and not group/world writable (sticky directories excepted). */
function checkPathSecurity(path: string, securityEnabled: boolean, fs: ScriptFs, reasons: string[]): number {
  const parts = path.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const last = i === parts.length;
    const prefix = last ? path : parts.slice(0, i).join('/') || '/';
    const f = fs.lstat(prefix);
    if (!f) { reasons.push(`could not find script '${path}'`); return SC_NOTFOUND; }
    if ((!last && !f.isDirectory) || (last && !f.isFile && !f.isSymbolicLink)) {
      reasons.push(`wrong file type found in script path '${path}' at '${prefix}'`);
      return SC_INHIBIT;
    }
    if (f.uid !== 0 || (((f.isDirectory && !(f.mode & S_ISVTX)) || f.isFile) && ((f.gid !== 0 && f.mode & S_IWGRP) || f.mode & S_IWOTH))) {
      reasons.push(`unsafe permissions found for script '${path}' at '${prefix}' (owner uid ${f.uid}, mode ${(f.mode & 0o7777).toString(8)})`);
      return SC_INSECURE | (securityEnabled ? SC_INHIBIT : 0);
    }
  }
  return 0;
}

/** keepalived's check_script_secure for one program run as uid:gid. */
export function checkScriptSecure(argv0: string, runAs: Identity, securityEnabled: boolean, fs: ScriptFs): ScriptVerdict {
  const reasons: string[] = [];
  if (/^<[ \t]*\//.test(argv0)) return { flags: SC_SYSTEM, reasons };
  let prog = argv0;
  if (!prog.includes('/')) {
    const found = fs.which(prog);
    if (!found) { reasons.push(`cannot find script ${prog} in path`); return { flags: SC_NOTFOUND, reasons }; }
    prog = found;
  }
  const real = fs.realpath(prog);
  if (!real) { reasons.push(`script ${prog} cannot be accessed`); return { flags: SC_NOTFOUND, reasons }; }
  // keepalived resolves the path under the script's euid/egid: a directory its user cannot search hides the script.
  const hidden = runAs.uid === 0 ? null : unsearchableDir(real, runAs, fs);
  if (hidden !== null) {
    reasons.push(`script ${prog} cannot be accessed - Permission denied ('${hidden}' is not searchable by uid:gid ${runAs.uid}:${runAs.gid})`);
    return { flags: SC_NOTFOUND, reasons };
  }
  const f = fs.stat(real);
  if (!f) { reasons.push(`unable to access script ${prog}`); return { flags: SC_NOTFOUND, reasons }; }
  let flags = SC_ISSCRIPT;
  let needProtection = false;
  if (isExecutable(f, runAs.uid, runAs.gid)) {
    flags |= SC_EXECUTABLE;
    if (runAs.uid === 0 || runAs.gid === 0 ||
        (f.uid === 0 && f.mode & S_IXUSR && f.mode & S_ISUID) || (f.gid === 0 && f.mode & S_IXGRP && f.mode & S_ISGID))
      needProtection = true;
  } else reasons.push(`script '${prog}' is not executable for uid:gid ${runAs.uid}:${runAs.gid} - disabling`);
  if (!needProtection) return { flags, reasons, path: real };
  // keepalived replaces the command by its resolved path (symlinks removed) before checking every component.
  flags |= checkPathSecurity(real, securityEnabled, fs, reasons);
  return { flags, reasons, path: real };
}

// ---- who runs it -----------------------------------------------------------------------------------------------

/** The global settings the decision depends on (a subset of GlobalDefs). */
export interface ScriptPolicyInput {
  scriptUser?: { user: string; group?: string };
  enableScriptSecurity: boolean;
}

export type UserSource = 'script' | 'script_user' | 'keepalived_script' | 'root';

/** The user scripts without their own `user` run as, or why there is none. */
export type DefaultUser =
  | { ok: true; id: Identity; source: Exclude<UserSource, 'script'> }
  | { ok: false; reason: string };

export interface ScriptPolicy {
  security: boolean;
  default: DefaultUser;
}

const userGroup = (user: string, group?: string): string => (group ? `${user}:${group}` : user);

/** `USER [GROUP]` (or `USER:GROUP`) to ids; without a group, the user's primary group. */
export function lookupIdentity(user: string, group: string | undefined, db: AccountDb): { ok: true; id: Identity } | { ok: false; reason: string } {
  let u = user, g = group;
  if ((g === undefined || g === '') && u.includes(':')) [u, g] = [u.slice(0, u.indexOf(':')), u.slice(u.indexOf(':') + 1)];
  const found = db.user(u);
  if (!found) return { ok: false, reason: `unknown user '${u}'` };
  if (g === undefined || g === '') return { ok: true, id: { uid: found.uid, gid: found.gid } };
  const gid = db.group(g);
  if (gid === null) return { ok: false, reason: `unknown group '${g}'` };
  return { ok: true, id: { uid: found.uid, gid } };
}

/** keepalived's default script user. `self` is the daemon's own identity (root when run as a daemon). */
export function scriptPolicy(g: ScriptPolicyInput, db: AccountDb, self: Identity = { uid: 0, gid: 0 }): ScriptPolicy {
  const security = g.enableScriptSecurity;
  if (g.scriptUser) {
    const r = lookupIdentity(g.scriptUser.user, g.scriptUser.group, db);
    return {
      security,
      default: r.ok ? { ok: true, id: r.id, source: 'script_user' }
        : { ok: false, reason: `script_user '${userGroup(g.scriptUser.user, g.scriptUser.group)}': ${r.reason}` },
    };
  }
  const ks = db.user('keepalived_script');
  if (ks) return { security, default: { ok: true, id: { uid: ks.uid, gid: ks.gid }, source: 'keepalived_script' } };
  if (security) {
    return { security, default: { ok: false, reason: "unable to set default user keepalived_script for script (no such user, and no 'script_user' in global_defs)" } };
  }
  return { security, default: { ok: true, id: self, source: 'root' } };
}

/** What a script is, for keepalived's messages: "Disabling track script NAME …", "… misc script CMD …". */
export type ScriptRole = 'track' | 'notify' | 'misc' | 'fifo' | 'startup';

export interface ScriptToCheck {
  argv: readonly string[];
  user?: string;
  group?: string;
}

export type ScriptDecision =
  | { run: true; uid: number; gid: number; source: UserSource; flags: number; path?: string; reasons: string[] }
  | { run: false; flags: number; reasons: string[]; /** keepalived's log line for the removal. */ message: string };

const ROLE_WORD: Record<ScriptRole, string> = { track: 'track', notify: 'notify', misc: 'misc', fifo: 'notify', startup: 'notify' };

/**
 * The one decision: run as whom, or removed (with keepalived's message). `name` is what keepalived names in its
 * message: the vrrp_script's name for track scripts, the command for the others.
 */
export function decideScript(s: ScriptToCheck, role: ScriptRole, name: string, policy: ScriptPolicy, fs: ScriptFs): ScriptDecision {
  const what = `${ROLE_WORD[role]} script ${name}`;
  let id: Identity;
  let source: UserSource;
  if (s.user !== undefined && s.user !== '') {
    const r = lookupIdentity(s.user, s.group, fs);
    if (!r.ok) return { run: false, flags: 0, reasons: [r.reason], message: `Disabling ${what}: unable to set uid/gid (${r.reason}) - removing` };
    id = r.id;
    source = 'script';
  } else if (!policy.default.ok) {
    return { run: false, flags: 0, reasons: [policy.default.reason], message: `Disabling ${what}: ${policy.default.reason} - removing` };
  } else {
    id = policy.default.id;
    source = policy.default.source;
  }
  const argv0 = s.argv[0] ?? '';
  if (argv0 === '') return { run: false, flags: SC_NOTFOUND, reasons: ['empty command'], message: `Disabling ${what} since not found/accessible` };
  const v = checkScriptSecure(argv0, id, policy.security, fs);
  if (v.flags & SC_INHIBIT) return { run: false, flags: v.flags, reasons: v.reasons, message: `Disabling ${what} due to insecure` };
  if (v.flags & SC_NOTFOUND) return { run: false, flags: v.flags, reasons: v.reasons, message: `Disabling ${what} since not found/accessible` };
  if (!(v.flags & (SC_EXECUTABLE | SC_SYSTEM))) {
    return { run: false, flags: v.flags, reasons: v.reasons, message: `Disabling ${what}: not executable for uid:gid ${id.uid}:${id.gid}` };
  }
  const d: ScriptDecision = { run: true, uid: id.uid, gid: id.gid, source, flags: v.flags, reasons: v.reasons };
  if (v.path !== undefined) d.path = v.path;
  return d;
}

/** A decision maker bound to one configuration: what the children use (one per start / reload). */
export interface ScriptGate {
  readonly policy: ScriptPolicy;
  decide(s: ScriptToCheck, role: ScriptRole, name?: string): ScriptDecision;
}

/** Binds the policy of `g` and the host facts; every removal is reported once through `report`. */
export function scriptGate(g: ScriptPolicyInput, fs: ScriptFs, report?: (message: string, reasons: string[]) => void, self?: Identity): ScriptGate {
  const policy = scriptPolicy(g, fs, self);
  // Thousands of real servers often share one misc_path: decide each distinct script once per configuration.
  const seen = new Map<string, ScriptDecision>();
  return {
    policy,
    decide(s, role, name) {
      const label = name ?? s.argv.join(' ');
      const key = [role, label, s.argv[0] ?? '', s.user ?? '', s.group ?? ''].join('\0');
      let d = seen.get(key);
      if (!d) {
        d = decideScript(s, role, label, policy, fs);
        seen.set(key, d);
      }
      if (!d.run) report?.(d.message, d.reasons);
      return d;
    },
  };
}

// ---- the real host ---------------------------------------------------------------------------------------------

function table(file: string): string[][] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/** The account database of /etc/passwd and /etc/group (read once, at the call). Names only, as keepalived's
 * getpwnam_r / getgrnam_r: `script_user 65534` is an unknown user there too ("Error setting global script uid/gid"). */
export function fileAccountDb(passwdPath = '/etc/passwd', groupPath = '/etc/group'): AccountDb {
  const passwd = table(passwdPath).filter((l) => l.length >= 4 && /^\d+$/.test(l[2]!) && /^\d+$/.test(l[3]!));
  const groups = table(groupPath).filter((l) => l.length >= 3 && /^\d+$/.test(l[2]!));
  return {
    user: (name) => {
      const r = passwd.find((l) => l[0] === name);
      return r ? { uid: Number(r[2]), gid: Number(r[3]) } : null;
    },
    group: (name) => {
      const r = groups.find((l) => l[0] === name);
      return r ? Number(r[2]) : null;
    },
  };
}

/** The real file system, /etc/passwd and /etc/group, and $PATH (as keepalived's find_path uses it). */
export function nodeScriptFs(env: NodeJS.ProcessEnv = process.env, db: AccountDb = fileAccountDb()): ScriptFs {
  return {
    stat: (p) => { try { return fileFacts(statSync(p)); } catch { return null; } },
    lstat: (p) => { try { return fileFacts(lstatSync(p)); } catch { return null; } },
    realpath: (p) => { try { return realpathSync(p); } catch { return null; } },
    which: (name) => {
      for (const dir of (env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
        const p = join(dir || '.', name);
        try { if (statSync(p).isFile()) return p; } catch { /* next */ }
      }
      return null;
    },
    user: (name) => db.user(name),
    group: (name) => db.group(name),
  };
}

/** What a child logs removals through (a pino logger fits). */
export interface RemovalLog {
  error(message: string): void;
}

/**
 * The children's resolver over one configuration (built at start and at every reload): who runs a script, or null
 * when it is removed, logged once per script with keepalived's message and the reasons.
 */
export function scriptUserResolver(
  cfg: { globalDefs: ScriptPolicyInput }, log: RemovalLog, fs: ScriptFs = nodeScriptFs(),
): (s: ScriptToCheck, role?: ScriptRole, name?: string) => Identity | null {
  const said = new Set<string>();
  const gate = scriptGate(cfg.globalDefs, fs, (message, reasons) => {
    const extra = reasons.filter((r) => !message.includes(r));
    const line = extra.length > 0 ? `${message} (${extra.join('; ')})` : message;
    if (said.has(line)) return;
    said.add(line);
    log.error(line);
  }, { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
  return (s, role = 'notify', name) => {
    const d = gate.decide(s, role, name);
    return d.run ? { uid: d.uid, gid: d.gid } : null;
  };
}
