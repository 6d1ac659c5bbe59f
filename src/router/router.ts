/**
 * The router: owns the run loop, the scheduler and one Upstream per model.
 * Every scheduling decision happens in `#handle`, one event at a time; slow
 * work (swaps, stops) runs outside and comes back as an event.
 *
 * Lifecycle: open → closing (close/destroy) → closed. A second close() joins
 * the first; acquire() after close rejects with SHUTTING_DOWN.
 */
import type { Logger } from 'pino';
import type { Config, ModelConfig } from '../config/types.ts';
import { assertNever, ProxyError } from '../errors.ts';
import type { Upstream } from '../process/types.ts';
import type { Effects, RequestId, Scheduler } from '../scheduler/types.ts';
import type { RouterEvent } from './events.ts';
import { IdleTimers } from './idle-timers.ts';
import { RunLoop } from './run-loop.ts';
import { createRouterEffects, type Pending, type RouterEffects } from './effects.ts';
import { ModelTable } from './model-table.ts';
import type { ModelDiff } from './reload.ts';

/** A granted request: forward to `upstream`, then call `release()` exactly once (extra calls are ignored). */
export interface Lease {
  readonly id: RequestId;
  readonly model: string;
  /** Base URL of the model's server, no trailing slash. */
  readonly upstream: string;
  release(): void;
}

export interface RunningInfo {
  readonly model: string;
  readonly state: string;
  readonly inFlight: number;
  readonly queued: number;
  readonly pid: number | undefined;
  readonly proxy: string;
  readonly cmd: string;
  readonly ttl: number;
  readonly name: string | undefined;
  readonly description: string | undefined;
}

export interface RouterDeps {
  readonly config: Config;
  readonly logger: Logger;
  /** Builds the process for a model definition (the real one is UpstreamProcess). */
  readonly createUpstream: (model: ModelConfig) => Upstream;
  /** Builds the scheduler around the router's Effects for a config (again on every reload). */
  readonly createScheduler: (effects: Effects, config: Config) => Scheduler;
}

export class Router {
  readonly #models: ModelTable;
  readonly #deps: RouterDeps;
  readonly #log: Logger;
  /** Current process per model (owned by #models). */
  readonly #upstreams: Map<string, Upstream>;
  readonly #effects: RouterEffects;
  #scheduler: Scheduler;
  /** A reload waiting for the swaps in progress to finish; requests meanwhile are held. */
  #pendingReload: { config: Config; done: (diff: ModelDiff) => void } | undefined;
  #held: Array<{ readonly id: RequestId; readonly model: string }> = [];
  readonly #loop: RunLoop<RouterEvent>;
  readonly #pending = new Map<RequestId, Pending>();
  /** Granted, not yet released: id -> model. */
  readonly #inFlight = new Map<RequestId, string>();
  readonly #lastUse = new Map<string, number>();
  readonly #idle = new IdleTimers();
  /** Why the next stop of a model happens (set just before onUnload). */
  readonly #stopReason = new Map<string, 'unloaded' | 'ttl'>();
  #drainWaiters: Array<() => void> = [];
  /** Set by destroy(): ends a close()'s wait for in-flight requests at once. */
  #destroyed = false;
  #nextId = 1;
  #closing: Promise<void> | undefined;

