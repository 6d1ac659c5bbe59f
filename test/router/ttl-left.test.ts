/**
 * `/running`'s ttlLeft (what `modelswap ps` shows as TTL LEFT), on mocked
 * setTimeout and Date: the router's own countdown, from the last release,
 * and null while nothing counts down.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouterHarness, SCHEDULERS } from './harness.ts';

for (const use of SCHEDULERS) {
  test(`${use}: ttlLeft counts down from the end of the last request, is null while one is in flight or without a ttl`, { timeout: 10_000 }, async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const h = new RouterHarness(use, { ttlSeconds: 10 });
    h.fake('a');
    const lease = await h.lease('a');
    assert.equal(h.running('a')?.ttlLeft, null, 'busy: no countdown');
    t.mock.timers.tick(4_000);
    lease.release();
    t.mock.timers.tick(2_500);
    assert.deepEqual([h.running('a')?.state, h.running('a')?.ttl, h.running('a')?.ttlLeft], ['ready', 10, 7.5]);
    t.mock.timers.tick(7_400);
    assert.equal(h.running('a')?.ttlLeft, 0.1);
  });
}

test('a model without a ttl has no countdown', { timeout: 10_000 }, async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const h = new RouterHarness('fifo', {});
  (await h.lease('a')).release();
  t.mock.timers.tick(60_000);
  assert.deepEqual([h.running('a')?.state, h.running('a')?.ttl, h.running('a')?.ttlLeft], ['ready', 0, null]);
});
