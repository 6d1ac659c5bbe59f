/**
 * Properties of the batch scheduler over random request sequences, replayed
 * on a fake clock by the pure trace driver: every request is served, none
 * waits beyond the stated bound, and the counts stay consistent.
 *
 * The bound (stated in src/scheduler/batch.ts), for request r of model m:
 *   wait(r) ≤ maxWait(m) + T + (S + L + D) + (k + 1)·(S + L) + k·D
 * with D the longest service time, S the stop time, L the longest load, T the
 * tick period (0 without ticks) and k the number of other models with a
 * waiting request whose deadline is before r's when r's deadline passes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BatchScheduler } from '../../src/scheduler/batch.ts';
import { drive, type DriverRequest, type DriverResult } from './trace-driver.ts';
import { waitBounds } from './wait-bound.ts';

const MODELS = ['a', 'b', 'c', 'd'] as const;

interface Scenario {
  readonly requests: DriverRequest[];
  readonly loadMs: Readonly<Record<string, number>>;
  readonly stopMs: number;
  /** undefined: the default, twice the model's load cost. */
  readonly maxWaitMs: number | undefined;
  readonly tickMs: number | undefined;
  /** Who evicts whom; undefined: one model at a time. */
  readonly evict: Readonly<Record<string, readonly string[]>> | undefined;
}

/** Eviction tables beside one-at-a-time: two swap pairs, and overlapping sets where some models can coexist. */
const EVICT_TABLES = [
  undefined,
  { a: ['b'], b: ['a'], c: ['d'], d: ['c'] },
  { a: ['b', 'c'], b: ['a'], c: ['a', 'd'], d: ['c'] },
];

const settings = {
  loads: fc.tuple(...MODELS.map(() => fc.integer({ min: 1, max: 1500 }))),
  stopMs: fc.integer({ min: 0, max: 300 }),
  maxWaitMs: fc.option(fc.integer({ min: 0, max: 4000 }), { nil: undefined }),
  tickMs: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
  evict: fc.constantFrom(...EVICT_TABLES),
};

type Settings = Omit<Scenario, 'requests' | 'loadMs'> & { readonly loads: readonly number[] };

function toScenario(requests: DriverRequest[], { loads, ...rest }: Settings): Scenario {
  return { requests, loadMs: Object.fromEntries(MODELS.map((m, i) => [m, loads[i]!])), ...rest };
}

/** Random mixes, mostly for one model. */
const mixed: fc.Arbitrary<Scenario> = fc.record({
  arrivals: fc.array(
    fc.record({
      // Dense arrivals, mostly for one model, so a resident is often kept busy by its own requests.
      gap: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 2000 })),
      model: fc.oneof({ weight: 3, arbitrary: fc.constant('a') }, { weight: 2, arbitrary: fc.constantFrom(...MODELS) }),
      serviceMs: fc.integer({ min: 1, max: 1200 }),
    }),
    { minLength: 1, maxLength: 120 },
  ),
  ...settings,
}).map(({ arrivals, ...set }) => {
  let at = 0;
  const requests = arrivals.map(({ gap, model, serviceMs }) => ({ atMs: (at += gap), model, serviceMs }));
  return toScenario(requests, set);
});

/** A never-ending stream of overlapping requests for `a` (the resident, once loaded) and a few for the others meanwhile. */
const stream: fc.Arbitrary<Scenario> = fc.record({
  hot: fc.array(fc.record({ gap: fc.integer({ min: 20, max: 150 }), serviceMs: fc.integer({ min: 200, max: 800 }) }), { minLength: 20, maxLength: 120 }),
  others: fc.array(fc.record({ at: fc.integer({ min: 0, max: 6000 }), model: fc.constantFrom('b', 'c', 'd'), serviceMs: fc.integer({ min: 1, max: 800 }) }), { minLength: 1, maxLength: 6 }),
  ...settings,
}).map(({ hot, others, ...set }) => {
  let at = 0;
  const requests: DriverRequest[] = hot.map(({ gap, serviceMs }) => ({ atMs: (at += gap), model: 'a', serviceMs }));
  for (const o of others) requests.push({ atMs: o.at, model: o.model, serviceMs: o.serviceMs });
  return toScenario(requests.sort((x, y) => x.atMs - y.atMs), set);
});

const scenario = fc.oneof(mixed, stream);

function run(s: Scenario): DriverResult {
  return drive(
    { requests: s.requests, loadMs: (m) => s.loadMs[m]!, stopMs: s.stopMs, tickMs: s.tickMs, evict: s.evict },
    (effects, opts) => new BatchScheduler({ ...opts, effects, maxWaitMs: s.maxWaitMs }),
  );
}

function bounds(s: Scenario, res: DriverResult): number[] {
  return waitBounds({ ...s, maxWaitMs: (m) => s.maxWaitMs ?? 2 * s.loadMs[m]!, loadMs: (m) => s.loadMs[m]! }, res.waits);
}

test('every request is served, and none waits beyond its bound', () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const res = run(s);
      assert.equal(res.failed, 0);
      assert.ok(res.waits.every((w) => w !== undefined), 'a request was never granted (starved)');
      const b = bounds(s, res);
      res.waits.forEach((w, i) => {
        assert.ok(w! <= b[i]!, `request ${i} (${s.requests[i]!.model} at ${s.requests[i]!.atMs}) waited ${w} ms, bound ${b[i]} ms`);
      });
    }),
    { numRuns: 300 },
  );
});

test('a busy model is never evicted, one swap per model at a time, and counts stay consistent', () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const inFlight = new Map<string, number>();
      const loading = new Set<string>();
      let checks = 0;
      drive(
        { requests: s.requests, loadMs: (m) => s.loadMs[m]!, stopMs: s.stopMs, tickMs: s.tickMs, evict: s.evict },
        (effects, opts) => {
          const sched = new BatchScheduler({ ...opts, effects, maxWaitMs: s.maxWaitMs });
          const { startSwap, grantServe } = effects;
          effects.startSwap = (model, evict) => {
            for (const m of evict) assert.equal(inFlight.get(m) ?? 0, 0, `${m} evicted with requests in flight`);
            assert.ok(!loading.has(model), `a second swap for ${model}`);
            loading.add(model);
            startSwap.call(effects, model, evict);
          };
          effects.grantServe = (id) => {
            const m = effects.models.get(id)!;
            assert.equal(effects.modelStatus(m), 'ready', `request ${id} granted on a model that is not ready`);
            inFlight.set(m, (inFlight.get(m) ?? 0) + 1);
            return grantServe.call(effects, id);
          };
          const { onSwapDone, onServeDone } = sched;
          sched.onSwapDone = (model, err) => {
            loading.delete(model);
            onSwapDone.call(sched, model, err);
          };
          sched.onServeDone = (id) => {
            const m = effects.models.get(id)!;
            inFlight.set(m, inFlight.get(m)! - 1);
            onServeDone.call(sched, id);
            for (const model of MODELS) {
              const load = sched.load(model);
              assert.equal(load.inFlight, inFlight.get(model) ?? 0, `${model}: in flight`);
              assert.ok(load.waiting >= 0);
              checks++;
            }
          };
          return sched;
        },
      );
      assert.ok(checks > 0);
    }),
    { numRuns: 200 },
  );
});
