/**
 * The numbers of a simulated run and their two renderings: a table for
 * people, JSON Lines (one object per scheduler) for scripts.
 *
 * Definitions (all times in ms of virtual time):
 *   - wait: grant time - arrival time, over the requests served;
 *   - makespan: last end of service - first arrival;
 *   - swaps: loads, i.e. swaps whose target was not already ready (a swap
 *     that only evicts others is not one): what the proxy logs as "upstream
 *     ready" once per load;
 *   - loadingMs: the sum of those loads' times (parallel loads add up);
 *   - percentiles: nearest rank, as the benchmark computes them.
 */
import type { ProxyErrorCode } from '../errors.ts';
import type { SimRecorder } from './recorder.ts';

export interface SimSummary {
  readonly scheduler: string;
  /** Requests in the trace. */
  readonly requests: number;
  readonly swaps: number;
  readonly makespanMs: number;
  readonly waitP50Ms: number;
  readonly waitP99Ms: number;
  readonly waitMaxMs: number;
  readonly loadingMs: number;
  /** Running models stopped to make room. */
  readonly evictions: number;
  readonly served: number;
  /** Requests that got an error (unknown model: MODEL_NOT_FOUND, concurrencyLimit: CONCURRENCY_LIMIT, …). */
  readonly failed: number;
  /** `failed` by error code. */
  readonly errors: Readonly<Partial<Record<ProxyErrorCode, number>>>;
  /** Requests never served nor failed when the run ran out of events: 0 unless a scheduler loses requests. */
  readonly unfinished: number;
}

/** Nearest-rank percentile; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

export function summarize(scheduler: string, rec: SimRecorder): SimSummary {
  const outcomes = rec.outcomes();
  const waits: number[] = [];
  const errors: Partial<Record<ProxyErrorCode, number>> = {};
  let lastDone = Number.NEGATIVE_INFINITY;
  let failed = 0;
  let unfinished = 0;
  for (const o of outcomes) {
    switch (o.kind) {
      case 'served':
        waits.push(o.grantedAt - o.arrivedAt);
        lastDone = Math.max(lastDone, o.doneAt);
        break;
      case 'failed':
        failed += 1;
        errors[o.code] = (errors[o.code] ?? 0) + 1;
        break;
      case 'waiting':
      case 'serving':
        unfinished += 1;
        break;
      default:
        o satisfies never;
    }
  }
  const firstArrival = Math.min(...outcomes.map((o) => o.arrivedAt));
  const stat = (n: number): number => (Number.isNaN(n) ? 0 : round1(n));
  return {
    scheduler,
    requests: outcomes.length,
    swaps: rec.loads,
    makespanMs: waits.length === 0 ? 0 : round1(lastDone - firstArrival),
    waitP50Ms: stat(percentile(waits, 50)),
    waitP99Ms: stat(percentile(waits, 99)),
    waitMaxMs: stat(waits.length === 0 ? Number.NaN : Math.max(...waits)),
    loadingMs: round1(rec.loadingMs),
    evictions: rec.evictions,
    served: waits.length,
    failed,
    errors,
    unfinished,
  };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** An aligned table, one row per scheduler; a `failed` column only when some request failed. */
export function formatTable(rows: readonly SimSummary[]): string {
  const withFailed = rows.some((r) => r.failed > 0 || r.unfinished > 0);
  const head = ['scheduler', 'requests', ...(withFailed ? ['failed'] : []), 'swaps', 'makespan', 'wait p50', 'wait p99', 'wait max', 'loading'];
  const body = rows.map((r) => [
    r.scheduler, String(r.requests), ...(withFailed ? [String(r.failed + r.unfinished)] : []), String(r.swaps),
    seconds(r.makespanMs), seconds(r.waitP50Ms), seconds(r.waitP99Ms), seconds(r.waitMaxMs), seconds(r.loadingMs),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...body.map(line)].join('\n') + '\n';
}

/** One JSON object per scheduler, one per line. */
export function formatJsonLines(rows: readonly SimSummary[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}
