/** Scenario 6's section of BENCHMARKS.md: the side-by-side rows, then the traces. Pure functions. */
import type { RealResult } from '../scenarios/real.ts';
import { RUNNER_NAMES, SIDE_RUNNERS, type RunnerSummary, type SideBySideResult } from '../scenarios/side-by-side.ts';
import { BOUND_NOTE, failures, n, signed, table, traceSummary, traceTable } from './markdown.ts';

/** The runners every side-by-side table lists, in this order. */
const ROWS = ['fifo', 'serial', 'router', 'direct', 'bare'] as const;

export function renderReal(real: RealResult | undefined): string[] {
  const out: string[] = [];
  if (real === undefined) return ['Not run.', ''];
  if (real.skipped !== null) {
    out.push(`Skipped: ${real.skipped}. Run \`LLAMA_SERVER=/path/to/llama-server npm run bench\` (model: \`LLAMA_MODEL\`, default \`../shared/models/tiny-9m.gguf\`).`, '');
    out.push(table(['runner', 'side by side with llama.cpp\'s router'], ROWS.map((r) => [RUNNER_NAMES[r], `skipped: ${real.skipped}`])), '');
    return out;
  }
  out.push(`Binary \`${real.binary}\`, model \`${real.model}\`.`, '');
  if (real.side !== undefined) out.push(...renderSide(real.side));
  else if (real.overhead !== undefined && real.streaming !== undefined && real.coldStart !== undefined) {
    // Results saved before the side-by-side rows: scenarios 1-3 against llama-server through fifo.
    const o = real.overhead.summary;
    out.push(table(['measure', 'direct', 'proxy', 'difference'], [
      ['c1 latency p50 ms', n(o.c1.directP50Ms, 3), n(o.c1.proxyP50Ms, 3), n(o.c1.addedP50Ms, 3)],
      ['c32 latency p50 ms', n(o.c32.directP50Ms, 3), n(o.c32.proxyP50Ms, 3), n(o.c32.addedP50Ms, 3)],
      ['c64 req/s', o.c64.directReqPerSec, o.c64.proxyReqPerSec, `${n(o.c64.ratio)}×`],
      ...real.streaming.rows.map((x) => [`stream of 500 tokens: TTFB ms (${x.concurrency} at once)`, n(x.directTtfbMs, 2), n(x.proxyTtfbMs, 2), n(x.addedTtfbMs, 2)]),
      ['spawn → healthy ms (own) / cold start to first byte (proxy)', n(real.coldStart.summary.ownReadyMs, 1), n(real.coldStart.summary.coldTtfbMs, 1), signed(real.coldStart.summary.coldOverheadP50Ms, 1)],
      ['stop + spawn → healthy ms (own) / swap to first byte (proxy)', n(real.coldStart.summary.ownStopMs + real.coldStart.summary.ownReadyMs, 1), n(real.coldStart.summary.swapTtfbMs, 1), signed(real.coldStart.summary.swapOverheadP50Ms, 1)],
    ]), '');
  }
  const runners = [...new Set(real.traces.map((x) => x.runner))].filter((r) => r !== 'llama.cpp router');
  out.push(`Traces: each replayed open loop against modelswap (${runners.join(', ')}; default settings) and against the router (\`--models-max 1\`), one model resident at a time. Per trace and runner, the median over rounds:`, '');
  out.push(traceSummary(real.traces), '');
  out.push(`Every run: ${BOUND_NOTE}`, '');
  out.push(traceTable(real.traces), '');
  out.push(...failures(real.traces));
  return out;
}

