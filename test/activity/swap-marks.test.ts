/** Which request caused a swap, from feed events alone (plain tables, no timers). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SwapMarks } from '../../src/activity/swap-marks.ts';
import type { FeedEvent } from '../../src/router/feed.ts';

const load = (model: string, phase: 'started' | 'ready' | 'failed' | 'cancelled', evicting: string[] = [], reason: 'request' | 'preload' = 'request'): FeedEvent => ({
  type: 'load', at: 0, model, phase, startedAt: 0, elapsedMs: 0, estimateMs: undefined, evicting, reason, ...(phase === 'started' ? {} : { stopMs: 5, loadMs: 300 }),
});
const granted = (id: number, model: string): FeedEvent => ({ type: 'request', at: 0, phase: 'granted', id, model, waitedMs: 0 });
const done = (id: number, model: string, more: object = {}): FeedEvent => ({ type: 'request', at: 0, phase: 'done', id, model, waitedMs: 0, durationMs: 0, ...more });

function run(events: FeedEvent[]): Map<number, unknown> {
  const marks = new SwapMarks();
  const out = new Map<number, unknown>();
  for (const ev of events) {
    const m = marks.observe(ev);
    if (ev.type === 'request' && ev.phase === 'done') out.set(ev.id, m);
  }
  return out;
}

it('the first request granted after a load gets it, with what it evicted; the one that joined does not', () => {
  const r = run([load('b', 'started', ['a']), load('b', 'ready', ['a']), granted(1, 'b'), granted(2, 'b'), done(2, 'b'), done(1, 'b'), granted(3, 'b'), done(3, 'b')]);
  assert.deepEqual(r.get(1), { evicted: ['a'], loadMs: 300 });
  assert.equal(r.get(2), undefined);
  assert.equal(r.get(3), undefined);
});

it('a failed load is credited to the first request that failed with it', () => {
  const r = run([load('x', 'started', ['a']), load('x', 'failed', ['a']), done(1, 'x', { errorCode: 'UPSTREAM_START_FAILED' }), done(2, 'x', { errorCode: 'UPSTREAM_START_FAILED' })]);
  assert.deepEqual(r.get(1), { evicted: ['a'], loadMs: 300 });
  assert.equal(r.get(2), undefined);
});

it('a preload or a cancelled load is nobody’s; a client that leaves during the load leaves it to the next', () => {
  assert.equal(run([load('a', 'started', [], 'preload'), load('a', 'ready'), granted(1, 'a'), done(1, 'a')]).get(1), undefined);
  assert.equal(run([load('a', 'started'), load('a', 'cancelled'), done(1, 'a', { clientAborted: true }), load('a', 'ready'), granted(2, 'a'), done(2, 'a')]).get(2), undefined);
  const r = run([load('a', 'started'), done(1, 'a', { clientAborted: true }), load('a', 'ready'), granted(2, 'a'), done(2, 'a')]);
  assert.equal(r.get(1), undefined);
  assert.deepEqual(r.get(2), { evicted: [], loadMs: 300 });
});
