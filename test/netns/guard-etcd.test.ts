// Split-brain guard on etcd (issue 10), on a namespace LAN: two keepalived-ts directors with `guard E`, a client, and a
// three-member etcd cluster (Debian's etcd-server), each member in its own namespace on the LAN so that one member
// can be stopped or cut on its own and the members' own traffic crosses the same LAN. What an operator observes: who
// holds the VIP (d1 and d2 polled every 50 ms), the notify scripts' fencing token, the lock keys in etcd.
//   1. VRRP between the directors is dropped (nftables, protocol 112, on d1) while both reach etcd: one holder.
//   2. d1's path to every etcd member is cut: d1 drops the VIP before d2 adds it; the gap is reported.
//   5. One of three members down (the leader): no change. Two down and back (as ZooKeeper's scenario 3):
//      `unreachable keep` keeps the VIP through a short outage (no flap); with `release` the master gives it up at
//      once and one director holds it again once the members are back.
//   SIGTERM releases the lock at once: no key of the daemon is left when it has exited.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLan, vrrpConfig, waitFor, nowMs, sleep, EtcdCluster, type Lan, type Director } from '../helpers/lab.js';
import { needsRoot, needsCommand } from '../helpers/root.js';

const skip = needsRoot() || needsCommand('etcd') || needsCommand('nft');
const SESSION_S = 4;
const WAIT = { timeoutMs: 20_000, intervalMs: 50 };
const LOCK_PREFIX = '/kt/lab/vrid-51-eth0/';

