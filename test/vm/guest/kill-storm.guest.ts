// Guest-only (needs IPVS): the IPVS half of the kill storm (test/netns/kill-storm.test.ts does the VRRP half). A
// checker config of three virtual servers with three real servers each (TCP_CHECK against local listeners);
// SIGKILLs of keepalived-ts's parent or its checker child at random moments (KT_GUEST_KILLS, default 12: every
// respawn costs seconds under emulation), the daemon restarted after a parent kill as a supervisor would. After each
// recovery the table is the configured one; after the last SIGTERM no IPVS entry is left.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonTestUnavailable, savedTable, settledTable, shell, startDaemon, type RunningDaemon } from './daemon-lib.js';
import { sleep, waitFor } from '../../lab/lan.js';
import { Prng } from '../../sim/prng.js';

const unavailable = await daemonTestUnavailable(false);
const KILLS = Number(process.env.KT_GUEST_KILLS ?? 12);
const servers: net.Server[] = [];
let running: RunningDaemon | undefined;
const dir = mkdtempSync('/tmp/ktks-');

after(async () => {
  await running?.stop(20_000).catch(() => undefined);
  for (const s of servers) s.close();
  try { shell('ipvsadm -C 2>/dev/null'); } catch { /* nothing */ }
  rmSync(dir, { recursive: true, force: true });
});

/** The pid in a daemon's checkers.pid, or 0 while there is none. */
const checkerPidOf = (daemonDir: string): number => {
  try {
    return Number(readFileSync(join(daemonDir, 'checkers.pid'), 'utf8').trim());
  } catch {
    return 0;
  }
};

const ppidOf = (pid: number): number => {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
  } catch {
    return 0;
  }
};

test(`IPVS kill storm: ${KILLS} SIGKILLs of the parent or the checker child, then no entry left after SIGTERM`, { skip: unavailable, timeout: 20 * 60_000 }, async () => {
  for (let p = 18081; p <= 18083; p++) {
    const s = net.createServer((c) => c.end());
    await new Promise<void>((r) => s.listen(p, '127.0.0.1', r));
    servers.push(s);
  }
  const vs = (n: number) => `virtual_server 10.43.0.${n} 80 {
  delay_loop 2
  lb_algo rr
  lb_kind NAT
  protocol TCP
${[18081, 18082, 18083].map((p) => `  real_server 127.0.0.1 ${p} {\n    weight ${n}\n    TCP_CHECK {\n      connect_timeout 2\n    }\n  }`).join('\n')}
}`;
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(conf, `global_defs {\n  router_id ktks\n}\n${[1, 2, 3].map(vs).join('\n')}\n`);
  shell('ipvsadm -C');
  running = startDaemon('keepalived-ts', conf);
  await waitFor(() => savedTable().length === 12, { what: 'the daemon to program 12 entries', timeoutMs: 180_000, intervalMs: 250 });
  const expected = await settledTable(3000, 120_000);
  assert.equal(expected.length, 12, `3 services with 3 destinations each:\n${expected.join('\n')}`);

  const rng = new Prng(Number(process.env.KT_SEED ?? 42));
  const tally = { parent: 0, checker: 0 };
  for (let k = 0; k < KILLS; k++) {
    await sleep(500 + rng.int(0, 2500));
    const d = running!;
    if (rng.next() < 0.4) {
      tally.parent++;
      d.proc.kill('SIGKILL');
      await new Promise((r) => (d.proc.exitCode !== null || d.proc.signalCode !== null ? r(undefined) : d.proc.once('exit', r)));
      // The orphaned checker child stops on its own (its entries with it); then a new daemon starts.
      const childPid = (): number => checkerPidOf(d.dir);
      try {
        await waitFor(() => { const pid = childPid(); return !pid || ppidOf(pid) === 0; }, { what: 'the orphaned checker child to exit', timeoutMs: 60_000, intervalMs: 250 });
      } catch (e) {
        // Say why: what the child is doing (state, wait channel, its threads) and what it logged.
        const pid = childPid();
        const proc = (f: string): string => { try { return readFileSync(`/proc/${pid}/${f}`, 'utf8').trim(); } catch { return '-'; } };
        throw new Error(`${(e as Error).message} (kill ${k + 1}, parent pid ${d.proc.pid}, child pid ${pid})\n` +
          `status: ${proc('status').split('\n').filter((l) => /^(State|PPid|Threads|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt):/.test(l)).join('; ')}\n` +
          `wchan: ${proc('wchan')}\nlog:\n${d.log().slice(-6000)}`);
      }
      running = startDaemon('keepalived-ts', conf);
    } else {
      const pid = checkerPidOf(d.dir); // 0 while it is being respawned
      if (!pid || ppidOf(pid) !== d.proc.pid) { k--; continue; }
      tally.checker++;
      process.kill(pid, 'SIGKILL');
    }
  }
  // After the storm the daemon converges on the configured table, and its stop leaves nothing behind. The last
  // daemon must be up first (its checker child running under it): entries an orphan left behind already look like
  // the configured table, and a SIGTERM that reaches node before the daemon has installed its handlers kills it with
  // nothing cleaned up, which says nothing about the stop.
  const last = running!;
  await waitFor(() => { const pid = checkerPidOf(last.dir); return pid > 0 && ppidOf(pid) === last.proc.pid; },
    { what: `the last daemon's checker child (log:\n${last.log().slice(-3000)})`, timeoutMs: 180_000, intervalMs: 250 });
  await waitFor(() => JSON.stringify(savedTable()) === JSON.stringify(expected), { what: 'the configured table', timeoutMs: 120_000, intervalMs: 250 });
  const code = await running!.stop(60_000);
  running = undefined;
  const left = savedTable();
  console.log(`IPVS kill storm: ${tally.parent} parent and ${tally.checker} checker-child SIGKILLs; stop exit ${code}; ${left.length} entries left`);
  assert.deepEqual(left, [], 'no IPVS entry left after the last stop');
});
