/**
 * Properties of any simulated run, over random traces (fast-check): every
 * request is served, nobody is granted before arriving, service ends exactly
 * `ms` after the grant, and the schedulers' promises hold in virtual time:
 * serial serves one request at a time; with one model resident at a time
 * (the implicit group), two models are never served at once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseConfig } from '../../src/config/load.ts';
import { simulateRun } from '../../src/simulate/run.ts';
import type { TraceRequest } from '../../src/simulate/trace.ts';

const MODELS = ['a', 'b', 'c'];

function config(scheduler: string, ttl: number) {
  const models = MODELS.map((m, i) => `  ${m}: { cmd: "srv --port \${PORT}", concurrencyLimit: 1000, ttl: ${ttl}, simulate: { loadMs: ${100 + 50 * i}, stopMs: ${10 * i} } }\n`).join('');
  return parseConfig(`routing: { scheduler: { use: ${scheduler} } }\nmodels:\n${models}`, { env: {} });
}

const traceArb = fc.array(
  fc.record({ t: fc.integer({ min: 0, max: 3000 }), model: fc.constantFrom(...MODELS), ms: fc.integer({ min: 0, max: 400 }) }),
  { minLength: 1, maxLength: 40 },
).map((rows) => rows.map((r, i): TraceRequest => ({ line: i + 1, ...r, stream: false, priority: undefined })));

describe('simulated runs (properties)', () => {
  for (const scheduler of ['serial', 'fifo']) {
    it(`${scheduler}: every request is served, in order of the rules`, () => {
      fc.assert(fc.property(traceArb, fc.constantFrom(0, 0.2), (trace, ttl) => {
        const outcomes = simulateRun(config(scheduler, ttl), trace).outcomes();
        assert.equal(outcomes.length, trace.length);
        const served = outcomes.map((o, i) => {
          assert.equal(o.kind, 'served', `request ${i + 1} ended ${o.kind}`);
          if (o.kind !== 'served') throw new Error('unreachable');
          assert.equal(o.arrivedAt, trace[i]!.t);
          assert.ok(o.grantedAt >= o.arrivedAt);
          assert.equal(o.doneAt - o.grantedAt, trace[i]!.ms);
          return { ...o, model: trace[i]!.model };
        });
        // Intervals of service that overlap (strictly: one ending as another starts is fine).
        const overlapping = (x: (typeof served)[number], y: (typeof served)[number]): boolean => x.grantedAt < y.doneAt && y.grantedAt < x.doneAt;
        for (const [i, x] of served.entries()) {
          for (const y of served.slice(i + 1)) {
            if (scheduler === 'serial' && x.doneAt > x.grantedAt && y.doneAt > y.grantedAt) assert.ok(!overlapping(x, y), 'serial serves one at a time');
            if (x.model !== y.model) assert.ok(!overlapping(x, y), `${x.model} and ${y.model} served at once with one model resident`);
          }
        }
      }), { numRuns: 150 });
    });
  }
});
