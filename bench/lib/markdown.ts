/** Small helpers for the Markdown report: numbers, signed differences, tables, trace runs, failure lines. */
import type { Runner, TraceRun } from '../scenarios/traces.ts';
import { SCHEDULER_TICK_MS } from '../../src/router/ticks.ts';
import { DEFAULT_LOAD_COST_MS, LOADS_WORTH_WAITING } from '../../src/scheduler/batch.ts';
import { median } from './stats.ts';

export const n = (x: number | null | undefined, digits = 2): string => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));
/** A difference with its sign: +2.5, -0.3. */
export const signed = (x: number | null | undefined, digits = 2): string => (x !== null && x !== undefined && Number.isFinite(x) && x >= 0 ? `+${n(x, digits)}` : n(x, digits));
export function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** One line per trace run that failed requests, with its first failure. */
export function failures(runs: readonly TraceRun[]): string[] {
  const failed = runs.filter((x) => x.failed > 0);
  return failed.length === 0 ? [] : [...failed.map((x) => `- ${x.trace} / ${x.runner}: ${x.failed} failed; first: ${(x.firstFailure ?? '').replace(/\s+/g, ' ')}`), ''];
}

/** What the report's bound column means. */
export const BOUND_NOTE = `For batch, the last column is the proxy's own wait (arrival → grant, from its event feed) of the request closest to its bound, and that bound (\`bench/lib/proxy-waits.ts\`: \`maxWait + T + (S + L + D) + (k + 1)·(S + L) + k·D\` with the run's longest stop S, load L and service D, the ${SCHEDULER_TICK_MS} ms tick T, maxWait at most ${LOADS_WORTH_WAITING} × the larger of ${DEFAULT_LOAD_COST_MS} ms and the model's longest load, k the other models waiting meanwhile).`;

/** batch's proxy-side check against its wait bound: "938 ≤ 3210 ms", "2 over", or '' (another runner, or not checked). */
function boundCell(x: TraceRun): string {
  const b = x.proxy?.bound;
  if (b === undefined) return '';
  return b.over === 0 ? `${Math.round(b.tightest.waitMs)} ≤ ${Math.round(b.tightest.boundMs)}` : `**${b.over} over**`;
}

/** One row per trace run, in run order. */
export function traceTable(runs: readonly TraceRun[]): string {
  return table(['trace', 'runner', 'requests', 'failed', 'swaps', 'makespan s', 'wait p50 ms', 'wait p95 ms', 'wait p99 ms', 'wait max ms', 'batch: closest wait to its bound ms'],
    runs.map((x) => [x.trace, x.runner, x.requests, x.failed, x.swaps ?? 'n/a', n(x.makespanMs / 1000), n(x.waitP50Ms, 0), n(x.waitP95Ms, 0), n(x.waitP99Ms, 0), n(x.waitMaxMs, 0), boundCell(x)]));
}

/** One row per trace and runner, each figure the median over that runner's rounds (runners in first-run order). */
export function traceSummary(runs: readonly TraceRun[]): string {
  const rows: (string | number)[][] = [];
  for (const trace of [...new Set(runs.map((x) => x.trace))]) {
    const of = runs.filter((x) => x.trace === trace);
    for (const runner of [...new Set<Runner>(of.map((x) => x.runner))]) {
      const rs = of.filter((x) => x.runner === runner);
      const med = (pick: (x: TraceRun) => number | null | undefined): number | undefined => {
        const v = rs.map(pick);
        return v.every((y): y is number => typeof y === 'number') ? median(v) : undefined;
      };
      rows.push([trace, runner, rs.length, rs.reduce((a, x) => a + x.failed, 0), n(med((x) => x.swaps), 0), n((med((x) => x.makespanMs) ?? Number.NaN) / 1000), n(med((x) => x.waitP50Ms), 0), n(med((x) => x.waitP99Ms), 0), n(med((x) => x.waitMaxMs), 0)]);
    }
  }
  return table(['trace', 'runner', 'rounds', 'failed (all rounds)', 'swaps', 'makespan s', 'wait p50 ms', 'wait p99 ms', 'wait max ms'], rows);
}
