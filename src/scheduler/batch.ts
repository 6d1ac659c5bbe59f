/**
 * The batch scheduler (modelswap's own): swaps as little as it can while
 * bounding every request's wait. Requests for a loaded model are served at
 * once, as under fifo, so a burst for the resident model never causes a swap;
 * unlike fifo, the resident stops taking new requests once a request it
 * blocks has waited its `maxWait`, and the next model is chosen by what waits
 * for it, not by queue order.
 *
 * Each model has a `maxWait` (the setting, or by default twice the model's
 * load cost: evicting a model and loading it again costs two loads, so
 * waiting up to that long to avoid it is worth it). A request's deadline is
 * its arrival + its model's maxWait; a model's deadline is its oldest waiting
 * request's; a model is overdue once the clock passes its deadline.
 *
 * `onRequest`: (1) shutting down or unknown model → refused; (2) admission
 * (`concurrencyLimit` → CONCURRENCY_LIMIT, Retry-After 1); (3) the request
 * waits in its model's list with its arrival time, then `#pump` runs.
 *
 * `#pump` runs after every event (request, cancel, swapDone, serveDone,
 * unload, tick). The numbers are repeated in the body:
 *   (4) Close: each overdue model that needs a swap *closes* the models its
 *       swap would evict: they are granted only requests whose deadline comes
 *       before its own, so what they serve drains.
 *   (5) Grant: a model that is ready, needs nothing evicted and is neither
 *       loading nor being evicted gets its waiting requests at once (if
 *       closed, only those allowed by (4)).
 *   (6) Overdue swaps first, earliest deadline first: start each that can
 *       start; the first that cannot (a model it evicts is still serving, or
 *       it collides with a swap in progress) stops every further swap.
 *   (7) Then the other models with waiting requests, best first by requests
 *       per second of loading, then priority, then age (batch-rank.ts); each
 *       whose swap can start starts (swaps with disjoint evictions run in
 *       parallel). A model still serving is never evicted: the resident keeps
 *       serving while its queue lasts.
 *   (8) Linger, only when the router promises `onTick`: in (7), an idle ready
 *       model is not evicted while its latest request is younger than its
 *       maxWait, or while its next request is expected (from the rhythm of
 *       its recent requests) before the waiting model's deadline: more of its
 *       requests are likely, and evicting it would cost a reload. An overdue
 *       request ends the linger, at the latest at the next tick.
 *
 * A swap that completes serves every request waiting for its model, even a
 * closed one: they are what it was loaded for.
 *
 * Time: the scheduler starts no timers; it reads the clock on each event, so
 * a deadline is acted on at the next event after it. Without ticks there is
 * always one: while requests wait and nothing lingers, a swap or a request in
 * flight is under way (else (6)/(7) would start a swap), and each ends in an
 * event; with ticks, the next tick is at most `tickMs` (T) away. The bound,
 * for a request r of model m, with D the longest service time, S the longest
 * stop, L the longest load, and k the number of other models with a waiting
 * request whose deadline is before r's when r's deadline passes:
 *
 *     wait(r) ≤ maxWait(m) + T + (S + L + D) + (k + 1)·(S + L) + k·D
 *
 * T is 0 without ticks. The first bracket: a swap in progress at the
 * deadline ends and its waiters are served, and requests already in flight
 * end (no new ones start for a closed model). Then each overdue model ahead
 * of r, and r's own, gets one stop and load, and each one ahead serves its
 * requests (≤ D) before the next may evict it. No request of a closed model
 * with a later deadline is granted meanwhile, and the k models ahead are
 * fixed once r's deadline passes (a deadline is never before an arrival).
 */
import assert from 'node:assert/strict';
import type { ProxyError } from '../errors.ts';
import { rankCandidates, type Candidate } from './batch-rank.ts';
import { Reservations, unloadedError } from './reservations.ts';
import { SwapBook } from './swap-book.ts';
import type {
  Effects, EvictionContext, ModelLoad, RequestId, Scheduler, SchedulerOptions, SchedRequest, Swapper, UnloadReason,
} from './types.ts';
import { WaitingBook } from './waiting-book.ts';

/**
 * The load cost assumed for a model with no load history while no model seen
 * has one: the same for every model, so counts decide. Once some have one, a
 * model without is assumed to cost their median (models on one machine load
 * alike; a fixed second made a fresh proxy's first requests wait 2 s where
 * loads take a quarter of that).
 */
export const DEFAULT_LOAD_COST_MS = 1000;

/** A model's default maxWait, in its load costs: evicting and reloading it costs two loads. */
export const LOADS_WORTH_WAITING = 2;

/** Gaps between a model's requests kept to judge its rhythm (for lingering). */
const GAPS_KEPT = 5;