describe('split-brain guard on etcd (two keepalived-ts directors, a three-member etcd cluster)', { skip }, () => {
  let lan: Lan;
  let d1: Director;
  let d2: Director;
  let etcd: EtcdCluster;
  let vip: string;

  const tokenScript = (d: Director): string => join(d.dir, 'token.sh');
  const tokenLog = (d: Director): string => join(d.dir, 'token.log');
  const config = (d: Director, priority: number, unreachable: 'keep' | 'release', sessionS = SESSION_S): string => {
    writeFileSync(tokenScript(d), `#!/bin/bash\necho "$3 \${KEEPALIVED_GUARD_TOKEN-unset}" >> '${tokenLog(d)}'\n`, { mode: 0o755 });
    return `vrrp_guard E {
    etcd ${etcd.endpoints.join(',')}
    path /kt/lab
    session_timeout ${sessionS}
    unreachable ${unreachable}
}
${vrrpConfig({ vrid: 51, priority, advertInt: 0.2, version: 3, vip: lan.vipCidr(), iface: 'eth0', extraGlobal: ['enable_script_security', 'script_user root'], extraInstance: ['guard E', `notify ${tokenScript(d)}`] })}`;
  };
  /** Who holds the VIP: only the directors can (fewer `ip` runs per 50 ms poll than asking every node). */
  const holders = async (): Promise<string[]> => {
    const ip = vip.split('/')[0]!;
    const has = await Promise.all([d1, d2].map(async (d) => ((await lan.addresses(d)).includes(ip) ? d.name : '')));
    return has.filter(Boolean);
  };
  const start = async (d: Director, priority: number, unreachable: 'keep' | 'release' = 'keep', sessionS = SESSION_S): Promise<void> => {
    await lan.startDaemon(d, { kind: 'keepalived-ts', configText: config(d, priority, unreachable, sessionS) });
  };
  /** Both directors afresh with d1 MASTER holding the lock and d2 BACKUP with a lease. */
  const restartBoth = async (unreachable: 'keep' | 'release', sessionS = SESSION_S): Promise<void> => {
    await d2.stop();
    await d1.stop();
    // The lab appends each run's output to the same log: look only at this run's.
    const from1 = logOf(d1).length;
    await start(d1, 150, unreachable, sessionS);
    await waitFor(async () => JSON.stringify(await holders()) === '["d1"]' && /holds lock E/.test(logOf(d1).slice(from1)), { ...WAIT, what: 'd1 to hold the lock and the VIP' });
    const from2 = logOf(d2).length;
    await start(d2, 100, unreachable, sessionS);
    await waitFor(() => /connected to etcd/.test(logOf(d2).slice(from2)) && /Entering BACKUP/.test(logOf(d2).slice(from2)), { ...WAIT, what: 'd2 BACKUP with a lease' });
  };
  const logOf = (d: Director): string => (d.daemon ? readFileSync(d.daemon.logFile, 'utf8') : '');
  const nft = (d: Director, rules: string): Promise<unknown> => lan.exec(d, 'nft', [rules]);
  const nftFlush = (d: Director): Promise<unknown> => lan.exec(d, 'nft', ['flush', 'ruleset']);
  const transitions = (d: Director): number => (logOf(d).match(/Entering/g) ?? []).length;
  const logs = (): string => `\n--- d1 ---\n${logOf(d1).slice(-3000)}\n--- d2 ---\n${logOf(d2).slice(-3000)}`;

  /** Polls the VIP holders every 50 ms for `ms`; returns every observation. */
  const watchHolders = async (ms: number): Promise<Array<{ t: number; h: string[] }>> => {
    const seen: Array<{ t: number; h: string[] }> = [];
    const end = nowMs() + ms;
    while (nowMs() < end) {
      const t = nowMs();
      seen.push({ t, h: await holders() });
      await sleep(50 - (nowMs() - t));
    }
    return seen;
  };
  const only = (seen: Array<{ h: string[] }>, who: string): Array<{ h: string[] }> => seen.filter((s) => JSON.stringify(s.h) !== JSON.stringify([who]));

  before(async () => {
    lan = await createLan({ prefix: 'ktge', directors: 2, clients: 4 });
    [d1, d2] = lan.directors as [Director, Director];
    vip = lan.vip();
    etcd = new EtcdCluster(lan, lan.clients.slice(1, 4), lan.clients[0]!, join(lan.directors[0]!.dir, '..', 'etcd'));
    await etcd.startAll();
  });

  after(async () => {
    await d1?.stop().catch(() => undefined);
    await d2?.stop().catch(() => undefined);
    await etcd?.stopAll().catch(() => undefined);
    await lan?.teardown();
  });

  it('elects d1 with the lock; the notify script gets the fencing token (the lock key\'s create revision)', async () => {
    await start(d1, 150);
    await waitFor(async () => JSON.stringify(await holders()) === '["d1"]', { ...WAIT, what: 'd1 to hold the VIP' });
    await start(d2, 100);
    await waitFor(() => /connected to etcd/.test(logOf(d2)) && /Entering BACKUP/.test(logOf(d2)), { ...WAIT, what: 'd2 BACKUP with a lease' });
    await waitFor(() => existsSync(tokenLog(d1)) && /MASTER \d+/.test(readFileSync(tokenLog(d1), 'utf8')), { ...WAIT, what: 'the MASTER notify with a token' });
    const token = /MASTER (\d+)/.exec(readFileSync(tokenLog(d1), 'utf8'))![1]!;
    const keys = await etcd.keys(LOCK_PREFIX);
    assert.equal(keys.length, 1, `one lock key, d1's (d2 is not asking): ${JSON.stringify(keys)}`);
    assert.equal(keys[0]!.rev, token, 'the token is the key\'s create revision');
    assert.deepEqual(await holders(), ['d1']);
  });

  it('1. VRRP dropped between the directors (nftables on d1): exactly one VIP holder at every 50 ms poll', async () => {
    await nft(d1, 'add table inet ktge; add chain inet ktge in { type filter hook input priority 0; }; add chain inet ktge out { type filter hook output priority 0; }; add rule inet ktge in ip protocol vrrp drop; add rule inet ktge out ip protocol vrrp drop');
    const seen = await watchHolders(3000);
    assert.deepEqual(only(seen, 'd1'), [], 'd1 alone held the VIP');
    assert.match(logOf(d2), /waiting for lock E: staying BACKUP, sending no adverts/);
    assert.equal((await etcd.keys(LOCK_PREFIX)).length, 2, 'd2 queues behind d1');
    const from = logOf(d2).length;
    await nftFlush(d1);
    await waitFor(() => /not asking for lock E/.test(logOf(d2).slice(from)), { ...WAIT, what: 'd2 to hear d1 again and withdraw' });
    await waitFor(async () => (await etcd.keys(LOCK_PREFIX)).length === 1, { ...WAIT, what: 'd2\'s key to go' });
  });

  it('2. d1 cut from every etcd member: d1 drops the VIP before d2 adds it (gap reported)', async () => {
    const m1 = await lan.watchAddresses(d1);
    const m2 = await lan.watchAddresses(d2);
    const cutAt = nowMs();
    const set = `{ ${etcd.members.map((m) => m.ip).join(', ')} }`;
    await nft(d1, `add table inet ktge; add chain inet ktge in { type filter hook input priority 0; }; add chain inet ktge out { type filter hook output priority 0; }; add rule inet ktge in ip saddr ${set} drop; add rule inet ktge out ip daddr ${set} drop`);
    const seen = await watchHolders(SESSION_S * 1000 + 3000);
    assert.deepEqual(seen.filter((s) => s.h.length > 1), [], 'never two holders');
    await waitFor(async () => JSON.stringify(await holders()) === '["d2"]', { ...WAIT, what: 'd2 to hold the VIP' });
    const removed = m1.first(vip, false);
    const added = m2.first(vip, true);
    m1.stop();
    m2.stop();
    assert.ok(removed && added, 'd1 removed and d2 added the VIP');
    assert.ok(removed.tMs < added.tMs, `d1 dropped the VIP (${removed.tMs}) before d2 added it (${added.tMs})`);
    console.log(`# guard figures (etcd): cut at 0; d1 dropped the VIP at ${Math.round(removed.tMs - cutAt)} ms, d2 added it at ${Math.round(added.tMs - cutAt)} ms; gap without a holder ${Math.round(added.tMs - removed.tMs)} ms (session_timeout ${SESSION_S} s)`);
    await nftFlush(d1);
    // d1 comes back with a new lease; d2 holds the lock and keeps the role.
    await waitFor(() => (logOf(d1).match(/connected to etcd/g) ?? []).length >= 2, { ...WAIT, what: 'd1 to get a new lease' });
    const after = await watchHolders(2000);
    assert.deepEqual(only(after, 'd2'), [], 'd2 kept the VIP after the cut healed');
  });

  it('5. one of three members down (the leader): no change', async () => {
    const before = transitions(d2);
    const leader = await etcd.leaderIndex();
    await etcd.stop(leader);
    const seen = await watchHolders(SESSION_S * 1000);
    etcd.start(leader);
    assert.deepEqual(only(seen, 'd2'), [], `d2 kept the VIP with the leader down${logs()}`);
    assert.equal(transitions(d2), before, 'd2 made no transition');
    await etcd.waitHealthy();
  });

  it('5. two of three members down and back with `keep`: the master keeps the VIP throughout, no flap', async () => {
    // 8 s as for ZooKeeper: two etcd starts and an election stay well inside the safe window on a loaded machine.
    await restartBoth('keep', 8);
    const before = transitions(d1);
    const from = logOf(d1).length;
    await Promise.all([etcd.stop(0), etcd.stop(1)]);
    const seen = await watchHolders(1000);
    etcd.start(0);
    etcd.start(1);
    await etcd.waitHealthy();
    seen.push(...(await watchHolders(1500)));
    // d1's own view of the outage: from its first unanswered round to its next confirmed keepalive.
    const lines = logOf(d1).slice(from).split('\n');
    const at = (re: RegExp, after = 0): number => lines.findIndex((l, k) => k >= after && re.test(l));
    const lost = at(/etcd unreachable/);
    const back = lost < 0 ? -1 : at(/session confirmed/, lost);
    console.log(back >= 0
      ? `# guard figures (etcd): two of three members down: d1 had no answer for ${Date.parse(lines[back]!.slice(0, 24)) - Date.parse(lines[lost]!.slice(0, 24))} ms (from its first round without one; its safe window at session_timeout 8 s: 7.44 s)`
      : '# guard figures (etcd): two of three members down: every round of d1\'s keepalives got an answer (the cluster had a leader again within one request timeout, 2 s)');
    assert.deepEqual(only(seen, 'd1'), [], `d1 kept the VIP through the outage${logs()}`);
    assert.equal(transitions(d1), before, 'd1 made no transition');
  });

  it('5. two of three members down with `release`: the master gives the VIP up at once; one holder again once they are back, no flap', async () => {
    await restartBoth('release');
    await Promise.all([etcd.stop(0), etcd.stop(1)]);
    await waitFor(async () => (await holders()).length === 0, { ...WAIT, what: 'd1 to give the VIP up' });
    assert.match(logOf(d1), /service unreachable, leaving MASTER/);
    etcd.start(0);
    etcd.start(1);
    await waitFor(async () => (await holders()).length === 1, { ...WAIT, what: 'one holder again' });
    const settled = (await holders())[0]!;
    const seen = await watchHolders(2500);
    assert.deepEqual(only(seen, settled), [], 'no flap after the members came back');
  });

  it('SIGTERM releases the lock at once: no lock key is left when the daemons have exited', async () => {
    // The master's key, and the other director's if it queues (d1 when d2 holds: higher priority, no preemption).
    assert.ok((await etcd.keys(LOCK_PREFIX)).length >= 1, 'the master\'s key before the stop');
    await d2.stop('SIGTERM');
    await d1.stop('SIGTERM');
    // Checked right after the exits, well inside the lease TTL (4 s): the revoke deleted them, not an expiry.
    assert.deepEqual(await etcd.keys(LOCK_PREFIX), [], 'no lock key left after a clean stop');
  });
});
