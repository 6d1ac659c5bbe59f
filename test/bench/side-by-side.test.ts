/**
 * Scenario 6's side-by-side machinery, run against the fake llama-server (no
 * router: that needs a real llama-server): every runner takes its turns in
 * slices and streams, is measured in each, and the swap steps alternate
 * between runners. Asserts shape and sanity, never speed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../../bench/lib/processes.ts';
import { fake } from '../../bench/lib/upstreams.ts';
import { roundOrder, sideBySide, type HotSample, type SideBySideResult, type StreamSample } from '../../bench/scenarios/side-by-side.ts';

test('side by side against the fake: hot-path slices pooled per round, streams in turn with CPU per event, swap steps interleaved', async () => {
  const lines: string[] = [];
  const r: SideBySideResult = await sideBySide(
    { rounds: 1, warmupMs: 50, phaseMs: 300, slices: 2, concurrencies: [1, 4], streams: 2, streamTokens: 20, swapRounds: 2, abSwaps: 2 },
    (s) => void lines.push(s),
    { kind: fake, cli: join(ROOT, 'src/cli.ts') },
  );
  assert.deepEqual(r.runners, ['direct', 'bare', 'fifo', 'serial']);
  assert.equal(r.slices, 2);
  assert.equal(r.cpuFrom, 'stat');
  const [round] = r.rounds;
  assert.ok(round !== undefined && r.rounds.length === 1);
  for (const runner of r.runners) {
    for (const c of [1, 4]) {
      const h: HotSample | undefined = round.hot.find((x) => x.runner === runner && x.concurrency === c);
      assert.ok(h !== undefined, `${runner} c${c} measured`);
      assert.equal(h.errors, 0, `${runner} c${c}: ${h.firstError}`);
      assert.ok(h.p50Ms > 0 && h.p99Ms >= h.p50Ms && h.reqPerSec > 0, `${runner} c${c} pooled figures`);
      assert.equal(h.cpuUsPerReq === null, runner === 'direct', 'CPU per request for proxies only');
      if (h.cpuUsPerReq !== null) assert.ok(h.cpuUsPerReq > 0);
    }
    const st: StreamSample | undefined = round.stream.find((x) => x.runner === runner);
    assert.ok(st !== undefined && st.errors === 0, `${runner} streamed`);
    assert.ok(st.ttfbMs > 0 && st.perTokenMs > 0);
    assert.equal(st.cpuUsPerEvent == null, runner === 'direct');
    // Read in 10 ms ticks: two short streams through the fake may take less than one.
    if (st.cpuUsPerEvent != null) assert.ok(Number.isFinite(st.cpuUsPerEvent) && st.cpuUsPerEvent >= 0);
  }
  // Swaps: every runner but the forwarder, each round a cold start and abSwaps swaps, none failed.
  assert.deepEqual([...new Set(r.swaps.runs.map((x) => x.runner))].sort(), ['direct', 'fifo', 'serial']);
  assert.equal(r.swaps.runs.length, 2 * 3);
  for (const run of r.swaps.runs) {
    assert.equal(run.failures, 0, `${run.runner}: ${run.firstFailure}`);
    assert.ok(run.coldMs > 0 && run.swapMs.length === 2 && run.swapMs.every((ms) => ms > 0), `${run.runner} timed`);
  }
  // Step by step, in turn: every step has every runner once, and the order turns from step to step.
  const steps = r.swaps.steps ?? [];
  assert.equal(steps.length, 2 * 3, 'a cold start and 2 swaps per round, 2 rounds');
  assert.deepEqual(steps.map((s) => s.model), ['a', 'b', 'a', 'a', 'b', 'a']);
  for (const s of steps) assert.deepEqual([...s.order].sort(), ['direct', 'fifo', 'serial'], `step ${s.round}/${s.model}`);
  for (let i = 1; i < steps.length; i++) assert.notDeepEqual(steps[i]!.order, steps[i - 1]!.order, `step ${i} takes turns in another order`);
  const fifo = r.summary.find((x) => x.runner === 'fifo')!;
  assert.ok(fifo.coldMs !== null && fifo.swapP50Ms !== null && fifo.cpuUsPerEvent !== null && fifo.addedP50Ms['1'] !== undefined);
  assert.ok(lines.some((l) => l.includes('swaps round 2')), lines.join('\n'));
});

test('turns: every rotation is followed by its mirror, so each runner\'s mean position is the middle one, for 4 runners as for 5', () => {
  for (const n of [2, 4, 5]) {
    const runners = Array.from({ length: n }, (_, i) => i);
    const sum = new Array<number>(n).fill(0);
    const turns = 2 * n;
    for (let t = 0; t < turns; t++) {
      const order = roundOrder(runners, t);
      assert.deepEqual([...order].sort(), runners, 'each turn has every runner once');
      order.forEach((runner, pos) => (sum[runner]! += pos));
    }
    for (const s of sum) assert.equal(s / turns, (n - 1) / 2, `${n} runners: mean positions ${sum.map((x) => x / turns).join(', ')}`);
    assert.deepEqual(roundOrder(runners, 1), [...roundOrder(runners, 0)].reverse(), 'turn 1 mirrors turn 0');
  }
});

test('side by side refuses slices that are not a whole number ≥ 1', async () => {
  for (const slices of [0, 2.5, Number.NaN]) {
    await assert.rejects(sideBySide({ rounds: 1, warmupMs: 0, phaseMs: 100, slices, concurrencies: [1], streams: 0, streamTokens: 1, swapRounds: 0, abSwaps: 0 }, () => {}, { kind: fake }), RangeError);
  }
});
