/**
 * simulateRun on small traces whose outcome is worked out by hand (times in
 * ms of virtual time). Pure: no timers, no processes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { summarize, type SimSummary } from '../../src/simulate/report.ts';
import { simulateRun } from '../../src/simulate/run.ts';
import type { TraceRequest } from '../../src/simulate/trace.ts';

type Row = readonly [t: number, model: string, ms: number];

const trace = (rows: readonly Row[]): TraceRequest[] =>
  rows.map(([t, model, ms], i) => ({ line: i + 1, t, model, ms, stream: false, priority: undefined }));

/** A config with models `ids`, each loading in `loadMs` and stopping in `stopMs`, plus `extra` top-level YAML. */
function config(scheduler: string, ids: readonly string[], timing: { loadMs: number; stopMs: number }, extra = '', modelExtra = '') {
  const models = ids.map((id) => `  ${id}:\n    cmd: srv --port \${PORT}\n    simulate: { loadMs: ${timing.loadMs}, stopMs: ${timing.stopMs} }\n${modelExtra}`).join('');
  return parseConfig(`routing:\n  scheduler:\n    use: ${scheduler}\n${extra}models:\n${models}`, { env: {} });
}

function run(scheduler: string, rows: readonly Row[], timing = { loadMs: 1000, stopMs: 0 }, extra = '', modelExtra = ''): SimSummary & { waits: number[] } {
  const ids = [...new Set(rows.map((r) => r[1]))].filter((m) => /^[abc]$/.test(m)).sort();
  const rec = simulateRun(config(scheduler, ids.length > 0 ? ids : ['a'], timing, extra, modelExtra), trace(rows));
  const waits = rec.outcomes().map((o) => (o.kind === 'served' ? o.grantedAt - o.arrivedAt : Number.NaN));
  return { ...summarize(scheduler, rec), waits };
}

