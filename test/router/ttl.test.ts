/**
 * TTL unloads, on mocked setTimeout and Date (the router's idle timers and
 * its last-use clock): the model is stopped with reason 'ttl' only after it
 * has been idle (no request in flight or waiting) for its whole ttl.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { RouterHarness, SCHEDULERS, flush, type SchedulerName } from './harness.ts';

const T = { timeout: 10_000 };
const TTL_MS = 10_000;

function setup(t: TestContext, use: SchedulerName): RouterHarness {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  return new RouterHarness(use, { ttlSeconds: TTL_MS / 1000 });
}

for (const use of SCHEDULERS) {
  test(`${use}: an idle model is stopped with reason 'ttl' once its ttl has passed since the last release`, T, async (t) => {
    const h = setup(t, use);
    const a = h.fake('a');
    const lease = await h.lease('a');
    t.mock.timers.tick(3_000); // serving time does not count as idle
    lease.release();
    t.mock.timers.tick(TTL_MS - 1);
    assert.deepEqual(a.stopCalls, []);
    t.mock.timers.tick(1);
    assert.deepEqual(a.stopReasons(), ['ttl']);
    await a.untilStatus('stopped');
    assert.deepEqual(h.router.running(), []);
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: a request in flight longer than the ttl keeps the model loaded`, T, async (t) => {
    const h = setup(t, use);
    const a = h.fake('a');
    const lease = await h.lease('a');
    t.mock.timers.tick(3 * TTL_MS);
    await flush();
    assert.deepEqual(a.stopCalls, []);
    lease.release();
    t.mock.timers.tick(TTL_MS - 1);
    assert.deepEqual(a.stopCalls, [], 'the ttl counts from the release');
    t.mock.timers.tick(1);
    assert.deepEqual(a.stopReasons(), ['ttl']);
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: a new request before expiry restarts the ttl`, T, async (t) => {
    const h = setup(t, use);
    const a = h.fake('a');
    (await h.lease('a')).release();
    t.mock.timers.tick(TTL_MS - 1_000);
    (await h.router.acquire('a')).release();
    t.mock.timers.tick(1_000);
    assert.deepEqual(a.stopCalls, [], 'the first ttl would have expired here');
    t.mock.timers.tick(TTL_MS - 1_001);
    assert.deepEqual(a.stopCalls, []);
    t.mock.timers.tick(1);
    assert.deepEqual(a.stopReasons(), ['ttl']);
    assert.equal(a.startCalls, 1);
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: a load that finished although its only client left is unloaded after its ttl`, T, async (t) => {
    const h = setup(t, use);
    const a = h.fake('a');
    const ac = new AbortController();
    const p = h.router.acquire('a', ac.signal);
    await a.untilStatus('starting');
    a.resolveStart(); // ready in the same turn the client leaves: too late to cancel
    ac.abort();
    await p.catch(() => {});
    await flush();
    assert.equal(a.status(), 'ready', 'a model that is already ready is not stopped by the cancel');
    assert.deepEqual(a.stopCalls, []);
    t.mock.timers.tick(TTL_MS);
    assert.deepEqual(a.stopReasons(), ['ttl']);
    assert.deepEqual(h.bugs(), []);
  });
}

test('an idle timer firing before the model has been idle for its whole ttl (by Date) re-arms instead of unloading', T, async (t) => {
  // Timers and Date mocked separately, so the timer can fire "early" by Date's measure (clock drift).
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let now = 1_000_000;
  t.mock.method(Date, 'now', () => now);
  const h = new RouterHarness('fifo', { ttlSeconds: TTL_MS / 1000 });
  const a = h.fake('a');
  (await h.lease('a')).release();
  now += TTL_MS - 1_000;
  t.mock.timers.tick(TTL_MS);
  assert.deepEqual(a.stopCalls, [], 'idle for ttl - 1 s only');
  now += 1_000;
  t.mock.timers.tick(1_000);
  assert.deepEqual(a.stopReasons(), ['ttl']);
});

test('a model without a ttl is never unloaded for idleness', T, async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const h = new RouterHarness('fifo', { groups: true });
  (await h.lease('a')).release();
  t.mock.timers.tick(365 * 24 * 3600 * 1000);
  assert.deepEqual(h.fake('a').stopCalls, []);
});
