/**
 * The fewest loads any schedule needs to serve a trace with every wait at
 * most `maxWaitMs`, when one model is resident at a time and a load (stop of
 * the resident included) takes `loadMs`: what a scheduler's swap count can
 * be judged against, whatever it knows of the future.
 *
 * Exact dynamic programming on a grid of `stepMs`, over states (time, model
 * loaded or loading, steps of its load left, first unserved request of each
 * model), fewest loads per state. It is a lower bound for real schedules:
 * service time, draining a model before its eviction and concurrency limits
 * are ignored (a resident model serves a request the moment it arrives),
 * loads are rounded down to the grid and every deadline is one step later.
 * Pure.
 */

export interface MinLoadsInput {
  /** Arrival times (ms) of each model's requests. */
  readonly arrivals: ReadonlyMap<string, readonly number[]>;
  readonly loadMs: number;
  readonly maxWaitMs: number;
  /** Grid step (ms); default 10. */
  readonly stepMs?: number;
}

/** The fewest loads, or Infinity when no schedule keeps every wait within `maxWaitMs`. */
export function minLoads(x: MinLoadsInput): number {
  const step = x.stepMs ?? 10;
  const arr = [...x.arrivals.values()].map((a) => [...a].map((t) => Math.floor(t / step)).sort((p, q) => p - q));
  const M = arr.length;
  const L = Math.floor(x.loadMs / step);
  const W = Math.floor(x.maxWaitMs / step) + 1;
  const radix = arr.map((a) => a.length + 1);
  // key = ((idx in mixed radix) · (L + 1) + left) · (M + 1) + (cur + 1)
  const encode = (cur: number, left: number, idx: readonly number[]): number => {
    let code = 0;
    for (let i = M - 1; i >= 0; i--) code = code * radix[i]! + idx[i]!;
    return (code * (L + 1) + left) * (M + 1) + cur + 1;
  };
  const decode = (key: number): { cur: number; left: number; idx: number[] } => {
    const cur = (key % (M + 1)) - 1;
    let rest = Math.floor(key / (M + 1));
    const left = rest % (L + 1);
    rest = Math.floor(rest / (L + 1));
    const idx = arr.map((_, i) => {
      const v = rest % radix[i]!;
      rest = Math.floor(rest / radix[i]!);
      return v;
    });
    return { cur, left, idx };
  };
  const end = Math.max(0, ...arr.flat()) + L + W + 2;
  let best = Infinity;
  let states = new Map<number, number>([[encode(-1, 0, arr.map(() => 0)), 0]]);
  for (let t = 0; t <= end && states.size > 0; t++) {
    const next = new Map<number, number>();
    const put = (key: number, cost: number): void => {
      if (cost < best && cost < (next.get(key) ?? Infinity)) next.set(key, cost);
    };
    for (const [key, cost] of states) {
      const { cur, left, idx } = decode(key);
      // The resident serves everything of its model that has arrived.
      if (cur >= 0 && left === 0) while (idx[cur]! < arr[cur]!.length && arr[cur]![idx[cur]!]! <= t) idx[cur]! += 1;
      // A request still waiting past its deadline: this schedule is out.
      if (arr.some((a, i) => idx[i]! < a.length && a[idx[i]!]! <= t && t - a[idx[i]!]! > W)) continue;
      if (arr.every((a, i) => idx[i] === a.length)) {
        best = Math.min(best, cost);
        continue;
      }
      put(encode(cur, Math.max(0, left - 1), idx), cost);
      for (let m = 0; m < M; m++) if (m !== cur) put(encode(m, Math.max(0, L - 1), idx), cost + 1);
    }
    states = next;
  }
  return best;
}
