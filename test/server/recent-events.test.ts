/** The feed's bounded recent past: progress, queue counts and grants skipped, oldest dropped by count and by age. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FeedEvent } from '../../src/router/feed.ts';
import { RecentEvents } from '../../src/server/recent-events.ts';

const queue = (at: number, n = 0): FeedEvent => ({ type: 'queue', at, model: 'm', inFlight: n, waiting: 0 });
const state = (at: number): FeedEvent => ({ type: 'model', at, model: 'm', state: 'ready', pid: 1, reason: 'ready', evictedBy: undefined });
const load = (at: number, phase: 'started' | 'progress' | 'ready'): FeedEvent =>
  ({ type: 'load', at, model: 'm', phase, startedAt: 0, elapsedMs: at, estimateMs: undefined, evicting: [], reason: 'request' });

test('load progress is not kept; starts and ends are', () => {
  const r = new RecentEvents({ now: () => 10 });
  for (const ev of [load(1, 'started'), load(2, 'progress'), load(3, 'progress'), load(4, 'ready')]) r.record(ev);
  assert.deepEqual(r.since().map((e) => e.at), [1, 4]);
});

test('queue counts and grants are not kept (the timeline draws neither); request summaries and state changes are', () => {
  const r = new RecentEvents({ now: () => 10 });
  r.record(queue(1, 1));
  r.record({ type: 'request', at: 2, phase: 'granted', id: 1, model: 'm', waitedMs: 0 });
  r.record({ type: 'request', at: 3, phase: 'done', id: 1, model: 'm', waitedMs: 0, durationMs: 1 });
  r.record(state(4));
  assert.deepEqual(r.since().map((e) => `${e.type}@${e.at}`), ['request@3', 'model@4']);
  assert.deepEqual(RecentEvents.TYPES, ['model', 'load', 'request'], 'subscribed without queue: the router builds none for it');
});

test('at most maxEvents, the oldest dropped first, across many compactions', () => {
  const r = new RecentEvents({ maxEvents: 100, now: () => 0 });
  for (let i = 0; i < 5000; i++) r.record(state(i));
  const kept = r.since();
  assert.equal(kept.length, 100);
  assert.deepEqual([kept[0]!.at, kept[99]!.at], [4900, 4999]);
});

test('events older than maxAgeMs are dropped, even with no new event', () => {
  let now = 1000;
  const r = new RecentEvents({ maxAgeMs: 500, now: () => now });
  r.record(state(600));
  r.record(state(900));
  assert.equal(r.since().length, 2);
  now = 1200;
  assert.deepEqual(r.since().map((e) => e.at), [900]);
  now = 2000;
  assert.deepEqual(r.since(), []);
});

test('since() keeps events at or after the given time', () => {
  const r = new RecentEvents({ now: () => 100 });
  for (const at of [10, 20, 30]) r.record(state(at));
  assert.deepEqual(r.since(20).map((e) => e.at), [20, 30]);
});
