// Running an external script the way keepalived's system_call_script() does (keepalived/core/notify.c), with the
// safety it lacks: a script that cannot be started is a failure with a reason (keepalived exits 0 in the child on a
// failed execve, issue #2126), every run may carry a timeout that kills the whole process group, and the daemon can
// kill every group it still has running at shutdown (Node has no PR_SET_PDEATHSIG).
import { clearLongTimeout, setLongTimeout, type TimerHandle } from '../util/long-timer.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ScriptCommand } from './notify.js';
import { KtError } from '../util/errors.js';

/** One run of a command: how long it may take and what it gets in its environment. */
export interface ScriptRun extends ScriptCommand {
  /** 0 or absent: no timeout. */
  timeoutMs?: number;
  /** Added to (and overriding; undefined removes) the daemon's environment; IFS, LD_PRELOAD, LD_LIBRARY_PATH and
   * keepalived-ts's internal variables are always removed (scriptEnvironment). */
  env?: Record<string, string | undefined>;
}

export interface RunOptions {
  /** Time between SIGTERM at the timeout and SIGKILL to the group (default 2 s, as keepalived's track scripts);
   * 0 sends SIGKILL at once (keepalived's stop-time notify scripts: SIGKILL after 1 s). */
  killGraceMs?: number;
  /** Capture stdout+stderr (interleaved) up to this many bytes for logging; 0/absent: both go to /dev/null. */
  captureBytes?: number;
  /** Abort a run early (e.g. on stop): the group gets SIGTERM, then SIGKILL after killGraceMs. */
  signal?: AbortSignal;
}

export interface ScriptResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Set when the script could not be run at all (missing, not executable, permission denied, bad uid, shell
   * exit 126/127). Such a run is a failure. */
  spawnError?: string;
  durationMs: number;
  /** How it was started: 'exec' (no shell) or 'shell' (`/bin/sh -c`). */
  mode: 'exec' | 'shell';
  output?: string;
}

/** A script succeeded: exited 0, was not killed, could be started. */
export function scriptSucceeded(r: ScriptResult): boolean {
  return r.exitCode === 0 && r.spawnError === undefined && !r.timedOut && r.signal === null;
}

/** One line for a log: "exited with status 3", "timed out", "could not be run: …". */
export function describeResult(r: ScriptResult): string {
  if (r.spawnError !== undefined) return `could not be run: ${r.spawnError}`;
  if (r.timedOut) return 'timed out';
  if (r.signal !== null) return `killed by ${r.signal}`;
  return r.exitCode === 0 ? 'succeeded' : `exited with status ${r.exitCode}`;
}

// keepalived unsets these in the script's child (notify.c script_setup).
const UNSAFE_ENV = ['IFS', 'LD_PRELOAD', 'LD_LIBRARY_PATH'];
// Ours, not the operator's: the parent's hand-over to its children (src/daemon/children.ts) and Node's IPC
// channel variables. Scripts get keepalived's environment, so none of them may reach a script.
const INTERNAL_ENV = ['NODE_CHANNEL_FD', 'NODE_CHANNEL_SERIALIZATION_MODE', 'NODE_UNIQUE_ID'];
const INTERNAL_ENV_PREFIX = 'KEEPALIVED_TS_';

/** The environment a script gets: the daemon's, with `extra` added, minus what keepalived unsets and anything
 * internal to keepalived-ts. Pure. */
export function scriptEnvironment(base: Record<string, string | undefined>, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined || k.startsWith(INTERNAL_ENV_PREFIX) || INTERNAL_ENV.includes(k)) continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  for (const k of UNSAFE_ENV) delete env[k];
  return env;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** keepalived searches PATH for bare names (notify.c find_path). Returns the path of an executable file, or null. */
