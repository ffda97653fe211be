// The split-brain guard clients' shared part (src/guard/guard-client.ts): the per-key serial queue both lock clients
// run their work on, and the lazy loading of the clients (a VRRP process without a vrrp_guard loads neither client
// nor node:http).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { LockKeyClient } from '../../src/guard/guard-client.js';
import { memoryLog } from '../helpers/memory-log.js';
import { waitFor } from '../helpers/lab.js';

/** A lock client whose operations finish when the test says so; it records when each began and ended. */
class Scripted extends LockKeyClient {
  readonly log;
  readonly lines: string[];
  readonly seen: string[] = [];
  private readonly open = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  constructor() {
    super();
    const m = memoryLog();
    this.log = m.log;
    this.lines = m.lines;
  }
  private op(name: string): Promise<void> {
    this.seen.push(`${name} begins`);
    return new Promise<void>((resolve, reject) => this.open.set(name, { resolve, reject })).then(() => { this.seen.push(`${name} ends`); });
  }
  protected acquire(key: string): Promise<void> { return this.op(`acquire ${key}`); }
  protected release(key: string): Promise<void> { return this.op(`release ${key}`); }
  finish(name: string, err?: Error): void {
    const o = this.open.get(name)!;
    this.open.delete(name);
    if (err) o.reject(err);
    else o.resolve();
  }
  queued(key: string): number { return this.pending(key); }
  drop(): void { this.dropQueues(); }
  isWanted(key: string): boolean { return this.wanted.has(key); }
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test('one key: a give-back waits for the take it undoes; another key does not wait; pending counts both', async () => {
  const c = new Scripted();
  c.want('a', true);
  c.want('a', false);
  c.want('b', true);
  await settle();
  assert.deepEqual(c.seen, ['acquire a begins', 'acquire b begins']);
  assert.equal(c.queued('a'), 2);
  assert.equal(c.isWanted('a'), false);
  assert.equal(c.isWanted('b'), true);
  c.finish('acquire a');
  await waitFor(() => c.seen.includes('release a begins'), { timeoutMs: 5000, what: 'the release' });
  assert.deepEqual(c.seen, ['acquire a begins', 'acquire b begins', 'acquire a ends', 'release a begins']);
  assert.equal(c.queued('a'), 1);
  c.finish('release a');
  await waitFor(() => c.queued('a') === 0, { timeoutMs: 5000, what: 'an empty queue' });
});

test('a failed operation is logged with its key and the queue goes on', async () => {
  const c = new Scripted();
  c.want('k', true);
  c.want('k', false);
  await settle();
  c.finish('acquire k', new Error('no session'));
  await waitFor(() => c.seen.includes('release k begins'), { timeoutMs: 5000, what: 'the release after the failure' });
  assert.deepEqual(c.lines, ['lock k: no session']);
});

test('after dropQueues new work does not wait behind work of the dropped session that is never answered', async () => {
  const c = new Scripted();
  c.want('k', true); // never finished: its session went away
  await settle();
  c.drop();
  assert.equal(c.queued('k'), 0);
  c.want('k', false);
  await waitFor(() => c.seen.includes('release k begins'), { timeoutMs: 5000, what: 'the release' });
  assert.equal(c.queued('k'), 1);
});

test('the VRRP shell loads no guard client and no node:http until a vrrp_guard opens one', () => {
  const probe = `
    const http = () => process.moduleLoadList.includes('NativeModule http');
    const { VrrpShell } = await import(${JSON.stringify(join(import.meta.dirname, '../../src/vrrp/shell.ts'))});
    const { openGuardClient } = await import(${JSON.stringify(join(import.meta.dirname, '../../src/guard/guard-client.ts'))});
    const before = http();
    const log = { child: () => log, info() {}, warn() {}, error() {}, debug() {} };
    const c = openGuardClient({ name: 'E', backend: 'etcd', endpoints: ['http://127.0.0.1:9'], path: '/kt', sessionTimeoutMs: 1200, mode: 'required', unreachable: 'release' }, { log, now: () => 0, input() {} });
    c.start();
    c.want('k', true);
    while (!http()) await new Promise((r) => setTimeout(r, 10));
    await c.close(200);
    console.log(JSON.stringify({ shell: typeof VrrpShell, before, after: http() }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!), { shell: 'function', before: false, after: true });
});
