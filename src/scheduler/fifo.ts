/**
 * The FIFO scheduler, as llama-swap's FIFO scheduler behaves.
 * Requests for a model that is already ready are served at once, which
 * collates work and reduces swaps: arrivals A B C A B C are served
 * A A B B C C. There is no starvation protection (llama-swap #612, #797).
 *
 * `onRequest` decision tree, in order (the numbers are repeated in the body):
 *   (1) Unknown model (or shutting down): refuse at admission, MODEL_NOT_FOUND;
 *       a model that can never fit its memory budget: MODEL_TOO_LARGE.
 *   (2) Admission: `reserved >= concurrencyLimit` → CONCURRENCY_LIMIT
 *       (Retry-After 1); otherwise reserve until served-done, cancel or error.
 *   (3) Join: a swap for the same model is in flight → become its waiter; one
 *       swap serves every caller. (A swap forgotten by onUnload whose
 *       swapDone has not arrived yet → queue instead, so `startSwap` is never
 *       called twice for one model at once; see `#orphans`.)
 *   (4) `running` = non-stopped models ∪ targets of other in-flight swaps,
 *       sorted; `evict = swapper.evictionFor(model, running, context)`, where
 *       the context says which models are busy (serving or loading), so a
 *       policy that may choose (memory) prefers idle ones.
 *   (5) Fast path: target ready, `evict` empty, no collision → grant now,
 *       without consulting the queue.
 *   (6) Collision with an active swap (we would evict its target, it would
 *       evict us, or the evict sets overlap) → queue.
 *   (7) A model in `evict` has requests in flight → queue (a busy model is
 *       never stopped).
 *   (8) Otherwise start a swap. Swaps with disjoint evict sets run in parallel.
 *
 * The queue is ordered by descending priority, arrival order among equals. It
 * is drained (steps (3)–(8) re-run over every item, in order) after a swap
 * finishes, when a model's in-flight count reaches 0, and after an unload.
 */
import assert from 'node:assert/strict';
import { ProxyError } from '../errors.ts';
import { Reservations, unloadedError } from './reservations.ts';
import type {
  Effects, EvictionContext, ModelLoad, RequestId, Scheduler, SchedulerOptions, SchedRequest, Swapper, UnloadReason,
} from './types.ts';

interface ActiveSwap {
  readonly evict: readonly string[];
  /** Insertion-ordered, so waiters are granted in arrival order. */
  readonly waiters: Set<RequestId>;
}

export class FifoScheduler implements Scheduler {
  readonly #effects: Effects;
  readonly #swapper: Swapper;
  readonly #priority: (model: string) => number;
  readonly #res: Reservations;
  readonly #active = new Map<string, ActiveSwap>();
  /**
   * Swaps forgotten by onUnload/onShutdown whose swapDone is still due: model ->
   * count. Their results reach nobody; new requests for the model wait for them.
   */
  readonly #orphans = new Map<string, number>();
  /** Admitted, not granted, not waiting on a swap; sorted by priority then arrival. */
  #queue: SchedRequest[] = [];
  #shutdown: ProxyError | undefined;
  /** What the swapper may ask: a model serving or loading cannot be stopped now. */
  readonly #context: EvictionContext = { busy: (m) => this.#res.inFlight(m) > 0 || this.#active.has(m) };

  constructor(opts: SchedulerOptions) {
    this.#effects = opts.effects;
    this.#swapper = opts.swapper;
    this.#priority = opts.priority;
    this.#res = new Reservations(opts.effects, opts.isKnown, opts.concurrencyLimit, opts.refusal);
  }

