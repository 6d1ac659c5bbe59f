/**
 * Router.preload and Router.close (graceful, bounded by a deadline, idempotent).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouterHarness, SCHEDULERS, flush, rejectionCode, track } from './harness.ts';

const T = { timeout: 10_000 };

test('fifo: preload loads each model in order, one after the other, and releases it', T, async () => {
  const h = new RouterHarness('fifo', { groups: true });
  const [a, c] = [h.fake('a'), h.fake('c')];
  const preloaded = h.router.preload(['a', 'c']);
  await a.untilStatus('starting');
  await flush();
  assert.equal(c.ensureReadyCalls, 0, 'c waits for a');
  a.resolveStart();
  await c.untilStatus('starting');
  c.resolveStart();
  await preloaded;
  assert.deepEqual(h.journal, ['a:start', 'a:ready', 'c:start', 'c:ready']);
  assert.deepEqual(h.router.running().map((r) => [r.model, r.state, r.inFlight, r.queued]), [['a', 'ready', 0, 0], ['c', 'ready', 0, 0]]);
  assert.deepEqual(h.bugs(), []);
});

test('serial: preloading two models leaves the last one loaded (eviction rules apply)', T, async () => {
  const h = new RouterHarness('serial');
  const [a, b] = [h.fake('a'), h.fake('b')];
  const preloaded = h.router.preload(['a', 'b']);
  await a.untilStatus('starting');
  a.resolveStart();
  await b.untilStatus('starting');
  b.resolveStart();
  await preloaded;
  assert.deepEqual(h.journal, ['a:start', 'a:ready', 'a:stop(evicted)', 'a:stopped', 'b:start', 'b:ready']);
  assert.deepEqual(h.bugs(), []);
});

test('a failing preload does not throw and the next model is still loaded', T, async () => {
  const h = new RouterHarness('fifo');
  const [a, b] = [h.fake('a'), h.fake('b')];
  const preloaded = h.router.preload(['a', 'unknown', 'b']);
  await a.untilStatus('starting');
  a.failStart();
  await b.untilStatus('starting');
  b.resolveStart();
  await preloaded;
  assert.equal(b.status(), 'ready');
  assert.deepEqual(h.load('b'), { inFlight: 0, queued: 0 });
});

for (const use of SCHEDULERS) {
  test(`${use}: close() rejects waiting requests with SHUTTING_DOWN and shuts every upstream down`, T, async () => {
    const h = new RouterHarness(use);
    const a = h.fake('a');
    const waiting = h.router.acquire('a');
    await a.untilStatus('starting');
    const closed = h.router.close(60_000);
    assert.equal(await rejectionCode(waiting), 'SHUTTING_DOWN');
    await closed;
    assert.deepEqual([...h.fakes.values()].map((f) => [f.shutdownCalls, f.status()]), Array(3).fill([1, 'shutdown']));
    assert.deepEqual(a.stopReasons(), ['shutdown'], 'the start in progress was aborted');
    assert.equal(await rejectionCode(h.router.acquire('b')), 'SHUTTING_DOWN');
    assert.equal(h.fake('b').ensureReadyCalls, 0);
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: an in-flight lease keeps close() pending until it is released`, T, async () => {
    const h = new RouterHarness(use);
    const lease = await h.lease('a');
    const closed = h.router.close(60_000);
    const state = track(closed);
    await flush();
    assert.equal(state.settled, false);
    assert.deepEqual([...h.fakes.values()].map((f) => f.shutdownCalls), [0, 0, 0], 'the response may still stream');
    assert.equal(h.fake('a').status(), 'ready');
    lease.release();
    await closed;
    assert.deepEqual([...h.fakes.values()].map((f) => f.shutdownCalls), [1, 1, 1]);
    assert.equal(h.fake('a').status(), 'shutdown');
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: when the close deadline passes first, upstreams are shut down anyway`, T, async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const h = new RouterHarness(use);
    const lease = await h.lease('a');
    const closed = h.router.close(5_000);
    const state = track(closed);
    t.mock.timers.tick(4_999);
    await flush();
    assert.equal(state.settled, false);
    assert.equal(h.fake('a').shutdownCalls, 0);
    t.mock.timers.tick(1);
    await flush();
    assert.equal(state.settled, true, 'closed at the deadline');
    await closed;
    assert.deepEqual([...h.fakes.values()].map((f) => f.shutdownCalls), [1, 1, 1]);
    lease.release(); // late: harmless
    assert.deepEqual(h.bugs(), []);
  });
}

test('close() resolves only once every upstream has finished shutting down', T, async () => {
  const h = new RouterHarness('fifo');
  const a = h.fake('a');
  (await h.lease('a')).release();
  a.holdStops = true;
  const closed = h.router.close(60_000);
  const state = track(closed);
  await a.untilStatus('stopping');
  await flush();
  assert.equal(state.settled, false, 'a is still stopping');
  a.finishStop();
  await closed;
  assert.equal(a.status(), 'shutdown');
});

test('close() twice returns the same promise; acquire afterwards is refused', T, async () => {
  const h = new RouterHarness('fifo');
  const first = h.router.close();
  assert.equal(h.router.close(5), first);
  await first;
  assert.equal(h.router.close(), first);
  assert.deepEqual([...h.fakes.values()].map((f) => f.shutdownCalls), [1, 1, 1]);
  assert.equal(await rejectionCode(h.router.acquire('a')), 'SHUTTING_DOWN');
});

test('destroy() during a close() that waits for an in-flight lease ends the wait at once', T, async () => {
  const h = new RouterHarness('fifo');
  const lease = await h.lease('a');
  const closed = h.router.close(60_000);
  const state = track(closed);
  await flush();
  assert.equal(state.settled, false, 'close waits for the lease');
  await h.router.destroy();
  assert.equal(state.settled, true, 'destroy cut the wait short');
  assert.deepEqual([...h.fakes.values()].map((f) => f.shutdownCalls), [1, 1, 1]);
  lease.release(); // late release after teardown is harmless
  await flush();
  assert.deepEqual(h.router.running(), [], 'shut-down models with nothing in flight are not listed');
  assert.deepEqual(h.bugs(), []);
});
