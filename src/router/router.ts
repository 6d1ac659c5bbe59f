/**
 * The router: owns the run loop, the scheduler and one Upstream per model.
 * Every scheduling decision happens in `#handle`, one event at a time; slow
 * work (swaps, stops) runs outside and comes back as an event.
 *
 * Who owns what: requests waiting for a grant and their leases live in
 * `Grants`; requests in flight are counted by the scheduler alone; processes
 * (current and retired by a reload) live in `ModelTable`; TTL timers in
 * `TtlClock`; why a load started in `Bookkeeping`, which tells the feed and
 * the TTL clock what each request and load did; a reload waiting for the
 * swaps in progress, and the requests held meanwhile, in `PendingReload`.
 * Each is mutated only on the loop.
 *
 * Lifecycle, in `Teardown`: open → closing (close/destroy) → closed. A second
 * close() joins the first; acquire() after close rejects with SHUTTING_DOWN.
 */
import type { Logger } from 'pino';
import type { Config, ModelConfig } from '../config/types.ts';
import { assertNever, ProxyError } from '../errors.ts';
import type { Upstream } from '../process/types.ts';
import type { Scheduler, UnloadReason } from '../scheduler/types.ts';
import { Bookkeeping } from './bookkeeping.ts';
import type { RouterEvent } from './events.ts';
import type { FeedEventType, FeedListener, ModelSnapshot, RequestInfo } from './feed.ts';
import { FeedPublisher } from './feed-publisher.ts';
import { Grants, type Lease } from './grants.ts';
import { onHandlerError } from './handler-error.ts';
import { RunLoop } from './run-loop.ts';
import { createRouterEffects, type RouterEffects } from './effects.ts';
import { ModelTable } from './model-table.ts';
import type { ModelDiff } from './reload.ts';
import { PendingReload } from './pending-reload.ts';
import { runningInfo, type RunningInfo } from './running.ts';
import type { RouterDeps } from './deps.ts';
import { preloadInOrder } from './preload.ts';
import { Ticks } from './ticks.ts';
import { Teardown } from './teardown.ts';
import { TtlClock } from './ttl.ts';

export type { Lease } from './grants.ts';
export type { RunningInfo } from './running.ts';
export { SCHEDULER_TICK_MS } from './ticks.ts';
export type { RouterDeps } from './deps.ts';

export class Router {
  readonly #models: ModelTable;
  readonly #deps: RouterDeps;
  readonly #log: Logger;
  readonly #loop: RunLoop<RouterEvent>;
  readonly #grants: Grants;
  readonly #effects: RouterEffects;
  readonly #ttl: TtlClock;
  readonly #publisher = new FeedPublisher();
  readonly #book: Bookkeeping;
  readonly #ticks = new Ticks((type) => this.#loop.post({ type }));
  #scheduler: Scheduler;
  readonly #reload: PendingReload;
  readonly #teardown: Teardown;
  #nextId = 1;

