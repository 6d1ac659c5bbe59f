/** `modelswap top`'s state and frames from feed events, as plain tables (no socket, no clock). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FeedEvent, ModelSnapshot } from '../../src/router/feed.ts';
import { loadProgress, renderFrame } from '../../src/client/top-render.ts';
import { TopState } from '../../src/client/top-state.ts';

const AT = new Date(2026, 0, 1, 12, 0, 0).getTime();
const snap = (model: string, over: Partial<ModelSnapshot> = {}): ModelSnapshot => ({ model, state: 'stopped', pid: undefined, inFlight: 0, waiting: 0, ...over });
const lines = (s: TopState, now = AT): string[] => renderFrame(s, 'http://127.0.0.1:8080', now).split('\n');

describe('TopState', () => {
  it('follows a load from the snapshot to ready: counts, progress, pid, how it ended', () => {
    const s = new TopState();
    s.snapshot([snap('a'), snap('b', { state: 'ready', pid: 11, inFlight: 1 })], AT);
    const evs: FeedEvent[] = [
      { type: 'load', at: AT, model: 'a', phase: 'started', startedAt: AT, elapsedMs: 0, estimateMs: 4000, evicting: ['b'], reason: 'request' },
      { type: 'queue', at: AT, model: 'a', inFlight: 0, waiting: 2 },
      { type: 'model', at: AT, model: 'b', state: 'stopped', pid: 11, reason: 'evicted', evictedBy: 'a' },
      { type: 'model', at: AT, model: 'a', state: 'starting', pid: 12, reason: 'request', evictedBy: undefined },
      { type: 'load', at: AT, model: 'a', phase: 'progress', startedAt: AT, elapsedMs: 1000, estimateMs: 4000, evicting: ['b'], reason: 'request' },
    ];
    for (const ev of evs) s.apply(ev, AT);
    assert.deepEqual(lines(s, AT + 1000).slice(2, 5), [
      'MODEL   STATE      PID   IN-FLIGHT   QUEUED   LOAD',
      'a       starting   12    0           2        2.0s of ~4.0s [#####-----], evicting b',
      'b       stopped    -     1           0',
    ]);
    s.apply({ type: 'model', at: AT, model: 'a', state: 'ready', pid: 12, reason: 'ready', evictedBy: undefined }, AT);
    s.apply({ type: 'load', at: AT, model: 'a', phase: 'ready', startedAt: AT, elapsedMs: 3500, estimateMs: 4000, evicting: ['b'], reason: 'request', stopMs: 100, loadMs: 3400 }, AT);
    s.apply({ type: 'request', at: AT, phase: 'done', id: 3, model: 'a', waitedMs: 3500, durationMs: 3700, status: 200, ttfbMs: 50 }, AT);
    const frame = lines(s);
    assert.equal(frame[0], 'modelswap top — http://127.0.0.1:8080 — 12:00:00');
    assert.equal(frame[3], 'a       ready     12    0           2        loaded in 3.4s');
    assert.deepEqual(frame.slice(6, 12), [
      'Recent:',
      '  12:00:00 b stopped (evicted by a)',
      '  12:00:00 a starting (request)',
      '  12:00:00 a ready',
      '  12:00:00 load a ready after 3.5s',
      '  12:00:00 request 3 a 200 in 3.7s (waited 3.5s)',
    ]);
  });

  it('a fresh snapshot (after dropped events) replaces the models but keeps how each last load ended', () => {
    const s = new TopState();
    s.apply({ type: 'load', at: AT, model: 'a', phase: 'failed', startedAt: AT, elapsedMs: 2000, estimateMs: undefined, evicting: [], reason: 'request', error: 'exit 1' }, AT);
    s.snapshot([snap('a'), snap('c', { state: 'ready', pid: 5 })], AT);
    assert.deepEqual(lines(s).slice(3, 5), ['a       stopped   -     0           0        failed after 2.0s', 'c       ready     5     0           0']);
  });
});

describe('loadProgress', () => {
  it('counts on from the last report; says when there is no estimate yet; caps the bar', () => {
    const load = { elapsedMs: 500, estimateMs: undefined, evicting: [], seenAt: AT };
    assert.equal(loadProgress(load, AT + 250), '750ms (first load: no estimate)');
    assert.equal(loadProgress({ ...load, estimateMs: 1000 }, AT + 3000), '3.5s of ~1.0s [##########]');
  });
});