describe('simulateRun', () => {
  it('a cold start: fifo grants every waiter of the load at once, serial one after another', () => {
    const rows: Row[] = [[0, 'a', 100], [50, 'a', 100]];
    const fifo = run('fifo', rows);
    assert.deepEqual(fifo.waits, [1000, 950]);
    assert.deepEqual([fifo.swaps, fifo.makespanMs, fifo.loadingMs, fifo.evictions], [1, 1100, 1000, 0]);
    const serial = run('serial', rows);
    assert.deepEqual(serial.waits, [1000, 1050]);
    assert.deepEqual([serial.swaps, serial.makespanMs], [1, 1200]);
  });

  it('a swap stops the running model first (stopMs), then loads (loadMs)', () => {
    const s = run('fifo', [[0, 'a', 100], [2000, 'b', 100]], { loadMs: 1000, stopMs: 200 });
    assert.deepEqual(s.waits, [1000, 1200]);
    assert.deepEqual([s.swaps, s.evictions, s.loadingMs, s.makespanMs], [2, 1, 2000, 3300]);
  });

  it('alternating requests: fifo batches per model, serial swaps for every request', () => {
    const rows: Row[] = [[0, 'a', 100], [10, 'b', 100], [20, 'a', 100], [30, 'b', 100]];
    const fifo = run('fifo', rows);
    assert.deepEqual(fifo.waits, [1000, 2090, 980, 2070]);
    assert.deepEqual([fifo.swaps, fifo.makespanMs, fifo.waitP50Ms, fifo.waitMaxMs], [2, 2200, 1000, 2090]);
    const serial = run('serial', rows);
    assert.deepEqual(serial.waits, [1000, 2090, 3180, 4270]);
    assert.deepEqual([serial.swaps, serial.makespanMs, serial.waitP99Ms], [4, 4400, 4270]);
  });

  it('models of a swap: false group load in parallel and evict nothing (fifo)', () => {
    const groups = '  router:\n    use: group\n    settings:\n      groups:\n        g:\n          members: [a, b]\n          swap: false\n';
    const s = run('fifo', [[0, 'a', 100], [0, 'b', 100]], { loadMs: 1000, stopMs: 0 }, groups);
    assert.deepEqual(s.waits, [1000, 1000]);
    assert.deepEqual([s.swaps, s.evictions, s.loadingMs, s.makespanMs], [2, 0, 2000, 1100]);
  });

  it('a swap to a model that is still loaded only evicts: it is not counted as a swap', () => {
    // c is exclusive; a's group is not, so loading a keeps c; c's next request evicts a.
    const groups = '  router:\n    use: group\n    settings:\n      groups:\n        ga:\n          members: [a]\n          exclusive: false\n        gc:\n          members: [c]\n';
    const s = run('fifo', [[0, 'c', 100], [2000, 'a', 100], [4000, 'c', 100]], { loadMs: 1000, stopMs: 200 }, groups);
    assert.deepEqual(s.waits, [1000, 1000, 200]);
    assert.deepEqual([s.swaps, s.evictions, s.loadingMs], [2, 1, 2000]);
  });

  it("fifo serves the queue by the config's priorities; serial by arrival", () => {
    const prio = '  scheduler:\n    use: fifo\n    settings:\n      fifo:\n        priority: { b: 10 }\n';
    const rows: Row[] = [[0, 'c', 5000], [200, 'a', 100], [300, 'b', 100]];
    const cfg = (s: string) => config(s, ['a', 'b', 'c'], { loadMs: 100, stopMs: 0 }, s === 'fifo' ? prio.replace('  scheduler:\n    use: fifo\n', '') : '');
    const waitsOf = (s: string) => simulateRun(cfg(s), trace(rows)).outcomes().map((o) => (o.kind === 'served' ? o.grantedAt - o.arrivedAt : -1));
    // c is busy until 5100; then fifo loads b (priority 10) before a, serial a before b.
    assert.deepEqual(waitsOf('fifo'), [100, 5200, 4900]);
    assert.deepEqual(waitsOf('serial'), [100, 5000, 5100]);
  });

  it('unknown models are refused (MODEL_NOT_FOUND), aliases resolved, never-startable models fail at once', () => {
    const yaml = `routing: { scheduler: { use: fifo } }
models:
  a: { cmd: "srv --port \${PORT}", aliases: [alpha], simulate: { loadMs: 100, stopMs: 0 } }
  broken: { cmd: "srv" }
`;
    const rec = simulateRun(parseConfig(yaml, { env: {} }), trace([[0, 'alpha', 10], [0, 'nope', 10], [5, 'broken', 10], [6, 'a', 10]]));
    const s = summarize('fifo', rec);
    assert.deepEqual([s.requests, s.served, s.failed, s.swaps], [4, 2, 2, 1]);
    assert.deepEqual(s.errors, { MODEL_NOT_FOUND: 1, UPSTREAM_START_FAILED: 1 });
  });

  it('concurrencyLimit refuses what the proxy would answer 429', () => {
    const s = run('serial', [[0, 'a', 100], [1, 'a', 100], [2, 'a', 100]], { loadMs: 1000, stopMs: 0 }, '', '    concurrencyLimit: 2\n');
    assert.deepEqual([s.served, s.failed, s.errors.CONCURRENCY_LIMIT], [2, 1, 1]);
    assert.equal(s.unfinished, 0);
  });

  it('a model with a ttl is unloaded once idle that long, and loaded again by the next request', () => {
    const rows: Row[] = [[0, 'a', 100], [500, 'a', 100], [3000, 'a', 100], [3100, 'a', 100]];
    // Used last at 1100 (end of both requests): unloaded at 2100 (ttl 1 s), stopped at 2300; loaded again at 3000.
    const withTtl = run('fifo', rows, { loadMs: 1000, stopMs: 200 }, '', '    ttl: 1\n');
    assert.deepEqual(withTtl.waits, [1000, 500, 1000, 900]);
    assert.deepEqual([withTtl.swaps, withTtl.evictions, withTtl.makespanMs], [2, 0, 4100]);
    const noTtl = run('fifo', rows, { loadMs: 1000, stopMs: 200 });
    assert.deepEqual([noTtl.swaps, noTtl.waitMaxMs, noTtl.makespanMs], [1, 1000, 3200]);
  });

  it('a ttl never unloads a model that is busy, nor one used again in time', () => {
    // ttl 1 s; a request every 900 ms, each 600 ms long: the model is never idle for 1 s.
    const rows: Row[] = Array.from({ length: 6 }, (_, i) => [i * 900, 'a', 600] as const);
    const s = run('serial', rows, { loadMs: 100, stopMs: 0 }, '', '    ttl: 1\n');
    assert.deepEqual([s.swaps, s.served], [1, 6]);
  });

  it('is deterministic', () => {
    const rows: Row[] = Array.from({ length: 60 }, (_, i) => [i * 37 % 500, 'abc'[i % 3]!, 50 + (i * 13) % 90] as const);
    for (const s of ['fifo', 'serial']) assert.deepEqual(run(s, rows), run(s, rows));
  });
});
