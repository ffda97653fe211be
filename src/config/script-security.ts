// Script security as keepalived checks it (notify.c check_script_secure / check_security, vrrp.c
// check_vrrp_script_security, check_data.c check_check_script_security, main.c start/stop scripts).
// The decision is a pure function over file-system facts (ScriptFs), so the daemon can reuse it with the same
// answers; `nodeScriptFs()` is the real adapter.
import { lstatSync, realpathSync, statSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Diagnostics } from './diagnostics.js';
import type { KeepalivedConfig, ScriptSpec } from './model/types.js';

export interface FileFacts {
  uid: number;
  gid: number;
  /** st_mode permission and type bits. */
  mode: number;
  isDirectory: boolean;
  isFile: boolean;
  isSymbolicLink: boolean;
}

/** What the check needs to know about the host. */
export interface ScriptFs {
  stat(path: string): FileFacts | null;
  lstat(path: string): FileFacts | null;
  realpath(path: string): string | null;
  /** PATH search for a bare command name; null when not found. */
  which(name: string): string | null;
  /** User name → ids; null when there is no such user. */
  user(name: string): { uid: number; gid: number } | null;
  /** Group name → gid; null when there is no such group. */
  group(name: string): number | null;
}

export const SC_ISSCRIPT = 0x01;
export const SC_INHIBIT = 0x02;
export const SC_NOTFOUND = 0x04;
export const SC_EXECUTABLE = 0x08;
export const SC_INSECURE = 0x10;
export const SC_SYSTEM = 0x20;

export interface ScriptVerdict {
  flags: number;
  /** Human-readable reasons (keepalived logs them; we attach them to diagnostics). */
  reasons: string[];
  /** Resolved path of the program when found. */
  path?: string;
}

const S_ISUID = 0o4000, S_ISGID = 0o2000, S_ISVTX = 0o1000, S_IWGRP = 0o020, S_IWOTH = 0o002, S_IXUSR = 0o100, S_IXGRP = 0o010;

