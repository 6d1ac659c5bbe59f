/**
 * The batch scheduler (modelswap's own): swaps as little as it can while
 * bounding every request's wait. Requests for a loaded model are served at
 * once, as under fifo, so a burst for the resident model never causes a swap;
 * unlike fifo, the resident model stops taking new requests as soon as a
 * request for a model it blocks has waited `maxWait`, and the next model is
 * chosen by what waits for it, not by queue order.
 *
 * `onRequest`: (1) shutting down or unknown model → refused; (2) admission
 * (`concurrencyLimit` → CONCURRENCY_LIMIT, Retry-After 1); (3) the request
 * waits in its model's list with its arrival time, then `#pump` runs.
 *
 * `#pump` runs after every event (request, cancel, swapDone, serveDone,
 * unload, tick). The numbers are repeated in the body:
 *   (4) Overdue: a model whose oldest waiting request has waited ≥ maxWait.
 *       In age order, each overdue model that needs a swap *closes* the models
 *       its swap would evict: they are granted only requests older than its
 *       oldest one, so their in-flight requests drain.
 *   (5) Grant: a model that is ready, needs nothing evicted and is neither
 *       loading nor being evicted gets its waiting requests at once (those
 *       before its closing time, if closed).
 *   (6) Overdue swaps first, oldest first: start each that can start; the
 *       first that cannot (a model it evicts is still serving, or it collides
 *       with a swap in progress) stops every further swap until it can.
 *   (7) Otherwise the other models with waiting requests, ranked by
 *       requests per second of loading, then priority, then age
 *       (batch-rank.ts); each whose swap can start starts (swaps with disjoint
 *       evictions run in parallel). A model still serving is never evicted:
 *       the resident keeps serving while its queue lasts.
 *   (8) Linger (only when the router promises `onTick`): a ready model that
 *       is idle but had a request within its own load cost is not evicted for
 *       a request that is not overdue yet; its next request would otherwise
 *       pay a reload. `onTick` ends the linger at the deadline.
 *
 * A swap that completes serves every request waiting for its model, even a
 * closed one: they are what it was loaded for.
 *
 * Time: the scheduler starts no timers; it reads the clock on each event, so
 * a deadline is acted on at the next event after it. Without ticks there is
 * always one: while requests wait and nothing lingers, a swap or a request in
 * flight is under way (else (6)/(7) would start a swap), and each ends in an
 * event. The bound, for a request r, with D the longest service time, S the
 * longest stop, L the longest load and k the number of models with a request
 * older than r still waiting when r becomes overdue:
 *
 *     wait(r) ≤ maxWait + T + (S + L + D) + (k + 1)·(S + L) + k·D
 *
 * T is the tick period when lingering is on, 0 otherwise. The first bracket is
 * a swap in progress at the deadline finishing and its waiters being served;
 * then each overdue model ahead of r, and r's own, gets one stop and load,
 * and each one ahead serves its requests (≤ D) before the next may evict it.
 */
import assert from 'node:assert/strict';
import type { ProxyError } from '../errors.ts';
import { rankCandidates, type Candidate } from './batch-rank.ts';
import { Reservations, unloadedError } from './reservations.ts';
import type {
  Effects, ModelLoad, RequestId, Scheduler, SchedulerOptions, SchedRequest, Swapper, UnloadReason,
} from './types.ts';
import { WaitingBook } from './waiting-book.ts';

/** The load cost assumed for a model with no load history: the same for every model, so counts decide. */
export const DEFAULT_LOAD_COST_MS = 1000;

/**
 * How many load times an idle model is kept for (linger), and how many a
 * request may wait by default: evicting a model and loading it again costs two
 * loads, so waiting up to that long is worth it (the ski-rental rule).
 */
