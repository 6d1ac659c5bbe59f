/**
 * Turns what the run loop sees into feed events (./feed.ts), and keeps what a
 * late subscriber needs: loads in progress and the last published counts.
 * Every method runs on the run loop. Load history is recorded whether or not
 * anyone listens (estimates must be there when a client asks).
 */
import type { ProxyError, ProxyErrorCode } from '../errors.ts';
import type { ProcessStatus, StatusDetail } from '../process/types.ts';
import type { ModelLoad } from '../scheduler/types.ts';
import { EventFeed, LoadHistory, type FeedEvent, type ModelSnapshot, type RequestInfo, type StateReason } from './feed.ts';
import type { LeaseTimes, ServeOutcome } from './grants.ts';

interface ActiveLoad {
  readonly startedAt: number;
  /** performance.now() at the start, for elapsed times. */
  readonly t0: number;
  readonly evicting: readonly string[];
  readonly estimateMs: number | undefined;
  readonly reason: 'request' | 'preload';
}

/** How a swap went, measured by the swap task. */
export interface SwapTimings {
  readonly stopMs: number;
  readonly loadMs: number;
  readonly cancelled: boolean;
}

/** A load in progress, as the feed and /running show it. */
export interface LoadProgress {
  readonly startedAt: number;
  readonly elapsedMs: number;
  readonly estimateMs: number | undefined;
  readonly evicting: readonly string[];
  readonly reason: 'request' | 'preload';
}

/** Counts are far below 2^26 (a model's admission limit bounds them). */
const COUNT_SHIFT = 2 ** 26;

export class FeedPublisher {
  readonly feed = new EventFeed();
  readonly history = new LoadHistory();
  readonly #loads = new Map<string, ActiveLoad>();
  /** Evicted model → the model whose load evicts it (until its stop is reported). */
  readonly #evictedBy = new Map<string, string>();
  /** Last published counts per model, as inFlight * 2^26 + waiting (no string built per model and event). */
  readonly #counts = new Map<string, number>();

