/**
 * `GET /api/metrics/stats`: totals and the spread of prompt and generation
 * speeds, in llama-swap's shape: a histogram of 5 to 20 equal bins (Sturges'
 * rule) with its min, max, bin size and p50/p95/p99, or null without values.
 */

export interface Histogram {
  readonly bins: number[];
  readonly min: number;
  readonly max: number;
  readonly binSize: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

/** The p-th percentile of ascending `sorted` (linear between neighbours). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (rank - lo) * (sorted[hi]! - sorted[lo]!);
}

export function histogram(values: readonly number[]): Histogram | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const min = sorted[0]!;
  const max = sorted.at(-1)!;
  const p = { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
  if (min === max) return { bins: [values.length], min, max, binSize: 0, ...p };
  const count = Math.min(20, Math.max(5, Math.ceil(Math.log2(values.length)) + 1));
  const binSize = (max - min) / count;
  const bins = new Array<number>(count).fill(0);
  for (const v of values) bins[Math.min(Math.floor((v - min) / binSize), count - 1)]!++;
  return { bins, min, max, binSize, ...p };
}