export const LOADS_WORTH_WAITING = 2;

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
  readonly #waiting = new WaitingBook();
  /** Swaps in progress: target -> the models it evicts. */
  readonly #active = new Map<string, readonly string[]>();
  /** Swaps forgotten (unload, cancel, shutdown) whose swapDone is still due: model -> count. */
  readonly #orphans = new Map<string, number>();
  /** When each model's latest request arrived. */
  readonly #lastArrival = new Map<string, number>();
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
    this.#cost = (m) => Math.max(1, cost?.(m) ?? DEFAULT_LOAD_COST_MS);
    this.#maxWait = fixed === undefined ? (m) => LOADS_WORTH_WAITING * this.#cost(m) : () => fixed;
    this.#linger = opts.tickMs !== undefined;
    this.#res = new Reservations(opts.effects, opts.isKnown, opts.concurrencyLimit);
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
    this.#lastArrival.set(req.model, now);
    this.#pump();
  }

  onCancel(id: RequestId): void {
    if (!this.#res.isWaiting(id)) return; // granted, refused or unknown: nothing to do
    const model = this.#waiting.remove(id);
    assert.ok(model !== undefined, `waiting request ${id} is not in the waiting book`);
    this.#res.release(id);
    // A load nobody waits for any more is cancelled, not finished for no one
    // (llama-swap #727). A preload never cancels, so its load is kept.
    if (this.#active.has(model) && this.#waiting.count(model) === 0) {
      this.#forgetSwap(model);
      this.#effects.cancelSwap(model);
    }
    this.#pump();
  }

  onSwapDone(model: string, error: ProxyError | undefined): void {
    if (!this.#active.delete(model)) {
      const n = this.#orphans.get(model);
      assert.ok(n !== undefined, `swapDone for ${model}, which has no swap`);
      if (n > 1) this.#orphans.set(model, n - 1);
      else this.#orphans.delete(model);
    } else {
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
      this.#forgetSwap(m);
      for (const w of this.#waiting.take(m)) this.#res.fail(w.id, unloadedError(m));
    }
    // In-flight requests are not waited for: their onServeDone arrives as usual.
    this.#effects.stopProcesses(models, reason);
    this.#pump();
  }

  onShutdown(err: ProxyError): void {
    if (this.#shutdown !== undefined) return;
    this.#shutdown = err;
    const all = new Set([...this.#effects.runningModels(), ...this.#active.keys()]);
    for (const m of [...this.#active.keys()]) this.#forgetSwap(m);
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
      if (this.#busyWithSwap(u) || this.#servable(u)) continue;
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
      if (this.#waiting.count(u) === 0 || this.#active.has(u)) continue;
      if (this.#orphans.has(u) || this.#servable(u)) return; // its forgotten swap, or an earlier deadline, goes first
      if (!this.#tryStart(u, false)) return;
    }

    // (7) The rest, best first: requests served per second of loading, priority, age.
    const cands: Candidate[] = [];
    for (const m of models) {
      if (this.#waiting.count(m) === 0 || this.#busyWithSwap(m) || this.#servable(m)) continue;
      const count = this.#waiting.count(m);
      cands.push({ model: m, count, oldestAt: this.#waiting.oldest(m)!, priority: this.#priority(m), costMs: this.#cost(m) });
    }
    for (const c of rankCandidates(cands)) this.#tryStart(c.model, true);
  }

  /** Start a swap for `model` if it can start now; returns whether it did. */
  #tryStart(model: string, mayLinger: boolean): boolean {
    const running = this.#running(model);
    const evict = this.#swapper.evictionFor(model, running);
    if (this.#collides(model, evict)) return false;
    // A model still serving is never evicted: the resident keeps serving while its queue lasts.
    if (evict.some((m) => this.#res.inFlight(m) > 0)) return false;
    // (8) Linger: keep an idle model whose next request is likely to come soon.
    if (mayLinger && this.#linger && evict.some((m) => this.#lingers(m))) return false;
    this.#active.set(model, evict);
    this.#swapper.onSwapStart(model, running, evict);
    this.#effects.startSwap(model, evict);
    return true;
  }

  #lingers(model: string): boolean {
    const last = this.#lastArrival.get(model);
    return this.#effects.modelStatus(model) === 'ready' && last !== undefined
      && this.#now() - last < this.#maxWait(model);
  }

  /** Ready, nothing to evict, not loading and not being evicted: its requests can be granted now. */
  #servable(model: string): boolean {
    if (this.#busyWithSwap(model) || this.#effects.modelStatus(model) !== 'ready') return false;
    return this.#evictionFor(model).length === 0 && !this.#collides(model, []);
  }

  #busyWithSwap(model: string): boolean {
    return this.#active.has(model) || this.#orphans.has(model);
  }

  #evictionFor(model: string): readonly string[] {
    return this.#swapper.evictionFor(model, this.#running(model));
  }

  /** Non-stopped models and the targets of other swaps in progress, sorted. */
  #running(exclude: string): string[] {
    const out = new Set(this.#effects.runningModels());
    for (const target of this.#active.keys()) if (target !== exclude) out.add(target);
    return [...out].sort();
  }

  /** We would evict a loading target, it would evict us, or our evictions overlap. */
  #collides(target: string, evict: readonly string[]): boolean {
    for (const [other, otherEvict] of this.#active) {
      if (other === target) continue;
      if (evict.includes(other) || otherEvict.includes(target) || evict.some((m) => otherEvict.includes(m))) return true;
    }
    return false;
  }

  /** An active swap nobody waits for any more: remember that its swapDone is still due. */
  #forgetSwap(model: string): void {
    if (!this.#active.delete(model)) return;
    this.#orphans.set(model, (this.#orphans.get(model) ?? 0) + 1);
  }
}
