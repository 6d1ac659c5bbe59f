/**
 * The router's event feed (Router.subscribe): a snapshot first, then every
 * change in the order the run loop handled it, with reasons, load timings
 * and request summaries. Driven over FakeUpstreams: no sockets, no sleeps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FeedEvent } from '../../src/router/feed.ts';
import { RouterHarness, flush, rejectionCode } from './harness.ts';

const T = { timeout: 10_000 };

/** Subscribe and record every event. */
function record(h: RouterHarness): { events: FeedEvent[]; snapshot: ReturnType<RouterHarness['router']['subscribe']>['snapshot']; stop: () => void } {
  const events: FeedEvent[] = [];
  const sub = h.router.subscribe((ev) => events.push(ev));
  return { events, snapshot: sub.snapshot, stop: sub.unsubscribe };
}

/** A compact line per event, for order assertions. */
function line(ev: FeedEvent): string {
  switch (ev.type) {
    case 'model': return `model ${ev.model} ${ev.state}${ev.reason !== undefined ? ` (${ev.reason}${ev.evictedBy !== undefined ? ` by ${ev.evictedBy}` : ''})` : ''}`;
    case 'load': return `load ${ev.model} ${ev.phase}${ev.evicting.length > 0 ? ` evicting ${ev.evicting.join(',')}` : ''}`;
    case 'queue': return `queue ${ev.model} ${ev.inFlight}/${ev.waiting}`;
    case 'request': return `request ${ev.model} ${ev.phase}${ev.phase === 'done' && ev.error !== undefined ? ' error' : ''}`;
  }
}

test('a swap is told in order: load started, the evicted model stopping (evicted by the target), the target starting and ready, then the grant', T, async () => {
  const h = new RouterHarness('fifo');
  const first = await h.lease('a');
  first.release({ status: 200 });
  await flush();
  const rec = record(h);
  assert.deepEqual(rec.snapshot.map((m) => [m.model, m.state, m.inFlight, m.waiting, m.load]), [
    ['a', 'ready', 0, 0, undefined], ['b', 'stopped', 0, 0, undefined], ['c', 'stopped', 0, 0, undefined],
  ]);
  const lease = await h.lease('b');
  lease.release({ status: 200, ttfbMs: 3 });
  await flush();
  assert.deepEqual(rec.events.map(line), [
    'load b started evicting a',
    'queue b 0/1',
    'model a stopping (evicted by b)',
    'model a stopped (evicted by b)',
    'model b starting (request)',
    'model b ready (ready)',
    'load b ready evicting a',
    'request b granted',
    'queue b 1/0',
    'request b done',
    'queue b 0/0',
  ]);
  const done = rec.events.find((e) => e.type === 'request' && e.phase === 'done');
  assert.ok(done?.type === 'request' && done.phase === 'done');
  assert.equal(done.status, 200);
  assert.equal(done.ttfbMs, 3);
  assert.ok(done.waitedMs >= 0 && done.durationMs >= done.waitedMs);
  const ready = rec.events.find((e) => e.type === 'load' && e.phase === 'ready');
  assert.ok(ready?.type === 'load');
  assert.equal(typeof ready.loadMs, 'number');
  assert.equal(typeof ready.stopMs, 'number');
  assert.equal(ready.estimateMs, undefined, 'no estimate before the first load of b');
  rec.stop();
  assert.deepEqual(h.bugs(), []);
});

test('the second load of a model carries an estimate from the first, and a late subscriber sees the load in progress', T, async () => {
  const h = new RouterHarness('fifo');
  (await h.lease('a')).release();
  await h.router.unload(['a']);
  const b = h.fake('a');
  const waiting = h.router.acquire('a');
  await b.untilStatus('starting');
  const rec = record(h);
  const snap = rec.snapshot.find((m) => m.model === 'a');
  assert.equal(snap?.state, 'starting');
  assert.equal(snap?.waiting, 1);
  assert.equal(typeof snap?.load?.estimateMs, 'number');
  assert.equal(h.router.loadEstimate('a'), snap?.load?.estimateMs);
  b.resolveStart();
  (await waiting).release();
  rec.stop();
});

test('preload, unload and ttl-less unload give their reasons; a failed start fails the load and the request', T, async () => {
  const h = new RouterHarness('fifo');
  const rec = record(h);
  const preloaded = h.router.preload(['a']);
  await h.fake('a').untilStatus('starting');
  h.fake('a').resolveStart();
  await preloaded;
  await h.router.unload(['a']);
  const failing = h.router.acquire('b');
  await h.fake('b').untilStatus('starting');
  h.fake('b').failStart();
  assert.equal(await rejectionCode(failing), 'UPSTREAM_START_FAILED');
  await flush();
  const lines = rec.events.map(line).filter((l) => !l.startsWith('queue'));
  assert.deepEqual(lines, [
    'load a started',
    'model a starting (preload)',
    'model a ready (ready)',
    'load a ready',
    'request a granted',
    'request a done',
    'model a stopping (unloaded)',
    'model a stopped (unloaded)',
    'load b started',
    'model b starting (request)',
    'model b stopped (start-failed)',
    'load b failed',
    'request b done error',
  ]);
  rec.stop();
});

test('a client that leaves during a load is a done request (client aborted) and the load is cancelled', T, async () => {
  const h = new RouterHarness('fifo');
  const rec = record(h);
  const ac = new AbortController();
  const waiting = h.router.acquire('a', ac.signal);
  await h.fake('a').untilStatus('starting');
  ac.abort();
  assert.equal(await rejectionCode(waiting), 'CLIENT_CLOSED');
  await h.fake('a').untilStatus('stopped');
  await flush();
  const done = rec.events.find((e) => e.type === 'request' && e.phase === 'done');
  assert.ok(done?.type === 'request' && done.phase === 'done' && done.clientAborted === true);
  assert.ok(rec.events.some((e) => e.type === 'load' && e.phase === 'cancelled'));
  assert.ok(rec.events.some((e) => e.type === 'model' && e.state === 'stopping' && e.reason === 'cancelled'));
  rec.stop();
});

test('with no subscriber nothing is published, and unsubscribing stops the events', T, async () => {
  const h = new RouterHarness('fifo');
  const rec = record(h);
  rec.stop();
  (await h.lease('a')).release();
  await flush();
  assert.deepEqual(rec.events, []);
});
