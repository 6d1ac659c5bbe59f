/**
 * BatchScheduler: the conformance suite (no skips), plus what only batch
 * promises: the resident keeps serving while nobody is overdue, an overdue
 * request forces the next swap, the next model is chosen by what waits for
 * it, and an idle model lingers only while the router ticks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchScheduler } from '../../src/scheduler/batch.ts';
import { BatchHarness } from './batch-harness.ts';
import type { CreateScheduler } from './harness.ts';
import { runSchedulerSuite } from './scheduler.case.ts';

/** A clock that never moves: nothing is ever overdue, so the suite sees plain batching. */
const create: CreateScheduler = (effects, opts) => new BatchScheduler({ ...opts, effects, maxWaitMs: 5000, now: () => 0 });

runSchedulerSuite({ name: 'batch', create });

/** One model at a time among a, b, c (each evicts the others). */
const exclusive = { a: ['b', 'c'], b: ['a', 'c'], c: ['a', 'b'] };

test('a burst for the resident model is served before any swap', () => {
  const h = new BatchHarness({ evict: exclusive, maxWaitMs: 1000 });
  h.fx.setStatus('ready', 'a');
  const a1 = h.at(0).send('a');
  h.at(10).send('b');
  const burst = [20, 30, 40, 50].map((t) => h.at(t).send('a'));
  assert.deepEqual(h.fx.grants, [a1, ...burst], 'every a is served at once');
  assert.equal(h.fx.starts.length, 0, 'no swap while a serves');
  h.at(200).finishAll();
  assert.deepEqual(h.fx.starts, [{ model: 'b', evict: ['a'] }], 'b loads once a is idle');
});

test('a request older than maxWait forces the next swap even while the resident model has work', () => {
  const h = new BatchHarness({ evict: exclusive, maxWaitMs: 1000 });
  h.fx.setStatus('ready', 'a');
  const a1 = h.at(0).send('a');
  const b = h.at(100).send('b');
  const a2 = h.at(900).send('a');
  assert.deepEqual(h.fx.grants, [a1, a2], 'b is not overdue yet: a keeps serving');
  const a3 = h.at(1100).send('a');
  assert.equal(h.fx.served(a3), 0, 'b is overdue: a takes no new request');
  h.serveDone(a1);
  assert.equal(h.fx.starts.length, 0, 'a still serves a2: a busy model is never evicted');
  h.serveDone(a2);
  assert.deepEqual(h.fx.starts, [{ model: 'b', evict: ['a'] }]);
  h.at(1400).swapDone('b');
  assert.deepEqual(h.fx.grants, [a1, a2, b]);
  h.serveDone(b);
  assert.deepEqual(h.fx.lastStart('a'), { model: 'a', evict: ['b'] }, 'a3 gets a back');
});

test('the deadline is acted on at the next event: a request in flight ending is one', () => {
  const h = new BatchHarness({ evict: exclusive, maxWaitMs: 1000 });
  h.fx.setStatus('ready', 'a');
  const a1 = h.at(0).send('a');
  const a2 = h.at(10).send('a');
  h.at(20).send('b');
  h.at(5000).serveDone(a1); // the first event after b's deadline
  const a3 = h.send('a');
  assert.equal(h.fx.served(a3), 0, 'closed since that event');
  h.serveDone(a2);
  assert.equal(h.fx.startsFor('b'), 1);
});

test('the model with more waiting requests is chosen', () => {
  const h = new BatchHarness({ evict: exclusive, maxWaitMs: 10_000 });
  h.fx.setStatus('ready', 'a');
  const a = h.at(0).send('a');
  h.at(10).send('b');
  for (const t of [20, 30, 40]) h.at(t).send('c');
  h.at(100).serveDone(a);
  assert.deepEqual(h.fx.starts.map((s) => s.model), ['c'], 'c (3 waiting) before the older b (1)');
});

test('priority breaks ties', () => {
  const h = new BatchHarness({ evict: exclusive, maxWaitMs: 10_000, priority: { c: 5 } });
  h.fx.setStatus('ready', 'a');
  const a = h.at(0).send('a');
  h.at(10).send('b');
  h.at(20).send('c');
  h.at(100).serveDone(a);
  assert.deepEqual(h.fx.starts.map((s) => s.model), ['c'], 'equal counts and costs: c has the higher priority');
});

test('reload cost makes a cheap model go first when counts are equal', () => {
  const h = new BatchHarness({ evict: exclusive, maxWaitMs: 10_000, cost: { b: 5000, c: 1000 } });
  h.fx.setStatus('ready', 'a');
  const a = h.at(0).send('a');
  h.at(10).send('b');
  h.at(20).send('c');
  h.at(100).serveDone(a);
  assert.deepEqual(h.fx.starts.map((s) => s.model), ['c']);
});

