/**
 * Router.acquire over fake upstreams: one swap per load, leases, release,
 * client aborts, failed loads, crashes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyError } from '../../src/errors.ts';
import { RouterHarness, SCHEDULERS, flush, rejectionCode, track } from './harness.ts';

const T = { timeout: 10_000 };

test('fifo: concurrent requests for a stopped model share one start; leases point at its proxy', T, async () => {
  const h = new RouterHarness('fifo');
  const a = h.fake('a');
  const pending = [h.router.acquire('a'), h.router.acquire('a'), h.router.acquire('a')];
  await a.until(() => a.startCalls === 1);
  assert.deepEqual(h.load('a'), { inFlight: 0, queued: 3 });
  a.resolveStart();
  const leases = await Promise.all(pending);
  assert.equal(a.startCalls, 1);
  assert.equal(a.ensureReadyCalls, 1, 'one swap, not one per request');
  assert.deepEqual(leases.map((l) => [l.model, l.upstream]), Array(3).fill(['a', 'http://127.0.0.1:5800']));
  assert.equal(new Set(leases.map((l) => l.id)).size, 3);
  const r = h.running('a');
  assert.deepEqual([r?.state, r?.inFlight, r?.queued, r?.pid, r?.proxy], ['ready', 3, 0, 4242, 'http://127.0.0.1:5800']);
  for (const l of leases) l.release();
  assert.deepEqual(h.load('a'), { inFlight: 0, queued: 0 });
  assert.deepEqual(h.bugs(), []);
});

test('serial: concurrent requests for a stopped model share one start and are served one at a time', T, async () => {
  const h = new RouterHarness('serial');
  const a = h.fake('a');
  const [p1, p2] = [h.router.acquire('a'), h.router.acquire('a')];
  await a.until(() => a.startCalls === 1);
  a.resolveStart();
  const l1 = await p1;
  const second = track(p2);
  await flush();
  assert.equal(second.settled, false, 'serial: the second waits for the first to finish');
  assert.deepEqual(h.load('a'), { inFlight: 1, queued: 1 });
  l1.release();
  (await p2).release();
  assert.equal(a.startCalls, 1);
  assert.equal(a.ensureReadyCalls, 1);
  assert.deepEqual(h.bugs(), []);
});

for (const use of SCHEDULERS) {
  test(`${use}: release() twice posts one serveDone`, T, async () => {
    const h = new RouterHarness(use);
    const lease = await h.lease('a');
    assert.deepEqual(h.load('a'), { inFlight: 1, queued: 0 });
    lease.release();
    lease.release();
    assert.deepEqual(h.load('a'), { inFlight: 0, queued: 0 });
    assert.deepEqual(h.bugs(), [], 'a second serveDone would trip the reservation assert');
    (await h.router.acquire('a')).release();
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: a client aborting while its model loads gets CLIENT_CLOSED, and the load nobody waits for is cancelled (#727)`, T, async () => {
    const h = new RouterHarness(use);
    const a = h.fake('a');
    const ac = new AbortController();
    const p = h.router.acquire('a', ac.signal);
    await a.until(() => a.startCalls === 1);
    const settled = track(p);
    ac.abort();
    await flush();
    assert.equal(settled.settled, true, 'rejected at once, not when the load ends');
    assert.equal(await rejectionCode(p), 'CLIENT_CLOSED');
    await a.untilStatus('stopped');
    assert.deepEqual(a.stopReasons(), ['cancelled'], 'the start was stopped, not finished for no one');
    assert.deepEqual(h.load('a'), { inFlight: 0, queued: 0 }, 'the aborted request was never granted');
    const next = h.router.acquire('a');
    await a.until(() => a.startCalls === 2);
    a.resolveStart();
    (await next).release();
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: a client aborting while a model that was already loading for another client keeps it loading`, T, async () => {
    const h = new RouterHarness(use);
    const a = h.fake('a');
    const ac = new AbortController();
    const leaving = h.router.acquire('a', ac.signal);
    const staying = h.router.acquire('a');
    await a.until(() => a.startCalls === 1);
    ac.abort();
    assert.equal(await rejectionCode(leaving), 'CLIENT_CLOSED');
    await flush();
    assert.deepEqual(a.stopCalls, [], 'another client still waits');
    a.resolveStart();
    (await staying).release();
    assert.equal(a.startCalls, 1);
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: a preload is never cancelled (its waiter never leaves)`, T, async () => {
    const h = new RouterHarness(use);
    const a = h.fake('a');
    const preloaded = h.router.preload(['a']);
    await a.untilStatus('starting');
    await flush();
    assert.deepEqual(a.stopCalls, []);
    a.resolveStart();
    await preloaded;
    assert.equal(a.status(), 'ready');
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: aborting after the grant does no harm: the lease holds and release works`, T, async () => {
    const h = new RouterHarness(use);
    const ac = new AbortController();
    const lease = await h.lease('a', ac.signal);
    ac.abort();
    await flush();
    assert.deepEqual(h.load('a'), { inFlight: 1, queued: 0 });
    const b = h.fake('b');
    const pb = h.router.acquire('b');
    await flush();
    assert.equal(b.ensureReadyCalls, 0, 'the busy model a is not evicted for b');
    assert.deepEqual(h.fake('a').stopCalls, []);
    lease.release();
    assert.deepEqual(h.load('a'), { inFlight: 0, queued: 0 });
    await b.until(() => b.status() === 'starting');
    b.resolveStart();
    (await pb).release();
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: a failed load rejects every waiter with the upstream's code; the next request starts again`, T, async () => {
    const h = new RouterHarness(use);
    const a = h.fake('a');
    const pending = [h.router.acquire('a'), h.router.acquire('a'), h.router.acquire('a')];
    await a.until(() => a.startCalls === 1);
    a.failStart(new ProxyError('UPSTREAM_NOT_READY', 'health check timed out'));
    assert.deepEqual(await Promise.all(pending.map(rejectionCode)), Array(3).fill('UPSTREAM_NOT_READY'));
    assert.equal(h.running('a'), undefined, 'stopped, nothing queued');
    const lease = await h.lease('a');
    assert.equal(a.startCalls, 2, 'no sticky failure');
    lease.release();
    assert.deepEqual(h.bugs(), []);
  });

  test(`${use}: a crashed model is started again by the next request`, T, async () => {
    const h = new RouterHarness(use);
    const a = h.fake('a');
    (await h.lease('a')).release();
    a.crash();
    assert.equal(h.running('a'), undefined);
    (await h.lease('a')).release();
    assert.equal(a.startCalls, 2);
    assert.deepEqual(h.bugs(), []);
  });
}

test('a load failing with a plain Error becomes UPSTREAM_START_FAILED with the error as cause', T, async () => {
  const h = new RouterHarness('fifo');
  const a = h.fake('a');
  const p = h.router.acquire('a');
  await a.until(() => a.startCalls === 1);
  const boom = new Error('boom');
  a.failStart(boom);
  const err = await p.then(() => assert.fail('granted'), (e: unknown) => e);
  assert.ok(err instanceof ProxyError);
  assert.equal(err.code, 'UPSTREAM_START_FAILED');
  assert.equal(err.cause, boom);
});

test('an already-aborted signal and an unknown model are refused without starting anything', T, async () => {
  const h = new RouterHarness('fifo');
  assert.equal(await rejectionCode(h.router.acquire('a', AbortSignal.abort())), 'CLIENT_CLOSED');
  assert.equal(await rejectionCode(h.router.acquire('nope')), 'MODEL_NOT_FOUND');
  await flush();
  assert.deepEqual([...h.fakes.values()].map((f) => f.ensureReadyCalls), [0, 0, 0]);
  assert.deepEqual(h.router.running(), []);
});
