/** The batch wait bound read off a proxy's event feed (bench/lib/proxy-waits.ts), on hand-made feeds. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { proxyWaits } from '../../bench/lib/proxy-waits.ts';
import type { FeedEvent } from '../../src/router/feed.ts';

/** A request of `model` that arrived at `arrivedAt`, was granted `waitedMs` later and served for `serviceMs`: its done event, all the recent past keeps of it. */
function req(id: number, model: string, arrivedAt: number, waitedMs: number, serviceMs: number): FeedEvent[] {
  return [{ type: 'request', at: arrivedAt + waitedMs + serviceMs, phase: 'done', id, model, waitedMs, durationMs: waitedMs + serviceMs, status: 200 }];
}

function ready(model: string, at: number, stopMs: number, loadMs: number): FeedEvent {
  return { type: 'load', at, model, phase: 'ready', startedAt: at - stopMs - loadMs, elapsedMs: stopMs + loadMs, estimateMs: undefined, evicting: [], reason: 'request', stopMs, loadMs };
}

test('the longest wait, load, stop and service come from the feed; other runners get no bound', () => {
  const w = proxyWaits([ready('a', 300, 0, 300), ...req(1, 'a', 0, 300, 40), ready('b', 700, 20, 300), ...req(2, 'b', 100, 600, 90)], { bound: false });
  assert.deepEqual(w, { granted: 2, waitMaxMs: 600, loadMaxMs: 300, stopMaxMs: 20, serviceMaxMs: 90 });
});

test('the bound: maxWait (twice the larger of 1 s and the longest load of any model) + T + (S + L + D) + (k + 1)(S + L) + k·D', () => {
  // b waits while a's request does (k = 1): 2000 + 50 + (20 + 300 + 90) + 2·320 + 90 = 3190 ms.
  const events = [ready('a', 300, 0, 300), ...req(1, 'a', 0, 300, 40), ready('b', 700, 20, 300), ...req(2, 'b', 100, 600, 90)];
  const w = proxyWaits(events, { bound: true });
  assert.equal(w.bound?.over, 0);
  assert.deepEqual(w.bound?.tightest, { model: 'b', waitMs: 600, boundMs: 3190 });
  // a's longest load of 1.5 s makes its maxWait 3 s; alone (k = 0): 3000 + 50 + 1820 + 1520 = 6390 ms.
  const slow = proxyWaits([ready('a', 1500, 20, 1500), ...req(1, 'a', 0, 1500, 300)], { bound: true });
  assert.deepEqual(slow.bound?.tightest, { model: 'a', waitMs: 1500, boundMs: 6390 });
});

test('a wait beyond its bound is counted', () => {
  // maxWait 0.5 s: 500 + 50 + 410 + 2·320 + 90 = 1690 ms for b, which waited 2 s.
  const events = [ready('a', 300, 0, 300), ...req(1, 'a', 0, 300, 40), ready('b', 2100, 20, 300), ...req(2, 'b', 100, 2000, 90)];
  const w = proxyWaits(events, { bound: true, maxWaitMs: 500 });
  assert.equal(w.bound?.over, 1);
  assert.deepEqual(w.bound?.tightest, { model: 'b', waitMs: 2000, boundMs: 1690 });
});

test('a request that ended before its grant (refused, or its client left) is not a wait', () => {
  const failed: FeedEvent = { type: 'request', at: 50, phase: 'done', id: 9, model: 'a', waitedMs: 50, durationMs: 50, errorCode: 'MODEL_NOT_FOUND', error: 'no' };
  const left: FeedEvent = { type: 'request', at: 80, phase: 'done', id: 8, model: 'a', waitedMs: 80, durationMs: 80, clientAborted: true, error: 'client closed the request before its grant' };
  const w = proxyWaits([failed, left, ready('a', 300, 0, 300), ...req(1, 'a', 0, 300, 40)], { bound: true });
  assert.equal(w.granted, 1);
  assert.equal(w.serviceMaxMs, 40);
});