test('age breaks the remaining ties', () => {
  const h = new BatchHarness({ evict: exclusive, maxWaitMs: 10_000 });
  h.fx.setStatus('ready', 'a');
  const a = h.at(0).send('a');
  h.at(20).send('c');
  h.at(30).send('b');
  h.at(100).serveDone(a);
  assert.deepEqual(h.fx.starts.map((s) => s.model), ['c']);
});

test('an overdue model goes before a bigger queue, earliest deadline first', () => {
  const h = new BatchHarness({ evict: exclusive, maxWaitMs: 1000 });
  h.fx.setStatus('ready', 'a');
  const a = h.at(0).send('a');
  h.at(10).send('b');
  for (const t of [500, 510, 520]) h.at(t).send('c');
  h.at(1100).serveDone(a);
  assert.deepEqual(h.fx.starts.map((s) => s.model), ['b'], 'b is overdue, c (3 waiting) is not');
});

test('each model has its own maxWait, by default twice its load cost', () => {
  const h = new BatchHarness({ evict: exclusive, cost: { b: 300, c: 5000 } });
  h.fx.setStatus('ready', 'a');
  h.at(0).send('a');
  h.at(0).send('c');
  h.at(0).send('b');
  assert.equal(h.fx.served(h.at(599).send('a')), 1, 'b is due at 600');
  assert.equal(h.fx.served(h.at(600).send('a')), 0, 'b is overdue: a is closed');
  h.finishAll();
  assert.deepEqual(h.fx.starts.map((s) => s.model), ['b'], 'c (due at 10 s) is not overdue, and b is');
});

test('a closed model still serves requests whose deadline comes before the overdue one', () => {
  const h = new BatchHarness({ evict: { a: ['b'], b: ['a'] }, maxWaitMs: 1000 });
  h.fx.setStatus('ready', 'b');
  const b1 = h.at(0).send('b');
  h.at(0).send('a'); // a: due at 1000, blocked by busy b
  h.s.onUnload(['x'], 'unloaded'); // an unrelated event
  assert.equal(h.fx.served(b1), 1);
  const b2 = h.at(999).send('b');
  assert.equal(h.fx.served(b2), 1, 'not overdue yet');
  const b3 = h.at(1000).send('b');
  assert.equal(h.fx.served(b3), 0, 'due after a: waits');
  h.finishAll();
  assert.equal(h.fx.startsFor('a'), 1);
});

test('while an overdue request waits for a busy model to drain, no other swap starts', () => {
  // b needs a gone; c could load beside a. b is overdue and blocked: c waits too.
  const h = new BatchHarness({ evict: { b: ['a'] }, maxWaitMs: 1000 });
  h.fx.setStatus('ready', 'a');
  const a = h.at(0).send('a');
  h.at(0).send('b');
  h.at(1000).send('c');
  assert.equal(h.fx.starts.length, 0, 'c would start next to a, but b is overdue and first');
  h.serveDone(a);
  assert.deepEqual(h.fx.starts.map((s) => s.model), ['b', 'c'], 'both start once a is idle (c beside b)');
});

test('a completed swap serves all its waiters even when another model is overdue', () => {
  const h = new BatchHarness({ evict: exclusive, maxWaitMs: 1000 });
  const [b1, b2] = [h.at(0).send('b'), h.at(10).send('b')];
  h.at(20).send('c');
  h.at(1500).swapDone('b');
  assert.deepEqual(h.fx.grants, [b1, b2], 'c is overdue, but b was loaded for b1 and b2');
  const b3 = h.send('b');
  assert.equal(h.fx.served(b3), 0, 'later b requests wait behind c');
  h.finishAll();
  assert.deepEqual(h.fx.lastStart('c'), { model: 'c', evict: ['b'] });
});

test('with ticks, an idle model lingers while its last request is younger than its maxWait', () => {
  const h = new BatchHarness({ evict: exclusive, maxWaitMs: 1000, tickMs: 50 });
  h.fx.setStatus('ready', 'a');
  const a1 = h.at(0).send('a');
  h.at(10).send('b');
  h.at(100).serveDone(a1);
  assert.equal(h.fx.starts.length, 0, 'a is idle but had a request 100 ms ago: kept');
  const a2 = h.at(400).send('a');
  assert.equal(h.fx.served(a2), 1, 'and served without a reload');
  h.at(450).serveDone(a2);
  h.tick(1000);
  assert.equal(h.fx.starts.length, 0, "b is due at 1010; a's last request is 600 ms old");
  h.tick(1010);
  assert.deepEqual(h.fx.starts, [{ model: 'b', evict: ['a'] }], 'the tick after the deadline ends the linger');
});

