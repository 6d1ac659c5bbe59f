/**
 * The swap timeline's model (ui/timeline-data.js, plain browser JavaScript
 * with no DOM use, so Node runs it as it is): residency spans, swaps, and why
 * each request waited, from feed events alone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

interface Req { id: number; model: string; arrival: number; grant: number; end: number; waitedMs: number; why?: string }
interface Load { model: string; startedAt: number; end: number; evicting: string[]; phase: string; reason: string }
interface TimelineModule {
  buildTimeline(events: unknown[], live: Map<string, { state: string; load?: unknown }>, start: number, now: number): {
    spans: { model: string; state: string; from: number; to: number }[]; loads: Load[]; requests: Req[]; swaps: Load[];
  };
  whyWaited(r: Req, loads: Load[], requests: Req[]): string | undefined;
}
// a computed specifier: the module is JavaScript with JSDoc types, outside this project's TypeScript
const { buildTimeline, whyWaited } = await import(new URL('../../ui/timeline-data.js', import.meta.url).href) as TimelineModule;

const model = (at: number, m: string, state: string) => ({ type: 'model', at, model: m, state, pid: 1, reason: undefined, evictedBy: undefined });
const loaded = (m: string, startedAt: number, at: number, evicting: string[] = []) =>
  ({ type: 'load', at, model: m, phase: 'ready', startedAt, elapsedMs: at - startedAt, estimateMs: undefined, evicting, reason: 'request', stopMs: 10, loadMs: at - startedAt - 10 });
const done = (id: number, m: string, arrival: number, waitedMs: number, end: number) =>
  ({ type: 'request', at: end, phase: 'done', id, model: m, waitedMs, durationMs: end - arrival, status: 200 });

test('residency spans follow state changes; a model still up runs to now; a swap is a load that evicted something', () => {
  const events = [
    model(100, 'a', 'starting'), model(200, 'a', 'ready'), loaded('a', 100, 200),
    model(300, 'b', 'starting'), model(300, 'a', 'stopping'), model(320, 'a', 'stopped'), model(500, 'b', 'ready'), loaded('b', 300, 500, ['a']),
  ];
  const live = new Map([['a', { state: 'stopped' }], ['b', { state: 'ready' }]]);
  const t = buildTimeline(events, live, 0, 1000);
  const spans = t.spans.map((s) => `${s.model}:${s.state}:${s.from}-${s.to}`).sort();
  assert.deepEqual(spans, ['a:ready:200-300', 'a:starting:100-200', 'a:stopping:300-320', 'b:ready:500-1000', 'b:starting:300-500']);
  assert.deepEqual(t.swaps.map((l) => `${l.evicting.join()}>${l.model}`), ['a>b']);
});

test('a model up since before the view spans the whole view', () => {
  const t = buildTimeline([], new Map([['a', { state: 'ready' }]]), 50, 1000);
  assert.deepEqual(t.spans, [{ model: 'a', state: 'ready', from: 50, to: 1000 }]);
});

test('why a request waited: its own load (a swap), a load that had to end first, requests ahead of it, or hardly at all', () => {
  const loads: Load[] = [
    { model: 'x', startedAt: 0, end: 1000, evicting: [], phase: 'ready', reason: 'request' },
    { model: 'b', startedAt: 1000, end: 2000, evicting: ['a'], phase: 'ready', reason: 'request' },
    { model: 'p', startedAt: 1100, end: 1500, evicting: [], phase: 'ready', reason: 'request' },
  ];
  const r = (id: number, m: string, arrival: number, waitedMs: number, end: number): Req => ({ id, model: m, arrival, grant: arrival + waitedMs, end, waitedMs });
  assert.equal(whyWaited(r(1, 'b', 1200, 800, 2500), loads, []), 'waited for a load of b (a swap: a stopped first)');
  assert.equal(whyWaited(r(2, 'b', 500, 1500, 2500), loads, []), 'queued behind a load of x, then waited for a load of b (a swap: a stopped first)');
  // p loaded beside b: it was not queued behind b
  assert.equal(whyWaited(r(3, 'p', 1100, 400, 1600), loads, []), 'waited for a load of p');
  assert.equal(whyWaited(r(4, 'c', 500, 300, 900), loads, []), 'queued behind a load of x');
  const ahead = [r(5, 'm', 3000, 0, 3500), r(6, 'm', 3010, 0, 3400)];
  assert.equal(whyWaited(r(7, 'm', 3100, 300, 3600), [], ahead), 'queued behind 2 requests of m');
  assert.equal(whyWaited(r(8, 'm', 3100, 10, 3200), [], ahead), undefined, 'a wait too short to explain');
});

test('requests come from done events: arrival = end − duration, grant = arrival + wait, with the reason attached', () => {
  const events = [loaded('a', 100, 600), done(1, 'a', 150, 450, 900)];
  const t = buildTimeline(events, new Map([['a', { state: 'ready' }]]), 0, 1000);
  assert.deepEqual(t.requests.map((q) => [q.arrival, q.grant, q.end, q.why]), [[150, 600, 900, 'waited for a load of a']]);
});
