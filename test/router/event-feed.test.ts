/** EventFeed: listeners get the event types they asked for, and publishers can tell which types anyone wants. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventFeed, type FeedEvent } from '../../src/router/feed.ts';

const queue: FeedEvent = { type: 'queue', at: 1, model: 'm', inFlight: 1, waiting: 0 };
const done: FeedEvent = { type: 'request', at: 2, phase: 'done', id: 1, model: 'm', waitedMs: 0, durationMs: 1 };

test('a listener gets only its types; wants() says whether anyone listens to a type', () => {
  const feed = new EventFeed();
  assert.deepEqual([feed.wants('queue'), feed.wants('request')], [false, false]);
  const recorded: string[] = [];
  const all: string[] = [];
  const offRecorded = feed.subscribe((ev) => recorded.push(ev.type), ['request']);
  assert.deepEqual([feed.wants('queue'), feed.wants('request')], [false, true], 'nobody wants queue events yet');
  const offAll = feed.subscribe((ev) => all.push(ev.type));
  assert.equal(feed.wants('queue'), true);
  feed.publish(queue);
  feed.publish(done);
  assert.deepEqual(recorded, ['request']);
  assert.deepEqual(all, ['queue', 'request']);
  offAll();
  assert.deepEqual([feed.wants('queue'), feed.wants('model'), feed.wants('request')], [false, false, true]);
  offRecorded();
  assert.equal(feed.wants('request'), false);
});

test('the same function subscribed twice is two subscriptions, each ended by its own unsubscribe', () => {
  const feed = new EventFeed();
  const got: number[] = [];
  const listener = (ev: FeedEvent): void => void got.push(ev.at);
  const first = feed.subscribe(listener);
  feed.subscribe(listener);
  feed.publish(queue);
  assert.deepEqual(got, [1, 1]);
  first();
  feed.publish(done);
  assert.deepEqual(got, [1, 1, 2]);
});
