// The RLIMIT_RTTIME guard's pure rules (src/daemon/rt-demotion.ts): the soft limit that gets SIGXCPU before the
// kernel's SIGKILL, checked against a model of the kernel's tick count, and the rate-limited warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demotionLogDecision, demotionMessage, HANDLER_MARGIN_US, kernelRttimeVerdict, ranAtLeastMs, rttimeKernelHardLimitUs, rttimeSoftLimitUs, type DemotionLogState } from '../../src/daemon/rt-demotion.js';

test('keepalived\'s soft = half at HZ=250 and the default 10 ms: the kernel kills with no SIGXCPU first (as measured)', () => {
  assert.equal(kernelRttimeVerdict(5000, 10_000, 4000, 2), 'none');
  assert.equal(kernelRttimeVerdict(5000, 10_000, 4000, 3), 'SIGKILL');
});

test('the soft limit chosen: SIGXCPU comes before SIGKILL, never above keepalived\'s half', () => {
  assert.equal(rttimeSoftLimitUs(10_000, 4000), 4000); // HZ=250 (Debian)
  assert.equal(rttimeSoftLimitUs(10_000, 1000), 5000); // HZ=1000: keepalived's half works
  assert.equal(rttimeSoftLimitUs(200_000, 4000), 100_000);
  assert.equal(rttimeSoftLimitUs(10_000, 10_000), 0); // HZ=100: the first tick that finds it running
  for (const tickUs of [1000, 3333, 4000, 10_000]) {
    for (let hardUs = 1000; hardUs <= 250_000; hardUs += 997) {
      const soft = rttimeSoftLimitUs(hardUs, tickUs);
      assert.ok(soft <= Math.floor(hardUs / 2), `soft ${soft} ≤ half of ${hardUs}`);
      if (hardUs <= tickUs) continue; // one tick is already the hard limit: nothing can come first
      assert.equal(kernelRttimeVerdict(soft, hardUs, tickUs, 1000), 'SIGXCPU', `hard ${hardUs} µs, tick ${tickUs} µs, soft ${soft} µs`);
    }
  }
});

test('the kernel\'s hard limit leaves the handler 12 ms past the first check: a thread back from the kernel up to two ticks late is demoted, not killed', () => {
  // What killed a real-time VRRP child in a TCG guest: the configured 10 ms as the kernel's hard limit, the check
  // one tick late (the thread in the kernel when the arming tick came).
  assert.equal(kernelRttimeVerdict(4000, 10_000, 4000, 100, 1), 'SIGKILL');
  assert.equal(rttimeKernelHardLimitUs(10_000, 4000, 4000), 20_000); // HZ=250: SIGXCPU checked at 8 ms, SIGKILL at 20
  assert.equal(rttimeKernelHardLimitUs(10_000, 5000, 1000), 18_000); // HZ=1000
  assert.equal(rttimeKernelHardLimitUs(8000, 0, 4000), 16_000); // two ticks configured: soft 0, checked at the first tick
  assert.equal(rttimeKernelHardLimitUs(200_000, 100_000, 4000), 200_000); // far enough already: as configured
  assert.equal(rttimeKernelHardLimitUs(10_000, 5000, 0), 10_000); // tick unknown: as configured
  for (const tickUs of [1000, 3333, 4000, 10_000]) {
    for (let hardUs = 1000; hardUs <= 250_000; hardUs += 997) {
      const soft = rttimeSoftLimitUs(hardUs, tickUs);
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
