/**
 * The platform rate limiter serves waiting calls by priority: a release (it finishes a merchant) before a
 * submission, a submission before an upload (it starts new work); in order within one priority. The
 * clock is the limiter's own (injected): each look at it after the calls are queued adds one token's worth
 * of time, so the order does not depend on the machine's speed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from '../../src/fleet/rate-limiter.ts';

function steppingClock(): { now: () => number; step: () => void } {
  let at = 0;
  let stepping = false;
  return {
    now: () => (stepping ? (at += 10) : at),
    step: () => {
      stepping = true;
    },
  };
}

test('waiting calls go by priority: finish, then step, then start; in order within one', async () => {
  const clock = steppingClock();
  const limiter = new RateLimiter(100, 1, clock.now);
  await limiter.acquire('start'); // the one token of the burst: every call below waits
  const order: string[] = [];
  const waits = [
    limiter.acquire('start').then(() => order.push('upload 1')),
    limiter.acquire('start').then(() => order.push('upload 2')),
    limiter.acquire('step').then(() => order.push('submit 1')),
    limiter.acquire().then(() => order.push('read')),
    limiter.acquire('finish').then(() => order.push('release')),
    limiter.acquire('step').then(() => order.push('submit 2')),
  ];
  assert.equal(limiter.queued, 6);
  clock.step();
  await Promise.all(waits);
  assert.deepEqual(order, ['release', 'submit 1', 'read', 'submit 2', 'upload 1', 'upload 2']);
  assert.equal(limiter.queued, 0);
});

test('a call arriving with a token to spare goes at once, and no more calls go than tokens', async () => {
  const clock = steppingClock();
  const limiter = new RateLimiter(100, 2, clock.now);
  const order: string[] = [];
  await limiter.acquire('start').then(() => order.push('a'));
  await limiter.acquire('start').then(() => order.push('b'));
  const third = limiter.acquire('finish').then(() => order.push('c'));
  await new Promise(setImmediate);
  assert.deepEqual(order, ['a', 'b'], 'the third call waits: the burst of 2 is spent and the clock has not moved');
  clock.step();
  await third;
  assert.deepEqual(order, ['a', 'b', 'c']);
});

test('time the process lost while calls waited is made up at once, but never past perSecond calls in 1,000 ms', async () => {
  let at = 0;
  let stepping = false;
  const limiter = new RateLimiter(10, 1, () => (stepping ? (at += 100) : at));
  let granted = 0;
  const waits = Array.from({ length: 31 }, () => limiter.acquire('step').then(() => granted++));
  await new Promise(setImmediate);
  assert.equal(granted, 1, 'the burst of 1 goes at once, the other 30 wait');
  at = 5_000; // the process was stalled for 5 s (a starved CPU, a busy event loop) while they waited
  try {
    for (let i = 0; i < 500 && granted === 1; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise(setImmediate);
    // A bucket capped at its burst would have dropped the 5 s and let 1 call go; the window allows 10.
    assert.equal(granted, 11, 'a second of calls (10) went at once after the stall, no more');
  } finally {
    stepping = true;
    await Promise.all(waits);
  }
  assert.equal(granted, 31);
});
