/**
 * FifoScheduler: the conformance suite, plus fifo-only behaviour (fast-path
 * bypass and its starvation, collision rules, parallel group loads).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FifoScheduler } from '../../src/scheduler/fifo.ts';
import { Harness, type CreateScheduler } from './harness.ts';
import { runSchedulerSuite } from './scheduler.case.ts';

const create: CreateScheduler = (effects, opts) => new FifoScheduler({ ...opts, effects });

runSchedulerSuite({ name: 'fifo', create });

test('fast path bypasses the queue: a ready model is served while another waits (no starvation guard)', () => {
  const h = new Harness(create, { evict: { b: ['a'] } });
  h.fx.setStatus('ready', 'a');
  const a1 = h.send('a');
  h.send('b');
  const a2 = h.send('a');
  assert.deepEqual(h.fx.grants, [a1, a2], 'a2 is granted ahead of the queued b');
  assert.equal(h.fx.starts.length, 0);
  h.serveDone(a1);
  assert.equal(h.fx.starts.length, 0, 'b waits until every a request is done');
  h.serveDone(a2);
  assert.deepEqual(h.fx.starts, [{ model: 'b', evict: ['a'] }]);
});

test('a ready model that an active swap is evicting is not served (it would be stopped)', () => {
  const h = new Harness(create, { evict: { a: ['x'] } });
  h.fx.setStatus('ready', 'x');
  h.send('a');
  const x = h.send('x');
  assert.equal(h.fx.served(x), 0);
  h.swapDone('a');
  assert.deepEqual(h.fx.lastStart('x'), { model: 'x', evict: [] }, 'x restarts once a has stopped it');
});

test('a request that would evict the target of a loading swap queues (targets count as running)', () => {
  const h = new Harness(create, { evict: { b: ['a'] } });
  h.send('a');
  h.send('b');
  assert.deepEqual(h.fx.starts.map((s) => s.model), ['a']);
});

test('a ready target with a running model to evict starts a swap instead of the fast path', () => {
  const h = new Harness(create, { evict: { a: ['b'] } });
  h.fx.setStatus('ready', 'a', 'b');
  const id = h.send('a');
  assert.equal(h.fx.served(id), 0);
  assert.deepEqual(h.fx.starts, [{ model: 'a', evict: ['b'] }]);
  h.swapDone('a');
  assert.equal(h.fx.served(id), 1);
});

test('drain starts an unblocked later request while an earlier one stays queued', () => {
  const h = new Harness(create, { evict: { a: ['x'], b: ['a'], c: ['x'] } });
  h.fx.setStatus('ready', 'x');
  const a = h.send('a');
  h.send('b'); // would evict a's target: queued
  h.send('c'); // overlaps a's evict set: queued
  assert.equal(h.fx.starts.length, 1);
  h.swapDone('a');
  assert.deepEqual(h.fx.starts.map((s) => s.model), ['a', 'c'], 'b is blocked by busy a, c is free');
  h.serveDone(a);
  assert.deepEqual(h.fx.lastStart('b'), { model: 'b', evict: ['a'] });
});

test('unloading a loading model lets requests blocked by its swap proceed', () => {
  const h = new Harness(create, { evict: { b: ['a'] } });
  const a = h.send('a');
  h.send('b');
  h.s.onUnload(['a'], 'unloaded');
  assert.equal(h.fx.errorCode(a), 'MODEL_UNLOADED');
  assert.equal(h.fx.startsFor('b'), 1);
});

test('swap waiters are granted in arrival order', () => {
  const h = new Harness(create);
  const ids = [h.send('a'), h.send('a'), h.send('a')];
  h.swapDone('a');
  assert.deepEqual(h.fx.grants, ids);
});

test('a queued request joins a swap for its model started by drain', () => {
  const h = new Harness(create, { evict: { b: ['a'] } });
  h.fx.setStatus('ready', 'a');
  const a = h.send('a');
  h.send('b');
  h.send('b');
  h.serveDone(a);
  assert.equal(h.fx.startsFor('b'), 1, 'the second b joins the first b swap during the same drain');
  h.swapDone('b');
  assert.equal(h.fx.served('b'), 2);
});
