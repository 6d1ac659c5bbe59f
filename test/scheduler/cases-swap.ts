/**
 * Conformance cases: granting, swapping, queueing, eviction. Ported from
 * llama-swap's fifo_test.go (llama-swap.md §8.3); run by scheduler.case.ts.
 * Where fifo and serial legitimately differ in *when* something happens, the
 * case asserts what both promise (e.g. "b waits while a is busy, then starts
 * once"); the fifo-only timing is in fifo.test.ts.
 */
import assert from 'node:assert/strict';
import { Harness, type CreateScheduler } from './harness.ts';

export type Case = (create: CreateScheduler) => void;

export const swapCases: Readonly<Record<string, Case>> = {
  'ready model with nothing to evict is granted immediately'(create) {
    const h = new Harness(create);
    h.fx.setStatus('ready', 'a');
    const id = h.send('a');
    assert.deepEqual(h.fx.grants, [id]);
    assert.equal(h.fx.starts.length, 0);
    assert.deepEqual(h.s.load('a'), { inFlight: 1, waiting: 0 });
  },

  'stopped model starts one swap and requests during it join'(create) {
    const h = new Harness(create);
    h.send('a');
    h.send('a');
    h.send('a');
    assert.deepEqual(h.fx.starts, [{ model: 'a', evict: [] }]);
    assert.equal(h.fx.served('a'), 0, 'nothing is granted before the swap is done');
    h.swapDone('a');
    h.finishAll();
    assert.equal(h.fx.served('a'), 3);
    assert.equal(h.fx.startsFor('a'), 1, 'one swap serves every caller');
  },

  'swap error fails every waiter and the next request retries'(create) {
    const h = new Harness(create);
    const ids = [h.send('a'), h.send('a')];
    const err = h.swapFail('a');
    assert.deepEqual(h.fx.errors.map((e) => [e.id, e.err]), ids.map((id) => [id, err]));
    assert.equal(h.fx.served('a'), 0);
    assert.deepEqual(h.s.load('a'), { inFlight: 0, waiting: 0 });
    h.send('a');
    assert.equal(h.fx.startsFor('a'), 2, 'no sticky failure: a new swap starts');
  },

  'request that would evict a loading model waits for the swap and its requests'(create) {
    const h = new Harness(create, { evict: { b: ['a'] } });
    const a = h.send('a');
    h.send('b');
    assert.equal(h.fx.startsFor('b'), 0, 'b must not evict a while a loads');
    h.swapDone('a');
    assert.equal(h.fx.served(a), 1);
    assert.equal(h.fx.startsFor('b'), 0, 'b must not evict a while a serves');
    h.serveDone(a);
    assert.deepEqual(h.fx.lastStart('b'), { model: 'b', evict: ['a'] });
  },

  'disjoint swaps run in parallel'(create) {
    const h = new Harness(create);
    h.send('a');
    h.send('b');
    assert.deepEqual(h.fx.starts.map((s) => s.model), ['a', 'b']);
  },

  'overlapping evict sets do not run in parallel'(create) {
    const h = new Harness(create, { evict: { a: ['x'], b: ['x'] } });
    h.fx.setStatus('ready', 'x');
    h.send('a');
    h.send('b');
    assert.deepEqual(h.fx.starts, [{ model: 'a', evict: ['x'] }], 'b must not stop x a second time');
    h.swapDone('a');
    h.finishAll();
    assert.equal(h.fx.startsFor('b'), 1);
  },

  'one swap completing promotes several queued requests'(create) {
    const h = new Harness(create, { evict: { a: ['b', 'c'] } });
    h.fx.setStatus('ready', 'b', 'c');
    h.send('a');
    h.send('b');
    h.send('c');
    assert.deepEqual(h.fx.starts, [{ model: 'a', evict: ['b', 'c'] }], 'b and c wait while a stops them');
    h.swapDone('a');
    assert.deepEqual(h.fx.starts.map((s) => s.model), ['a', 'b', 'c']);
    assert.equal(h.fx.served('a'), 1);
  },

  'collation: a b c a b c needs one swap per model'(create) {
    const h = new Harness(create, { evict: { a: ['b', 'c'], b: ['a', 'c'], c: ['a', 'b'] } });
    for (const m of ['a', 'b', 'c', 'a', 'b', 'c']) h.send(m);
    h.settle();
    assert.deepEqual(h.fx.starts.map((s) => s.model), ['a', 'b', 'c']);
    for (const m of ['a', 'b', 'c']) assert.equal(h.fx.served(m), 2, `served(${m})`);
  },

  'busy model is never evicted'(create) {
    const h = new Harness(create, { evict: { b: ['a'] } });
    h.fx.setStatus('ready', 'a');
    const a1 = h.send('a');
    const a2 = h.send('a');
    h.send('b');
    h.serveDone(a1);
    assert.equal(h.fx.startsFor('b'), 0, 'a still serves one request');
    assert.equal(h.fx.served(a2), 1);
    h.serveDone(a2);
    assert.deepEqual(h.fx.starts, [{ model: 'b', evict: ['a'] }]);
  },

  'grantServe false does not leak in-flight'(create) {
    const h = new Harness(create, { evict: { b: ['a'] } });
    const a = h.send('a');
    h.fx.grantServeReturns.set(a, false);
    h.swapDone('a');
    assert.deepEqual(h.fx.refused, [a]);
    assert.deepEqual(h.s.load('a'), { inFlight: 0, waiting: 0 });
    h.send('b');
    assert.deepEqual(h.fx.lastStart('b'), { model: 'b', evict: ['a'] }, 'a is idle, so b may evict it');
  },

  'queue is ordered by priority, arrival order among equals'(create) {
    const others = ['A', 'B', 'C', 'D', 'z'];
    const evict = Object.fromEntries(others.map((m) => [m, others.filter((o) => o !== m)]));
    const h = new Harness(create, { evict, priority: { A: 10, B: 5, C: 5, D: 1 } });
    h.send('z');
    for (const m of ['B', 'D', 'C', 'A']) h.send(m);
    h.settle();
    assert.deepEqual(h.fx.starts.map((s) => s.model), ['z', 'A', 'B', 'C', 'D']);
  },

  'onSwapStart is told once per real swap, with the evict list'(create) {
    const h = new Harness(create, { evict: { b: ['a'] } });
    h.fx.setStatus('ready', 'a');
    h.send('b');
    h.send('b');
    assert.deepEqual(h.swapStarts, [{ model: 'b', evict: ['a'] }]);
    assert.deepEqual(h.swapStarts, h.fx.starts);
  },

  'load counts in-flight and waiting requests'(create) {
    const h = new Harness(create);
    h.send('a');
    h.send('a');
    assert.deepEqual(h.s.load('a'), { inFlight: 0, waiting: 2 });
    h.swapDone('a');
    const { inFlight, waiting } = h.s.load('a');
    assert.ok(inFlight >= 1, 'a waiter is served once the swap is done');
    assert.equal(inFlight + waiting, 2);
    h.finishAll();
    assert.deepEqual(h.s.load('a'), { inFlight: 0, waiting: 0 });
    assert.deepEqual(h.s.load('b'), { inFlight: 0, waiting: 0 });
  },
};