export function resolveExecutable(name: string, pathEnv = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): string | null {
  if (name === '') return null;
  if (name.includes('/')) return isExecutableFile(name) ? name : null;
  for (const dir of pathEnv.split(delimiter)) {
    const candidate = join(dir === '' ? '.' : dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/** keepalived's cmd_str(): every argument in single quotes (embedded ' as '\''), a leading redirection bare. */
export function shellQuoteArgv(argv: readonly string[]): string {
  return argv
    .map((a, i) => (i === 0 && (a.startsWith('<') || a.startsWith('>')) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

// Process groups still running, so the daemon can take them down with it.
const running = new Map<number, ChildProcess>();
let exitHookInstalled = false;

function killGroup(pgid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort if the daemon exits without killAll(): scripts must not outlive it.
  process.on('exit', () => {
    for (const pgid of running.keys()) killGroup(pgid, 'SIGKILL');
  });
}

/** Number of script process groups currently running. */
export function runningScriptCount(): number {
  return running.size;
}

/** Shutdown: SIGTERM every running script's process group, SIGKILL whatever is left after graceMs. Resolves when
 * all tracked scripts have exited (or graceMs + 1 s passed). */
export async function killAll(graceMs = 1000): Promise<void> {
  const children = [...running.entries()];
  if (children.length === 0) return;
  const exited = children.map(
    ([, child]) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    }),
  );
  for (const [pgid] of children) killGroup(pgid, 'SIGTERM');
  const timer = setTimeout(() => {
    for (const [pgid] of children) killGroup(pgid, 'SIGKILL');
  }, graceMs);
  await Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, graceMs + 1000).unref())]);
  clearTimeout(timer);
  for (const [pgid] of children) if (groupAlive(pgid)) killGroup(pgid, 'SIGKILL');
}