  constructor(deps: RouterDeps) {
    this.#deps = deps;
    this.#log = deps.logger;
    const post = (ev: RouterEvent): void => this.#loop.post(ev);
    this.#loop = new RunLoop<RouterEvent>((ev) => {
      this.#handle(ev);
      this.#publisher.counts(this.#models.idsView(), (m) => this.#scheduler.load(m));
    }, (err, ev) => onHandlerError(err, ev, this.#log, this.#grants));
    const create = (m: ModelConfig): Upstream => {
      const up: Upstream = deps.createUpstream(m, (status, detail) => post({ type: 'status', model: m.id, upstream: up, status, detail }));
      return up;
    };
    this.#models = new ModelTable(deps.config, create, (model, upstream) => post({ type: 'retiredStopped', model, upstream }), deps.logger);
    this.#ttl = new TtlClock({
      ttlMs: (m) => this.#models.model(m)?.ttlMs ?? 0,
      load: (m) => this.#scheduler.load(m),
      fire: (model) => post({ type: 'idleCheck', model }),
    });
    this.#book = new Bookkeeping(this.#publisher, this.#ttl, this.#ticks);
    this.#grants = new Grants({
      onAbort: (id) => post({ type: 'cancel', id }),
      onGrant: (id, model, waitedMs) => {
        this.#book.granted(id, model, waitedMs);
        return this.#models.model(model)!.proxy;
      },
      onRelease: (id, model, times, outcome, request) => post({ type: 'serveDone', id, model, times, outcome, request }),
      onFail: (id, model, err, waitedMs, request) => this.#book.failed(id, model, err, waitedMs, request),
    });
    this.#effects = createRouterEffects({
      upstream: (m) => this.#models.upstream(m),
      upstreams: () => this.#models.entries(),
      grants: this.#grants,
      post,
      retired: (model) => this.#models.retired(model),
      onSwapStarted: (model, evict) => this.#book.loadStarted(model, evict),
      logger: this.#log,
    });
    this.#scheduler = this.#newScheduler(deps.config);
    this.#reload = new PendingReload({
      models: this.#models, grants: this.#grants, ttl: this.#ttl, log: this.#log,
      scheduler: () => this.#scheduler,
      install: (config) => (this.#scheduler = this.#newScheduler(config)),
      swapping: () => this.#effects.activeSwaps() > 0,
      closing: () => this.#teardown.closing,
    });
    this.#teardown = new Teardown({
      begin: () => this.#beginClose(),
      busy: () => this.#scheduler.inFlight().length > 0,
      processes: () => this.#models.all(),
    });
  }

  /**
   * Apply a new (already validated) config without collateral damage: models
   * whose process definition is unchanged keep running and serving; changed
   * and removed models stop once their in-flight requests finish (a changed
   * model then starts with its new definition when asked for); requests
   * waiting are re-scheduled under the new config, none is failed. Applied
   * when no swap is in progress (requests arriving meanwhile wait).
   */
  reload(config: Config): Promise<ModelDiff> {
    return new Promise((resolve, reject) => this.#loop.post({ type: 'reload', config, done: resolve, fail: reject }));
  }

  /**
   * Wait for a grant to serve `model` (a resolved model id). Rejects with a
   * ProxyError (MODEL_NOT_FOUND, CONCURRENCY_LIMIT, UPSTREAM_*, MODEL_UNLOADED,
   * SHUTTING_DOWN, CLIENT_CLOSED). When `signal` aborts before the grant, the
   * request is withdrawn from the scheduler and never granted. `opts.request`
   * (what a client asked over HTTP) is carried to the request's `done` event.
   */
  acquire(model: string, signal?: AbortSignal, opts: { readonly preload?: boolean; readonly request?: RequestInfo } = {}): Promise<Lease> {
    if (signal?.aborted) return Promise.reject(new ProxyError('CLIENT_CLOSED', 'client closed the request'));
    const id = this.#nextId++;
    const lease = this.#grants.wait(id, model, signal, opts.request);
    this.#loop.post({ type: 'request', id, model, preload: opts.preload === true });
    return lease;
  }

  /**
   * Listen to the event feed, starting from the snapshot returned (taken in
   * the same step, so no change falls between the two). Call `unsubscribe`
   * when done. The listener runs on the run loop: it must not throw or block.
   */
  subscribe(listener: FeedListener, types?: readonly FeedEventType[]): { readonly snapshot: ModelSnapshot[]; readonly unsubscribe: () => void } {
    const unsubscribe = this.#publisher.feed.subscribe(listener, types);
    return { snapshot: this.snapshot(), unsubscribe };
  }

  /** Every model's state, counts and load in progress, as a late subscriber starts from. */
  snapshot(): ModelSnapshot[] {
    return this.#publisher.snapshot(this.#models.entries(), (m) => this.#scheduler.load(m));
  }

  /** Expected load time of `model` from its earlier loads, if any. */
  loadEstimate(model: string): number | undefined {
    return this.#publisher.history.estimate(model);
  }

  /** Unload models (all when omitted) and resolve once their processes have stopped. */
  async unload(models?: readonly string[], reason: UnloadReason = 'unloaded'): Promise<void> {
    const targets = models ?? this.#models.ids();
    this.#loop.post({ type: 'unload', models: targets, reason });
    await Promise.all(targets.map((m) => this.#models.upstream(m)?.stop(reason)));
  }

  /** A read for /running (may be stale by the time it is sent), as of `now`. Lists models not stopped or with requests. */
  running(now = Date.now()): RunningInfo[] {
    return runningInfo(this.#models, (m) => this.#scheduler.load(m), (m) => this.#publisher.loadOf(m), (m) => this.#ttl.leftMs(m, now));
  }

  /** When `model` was last used (granted, served or loaded; epoch ms): its TTL counts from then. */
  lastUsed(model: string): number | undefined {
    return this.#ttl.lastUse(model);
  }

  /**
   * The upstream of `lease` refused or reset a connection before answering:
   * true once its process is known not to be serving (a retry through
   * acquire() will restart it), false when it is still up after `waitMs`.
   */
  confirmDown(lease: Lease, waitMs: number): Promise<boolean> {
    return this.#models.upstream(lease.model)?.confirmDown(waitMs) ?? Promise.resolve(true);
  }

  /** Status of one model's process, for /v1/models. */
  status(model: string): string {
    return this.#models.upstream(model)?.status() ?? 'stopped';
  }

  /** Load `hooks.on_startup.preload` models in order (each as a request, so eviction rules apply). */
  preload(models: readonly string[]): Promise<void> {
    return preloadInOrder(models, (m) => this.acquire(m, undefined, { preload: true }), this.#log);
  }

  /**
   * Graceful: refuse new requests, fail waiting ones, let in-flight ones finish
   * for up to `deadlineMs`, then stop every process. Idempotent.
   */
  close(deadlineMs = 30_000): Promise<void> {
    return this.#teardown.close(deadlineMs);
  }

  /** Abort now: like close() with no time for in-flight requests; also cuts short a close() already waiting. */
  destroy(): Promise<void> {
    return this.#teardown.destroy();
  }

  /** The first close(): no timer fires any more, and the loop is told to shut down (waiting requests fail). */
  #beginClose(): void {
    this.#ttl.stop();
    this.#ticks.stop();
    this.#loop.post({ type: 'shutdown', error: new ProxyError('SHUTTING_DOWN', 'modelswap is shutting down') });
  }

  /** A scheduler for `config` (the router's one in force, on start and on each reload); ticked while it has an `onTick`. */
  #newScheduler(config: Config): Scheduler {
    const scheduler = this.#deps.createScheduler(this.#effects, config);
    this.#ticks.scheduler(scheduler.onTick !== undefined);
    return scheduler;
  }

  #handle(ev: RouterEvent): void {
    switch (ev.type) {
      case 'request':
        // A model removed by a reload (and since swept) no longer exists here.
        if (!this.#models.has(ev.model)) this.#grants.fail(ev.id, new ProxyError('MODEL_NOT_FOUND', `model not found: ${ev.model}`));
        else if (this.#reload.waiting) this.#reload.hold({ id: ev.id, model: ev.model });
        else {
          this.#book.requested(ev.model, ev.preload);
          this.#scheduler.onRequest({ id: ev.id, model: ev.model });
        }
        return;
      case 'cancel': {
        this.#scheduler.onCancel(ev.id);
        const withdrawn = this.#grants.withdraw(ev.id);
        if (withdrawn !== undefined) this.#book.withdrawn(ev.id, withdrawn);
        this.#sweep();
        return;
      }
      case 'swapDone':
        this.#book.loadEnded(ev.model, ev.error, ev.timings);
        this.#scheduler.onSwapDone(ev.model, ev.error);
        this.#book.afterLoad(ev.model, ev.error);
        this.#sweep();
        this.#reload.applyIfReady();
        return;
      case 'serveDone':
        this.#book.served(ev.id, ev.model, ev.times, ev.outcome, ev.request);
        this.#scheduler.onServeDone(ev.id);
        this.#book.afterServe(ev.model);
        this.#models.stopRetiredIfIdle(ev.model, () => this.#scheduler.load(ev.model).inFlight > 0);
        this.#sweep();
        this.#teardown.requestEnded();
        return;
      case 'unload': {
        const models = ev.models === 'all' ? this.#models.ids() : ev.models;
        for (const m of models) this.#ttl.clear(m);
        this.#scheduler.onUnload(models, ev.reason);
        return;
      }
      case 'status':
        if (this.#models.upstream(ev.model) !== ev.upstream) return; // the old process of a reloaded model
        this.#book.status(ev.model, ev.status, ev.detail);
        if (ev.status === 'ready') this.#deps.onReady?.(ev.model, ev.detail.pid);
        return;
      case 'loadTick':
        this.#book.loadTick();
        return;
      case 'schedulerTick':
        if (!this.#teardown.closing) this.#scheduler.onTick?.();
        return;
      case 'retiredStopped':
        this.#models.retiredStopped(ev.model, ev.upstream);
        return;
      case 'idleCheck':
        if (this.#models.upstream(ev.model)?.status() !== 'ready' || !this.#ttl.expired(ev.model)) return;
        this.#log.info({ model: ev.model, ttlSeconds: (this.#models.model(ev.model)?.ttlMs ?? 0) / 1000 }, 'unloading idle model (ttl)');
        this.#handle({ type: 'unload', models: [ev.model], reason: 'ttl' });
        return;
      case 'shutdown':
        this.#scheduler.onShutdown(ev.error);
        this.#reload.shutdown(ev.error);
        return;
      case 'reload':
        this.#reload.request(ev.config, ev.done, ev.fail);
        return;
      default:
        assertNever(ev);
    }
  }

  /** Removed models with nothing waiting or in flight any more are forgotten. */
  #sweep(): void {
    this.#models.sweep((m) => this.#scheduler.load(m));
  }
}
