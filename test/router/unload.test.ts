/**
 * Router.unload: waiting requests fail with MODEL_UNLOADED, the promise
 * settles once the processes have stopped, no argument means every model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouterHarness, SCHEDULERS, flush, rejectionCode, track } from './harness.ts';

const T = { timeout: 10_000 };

for (const use of SCHEDULERS) {
  test(`${use}: unload(['a']) fails a's waiting requests with MODEL_UNLOADED and resolves once a has stopped`, T, async () => {
    const h = new RouterHarness(use);
    const a = h.fake('a');
    const waiting = [h.router.acquire('a'), h.router.acquire('a')];
    await a.untilStatus('starting');
    a.holdStops = true;
    const unloaded = h.router.unload(['a']);
    const done = track(unloaded);
    assert.deepEqual(await Promise.all(waiting.map(rejectionCode)), ['MODEL_UNLOADED', 'MODEL_UNLOADED']);
    assert.deepEqual(h.load('a'), { inFlight: 0, queued: 0 });
    assert.deepEqual(a.stopReasons(), ['unloaded'], 'the start in progress is aborted');
    await flush();
    assert.equal(done.settled, false, 'unload waits for the stop');
    a.finishStop();
    await unloaded;
    assert.equal(a.status(), 'stopped');
    assert.deepEqual(h.router.running(), []);
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: a request right after unloading a loading model waits for the stop and starts it again`, T, async () => {
    const h = new RouterHarness(use);
    const a = h.fake('a');
    const first = h.router.acquire('a');
    await a.untilStatus('starting');
    a.holdStops = true;
    const unloaded = h.router.unload(['a']);
    const again = h.router.acquire('a');
    const granted = track(again);
    assert.equal(await rejectionCode(first), 'MODEL_UNLOADED');
    await flush();
    assert.equal(granted.settled, false, 'waits for the stop, then a new start');
    a.finishStop();
    await unloaded;
    await a.untilStatus('starting');
    a.resolveStart();
    (await again).release();
    assert.equal(a.startCalls, 2);
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: unload() with no models stops every running model and leaves in-flight leases releasable`, T, async () => {
    const h = new RouterHarness(use, { groups: true });
    const [a, c] = [h.fake('a'), h.fake('c')];
    (await h.lease('a')).release();
    const lc = await h.lease('c');
    const expected = use === 'serial' ? ['c'] : ['a', 'c']; // serial keeps one model resident
    assert.deepEqual(h.router.running().map((r) => r.model), expected);
    a.holdStops = true;
    c.holdStops = true;
    const unloaded = h.router.unload();
    const done = track(unloaded);
    await flush();
    assert.deepEqual(c.stopReasons(), ['unloaded']);
    assert.deepEqual(a.stopReasons(), use === 'serial' ? ['evicted'] : ['unloaded']);
    c.finishStop();
    await flush();
    assert.equal(done.settled, use === 'serial', 'waits for every model');
    if (use !== 'serial') a.finishStop();
    await unloaded;
    assert.deepEqual([...h.fakes.values()].map((f) => f.status()), ['stopped', 'stopped', 'stopped']);
    lc.release();
    assert.deepEqual(h.router.running(), []);
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: unloading a model whose swap is still evicting another leaves it stopped`, T, async () => {
    const h = new RouterHarness(use);
    const [a, b] = [h.fake('a'), h.fake('b')];
    (await h.lease('a')).release();
    a.holdStops = true;
    const pb = h.router.acquire('b');
    await a.untilStatus('stopping');
    await h.router.unload(['b']); // b is still 'stopped': nothing to stop yet
    assert.equal(await rejectionCode(pb), 'MODEL_UNLOADED');
    a.finishStop();
    await flush();
    assert.equal(b.ensureReadyCalls, 0, 'the unloaded model must not be started by its forgotten swap');
    assert.equal(b.status(), 'stopped');
  });

  test(`${use}: unloading a load at the moment it turns ready fails its waiters, never grants them, and stops it`, T, async () => {
    const h = new RouterHarness(use);
    const a = h.fake('a');
    const waiting = h.router.acquire('a');
    await a.untilStatus('starting');
    a.resolveStart(); // ready now; the swap's result is still on its way to the run loop
    const unloaded = h.router.unload(['a']);
    assert.equal(await rejectionCode(waiting), 'MODEL_UNLOADED');
    await unloaded;
    assert.deepEqual(a.stopReasons(), ['unloaded']);
    assert.equal(a.status(), 'stopped');
    assert.deepEqual(h.load('a'), { inFlight: 0, queued: 0 });
    assert.deepEqual(h.bugs(), []);
  });
}
