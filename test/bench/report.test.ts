/** Targets read off results, and how a missed one is reported (bench/lib/results.ts, report.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderChart, renderMarkdown } from '../../bench/lib/report.ts';
import { evaluate, type Results } from '../../bench/lib/results.ts';
import type { OverheadResult } from '../../bench/scenarios/overhead.ts';
import { realSkipReason, type RealResult } from '../../bench/scenarios/real.ts';
import { renderReal } from '../../bench/lib/report-real.ts';
import { summarizeSide, type SideRound, type SideRunner } from '../../bench/scenarios/side-by-side.ts';
import type { SwapSamples } from '../../bench/scenarios/side-swaps.ts';
import type { TraceRun } from '../../bench/scenarios/traces.ts';

const row = (added: number) => ({ directP50Ms: 0.1, proxyP50Ms: 0.1 + added, addedP50Ms: added, directP99Ms: 1, proxyP99Ms: 2, addedP99Ms: 1 });
const overhead = (addedC1: number, ratio: number, bareC1 = 0.2): OverheadResult => ({
  rounds: [],
  summary: { c1: row(addedC1), c32: row(2), c64: { directReqPerSec: 1000, proxyReqPerSec: 1000 * ratio, ratio, directP99Ms: 1, proxyP99Ms: 2 }, proxyCpuUsPerReq: 90, rssMb: { idle: 100, afterLoad: 120, peak: 130 }, errors: 0, floor: { c1AddedP50Ms: bareC1, c64Ratio: 0.4 } },
});
const run = (trace: string, runner: TraceRun['runner'], swaps: number): TraceRun => ({
  trace, upstream: 'fake', runner, requests: 10, ok: 10, failed: 0, firstFailure: null, swaps, makespanMs: 1000, waitP50Ms: 1, waitP95Ms: 2, waitMaxMs: 3,
});

test('targets: a number past its limit is missed, one within is met, a scenario not run is null', () => {
  const t = evaluate({ overhead: overhead(0.45, 0.25), traces: [run('bursty-3models', 'serial', 40), run('bursty-3models', 'fifo', 20)] });
  const by = (id: string) => t.find((x) => x.id === id)!;
  assert.equal(by('c1-added-p50').met, false, '0.45 ms is more than the forwarder\'s 0.2 ms + 0.05 ms');
  assert.equal(by('c1-added-p50').budgetUsed, 1.8);
  assert.equal(by('c64-throughput').met, false, '0.25× is below 0.30×');
  assert.equal(by('bursty-swaps').met, true, '20 of 40 is exactly half');
  assert.equal(by('scale-rss').met, null);
  assert.equal(by('router-makespan-fifo').met, null);
  const ok = evaluate({ overhead: overhead(0.24, 0.4), traces: [run('bursty-3models', 'serial', 40), run('bursty-3models', 'fifo', 21)] });
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
  assert.match(md, /\| 1 overhead \| added latency p50 at concurrency 1 \| ≤ bare forwarder \+ 0\.05 ms \| 0\.450 ms \(bare node:http forwarder: 0\.200 ms\) \| ❌ \*\*missed\*\* \|/);
  assert.match(md, /\| 1 overhead \| throughput at concurrency 64, proxy ÷ direct \| ≥ 0\.30× \| 0\.40× \(bare node:http forwarder: 0\.40×\) \| ✅ met \|/);
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
  assert.deepEqual([by('c1-added-p50').measured, by('c1-added-p50').met], ['0.450 ms (bare node:http forwarder: 0.410 ms)', true], 'within the forwarder\'s + 0.05 ms');
  assert.deepEqual([by('c64-throughput').measured, by('c64-throughput').met], ['0.28× (bare node:http forwarder: 0.33×)', false]);
  const results: Results = {
    schema: 1, mode: 'full', date: '2026-12-01T00:00:00.000Z', command: 'npm run bench', durationS: 1,
    machine: { cpus: 2, cpuModel: 'test', memGiB: 24, kernel: '6', node: 'v24', modelswap: '0.1.0', commit: null },
    scenarios: { overhead: withFloor }, targets: t,
  };
  assert.match(renderMarkdown(results, { chartPath: 'c.svg', findings: '' }), /added p50 \*\*0\.410 ms\*\* at concurrency 1, \*\*0\.33×\*\* of direct at concurrency 64/);
});

test('recording on versus off: judged on the medians of per-round comparisons; results saved before it was measured say not run', () => {
  const base = overhead(0.2, 0.4);
  const cost = (cpuRatio: number, throughputRatio: number, addedP50Ms: number): OverheadResult => ({
    ...base,
    summary: {
      ...base.summary,
      recording: {
        rounds: 5,
        c1: { onP50Ms: 0.3 + addedP50Ms, offP50Ms: 0.3, addedP50Ms, cpuRatio: 1.01 },
        c64: { onReqPerSec: 1000 * throughputRatio, offReqPerSec: 1000, throughputRatio, onCpuUsPerReq: Math.round(100 * cpuRatio), offCpuUsPerReq: 100, cpuRatio },
      },
    },
  });
  const judged = (o: OverheadResult): Record<string, boolean | null> =>
    Object.fromEntries(evaluate({ overhead: o }).filter((x) => x.id.startsWith('recording-')).map((x) => [x.id, x.met]));
  assert.deepEqual(judged(cost(1.04, 0.97, 0.01)), { 'recording-cpu': true, 'recording-throughput': true, 'recording-c1-p50': true });
  assert.deepEqual(judged(cost(1.08, 0.93, 0.03)), { 'recording-cpu': false, 'recording-throughput': false, 'recording-c1-p50': false });
  assert.deepEqual(judged(base), { 'recording-cpu': null, 'recording-throughput': null, 'recording-c1-p50': null });
  const cpu = evaluate({ overhead: cost(1.04, 0.97, 0.01) }).find((x) => x.id === 'recording-cpu')!;
  assert.equal(cpu.measured, '1.040× (104 vs 100 µs; c1: 1.010×)');
});

test('scenario 6 says why it is skipped', () => {
  assert.match(realSkipReason({})!, /LLAMA_SERVER is not set/);
  assert.match(realSkipReason({ LLAMA_SERVER: '/nonexistent/llama-server' })!, /does not exist/);
  assert.match(realSkipReason({ LLAMA_SERVER: process.execPath, LLAMA_MODEL: '/nonexistent.gguf' })!, /no GGUF model/);
});

/** A side-by-side run of two rounds where each runner's figures are given per concurrency. */
function sideResult(fig: Partial<Record<SideRunner, { c1: number; rps8: number; rps32: number; cpu: number; ttfb: number; tok: number; cold: number; swap: number; ev?: number }>>): RealResult {
  const runners = (Object.keys(fig) as SideRunner[]);
  const rounds: SideRound[] = [0, 1].map(() => ({
    order: runners,
    hot: runners.flatMap((r) => [1, 8, 32].map((c) => ({ runner: r, concurrency: c, p50Ms: c === 1 ? fig[r]!.c1 : 5, p99Ms: 9, reqPerSec: c === 8 ? fig[r]!.rps8 : c === 32 ? fig[r]!.rps32 : 100, cpuUsPerReq: r === 'direct' ? null : fig[r]!.cpu, errors: 0 }))),
    stream: runners.map((r) => ({ runner: r, ttfbMs: fig[r]!.ttfb, perTokenMs: fig[r]!.tok, ...(fig[r]!.ev === undefined ? {} : { cpuUsPerEvent: r === 'direct' ? null : fig[r]!.ev }), errors: 0 })),
  }));
  const swaps: SwapSamples = { abSwaps: 2, runs: runners.filter((r) => r !== 'bare').map((r) => ({ runner: r, round: 0, coldMs: fig[r]!.cold, swapMs: [fig[r]!.swap, fig[r]!.swap], failures: 0, firstFailure: null })) };
  const ab = (runner: TraceRun['runner'], makespanMs: number): TraceRun => ({ ...run('alternating-ab', runner, 20), upstream: 'llama-server', makespanMs });
  return {
    skipped: null, binary: 'llama-server', model: 'tiny.gguf',
    side: { runners, concurrencies: [1, 8, 32], rounds, swaps, summary: summarizeSide(runners, [1, 8, 32], rounds, swaps) },
    traces: [ab('serial', 11_000), ab('fifo', 6300), ab('llama.cpp router', 6200)],
  };
}