  /** A swap started (Effects.startSwap). */
  loadStarted(model: string, evicting: readonly string[], reason: 'request' | 'preload'): void {
    const load: ActiveLoad = { startedAt: Date.now(), t0: performance.now(), evicting: [...evicting], estimateMs: this.history.estimate(model), reason };
    this.#loads.set(model, load);
    for (const m of evicting) this.#evictedBy.set(m, model);
    if (this.feed.wants('load')) this.feed.publish({ type: 'load', at: load.startedAt, model, phase: 'started', ...this.#progress(load) });
  }

  /** The swap for `model` ended (swapDone). */
  loadEnded(model: string, error: Error | undefined, t: SwapTimings): void {
    const load = this.#loads.get(model);
    if (load === undefined) return;
    this.#loads.delete(model);
    for (const m of load.evicting) if (this.#evictedBy.get(m) === model) this.#evictedBy.delete(m);
    if (error === undefined) this.history.record(model, t.loadMs);
    if (!this.feed.wants('load')) return;
    const phase = error === undefined ? 'ready' : t.cancelled ? 'cancelled' : 'failed';
    this.feed.publish({
      type: 'load', at: Date.now(), model, phase, ...this.#progress(load),
      stopMs: Math.round(t.stopMs), loadMs: Math.round(t.loadMs), ...(error !== undefined ? { error: error.message } : {}),
    });
  }

  /** A request was granted after `waitedMs`. */
  granted(id: number, model: string, waitedMs: number): void {
    if (this.feed.wants('request')) this.feed.publish({ type: 'request', at: Date.now(), phase: 'granted', id, model, waitedMs: Math.round(waitedMs) });
  }

  /** A request ended before its grant: failed (`err`) or withdrawn by its client (no `err`). */
  ended(id: number, model: string, waitedMs: number, request: RequestInfo | undefined, err?: ProxyError): void {
    if (!this.feed.wants('request')) return;
    const ms = Math.round(waitedMs);
    this.feed.publish(requestDone(Date.now(), id, model, ms, ms, err === undefined
      ? { clientAborted: true, error: 'client closed the request before its grant' }
      : { error: err.message }, err?.code, request));
  }

  /** A granted request was served (its lease released with what the HTTP layer saw). */
  served(id: number, model: string, times: LeaseTimes, outcome: ServeOutcome | undefined, request: RequestInfo | undefined): void {
    if (!this.feed.wants('request')) return;
    this.feed.publish(requestDone(Date.now(), id, model, Math.round(times.grantedAt - times.arrivedAt), Math.round(performance.now() - times.arrivedAt), outcome, undefined, request));
  }

  /** About every second while loads run. */
  tick(): void {
    if (!this.feed.wants('load')) return;
    const at = Date.now();
    for (const [model, load] of this.#loads) this.feed.publish({ type: 'load', at, model, phase: 'progress', ...this.#progress(load) });
  }

  /** The load of `model` in progress, if any, as /running shows it. */
  loadOf(model: string): LoadProgress | undefined {
    const load = this.#loads.get(model);
    return load === undefined ? undefined : this.#progress(load);
  }

  hasLoads(): boolean {
    return this.#loads.size > 0;
  }

  /** A model's process changed state; `current` is false for the old process of a reloaded model. */
  status(model: string, state: ProcessStatus, detail: StatusDetail, preloading: boolean): void {
    if (!this.feed.wants('model')) return;
    let reason: StateReason | undefined = detail.reason;
    if (state === 'starting') reason = preloading ? 'preload' : 'request';
    if (state === 'ready') reason = 'ready';
    const evictedBy = reason === 'evicted' ? this.#evictedBy.get(model) : undefined;
    this.feed.publish({ type: 'model', at: Date.now(), model, state, pid: detail.pid, reason, evictedBy });
  }

  /** After each event: publish the counts of models whose counts changed. */
  counts(models: Iterable<string>, load: (model: string) => ModelLoad): void {
    if (!this.feed.wants('queue')) return;
    for (const model of models) {
      const l = load(model);
      const key = l.inFlight * COUNT_SHIFT + l.waiting;
      if ((this.#counts.get(model) ?? 0) === key) continue;
      this.#counts.set(model, key);
      this.feed.publish({ type: 'queue', at: Date.now(), model, inFlight: l.inFlight, waiting: l.waiting });
    }
  }

  /** What a late subscriber starts from. */
  snapshot(models: Iterable<[string, { status(): ProcessStatus; pid(): number | undefined }]>, load: (model: string) => ModelLoad): ModelSnapshot[] {
    const out: ModelSnapshot[] = [];
    for (const [model, up] of models) {
      const l = load(model);
      this.#counts.set(model, l.inFlight * COUNT_SHIFT + l.waiting);
      const active = this.#loads.get(model);
      out.push({
        model, state: up.status(), pid: up.pid(), inFlight: l.inFlight, waiting: l.waiting,
        ...(active !== undefined ? { load: this.#progress(active) } : {}),
      });
    }
    return out;
  }

  #progress(load: ActiveLoad): LoadProgress {
    return { startedAt: load.startedAt, elapsedMs: Math.round(performance.now() - load.t0), estimateMs: load.estimateMs, evicting: load.evicting, reason: load.reason };
  }
}

/**
 * A request's `done` event, every field present (undefined when not known):
 * one object shape for all of them, so that the listeners' reads stay fast
 * (objects built by spreading optional fields took a shape per combination,
 * and every listener's property reads went megamorphic).
 */
function requestDone(
  at: number, id: number, model: string, waitedMs: number, durationMs: number,
  o: ServeOutcome | undefined, errorCode: ProxyErrorCode | undefined, request: RequestInfo | undefined,
): FeedEvent {
  return {
    type: 'request', at, phase: 'done', id, model, waitedMs, durationMs,
    status: o?.status, ttfbMs: o?.ttfbMs, clientAborted: o?.clientAborted, error: o?.error, errorCode,
    usage: o?.usage, contentType: o?.contentType, request,
  };
}
