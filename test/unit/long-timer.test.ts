// Timers longer than Node's 2^31-1 ms: chained, never collapsed to 1 ms. The chain is exercised with a short
// maximum link so the test takes milliseconds; the pure part is checked at the real limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LongTimeout, MAX_TIMER_MS, clearLongTimeout, nextChunkMs, setLongInterval, setLongTimeout, setLongTimeoutWith } from '../../src/util/long-timer.js';

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
  const started = performance.now();
  const got: number[] = [];
  const t = setLongTimeoutWith({ maxChunkMs: 20 }, (x: number) => got.push(x), 90, 7);
  assert.ok(t instanceof LongTimeout);
  await sleep(60);
  assert.deepEqual(got, []);
  await sleep(80);
  assert.deepEqual(got, [7]);
  assert.equal((t as LongTimeout).links, 5);
  assert.ok(performance.now() - started >= 90);
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

test('an interval longer than a link repeats at its period', async () => {
  let n = 0;
  const iv = setLongInterval(() => n++, 30, { maxChunkMs: 10 });
  await sleep(100);
  iv.clear();
  assert.ok(n >= 2 && n <= 3, `fired ${n} times`);
});
