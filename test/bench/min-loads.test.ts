/** The fewest loads a trace needs for a maximum wait (bench/lib/min-loads.ts), on small hand-made traces. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { minLoads } from '../../bench/lib/min-loads.ts';

const trace = (o: Record<string, number[]>): Map<string, number[]> => new Map(Object.entries(o));

test('one model needs one load, whatever the wait allowed', () => {
  assert.equal(minLoads({ arrivals: trace({ a: [0, 500, 9000] }), loadMs: 300, maxWaitMs: 400 }), 1);
});

test('a wait shorter than a load cannot be kept', () => {
  assert.equal(minLoads({ arrivals: trace({ a: [0] }), loadMs: 300, maxWaitMs: 200 }), Infinity);
});

test('requests of one model seconds apart share a load only if the first may wait for the other model\'s', () => {
  const arrivals = trace({ a: [0, 20_000], b: [10_000] });
  assert.equal(minLoads({ arrivals, loadMs: 100, maxWaitMs: 1000 }), 3, 'a, b, a');
  assert.equal(minLoads({ arrivals, loadMs: 100, maxWaitMs: 9000 }), 3, 'a at 0 cannot wait for b to be served first');
  assert.equal(minLoads({ arrivals, loadMs: 100, maxWaitMs: 11_000 }), 2, 'b at 10 s, then a: its first request waits ~10.2 s, its second finds it loaded');
});

test('alternating requests: the longer the wait allowed, the longer each model can stay', () => {
  // a at 0, 300, 600 …; b at 150, 450 … for 6 s, loads of 265 ms (the bench's A/B trace on llama-server).
  const a = Array.from({ length: 20 }, (_, i) => i * 300);
  const arrivals = trace({ a, b: a.map((t) => t + 150) });
  const short = minLoads({ arrivals, loadMs: 265, maxWaitMs: 500 });
  const long = minLoads({ arrivals, loadMs: 265, maxWaitMs: 800 });
  assert.ok(long < short && short <= 20, `${short} then ${long}`);
});
