/**
 * SerialScheduler: the conformance suite (with the evict-all policy it is
 * built with), plus serial-only behaviour.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEvictAllSwapper } from '../../src/scheduler/group-swapper.ts';
import { SerialScheduler } from '../../src/scheduler/serial.ts';
import { Harness, type CreateScheduler } from './harness.ts';
import { runSchedulerSuite } from './scheduler.case.ts';

/** Serial with the evict-all policy; the suite's onSwapStart probe is kept. */
const create: CreateScheduler = (effects, opts) => {
  const evictAll = createEvictAllSwapper();
  return new SerialScheduler({
    ...opts,
    effects,
    swapper: { evictionFor: evictAll.evictionFor, onSwapStart: opts.swapper.onSwapStart },
  });
};

runSchedulerSuite({
  name: 'serial',
  create,
  skip: {
    'disjoint swaps run in parallel': 'serial runs one swap at a time',
    'one swap completing promotes several queued requests': 'serial never batches: one request at a time',
    'collation: a b c a b c needs one swap per model': 'serial keeps strict arrival order (six swaps)',
    'queue is ordered by priority, arrival order among equals': 'serial ignores priority',
  },
});

/** Every step keeps at most one request in flight. */
function atMostOne(h: Harness): void {
  assert.ok(h.inFlightIds().length <= 1, `in flight: ${h.inFlightIds().join(', ')}`);
}

test('strict order a b a makes three swaps and never two requests in flight', () => {
  const h = new Harness(create);
  const ids = [h.send('a'), h.send('b'), h.send('a')];
  for (let step = 0; step < 10 && (h.fx.grants.length < 3 || h.inFlightIds().length > 0); step++) {
    const st = h.fx.starts.at(-1);
    if (st !== undefined && h.fx.modelStatus(st.model) !== 'ready') h.swapDone(st.model);
    atMostOne(h);
    const [id] = h.inFlightIds();
    if (id !== undefined) h.serveDone(id);
    atMostOne(h);
  }
  assert.deepEqual(h.fx.grants, ids);
  assert.deepEqual(h.fx.starts, [
    { model: 'a', evict: [] },
    { model: 'b', evict: ['a'] },
    { model: 'a', evict: ['b'] },
  ]);
});

test('a request for a ready model does not jump the queue', () => {
  const h = new Harness(create);
  h.fx.setStatus('ready', 'a');
  const a1 = h.send('a');
  const b = h.send('b');
  const a2 = h.send('a');
  assert.deepEqual(h.fx.grants, [a1]);
  h.serveDone(a1);
  assert.deepEqual(h.fx.starts, [{ model: 'b', evict: ['a'] }], 'b is next, though a is ready');
  h.swapDone('b');
  h.serveDone(b);
  assert.equal(h.fx.startsFor('a'), 1, 'a is reloaded for a2');
  h.swapDone('a');
  assert.deepEqual(h.fx.grants, [a1, b, a2]);
});

test('back-to-back requests for one model share a swap but are served one at a time', () => {
  const h = new Harness(create);
  const [a1, a2] = [h.send('a'), h.send('a')];
  h.swapDone('a');
  assert.deepEqual(h.fx.grants, [a1]);
  assert.deepEqual(h.s.load('a'), { inFlight: 1, waiting: 1 });
  h.serveDone(a1);
  assert.deepEqual(h.fx.grants, [a1, a2]);
  assert.equal(h.fx.startsFor('a'), 1);
});

test('priority is ignored', () => {
  const h = new Harness(create, { priority: { c: 100 } });
  const ids = [h.send('a'), h.send('b'), h.send('c')];
  h.settle();
  assert.deepEqual(h.fx.grants, ids);
  assert.deepEqual(h.fx.starts.map((s) => s.model), ['a', 'b', 'c']);
});

test('a swap error fails the run of requests for that model at the head, not later ones', () => {
  const h = new Harness(create);
  const [a1, a2, b, a3] = [h.send('a'), h.send('a'), h.send('b'), h.send('a')];
  h.swapFail('a');
  assert.deepEqual(h.fx.errors.map((e) => e.id), [a1, a2]);
  assert.deepEqual(h.fx.lastStart('b'), { model: 'b', evict: [] }, 'b is next');
  h.swapDone('b');
  h.serveDone(b);
  assert.equal(h.fx.startsFor('a'), 2, 'a3 gets a fresh attempt in its turn');
  h.swapDone('a');
  assert.equal(h.fx.served(a3), 1);
});

test('cancelling the head during its swap moves on to the next model', () => {
  const h = new Harness(create);
  const a = h.send('a');
  const b = h.send('b');
  h.s.onCancel(a);
  assert.equal(h.fx.startsFor('b'), 0, 'the running swap is not abandoned');
  h.swapDone('a');
  assert.equal(h.fx.served(a), 0);
  assert.deepEqual(h.fx.lastStart('b'), { model: 'b', evict: ['a'] });
  h.swapDone('b');
  assert.deepEqual(h.fx.grants, [b]);
});

test('a refused grant moves on to the next request for the ready model without a swap', () => {
  const h = new Harness(create);
  const [a1, a2] = [h.send('a'), h.send('a')];
  h.fx.grantServeReturns.set(a1, false);
  h.swapDone('a');
  assert.deepEqual(h.fx.refused, [a1]);
  assert.deepEqual(h.fx.grants, [a2]);
  assert.equal(h.fx.startsFor('a'), 1);
});

test('the next model waits for the forgotten swap of an unloaded model', () => {
  const h = new Harness(create);
  h.send('a');
  h.send('b');
  h.s.onUnload(['a'], 'unloaded');
  assert.equal(h.fx.startsFor('b'), 0, 'only one swap at a time, even a forgotten one');
  h.swapFail('a', 'start aborted by stop');
  assert.equal(h.fx.startsFor('b'), 1);
});

test('an in-flight request blocks the next swap even after its model is unloaded', () => {
  const h = new Harness(create);
  h.fx.setStatus('ready', 'a');
  const a = h.send('a');
  h.send('b');
  h.s.onUnload(['a'], 'unloaded');
  h.fx.setStatus('stopped', 'a');
  assert.equal(h.fx.startsFor('b'), 0);
  h.serveDone(a);
  assert.deepEqual(h.fx.starts, [{ model: 'b', evict: [] }]);
});

test('the head leaving while its model loads cancels the load when the next head wants another model', () => {
  const h = new Harness(create);
  const a = h.send('a');
  const b = h.send('b');
  h.s.onCancel(a);
  assert.deepEqual(h.fx.cancels, ['a'], 'a would be evicted unused by b');
  h.swapFail('a', 'stopped (cancelled) while starting');
  assert.equal(h.fx.startsFor('b'), 1, 'b is next');
  h.swapDone('b');
  assert.deepEqual(h.fx.grants, [b]);
});

test('the head leaving while its model loads keeps the load when the next head wants the same model', () => {
  const h = new Harness(create);
  const a1 = h.send('a');
  const a2 = h.send('a');
  h.s.onCancel(a1);
  assert.deepEqual(h.fx.cancels, []);
  h.swapDone('a');
  assert.deepEqual(h.fx.grants, [a2]);
  assert.equal(h.fx.startsFor('a'), 1);
});

test('a request leaving from the middle of the queue cancels nothing', () => {
  const h = new Harness(create);
  h.send('a');
  const b = h.send('b');
  h.send('c');
  h.s.onCancel(b);
  assert.deepEqual(h.fx.cancels, []);
});
