/**
 * The serial scheduler (modelswap's own; llama-swap has only FIFO): requests are
 * served one at a time, in strict arrival order. No fast-path bypass, no
 * priority, no batching, no reordering. At most one request is in flight and
 * at most one swap runs, across all models. Loading a model evicts every other
 * running model: build it with `createEvictAllSwapper()` (groups are ignored).
 *
 * Admission, cancel, unload and shutdown behave as in FifoScheduler: limit →
 * CONCURRENCY_LIMIT at admission, cancel drops a waiting request (and cancels
 * the load it was waiting for when no request behind it wants that model), unload fails
 * waiting requests for the model with MODEL_UNLOADED and forgets its swap,
 * shutdown fails everything waiting and refuses later requests.
 *
 * `#pump`, run after every event, in order (the numbers are repeated in the body):
 *   (1) A swap is running, or a request is in flight → wait for its event.
 *   (2) Queue empty → idle.
 *   (3) Head's model is ready and nothing else must be evicted → grant it; if
 *       its caller is gone (grantServe false), go on with the next head.
 *   (4) Otherwise start a swap for the head's model, evicting all others.
 *
 * When a swap finishes:
 *   - success: the head is granted if it is still for that model (the swap's
 *     result is trusted; no status re-read). If the head was cancelled
 *     meanwhile, the next head is pumped normally: the same model, now ready,
 *     is granted without a swap; another model gets its own swap.
 *   - error: the error fails the contiguous run of requests for that model at
 *     the head of the queue — exactly the requests the swap would have served
 *     without another swap (fifo's "every waiter of the swap"). A later
 *     request for the same model behind a request for another model is not
 *     failed: it gets a fresh attempt in its turn (no sticky failure).
 */
import assert from 'node:assert/strict';
import { ProxyError } from '../errors.ts';
import { Reservations } from './reservations.ts';
import type {
  Effects, ModelLoad, RequestId, Scheduler, SchedulerOptions, SchedRequest, Swapper, UnloadReason,
} from './types.ts';

interface Swap {
  readonly model: string;
  /** Forgotten by onUnload/onShutdown: its result reaches nobody. */
  orphan: boolean;
}

export class SerialScheduler implements Scheduler {
  readonly #effects: Effects;
  readonly #swapper: Swapper;
  readonly #res: Reservations;
  /** Admitted and not granted, strict arrival order. The head is served next. */
  #queue: SchedRequest[] = [];
  #swap: Swap | undefined;
  #shutdown: ProxyError | undefined;

  /** `opts.priority` is ignored; `opts.swapper` should be the evict-all swapper. */
  constructor(opts: SchedulerOptions) {
    this.#effects = opts.effects;
    this.#swapper = opts.swapper;
    this.#res = new Reservations(opts.effects, opts.isKnown, opts.concurrencyLimit, opts.refusal);
  }

  onRequest(req: SchedRequest): void {
    if (this.#shutdown !== undefined) {
      this.#effects.grantError(req.id, this.#shutdown);
      return;
    }
    if (!this.#res.admit(req)) return; // unknown model, or concurrency limit
    this.#queue.push(req);
    this.#pump();
  }

  onCancel(id: RequestId): void {
    if (!this.#res.isWaiting(id)) return; // granted, refused or unknown: nothing to do
    const i = this.#queue.findIndex((q) => q.id === id);
    assert.ok(i >= 0, `waiting request ${id} is not queued`);
    this.#queue.splice(i, 1);
    this.#res.release(id);
    // The head left while its model loads, and the next head wants another model:
    // the load would be evicted unused, so cancel it (llama-swap #727). Its
    // swapDone still arrives (as an orphan's) and pumps the queue.
    const sw = this.#swap;
    if (i === 0 && sw !== undefined && !sw.orphan && sw.model !== this.#queue[0]?.model) {
      sw.orphan = true;
      this.#effects.cancelSwap(sw.model);
    }
  }

  onSwapDone(model: string, error: ProxyError | undefined): void {
    const sw = this.#swap;
    assert.ok(sw !== undefined && sw.model === model, `swapDone for ${model}, which has no swap`);
    this.#swap = undefined;
    if (!sw.orphan) {
      if (error !== undefined) {
        for (let h = this.#queue[0]; h?.model === model; h = this.#queue[0]) {
          this.#queue.shift();
          this.#res.fail(h.id, error);
        }
      } else if (this.#queue[0]?.model === model) {
        this.#grantHead();
      }
    }
    this.#pump();
  }

  onServeDone(id: RequestId): void {
    this.#res.serveDone(id);
    this.#pump();
  }

  onUnload(models: readonly string[], reason: UnloadReason): void {
    const targets = new Set(models);
    if (this.#swap !== undefined && targets.has(this.#swap.model)) this.#swap.orphan = true;
    this.#queue = this.#res.failUnloaded(this.#queue, targets);
    // In-flight requests are not waited for: their onServeDone arrives as usual.
    this.#effects.stopProcesses(models, reason);
    this.#pump();
  }

  onShutdown(err: ProxyError): void {
    if (this.#shutdown !== undefined) return;
    this.#shutdown = err;
    const all = new Set(this.#effects.runningModels());
    if (this.#swap !== undefined) {
      this.#swap.orphan = true;
      all.add(this.#swap.model);
    }
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

  #pump(): void {
    for (;;) {
      // (1) One thing at a time.
      if (this.#swap !== undefined || this.#res.totalInFlight() > 0) return;
      // (2) Nothing to do.
      const head = this.#queue[0];
      if (head === undefined) return;
      const running = this.#effects.runningModels();
      const evict = this.#swapper.evictionFor(head.model, running);
      // (3) Ready and alone: serve it (and on a refused grant, try the next head).
      if (this.#effects.modelStatus(head.model) === 'ready' && evict.length === 0) {
        this.#grantHead();
        continue;
      }
      // (4) Swap to the head's model.
      this.#swap = { model: head.model, orphan: false };
      this.#swapper.onSwapStart(head.model, running, evict);
      this.#effects.startSwap(head.model, evict);
      return;
    }
  }

  #grantHead(): void {
    const head = this.#queue.shift();
    assert.ok(head !== undefined, 'grant with an empty queue');
    this.#res.grant(head.id);
  }
}
