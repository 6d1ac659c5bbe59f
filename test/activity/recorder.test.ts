/** The recorder: rows from done events, written in batches off the listener's path, never synchronously. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CaptureStore } from '../../src/activity/captures.ts';
import { parseQuery } from '../../src/activity/query.ts';
import { ActivityRecorder } from '../../src/activity/recorder.ts';
import { ActivityStore } from '../../src/activity/store.ts';
import type { FeedEvent } from '../../src/router/feed.ts';
import { row } from './rows.ts';

const all = parseQuery(new URLSearchParams('limit=999&order=asc'));
const request = { method: 'POST', path: '/v1/chat/completions' };
const done = (id: number, more: object = {}): FeedEvent => ({ type: 'request', at: 1_000_000, phase: 'done', id, model: 'm', waitedMs: 40, durationMs: 100, request, ...more });

it('a row is queued, not written, by the listener; the timer writes the batch in one go', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const store = await ActivityStore.open({ maxRows: 100, retentionMs: 0 });
  const rec = new ActivityRecorder({ store, onError: assert.fail, flushMs: 250 });
  rec.listener(done(1, { status: 200, ttfbMs: 12.4, usage: { promptTokens: 5, completionTokens: 7, tokensPerSecond: 33.333 }, contentType: 'application/json' }));
  rec.listener(done(2, { request: { ...request, sessionId: 's1' }, clientAborted: true, status: 200 }));
  assert.equal(store.page(all).total, 0, 'nothing written on the listener path');
  t.mock.timers.tick(249);
  assert.equal(store.page(all).total, 0);
  t.mock.timers.tick(1);
  const { rows } = store.page(all);
  assert.deepEqual(rows.map((r) => r.id), [1, 2]);
  assert.deepEqual(
    { ts: rows[0]!.ts, status: rows[0]!.status, queued: rows[0]!.queuedMs, ttfb: rows[0]!.ttfbMs, duration: rows[0]!.durationMs, in: rows[0]!.promptTokens, out: rows[0]!.completionTokens, tps: rows[0]!.tokensPerSecond, ct: rows[0]!.contentType },
    { ts: 999_900, status: 200, queued: 40, ttfb: 12, duration: 100, in: 5, out: 7, tps: 33.33, ct: 'application/json' },
  );
  assert.deepEqual([rows[1]!.clientAborted, rows[1]!.sessionId], [true, 's1']);
  rec.close();
  store.close();
});

it('a full batch is written on the next turn, not in the listener; refusals get the status of their error; preloads and other events are not rows', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] });
  const store = await ActivityStore.open({ maxRows: 100, retentionMs: 0 });
  const rec = new ActivityRecorder({ store, onError: assert.fail, batchRows: 3 });
  rec.listener(done(1, { request: undefined })); // a preload
  rec.listener({ type: 'request', at: 0, phase: 'granted', id: 2, model: 'm', waitedMs: 0 });
  rec.listener({ type: 'queue', at: 0, model: 'm', inFlight: 1, waiting: 0 });
  rec.listener(done(3, { errorCode: 'CONCURRENCY_LIMIT', error: 'too many' }));
  rec.listener(done(4, { errorCode: 'UPSTREAM_START_FAILED', error: 'exited' }));
  assert.equal(store.page(all).total, 0);
  rec.listener(done(5, { clientAborted: true, error: 'client closed the request before its grant' }));
  assert.equal(store.page(all).total, 0, 'not inside the listener');
  t.mock.timers.tick(0);
  const { rows } = store.page(all);
  assert.deepEqual(rows.map((r) => [r.id, r.status, r.error]), [[1, 429, 'too many'], [2, 502, 'exited'], [3, null, 'client closed the request before its grant']]);
  rec.close();
  rec.listener(done(6, { status: 200 }));
  assert.equal(store.page(all).total, 3, 'nothing after close');
  store.close();
});

it('ids go on from the store, and a held capture is filed under the row id', async () => {
  const store = await ActivityStore.open({ maxRows: 100, retentionMs: 0 });
  store.insert([row(41)]);
  const captures = new CaptureStore(10_000);
  captures.hold(9, captures.begin('/v1/chat/completions', [], Buffer.from('{}')).finish());
  const rec = new ActivityRecorder({ store, captures, onError: assert.fail });
  rec.listener(done(9, { status: 200 }));
  rec.flush();
  assert.deepEqual(store.page(all).rows.map((r) => r.id), [41, 42]);
  assert.equal(captures.has(42), true);
  rec.close();
  store.close();
});

it('a batch that cannot be written is reported and dropped', async () => {
  const store = await ActivityStore.open({ maxRows: 100, retentionMs: 0 });
  const errors: number[] = [];
  const rec = new ActivityRecorder({ store, onError: (_err, rows) => errors.push(rows) });
  store.close();
  rec.listener(done(1, { status: 200 }));
  rec.flush();
  assert.deepEqual(errors, [1]);
});


it('with keepRows (an in-memory history) nothing is written until a read flushes; only the last keepRows rows are kept, with their ids', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] });
  const store = await ActivityStore.open({ maxRows: 3, retentionMs: 0 });
  const rec = new ActivityRecorder({ store, onError: assert.fail, batchRows: 2, keepRows: 3 });
  for (let i = 1; i <= 8; i++) rec.listener(done(i, { status: 200 }));
  t.mock.timers.tick(10_000);
  assert.equal(store.page(all).total, 0, 'no timer, no batch: written on a read only');
  rec.flush();
  assert.deepEqual(store.page(all).rows.map((r) => r.id), [6, 7, 8]);
  rec.listener(done(9, { status: 200 }));
  rec.flush();
  assert.deepEqual(store.page(all).rows.map((r) => r.id), [7, 8, 9], 'the store keeps its cap as rows arrive');
  rec.close();
  store.close();
});

it('the swap a request caused stays on its own row when older waiting rows are dropped', async () => {
  const store = await ActivityStore.open({ maxRows: 3, retentionMs: 0 });
  const rec = new ActivityRecorder({ store, onError: assert.fail, keepRows: 3 });
  const load = { at: 0, model: 'm', startedAt: 0, elapsedMs: 0, estimateMs: undefined, evicting: ['old'], reason: 'request' } as const;
  for (let i = 1; i <= 4; i++) rec.listener(done(i, { status: 200 }));
  rec.listener({ type: 'load', ...load, phase: 'started' });
  rec.listener({ type: 'load', ...load, phase: 'ready', loadMs: 80 });
  rec.listener({ type: 'request', at: 0, phase: 'granted', id: 5, model: 'm', waitedMs: 90 });
  rec.listener(done(5, { status: 200 }));
  rec.listener(done(6, { status: 200 })); // 6 waiting = 2 × keepRows: the oldest 3 are dropped
  rec.flush();
  assert.deepEqual(store.page(all).rows.map((r) => [r.id, r.causedSwap, r.evicted, r.loadMs]), [[4, false, [], null], [5, true, ['old'], 80], [6, false, [], null]]);
  rec.close();
  store.close();
});
