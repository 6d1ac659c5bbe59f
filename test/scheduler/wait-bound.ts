/**
 * The batch scheduler's wait bound, computed per request from a replayed
 * run (the arrivals and the waits the driver recorded):
 *
 *   wait(r) ≤ maxWait(m) + T + (S + L + D) + (k + 1)·(S + L) + k·D
 *
 * D the longest service time, S the stop time, L the longest load, T the tick
 * period (0 without ticks), and k the number of other models with a request
 * waiting when r's deadline passes whose own deadline came before r's.
 */
import type { DriverRequest } from './trace-driver.ts';

export interface BoundInputs {
  readonly requests: readonly DriverRequest[];
  readonly maxWaitMs: (model: string) => number;
  readonly loadMs: (model: string) => number;
  readonly stopMs: number;
  readonly tickMs: number | undefined;
}

/** Each request's bound (ms), in trace order. Every wait must be defined (every request granted). */
export function waitBounds(x: BoundInputs, waits: ReadonlyArray<number | undefined>): number[] {
  const D = Math.max(...x.requests.map((r) => r.serviceMs));
  const L = Math.max(...x.requests.map((r) => x.loadMs(r.model)));
  const S = x.stopMs;
  const T = x.tickMs ?? 0;
  const deadline = x.requests.map((r) => r.atMs + x.maxWaitMs(r.model));
  return x.requests.map((r, i) => {
    const due = deadline[i]!;
    const ahead = new Set<string>();
    x.requests.forEach((q, j) => {
      const granted = q.atMs + waits[j]!;
      if (q.model !== r.model && q.atMs <= due && granted > due && deadline[j]! < due) ahead.add(q.model);
    });
    const k = ahead.size;
    return x.maxWaitMs(r.model) + T + (S + L + D) + (k + 1) * (S + L) + k * D;
  });
}
