/**
 * The batch scheduler's targets, read off the trace runs.
 *
 * Scenario 4 (fake upstream): on every trace, no batch request waits beyond
 * its bound. Scenario 6 (a real llama-server, every runner in the same run),
 * on the bursty and the alternating trace: batch makes at most 0.7× the swaps
 * of fifo and of llama.cpp's router, its wait p50 and p99 (send → first byte)
 * are at most the router's, and no request waits beyond its bound. A trace
 * replayed for several rounds is judged on the median over rounds of each
 * runner's figure; the bound, on every round. The bound is checked on the
 * proxy's own waits (arrival → grant) from its event feed: ./proxy-waits.ts.
 */
import type { RealResult } from '../scenarios/real.ts';
import type { Runner, TraceRun } from '../scenarios/traces.ts';
import { median } from './stats.ts';
import { fmt, notAbove, type Target } from './results.ts';

/** Batch's swaps, at most this share of fifo's and of the router's. */
export const SWAP_SHARE = 0.7;
/** The traces scenario 6 judges batch on. */
export const BATCH_TRACES = ['bursty-3models', 'alternating-ab'] as const;

const S4 = '4 traces';
const S6 = '6 real upstream';
const ROUTER: Runner = 'llama.cpp router';

/** "bursty-3models: 0 of 143 over (closest 938 of 3210 ms)", or why it is not known. */
function boundText(run: TraceRun): string {
  const b = run.proxy?.bound;
  if (b === undefined) return 'not measured';
  return `${b.over} of ${run.proxy!.granted} over (closest ${Math.round(b.tightest.waitMs)} of ${Math.round(b.tightest.boundMs)} ms)`;
}

/** Every batch wait within its bound, over `runs` (batch's); null when none carries the check. */
function boundTarget(id: string, scenario: string, label: string, runs: readonly TraceRun[], measured: string): Target {
  const goal = 'every wait ≤ its bound';
  const checked = runs.filter((r) => r.proxy?.bound !== undefined);
  if (runs.length === 0 || checked.length < runs.length) return { id, scenario, label, goal, measured: runs.length === 0 ? 'not run' : `${measured} (bound not checked in ${runs.length - checked.length} run(s))`, met: null, budgetUsed: null };
  const worst = Math.max(...checked.map((r) => r.proxy!.bound!.tightest.waitMs / r.proxy!.bound!.tightest.boundMs));
  return { id, scenario, label, goal, measured, met: checked.every((r) => r.proxy!.bound!.over === 0), budgetUsed: worst };
}

/** Scenario 4: batch's waits within its bound on every trace (fake upstream). */
export function fakeBatchTargets(traces: readonly TraceRun[] | undefined): Target[] {
  const runs = (traces ?? []).filter((r) => r.runner === 'batch' && r.upstream === 'fake');
  const measured = runs.map((r) => `${r.trace}: ${boundText(r)}`).join('; ');
  return [boundTarget('batch-bound', S4, 'batch: proxy wait (arrival → grant) within its bound, every trace', runs, measured)];
}

interface Figures {
  readonly rounds: number;
  readonly swaps: number | null;
  readonly p50: number;
  readonly p99: number | undefined;
}

function figures(runs: readonly TraceRun[]): Figures | undefined {
  if (runs.length === 0) return undefined;
  const swaps = runs.map((r) => r.swaps);
  const p99 = runs.map((r) => r.waitP99Ms);
  return {
    rounds: runs.length,
    swaps: swaps.every((x) => x !== null) ? median(swaps) : null,
    p50: median(runs.map((r) => r.waitP50Ms)),
    p99: p99.every((x) => x !== undefined) ? median(p99) : undefined,
  };
}

type Key = 'swaps-vs-fifo' | 'swaps-vs-router' | 'p50' | 'p99' | 'bound';

const DEFS: Readonly<Record<Key, { readonly what: string; readonly goal: string }>> = {
  'swaps-vs-fifo': { what: 'batch swaps ÷ fifo\'s', goal: `≤ ${SWAP_SHARE}×` },
  'swaps-vs-router': { what: 'batch swaps ÷ llama.cpp router\'s', goal: `≤ ${SWAP_SHARE}×` },
  p50: { what: 'batch wait p50 (send → first byte)', goal: '≤ the router\'s' },
  p99: { what: 'batch wait p99 (send → first byte)', goal: '≤ the router\'s' },
  bound: { what: 'batch proxy wait (arrival → grant) within its bound', goal: 'every wait ≤ its bound' },
};

/** A target of `trace` with its id, label and goal, not judged yet. */
function blank(trace: string, key: Key, measured: string): Target {
  const d = DEFS[key];
  return { id: `real-batch-${key}-${trace}`, scenario: S6, label: `${trace.split('-')[0]!} trace: ${d.what}`, goal: d.goal, measured, met: null, budgetUsed: null };
}

/** Scenario 6's batch targets; every one null with `why` when the scenario did not run. */
export function realBatchTargets(real: RealResult | undefined): Target[] {
  if (real === undefined || real.skipped !== null) {
    const why = real === undefined ? 'not run' : `skipped: ${real.skipped}`;
    return BATCH_TRACES.flatMap((trace) => (Object.keys(DEFS) as Key[]).map((k) => blank(trace, k, why)));
  }
  const { traces } = real;
  return BATCH_TRACES.flatMap((trace) => {
    const runs = traces.filter((r) => r.trace === trace);
    const of = (runner: Runner): Figures | undefined => figures(runs.filter((r) => r.runner === runner));
    const [b, f, r] = [of('batch'), of('fifo'), of(ROUTER)];
    const rounds = b === undefined || b.rounds === 1 ? '' : ` (median of ${b.rounds} rounds)`;
    const share = (key: Key, other: Figures | undefined, name: string): Target => {
      if (b?.swaps == null || other?.swaps == null) return blank(trace, key, b === undefined ? 'batch not run' : other === undefined ? `${name} not run` : 'swaps not counted');
      const ratio = b.swaps / other.swaps;
      return { ...blank(trace, key, `${b.swaps} ÷ ${other.swaps} = ${fmt(ratio)}×${rounds}`), met: b.swaps <= SWAP_SHARE * other.swaps, budgetUsed: ratio / SWAP_SHARE };
    };
    const ms = (x: Figures | undefined, pick: (x: Figures) => number | undefined): string => {
      const v = x === undefined ? undefined : pick(x);
      return v === undefined || !Number.isFinite(v) ? 'n/a' : `${fmt(v, 0)} ms`;
    };
    const vs = (key: Key, pick: (x: Figures) => number | undefined): Target => {
      const d = blank(trace, key, '');
      return notAbove(d.id, S6, d.label, b === undefined ? undefined : pick(b), r === undefined ? undefined : pick(r), d.goal, `batch ${ms(b, pick)}; router ${ms(r, pick)}; fifo ${ms(f, pick)}${rounds}`);
    };
    const batchRuns = runs.filter((x) => x.runner === 'batch');
    const bound = blank(trace, 'bound', '');
    return [
      share('swaps-vs-fifo', f, 'fifo'),
      share('swaps-vs-router', r, 'the router'),
      vs('p50', (x) => x.p50),
      vs('p99', (x) => x.p99),
      boundTarget(bound.id, S6, bound.label, batchRuns, batchRuns.map(boundText).join('; ')),
    ];
  });
}
