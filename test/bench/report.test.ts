/** Targets read off results, and how a missed one is reported (bench/lib/results.ts, report.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderChart, renderMarkdown } from '../../bench/lib/report.ts';
import { evaluate, type Results } from '../../bench/lib/results.ts';
import type { OverheadResult } from '../../bench/scenarios/overhead.ts';
import { realSkipReason } from '../../bench/scenarios/real.ts';
import type { TraceRun } from '../../bench/scenarios/traces.ts';

const row = (added: number) => ({ directP50Ms: 0.1, proxyP50Ms: 0.1 + added, addedP50Ms: added, directP99Ms: 1, proxyP99Ms: 2, addedP99Ms: 1 });
const overhead = (addedC1: number, ratio: number): OverheadResult => ({
  rounds: [],
  summary: { c1: row(addedC1), c32: row(2), c64: { directReqPerSec: 1000, proxyReqPerSec: 1000 * ratio, ratio, directP99Ms: 1, proxyP99Ms: 2 }, proxyCpuUsPerReq: 90, rssMb: { idle: 100, afterLoad: 120, peak: 130 }, errors: 0 },
});
const run = (trace: string, runner: TraceRun['runner'], swaps: number): TraceRun => ({
  trace, upstream: 'fake', runner, requests: 10, ok: 10, failed: 0, firstFailure: null, swaps, makespanMs: 1000, waitP50Ms: 1, waitP95Ms: 2, waitMaxMs: 3,
});

test('targets: a number past its limit is missed, one within is met, a scenario not run is null', () => {
  const t = evaluate({ overhead: overhead(0.45, 0.25), traces: [run('bursty-3models', 'serial', 40), run('bursty-3models', 'fifo', 20)] });
  const by = (id: string) => t.find((x) => x.id === id)!;
  assert.equal(by('c1-added-p50').met, false);
  assert.equal(by('c1-added-p50').budgetUsed, 1.5);
  assert.equal(by('c64-throughput').met, false, '0.25× is below 0.30×');
  assert.equal(by('bursty-swaps').met, true, '20 of 40 is exactly half');
  assert.equal(by('scale-rss').met, null);
  assert.equal(by('router-makespan').met, null);
  const ok = evaluate({ overhead: overhead(0.2, 0.4), traces: [run('bursty-3models', 'serial', 40), run('bursty-3models', 'fifo', 21)] });
  assert.equal(ok.find((x) => x.id === 'c1-added-p50')!.met, true);
  assert.equal(ok.find((x) => x.id === 'c64-throughput')!.met, true);
  assert.equal(ok.find((x) => x.id === 'bursty-swaps')!.met, false, '21 of 40 is more than half');
});

test('the report says plainly when a target is missed, and the chart draws it red', () => {
  const scenarios = { overhead: overhead(0.45, 0.4) };
  const results: Results = {
    schema: 1, mode: 'full', date: '2026-11-22T00:00:00.000Z', command: 'npm run bench', durationS: 1,
    machine: { cpus: 2, cpuModel: 'test', memGiB: 24, kernel: '6', node: 'v24', modelswap: '0.1.0', commit: null },
    scenarios, targets: evaluate(scenarios),
  };
  const md = renderMarkdown(results, { chartPath: 'bench/results/chart.svg', findings: '## Findings\n\nSomething found.' });
  assert.match(md, /\| 1 overhead \| added latency p50 at concurrency 1 \| ≤ 0\.3 ms \| 0\.450 ms \| ❌ \*\*missed\*\* \|/);
  assert.match(md, /\| 1 overhead \| throughput at concurrency 64, proxy ÷ direct \| ≥ 0\.30× \| 0\.40× \| ✅ met \|/);
  assert.match(md, /## Findings\n\nSomething found\./);
  assert.match(md, /## 5\. Scale\n\nNot run\./);
  const svg = renderChart(results.targets, 'test <chart>');
  assert.match(svg, /fill="#c62828"/, 'a red bar for the miss');
  assert.match(svg, /fill="#2e7d32"/, 'a green bar for the hit');
  assert.ok(svg.includes('test &lt;chart&gt;'), 'text is escaped');
});

test('the bare node:http forwarder is shown beside the overhead targets, which are judged on modelswap alone', () => {
  const base = overhead(0.45, 0.28);
  const withFloor: OverheadResult = { ...base, summary: { ...base.summary, floor: { c1AddedP50Ms: 0.41, c64Ratio: 0.33 } } };
  const t = evaluate({ overhead: withFloor });
  const by = (id: string) => t.find((x) => x.id === id)!;
  assert.deepEqual([by('c1-added-p50').measured, by('c1-added-p50').met], ['0.450 ms (bare node:http forwarder: 0.410 ms)', false]);
  assert.deepEqual([by('c64-throughput').measured, by('c64-throughput').met], ['0.28× (bare node:http forwarder: 0.33×)', false]);
  const results: Results = {
    schema: 1, mode: 'full', date: '2026-12-01T00:00:00.000Z', command: 'npm run bench', durationS: 1,
    machine: { cpus: 2, cpuModel: 'test', memGiB: 24, kernel: '6', node: 'v24', modelswap: '0.1.0', commit: null },
    scenarios: { overhead: withFloor }, targets: t,
  };
  assert.match(renderMarkdown(results, { chartPath: 'c.svg', findings: '' }), /added p50 \*\*0\.410 ms\*\* at concurrency 1, \*\*0\.33×\*\* of direct at concurrency 64/);
});

test('scenario 6 says why it is skipped', () => {
  assert.match(realSkipReason({})!, /LLAMA_SERVER is not set/);
  assert.match(realSkipReason({ LLAMA_SERVER: '/nonexistent/llama-server' })!, /does not exist/);
  assert.match(realSkipReason({ LLAMA_SERVER: process.execPath, LLAMA_MODEL: '/nonexistent.gguf' })!, /no GGUF model/);
});
