// Nothing the daemon holds is inherited by the scripts it runs (issue 9). A notify_master script lists the
// descriptors of a process it starts (`ls -l /proc/self/fd`): only stdin/stdout/stderr and ls's own directory
// descriptor may be open, and none of them a socket. Debian's keepalived runs the same config as the control.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { createLan, descendants, miscCheckServer, vrrpConfig, waitFor, repoRoot, type Lan, type Director, type DaemonKind } from '../helpers/lab.js';

const skip = needsRoot() || needsCommand('keepalived');
const WAIT = { timeoutMs: 30_000, intervalMs: 50 };

interface FdEntry {
  fd: number;
  target: string;
}

/** Parses `ls -l /proc/self/fd` lines (`lrwx------ 1 root root 64 ... 3 -> socket:[123]`). Pure. */
export function parseFdListing(text: string): FdEntry[] {
  const out: FdEntry[] = [];
  for (const line of text.split('\n')) {
    const m = / (\d+) -> (.*)$/.exec(line);
    if (m) out.push({ fd: Number(m[1]), target: m[2]! });
  }
  return out;
}

describe('descriptors inherited by a notify script (keepalived-ts and keepalived on the same config)', { skip }, () => {
  let lan: Lan;
  let d1: Director;
  let namespaces: readonly string[] = [];
  const script = () => join(d1.dir, 'fds.sh');
  const listing = (what = 'MASTER') => join(d1.dir, `fds-${what}.txt`);

  before(async () => {
    lan = await createLan({ directors: 1, clients: 0 });
    namespaces = lan.namespaceNames.slice();
    d1 = lan.directors[0]!;
    // Only the MASTER call lists; the others exit at once. The listing is written to a temp name then renamed,
    // so the test never reads half a file.
    writeFileSync(script(), `#!/bin/sh
case "$1" in MASTER|CHECK) ;; *) exit 0 ;; esac
ls -l /proc/self/fd > '${d1.dir}/fds-'"$1"'.txt.tmp'
mv '${d1.dir}/fds-'"$1"'.txt.tmp' '${d1.dir}/fds-'"$1"'.txt'
`, { mode: 0o755 });
    chmodSync(script(), 0o755);
  });

  after(async () => {
    await lan?.teardown();
    const left = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => namespaces.includes(n)) : [];
    assert.deepEqual(left, [], 'no namespace of this test is left');
  });

  const config = () => vrrpConfig({ vrid: 71, priority: 150, state: 'MASTER', advertInt: 1, version: 2, vip: [lan.vipCidr(0)], iface: 'eth0', notify: script() });
  // keepalived-ts only: a MISC_CHECK running the same lister from the checker child (this kernel has no IPVS, and
  // keepalived's checker process exits without it, so there is no control for this part).
  const checkerConfig = () => `${config()}${miscCheckServer(`${script()} CHECK`)}`;

  /** Descriptors above 2 of a process that a fork + exec would keep: no O_CLOEXEC in /proc/PID/fdinfo. */
  const inheritable = (pid: number): string[] => {
    const out: string[] = [];
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      return out; // exited meanwhile: a MISC_CHECK run ends on its own, and what it held went with it
    }
    for (const fd of fds) {
      if (Number(fd) <= 2) continue;
      try {
        const flags = /^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1];
        if (flags !== undefined && (Number.parseInt(flags, 8) & 0o2000000) === 0) out.push(`${fd} -> ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`);
      } catch {
        /* closed meanwhile */
      }
    }
    return out;
  };
  let heldWithoutCloexec: string[] = [];

  let checkListing: FdEntry[] = [];

  async function fdsSeenBy(kind: DaemonKind): Promise<FdEntry[]> {
    rmSync(listing(), { force: true });
    rmSync(listing('CHECK'), { force: true });
    const d = await lan.startDaemon(d1, {
      kind,
      configText: kind === 'keepalived-ts' ? checkerConfig() : config(),
      ...(kind === 'keepalived-ts' ? { command: [process.execPath, '--import', 'tsx', join(repoRoot(), 'src', 'cli.ts')] } : {}),
    });
    try {
      await waitFor(() => existsSync(listing()), { ...WAIT, what: `${kind}'s notify_master listing` });
      if (kind === 'keepalived-ts') {
        await waitFor(() => existsSync(listing('CHECK')), { ...WAIT, what: 'the MISC_CHECK listing' });
        checkListing = parseFdListing(readFileSync(listing('CHECK'), 'utf8'));
      }
      const fromTest = ours();
      heldWithoutCloexec = [d.pid, ...descendants(d.pid)].flatMap((pid) => inheritable(pid).filter((f) => !fromTest.has(f)).map((f) => `pid ${pid}: ${f}`));
      return parseFdListing(readFileSync(listing(), 'utf8'));
    } finally {
      await d.stop('SIGTERM');
    }
  }

  // Descriptors the test itself holds were handed down to the daemon by whoever started the test (a CI pipe, a
  // terminal): the daemon cannot know them, and keepalived passes them on the same way. Not the daemon's.
  const ours = (): Set<string> => {
    const s = new Set<string>();
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        s.add(`${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`);
      } catch {
        /* closed meanwhile */
      }
    }
    return s;
  };

  const check = (kind: string, fds: FdEntry[], what = 'MASTER') => {
    const text = fds.map((f) => `${f.fd} -> ${f.target}`).join('\n');
    assert.ok(fds.some((f) => f.fd === 1 && f.target.endsWith(`fds-${what}.txt.tmp`)), `${kind}: the listing is the script's stdout:\n${text}`);
    const fromTest = ours();
    const extra = fds.filter((f) => f.fd > 2 && !f.target.startsWith('/proc/') && !fromTest.has(`${f.fd} -> ${f.target}`));
    assert.deepEqual(extra, [], `${kind}: only 0, 1, 2 and ls's own /proc directory are open:\n${text}`);
    assert.ok(!fds.some((f) => f.target.startsWith('socket:')), `${kind}: no socket reaches the script:\n${text}`);
  };

  it('keepalived (control): the script inherits nothing', async () => {
    check('keepalived', await fdsSeenBy('keepalived'));
  });

  it('keepalived-ts: notify and MISC_CHECK scripts inherit nothing (no raw VRRP socket); every descriptor held is close-on-exec', async () => {
    const fds = await fdsSeenBy('keepalived-ts');
    assert.deepEqual(heldWithoutCloexec, [], 'every descriptor the parent and its children hold is close-on-exec');
    check('keepalived-ts', fds);
    check('keepalived-ts MISC_CHECK', checkListing, 'CHECK');
  });
});