  constructor(deps: RouterDeps) {
    this.#deps = deps;
    this.#log = deps.logger;
    this.#models = new ModelTable(deps.config, deps.createUpstream, deps.logger);
    this.#upstreams = this.#models.upstreams;
    this.#loop = new RunLoop<RouterEvent>(
      (ev) => this.#handle(ev),
      (err, ev) => this.#onHandlerError(err, ev),
    );
    this.#effects = createRouterEffects({
      upstreams: this.#upstreams,
      pending: this.#pending,
      post: (ev) => this.#loop.post(ev),
      onGranted: (id, model) => this.#onGranted(id, model),
      stopReason: (model) => this.#stopReason.get(model) ?? 'unloaded',
      retired: (model) => this.#models.retired(model),
      logger: this.#log,
    });
    this.#scheduler = deps.createScheduler(this.#effects, deps.config);
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
    return new Promise((resolve) => this.#loop.post({ type: 'reload', config, done: resolve }));
  }

  /**
   * Wait for a grant to serve `model` (a resolved model id). Rejects with a
   * ProxyError (MODEL_NOT_FOUND, CONCURRENCY_LIMIT, UPSTREAM_*, MODEL_UNLOADED,
   * SHUTTING_DOWN, CLIENT_CLOSED). When `signal` aborts before the grant, the
   * request is withdrawn from the scheduler and never granted.
   */
  acquire(model: string, signal?: AbortSignal): Promise<Lease> {
    if (signal?.aborted) return Promise.reject(new ProxyError('CLIENT_CLOSED', 'client closed the request'));
    const id = this.#nextId++;
    return new Promise<Lease>((resolve, reject) => {
      const onAbort = (): void => this.#loop.post({ type: 'cancel', id });
      this.#pending.set(id, { id, model, signal, resolve, reject, onAbort });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#loop.post({ type: 'request', id, model });
    });
  }

  /** Unload models (all when omitted) and resolve once their processes have stopped. */
  async unload(models?: readonly string[], reason: 'unloaded' | 'ttl' = 'unloaded'): Promise<void> {
    const targets = models ?? [...this.#upstreams.keys()];
    this.#loop.post({ type: 'unload', models: targets, reason });
    await Promise.all(targets.map((m) => this.#upstreams.get(m)?.stop(reason)));
  }

  /** A read for /running (may be stale by the time it is sent). Lists models not stopped or with requests. */
  running(): RunningInfo[] {
    const out: RunningInfo[] = [];
    for (const [model, up] of this.#upstreams) {
      const load = this.#scheduler.load(model);
      const state = up.status();
      if ((state === 'stopped' || state === 'shutdown') && load.inFlight === 0 && load.waiting === 0) continue;
      const m = this.#models.model(model)!;
      out.push({
        model, state, inFlight: load.inFlight, queued: load.waiting, pid: up.pid(),
        proxy: m.proxy, cmd: m.cmd.join(' '), ttl: m.ttlMs / 1000, name: m.name, description: m.description,
      });
    }
    return out;
  }

  /** Status of one model's process, for /v1/models. */
  status(model: string): string {
    return this.#upstreams.get(model)?.status() ?? 'stopped';
  }

  /** Load `hooks.on_startup.preload` models in order (each as a request, so eviction rules apply). */
  async preload(models: readonly string[]): Promise<void> {
    for (const model of models) {
      try {
        const lease = await this.acquire(model);
        lease.release();
        this.#log.info({ model }, 'preloaded');
      } catch (err) {
        this.#log.error({ model, err: (err as Error).message }, 'preload failed');
      }
    }
  }

  /**
   * Graceful: refuse new requests, fail waiting ones, let in-flight ones finish
   * for up to `deadlineMs`, then stop every process. Idempotent.
   */
  close(deadlineMs = 30_000): Promise<void> {
    this.#closing ??= this.#doClose(deadlineMs);
    return this.#closing;
  }

  /** Abort now: like close() with no time for in-flight requests; also cuts short a close() already waiting. */
  destroy(): Promise<void> {
    this.#destroyed = true;
    for (const w of this.#drainWaiters.splice(0)) w();
    return this.close(0);
  }

  async #doClose(deadlineMs: number): Promise<void> {
    this.#loop.post({ type: 'shutdown', error: new ProxyError('SHUTTING_DOWN', 'modelswap is shutting down') });
    if (this.#inFlight.size > 0 && deadlineMs > 0 && !this.#destroyed) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => this.#drainWaiters.push(r)),
        new Promise<void>((r) => (timer = setTimeout(r, deadlineMs))),
      ]);
      clearTimeout(timer);
    }
    this.#idle.clearAll();
    await Promise.all(this.#models.all().map((u) => u.shutdown()));
  }

  /** Apply a pending reload once no swap is in progress (a swap's result must reach the scheduler that started it). */
  #applyPendingReload(): void {
    const pending = this.#pendingReload;
    if (pending === undefined || this.#effects.activeSwaps() > 0 || this.#closing !== undefined) return;
    this.#pendingReload = undefined;
    const waitedFor = new Set([...this.#pending.values()].map((p) => p.model));
    const diff = this.#models.apply(pending.config, waitedFor, (m) => this.#busy(m));
    // A new scheduler: in-flight requests are adopted, waiting ones re-submitted in arrival order.
    this.#scheduler = this.#deps.createScheduler(this.#effects, this.#models.config);
    for (const [id, model] of this.#inFlight) this.#scheduler.adopt({ id, model });
    const waiting = [...this.#pending.values()].map((p) => ({ id: p.id, model: p.model }));
    for (const r of [...waiting, ...this.#held.splice(0)].sort((a, b) => a.id - b.id)) {
      if (this.#pending.has(r.id)) this.#scheduler.onRequest(r);
    }
    this.#idle.clearAll();
    for (const id of this.#upstreams.keys()) this.#armIfIdle(id);
    this.#log.level = pending.config.logLevel;
    this.#log.info({ ...diff }, 'config reloaded');
    pending.done(diff);
  }

  #busy(model: string): boolean {
    for (const m of this.#inFlight.values()) if (m === model) return true;
    return false;
  }

  #onGranted(id: RequestId, model: string): Lease {
    this.#inFlight.set(id, model);
    this.#idle.clear(model);
    this.#lastUse.set(model, Date.now());
    let released = false;
    const upstream = this.#models.model(model)!.proxy;
    return {
      id, model, upstream,
      release: () => {
        if (released) return;
        released = true;
        this.#loop.post({ type: 'serveDone', id, model });
      },
    };
  }

  #handle(ev: RouterEvent): void {
    switch (ev.type) {
      case 'request':
        // A model removed by a reload (and since swept) no longer exists here.
        if (!this.#upstreams.has(ev.model)) {
          this.#effects.grantError(ev.id, new ProxyError('MODEL_NOT_FOUND', `model not found: ${ev.model}`));
        } else if (this.#pendingReload !== undefined) this.#held.push({ id: ev.id, model: ev.model });
        else this.#scheduler.onRequest({ id: ev.id, model: ev.model });
        return;
      case 'cancel': {
        const model = this.#pending.get(ev.id)?.model;
        this.#scheduler.onCancel(ev.id);
        this.#forgetPending(ev.id);
        // The model may have just become idle (its last waiter left): restart its TTL clock.
        if (model !== undefined) this.#armIfIdle(model);
        this.#models.sweep((m) => this.#scheduler.load(m));
        return;
      }
      case 'swapDone':
        this.#scheduler.onSwapDone(ev.model, ev.error);
        if (ev.error === undefined) this.#lastUse.set(ev.model, Date.now());
        this.#armIfIdle(ev.model);
        this.#models.sweep((m) => this.#scheduler.load(m));
        this.#applyPendingReload();
        return;
      case 'serveDone':
        this.#inFlight.delete(ev.id);
        this.#lastUse.set(ev.model, Date.now());
        this.#scheduler.onServeDone(ev.id);
        this.#armIfIdle(ev.model);
        this.#models.stopRetiredIfIdle(ev.model, () => this.#busy(ev.model));
        this.#models.sweep((m) => this.#scheduler.load(m));
        if (this.#inFlight.size === 0) for (const w of this.#drainWaiters.splice(0)) w();
        return;
      case 'unload': {
        const models = ev.models === 'all' ? [...this.#upstreams.keys()] : ev.models;
        for (const m of models) {
          this.#stopReason.set(m, ev.reason);
          this.#idle.clear(m);
        }
        this.#scheduler.onUnload(models);
        for (const m of models) this.#stopReason.delete(m);
        return;
      }
      case 'idleCheck':
        this.#idleCheck(ev.model);
        return;
      case 'shutdown':
        this.#scheduler.onShutdown(ev.error);
        for (const h of this.#held.splice(0)) this.#effects.grantError(h.id, ev.error);
        if (this.#pendingReload !== undefined) this.#pendingReload.done({ kept: [], changed: [], added: [], removed: [] });
        this.#pendingReload = undefined;
        return;
      case 'reload':
        if (this.#closing !== undefined) {
          ev.done({ kept: [], changed: [], added: [], removed: [] }); // shutting down: nothing to apply
          return;
        }
        this.#pendingReload?.done({ kept: [], changed: [], added: [], removed: [] }); // superseded
        this.#pendingReload = { config: ev.config, done: ev.done };
        this.#applyPendingReload();
        return;
      default:
        assertNever(ev);
    }
  }

  /**
   * A handler threw: a broken invariant (a bug). Log it, and never leave the
   * request that triggered it hanging: fail it with a 500.
   */
  #onHandlerError(err: unknown, ev: RouterEvent): void {
    this.#log.error({ err, event: ev.type }, 'run loop handler failed (bug)');
    if (ev.type !== 'request') return;
    const p = this.#pending.get(ev.id);
    if (p === undefined) return;
    this.#pending.delete(ev.id);
    p.signal?.removeEventListener('abort', p.onAbort);
    p.reject(new ProxyError('INTERNAL', `internal error while scheduling the request: ${String(err)}`, { cause: err }));
  }

  /** The scheduler dropped a cancelled request: settle its promise so nothing leaks. */
  #forgetPending(id: RequestId): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    p.signal?.removeEventListener('abort', p.onAbort);
    p.reject(new ProxyError('CLIENT_CLOSED', 'client closed the request'));
  }

  #armIfIdle(model: string): void {
    const ttl = this.#models.model(model)?.ttlMs ?? 0;
    if (ttl <= 0 || this.#closing !== undefined) return;
    const load = this.#scheduler.load(model);
    if (load.inFlight > 0 || load.waiting > 0) return;
    const since = Date.now() - (this.#lastUse.get(model) ?? 0);
    this.#idle.arm(model, Math.max(0, ttl - since), () => this.#loop.post({ type: 'idleCheck', model }));
  }

  /** TTL expiry: unload only if the model is still idle for its whole ttl. */
  #idleCheck(model: string): void {
    const up = this.#upstreams.get(model);
    const ttl = this.#models.model(model)?.ttlMs ?? 0;
    if (up === undefined || ttl <= 0 || this.#closing !== undefined) return;
    const state = up.status();
    if (state !== 'ready') return;
    const load = this.#scheduler.load(model);
    if (load.inFlight > 0 || load.waiting > 0) return;
    const idleFor = Date.now() - (this.#lastUse.get(model) ?? 0);
    if (idleFor + 5 < ttl) {
      this.#armIfIdle(model);
      return;
    }
    this.#log.info({ model, ttlSeconds: ttl / 1000 }, 'unloading idle model (ttl)');
    this.#handle({ type: 'unload', models: [model], reason: 'ttl' });
  }
}
