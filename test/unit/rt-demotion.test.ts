// The RLIMIT_RTTIME guard's pure rules (src/daemon/rt-demotion.ts): the soft limit that gets SIGXCPU before the
// kernel's SIGKILL, checked against a model of the kernel's tick count, and the rate-limited warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demotionLogDecision, demotionMessage, HANDLER_MARGIN_US, kernelRttimeVerdict, ranAtLeastMs, rttimeKernelHardLimitUs, rttimeSoftLimitUs, type DemotionLogState } from '../../src/daemon/rt-demotion.js';

test('keepalived\'s soft = half at HZ=250 and the default 10 ms: the kernel kills with no SIGXCPU first (as measured)', () => {
  assert.equal(kernelRttimeVerdict(5000, 10_000, 4000, 2), 'none');
  assert.equal(kernelRttimeVerdict(5000, 10_000, 4000, 3), 'SIGKILL');
});

/** The tick count at which the kernel first acts on a thread that does not sleep, and what it does. */
function firstVerdict(softUs: number, hardUs: number, tickUs: number, lateTicks = 0): { ticks: number; verdict: string } {
  for (let ticks = 1; ticks < 10_000; ticks++) {
    const verdict = kernelRttimeVerdict(softUs, hardUs, tickUs, ticks, lateTicks);
    if (verdict !== 'none') return { ticks, verdict };
  }
  return { ticks: Infinity, verdict: 'none' };
}

test('the soft limit is keepalived\'s half: the demotion comes at the tick where keepalived\'s process is killed, or before it', () => {
  assert.equal(rttimeSoftLimitUs(10_000), 5000);
  assert.equal(rttimeSoftLimitUs(200_000), 100_000);
  // HZ=250, the default 10 ms: keepalived is killed at the third tick, ours demoted at the third tick.
  assert.deepEqual(firstVerdict(5000, 10_000, 4000), { ticks: 3, verdict: 'SIGKILL' });
  assert.deepEqual(firstVerdict(5000, rttimeKernelHardLimitUs(10_000, 5000, 4000), 4000), { ticks: 3, verdict: 'SIGXCPU' });
  for (const tickUs of [1000, 3333, 4000, 10_000]) {
    for (let hardUs = 1000; hardUs <= 250_000; hardUs += 997) {
      const soft = rttimeSoftLimitUs(hardUs);
      const keepalived = firstVerdict(soft, hardUs, tickUs);
      const ours = firstVerdict(soft, rttimeKernelHardLimitUs(hardUs, soft, tickUs), tickUs);
      assert.equal(ours.verdict, 'SIGXCPU', `hard ${hardUs} µs, tick ${tickUs} µs`);
      assert.ok(ours.ticks <= keepalived.ticks, `hard ${hardUs} µs, tick ${tickUs} µs: demoted at ${ours.ticks} ticks, keepalived acts at ${keepalived.ticks}`);
    }
  }
});

test('the kernel\'s hard limit leaves the handler 100 ms past the first check: a thread back from the kernel that late is still demoted, not killed', () => {
  // What killed a real-time VRRP child in a TCG guest: the configured 10 ms as the kernel's hard limit, the check
  // one tick late (the thread in the kernel when the arming tick came).
  assert.equal(kernelRttimeVerdict(4000, 10_000, 4000, 100, 1), 'SIGKILL');
  assert.equal(rttimeKernelHardLimitUs(10_000, 5000, 4000), 112_000); // HZ=250: SIGXCPU checked at 12 ms, SIGKILL at 112
  assert.equal(rttimeKernelHardLimitUs(10_000, 5000, 1000), 106_000); // HZ=1000
  assert.equal(rttimeKernelHardLimitUs(8000, 0, 4000), 104_000); // soft 0: checked at the first tick
  assert.equal(rttimeKernelHardLimitUs(500_000, 250_000, 4000), 500_000); // far enough already: as configured
  assert.equal(rttimeKernelHardLimitUs(10_000, 5000, 0), 10_000); // tick unknown: as configured
  for (const tickUs of [1000, 3333, 4000, 10_000]) {
    for (let hardUs = 1000; hardUs <= 250_000; hardUs += 997) {
      const soft = rttimeSoftLimitUs(hardUs);
      const kernelHard = rttimeKernelHardLimitUs(hardUs, soft, tickUs);
      assert.ok(kernelHard >= hardUs);
      const lateTicks = Math.max(2, Math.floor(HANDLER_MARGIN_US / tickUs) - 1);
      for (let late = 0; late <= lateTicks; late++) {
        assert.equal(kernelRttimeVerdict(soft, kernelHard, tickUs, 1000, late), 'SIGXCPU', `hard ${hardUs} (kernel ${kernelHard}) µs, tick ${tickUs} µs, soft ${soft} µs, ${late} ticks late`);
      }
    }
  }
});

test('the warning says how long it ran at least, keepalived\'s text first', () => {
  assert.equal(ranAtLeastMs(4000, 4000), 4);
  assert.equal(ranAtLeastMs(5000, 1000), 5);
  assert.equal(ranAtLeastMs(0, 10_000), 10);
  const m = demotionMessage('vrrp', 10_000, 4, 3, 1);
  assert.match(m, /^VRRP process has used too much CPU time, vrrp_rlimit_rttime may need to be increased: /);
  assert.match(m, /ran more than 4 ms without sleeping at real-time priority \(vrrp_rlimit_rttime 10000\): demoted to normal scheduling until it sleeps \(3 times so far, 1 not logged\)$/);
  assert.match(demotionMessage('checker', 10_000, 4, 1, 0), /^Checker process has used too much CPU time, checker_rlimit_rttime .*\(1 time so far\)$/);
});

test('one warning per demotion, at most one per interval; the next counts the ones not logged', () => {
  let st: DemotionLogState = { loggedTotal: 0 };
  const step = (now: number, total: number) => {
    const d = demotionLogDecision(st, now, total, 10_000);
    st = d.next;
    return [d.log, d.unlogged];
  };
  assert.deepEqual(step(1000, 1), [true, 0]);
  assert.deepEqual(step(2000, 2), [false, 0]);
  assert.deepEqual(step(3000, 3), [false, 1]);
  assert.deepEqual(step(11_000, 4), [true, 2]);
  assert.deepEqual(step(30_000, 5), [true, 0]);
});