function isExecutable(f: FileFacts, uid: number, gid: number): boolean {
  if (uid === 0) return (f.mode & 0o111) !== 0;
  if (f.uid === uid) return (f.mode & 0o100) !== 0;
  if (f.gid === gid) return (f.mode & 0o010) !== 0;
  return (f.mode & 0o001) !== 0;
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
export function checkScriptSecure(argv0: string, runAs: { uid: number; gid: number }, securityEnabled: boolean, fs: ScriptFs): ScriptVerdict {
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

/** Applies keepalived's script-security rules to a whole model: diagnostics only (the model is not changed). */
export function checkModelScriptSecurity(model: KeepalivedConfig, fs: ScriptFs, diags: Diagnostics): void {
  const g = model.globalDefs;
  const security = g.enableScriptSecurity;
  // Default user: script_user, else keepalived_script if it exists, else root.
  let defaultUser: { uid: number; gid: number } | null = { uid: 0, gid: 0 };
  let defaultReported = false;
  if (g.scriptUser) {
    const u = fs.user(g.scriptUser.user);
    const gid = g.scriptUser.group !== undefined ? fs.group(g.scriptUser.group) : u?.gid;
    defaultUser = u && gid !== null && gid !== undefined ? { uid: u.uid, gid } : null;
    if (!defaultUser) diags.error('bad-script-user', `script_user '${g.scriptUser.user}${g.scriptUser.group ? ':' + g.scriptUser.group : ''}' does not exist`, undefined, { keyword: 'script_user' });
  } else {
    const ks = fs.user('keepalived_script');
    if (ks) defaultUser = ks;
  }
  const runAs = (s: ScriptSpec): { uid: number; gid: number } | null => {
    if (s.user !== undefined) {
      const u = fs.user(s.user);
      if (!u) return null;
      if (s.group !== undefined) { const gid = fs.group(s.group); return gid === null ? null : { uid: u.uid, gid }; }
      return u;
    }
    if (!g.scriptUser && security && !fs.user('keepalived_script')) {
      if (!defaultReported) {
        defaultReported = true;
        diags.error('bad-script-user', 'unable to set default user keepalived_script for script', s.loc, {
          suggestion: "create the 'keepalived_script' user or set 'script_user' in global_defs",
        });
      }
      return null;
    }
    return defaultUser;
  };
  const hasVrrp = model.vrrpInstances.length > 0;
  const hasLvs = model.virtualServers.length > 0;
  let vrrpFlags = 0, checkFlags = 0, startFlags = 0;
  for (const { spec, kind, where } of model.scripts) {
    const inVrrp = kind === 'track' || where.startsWith('vrrp_instance') || where.startsWith('vrrp_sync_group') || where.includes('notify_fifo_script') && !where.includes('lvs_');
    const inCheck = kind === 'check' || where.includes('lvs_notify_fifo') || where.includes(' notify_fifo_script');
    if (kind === 'startup') {
      if (!where.includes('shutdown')) continue; // keepalived checks only the shutdown script at start-up
    } else if (!(inVrrp && hasVrrp) && !(inCheck && hasLvs)) continue;
    const user = runAs(spec);
    if (!user) {
      if (kind === 'track') diags.error('bad-script-user', `unable to set uid/gid for script ${spec.argv[0]} - removing`, spec.loc, { keyword: spec.user });
      continue;
    }
    const v = checkScriptSecure(spec.argv[0]!, user, security, fs);
    if (kind === 'track') {
      const name = where.replace(/^vrrp_script /, '');
      if (v.flags & SC_INHIBIT) diags.error('insecure-script', `disabling track script ${name} due to insecure`, spec.loc, { suggestion: v.reasons.join('; ') });
      else if (v.flags & SC_NOTFOUND) diags.error('script-not-found', `disabling track script ${name} since not found/accessible`, spec.loc, { suggestion: v.reasons.join('; ') });
    } else if (v.flags & (SC_NOTFOUND | SC_INHIBIT)) {
      diags.notice('script-disabled', `${where}: script ${spec.argv[0]} will not run: ${v.reasons.join('; ')}`, spec.loc);
    }
    if (kind === 'startup') startFlags |= v.flags;
    else if (inVrrp && hasVrrp) vrrpFlags |= v.flags;
    if (inCheck && hasLvs) checkFlags |= v.flags;
  }
  const violation = (what: string, flags: number): void => {
    if (security || !(flags & SC_ISSCRIPT)) return;
    diags.security('script-security', `SECURITY VIOLATION - ${what}scripts are being executed but script_security not enabled.${flags & SC_INSECURE ? ' There are insecure scripts.' : ''}`, undefined, {
      suggestion: "add 'enable_script_security' to global_defs (scripts then run as 'keepalived_script' or 'script_user')",
    });
  };
  violation('', vrrpFlags);
  violation('check ', checkFlags);
  violation('start/shutdown ', startFlags);
}

const facts = (s: import('node:fs').Stats): FileFacts => ({
  uid: s.uid, gid: s.gid, mode: s.mode, isDirectory: s.isDirectory(), isFile: s.isFile(), isSymbolicLink: s.isSymbolicLink(),
});

/** The real file system, /etc/passwd and /etc/group, and $PATH (as keepalived's find_path uses it). */
export function nodeScriptFs(env: NodeJS.ProcessEnv = process.env): ScriptFs {
  const table = (file: string): string[][] => {
    try { return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(':')); } catch { return []; }
  };
  const passwd = table('/etc/passwd');
  const groups = table('/etc/group');
  return {
    stat: (p) => { try { return facts(statSync(p)); } catch { return null; } },
    lstat: (p) => { try { return facts(lstatSync(p)); } catch { return null; } },
    realpath: (p) => { try { return realpathSync(p); } catch { return null; } },
    which: (name) => {
      for (const dir of (env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
        const p = join(dir || '.', name);
        try { if (statSync(p).isFile()) return p; } catch { /* next */ }
      }
      return null;
    },
    user: (name) => {
      const r = passwd.find((l) => l[0] === name) ?? (/^\d+$/.test(name) ? passwd.find((l) => l[2] === name) ?? [name, '', name, name] : undefined);
      return r ? { uid: Number(r[2]), gid: Number(r[3]) } : null;
    },
    group: (name) => {
      const r = groups.find((l) => l[0] === name);
      if (r) return Number(r[2]);
      return /^\d+$/.test(name) ? Number(name) : null;
    },
  };
}