test('scenario 6 judges modelswap fifo against the router side by side; serial\'s makespan is retired, fifo\'s at parity within noise', () => {
  const base = { c1: 10, rps8: 100, rps32: 100, cpu: 0, ttfb: 8, tok: 2, cold: 250, swap: 280 };
  const real = sideResult({
    direct: base,
    bare: { ...base, c1: 10.3, cpu: 400 },
    fifo: { ...base, c1: 10.34, rps8: 70, rps32: 60, cpu: 900, ttfb: 9, tok: 2.01, cold: 260, swap: 285 },
    serial: { ...base, c1: 10.4, rps8: 30, rps32: 30, cpu: 1000, ttfb: 9.5, tok: 2.02, cold: 262, swap: 290 },
    router: { ...base, c1: 11, rps8: 65, rps32: 65, cpu: 1200, ttfb: 10, tok: 2.0, cold: 255, swap: 300 },
  });
  const t = evaluate({ real });
  const by = (id: string) => t.find((x) => x.id === id)!;
  assert.equal(by('real-c8-throughput').met, true, '0.70× against the router\'s 0.65×');
  assert.equal(by('real-c32-throughput').met, false, '0.60× against 0.65×');
  assert.match(by('real-c8-throughput').measured, /fifo 0\.70×; router 0\.65× \(serial 0\.30×\)/);
  assert.equal(by('real-ttfb').met, true);
  assert.equal(by('real-per-token').met, false, '+0.01 ms per token against the router\'s 0');
  assert.equal(by('real-swap-p50').met, true);
  assert.equal(by('real-cold').met, false, '260 ms against 255 ms');
  assert.match(by('real-cold').measured, /^fifo 260\.0 ms; router 255\.0 ms \(serial 262\.0 ms\); fifo − router \+5\.0 ms, fifo − serial \(the same code here\) -2\.0 ms$/);
  assert.match(by('real-per-token').measured, /fifo − router \+0\.010 ms, fifo − serial \(the same code here\) -0\.010 ms$/);
  assert.doesNotMatch(by('real-cpu-c1').measured, /fifo − serial/, 'only the rows where both schedulers run the same code');
  assert.equal(by('real-c1-vs-bare').met, true, '+0.34 ms ≤ +0.30 + 0.05 ms');
  assert.equal(by('real-c1-vs-router').met, true, '+0.34 ms ≤ 0.5 × +1.0 ms');
  assert.equal(by('real-cpu-c1').met, true);
  assert.equal(by('real-cpu-c8').met, true);
  assert.equal(by('router-makespan-serial').met, null);
  assert.ok(by('router-makespan-serial').retired !== undefined);
  assert.equal(by('router-makespan-fifo').met, true, '6.3 ÷ 6.2 s is parity within noise');
  assert.match(by('router-makespan-fifo').measured, /1\.016×.*parity within noise/);

  const md = renderReal(real).join('\n');
  for (const name of ['modelswap fifo', 'modelswap serial', 'llama.cpp router', 'direct (no proxy)']) assert.ok(md.includes(`| ${name} |`), name);
  assert.match(md, /\| modelswap fifo \| 10\.340 \(\+0\.340\) \|/);
  assert.doesNotMatch(md, /CPU µs\/event/, 'results saved before the per-event CPU have no such column');
  assert.match(md, /2 rounds, the runners' order rotated and reversed every other round\./, 'results saved before the runners took turns say how they ran');
  assert.ok(real.skipped === null && real.side !== undefined);
  assert.match(md, /a sum over the live threads: it misses the router's per-request threads/, 'results saved before CPU came from /proc/<pid>/stat say what theirs misses');
  assert.match(renderReal({ ...real, side: { ...real.side, cpuFrom: 'stat' } }).join('\n'), /read from \/proc\/<pid>\/stat \(10 ms ticks\), which counts the threads that ended meanwhile too/);
  assert.match(renderReal({ ...real, side: { ...real.side, slices: 4 } }).join('\n'), /2 rounds, in which the runners take turns, each hot-path phase split into 4 slices, the streams one at a time and the swaps step by step/);

  const results: Results = {
    schema: 1, mode: 'full', date: '2026-12-04T00:00:00.000Z', command: 'npm run bench', durationS: 1,
    machine: { cpus: 2, cpuModel: 'test', memGiB: 24, kernel: '6', node: 'v24', modelswap: '0.1.0', commit: null },
    scenarios: { real }, targets: t,
  };
  assert.match(renderMarkdown(results, { chartPath: 'c.svg', findings: '' }), /\| A\/B trace makespan \(median\), modelswap serial ÷ llama\.cpp router \| retired \(issue 12\) \| 11\.00 s ÷ 6\.20 s = 1\.774× \| — retired: /);
});

test('scenario 6 reports each proxy\'s CPU per streamed event, the forwarder\'s too', () => {
  const base = { c1: 10, rps8: 100, rps32: 100, cpu: 0, ttfb: 8, tok: 2, cold: 250, swap: 280, ev: 0 };
  const real = sideResult({
    direct: base,
    bare: { ...base, cpu: 400, ev: 88.4 },
    fifo: { ...base, cpu: 600, ev: 90.2 },
    router: { ...base, cpu: 420, ev: 26.1 },
  });
  assert.ok(real.skipped === null && real.side !== undefined);
  const summary = real.side.summary;
  assert.equal(summary.find((x) => x.runner === 'fifo')!.cpuUsPerEvent, 90.2);
  assert.equal(summary.find((x) => x.runner === 'direct')!.cpuUsPerEvent, null);
  const md = renderReal(real).join('\n');
  assert.match(md, /\| runner \| TTFB ms \(added\) \| ms per token \(added\) \| proxy CPU µs\/event \| cold start ms \|/);
  assert.match(md, /\| modelswap fifo \| 8\.00 \(\+0\.00\) \| 2\.000 \(\+0\.000\) \| 90\.2 \| 250\.0 \|/);
  assert.match(md, /\| llama\.cpp router \| [^\n]*\| 26\.1 \| 250\.0 \|/);
  assert.match(md, /\| bare node:http forwarder \| [^\n]*\| 88\.4 \| n\/a \| n\/a \| 0 \|/);
  assert.match(md, /\| direct \(no proxy\) \| 8\.00 \| 2\.000 \|  \| 250\.0 \|/);
});

test('without a llama-server every scenario-6 row says why it was skipped', () => {
  const real: RealResult = { skipped: 'LLAMA_SERVER is not set' };
  const t = evaluate({ real }).filter((x) => x.scenario === '6 real upstream');
  assert.ok(t.length >= 12);
  for (const x of t) assert.deepEqual([x.measured, x.met], ['skipped: LLAMA_SERVER is not set', null]);
  const md = renderReal(real).join('\n');
  for (const name of ['modelswap fifo', 'modelswap serial', 'llama.cpp router', 'direct (no proxy)']) assert.ok(md.includes(`| ${name} | skipped: LLAMA_SERVER is not set |`), name);
});

/** A run of `trace` on llama-server with the given swaps, wait p50 and p99, and (batch) the bound check. */
function realRun(trace: string, runner: TraceRun['runner'], swaps: number, p50: number, p99: number | undefined, over?: number): TraceRun {
  const base: TraceRun = { ...run(trace, runner, swaps), upstream: 'llama-server', waitP50Ms: p50, ...(p99 === undefined ? {} : { waitP99Ms: p99 }) };
  if (over === undefined) return base;
  return { ...base, proxy: { granted: 10, waitMaxMs: 900, loadMaxMs: 250, stopMaxMs: 15, serviceMaxMs: 100, bound: { over, tightest: { model: 'a', waitMs: 900, boundMs: 3000 } } } };
}

test('scenario 6 judges batch on the bursty and alternating traces against fifo and the router, medians over rounds', () => {
  const real: RealResult = {
    skipped: null, binary: 'llama-server', model: 'tiny.gguf',
    traces: [
      realRun('bursty-3models', 'serial', 54, 3000, 5500),
      realRun('bursty-3models', 'fifo', 18, 310, 800),
      realRun('bursty-3models', 'batch', 10, 300, 2500, 0),
      realRun('bursty-3models', 'llama.cpp router', 15, 312, 2400),
      ...[0, 1, 2].flatMap((i) => [
        realRun('alternating-ab', 'fifo', 20, 350, 600),
        realRun('alternating-ab', 'batch', [12, 14, 15][i]!, [260, 280, 300][i]!, i === 1 ? undefined : 500, i === 2 ? 1 : 0),
        realRun('alternating-ab', 'llama.cpp router', [21, 22, 22][i]!, [268, 267, 288][i]!, 550),
      ]),
    ],
  };
  const t = evaluate({ real });
  const by = (id: string) => t.find((x) => x.id === id)!;
  const b = (what: string) => by(`real-batch-${what}-bursty-3models`);
  const a = (what: string) => by(`real-batch-${what}-alternating-ab`);
  assert.deepEqual([b('swaps-vs-fifo').met, b('swaps-vs-fifo').measured], [true, '10 ÷ 18 = 0.56×']);
  assert.deepEqual([b('swaps-vs-router').met, b('swaps-vs-router').measured], [true, '10 ÷ 15 = 0.67×']);
  assert.equal(b('p50').met, true, '300 ms ≤ 312 ms');
  assert.deepEqual([b('p99').met, b('p99').measured], [false, 'batch 2500 ms; router 2400 ms; fifo 800 ms']);
  assert.deepEqual([b('bound').met, b('bound').measured], [true, '0 of 10 over (closest 900 of 3000 ms)']);
  assert.equal(b('swaps-vs-fifo').label, 'bursty trace: batch swaps ÷ fifo\'s');
  assert.deepEqual([a('swaps-vs-fifo').met, a('swaps-vs-fifo').measured], [true, '14 ÷ 20 = 0.70× (median of 3 rounds)'], '14 is exactly 0.7 × 20');
  assert.equal(a('swaps-vs-router').met, true, '14 ≤ 0.7 × 22');
  assert.deepEqual([a('p50').met, a('p50').measured], [false, 'batch 280 ms; router 268 ms; fifo 350 ms (median of 3 rounds)']);
  assert.equal(a('p99').met, null, 'a round saved without p99 leaves the median unknown');
  assert.equal(a('bound').met, false, 'one round had a wait beyond its bound');
  const over = evaluate({ real: { ...real, traces: real.traces.map((x) => (x.runner === 'batch' && x.trace === 'bursty-3models' ? { ...x, swaps: 11 } : x)) } });
  assert.equal(over.find((x) => x.id === 'real-batch-swaps-vs-router-bursty-3models')!.met, false, '11 > 0.7 × 15');

  const md = renderReal(real).join('\n');
  assert.match(md, /\| alternating-ab \| batch \| 3 \| 0 \| 14 \| 1\.00 \| 280 \| n\/a \| 3 \|/, 'the per-trace summary: medians over rounds, p99 unknown');
  assert.match(md, /\| bursty-3models \| llama\.cpp router \| 1 \| 0 \| 15 \| 1\.00 \| 312 \| 2400 \| 3 \|/);
  assert.match(md, /\| alternating-ab \| batch \| 10 \| 0 \| 15 \| 1\.00 \| 300 \| 2 \| 500 \| 3 \| \*\*1 over\*\* \|/, 'a run over its bound says so');
});

test('results saved before batch joined the traces still evaluate and render', () => {
  // No batch runs, no p99, no proxy record: the shape of results saved before.
  const old: RealResult = { skipped: null, binary: 'llama-server', model: 'tiny.gguf', traces: [run('bursty-3models', 'fifo', 18), run('bursty-3models', 'llama.cpp router', 15)] };
  const t = evaluate({ real: old, traces: [run('bursty-3models', 'serial', 54), run('bursty-3models', 'fifo', 16)] });
  const batch = t.filter((x) => x.id.startsWith('real-batch-') || x.id === 'batch-bound');
  assert.equal(batch.length, 11);
  for (const x of batch) assert.equal(x.met, null, x.id);
  assert.equal(t.find((x) => x.id === 'real-batch-swaps-vs-fifo-bursty-3models')!.measured, 'batch not run');
  assert.equal(t.find((x) => x.id === 'batch-bound')!.measured, 'not run');
  assert.match(renderReal(old).join('\n'), /\| bursty-3models \| fifo \| 10 \| 0 \| 18 \| 1\.00 \| 1 \| 2 \| n\/a \| 3 \|  \|/, 'p99 n/a, no bound column');
});
