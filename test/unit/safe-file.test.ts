// Files written as root never go through a planted link or into another user's file (issue 9, CVE-2018-19044/
// 19045/19046): dumps, pid files and the -g log, through src/daemon/safe-file.ts.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chownSync, existsSync, linkSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  openAppendSafe, refusalReason, UnsafeFileError, writeFileSafe, PRIVATE_MODE, PID_FILE_MODE,
} from '../../src/daemon/safe-file.js';
import { createLogger } from '../../src/daemon/log.js';
import { writePidFile, removePidFile } from '../../src/daemon/pidfile.js';
import { closeSync, writeSync } from 'node:fs';

const isRoot = process.getuid?.() === 0;
const mode = (p: string) => statSync(p).mode & 0o777;
const file = { isSymbolicLink: false, isFile: true, uid: 0, nlink: 1 };

describe('refusalReason (pure)', () => {
  test('an own regular file may be replaced or appended to', () => {
    assert.equal(refusalReason(file, 0, 'replace'), undefined);
    assert.equal(refusalReason(file, 0, 'append'), undefined);
  });
  test('a link, a non-file, another user\'s file are refused; a hard-linked file only for appends', () => {
    assert.match(refusalReason({ ...file, isSymbolicLink: true }, 0, 'replace')!, /symbolic link/);
    assert.match(refusalReason({ ...file, isFile: false }, 0, 'replace')!, /not a regular file/);
    assert.match(refusalReason({ ...file, uid: 65534 }, 0, 'replace')!, /owned by uid 65534, not by uid 0/);
    assert.equal(refusalReason({ ...file, nlink: 2 }, 0, 'replace'), undefined);
    assert.match(refusalReason({ ...file, nlink: 2 }, 0, 'append')!, /2 hard links/);
  });
});

describe('files on disk', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kt-safe-file-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const leftovers = () => readdirSync(dir).filter((f) => f.startsWith('.'));

  test('writeFileSafe creates the file with keepalived\'s 0600 whatever the umask, and leaves no temp file', () => {
    const p = join(dir, 'keepalived.data');
    const old = process.umask(0o000);
    try {
      writeFileSafe(p, 'one\n');
    } finally {
      process.umask(old);
    }
    assert.equal(readFileSync(p, 'utf8'), 'one\n');
    assert.equal(mode(p), PRIVATE_MODE);
    assert.deepEqual(leftovers(), []);
  });

  test('replacing is atomic: a new inode takes the name, a reader of the old one never sees a partial file', () => {
    const p = join(dir, 'keepalived.stats');
    writeFileSafe(p, 'first\n');
    const before = statSync(p).ino;
    writeFileSafe(p, 'second\n');
    assert.notEqual(statSync(p).ino, before);
    assert.equal(readFileSync(p, 'utf8'), 'second\n');
  });

  test('a planted symlink is refused: the link and the file it points at are untouched', () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    const p = join(dir, 'keepalived.json');
    symlinkSync(victim, p);
    assert.throws(() => writeFileSafe(p, 'overwritten'), (e: unknown) => e instanceof UnsafeFileError && /keepalived\.json: is a symbolic link/.test(e.message));
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    assert.equal(readFileSync(p, 'utf8'), 'precious\n', 'still the link');
    assert.deepEqual(leftovers(), []);
  });

  test('another user\'s file is refused and untouched', { skip: !isRoot && 'needs root (chown)' }, () => {
    const p = join(dir, 'foreign.data');
    writeFileSync(p, 'theirs\n');
    chownSync(p, 65534, 65534);
    assert.throws(() => writeFileSafe(p, 'ours'), /owned by uid 65534/);
    assert.throws(() => openAppendSafe(p), /owned by uid 65534/);
    assert.equal(readFileSync(p, 'utf8'), 'theirs\n');
  });

  test('openAppendSafe appends to an own file and refuses a link, a FIFO and a hard-linked file', () => {
    const p = join(dir, 'keepalived.log');
    const fd = openAppendSafe(p);
    const flags = Number.parseInt(/^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
    assert.ok(flags & 0o2000000, 'the descriptor is close-on-exec (scripts never inherit the log file)');
    writeSync(fd, 'a\n');
    closeSync(fd);
    const fd2 = openAppendSafe(p);
    writeSync(fd2, 'b\n');
    closeSync(fd2);
    assert.equal(readFileSync(p, 'utf8'), 'a\nb\n');
    assert.equal(mode(p), PRIVATE_MODE);

    const victim = join(dir, 'victim2');
    writeFileSync(victim, 'precious\n');
    const link = join(dir, 'link.log');
    symlinkSync(victim, link);
    assert.throws(() => openAppendSafe(link), /symbolic link/);
    const hard = join(dir, 'hard.log');
    linkSync(victim, hard);
    assert.throws(() => openAppendSafe(hard), /hard links/);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');

    const fifo = join(dir, 'fifo.log');
    execFileSync('mkfifo', [fifo]);
    // Refused without waiting for a reader (an open that blocked would never return here: nothing reads the FIFO).
    assert.throws(() => openAppendSafe(fifo), /not a regular file/);
  });

  test('the -g log: written through one descriptor; a planted link is refused with a log line, its target untouched', () => {
    const p = join(dir, 'g.log');
    const console1 = new PassThrough();
    const log = createLogger({ file: p, stream: console1, role: 'Keepalived' });
    log.info('hello');
    assert.match(readFileSync(p, 'utf8'), /Keepalived\[\d+\] INFO: hello\n$/);

    const victim = join(dir, 'victim3');
    writeFileSync(victim, 'precious\n');
    const link = join(dir, 'g-link.log');
    symlinkSync(victim, link);
    let seen = '';
    const console2 = new PassThrough();
    console2.on('data', (c: Buffer) => (seen += c.toString()));
    const log2 = createLogger({ file: link, stream: console2 });
    log2.info('still logging');
    assert.match(seen, /ERROR: -g log file: .*g-link\.log: is a symbolic link, refusing to write through it/);
    assert.match(seen, /INFO: still logging/);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  });

  test('pid files: keepalived\'s 0644, a planted link refused and untouched, removal only of our own', () => {
    const p = join(dir, 'sub', 'keepalived.pid');
    writePidFile(p, 4242);
    assert.equal(readFileSync(p, 'utf8'), '4242\n');
    assert.equal(mode(p), PID_FILE_MODE);
    removePidFile(p, 4242);
    assert.equal(existsSync(p), false);

    const victim = join(dir, 'victim4');
    writeFileSync(victim, 'precious\n');
    const link = join(dir, 'link.pid');
    symlinkSync(victim, link);
    assert.throws(() => writePidFile(link, 4243), UnsafeFileError);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');

    const fifo = join(dir, 'fifo.pid');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => writePidFile(fifo, 4244), /not a regular file/, 'a FIFO neither blocks the start nor is written');
  });
});
