// The advert sender (src/vrrp/shell.ts, native/ksock.cc AdvertSender): a keepalived-ts master's next adverts are put
// on the wire at their deadline by a thread of their own, so an event loop that is busy at that moment (a long
// garbage collection, a reload's work) does not make them late. Only the adverts armed before the event loop stopped
// go out: an engine that stays hung sends nothing more and loses MASTER, as keepalived's single thread would.
// The test-only fault hook (KEEPALIVED_TS_TEST_FAULT) blocks the VRRP process's event loop for 6 s without using the
// CPU, right after one of its adverts; Debian's keepalived is the backup (VRRPv2, advert_int 1, master-down 3.6 s).
// The VRRP process also runs without transparent huge pages, so that khugepaged never blocks its page faults.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot, needsCommand } from '../helpers/root.js';
import { vrrpConfig, waitFor, nowMs, type Director } from '../helpers/lab.js';
import { twoDirectorLab } from '../helpers/scenario.js';

const skip = needsRoot() || needsCommand('tcpdump') || needsCommand('keepalived');
const STALL_MS = 6000;
const WAIT = { timeoutMs: 20_000, intervalMs: 20 };

describe('advert sender: keepalived-ts master (150) with its event loop blocked 6 s, keepalived backup (100), VRRPv2 advert_int 1', { skip }, () => {
  const lab = twoDirectorLab({ clients: 0, capture: 'vrrp' });
  const config = (priority: number, d: Director) =>
    vrrpConfig({ vrid: 73, priority, state: 'BACKUP', advertInt: 1, version: 2, vip: lab.lan.vipCidr(), iface: 'eth0', notify: d.notifyScript });

  it('the advert due during the block goes out on time, no other does, keepalived takes over, then yields to d1 again', async () => {
    const { lan, d1, d2, vip, cap } = lab;
    const faultFile = join(d1.dir, 'fault');
    await d1.start({ kind: 'keepalived-ts', configText: config(150, d1), env: { KEEPALIVED_TS_TEST_FAULT: faultFile } });
    await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd1', { ...WAIT, what: 'd1 MASTER' });
    // Its memory is never collapsed into huge pages behind its back (khugepaged would hold its mmap lock meanwhile).
    const vrrpPid = Number(readFileSync(join(d1.dir, 'vrrp.pid'), 'utf8').trim());
    assert.match(readFileSync(`/proc/${vrrpPid}/status`, 'utf8'), /^THP_enabled:\s+0$/m, 'the VRRP process runs without transparent huge pages');
    await d2.start({ kind: 'keepalived', configText: config(100, d2) });
    await waitFor(() => d2.notifyEvents().some((e) => e.state === 'BACKUP'), { ...WAIT, what: 'keepalived on d2 BACKUP' });

    const fromD1 = (f: { vrrp?: { priority: number }; ethSrc?: string }) => !!f.vrrp && f.ethSrc === d1.mac && f.vrrp.priority === 150;
    // Right after one of d1's adverts (the hook polls its file every 50 ms): the next is due ~1 s into the block.
    const last = await cap.waitForFrame(fromD1, { ...WAIT, afterMs: nowMs(), what: 'an advert from d1' });
    writeFileSync(faultFile, `vrrp stall ${STALL_MS}\n`);
    await waitFor(() => !existsSync(faultFile), { ...WAIT, what: 'the VRRP process to take the injected fault' });
    await waitFor(() => /injected fault .*stall over/.test(d1.daemon!.log()), { ...WAIT, what: 'the end of the block' });
    const t0 = last.tMs;
    // d1 never left MASTER in its own view: once its loop runs again it hears a lower priority and answers with an
    // advert (RFC 3768 6.4.3), and keepalived goes back to BACKUP.
    const back = await waitFor(() => d2.notifyEvents().find((e) => e.state === 'BACKUP' && e.tMs > t0), { ...WAIT, what: 'keepalived on d2 BACKUP again' });
    const during = cap.frames().filter((f) => fromD1(f) && f.tMs > t0 + 200 && f.tMs < t0 + STALL_MS - 500);
    const taken = d2.notifyEvents().find((e) => e.state === 'MASTER' && e.tMs > t0);
    console.log(`# block of ${STALL_MS} ms from ~${t0.toFixed(0)}: d1 adverts inside it at +${during.map((f) => (f.tMs - t0).toFixed(1)).join(', +')} ms; ` +
      `keepalived MASTER at +${taken ? (taken.tMs - t0).toFixed(0) : '-'} ms, BACKUP again at +${(back.tMs - t0).toFixed(0)} ms`);
    assert.equal(during.length, 1, 'exactly one advert while the event loop was blocked: the one armed before it');
    assert.ok(during[0]!.tMs - t0 > 500 && during[0]!.tMs - t0 < 1500, 'at its time, one interval after the last');
    assert.ok(taken && taken.tMs < t0 + STALL_MS, 'keepalived took over while d1 was hung');
    await waitFor(async () => (await lan.vipHolders(vip)).join() === 'd1', { ...WAIT, what: 'd1 alone holding the VIP again' });
    assert.ok(d1.daemon!.running);
  });
});