test("a linger ends when the idle model's last request reaches its maxWait, before anyone is overdue", () => {
  const h = new BatchHarness({ evict: exclusive, maxWaitMs: 1000, tickMs: 50 });
  h.fx.setStatus('ready', 'a');
  h.at(0).send('a');
  h.at(100).finishAll();
  h.at(900).send('b');
  assert.equal(h.fx.starts.length, 0);
  h.tick(1000);
  assert.deepEqual(h.fx.starts.map((s) => s.model), ['b'], 'b waited 100 ms: not overdue, but a is cold');
});

test('a model used at a steady pace lingers past its maxWait when its next request is due before the waiter must be served', () => {
  const h = new BatchHarness({ evict: exclusive, maxWaitMs: 200, tickMs: 50 });
  h.fx.setStatus('ready', 'a');
  for (const t of [0, 300, 600]) h.at(t + 20).serveDone(h.at(t).send('a')); // every 300 ms, longer apart than maxWait
  h.at(750).send('b'); // due at 950
  h.tick(800);
  assert.equal(h.fx.starts.length, 0, "a's last request is 200 ms old, but its next is due at 900, before b's deadline");
  const a4 = h.at(900).send('a');
  assert.equal(h.fx.served(a4), 1, 'served by the model kept: no reload');
  h.at(920).serveDone(a4);
  h.tick(950);
  assert.deepEqual(h.fx.starts, [{ model: 'b', evict: ['a'] }], 'b is overdue: the linger ends');
});

test("no linger for a rhythm whose next request is due after the waiter's deadline, or is late by more than half a gap", () => {
  const slow = new BatchHarness({ evict: exclusive, maxWaitMs: 200, tickMs: 50 });
  slow.fx.setStatus('ready', 'a');
  for (const t of [0, 500, 1000]) slow.at(t + 20).serveDone(slow.at(t).send('a')); // due next at 1500
  slow.at(1100).send('b'); // deadline 1300
  slow.tick(1200);
  assert.deepEqual(slow.fx.starts.map((s) => s.model), ['b'], "a's next request would come after b's deadline: no reload is saved");

  const late = new BatchHarness({ evict: exclusive, tickMs: 50, cost: { a: 50, b: 500 } }); // maxWait: a 100 ms, b 1 s
  late.fx.setStatus('ready', 'a');
  for (const t of [0, 100, 200]) late.at(t + 10).serveDone(late.at(t).send('a')); // due next at 300
  late.at(250).send('b');
  late.tick(300);
  assert.equal(late.fx.starts.length, 0, 'a request due now: kept');
  late.tick(350);
  assert.equal(late.fx.starts.length, 0, 'late by half a gap: still kept');
  late.tick(400);
  assert.deepEqual(late.fx.starts.map((s) => s.model), ['b'], 'later than that, a is taken to have stopped');
});

test('without ticks nothing lingers: an idle model is swapped out at once (no event may come to end a linger)', () => {
  const h = new BatchHarness({ evict: exclusive, maxWaitMs: 1000 });
  h.fx.setStatus('ready', 'a');
  const a1 = h.at(0).send('a');
  h.at(10).send('b');
  h.at(100).serveDone(a1);
  assert.deepEqual(h.fx.starts.map((s) => s.model), ['b']);
});

test('a waiting request for a loading model keeps its swap; its cancel with others waiting does not cancel the load', () => {
  const h = new BatchHarness({ evict: exclusive, maxWaitMs: 1000 });
  const b1 = h.at(0).send('b');
  const b2 = h.at(10).send('b');
  h.s.onCancel(b1);
  assert.deepEqual(h.fx.cancels, []);
  h.swapDone('b');
  assert.deepEqual(h.fx.grants, [b2]);
});

/** Every request is overdue the moment it arrives: batch must still keep every promise of the suite. */
runSchedulerSuite({
  name: 'batch (maxWait 0, every request overdue)',
  create: (effects, opts) => new BatchScheduler({ ...opts, effects, maxWaitMs: 0, now: () => 0 }),
});

test('a model with no load history costs the median of the models seen that have one (else 1 s): its maxWait follows', () => {
  const h = new BatchHarness({ evict: exclusive, cost: { a: 200 } });
  h.fx.setStatus('ready', 'a');
  h.at(0).send('a');
  h.at(0).send('c'); // no history: costs what a costs (200 ms), so its maxWait is 400 ms, not 2 s
  assert.equal(h.fx.served(h.at(399).send('a')), 1, 'c is due at 400 ms');
  assert.equal(h.fx.served(h.at(400).send('a')), 0, 'c is overdue at 400 ms: a is closed');
});
