/**
 * The matrix swapper driven through the fifo scheduler (createScheduler with
 * routing.router.use: matrix), against the recording fake Effects: the
 * scenarios of llama-swap's matrix router tests (conflicting models swap,
 * models of one set coexist and load in parallel, an incompatible request
 * waits for the load in progress), plus its log line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileMatrix } from '../../src/config/matrix-compile.ts';
import type { MatrixConfig } from '../../src/config/types.ts';
import { createScheduler } from '../../src/scheduler/create.ts';
import { createMatrixSwapper } from '../../src/scheduler/matrix-swapper.ts';
import type { Scheduler } from '../../src/scheduler/types.ts';
import { FakeEffects } from './fake-effects.ts';

function matrix(sets: ReadonlyArray<readonly [string, string]>, costs: Readonly<Record<string, number>> = {}): MatrixConfig {
  const r = compileMatrix(sets.map(([name, dsl]) => ({ name, dsl })), (id) => ({ ok: true, id }));
  assert.deepEqual(r.issues, []);
  return { program: r.program, evictCosts: new Map(Object.entries(costs)) };
}

function build(mx: MatrixConfig, log?: (line: string) => void): { fx: FakeEffects; s: Scheduler } {
  const fx = new FakeEffects();
  const s = createScheduler(
    { scheduler: { use: 'fifo', priority: new Map() }, groups: [], router: { use: 'matrix', matrix: mx } },
    { effects: fx, isKnown: () => true, concurrencyLimit: () => 10, log },
  );
  return { fx, s };
}

const apart = matrix([['s_a', 'a'], ['s_b', 'b']]);
const together = matrix([['s_ab', 'a & b']]);

test('matrix: loading a model stops a running model it shares no set with', () => {
  const { fx, s } = build(apart);
  fx.setStatus('ready', 'a');
  s.onRequest(fx.request('b'));
  assert.deepEqual(fx.starts, [{ model: 'b', evict: ['a'] }]);
});

test('matrix: a model sharing a set with a running one loads beside it', () => {
  const { fx, s } = build(together);
  fx.setStatus('ready', 'a');
  s.onRequest(fx.request('b'));
  assert.deepEqual(fx.starts, [{ model: 'b', evict: [] }]);
});

test('matrix: two models of one set load in parallel', () => {
  const { fx, s } = build(together);
  s.onRequest(fx.request('a'));
  s.onRequest(fx.request('b'));
  assert.deepEqual(fx.starts, [{ model: 'a', evict: [] }, { model: 'b', evict: [] }]);
  fx.setStatus('ready', 'a', 'b');
  s.onSwapDone('a', undefined);
  s.onSwapDone('b', undefined);
  assert.deepEqual([fx.served('a'), fx.served('b')], [1, 1]);
});

test('matrix: a request for a model that cannot coexist with one still loading waits, then evicts it', () => {
  const { fx, s } = build(apart);
  const a = fx.request('a');
  s.onRequest(a);
  s.onRequest(fx.request('b'));
  assert.deepEqual(fx.starts, [{ model: 'a', evict: [] }], 'b sees a (still loading) as running, so it queues');
  fx.setStatus('ready', 'a');
  s.onSwapDone('a', undefined);
  assert.equal(fx.starts.length, 1, 'a is serving: b waits for it');
  s.onServeDone(a.id);
  assert.deepEqual(fx.starts[1], { model: 'b', evict: ['a'] });
});

test('matrix: a busy model is kept until its requests finish, even when it is the cheapest to evict', () => {
  const { fx, s } = build(matrix([['keep_b', 'x & b'], ['keep_c', 'x & c']], { b: 10 }));
  fx.setStatus('ready', 'b', 'c');
  const c = fx.request('c');
  s.onRequest(c);
  s.onRequest(fx.request('x'));
  assert.equal(fx.starts.length, 0, 'x would evict c (cheaper than b), which is serving');
  s.onServeDone(c.id);
  assert.deepEqual(fx.starts, [{ model: 'x', evict: ['c'] }]);
});

test('matrix swapper: evictionFor is pure and silent; onSwapStart logs the set, the eviction and the cost', () => {
  const lines: string[] = [];
  const sw = createMatrixSwapper(matrix([['pair', '(a | b) & v'], ['big', 'L']], { v: 50 }), (l) => lines.push(l));
  assert.deepEqual(sw.evictionFor('L', ['a', 'v']), ['a', 'v']);
  assert.deepEqual(sw.evictionFor('L', ['a', 'v']), ['a', 'v']);
  assert.deepEqual(lines, []);
  sw.onSwapStart('b', ['a', 'v'], ['a']);
  sw.onSwapStart('z', ['a'], ['a']);
  assert.deepEqual(lines, [
    'matrix: loading b (set=pair dsl="(a | b) & v"), evicting [a], combination [b, v], cost 1',
    'matrix: loading z (in no set, runs alone), evicting [a], combination [z], cost 1',
  ]);
});
