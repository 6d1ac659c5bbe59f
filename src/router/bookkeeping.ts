/**
 * What the router records as requests and loads go by, besides the
 * scheduler's own counts: the feed's events (FeedPublisher), why a load
 * started (a request or a preload, the one piece of state kept here), and
 * each model's TTL countdown (TtlClock). The countdown runs while a model is
 * idle, from its last use: a grant stops it; a grant, a served request and a
 * successful load are uses; it is re-armed after whatever may leave the model
 * idle (a withdrawn request, a served one, the end of a load). An unload also
 * stops it, and whether a countdown that ran out unloads the model is decided
 * by the router's `idleCheck`: both are the router's, not bookkeeping.
 *
 * Used only on the router's run loop. Each method says where in an event's
 * handling it is called: the feed's order, and the load counts the TTL clock
 * reads, follow it.
 */
import type { ProxyError } from '../errors.ts';
import type { ProcessStatus, StatusDetail } from '../process/types.ts';
import type { RequestId } from '../scheduler/types.ts';
import type { FeedPublisher, SwapTimings } from './feed-publisher.ts';
import type { RequestInfo } from './feed.ts';
import type { LeaseTimes, ServeOutcome } from './grants.ts';
import type { Ticks } from './ticks.ts';
import type { TtlClock } from './ttl.ts';

export class Bookkeeping {
  readonly #publisher: FeedPublisher;
  readonly #ttl: TtlClock;
  readonly #ticks: Ticks;
  /** Models whose load a preload asked for (the reason the feed gives for their start). */
  readonly #preloading = new Set<string>();

  constructor(publisher: FeedPublisher, ttl: TtlClock, ticks: Ticks) {
    this.#publisher = publisher;
    this.#ttl = ttl;
    this.#ticks = ticks;
  }

  /** A request goes to the scheduler; `preload` when a preload asked for it (its load is then reported as one). */
  requested(model: string, preload: boolean): void {
    if (preload) this.#preloading.add(model);
  }

  /** A request was granted: its model is busy (no countdown) and used now. */
  granted(id: RequestId, model: string, waitedMs: number): void {
    this.#ttl.clear(model);
    this.#ttl.touch(model);
    this.#publisher.granted(id, model, waitedMs);
  }

  /** A waiting request ended with an error. */
  failed(id: RequestId, model: string, err: ProxyError, waitedMs: number, request: RequestInfo | undefined): void {
    this.#publisher.ended(id, model, waitedMs, request, err);
  }

  /** After the scheduler forgot a waiting request whose client left. */
  withdrawn(id: RequestId, w: { readonly model: string; readonly waitedMs: number; readonly request: RequestInfo | undefined }): void {
    this.#publisher.ended(id, w.model, w.waitedMs, w.request);
    // The model may have just become idle (its last waiter left): restart its TTL clock.
    this.#ttl.armIfIdle(w.model);
  }

  /** Before the scheduler hears that a granted request was served (a use). */
  served(id: RequestId, model: string, times: LeaseTimes, outcome: ServeOutcome | undefined, request: RequestInfo | undefined): void {
    this.#publisher.served(id, model, times, outcome, request);
    this.#ttl.touch(model);
  }

  /** A swap started (Effects.startSwap): the feed's progress ticks run until no load is left. */
  loadStarted(model: string, evict: readonly string[]): void {
    this.#publisher.loadStarted(model, evict, this.#preloading.has(model) ? 'preload' : 'request');
    this.#ticks.loadStarted();
  }

  /** After the scheduler heard that the served request ended. */
  afterServe(model: string): void {
    this.#ttl.armIfIdle(model);
  }

  /** Before the scheduler hears that the swap for `model` ended. */
  loadEnded(model: string, error: ProxyError | undefined, timings: SwapTimings): void {
    this.#preloading.delete(model);
    this.#publisher.loadEnded(model, error, timings);
  }

  /** After the scheduler heard that the swap ended: a load that succeeded is a use. */
  afterLoad(model: string, error: ProxyError | undefined): void {
    if (error === undefined) this.#ttl.touch(model);
    this.#ttl.armIfIdle(model);
  }

  /** The current process of `model` changed state. */
  status(model: string, status: ProcessStatus, detail: StatusDetail): void {
    this.#publisher.status(model, status, detail, this.#preloading.has(model));
  }

  /** The load tick: report the progress of loads under way; the tick stops once none is left. */
  loadTick(): void {
    this.#publisher.tick();
    this.#ticks.loadTicked(this.#publisher.hasLoads());
  }
}
