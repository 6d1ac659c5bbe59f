/**
 * Swaps through the router: eviction order, busy models, and requests that
 * arrive while their model is stopping (llama-swap #946).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouterHarness, SCHEDULERS, flush, track, type ConfigOptions, type SchedulerName } from './harness.ts';

const T = { timeout: 10_000 };

const evicting: ReadonlyArray<readonly [string, SchedulerName, ConfigOptions]> = [
  ['serial', 'serial', {}],
  ['fifo with a swap group', 'fifo', { groups: true }],
];

for (const [name, use, opts] of evicting) {
  test(`${name}: b's request stops a (reason 'evicted') before b starts`, T, async () => {
    const h = new RouterHarness(use, opts);
    const [a, b] = [h.fake('a'), h.fake('b')];
    (await h.lease('a')).release();
    a.holdStops = true;
    const pb = h.router.acquire('b');
    await a.untilStatus('stopping');
    await flush();
    assert.deepEqual(a.stopReasons(), ['evicted']);
    assert.equal(b.ensureReadyCalls, 0, 'b is not started while a is stopping');
    assert.equal(b.prepareCalls, 1, "b's launch is prepared while a stops");
    a.finishStop();
    await b.untilStatus('starting');
    b.resolveStart();
    const lease = await pb;
    assert.equal(b.discardCalls, 1, 'the swap ends by dropping whatever prepared launch is left');
    assert.equal(a.prepareCalls, 0, 'a loaded with nothing to evict: nothing to prepare');
    assert.deepEqual(h.journal, ['a:start', 'a:ready', 'a:stop(evicted)', 'a:stopped', 'b:start', 'b:ready']);
    assert.deepEqual(h.router.running().map((r) => r.model), ['b']);
    lease.release();
    assert.deepEqual(h.bugs(), []);
  });

  test(`${name}: a busy model is not evicted until its lease is released`, T, async () => {
    const h = new RouterHarness(use, opts);
    const [a, b] = [h.fake('a'), h.fake('b')];
    const la = await h.lease('a');
    const pb = h.router.acquire('b');
    await flush();
    assert.deepEqual(a.stopCalls, [], 'a serves a request');
    assert.equal(b.ensureReadyCalls, 0);
    assert.deepEqual(h.load('b'), { inFlight: 0, queued: 1 });
    la.release();
    await b.untilStatus('starting');
    assert.deepEqual(a.stopReasons(), ['evicted']);
    b.resolveStart();
    (await pb).release();
    assert.deepEqual(h.bugs(), []);
  });
}

test('fifo: a model outside the swap group is neither evicted nor waited for', T, async () => {
  const h = new RouterHarness('fifo', { groups: true });
  const [a, c] = [h.fake('a'), h.fake('c')];
  const la = await h.lease('a');
  const lc = await h.lease('c');
  assert.deepEqual(a.stopCalls, []);
  assert.deepEqual(h.router.running().map((r) => [r.model, r.inFlight]), [['a', 1], ['c', 1]]);
  la.release();
  lc.release();
  (await h.lease('b')).release();
  assert.deepEqual(a.stopReasons(), ['evicted']);
  assert.deepEqual(c.stopCalls, []);
  assert.deepEqual(h.bugs(), []);
});

for (const use of SCHEDULERS) {
  test(`${use}: a request arriving while its model stops after an unload waits, then the model starts again (#946)`, T, async () => {
    const h = new RouterHarness(use);
    const a = h.fake('a');
    (await h.lease('a')).release();
    a.holdStops = true;
    const unloaded = h.router.unload(['a']);
    assert.equal(a.status(), 'stopping');
    const p = h.router.acquire('a');
    const granted = track(p);
    await flush();
    assert.equal(granted.settled, false, 'not granted on the stale state');
    assert.equal(a.ensureReadyCalls, 2, 'the process is asked, and waits out its stop');
    assert.equal(a.status(), 'stopping');
    assert.deepEqual(h.load('a'), { inFlight: 0, queued: 1 });
    a.finishStop();
    await unloaded;
    await a.untilStatus('starting');
    a.resolveStart();
    (await p).release();
    assert.equal(a.startCalls, 2);
    assert.deepEqual(a.stopReasons(), ['unloaded']);
    assert.deepEqual(h.journal.slice(2), ['a:stop(unloaded)', 'a:stopped', 'a:start', 'a:ready']);
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: a request arriving while its model stops after its ttl waits, then the model starts again (#946)`, T, async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const h = new RouterHarness(use, { ttlSeconds: 10 });
    const a = h.fake('a');
    (await h.lease('a')).release();
    a.holdStops = true;
    t.mock.timers.tick(10_000);
    assert.equal(a.status(), 'stopping');
    assert.deepEqual(a.stopReasons(), ['ttl']);
    const p = h.router.acquire('a');
    const granted = track(p);
    await flush();
    assert.equal(granted.settled, false, 'not granted on the stale state');
    assert.equal(a.ensureReadyCalls, 2, 'the process is asked, and waits out its stop');
    a.finishStop();
    await a.untilStatus('starting');
    a.resolveStart();
    (await p).release();
    assert.equal(a.startCalls, 2);
    assert.deepEqual(h.bugs(), []);
  });
}
