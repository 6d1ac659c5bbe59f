/**
 * Which model the batch scheduler loads next when nobody is overdue: a pure
 * ordering of the candidates by what waits for them.
 *
 * The key is requests served per second of loading (count ÷ load cost), the
 * rule that minimises the total waiting time when each load is a job that
 * serves `count` requests (Smith's rule): the model with more waiting requests
 * goes first, and between equal counts the cheaper load goes first. Ties are
 * broken by priority (higher first), then by age of the oldest request (older
 * first), then by model id, so the order is total and repeatable.
 */

export interface Candidate {
  readonly model: string;
  /** Requests waiting for it. */
  readonly count: number;
  /** Arrival time of its oldest waiting request (ms). */
  readonly oldestAt: number;
  readonly priority: number;
  /** Expected load time (ms), > 0. */
  readonly costMs: number;
}

/** Candidates in the order they should be loaded (a new array). */
export function rankCandidates(cands: readonly Candidate[]): Candidate[] {
  return [...cands].sort(
    (a, b) => b.count / b.costMs - a.count / a.costMs
      || b.priority - a.priority
      || a.oldestAt - b.oldestAt
      || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0),
  );
}