  onRequest(req: SchedRequest): void {
    if (this.#shutdown !== undefined) {
      this.#effects.grantError(req.id, this.#shutdown);
      return;
    }
    // (1) unknown model and (2) concurrency limit: refused with grantError, no reservation.
    if (!this.#res.admit(req)) return;
    if (!this.#decide(req)) this.#enqueue(req);
  }

  onCancel(id: RequestId): void {
    if (!this.#res.isWaiting(id)) return; // granted, refused or unknown: nothing to do
    const i = this.#queue.findIndex((q) => q.id === id);
    let unwanted: string | undefined;
    if (i >= 0) this.#queue.splice(i, 1);
    else {
      let found = false;
      for (const [model, sw] of this.#active) {
        if (!sw.waiters.delete(id)) continue;
        found = true;
        if (sw.waiters.size === 0) unwanted = model;
      }
      assert.ok(found, `waiting request ${id} is neither queued nor a swap waiter`);
    }
    this.#res.release(id);
    // A load that nobody waits for any more is cancelled, not finished for no one
    // (llama-swap #727). A preload is a waiter that never cancels, so it is kept.
    if (unwanted !== undefined) {
      this.#forgetSwap(unwanted, new ProxyError('CLIENT_CLOSED', 'load cancelled'));
      this.#effects.cancelSwap(unwanted);
      this.#drain();
    }
  }

  onSwapDone(model: string, error: ProxyError | undefined): void {
    const sw = this.#active.get(model);
    if (sw === undefined) {
      const n = this.#orphans.get(model);
      assert.ok(n !== undefined, `swapDone for ${model}, which has no swap`);
      if (n > 1) this.#orphans.set(model, n - 1);
      else this.#orphans.delete(model);
      this.#drain();
      return;
    }
    this.#active.delete(model);
    for (const id of sw.waiters) {
      if (error !== undefined) this.#res.fail(id, error);
      else this.#res.grant(id);
    }
    this.#drain();
  }

  onServeDone(id: RequestId): void {
    if (this.#res.serveDone(id).inFlight === 0) this.#drain();
  }

  onUnload(models: readonly string[], reason: UnloadReason): void {
    const targets = new Set(models);
    for (const m of targets) this.#forgetSwap(m, unloadedError(m));
    this.#queue = this.#res.failUnloaded(this.#queue, targets);
    // In-flight requests are not waited for: their onServeDone arrives as usual.
    this.#effects.stopProcesses(models, reason);
    this.#drain();
  }

  onShutdown(err: ProxyError): void {
    if (this.#shutdown !== undefined) return;
    this.#shutdown = err;
    const all = new Set([...this.#effects.runningModels(), ...this.#active.keys()]);
    for (const m of [...this.#active.keys()]) this.#forgetSwap(m, err);
    for (const q of this.#queue) this.#res.fail(q.id, err);
    this.#queue = [];
    this.#effects.stopProcesses([...all].sort(), 'shutdown');
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

  /** Steps (3)–(8) for an admitted request. Returns false when it must wait in the queue. */
  #decide(req: SchedRequest): boolean {
    // (3) Join an in-flight swap for the same model (or wait out a forgotten one).
    const joined = this.#active.get(req.model);
    if (joined !== undefined) {
      joined.waiters.add(req.id);
      return true;
    }
    if (this.#orphans.has(req.model)) return false;

    // (4) What runs (or is about to), and what the swapper would stop.
    const running = this.#running(req.model);
    const evict = this.#swapper.evictionFor(req.model, running, this.#context);
    const collides = this.#collides(req.model, evict);

    // (5) Fast path: ready, nothing to evict, nobody evicting us. The queue is not consulted.
    if (this.#effects.modelStatus(req.model) === 'ready' && evict.length === 0 && !collides) {
      this.#res.grant(req.id);
      return true;
    }
    // (6) Collision with an active swap.
    if (collides) return false;
    // (7) Would stop a model that is still serving.
    if (evict.some((m) => this.#res.inFlight(m) > 0)) return false;

    // (8) Start a swap (possibly in parallel with others).
    this.#active.set(req.model, { evict, waiters: new Set([req.id]) });
    this.#swapper.onSwapStart(req.model, running, evict);
    this.#effects.startSwap(req.model, evict);
    return true;
  }

  /** Re-run (3)–(8) over the queue in order; items still blocked keep their order. */
  #drain(): void {
    if (this.#queue.length === 0) return;
    const pending = this.#queue;
    this.#queue = [];
    for (const req of pending) {
      if (!this.#decide(req)) this.#queue.push(req);
    }
  }

  /** Insert before the first item of strictly lower priority. */
  #enqueue(req: SchedRequest): void {
    const p = this.#priority(req.model);
    const i = this.#queue.findIndex((q) => this.#priority(q.model) < p);
    if (i < 0) this.#queue.push(req);
    else this.#queue.splice(i, 0, req);
  }

  #running(exclude: string): string[] {
    const out = new Set(this.#effects.runningModels());
    for (const target of this.#active.keys()) if (target !== exclude) out.add(target);
    return [...out].sort();
  }

  #collides(target: string, evict: readonly string[]): boolean {
    for (const [other, sw] of this.#active) {
      if (other === target) continue;
      if (evict.includes(other) || sw.evict.includes(target) || evict.some((m) => sw.evict.includes(m))) {
        return true;
      }
    }
    return false;
  }

  /** Fail an active swap's waiters (if any) and remember that its swapDone is still due. */
  #forgetSwap(model: string, err: ProxyError): void {
    const sw = this.#active.get(model);
    if (sw === undefined) return;
    this.#active.delete(model);
    this.#orphans.set(model, (this.#orphans.get(model) ?? 0) + 1);
    for (const id of sw.waiters) this.#res.fail(id, err);
  }
}
