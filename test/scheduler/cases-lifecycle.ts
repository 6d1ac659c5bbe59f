/**
 * Conformance cases: admission, reservations, cancel, unload, shutdown and
 * invariants. Ported from llama-swap's fifo_test.go (llama-swap.md §8.3);
 * run by scheduler.case.ts.
 */
import assert from 'node:assert/strict';
import { ProxyError } from '../../src/errors.ts';
import { Harness } from './harness.ts';
import type { Case } from './cases-swap.ts';

const isAssertion = { name: 'AssertionError' };

export const lifecycleCases: Readonly<Record<string, Case>> = {
  'unknown model is refused at admission with MODEL_NOT_FOUND'(create) {
    const h = new Harness(create);
    const id = h.send('ghost');
    assert.equal(h.fx.errorCode(id), 'MODEL_NOT_FOUND');
    assert.equal(h.fx.starts.length, 0);
    assert.deepEqual(h.s.load('ghost'), { inFlight: 0, waiting: 0 });
  },

  'concurrency limit refuses at admission with CONCURRENCY_LIMIT and Retry-After 1'(create) {
    const h = new Harness(create, { limits: { a: 2 } });
    h.send('a');
    h.send('a');
    const third = h.send('a');
    const e = h.fx.errors.find((r) => r.id === third)?.err;
    assert.equal(e?.code, 'CONCURRENCY_LIMIT');
    assert.equal(e?.retryAfterSeconds, 1);
    assert.equal(h.fx.startsFor('a'), 1);
    assert.deepEqual(h.s.load('a'), { inFlight: 0, waiting: 2 }, 'a refused request holds no reservation');
    h.settle();
    const fourth = h.send('a');
    assert.equal(h.fx.served(fourth), 1, 'reservations are back once the others are done');
  },

  'swap waiters and queued requests hold reservations'(create) {
    const h = new Harness(create, { evict: { b: ['a'] }, limits: { a: 1, b: 1 } });
    h.send('a');
    assert.equal(h.fx.errorCode(h.send('a')), 'CONCURRENCY_LIMIT', 'the swap waiter holds a');
    h.send('b');
    assert.equal(h.fx.errorCode(h.send('b')), 'CONCURRENCY_LIMIT', 'the queued request holds b');
  },

  'in-flight requests hold reservations until served-done'(create) {
    const h = new Harness(create, { limits: { a: 1 } });
    h.fx.setStatus('ready', 'a');
    const a1 = h.send('a');
    assert.equal(h.fx.errorCode(h.send('a')), 'CONCURRENCY_LIMIT');
    h.serveDone(a1);
    assert.equal(h.fx.served(h.send('a')), 1);
  },

  'a failed request releases its reservation'(create) {
    const h = new Harness(create, { limits: { a: 1 } });
    h.send('a');
    h.swapFail('a');
    const again = h.send('a');
    assert.equal(h.fx.errorCode(again), undefined);
    assert.equal(h.fx.startsFor('a'), 2);
  },

  'a refused grant releases its reservation'(create) {
    const h = new Harness(create, { limits: { a: 1 } });
    h.fx.setStatus('ready', 'a');
    h.fx.grantServeReturns.set(1, false);
    h.send('a');
    assert.deepEqual(h.fx.refused, [1]);
    assert.equal(h.fx.served(h.send('a')), 1);
  },

  'cancel removes a queued request: no swap starts for it'(create) {
    const h = new Harness(create, { evict: { b: ['a'] }, limits: { b: 1 } });
    h.send('a');
    const b = h.send('b');
    h.s.onCancel(b);
    assert.deepEqual(h.s.load('b'), { inFlight: 0, waiting: 0 });
    const b2 = h.send('b');
    assert.equal(h.fx.errorCode(b2), undefined, 'the cancelled request released its reservation');
    h.s.onCancel(b2);
    h.settle();
    assert.equal(h.fx.startsFor('b'), 0);
    assert.equal(h.fx.served('b') + h.fx.errored('b'), 0);
  },

  'cancel removes a swap waiter: no grant, no in-flight'(create) {
    const h = new Harness(create);
    const live = h.send('a');
    const gone = h.send('a');
    h.s.onCancel(gone);
    h.swapDone('a');
    assert.deepEqual(h.fx.grants, [live]);
    assert.deepEqual(h.s.load('a'), { inFlight: 1, waiting: 0 });
    h.finishAll();
    assert.equal(h.fx.served(gone), 0);
  },

  'cancelling the request that started a swap still serves the joined one'(create) {
    const h = new Harness(create);
    const first = h.send('a');
    const second = h.send('a');
    h.s.onCancel(first);
    assert.deepEqual(h.fx.cancels, [], 'someone still waits: the load goes on');
    h.swapDone('a');
    assert.deepEqual(h.fx.grants, [second]);
    assert.equal(h.fx.startsFor('a'), 1);
  },

  'a load whose only waiter left is cancelled (llama-swap #727), and its late swapDone is ignored'(create) {
    const h = new Harness(create);
    const gone = h.send('a');
    h.s.onCancel(gone);
    assert.deepEqual(h.fx.cancels, ['a']);
    assert.deepEqual(h.s.load('a'), { inFlight: 0, waiting: 0 });
    h.swapFail('a', 'stopped (cancelled) while starting');
    assert.equal(h.fx.errors.length, 0, 'the cancelled request gets no answer: its client is gone');
    assert.equal(h.fx.served(gone), 0);
    const next = h.send('a');
    assert.equal(h.fx.startsFor('a'), 2, 'a later request starts a fresh load');
    h.swapDone('a');
    assert.deepEqual(h.fx.grants, [next]);
  },

  'a request arriving while a cancelled load winds down waits for it, then gets a fresh load'(create) {
    const h = new Harness(create);
    h.s.onCancel(h.send('a'));
    const next = h.send('a');
    assert.equal(h.fx.startsFor('a'), 1, 'never two swaps for one model at once');
    assert.deepEqual(h.s.load('a'), { inFlight: 0, waiting: 1 });
    h.swapFail('a', 'stopped (cancelled) while starting');
    assert.equal(h.fx.startsFor('a'), 2);
    h.swapDone('a');
    assert.deepEqual(h.fx.grants, [next]);
    assert.equal(h.fx.errorCode(next), undefined);
  },

  'an adopted in-flight request (config reload) blocks evicting its model until it is served-done'(create) {
    const h = new Harness(create, { evict: { b: ['a'] } });
    h.fx.setStatus('ready', 'a');
    h.s.adopt({ id: 100, model: 'a' });
    assert.deepEqual(h.s.load('a'), { inFlight: 1, waiting: 0 });
    const b = h.send('b');
    assert.equal(h.fx.startsFor('b'), 0, 'a is busy: not evicted');
    h.s.onServeDone(100);
    assert.deepEqual(h.s.load('a'), { inFlight: 0, waiting: 0 });
    assert.equal(h.fx.startsFor('b'), 1);
    h.swapDone('b');
    assert.deepEqual(h.fx.grants, [b]);
  },

  'cancelling a granted or unknown request does nothing'(create) {
    const h = new Harness(create);
    h.fx.setStatus('ready', 'a');
    const id = h.send('a');
    h.s.onCancel(id);
    h.s.onCancel(999);
    assert.deepEqual(h.s.load('a'), { inFlight: 1, waiting: 0 });
    assert.equal(h.fx.errors.length, 0);
    h.serveDone(id);
    assert.deepEqual(h.s.load('a'), { inFlight: 0, waiting: 0 });
  },

  'unload fails the waiters of its swap, stops it (passing its reason on) and ignores its late swapDone'(create) {
    const h = new Harness(create);
    const ids = [h.send('a'), h.send('a')];
    h.s.onUnload(['a'], 'ttl');
    assert.deepEqual(ids.map((id) => h.fx.errorCode(id)), ['MODEL_UNLOADED', 'MODEL_UNLOADED']);
    assert.deepEqual(h.fx.stops, [{ models: ['a'], reason: 'ttl' }]);
    h.swapDone('a');
    assert.equal(h.fx.grants.length, 0);
    assert.deepEqual(h.s.load('a'), { inFlight: 0, waiting: 0 });
  },

  'unload fails queued requests for the model and leaves other swaps alone'(create) {
    const h = new Harness(create, { evict: { b: ['a'] } });
    const a = h.send('a');
    const b = h.send('b');
    h.s.onUnload(['b'], 'unloaded');
    assert.equal(h.fx.errorCode(b), 'MODEL_UNLOADED');
    assert.equal(h.fx.errored(a) + h.fx.served(a), 0, "a's swap is untouched");
    h.settle();
    assert.equal(h.fx.served(a), 1);
    assert.equal(h.fx.startsFor('b'), 0);
  },

  'inFlight lists adopted and granted requests until their serveDone, never waiting ones'(create) {
    const h = new Harness(create, { evict: { b: ['a'] } });
    h.s.adopt({ id: 100, model: 'a' });
    h.fx.setStatus('ready', 'a');
    const b = h.send('b'); // must wait: a is busy and would be evicted
    assert.deepEqual(h.s.inFlight(), [{ id: 100, model: 'a' }]);
    h.serveDone(100);
    h.swapDone('b');
    assert.equal(h.fx.served(b), 1);
    assert.deepEqual(h.s.inFlight(), [{ id: b, model: 'b' }]);
    h.serveDone(b);
    assert.deepEqual(h.s.inFlight(), []);
  },

  'unload does not wait for in-flight requests, whose serveDone still counts'(create) {
    const h = new Harness(create);
    h.fx.setStatus('ready', 'a');
    const id = h.send('a');
    h.s.onUnload(['a'], 'unloaded');
    assert.equal(h.fx.errors.length, 0);
    assert.deepEqual(h.s.load('a'), { inFlight: 1, waiting: 0 });
    h.serveDone(id);
    assert.deepEqual(h.s.load('a'), { inFlight: 0, waiting: 0 });
  },

  'after unloading a loading model, a new request waits for the forgotten swap'(create) {
    const h = new Harness(create);
    h.send('a');
    h.s.onUnload(['a'], 'unloaded');
    const again = h.send('a');
    assert.equal(h.fx.startsFor('a'), 1, 'never two swaps for one model at once');
    h.swapFail('a', 'start aborted by stop');
    assert.equal(h.fx.errorCode(again), undefined, "the forgotten swap's result reaches nobody");
    assert.equal(h.fx.startsFor('a'), 2);
    h.swapDone('a');
    assert.equal(h.fx.served(again), 1);
  },

  'shutdown fails swap waiters and queued requests, stops everything, refuses later requests'(create) {
    const h = new Harness(create, { evict: { c: ['a', 'b'] } });
    h.fx.setStatus('ready', 'x');
    const ids = ['a', 'a', 'b', 'b', 'c'].map((m) => h.send(m));
    const err = new ProxyError('SHUTTING_DOWN', 'bye');
    h.s.onShutdown(err);
    assert.deepEqual(h.fx.errors.map((e) => e.id).sort(), ids);
    assert.ok(h.fx.errors.every((e) => e.err === err));
    assert.equal(h.fx.stops.length, 1);
    assert.equal(h.fx.stops[0]?.reason, 'shutdown');
    assert.ok(['a', 'x'].every((m) => h.fx.stops[0]?.models.includes(m)), 'running and loading models stop');
    const late = h.send('a');
    assert.equal(h.fx.errors.at(-1)?.id, late);
    assert.equal(h.fx.errors.at(-1)?.err, err);
    const started = h.fx.starts.length;
    for (const st of [...h.fx.starts]) h.s.onSwapDone(st.model, undefined);
    assert.equal(h.fx.grants.length, 0, 'a swap finishing after shutdown grants nothing');
    assert.equal(h.fx.starts.length, started);
    for (const m of ['a', 'b', 'c']) assert.deepEqual(h.s.load(m), { inFlight: 0, waiting: 0 });
  },

  'broken invariants throw: serveDone not in flight, swapDone without a swap'(create) {
    const h = new Harness(create);
    h.fx.setStatus('ready', 'a');
    assert.throws(() => h.s.onServeDone(42), isAssertion);
    const id = h.send('a');
    h.serveDone(id);
    assert.throws(() => h.s.onServeDone(id), isAssertion, 'a second serveDone');
    assert.throws(() => h.s.onSwapDone('b', undefined), isAssertion);
  },
};