/** Run one script. Never rejects: every way of failing is described in the result. */
export function runScript(spec: ScriptRun, opts: RunOptions = {}): Promise<ScriptResult> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 1000) / 1000;
  const fail = (mode: 'exec' | 'shell', reason: string): Promise<ScriptResult> =>
    Promise.resolve({ exitCode: null, signal: null, timedOut: false, spawnError: reason, durationMs: elapsed(), mode });

  if (spec.argv.length === 0 || spec.argv[0] === '') return fail('exec', 'empty command');

  const env = scriptEnvironment(process.env, spec.env);

  const name = spec.argv[0]!;
  const resolved = resolveExecutable(name, env.PATH);
  let file: string;
  let args: string[];
  let mode: 'exec' | 'shell';
  if (resolved !== null) {
    file = resolved;
    args = spec.argv.slice(1);
    mode = 'exec';
  } else {
    // A path that does not exist cannot be run by a shell either: say so instead of running sh for an exit 127.
    if (name.includes('/') && !name.startsWith('<') && !name.startsWith('>')) {
      try {
        statSync(name);
      } catch (e) {
        return fail('exec', `${name}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      }
    }
    file = '/bin/sh';
    args = ['-c', spec.shellCommand ?? shellQuoteArgv(spec.argv)];
    mode = 'shell';
  }

  // keepalived 2.2.7 always leaves a script with its gid as the only supplementary group (setgroups(1, &gid),
  // lib/notify.c set_script_env), root scripts included, so none of the daemon's groups leak into a script. libuv
  // clears them (setgroups(0, NULL), ignored when not root) whenever uid or gid is passed, so both are passed even
  // when equal to ours: the egid is the script's gid either way, so file access is the same as under keepalived.
  const uid = spec.uid;
  const gid = spec.gid ?? (spec.uid !== undefined ? process.getgid?.() : undefined);

  const capture = opts.captureBytes ?? 0;
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      argv0: mode === 'exec' ? name : undefined,
      env,
      cwd: '/',
      detached: true, // setsid(): own session and process group, so the whole group can be killed
      stdio: ['ignore', capture > 0 ? 'pipe' : 'ignore', capture > 0 ? 'pipe' : 'ignore'],
      uid,
      gid,
    });
  } catch (e) {
    return fail(mode, `${name}: ${(e as Error).message}`);
  }

  return new Promise<ScriptResult>((resolve) => {
    let timedOut = false;
    let aborted = false;
    let settled = false;
    let termTimer: TimerHandle | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const chunks: Buffer[] = [];
    let captured = 0;
    const pgid = child.pid;

    const collect = (b: Buffer) => {
      if (captured >= capture) return;
      const part = b.subarray(0, capture - captured);
      chunks.push(part);
      captured += part.length;
    };
    let streamsOpen = 0;
    let onStreamsClosed = () => {};
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      streamsOpen++;
      stream.on('data', collect);
      stream.once('close', () => {
        if (--streamsOpen === 0) onStreamsClosed();
      });
    }

    const terminate = () => {
      if (pgid === undefined) return;
      const grace = opts.killGraceMs ?? 2000;
      // Grace 0: straight to SIGKILL, as keepalived does for stop-time notify scripts (child_killed_thread).
      if (grace <= 0) {
        killGroup(pgid, 'SIGKILL');
        return;
      }
      killGroup(pgid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(pgid, 'SIGKILL'), grace);
    };
    const onAbort = () => {
      aborted = true;
      terminate();
    };

    const finish = (r: Omit<ScriptResult, 'durationMs' | 'mode' | 'output'>) => {
      if (settled) return;
      settled = true;
      clearLongTimeout(termTimer);
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (pgid !== undefined) running.delete(pgid);
      const result: ScriptResult = { ...r, durationMs: elapsed(), mode };
      if (capture > 0) result.output = Buffer.concat(chunks).toString('utf8');
      resolve(result);
    };

    child.once('error', (err: NodeJS.ErrnoException) => {
      // spawn failures (EACCES, EPERM on setuid, ENOENT) come here and no 'exit' follows
      finish({ exitCode: null, signal: null, timedOut: false, spawnError: `${name}: ${err.code ?? ''} ${err.message}`.trim() });
    });

    child.once('exit', (code, sig) => {
      // After a kill, make sure nothing of the group survives the leader (keepalived: kill(-pid, SIGKILL)).
      if ((timedOut || aborted) && pgid !== undefined) killGroup(pgid, 'SIGKILL');
      const result: Omit<ScriptResult, 'durationMs' | 'mode' | 'output'> = { exitCode: code, signal: sig, timedOut };
      if (mode === 'shell' && code === 127) result.spawnError = `command not found (sh exit 127): ${args[1]}`;
      else if (mode === 'shell' && code === 126) result.spawnError = `command not executable (sh exit 126): ${args[1]}`;
      if (streamsOpen === 0) {
        finish(result);
      } else {
        // Grandchildren may hold the pipes open: give the streams a moment, then stop reading.
        onStreamsClosed = () => finish(result);
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish(result);
        }, 100);
      }
    });

    if (pgid !== undefined) {
      running.set(pgid, child);
      installExitHook();
    }
    if (spec.timeoutMs !== undefined && spec.timeoutMs > 0) {
      // A config-derived timeout (misc_timeout defaults to delay_loop) may exceed what one Node timer takes.
      termTimer = setLongTimeout(() => {
        timedOut = true;
        terminate();
      }, spec.timeoutMs);
    }
    if (opts.signal) {
      if (opts.signal.aborted) onAbort();
      else opts.signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// `USER [GROUP]` to ids for the checker's runners. Who runs a script is decided once, in src/notify/script-user.ts
// (keepalived's order and security check); the checker input carries those decided ids as numbers, which resolve to
// themselves here.

export interface ScriptUser {
  uid: number;
  gid: number;
  /** For logs: the name given (or looked up), numeric ids as strings. */
  user: string;
  group: string;
}

export interface AccountFiles {
  passwd: string;
  group: string;
}

export function readAccountFiles(passwdPath = '/etc/passwd', groupPath = '/etc/group'): AccountFiles {
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  return { passwd: read(passwdPath), group: read(groupPath) };
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 4) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, uid, gid });
  }
  return out;
}

function parseGroups(text: string): { name: string; gid: number }[] {
  const out: { name: string; gid: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, gid });
  }
  return out;
}

const isNumericId = (s: string) => /^\d+$/.test(s) && Number(s) <= 0xfffffffe;

/** Resolve `USER [GROUP]` (also `USER:GROUP`, as keepalived accepts). Names come from the given passwd/group
 * texts; numeric ids are accepted as they are. Without a group, the user's primary group is used. Pure. */
export function resolveScriptUser(userSpec: string, groupSpec: string | undefined, files: AccountFiles): ScriptUser {
  let user = userSpec;
  let group = groupSpec;
  if (group === undefined && user.includes(':')) [user, group] = [user.slice(0, user.indexOf(':')), user.slice(user.indexOf(':') + 1)];
  const users = parsePasswd(files.passwd);
  let uid: number;
  let gid: number | undefined;
  const byName = users.find((u) => u.name === user);
  if (byName) {
    uid = byName.uid;
    gid = byName.gid;
  } else if (isNumericId(user)) {
    uid = Number(user);
    gid = users.find((u) => u.uid === uid)?.gid;
  } else {
    throw new KtError('KT_NOTIFY_UNKNOWN_USER', `Unable to find user '${user}'`);
  }
  if (group !== undefined && group !== '') {
    const g = parseGroups(files.group).find((e) => e.name === group);
    if (g) gid = g.gid;
    else if (isNumericId(group)) gid = Number(group);
    else throw new KtError('KT_NOTIFY_UNKNOWN_GROUP', `Unable to find group '${group}'`);
  }
  if (gid === undefined) throw new KtError('KT_NOTIFY_UNKNOWN_GROUP', `No group given for numeric user ${user}, and it has no passwd entry`);
  const groupName = parseGroups(files.group).find((e) => e.gid === gid)?.name ?? String(gid);
  return { uid, gid, user, group: group !== undefined && group !== '' ? group : groupName };
}