function renderSide(side: SideBySideResult): string[] {
  const out: string[] = [];
  const rows = ROWS.filter((r) => side.runners.includes(r)).map((r) => side.summary.find((x) => x.runner === r)!);
  const missing = SIDE_RUNNERS.filter((r) => !side.runners.includes(r));
  const cs = side.concurrencies.map(String);
  out.push(`Side by side, one run: the same llama-server binary, model and flags behind every runner; ${side.rounds.length} rounds, ${side.slices === undefined ? 'the runners\' order rotated and reversed every other round' : `in which the runners take turns, each hot-path phase split into ${side.slices} slices, the streams one at a time and the swaps step by step, in an order rotated (and reversed every other time) from turn to turn, so that a shift of the host's speed falls on all of them alike`}. Each figure is the median over rounds; "added" and "÷ direct" are medians of each round's difference or ratio against direct, measured in the same round. Each runner has its own llama-server (the router its own child), so that one proxy's kept-alive connections never hold the threads of another's server. CPU per request is the proxy process's CPU time (the router's own process, not the llama-server child it spawns) over a phase${side.slices === undefined ? '' : '\'s slices'}, warm-up included, divided by the requests it served${side.cpuFrom === 'stat' ? '; it is read from /proc/<pid>/stat (10 ms ticks), which counts the threads that ended meanwhile too: the router relays each request on a thread of its own' : ' (a sum over the live threads: it misses the router\'s per-request threads, which end with their request, bench/findings.md)'}.${missing.length > 0 ? ` Not measured: ${missing.map((r) => RUNNER_NAMES[r]).join(', ')}.` : ''}`, '');
  const head = ['runner', ...cs.map((c) => `c${c} p50 ms (added)`), ...cs.filter((c) => c !== '1').map((c) => `c${c} req/s (÷ direct)`), ...cs.filter((c) => c !== '32').map((c) => `CPU µs/req c${c}`)];
  const hot = (x: RunnerSummary): string[] => [
    RUNNER_NAMES[x.runner],
    ...cs.map((c) => (x.runner === 'direct' ? n(x.p50Ms[c], 3) : `${n(x.p50Ms[c], 3)} (${signed(x.addedP50Ms[c], 3)})`)),
    ...cs.filter((c) => c !== '1').map((c) => (x.runner === 'direct' ? `${n(x.reqPerSec[c], 0)}` : `${n(x.reqPerSec[c], 0)} (${n(x.ratioToDirect[c])}×)`)),
    ...cs.filter((c) => c !== '32').map((c) => (x.cpuUsPerReq[c] === null || x.cpuUsPerReq[c] === undefined ? '' : n(x.cpuUsPerReq[c], 0))),
  ];
  out.push(table(head, rows.map(hot)), '');
  const streams = side.rounds.some((rd) => rd.stream.length > 0);
  const swapRunners = new Set(side.swaps.runs.map((x) => x.runner));
  const perEvent = rows.some((x) => x.cpuUsPerEvent != null);
  out.push(`Streaming: 500-token SSE streams one at a time (time per token = first to last event ÷ events between${perEvent ? '; proxy CPU per event = the proxy process\'s CPU time over the measured streams ÷ the events they carried' : ''}). Swaps: nothing loaded, a request for A (cold start), then ${side.swaps.abSwaps} requests alternating B, A… (each a swap), each timed to its first byte, ${new Set(side.swaps.runs.map((x) => x.round)).size} rounds; direct = spawn, poll /health every ms, one request (a swap adds its own SIGTERM-to-exit).`, '');
  // The forwarder has no swap rows; it is listed when its CPU per event was measured.
  out.push(table(['runner', 'TTFB ms (added)', 'ms per token (added)', ...(perEvent ? ['proxy CPU µs/event'] : []), 'cold start ms', 'A/B swap p50 ms', 'failed'], rows.filter((x) => x.runner !== 'bare' || perEvent).map((x) => [
    RUNNER_NAMES[x.runner],
    !streams ? 'n/a' : x.runner === 'direct' ? n(x.ttfbMs, 2) : `${n(x.ttfbMs, 2)} (${signed(x.addedTtfbMs, 2)})`,
    !streams ? 'n/a' : x.runner === 'direct' ? n(x.perTokenMs, 3) : `${n(x.perTokenMs, 3)} (${signed(x.addedPerTokenMs, 3)})`,
    ...(perEvent ? [x.cpuUsPerEvent == null ? '' : n(x.cpuUsPerEvent, 1)] : []),
    swapRunners.has(x.runner) ? n(x.coldMs, 1) : 'n/a',
    swapRunners.has(x.runner) ? n(x.swapP50Ms, 1) : 'n/a',
    x.errors,
  ])), '');
  out.push('Per round (requests/s at the highest concurrency ÷ direct, and proxy CPU µs per request at concurrency 1):', '');
  const top = String(Math.max(...side.concurrencies));
  out.push(table(['round', side.slices === undefined ? 'order' : 'first turn\'s order', ...rows.filter((x) => x.runner !== 'direct').map((x) => RUNNER_NAMES[x.runner])], side.rounds.map((rd, i) => {
    const d = rd.hot.find((h) => h.runner === 'direct' && String(h.concurrency) === top);
    return [i + 1, rd.order.join(' → '), ...rows.filter((x) => x.runner !== 'direct').map((x) => {
      const h = rd.hot.find((y) => y.runner === x.runner && String(y.concurrency) === top);
      const c1 = rd.hot.find((y) => y.runner === x.runner && y.concurrency === 1);
      return `${h === undefined || d === undefined ? 'n/a' : `${n(h.reqPerSec / d.reqPerSec)}×`}, ${c1?.cpuUsPerReq == null ? 'n/a' : `${n(c1.cpuUsPerReq, 0)} µs`}`;
    })];
  })), '');
  return out;
}
