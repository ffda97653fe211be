// The files a running daemon writes as root, checked on a namespace director beside Debian's keepalived on the same
// config (issue 9): `$TMPDIR/keepalived.data` planted as a symlink to another file, then SIGUSR1, leaves that file
// untouched; the dump and pid files have keepalived's modes.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { oneDirectorLan, vrrpConfig, waitFor, repoRoot, sleep, type Lan, type Director, type DaemonKind } from '../helpers/lab.js';

const skip = needsRoot() || needsCommand('keepalived');
const WAIT = { timeoutMs: 30_000, intervalMs: 50 };

interface Seen {
  victim: string;
  linkStillLink: boolean;
  modes: Record<string, string>;
  log: string;
}

describe('dump files never written through a planted link (keepalived-ts and keepalived)', { skip }, () => {
  let lan: Lan;
  let d1: Director;
  let namespaces: readonly string[] = [];
  const seen: Partial<Record<DaemonKind, Seen>> = {};

  oneDirectorLan((l, d) => {
    lan = l;
    d1 = d;
    namespaces = lan.namespaceNames.slice();
  }, { clients: 0 });

  // After the fixture's teardown.
  after(() => {
    const left = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => namespaces.includes(n)) : [];
    assert.deepEqual(left, [], 'no namespace of this test is left');
  });

  async function plantAndDump(kind: DaemonKind): Promise<Seen> {
    const tmp = join(d1.dir, 'tmp');
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { mode: 0o755 });
    const victim = join(d1.dir, `victim-${kind}.txt`);
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, join(tmp, 'keepalived.data'));
    const d = await lan.startDaemon(d1, {
      kind,
      configText: vrrpConfig({ vrid: 73, priority: 150, state: 'MASTER', advertInt: 1, vip: [lan.vipCidr(0)], iface: 'eth0' }),
      ...(kind === 'keepalived-ts' ? { command: [process.execPath, '--import', 'tsx', join(repoRoot(), 'src', 'cli.ts')] } : {}),
    });
    try {
      await waitFor(async () => (await lan.addresses(d1)).includes(lan.vip(0)), { ...WAIT, what: `${kind} to hold the VIP` });
      d.signal('SIGUSR1');
      d.signal('SIGUSR2');
      // The stats dump proves the signals were handled; the data dump is written in the same turn.
      await waitFor(() => existsSync(join(tmp, 'keepalived.stats')), { ...WAIT, what: `${kind}'s keepalived.stats` });
      await sleep(500);
      const modes: Record<string, string> = {};
      for (const f of ['keepalived.stats', 'keepalived.pid', 'vrrp.pid']) {
        const p = f === 'keepalived.stats' ? join(tmp, f) : join(d1.dir, f);
        modes[f] = (statSync(p).mode & 0o777).toString(8);
      }
      let linkStillLink = false;
      try {
        linkStillLink = readFileSync(join(tmp, 'keepalived.data'), 'utf8') === readFileSync(victim, 'utf8');
      } catch {
        /* replaced or removed */
      }
      return { victim: readFileSync(victim, 'utf8'), linkStillLink, modes, log: d.log() };
    } finally {
      await d.stop('SIGTERM');
    }
  }

  it('keepalived (control): the file behind the link is untouched', async () => {
    const s = (seen.keepalived = await plantAndDump('keepalived'));
    assert.equal(s.victim, 'precious\n');
  });

  it('keepalived-ts: the file behind the link is untouched, the refusal is logged, the modes are keepalived\'s', async () => {
    const s = (seen['keepalived-ts'] = await plantAndDump('keepalived-ts'));
    assert.equal(s.victim, 'precious\n', 'the linked file was not written');
    assert.ok(s.linkStillLink, 'the planted link is left as it was');
    assert.match(s.log, /cannot write .*keepalived\.data: .*is a symbolic link, refusing to write through it/);
    assert.equal(s.modes['keepalived.stats'], '600');
    if (seen.keepalived) assert.deepEqual(s.modes, seen.keepalived.modes, 'dump and pid file modes equal keepalived\'s');
  });
});