interface Arrivals {
  last: number;
  readonly gaps: number[];
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export interface BatchOptions extends SchedulerOptions {
  /**
   * How long a request may wait before it forces the next swap (ms, ≥ 0).
   * Undefined: twice its model's load cost.
   */
  readonly maxWaitMs?: number;
}

export class BatchScheduler implements Scheduler {
  readonly #effects: Effects;
  readonly #swapper: Swapper;
  readonly #priority: (model: string) => number;
  readonly #cost: (model: string) => number;
  readonly #now: () => number;
  readonly #maxWait: (model: string) => number;
  readonly #linger: boolean;
  readonly #res: Reservations;
  /** What a swapper needs to prefer idle models: in flight, loading or being evicted. */
  readonly #context: EvictionContext = { busy: (m) => this.#res.inFlight(m) > 0 || this.#swaps.busy(m) };
  readonly #waiting = new WaitingBook();
  readonly #swaps = new SwapBook();
  /** When each model's requests arrive: the latest, and the gaps before it. */
  readonly #arrivals = new Map<string, Arrivals>();
  #shutdown: ProxyError | undefined;

  constructor(opts: BatchOptions) {
    const fixed = opts.maxWaitMs;
    assert.ok(fixed === undefined || fixed >= 0, `maxWaitMs must be ≥ 0, got ${fixed}`);
    assert.ok(opts.now !== undefined, 'the batch scheduler needs a clock (SchedulerOptions.now)');
    this.#effects = opts.effects;
    this.#swapper = opts.swapper;
    this.#priority = opts.priority;
    this.#now = opts.now;
    const cost = opts.loadCostMs;
    this.#cost = (m) => Math.max(1, cost?.(m) ?? this.#typicalCost(cost) ?? DEFAULT_LOAD_COST_MS);
    this.#maxWait = fixed === undefined ? (m) => LOADS_WORTH_WAITING * this.#cost(m) : () => fixed;
    this.#linger = opts.tickMs !== undefined;
    this.#res = new Reservations(opts.effects, opts.isKnown, opts.concurrencyLimit, opts.refusal);
  }

  /** The median load cost of the models seen that have one. */
  #typicalCost(cost: ((model: string) => number | undefined) | undefined): number | undefined {
    const known: number[] = [];
    for (const m of this.#arrivals.keys()) {
      const c = cost?.(m);
      if (c !== undefined) known.push(c);
    }
    return known.length === 0 ? undefined : known.sort((a, b) => a - b)[Math.floor(known.length / 2)];
  }

