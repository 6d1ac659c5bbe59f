/** The admission ledger shared by both schedulers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyError } from '../../src/errors.ts';
import { Reservations } from '../../src/scheduler/reservations.ts';
import { FakeEffects } from './fake-effects.ts';

function ledger(limit = 2): { fx: FakeEffects; r: Reservations } {
  const fx = new FakeEffects();
  return { fx, r: new Reservations(fx, (m) => m !== 'ghost', () => limit) };
}

test('admission reserves until served-done and counts waiting vs in flight', () => {
  const { fx, r } = ledger();
  const req = fx.request('a');
  assert.equal(r.admit(req), true);
  assert.deepEqual(r.load('a'), { inFlight: 0, waiting: 1 });
  assert.equal(r.grant(req.id), true);
  assert.deepEqual(r.load('a'), { inFlight: 1, waiting: 0 });
  assert.deepEqual(r.serveDone(req.id), { model: 'a', inFlight: 0 });
  assert.deepEqual(r.load('a'), { inFlight: 0, waiting: 0 });
});

test('the limit counts waiting and in-flight requests; refusals reserve nothing', () => {
  const { fx, r } = ledger(2);
  const [one, two, three] = [fx.request('a'), fx.request('a'), fx.request('a')];
  r.admit(one);
  r.admit(two);
  r.grant(one.id);
  assert.equal(r.admit(three), false);
  const err = fx.errors[0]?.err;
  assert.ok(err instanceof ProxyError);
  assert.equal(err.code, 'CONCURRENCY_LIMIT');
  assert.equal(err.retryAfterSeconds, 1);
  assert.equal(r.reserved('a'), 2);
});

test('unknown model: MODEL_NOT_FOUND with a short message', () => {
  const { fx, r } = ledger();
  assert.equal(r.admit(fx.request('ghost')), false);
  assert.equal(fx.errorCode(1), 'MODEL_NOT_FOUND');
  assert.equal(fx.errors[0]?.err.message, 'model not found: ghost');
});

test('a refused grant and a failure release the reservation', () => {
  const { fx, r } = ledger();
  const [gone, bad] = [fx.request('a'), fx.request('a')];
  r.admit(gone);
  r.admit(bad);
  fx.grantServeReturns.set(gone.id, false);
  assert.equal(r.grant(gone.id), false);
  r.fail(bad.id, new ProxyError('UPSTREAM_START_FAILED', 'x'));
  assert.deepEqual(r.load('a'), { inFlight: 0, waiting: 0 });
  assert.equal(r.isWaiting(gone.id), false);
});

test('releasing a reservation that does not exist is an invariant violation', () => {
  const { fx, r } = ledger();
  assert.throws(() => r.release(7), { name: 'AssertionError' });
  const req = fx.request('a');
  r.admit(req);
  r.release(req.id);
  assert.throws(() => r.release(req.id), { name: 'AssertionError' });
  assert.throws(() => r.serveDone(req.id), { name: 'AssertionError' });
  assert.throws(() => r.grant(req.id), { name: 'AssertionError' });
});
