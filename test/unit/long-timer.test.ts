// Timers longer than Node's 2^31-1 ms: chained, never collapsed to 1 ms. The chain is exercised with a short
// maximum link so the test takes milliseconds; the pure part is checked at the real limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LongTimeout, MAX_TIMER_MS, clearLongTimeout, nextChunkMs, setLongInterval, setLongTimeout, setLongTimeoutWith } from '../../src/util/long-timer.js';
import { waitFor } from '../helpers/lab.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the chain waits the whole delay in links of at most the maximum', () => {
  assert.equal(nextChunkMs(3_000_000_000), MAX_TIMER_MS);
  assert.equal(nextChunkMs(3_000_000_000 - MAX_TIMER_MS), 3_000_000_000 - MAX_TIMER_MS);
  assert.equal(nextChunkMs(Infinity), MAX_TIMER_MS);
});

test('a delay of 3,000,000 s (delay_loop 3000000) does not fire within 200 ms; Node alone would fire at 1 ms', async () => {
  let fired = 0;
  const t = setLongTimeout(() => fired++, 3_000_000_000);
  assert.ok(t instanceof LongTimeout);
  await sleep(200);
  assert.equal(fired, 0);
  clearLongTimeout(t);
});

test('a chained delay fires once, after the whole delay, passing its arguments', async () => {
  const got: Array<{ x: number; links: number }> = [];
  const t = setLongTimeoutWith({ maxChunkMs: 20 }, (x: number) => got.push({ x, links: (t as LongTimeout).links }), 90, 7);
  assert.ok(t instanceof LongTimeout);
  await waitFor(() => got.length > 0, { timeoutMs: 30_000, what: 'the chained timeout' });
  // It fired from the last of its links (20 + 20 + 20 + 20 + 10 ms), not earlier.
  assert.deepEqual(got, [{ x: 7, links: 5 }]);
  await sleep(60);
  assert.deepEqual(got, [{ x: 7, links: 5 }], 'once');
});

test('clearing a chain mid-way stops it; a delay within range is a plain Node timer', async () => {
  let fired = 0;
  const t = setLongTimeoutWith({ maxChunkMs: 10 }, () => fired++, 50);
  await sleep(25);
  clearLongTimeout(t);
  await sleep(60);
  assert.equal(fired, 0);
  const plain = setLongTimeout(() => fired++, 5);
  assert.ok(!(plain instanceof LongTimeout));
  await sleep(20);
  assert.equal(fired, 1);
});

test('an interval longer than a link repeats until cleared', async () => {
  let n = 0;
  const iv = setLongInterval(() => n++, 30, { maxChunkMs: 10 });
  await waitFor(() => n >= 3, { timeoutMs: 30_000, what: 'three periods' });
  iv.clear();
  const at = n;
  await sleep(100);
  assert.equal(n, at, 'no period after clear()');
});