  onRequest(req: SchedRequest): void {
    // (1) Shutting down; (1)–(2) unknown model and concurrency limit, refused with no reservation.
    if (this.#shutdown !== undefined) {
      this.#effects.grantError(req.id, this.#shutdown);
      return;
    }
    if (!this.#res.admit(req)) return;
    // (3) Wait in its model's list, then decide.
    const now = this.#now();
    this.#waiting.add(req, now);
    this.#arrival(req.model, now);
    this.#pump();
  }

  onCancel(id: RequestId): void {
    if (!this.#res.isWaiting(id)) return; // granted, refused or unknown: nothing to do
    const model = this.#waiting.remove(id);
    assert.ok(model !== undefined, `waiting request ${id} is not in the waiting book`);
    this.#res.release(id);
    // A load nobody waits for any more is cancelled, not finished for no one
    // (llama-swap #727). A preload never cancels, so its load is kept.
    if (this.#swaps.isActive(model) && this.#waiting.count(model) === 0) {
      this.#swaps.forget(model);
      this.#effects.cancelSwap(model);
    }
    this.#pump();
  }

  onSwapDone(model: string, error: ProxyError | undefined): void {
    if (this.#swaps.done(model) === 'active') {
      // Every request waiting for the model gets the swap's result, closed or not.
      for (const w of this.#waiting.take(model)) {
        if (error !== undefined) this.#res.fail(w.id, error);
        else this.#res.grant(w.id);
      }
    }
    this.#pump();
  }

  onServeDone(id: RequestId): void {
    this.#res.serveDone(id);
    this.#pump();
  }

  onUnload(models: readonly string[], reason: UnloadReason): void {
    for (const m of new Set(models)) {
      this.#swaps.forget(m);
      for (const w of this.#waiting.take(m)) this.#res.fail(w.id, unloadedError(m));
    }
    // In-flight requests are not waited for: their onServeDone arrives as usual.
    this.#effects.stopProcesses(models, reason);
    this.#pump();
  }

  onShutdown(err: ProxyError): void {
    if (this.#shutdown !== undefined) return;
    this.#shutdown = err;
    const all = new Set([...this.#effects.runningModels(), ...this.#swaps.targets()]);
    for (const m of this.#swaps.targets()) this.#swaps.forget(m);
    for (const w of this.#waiting.all()) {
      this.#waiting.remove(w.id);
      this.#res.fail(w.id, err);
    }
    this.#effects.stopProcesses([...all].sort(), 'shutdown');
  }

  onTick(): void {
    this.#pump();
  }

  adopt(req: SchedRequest): void {
    this.#res.adopt(req);
  }

  load(model: string): ModelLoad {
    return this.#res.load(model);
  }

  inFlight(): readonly SchedRequest[] {
    return this.#res.inFlightRequests();
  }

  #pump(): void {
    if (this.#shutdown !== undefined || this.#waiting.size === 0) return;
    const now = this.#now();
    const models = this.#waiting.modelsByAge();
    const deadline = new Map(models.map((m) => [m, this.#waiting.oldest(m)! + this.#maxWait(m)]));
    const overdue = models.filter((m) => now >= deadline.get(m)!).sort((a, b) => deadline.get(a)! - deadline.get(b)!);

    // (4) Each overdue model that needs a swap closes the models that swap would evict:
    // they keep only requests whose deadline comes before the overdue one's.
    const closedAt = new Map<string, number>();
    for (const u of overdue) {
      if (this.#swaps.busy(u) || this.#servable(u)) continue;
      for (const m of this.#evictionFor(u)) {
        const before = deadline.get(u)! - this.#maxWait(m);
        closedAt.set(m, Math.min(closedAt.get(m) ?? Infinity, before));
      }
    }

    // (5) Serve what a ready model can take now.
    for (const m of models) {
      if (!this.#servable(m)) continue;
      for (const w of this.#waiting.take(m, closedAt.get(m))) this.#res.grant(w.id);
    }

    // (6) Overdue swaps, earliest deadline first; the first that cannot start blocks all others.
    for (const u of overdue) {
      if (this.#waiting.count(u) === 0 || this.#swaps.isActive(u)) continue;
      if (this.#swaps.isOrphan(u) || this.#servable(u)) return; // its forgotten swap, or an earlier deadline, goes first
      if (!this.#tryStart(u, false)) return;
    }

    // (7) The rest, best first: requests served per second of loading, priority, age.
    const cands: Candidate[] = [];
    for (const m of models) {
      if (this.#waiting.count(m) === 0 || this.#swaps.busy(m) || this.#servable(m)) continue;
      const count = this.#waiting.count(m);
      cands.push({ model: m, count, oldestAt: this.#waiting.oldest(m)!, priority: this.#priority(m), costMs: this.#cost(m) });
    }
    for (const c of rankCandidates(cands)) this.#tryStart(c.model, true);
  }

  /** Start a swap for `model` if it can start now; returns whether it did. */
  #tryStart(model: string, mayLinger: boolean): boolean {
    const running = this.#swaps.running(this.#effects.runningModels(), model);
    const evict = this.#swapper.evictionFor(model, running, this.#context);
    if (this.#swaps.collides(model, evict)) return false;
    // A model still serving is never evicted: the resident keeps serving while its queue lasts.
    if (evict.some((m) => this.#res.inFlight(m) > 0)) return false;
    // (8) Linger: keep an idle model whose next request is likely to come before `model` must be served.
    if (mayLinger && this.#linger && evict.some((m) => this.#lingers(m, model))) return false;
    this.#swaps.start(model, evict);
    this.#swapper.onSwapStart(model, running, evict);
    this.#effects.startSwap(model, evict);
    return true;
  }

  #arrival(model: string, now: number): void {
    const a = this.#arrivals.get(model);
    if (a === undefined) return void this.#arrivals.set(model, { last: now, gaps: [] });
    a.gaps.push(now - a.last);
    if (a.gaps.length > GAPS_KEPT) a.gaps.shift();
    a.last = now;
  }

  /**
   * Whether idle `model` should be kept for its next request rather than
   * evicted for `waiter`'s: while its latest request is younger than its
   * maxWait (more are likely, and waiting that long is what maxWait allows),
   * or while its next request is due, from the rhythm of its requests (the
   * median of its last gaps), before `waiter` must be served (its deadline)
   * and is not late by more than half a gap. The second keeps a model used
   * at a steady pace longer than its maxWait apart; one whose request has
   * not come by then is taken to have stopped.
   */
  #lingers(model: string, waiter: string): boolean {
    const a = this.#arrivals.get(model);
    if (a === undefined || this.#effects.modelStatus(model) !== 'ready') return false;
    const now = this.#now();
    if (now - a.last < this.#maxWait(model)) return true;
    if (a.gaps.length === 0) return false;
    const gap = median(a.gaps);
    const due = a.last + gap;
    const oldest = this.#waiting.oldest(waiter);
    const deadline = oldest === undefined ? Infinity : oldest + this.#maxWait(waiter);
    return due < deadline && now <= due + gap / 2;
  }

  /** Ready, nothing to evict, not loading and not being evicted: its requests can be granted now. */
  #servable(model: string): boolean {
    if (this.#swaps.busy(model) || this.#effects.modelStatus(model) !== 'ready') return false;
    return this.#evictionFor(model).length === 0 && !this.#swaps.collides(model, []);
  }

  #evictionFor(model: string): readonly string[] {
    return this.#swapper.evictionFor(model, this.#swaps.running(this.#effects.runningModels(), model), this.#context);
  }
}
