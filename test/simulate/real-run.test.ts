/**
 * The simulator against a real run of the same trace: modelswap in-process
 * (fifo), one fake llama-server per model whose --load-ms is the model's
 * simulate.loadMs, each request's service time made by the fake's
 * --token-ms × max_tokens. Swaps are counted as the benchmark counts them
 * (the proxy's "upstream ready" log lines, one per load).
 *
 * The trace is phases 2 s apart: within a phase a model loads and its
 * requests are served (in some phases a request for a second model arrives
 * during the load and waits for the first model's requests, then swaps).
 * A phase with two loads may run into the next one on a loaded machine;
 * the next phase's requests then join that load or wait for it, and the
 * same models still load in the same order. So fifo's swap count does not
 * depend on timing and must be equal: 9.
 *
 * Makespan tolerance: real - sim within [-100 ms, 2 × overhead + 500 ms],
 * where overhead is the most any real load of this run took beyond the
 * simulated stop + load (from the proxy's "model ready" lines). The real run
 * cannot be faster than the simulation (timers never fire early, and every
 * step the simulation leaves out only adds time), so the lower bound only
 * allows rounding. Above, each real load also pays what simulate.loadMs
 * (the fake's --load-ms) leaves out: Node starting the fake server, the
 * process stop and the health check; 250–900 ms per load were measured on a
 * 2-core machine at load average 9–15, so a fixed bound would be either
 * loose or flaky. The last phase has two loads on its critical path (the
 * phase before it has none and ends long before it), hence 2 × overhead; the 500 ms left cover
 * the requests' HTTP round trips and the timers' lateness, and would not
 * cover a simulation that got a phase's queueing or order wrong (a missed
 * or extra load is 320 ms plus its overhead; a request served after the
 * wrong model, at least one more load).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { summarize } from '../../src/simulate/report.ts';
import { simulateRun } from '../../src/simulate/run.ts';
import { parseTrace } from '../../src/simulate/trace.ts';
import { FAKE, startFromYaml } from '../helpers/modelswap.ts';

const LOAD_MS = 300;
const TOKEN_MS = 10;

const model = (id: string): string => `  ${id}:
    cmd: \${fake} --port \${PORT} --model-id ${id} --load-ms ${LOAD_MS} --token-ms ${TOKEN_MS} --tokens 1000
    simulate: { loadMs: ${LOAD_MS}, stopMs: 20 }`;

const YAML = `healthCheckTimeout: 30
routing:
  scheduler:
    use: fifo
models:
${['a', 'b', 'c'].map(model).join('\n')}
`;

/** [t, model, ms] per request; the comments give fifo's loads. */
const TRACE: ReadonlyArray<readonly [number, string, number]> = [
  [0, 'a', 200], [40, 'a', 100], [80, 'a', 150], // a
  [2000, 'b', 100], [2050, 'b', 200], // b
  [4000, 'a', 100], [4050, 'b', 100], [4100, 'a', 100], // a, then b once a's requests are done
  [6000, 'c', 100], [6020, 'c', 100], [6040, 'c', 100], [6060, 'c', 100], // c
  [8000, 'a', 300], [8020, 'b', 50], // a, then b
  [10000, 'b', 100], [10100, 'b', 100], // b is still loaded: no swap
  [12000, 'c', 100], [12010, 'a', 100], [12020, 'c', 100], // c, then a
];
const EXPECTED_SWAPS = 9;

const jsonl = TRACE.map(([t, m, ms]) => JSON.stringify({ t, model: m, ms })).join('\n');

describe('the simulator reproduces a real run', () => {
  it('fifo on the fake server: the same swap count, makespan within [-100 ms, 2 × load overhead + 500 ms]', async (t) => {
    const trace = parseTrace(jsonl);
    const sim = summarize('fifo', simulateRun(parseConfig(YAML.replaceAll('${fake}', FAKE), { env: {} }), trace));
    assert.equal(sim.swaps, EXPECTED_SWAPS, 'the simulation itself');
    assert.equal(sim.served, TRACE.length);

    const app = await startFromYaml(t, YAML);
    const start = performance.now();
    const ends = await Promise.all(trace.map((r) => new Promise<number>((resolve, reject) => {
      setTimeout(() => {
        fetch(`${app.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: r.model, max_tokens: r.ms / TOKEN_MS, messages: [{ role: 'user', content: 'hi' }] }),
        }).then(async (res) => {
          await res.text();
          assert.equal(res.status, 200, `request at ${r.t} ms`);
          assert.match(res.headers.get('x-served-by') ?? '', new RegExp(`^${r.model}@`));
          resolve(performance.now() - start);
        }).catch(reject);
      }, r.t);
    })));
    const realMakespan = Math.max(...ends);

    const lines = app.output.join('').split('\n');
    const realSwaps = lines.filter((l) => l.includes('"msg":"upstream ready"')).length;
    const swapMs = lines.filter((l) => l.includes('"msg":"model ready"')).map((l) => (JSON.parse(l) as { ms: number }).ms);
    const overhead = Math.max(0, ...swapMs.map((ms) => ms - (20 + LOAD_MS)));
    const upper = 2 * overhead + 500;
    const diff = realMakespan - sim.makespanMs;
    t.diagnostic(`real swap times (stop + load): ${swapMs.join(', ')} ms; simulated: ${20 + LOAD_MS} ms; overhead up to ${overhead} ms`);
    t.diagnostic(`swaps real ${realSwaps}, sim ${sim.swaps}; makespan real ${realMakespan.toFixed(0)} ms, sim ${sim.makespanMs} ms (real - sim = ${diff.toFixed(0)} ms, allowed -100 to ${upper})`);
    assert.equal(realSwaps, sim.swaps);
    assert.equal(swapMs.length, realSwaps, 'every load is a swap that ended ready');
    assert.ok(diff >= -100 && diff <= upper, `makespan real ${realMakespan.toFixed(0)} ms vs simulated ${sim.makespanMs} ms: ${diff.toFixed(0)} ms apart, allowed -100 to ${upper}`);
  });
});
